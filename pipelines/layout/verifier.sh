#!/usr/bin/env bash
# Train a layout model's invoice verifier and fit its calibration on real words (see README.md,
# "An invoice verifier"):
#   bash pipelines/layout/verifier.sh [MODEL_DIR] [--work DIR]
# 1. generator sets seed 73 and 61 (train splits: what the verifier learns from) and seed 113
#    (every document: the calibration), 400 documents each;
# 2. each read by the real pipeline (pdfium, Tesseract) with its catalog's vocabulary, the
#    verifier's inputs dumped per invoice (`model eval --words read --catalog --dump`);
# 3. pipelines/layout/verifier.py writes [verifier] into the manifest (dropping [calibration]);
# 4. the calibration is fitted on seed 113 and appended.
# About 40 minutes on 2 cores, most of it OCR; the reads are cached under the work directory.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MODEL="$ROOT/models/layout-gbdt-cord"
WORK="${HOME}/.cache/claimscan/verifier-work"
while [ $# -gt 0 ]; do
  case "$1" in
    --work) WORK="$2"; shift ;;
    -*) echo "verifier.sh: unknown argument $1" >&2; exit 2 ;;
    *) MODEL="$(cd "$1" && pwd)" ;;
  esac
  shift
done
mkdir -p "$WORK"
cd "$ROOT"
bash training-data/make.sh --venv-only
PY="$ROOT/training-data/.venv/bin/python"
export OMP_THREAD_LIMIT=1
# CLAIMSCAN_BIN: a built claimscan binary to use instead of `cargo run --release`
claimscan() {
  if [ -n "${CLAIMSCAN_BIN:-}" ]; then nice -n 10 "$CLAIMSCAN_BIN" "$@"
  else nice -n 10 cargo run -q --release -p claimscan-cli --bin claimscan -- "$@"; fi
}
eval_model() { # seed split extra-args...
  local s="$1" split="$2"; shift 2
  claimscan model eval "$MODEL" \
    --data "$WORK/set-$s/docs" --split "$split" --words read --read-cache "$WORK/cache-$s" \
    --catalog "$WORK/set-$s/catalog.csv" "$@"
}
for s in 73 61 113; do
  if [ ! -d "$WORK/set-$s/docs" ]; then
    nice -n 10 bash training-data/make.sh --docs-only --docs 400 --seed "$s" --out "$WORK/set-$s"
  fi
done
DUMPS=()
for s in 73 61; do
  rm -rf "$WORK/dump-$s"
  eval_model "$s" train --dump "$WORK/dump-$s" | grep -E '^(data|invoices entirely|automation)'
  DUMPS+=(--dump "$WORK/dump-$s")
done
"$PY" "$HERE/verifier.py" "${DUMPS[@]}" --manifest "$MODEL/manifest.toml"
{ echo; eval_model 113 all --fit-calibration | grep -v -E '^(data|vocabulary):'; } >> "$MODEL/manifest.toml"
echo "verifier.sh: $MODEL/manifest.toml has a new [verifier] and [calibration]"
