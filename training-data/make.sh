#!/usr/bin/env bash
# Generate the synthetic distributor-invoice training set (see README.md).
#   bash training-data/make.sh                      # default set -> training-data/out/ (docs + 10k-partner activity)
#   bash training-data/make.sh --docs 5000 --seed 7 --out /data/inv
#   bash training-data/make.sh --fixtures           # regenerate the committed fixtures/ (deterministic)
#   bash training-data/make.sh --activity-only --partners 1000000 [--parquet]
# Env overrides: INVGEN_DOCS, INVGEN_SEED, INVGEN_OUT, INVGEN_WORKERS, INVGEN_PARTNERS, INVGEN_DISTRIBUTORS,
# INVGEN_REPEAT_RATE (--repeat-rate R: share of product lines re-bought from each distributor's assortment).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  local h
  h="$(sha256sum "$REQ" | cut -d' ' -f1)"
  if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$h" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    echo "$h" > "$STAMP"
  fi
}

DOCS="${INVGEN_DOCS:-840}"
SEED="${INVGEN_SEED:-20240611}"
OUT="${INVGEN_OUT:-$HERE/out}"
WORKERS="${INVGEN_WORKERS:-2}"
PARTNERS="${INVGEN_PARTNERS:-10000}"
DISTS="${INVGEN_DISTRIBUTORS:-420}"
REPEAT="${INVGEN_REPEAT_RATE:-0}"
MODE=all
PARQUET=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fixtures) MODE=fixtures ;;
    --venv-only) ensure_venv; exit 0 ;;
    --docs-only) MODE=docs ;;
    --activity-only) MODE=activity ;;
    --docs) DOCS="$2"; shift ;;
    --seed) SEED="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --workers) WORKERS="$2"; shift ;;
    --partners) PARTNERS="$2"; shift ;;
    --distributors) DISTS="$2"; shift ;;
    --repeat-rate) REPEAT="$2"; shift ;;
    --big-activity) PARTNERS=1000000 ;;
    --parquet) PARQUET="--parquet" ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "make.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

OUT="$(realpath -m "$OUT")"  # relative to the caller, not to training-data/
ensure_venv
cd "$HERE"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1
PY="$VENV/bin/python"
case "$MODE" in
  fixtures)
    rm -rf "$HERE/fixtures.tmp"
    "$PY" -m invgen fixtures --seed 20240611 --out "$HERE/fixtures.tmp"
    cp "$HERE/fixtures/README.md" "$HERE/fixtures.tmp/" 2>/dev/null || true
    rm -rf "$HERE/fixtures" && mv "$HERE/fixtures.tmp" "$HERE/fixtures"
    ;;
  docs)
    rm -rf "$OUT/docs"
    "$PY" -m invgen docs --out "$OUT" --seed "$SEED" --docs "$DOCS" --workers "$WORKERS" --distributors "$DISTS" --repeat-rate "$REPEAT"
    ;;
  activity)
    "$PY" -m invgen activity --out "$OUT" --seed "$SEED" --partners "$PARTNERS" $PARQUET
    ;;
  all)
    start=$(date +%s)
    rm -rf "$OUT/docs"  # no stale documents from an earlier, larger run
    "$PY" -m invgen docs --out "$OUT" --seed "$SEED" --docs "$DOCS" --workers "$WORKERS" --distributors "$DISTS" --repeat-rate "$REPEAT"
    "$PY" -m invgen activity --out "$OUT" --seed "$SEED" --partners "$PARTNERS" $PARQUET
    echo "make.sh: training data in $OUT ($(( $(date +%s) - start ))s)" >&2
    ;;
esac
