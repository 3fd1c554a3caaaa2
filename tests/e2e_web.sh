#!/usr/bin/env bash
# The web chat served by `llmkit serve` at /, driven in headless Chromium
# (Debian chromium + playwright-core pinned in tests/web_js): streamed answers
# that grow and match the API's own, stop, settings, API key errors,
# conversations kept across a reload, Markdown that never injects HTML,
# Chinese, and a phone-sized window. Screenshots go to
# $LLMKIT_WEB_ARTIFACTS (default: build/test-artifacts/web-chat*.png).
set -u
M="${LLMKIT_FIXTURES:-}/gguf/stories260K-chatml.gguf"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
JS="${LLMKIT_SOURCE_DIR:-$(dirname "$0")/..}/tests/web_js"
if [ ! -r "$M" ]; then echo "SKIP: fixture gguf/stories260K-chatml.gguf not found"; exit 77; fi
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP: $CHROMIUM not found (Debian package chromium, from scripts/install-deps.sh)"; exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then echo "SKIP: node/npm not installed"; exit 77; fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "SKIP: playwright-core needs node >= 20, this is $(node --version)"; exit 77
fi
if ! (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  if [ ! -d "$JS/node_modules/playwright-core" ]; then echo "SKIP: npm ci failed in $JS"; exit 77; fi
  echo "note: npm ci failed; using the playwright-core already in $JS/node_modules"
fi

if ! "$LLMKIT_BIN" serve --help >/dev/null 2>&1; then echo "SKIP: this llmkit has no serve command"; exit 77; fi

art="${LLMKIT_WEB_ARTIFACTS:-$(dirname "$LLMKIT_BIN")/test-artifacts}"
mkdir -p "$art"
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
key="web-test-key-$$"
# f32 KV: the test compares a streamed answer with a non-streamed one that
# reuses its cached prompt, and f16 rounding could flip a greedy near-tie.
"$LLMKIT_BIN" serve "$M" --host 127.0.0.1 --port "$port" --api-key "$key" --parallel 2 --kv-type f32 > "$tmp/serve.out" 2> "$tmp/serve.log" &
pid=$!

LLMKIT_WEB_URL="http://127.0.0.1:$port" LLMKIT_WEB_API_KEY="$key" CHROMIUM="$CHROMIUM" \
  LLMKIT_WEB_SCREENSHOT="$art/web-chat.png" timeout 150 node "$JS/web_chat.mjs"
rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAILED: llmkit serve exited during the test"; rc=1
fi
if [ $rc -ne 0 ]; then echo "--- serve log:"; tail -n 30 "$tmp/serve.log"; fi
[ $rc -eq 0 ] && echo "screenshots: $art/web-chat.png, web-chat-phone.png, web-chat-phone-menu.png"
exit $rc
