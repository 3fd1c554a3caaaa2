#!/usr/bin/env bash
# Times llama.cpp and `llmkit bench` side by side on the same random-weight
# GGUF files, with the same threads, and prints the table kept in
# docs/performance.md.
#
#   bench/compare_llamacpp.sh [--models qwen2.5-0.5b,tinyllama-1.1b]
#                             [--types q8_0,q4_0,f16,q4_k_m] [--threads 1,2]
#                             [-p 512] [-n 128] [-r 3] [--out FILE.jsonl]
#
# Steps, all in this one run:
#  1. installs node-llama-cpp 3.21.1 (pinned in bench/package-lock.json) into
#     bench/node_modules with `npm ci`; its prebuilt CPU builds of llama.cpp
#     come from the @node-llama-cpp/linux-x64 package (ggml picks the
#     variant for this CPU at run time);
#  2. builds llmkit, make_models and membw (build/, as `make` does);
#  3. writes the models that are missing into $LLMKIT_BENCH_MODELS
#     (default bench/models/; 0.3-2.2 GB each, kept for the next run);
#  4. measures read bandwidth with membw at each thread count;
#  5. for each model, type and thread count: llama.cpp (bench/llamacpp_bench.mjs),
#     then llmkit bench, both ppN and tgN, -r runs after a warm-up;
#  6. prints the table (bench/compare_table.mjs); raw results stay in --out.
#
# The machine should be quiet: these are wall-clock figures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
models="qwen2.5-0.5b"
types="q8_0,q4_0,f16"
threads="1,2"
p=512
n=128
r=3
out="$here/results/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
dir="${LLMKIT_BENCH_MODELS:-$here/models}"

while [ $# -gt 0 ]; do
    case "$1" in
        --models) models="$2"; shift 2 ;;
        --types) types="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        -p) p="$2"; shift 2 ;;
        -n) n="$2"; shift 2 ;;
        -r) r="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare_llamacpp.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# 1. llama.cpp through node-llama-cpp, exactly the pinned version.
if ! node -e 'process.exit(require(process.argv[1]).version === "3.21.1" ? 0 : 1)' \
        "$here/node_modules/node-llama-cpp/package.json" 2>/dev/null; then
    echo "== installing node-llama-cpp 3.21.1 into bench/node_modules" >&2
    (cd "$here" && npm ci --no-audit --no-fund --ignore-scripts >&2)
fi

# 2. Build.
echo "== building llmkit, make_models, membw" >&2
[ -f "$root/build/CMakeCache.txt" ] || cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$root/build" -j2 --target llmkit make_models membw >&2
llmkit="$root/build/llmkit"

# 3. Models.
"$root/build/make_models" --dir "$dir" --model "$models" --type "$types" >&2
sizes="$("$root/build/make_models" --dir "$dir" --model "$models" --type "$types" --list)"

# 4-5. Measure.
mkdir -p "$(dirname "$out")"
: > "$out"
{
    echo "{\"kind\":\"machine\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\",\"cpus\":$(nproc),\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"date\":\"$(date -u +%FT%TZ)\",\"p\":$p,\"n\":$n,\"r\":$r}"
    while read -r path bytes read_bytes; do
        echo "{\"kind\":\"model\",\"path\":\"$path\",\"bytes\":$bytes,\"read_bytes\":$read_bytes}"
    done <<< "$sizes"
} >> "$out"
for t in ${threads//,/ }; do
    "$root/build/membw" -t "$t" --json | sed 's/^{/{"kind":"membw",/' >> "$out"
done
while read -r path bytes read_bytes; do
    for t in ${threads//,/ }; do
        echo "== $(basename "$path"), $t thread(s) (load $(cut -d' ' -f1 /proc/loadavg))" >&2
        node "$here/llamacpp_bench.mjs" "$path" -p "$p" -n "$n" -t "$t" -r "$r" |
            sed "s|^{|{\"kind\":\"run\",\"path\":\"$path\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",|" >> "$out"
        "$llmkit" bench "$path" -p "$p" -n "$n" -t "$t" -r "$r" --json |
            sed "s|^{|{\"kind\":\"run\",\"engine\":\"llmkit\",\"path\":\"$path\",\"threads\":$t,\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",|" >> "$out"
    done
done <<< "$sizes"

# 6. Table.
echo "== results: $out" >&2
node "$here/compare_table.mjs" "$out"
