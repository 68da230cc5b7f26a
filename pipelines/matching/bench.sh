#!/usr/bin/env bash
# claimscan match vs rapidfuzz, side by side in one run (see README.md).
#   bash pipelines/matching/bench.sh            # 20k + 100k catalogs, Amazon-Google if present
# Env: MATCH_DATA (data dir, default ~/.cache/claimscan/matching-data), MATCH_DOCS (6000),
#      BENCH_QUERIES (queries timed for both tools, default 400), CLAIMSCAN (binary to use).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
h="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$h" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$h" > "$STAMP"
fi
DATA="${MATCH_DATA:-$HOME/.cache/claimscan/matching-data}"
DOCS="${MATCH_DOCS:-6000}"
if [ ! -s "$DATA/lines.csv" ] || [ "$(cat "$DATA/.docs" 2>/dev/null)" != "$DOCS" ]; then
  [ -x "$ROOT/training-data/.venv/bin/python" ] || bash "$ROOT/training-data/make.sh" --help >/dev/null
  "$ROOT/training-data/.venv/bin/python" "$HERE/gen_lines.py" --docs "$DOCS" --out "$DATA"
  echo "$DOCS" > "$DATA/.docs"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/claimscan/target}"
if [ -z "${CLAIMSCAN:-}" ]; then
  (cd "$ROOT" && cargo build -q --release -p claimscan-matching --example match-cli)
  CLAIMSCAN="$CARGO_TARGET_DIR/release/examples/match-cli"
fi
export RAYON_NUM_THREADS="${RAYON_NUM_THREADS:-1}"  # rapidfuzz extractOne is single-threaded too
"$VENV/bin/python" "$HERE/bench.py" --data "$DATA" --claimscan "$CLAIMSCAN" --queries "${BENCH_QUERIES:-400}" \
  --amazon-google "$ROOT/../shared/data/matching/amazon_google"
