#!/usr/bin/env bash
# `llmkit run` and `llmkit bench` end to end on stories260K (llama2.c .bin +
# tok512.bin): greedy generation reproduces the output Karpathy published in
# stories260K.md, a seed reproduces a sampled run, stop strings and the
# context limit stop generation, and bad input fails with a clear message.
set -u
F="${LLMKIT_FIXTURES:-}/llama2c"
if [ ! -r "$F/stories260K.bin" ] || [ ! -r "$F/tok512.bin" ] || [ ! -r "$F/stories260K.md" ]; then
  echo "SKIP: fixtures llama2c/stories260K.bin, tok512.bin, stories260K.md not found"
  exit 77
fi
L="$LLMKIT_BIN"
M="$F/stories260K.bin"
T="$F/tok512.bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

# Greedy from BOS: run.c printed 256 tokens; the .md holds them.
"$L" run "$M" --tokenizer "$T" -p "" --temp 0 -n 256 > "$tmp/greedy.txt" 2> "$tmp/greedy.err"
check '[ $? -eq 0 ]' "greedy run exits 0: $(cat "$tmp/greedy.err")"
sed -n '/-t 0.0$/,/^```$/p' "$F/stories260K.md" | sed '1d;$d' > "$tmp/want.txt"
check 'cmp -s "$tmp/greedy.txt" "$tmp/want.txt"' "greedy text differs from stories260K.md: $(diff "$tmp/greedy.txt" "$tmp/want.txt" | head -5)"
check 'grep -q "tokens/s" "$tmp/greedy.err"' "speed report on stderr"

# Same seed, same text; prompt from stdin and from a file agree.
"$L" run "$M" --tokenizer "$T" -p "Lily saw" --seed 7 -n 40 > "$tmp/s1.txt" 2>/dev/null
echo -n "Lily saw" | "$L" run "$M" --tokenizer "$T" -p - --seed 7 -n 40 > "$tmp/s2.txt" 2>/dev/null
printf "Lily saw" > "$tmp/prompt.txt"
"$L" run "$M" --tokenizer "$T" -f "$tmp/prompt.txt" --seed 7 -n 40 > "$tmp/s3.txt" 2>/dev/null
check 'cmp -s "$tmp/s1.txt" "$tmp/s2.txt" && cmp -s "$tmp/s1.txt" "$tmp/s3.txt"' "same seed gives the same text (-p, -p -, -f)"
check '[ -s "$tmp/s1.txt" ]' "sampled text is not empty"

# A stop string ends generation before it is shown.
"$L" run "$M" --tokenizer "$T" -p "" --temp 0 -n 100 --stop "park" > "$tmp/stop.txt" 2> "$tmp/stop.err"
check '! grep -q park "$tmp/stop.txt"' "stop string not shown"
check 'grep -q "stop string" "$tmp/stop.err"' "stop reason reported"

# Errors: no tokenizer for a llama2.c file, prompt longer than the context, bad flag.
"$L" run "$M" -p hi > /dev/null 2> "$tmp/e1.err"
check '[ $? -eq 1 ] && grep -q -- "--tokenizer" "$tmp/e1.err"' "missing tokenizer named"
"$L" run "$M" --tokenizer "$T" -p "Once upon a time there was" -c 4 > /dev/null 2> "$tmp/e2.err"
check '[ $? -eq 1 ] && grep -q "context holds 4" "$tmp/e2.err"' "prompt longer than the context refused"
"$L" run "$M" --tokenizer "$T" -p x --temp nope > /dev/null 2>&1
check '[ $? -eq 2 ]' "bad --temp is a usage error"
"$L" run --help | grep -q -- "--top-p"
check '[ $? -eq 0 ]' "run --help lists the options"

# bench: a table row per test, and JSON lines.
"$L" bench "$M" -p 16 -n 8 -r 2 > "$tmp/bench.txt" 2>&1
check 'grep -q "| pp16 |" "$tmp/bench.txt" && grep -q "| tg8 |" "$tmp/bench.txt"' "bench table: $(cat "$tmp/bench.txt")"
"$L" bench "$M" -p 8 -n 0 -r 2 --json > "$tmp/bench.json"
check 'grep -q "\"test\": \"pp8\"" "$tmp/bench.json" && grep -q "\"avg_ts\"" "$tmp/bench.json"' "bench --json"
exit $fail
