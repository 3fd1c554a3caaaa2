#!/usr/bin/env bash
# `llmkit perplexity`: llama-perplexity's output lines; usage errors.
set -u
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:-}
src=${LLMKIT_SOURCE_DIR:?}
fail=0
m="$fx/gguf/stories260K.gguf"
if [ ! -f "$m" ]; then echo "SKIP: fixture $m not found"; exit 77; fi
out=$("$bin" perplexity "$m" "$src/tests/data/tiny_stories.txt" --ctx 128 --chunks 3 -t 2 2>&1) || { echo "FAIL: perplexity: $out"; fail=1; }
grep -qE '^\[1\][0-9.]+,\[2\][0-9.]+,\[3\][0-9.]+,$' <<<"$out" || { echo "FAIL: running estimates: $out"; fail=1; }
grep -qE '^Final estimate: PPL = [0-9]+\.[0-9]{4} \+/- [0-9]+\.[0-9]{5}$' <<<"$out" || { echo "FAIL: final line: $out"; fail=1; }
out=$("$bin" perplexity "$m" "$src/tests/data/tiny_stories.txt" --ctx 4096 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q 'needs at least' <<<"$out" || { echo "FAIL: short text ($rc): $out"; fail=1; }
"$bin" perplexity "$m" 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: usage exit"; fail=1; }
[ $fail -eq 0 ] && echo "e2e_perplexity: ok"
exit $fail
