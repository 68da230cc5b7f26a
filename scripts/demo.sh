#!/usr/bin/env bash
# `make demo`: the whole pipeline on the bundled sample invoices (digital PDFs, scanned PDFs, phone
# photos made by the generator in training-data/fixtures): claims, review tasks and rejections,
# then a look at what extraction reads.
set -euo pipefail
BIN="${1:?usage: demo.sh path/to/claimscan}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SAMPLES="$ROOT/training-data/fixtures"
OUT="${DEMO_OUT:-$ROOT/out/demo}"
mkdir -p "$OUT"

echo "== native stack"
"$BIN" doctor
echo
echo "== claimscan run $SAMPLES (embedded mode: SQLite state in $OUT/claimscan.sqlite, no broker)"
rm -f "$OUT/claimscan.sqlite"
(cd "$ROOT" && "$BIN" run --config scripts/demo.toml --db "$OUT/claimscan.sqlite" --program demo --partner partner-1 "$SAMPLES")
echo
echo "== the same first invoice again, from another partner: a duplicate"
mkdir -p "$OUT/inbox2"; cp "$SAMPLES/fx03_digital_en_twoline.pdf" "$OUT/inbox2/copy-of-fx03.pdf"
(cd "$ROOT" && "$BIN" run --config scripts/demo.toml --db "$OUT/claimscan.sqlite" --program demo --partner partner-2 "$OUT/inbox2")
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
