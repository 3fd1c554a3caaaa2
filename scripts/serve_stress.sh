#!/usr/bin/env bash
# Stress `llmkit serve` with clients that leave at random moments (mid-upload,
# mid-prompt, mid-stream, by FIN or RST), then SIGINT it with streams in
# flight; fails when the server dies or does not exit 0. Meant for sanitizer
# builds (build-asan, or a -fsanitize=thread build); not part of `make test`.
#   scripts/serve_stress.sh LLMKIT_BIN ITERATIONS CLIENT_THREADS SEED [serve options...]
#   e.g. scripts/serve_stress.sh build-asan/llmkit 40 8 1 --parallel 2 --max-queue 3
# Needs curl, python3 and LLMKIT_FIXTURES (default ../shared/fixtures).
set -u
BIN=$1; IT=$2; TH=$3; SEED=$4; shift 4
here=$(cd "$(dirname "$0")" && pwd)
model="${LLMKIT_FIXTURES:-$here/../../shared/fixtures}/gguf/stories260K-chatml.gguf"
log=$(mktemp)
"$BIN" serve "$model" --port 0 "$@" 2> "$log" &
pid=$!
port=""
for i in $(seq 1 100); do port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$log"); [ -n "$port" ] && break; sleep 0.1; done
[ -n "$port" ] || { echo "serve did not start: $(cat "$log")"; exit 1; }
for i in $(seq 1 300); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break; sleep 0.1; done
python3 "$here/serve_stress.py" "$port" "$IT" "$TH" "$SEED"
if ! kill -0 $pid 2>/dev/null; then
  wait $pid; echo "FAILED: the server died (status $?)"; tail -40 "$log"; exit 1
fi
echo "health: $(curl -s "http://127.0.0.1:$port/health")"
for k in 1 2 3 4 5 6; do
  curl -s -N "http://127.0.0.1:$port/v1/completions" -d '{"prompt":"Once","max_tokens":2000,"logit_bias":{"2":-100},"stream":true}' > /dev/null &
done
curl -s "http://127.0.0.1:$port/v1/completions" -d '{"prompt":"Once","max_tokens":2000,"logit_bias":{"2":-100}}' > /dev/null &
sleep 0.$((RANDOM % 9 + 1))
kill -INT $pid; wait $pid; rc=$?
wait
echo "serve exit status after SIGINT: $rc"
[ $rc = 0 ] || tail -40 "$log"
rm -f "$log"
exit $rc
