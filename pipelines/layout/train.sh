#!/usr/bin/env bash
# Rebuild models/layout-gbdt and models/layout-gbdt-cord from scratch (see README.md):
#   bash pipelines/layout/train.sh [--docs 1500] [--work DIR] [--cord DIR]
# 1. generator documents: set A (seed 20240611) and set C (seed 11), 1500 each, for training
#    (train-split distributors only) and set A's held-out distributors for the figures; set B
#    (seed 7, 400 documents, 420 other formats) for the confidence calibration;
# 2. per-word features (the crate's own extractor) of A and C train splits + CORD train receipts;
# 3. LightGBM + ONNX export (train.py); 4. calibration (layout-gbdt-cord: its invoice verifier
#    and calibration on real words, verifier.sh); 5. held-out evaluation beside the rules.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DOCS=1500
WORK="${HOME}/.cache/claimscan/layout-work"
CORD="$ROOT/../shared/data/cord/train"
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) DOCS="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    --cord) CORD="$2"; shift ;;
    *) echo "train.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
VENV="$WORK/venv"
mkdir -p "$WORK"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
gen() { # out seed docs
  if [ ! -d "$1/docs" ]; then
    nice -n 10 bash "$ROOT/training-data/make.sh" --docs-only --seed "$2" --docs "$3" --out "$1"
  fi
}
gen "$WORK/set-a" 20240611 "$DOCS"
gen "$WORK/set-c" 11 "$DOCS"
gen "$WORK/set-b" 7 400
cd "$ROOT"
CORD_ARGS=()
if [ -d "$CORD/json" ]; then CORD_ARGS=(--cord "$CORD"); else echo "train.sh: no CORD at $CORD, training without receipts" >&2; fi
# layout-gbdt: invoices only, set A train split
nice -n 10 cargo run -q --release -p claimscan-layout --example features -- \
  --data "$WORK/set-a/docs" --split train --out "$WORK/train-a.csv"
nice -n 10 "$VENV/bin/python" "$HERE/train.py" --features "$WORK/train-a.csv" --out "$ROOT/models/layout-gbdt" \
  --data-id "invgen seed 20240611, $DOCS docs, train split"
{ echo; nice -n 10 cargo run -q --release -p claimscan-layout --example model -- \
  eval models/layout-gbdt --data "$WORK/set-b/docs" --split train --fit-calibration | grep -v '^data:'; } \
  >> models/layout-gbdt/manifest.toml
# layout-gbdt-cord: sets A + C train splits and CORD receipts
nice -n 10 cargo run -q --release -p claimscan-layout --example features -- \
  --data "$WORK/set-a/docs" --data "$WORK/set-c/docs" "${CORD_ARGS[@]}" --split train --out "$WORK/train.csv"
nice -n 10 "$VENV/bin/python" "$HERE/train.py" --features "$WORK/train.csv" --out "$ROOT/models/layout-gbdt-cord" \
  --name layout-gbdt-cord --version 1.2.0 --rounds 300 --cord-weight 0.3 \
  --data-id "invgen $DOCS docs seed 20240611 + $DOCS docs seed 11 (train-split distributors) + CORD v0.1 train (weight 0.3)"
# its invoice verifier and calibration, on real words (OCR; ~40 min)
bash "$HERE/verifier.sh" models/layout-gbdt-cord --work "$WORK/verifier"
nice -n 10 cargo run -q --release -p claimscan-layout --example model -- \
  eval rules models/layout-gbdt models/layout-gbdt-cord --data "$WORK/set-a/docs" --split heldout --reliability
