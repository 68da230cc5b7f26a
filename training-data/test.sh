#!/usr/bin/env bash
# Tests of the training-data generator (venv created/updated as in make.sh). Exit non-zero on failure.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
h="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$h" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
  echo "$h" > "$STAMP"
fi
cd "$HERE"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OMP_THREAD_LIMIT=1
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
