#!/usr/bin/env bash
# Side-by-side evaluation of `claimscan engagement score` against lifetimes' BG/NBD and
# days-since-last-purchase on CDNOW (as of 1997-10-01, horizons 180 and 91 days).
#
#   pipelines/engagement/eval.sh [CLAIMSCAN_BIN] [extra eval.py args]
#   pipelines/engagement/eval.sh sim [CLAIMSCAN_BIN] [extra eval_sim.py args]
#
# The `sim` form runs eval_sim.py instead: the same three methods on the simulator
# (`claimscan engagement synth --truth`), weekly as-of dates, detection lead time before the
# last purchase and false alarms per 1,000 healthy partners; it needs no CDNOW data.
#
# CLAIMSCAN_BIN defaults to $CLAIMSCAN_BIN, else $CARGO_TARGET_DIR/release/claimscan if it has
# the engagement subcommand, else the crate's stand-alone CLI example (built here).
# The data is read in place from ../shared/data/transactions/CDNOW_master.txt (or $CDNOW);
# converted copies live in a temporary directory that is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
script=eval.py
if [ "${1:-}" = sim ]; then
    script=eval_sim.py
    shift
fi
data=${CDNOW:-$repo/../shared/data/transactions/CDNOW_master.txt}
if [ "$script" = eval.py ] && [ ! -f "$data" ]; then
    echo "engagement eval: CDNOW data not found at $data; skipping." >&2
    exit 0
fi

venv=$here/.venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
    echo "engagement eval: preparing $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

bin=${1:-${CLAIMSCAN_BIN:-}}
[ $# -gt 0 ] && shift
if [ -z "$bin" ]; then
    target=${CARGO_TARGET_DIR:-$repo/target}
    if "$target/release/claimscan" engagement --help >/dev/null 2>&1; then
        bin=$target/release/claimscan
    else
        echo "engagement eval: building the stand-alone engagement CLI" >&2
        (cd "$repo" && cargo build --release -q -p claimscan-engagement --example engagement-cli)
        bin=$target/release/examples/engagement-cli
    fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/claimscan-engagement-eval.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ "$script" = eval_sim.py ]; then
    "$venv/bin/python" "$here/eval_sim.py" --bin "$bin" --work "$work" "$@"
else
    "$venv/bin/python" "$here/eval.py" --data "$data" --bin "$bin" --work "$work" "$@"
fi
