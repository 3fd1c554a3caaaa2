#!/usr/bin/env bash
# `llmkit template` prints exactly what transformers' apply_chat_template
# renders: the outputs are compared with the committed golden renderings
# (tests/chat/golden, made with jinja2 by tests/chat/make_golden.py).
set -euo pipefail
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:?}
src=${LLMKIT_SOURCE_DIR:?}
cfgdir=$fx/chat-templates/tokenizer_configs
if [ ! -d "$cfgdir/qwen2.5-instruct" ]; then echo "skip: chat-template fixtures absent"; exit 77; fi
py=$(command -v python3 || true)
if [ -z "$py" ]; then echo "skip: python3 (to read the golden JSON) absent"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# golden FILE CASE FIELD: prints the conversation's FIELD, or the expected output
golden() {
  "$py" - "$src/tests/chat/golden/$1.json" "$src/tests/chat/golden/conversations.json" "$2" "$3" <<'PY'
import json, sys
g = json.load(open(sys.argv[1], encoding="utf-8"))
convs = {c["name"]: c["context"] for c in json.load(open(sys.argv[2], encoding="utf-8"))["conversations"]}
name, field = sys.argv[3], sys.argv[4]
if field == "output":
    sys.stdout.write(next(c for c in g["cases"] if c["name"] == name)["output"])
else:
    json.dump(convs[name].get(field), sys.stdout, ensure_ascii=False)
PY
}

fail=0
check() { # name expected-file actual-file
  if cmp -s "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1"; diff <(od -c "$2") <(od -c "$3") | head -20; fail=1; fi
}

# 1. a model directory, tools from a separate file, Chinese content
golden hf__qwen2.5-instruct tools messages > "$tmp/m.json"
golden hf__qwen2.5-instruct tools tools > "$tmp/t.json"
golden hf__qwen2.5-instruct tools output > "$tmp/want"
"$bin" template "$cfgdir/qwen2.5-instruct" --messages "$tmp/m.json" --tools "$tmp/t.json" > "$tmp/got"
check "qwen2.5 dir with tools" "$tmp/want" "$tmp/got"

golden hf__qwen2.5-instruct chinese messages > "$tmp/m.json"
golden hf__qwen2.5-instruct chinese output > "$tmp/want"
"$bin" template "$cfgdir/qwen2.5-instruct/tokenizer_config.json" --messages - < "$tmp/m.json" > "$tmp/got"
check "qwen2.5 tokenizer_config.json, messages on stdin, Chinese" "$tmp/want" "$tmp/got"

# 2. a .jinja file, no generation prompt, extra variable
golden hf__qwen3 user-no-gen messages > "$tmp/m.json"
golden llamacpp__Qwen-Qwen3-0.6B user-no-gen output > "$tmp/want"
"$bin" template "$fx/chat-templates/llamacpp-templates/Qwen-Qwen3-0.6B.jinja" --messages "$tmp/m.json" \
  --no-generation-prompt --var 'bos_token="<s>"' --var 'eos_token="</s>"' > "$tmp/got"
check "Qwen3 .jinja, --no-generation-prompt" "$tmp/want" "$tmp/got"

golden hf__qwen3 thinking-off messages > "$tmp/m.json"
golden hf__qwen3 thinking-off output > "$tmp/want"
"$bin" template "$cfgdir/qwen3" --messages "$tmp/m.json" --var enable_thinking=false > "$tmp/got"
check "Qwen3 enable_thinking=false" "$tmp/want" "$tmp/got"

# 3. strftime_now with a pinned date
golden hf__qwen3 user messages > "$tmp/m.json"
golden llamacpp__meta-llama-Llama-3.2-3B-Instruct user output > "$tmp/want"
"$bin" template "$fx/chat-templates/llamacpp-templates/meta-llama-Llama-3.2-3B-Instruct.jinja" \
  --messages "$tmp/m.json" --var 'bos_token="<s>"' --var 'eos_token="</s>"' --date 2026-07-26 > "$tmp/got"
check "Llama 3.2 with --date" "$tmp/want" "$tmp/got"

# 3b. GGUF models: tokenizer.chat_template and special tokens from the vocabulary
gg=$fx/gguf/stories260K-chatml.gguf
if [ -f "$gg" ]; then
  echo '[{"role": "user", "content": "Hello, how are you?"}]' > "$tmp/m.json"
  "$bin" template "$gg" --messages "$tmp/m.json" > "$tmp/got"
  # ollama's expected rendering of the same (chatml) conversation
  check "GGUF chatml template" "$fx/chat-templates/ollama/rendered/chatml.gotmpl/user" "$tmp/got"
fi
gg=$fx/llamacpp-vocab/ggml-vocab-phi-3.gguf
if [ -f "$gg" ]; then
  echo '[{"role": "user", "content": "hi"}]' > "$tmp/m.json"
  printf '<s><|user|>\nhi<|end|>\n<|assistant|>\n' > "$tmp/want"
  "$bin" template "$gg" --messages "$tmp/m.json" > "$tmp/got"
  check "GGUF phi-3 template with bos_token from the vocabulary" "$tmp/want" "$tmp/got"
fi
set +e
"$bin" template "$fx/gguf/stories260K.gguf" --messages "$tmp/m.json" > /dev/null 2> "$tmp/err"
rc=$?
set -e
if [ $rc -eq 1 ] && grep -q "no chat template" "$tmp/err"; then echo "ok: GGUF without a template: $(cat "$tmp/err")"
else echo "FAIL: GGUF without template: rc=$rc $(cat "$tmp/err")"; fail=1; fi

# 4. raise_exception reaches the user with the template and line; exit 1
echo '[{"role": "assistant", "content": "hi"}, {"role": "assistant", "content": "x"}]' > "$tmp/bad.json"
if "$bin" template "$fx/chat-templates/chujiezheng/chat_templates/mistral-instruct.jinja" --messages "$tmp/bad.json" --var bos_token='"<s>"' \
     > /dev/null 2> "$tmp/err"; then
  echo "FAIL: raise_exception did not fail"; fail=1
else
  rc=$?
  if [ $rc -eq 1 ] && grep -q 'mistral-instruct.jinja:[0-9]*:[0-9]*: raise_exception: ' "$tmp/err"; then
    echo "ok: raise_exception -> exit 1: $(cat "$tmp/err")"
  else echo "FAIL: rc=$rc, stderr: $(cat "$tmp/err")"; fail=1; fi
fi

# 5. usage errors exit 2; --help exits 0
set +e
"$bin" template > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: no args should exit 2"; fail=1; }
"$bin" template x.jinja --bogus > /dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: bad option should exit 2"; fail=1; }
"$bin" template --help | grep -q -- '--no-generation-prompt' || { echo "FAIL: --help"; fail=1; }
"$bin" template /nonexistent.jinja --messages "$tmp/m.json" > /dev/null 2>&1; [ $? -eq 1 ] || { echo "FAIL: missing file should exit 1"; fail=1; }
# --tokens: the rendered prompt's ids, as chat feeds them (special-token text
# parsed, BOS added once). Checked against tokenize on the rendered text, on a
# vocabulary that has the ChatML tokens (the Phi-3 one has <|user|>, <|end|>).
if [ -f "$fx/llamacpp-vocab/ggml-vocab-phi-3.gguf" ] && [ -f "$fx/chat-templates/tokenizer_configs/phi-3-mini/tokenizer_config.json" ]; then
  echo '[{"role":"user","content":"你好"}]' > "$tmp/t.json"
  tc="$fx/chat-templates/tokenizer_configs/phi-3-mini/tokenizer_config.json"
  voc="$fx/llamacpp-vocab/ggml-vocab-phi-3.gguf"
  "$bin" template "$tc" --messages "$tmp/t.json" > "$tmp/t.txt"
  want=$("$bin" tokenize "$voc" --parse-special -f "$tmp/t.txt")
  got=$("$bin" template "$tc" --messages "$tmp/t.json" --tokens --tokenizer "$voc")
  [ -n "$got" ] && [ "$got" = "$want" ] || { echo "FAIL: --tokens: got '$got' want '$want'"; fail=1; }
  grep -qE '^1 32010 ' <<<"$got" || { echo "FAIL: --tokens should start with BOS and <|user|> (32010): $got"; fail=1; }
  "$bin" template "$tc" --messages "$tmp/t.json" --tokens > /dev/null 2>&1; [ $? -eq 1 ] || { echo "FAIL: --tokens without a tokenizer should exit 1"; fail=1; }
else
  echo "SKIP part: phi-3 vocab or template fixture missing"
fi
set -e
exit $fail
