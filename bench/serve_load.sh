#!/usr/bin/env bash
# Aggregate generation speed of `llmkit serve` with 1, 2, 4 and 8 concurrent
# streams, on the random-weight Qwen2.5-0.5B-shaped Q4_0 model.
#
#   bench/serve_load.sh [--parallel 8] [--threads N] [--ctx-size 2048]
#                       [--max-tokens 128] [--rounds 2] [--api completion|chat]
#                       [--concurrency 1,2,4,8]
#
# Steps: builds llmkit and make_models (build/, as `make` does); writes the
# model into $LLMKIT_BENCH_MODELS (default bench/models/, kept for the next
# run); starts `build/llmkit serve MODEL --parallel P` on a free loopback
# port; waits for /health; runs bench/serve_load.mjs against it (with the
# server's pid, so CPU time per token is reported too); stops it.
# The server's log is kept in bench/results/. The machine should be quiet:
# these are wall-clock figures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
dir="${LLMKIT_BENCH_MODELS:-$here/models}"
parallel=8
threads=""
ctx=2048
load_args=()

while [ $# -gt 0 ]; do
    case "$1" in
        --parallel) parallel="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --ctx-size) ctx="$2"; shift 2 ;;
        --max-tokens|--rounds|--api|--concurrency) load_args+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "serve_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

echo "== building llmkit, make_models" >&2
[ -f "$root/build/CMakeCache.txt" ] || cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$root/build" -j2 --target llmkit make_models >&2
"$root/build/llmkit" serve --help >/dev/null 2>&1 ||
    { echo "serve_load.sh: this llmkit has no serve command" >&2; exit 1; }

"$root/build/make_models" --dir "$dir" --model qwen2.5-0.5b --type q4_0 >&2
model="$dir/qwen2.5-0.5b-q4_0.gguf"

# A free loopback port: the kernel picks one, we release it and take it.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
mkdir -p "$here/results"
log="$here/results/serve-$(date -u +%Y%m%dT%H%M%SZ).log"
serve_args=("$model" --host 127.0.0.1 --port "$port" --parallel "$parallel" --ctx-size "$ctx")
[ -n "$threads" ] && serve_args+=(-t "$threads")
echo "== llmkit serve ${serve_args[*]} (log: $log)" >&2
"$root/build/llmkit" serve "${serve_args[@]}" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "serve_load.sh: the server exited; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)"
    [ "$code" = 200 ] && break
    sleep 0.5
done
[ "$code" = 200 ] || { echo "serve_load.sh: /health never said 200" >&2; exit 1; }

echo "== load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) CPUs" >&2
node "$here/serve_load.mjs" --url "$url" --pid "$pid" "${load_args[@]}"
