#!/usr/bin/env bash
# Installs the Debian packages llmkit needs to build and test. Idempotent:
# it installs only what is missing and says what it installs.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libcjson-dev libpcre2-dev libutf8proc-dev libcurl4-openssl-dev libedit-dev
  libmicrohttpd-dev
)
# Packages the later test suites use (reference scripts, browsers) are listed
# here as they arrive, so one script keeps a fresh machine ready.
if [ "${LLMKIT_DEPS_EXTRA:-1}" = 1 ]; then
  PACKAGES+=(python3 python3-jinja2 tmux)
  PACKAGES+=(curl) # the llmkit serve tests
  PACKAGES+=(chromium fonts-wqy-microhei)  # tests/e2e_web.sh: headless browser, CJK glyphs in its screenshots
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
