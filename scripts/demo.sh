#!/usr/bin/env bash
# `make demo`: read the bundled sample invoices (digital PDFs, scanned PDFs, phone photos made by
# the generator in training-data/fixtures) and print what claimscan extracted.
set -euo pipefail
BIN="${1:?usage: demo.sh path/to/claimscan}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SAMPLES="$ROOT/training-data/fixtures"
OUT="${DEMO_OUT:-$ROOT/out/demo}"
mkdir -p "$OUT"

echo "== native stack"
"$BIN" doctor
echo
echo "== claimscan extract $SAMPLES/*.{pdf,jpg} (JSON in $OUT, word boxes drawn in $OUT/debug)"
"$BIN" extract --jobs 2 --format json --out "$OUT" --debug-image "$OUT/debug" \
  "$SAMPLES"/*.pdf "$SAMPLES"/*.jpg
echo
for f in "$SAMPLES"/fx03_digital_en_twoline.pdf "$SAMPLES"/fx06_scan_es.pdf "$SAMPLES"/fx11_photo_fr_perspective.jpg; do
  "$BIN" extract --format text --quiet "$f" | head -n 25
  echo "   [...]"
done
echo
echo "Every page's JSON is in $OUT; open $OUT/debug/*.png to see the word boxes."
