#!/usr/bin/env bash
# Scale benchmark for `claimscan engagement score`: simulate PARTNERS partners x DAYS days of
# activity (Parquet), then score them as of the end of the period, measuring wall time, events/s
# and peak RSS of the scoring process with /usr/bin/time.
#
#   benches/engagement.sh [PARTNERS=1000000] [DAYS=730] [ROW_GROUP_PARTNERS=8000]
#
# ROW_GROUP_PARTNERS sets the synthesised file's layout: 8,000 partners per row group is about
# 1 M events, 50,000 about 6.5 M (the loader reads either in slices of at most 1 Mi rows).
#
# Binary: $CLAIMSCAN_BIN, else $CARGO_TARGET_DIR/release/claimscan if it has the engagement
# subcommand, else the engagement crate's stand-alone CLI example (built here in release).
# The simulated file goes to $BENCH_DIR (default: a temporary directory, removed on exit).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
partners=${1:-1000000}
days=${2:-730}
rg=${3:-8000}
target=${CARGO_TARGET_DIR:-$repo/target}
bin=${CLAIMSCAN_BIN:-}
if [ -z "$bin" ]; then
    if "$target/release/claimscan" engagement --help >/dev/null 2>&1; then
        bin=$target/release/claimscan
    else
        (cd "$repo" && cargo build --release -q -p claimscan-engagement --example engagement-cli)
        bin=$target/release/examples/engagement-cli
    fi
fi
if [ -n "${BENCH_DIR:-}" ]; then
    dir=$BENCH_DIR; mkdir -p "$dir"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/claimscan-engagement-bench.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
fi
events=$dir/events_${partners}x${days}_rg${rg}.parquet
start=2023-01-01
as_of=$(date -u -d "$start + $days days" +%F)
if [ ! -s "$events" ]; then
    "$bin" engagement synth --out "$events" --partners "$partners" --days "$days" --start "$start" \
        --row-group-partners "$rg"
fi
echo "events file: $(du -h "$events" | cut -f1) at $events; scoring as of $as_of on $(nproc) cores"
/usr/bin/time -v -o "$dir/time.txt" "$bin" engagement score --events "$events" --as-of "$as_of" \
    --horizon-days 91 --out "$dir/scores.csv" 2> "$dir/score.log" || { cat "$dir/score.log"; exit 1; }
cat "$dir/score.log"
wall=$(grep "Elapsed (wall clock)" "$dir/time.txt" | awk '{print $NF}')
rss_kb=$(grep "Maximum resident set size" "$dir/time.txt" | awk '{print $NF}')
events_n=$(grep -o "from [0-9]* events" "$dir/score.log" | awk '{print $2}')
secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
echo "BENCH partners=$partners days=$days row_group_partners=$rg events=$events_n wall=${secs}s" \
     "events_per_s=$(awk -v e="$events_n" -v s="$secs" 'BEGIN{printf "%.0f", e/s}')" \
     "peak_rss=$(awk -v k="$rss_kb" 'BEGIN{printf "%.0f", k/1024}')MiB" \
     "rows_out=$(($(wc -l < "$dir/scores.csv") - 1))"
