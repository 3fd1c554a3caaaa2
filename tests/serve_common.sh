# Shared by tests/e2e_serve_*.sh: start `llmkit serve` on a free port and
# wait until it is ready; stopped (and its files removed) on exit.
#   serve_start NAME MODEL [serve options...]  -> sets <NAME>_PID, <NAME>_URL
# Needs: LLMKIT_BIN, curl, python3.
F="${LLMKIT_FIXTURES:-}/gguf"
tmp=$(mktemp -d)
serve_pids=()
serve_cleanup() {
  if [ "$fail" != 0 ]; then
    for log in "$tmp"/*.log; do echo "--- $(basename "$log") (server log, last lines):"; tail -15 "$log"; done
  fi
  for p in "${serve_pids[@]}"; do kill -0 "$p" 2>/dev/null || echo "note: server $p had already exited"; done
  for p in "${serve_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${serve_pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap serve_cleanup EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

serve_require() {
  for tool in curl python3 "$@"; do
    if ! command -v "$tool" >/dev/null; then echo "SKIP: $tool not installed"; exit 77; fi
  done
  if [ ! -r "$F/stories260K-chatml.gguf" ] || [ ! -r "$F/stories260K.gguf" ]; then
    echo "SKIP: fixtures gguf/stories260K-chatml.gguf, gguf/stories260K.gguf not found"
    exit 77
  fi
}

serve_start() {
  local name=$1; shift
  "$LLMKIT_BIN" serve "$@" --port 0 > "$tmp/$name.out" 2> "$tmp/$name.log" &
  local pid=$! port="" i
  serve_pids+=("$pid")
  for i in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$tmp/$name.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then echo "FAILED: serve $name did not start: $(cat "$tmp/$name.log")"; exit 1; fi
  for i in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
    sleep 0.1
  done
  eval "${name}_PID=$pid; ${name}_URL=http://127.0.0.1:$port"
}
