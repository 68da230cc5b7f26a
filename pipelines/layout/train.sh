#!/usr/bin/env bash
# Rebuild models/layout-gbdt from scratch (see README.md):
#   bash pipelines/layout/train.sh [--docs 1500] [--work DIR]
# 1. generator documents (training-data/make.sh, seed 20240611),
# 2. per-word features of the train-split distributors (the crate's own extractor),
# 3. LightGBM + ONNX export (train.py), 4. held-out evaluation beside the rule reader.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DOCS=1500
WORK="${HOME}/.cache/claimscan/layout-work"
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) DOCS="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    *) echo "train.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
DATA="$WORK/data"
VENV="$WORK/venv"
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
if [ ! -d "$DATA/docs" ]; then
  nice -n 10 bash "$ROOT/training-data/make.sh" --docs-only --docs "$DOCS" --out "$DATA"
fi
cd "$ROOT"
nice -n 10 cargo run -q --release -p claimscan-layout --example features -- \
  --data "$DATA/docs" --split train --out "$WORK/train.csv"
nice -n 10 "$VENV/bin/python" "$HERE/train.py" --features "$WORK/train.csv" --out "$ROOT/models/layout-gbdt" \
  --data-id "invgen seed 20240611, $DOCS docs, train split"
nice -n 10 cargo run -q --release -p claimscan-layout --example model -- \
  eval rules models/layout-gbdt --data "$DATA/docs" --split heldout
