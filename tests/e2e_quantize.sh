#!/usr/bin/env bash
# `llmkit quantize`: the same file as llama-quantize, usage errors, and no
# file left behind when a write fails.
set -u
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:-}
fail=0
src="$fx/gguf/stories260K-ffn192.gguf"
if [ ! -f "$src" ]; then echo "SKIP: fixture $src not found"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" quantize --help | grep -q 'q4_k_m' || { echo "FAIL: --help lacks the types"; fail=1; }
"$bin" quantize "$src" "$tmp/q.gguf" q4_k_m -t 2 >"$tmp/log" 2>&1 || { echo "FAIL: quantize q4_k_m"; cat "$tmp/log"; fail=1; }
cmp -s "$tmp/q.gguf" "$fx/gguf/stories260K-ffn192-Q4_K_M.gguf" || { echo "FAIL: q4_k_m differs from llama-quantize's"; fail=1; }
# Not a terminal: no progress bar in the output.
grep -q $'\r' "$tmp/log" && { echo "FAIL: progress drawn into a pipe"; fail=1; }

out=$("$bin" quantize "$src" "$tmp/x.gguf" q9_9 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown type exit $rc"; fail=1; }
grep -q 'known: .*q4_k_m' <<<"$out" || { echo "FAIL: unknown type message: $out"; fail=1; }

out=$("$bin" quantize "$src" "$tmp/missing/x.gguf" q8_0 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: missing folder exit $rc"; fail=1; }
grep -q 'does not exist' <<<"$out" || { echo "FAIL: missing folder message: $out"; fail=1; }

# A full disk, simulated by a 64 KiB file size limit.
out=$( (ulimit -f 64; "$bin" quantize "$src" "$tmp/full.gguf" q8_0) 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: full disk exit $rc: $out"; fail=1; }
grep -q 'write failed' <<<"$out" || { echo "FAIL: full disk message: $out"; fail=1; }
[ ! -e "$tmp/full.gguf" ] && [ ! -e "$tmp/full.gguf.tmp" ] || { echo "FAIL: a partial file was left"; ls -la "$tmp"; fail=1; }

[ $fail -eq 0 ] && echo "e2e_quantize: ok"
exit $fail
