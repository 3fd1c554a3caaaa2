#!/usr/bin/env bash
# `llmkit serve` driven by the official openai npm client (pinned in
# tests/serve_js/package-lock.json, installed here with npm ci): models list,
# chat whole and streamed (include_usage), the stream helper, completions,
# n choices, and errors (400 naming the field, 401).
set -u
. "$(dirname "$0")/serve_common.sh"
serve_require node npm
JS="$(cd "$(dirname "$0")/serve_js" && pwd)"
# npm ci: exactly the versions of package-lock.json, every run
if ! (cd "$JS" && npm ci --no-audit --no-fund > "$tmp/npm.log" 2>&1); then
  if grep -qiE "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT" "$tmp/npm.log"; then
    echo "SKIP: npm ci could not reach the registry: $(tail -3 "$tmp/npm.log")"
    exit 77
  fi
  echo "FAILED: npm ci: $(tail -20 "$tmp/npm.log")"
  exit 1
fi
serve_start S "$F/stories260K-chatml.gguf" --parallel 2 --api-key js-key --alias story-model --ctx-size 256
LLMKIT_URL="$S_URL" LLMKIT_KEY=js-key node "$JS/openai_client.mjs"
rc=$?
[ $rc -eq 0 ] || { echo "server log:"; tail -20 "$tmp/S.log"; }
exit $rc
