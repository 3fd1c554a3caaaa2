#!/usr/bin/env bash
# `llmkit chat` without a terminal: one answer per input line, deterministic
# with --temp 0, the KV cache reused across turns gives the same answer as a
# fresh process given the same history (/save, /load), --single, and clear
# errors (no template, unknown format, a message longer than the context).
set -u
G="${LLMKIT_FIXTURES:-}/gguf"
if [ ! -r "$G/stories260K-chatml.gguf" ] || [ ! -r "$G/stories260K.gguf" ]; then
  echo "SKIP: fixtures gguf/stories260K-chatml.gguf, stories260K.gguf not found"
  exit 77
fi
L="$LLMKIT_BIN"
M="$G/stories260K-chatml.gguf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }
# answers end at a newline, so there is one output line per message
OPTS=(--temp 0 -n 30 --stop $'\n')

printf 'hello\nhow are you\nwhat is your name\n' | "$L" chat "$M" "${OPTS[@]}" > "$tmp/a1.txt" 2> "$tmp/a1.err"
check '[ $? -eq 0 ]' "chat exits 0: $(cat "$tmp/a1.err")"
check '[ "$(wc -l < "$tmp/a1.txt")" -eq 3 ]' "one answer per input line: $(cat "$tmp/a1.txt")"
check '! grep -q "llmkit" "$tmp/a1.txt" && ! grep -q $'"'"'\033'"'"' "$tmp/a1.txt"' "stdout holds only the answers"
printf 'hello\nhow are you\nwhat is your name\n' | "$L" chat "$M" "${OPTS[@]}" > "$tmp/a2.txt" 2>/dev/null
check 'cmp -s "$tmp/a1.txt" "$tmp/a2.txt"' "same input, same answers"

# /save writes OpenAI messages; a fresh process that /loads the first turn
# (nothing cached) answers the second exactly as the cached session did.
printf 'hello\nhow are you\n/save %s\n' "$tmp/conv.json" | "$L" chat "$M" --system "You are a storyteller." "${OPTS[@]}" > "$tmp/s.txt" 2>/dev/null
check '/usr/bin/python3 -c "
import json,sys
m=json.load(open(sys.argv[1]))
assert [x[\"role\"] for x in m]==[\"system\",\"user\",\"assistant\",\"user\",\"assistant\"], m
assert m[0][\"content\"]==\"You are a storyteller.\" and m[1][\"content\"]==\"hello\"
assert m[2][\"content\"]==open(sys.argv[2]).read().split(\"\n\")[0]
json.dump(m[:3],open(sys.argv[3],\"w\"))
" "$tmp/conv.json" "$tmp/s.txt" "$tmp/turn1.json"' "/save JSON shape"
printf '/load %s\nhow are you\n' "$tmp/turn1.json" | "$L" chat "$M" "${OPTS[@]}" > "$tmp/l.txt" 2>/dev/null
check '[ "$(cat "$tmp/l.txt")" = "$(sed -n 2p "$tmp/s.txt")" ]' "KV-cache reuse answers as a fresh evaluation: $(cat "$tmp/l.txt") vs $(sed -n 2p "$tmp/s.txt")"

# --single: the whole input is one message.
printf 'line one\nline two\n' | "$L" chat "$M" --single "${OPTS[@]}" > "$tmp/single.txt" 2>/dev/null
check '[ $? -eq 0 ] && [ "$(wc -l < "$tmp/single.txt")" -eq 1 ]' "--single gives one answer"

# A model without a template: a clear message naming the formats; then --chat-format works.
echo hi | "$L" chat "$G/stories260K.gguf" "${OPTS[@]}" > /dev/null 2> "$tmp/e1.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "no chat template" "$tmp/e1.err" && grep -q chatml "$tmp/e1.err" && grep -q mistral "$tmp/e1.err"' "no template: $(cat "$tmp/e1.err")"
echo hi | "$L" chat "$G/stories260K.gguf" --chat-format chatml "${OPTS[@]}" > "$tmp/f.txt" 2> "$tmp/f.err"
check '[ $? -eq 0 ] && [ "$(wc -l < "$tmp/f.txt")" -eq 1 ]' "--chat-format chatml: $(cat "$tmp/f.err")"
for f in llama2 llama3 gemma phi3 mistral; do
  echo hi | "$L" chat "$G/stories260K.gguf" --chat-format $f --system sys "${OPTS[@]}" > /dev/null 2> "$tmp/f.err"
  check '[ $? -eq 0 ]' "--chat-format $f renders: $(cat "$tmp/f.err")"
done
echo hi | "$L" chat "$G/stories260K.gguf" --chat-format nope > /dev/null 2> "$tmp/e2.err"
check '[ $? -eq 2 ] && grep -q llama3 "$tmp/e2.err"' "unknown --chat-format lists the formats"

# Context: old turns are dropped with a notice; one message too long is refused.
printf 'tell me a story about a cat\ntell me a story about a dog\ntell me a story about a bird\n' |
  "$L" chat "$M" --temp 0 -n 16 -c 100 > "$tmp/c.txt" 2> "$tmp/c.err"
check '[ $? -eq 0 ] && grep -q "dropped the oldest turn" "$tmp/c.err"' "oldest turns dropped with a notice: $(cat "$tmp/c.err")"
long=$(for i in $(seq 100); do printf 'word '; done)
echo "$long" | "$L" chat "$M" --temp 0 -n 16 -c 100 > /dev/null 2> "$tmp/c2.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "does not fit" "$tmp/c2.err"' "too long a message refused: $(cat "$tmp/c2.err")"

# A reasoning template whose prompt ends in <think>: the answer starts inside
# the reasoning, which --hide-thinking hides (this model never closes it).
cat > "$tmp/think.jinja" <<'JINJA'
{% for m in messages %}<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
<think>
{% endif %}
JINJA
echo hi | "$L" chat "$M" --chat-template "$tmp/think.jinja" --temp 0 -n 10 > "$tmp/t1.txt" 2> "$tmp/t1.err"
check '[ $? -eq 0 ] && [ -n "$(tr -d "\n" < "$tmp/t1.txt")" ]' "--chat-template FILE: $(cat "$tmp/t1.err")"
echo hi | "$L" chat "$M" --chat-template "$tmp/think.jinja" --hide-thinking --temp 0 -n 10 > "$tmp/t2.txt" 2> "$tmp/t2.err"
check '[ $? -eq 0 ] && [ "$(cat "$tmp/t2.txt")" = "" ] && [ "$(wc -l < "$tmp/t2.txt")" -eq 1 ]' "--hide-thinking hides the reasoning: $(cat "$tmp/t2.txt")"

# No MODEL: the default model, pulled first (here from an unreachable hub,
# so the pull fails with the offline message, and nothing is left behind).
out=$(echo hi | LLMKIT_HOME="$tmp/home" HF_ENDPOINT=http://127.0.0.1:9 LLMKIT_PULL_RETRIES=0 \
      "$L" chat 2>&1); rc=$?
check '[ $rc -eq 1 ] && grep -q "default model Qwen/Qwen2.5-0.5B-Instruct" <<<"$out" && grep -q "HF_ENDPOINT" <<<"$out"' "chat without MODEL pulls the default model: $out"
# A stored repo id works as MODEL.
mkdir -p "$tmp/home2/models/test/tiny/snapshots/main" "$tmp/home2/models/test/tiny/refs"
cp "$M" "$tmp/home2/models/test/tiny/snapshots/main/model.gguf"
echo main > "$tmp/home2/models/test/tiny/refs/main"
out=$(echo hi | LLMKIT_HOME="$tmp/home2" "$L" chat test/tiny --temp 0 -n 5 2>&1); rc=$?
check '[ $rc -eq 0 ]' "chat by repo id: $out"

"$L" chat --help | grep -q -- "--chat-format"
check '[ $? -eq 0 ]' "chat --help lists the options"
exit $fail
