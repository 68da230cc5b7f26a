#!/usr/bin/env bash
# `make bench`: extraction figures on the bundled samples, side by side with the tesseract CLI,
# then SROIE total recall with and without clean-up, then truth recall on the fixtures.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:?usage: extract.sh path/to/release/claimscan}"
cd "$ROOT"
bench() { cargo bench -q -p claimscan --bench extract -- "$@"; }
bench extract --bin "$BIN" training-data/fixtures
bench truth training-data/fixtures
if [ -d ../shared/data/sroie-train ]; then
  bench sroie --data ../shared/data/sroie-train
else
  echo "SROIE not found at ../shared/data/sroie-train: skipped"
fi
