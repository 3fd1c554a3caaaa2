#!/usr/bin/env bash
# End-to-end: `llmkit tokenize` / `llmkit detokenize` on the fixture
# vocabularies. Expected ids are llama.cpp's / transformers' (see
# test_tokenizer_llamacpp.c and test_tokenizer_hf.c for the full vectors).
set -u
bin=${LLMKIT_BIN:?LLMKIT_BIN is not set}
fx=${LLMKIT_FIXTURES:-}
if [ -z "$fx" ] || [ ! -d "$fx" ]; then echo "skip: fixtures not found"; exit 77; fi
spm=$fx/llamacpp-vocab/ggml-vocab-llama-spm.gguf
gpt2=$fx/llamacpp-vocab/ggml-vocab-gpt-2.gguf
tok512=$fx/llama2c/tok512.bin
for f in "$spm" "$gpt2" "$tok512"; do
  [ -f "$f" ] || { echo "skip: $f absent"; exit 77; }
done
fail=0
expect() { # name, expected, actual
  if [ "$2" != "$3" ]; then echo "FAIL $1: expected [$2], got [$3]"; fail=1; else echo "ok   $1"; fi
}

expect "spm ids" "1 15043 3186" "$("$bin" tokenize "$spm" "Hello world")"
expect "spm no-special" "15043 3186" "$("$bin" tokenize "$spm" "Hello world" --no-special)"
expect "gpt2 ids" "15496 995" "$("$bin" tokenize "$gpt2" "Hello world")"
expect "count" "3" "$("$bin" tokenize "$spm" "Hello world" --count)"
expect "stdin" "1 15043 3186" "$(printf 'Hello world' | "$bin" tokenize "$spm")"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
printf '你好，世界' > "$tmp"
ids=$("$bin" tokenize "$spm" -f "$tmp")
expect "chinese ids" "1 29871 30919 31076 30214 30793 30967" "$ids"
# shellcheck disable=SC2086
expect "chinese round trip" "你好，世界" "$("$bin" detokenize "$spm" $ids --skip-special)"
expect "pieces" "$(printf '1\t<s>\n15043\t\xe2\x96\x81Hello')" "$("$bin" tokenize "$spm" Hello --pieces)"
expect "special text stays text" "1 529 29879 29958" "$("$bin" tokenize "$spm" "<s>")"
expect "parse-special" "1 1" "$("$bin" tokenize "$spm" "<s>" --parse-special)"
expect "detokenize stdin" "Hello world" "$(echo 15496 995 | "$bin" detokenize "$gpt2")"
expect "tok512" "Once upon a time" "$("$bin" detokenize "$tok512" 1 403 407 261 378 --skip-special)"

# A T5 (Unigram) GGUF vocabulary, written from t5-small's tokenizer.json by
# an independent Python GGUF writer laid out as llama.cpp's converter does.
t5json=$fx/tokenizers/t5-small/tokenizer.json
py=$(command -v python3 || true)
if [ -f "$t5json" ] && [ -n "$py" ]; then
  t5=$(mktemp --suffix=.gguf); trap 'rm -f "$tmp" "$t5"' EXIT
  "$py" "${LLMKIT_SOURCE_DIR:-.}/tests/ref/t5_vocab_gguf.py" "$t5json" "$t5" || { echo "FAIL t5 gguf writer"; fail=1; }
  expect "t5 ids" "8774 296 1" "$("$bin" tokenize "$t5" "Hello world")"
  expect "t5 no-special" "2018 8774" "$("$bin" tokenize "$t5" "Hi  Hello" --no-special)"
  expect "t5 pieces" "$(printf '8774\t\xe2\x96\x81Hello\n1\t</s>')" "$("$bin" tokenize "$t5" Hello --pieces)"
  expect "t5 detokenize" "Hello world" "$("$bin" detokenize "$t5" 8774 296 1 --skip-special)"
else
  echo "skip t5 GGUF part: t5-small/tokenizer.json or python3 absent"
fi

"$bin" tokenize "$spm" --help | grep -q "usage: llmkit tokenize" || { echo "FAIL tokenize --help"; fail=1; }
"$bin" detokenize "$spm" --help | grep -q "usage: llmkit detokenize" || { echo "FAIL detokenize --help"; fail=1; }
"$bin" tokenize >/dev/null 2>&1; expect "usage exit code" 2 $?
"$bin" tokenize /nonexistent/x.gguf hi >/dev/null 2>&1; expect "missing model exit code" 1 $?
"$bin" detokenize "$spm" 99999999 >/dev/null 2>&1; expect "bad id exit code" 1 $?
exit $fail
