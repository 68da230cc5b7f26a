#!/usr/bin/env bash
# claimscan: one idempotent setup for every `make` target, the Dockerfile and CI.
# Installs the Debian packages, unpacks pinned native libraries (pdfium, ONNX Runtime) from PyPI
# wheels into .native/lib (git-ignored), and checks them by sha256. Safe to run again and again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NATIVE="${CLAIMSCAN_NATIVE_DIR:-$ROOT/.native}"
CACHE="${CLAIMSCAN_CACHE:-$HOME/.cache/claimscan}"
log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
APT_PACKAGES=(
  libtesseract-dev libleptonica-dev tesseract-ocr
  tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-deu tesseract-ocr-spa tesseract-ocr-ita
  tesseract-ocr-pol tesseract-ocr-nld tesseract-ocr-por
  clang libclang-dev pkg-config libheif-dev qpdf unzip python3-venv
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- native libraries from PyPI wheels ---------------------------------------------------------
# wheel file | sha256 of the wheel | member | installed name | sha256 of the member
WHEELS=(
  "onnxruntime==1.31.1|onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl|5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f|onnxruntime/capi/libonnxruntime.so.1.31.1|libonnxruntime.so.1.31.1|fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3|manylinux_2_28_x86_64"
  "pypdfium2==5.15.2|pypdfium2-5.15.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl|dc31aea5b0fb9fefc9b537a65f4113980b2c40798445736a7e6565bc85161e37|pypdfium2_raw/libpdfium.so|libpdfium.so|c76dc0f7839644bfa7c3e3107a6068df714e339c861bb7d4519907b821d427f9|manylinux_2_17_x86_64"
)
PY="${PYTHON:-python3}"
mkdir -p "$NATIVE/lib" "$CACHE/wheels"
for entry in "${WHEELS[@]}"; do
  IFS='|' read -r req wheel wheel_sha member name member_sha platform <<<"$entry"
  dest="$NATIVE/lib/$name"
  if [ -f "$dest" ] && echo "$member_sha  $dest" | sha256sum -c --quiet - 2>/dev/null; then
    continue
  fi
  if [ ! -f "$CACHE/wheels/$wheel" ] || ! echo "$wheel_sha  $CACHE/wheels/$wheel" | sha256sum -c --quiet - 2>/dev/null; then
    log "downloading $req"
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform "$platform" "$req" -d "$CACHE/wheels"
  fi
  echo "$wheel_sha  $CACHE/wheels/$wheel" | sha256sum -c --quiet - || { log "checksum mismatch: $wheel"; exit 1; }
  tmp="$(mktemp -d)"
  "$PY" - "$CACHE/wheels/$wheel" "$member" "$tmp/$name" <<'PYEOF'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
  echo "$member_sha  $tmp/$name" | sha256sum -c --quiet - || { log "checksum mismatch: $member"; exit 1; }
  mv "$tmp/$name" "$dest"; rmdir "$tmp"
  log "installed $dest"
done
# ort looks for the unversioned name by convention; keep a link.
ln -sf libonnxruntime.so.1.31.1 "$NATIVE/lib/libonnxruntime.so"
log "native stack ready in $NATIVE/lib"

# --- S3-compatible test server (moto, in a venv) -------------------------------------------------
# The service tests start `moto_server` on a free port per test; `make demo` uses it too.
S3_VENV="$CACHE/s3-venv"
S3_REQ="$ROOT/scripts/s3-test-server.requirements.txt"
S3_STAMP="$S3_VENV/.requirements.sha256"
want="$(sha256sum "$S3_REQ" | cut -d' ' -f1)"
if [ ! -x "$S3_VENV/bin/moto_server" ] || [ "$(cat "$S3_STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing the S3 test server (moto) into $S3_VENV"
  "$PY" -m venv "$S3_VENV"
  "$S3_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$S3_REQ"
  echo "$want" > "$S3_STAMP"
fi
log "S3 test server: $S3_VENV/bin/moto_server"

# --- browser tests of the review app (chromium + playwright-core) -------------------------------
# crates/cli/tests/review_e2e.rs drives Debian's chromium through playwright-core from npm
# (`npx playwright install` downloads browsers, which cannot work here: we use Debian's).
e2e_missing=()
dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" || e2e_missing+=(chromium)
command -v node >/dev/null 2>&1 || e2e_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || e2e_missing+=(npm)
if ((${#e2e_missing[@]})); then
  log "installing Debian packages for the browser tests: ${e2e_missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${e2e_missing[@]}" >/dev/null
fi
E2E="$ROOT/tests/e2e"
E2E_STAMP="$E2E/node_modules/.package-lock.sha256"
want="$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$E2E/node_modules/playwright-core" ] || [ "$(cat "$E2E_STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing playwright-core (npm ci in tests/e2e)"
  (cd "$E2E" && npm ci --no-audit --no-fund --silent)
  echo "$want" > "$E2E_STAMP"
fi
log "browser tests: $(command -v chromium || echo /usr/bin/chromium), playwright-core $(node -p "require('$E2E/node_modules/playwright-core/package.json').version")"
