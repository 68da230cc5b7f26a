#!/usr/bin/env bash
# Runs the decode-path fuzzer for FUZZ_SECONDS (default 300). cargo-fuzz needs nightly features;
# the stable toolchain allows them with RUSTC_BOOTSTRAP=1 (no other toolchain can be fetched here).
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/decode
# Seed with the committed fixtures and a few tiny inputs.
cp -n ../training-data/fixtures/*.jpg corpus/decode/ 2>/dev/null || true
printf '{"pages":[{"width":10,"height":10,"words":[{"text":"a","bbox":[0,0,1,1]}]}]}' > corpus/decode/words.json
RUSTC_BOOTSTRAP=1 cargo fuzz run decode corpus/decode -- -max_total_time="${FUZZ_SECONDS:-300}" -rss_limit_mb=1024 -max_len=1048576
