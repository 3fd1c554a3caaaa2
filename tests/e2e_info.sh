#!/usr/bin/env bash
# `llmkit info` on every model fixture, and its errors.
set -u
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:-}
fail=0
check() { # check NAME OUTPUT PATTERN
  if ! grep -qE -- "$3" <<<"$2"; then echo "FAIL: $1: output lacks /$3/"; echo "$2" | head -30; fail=1; fi
}
if [ ! -d "$fx" ]; then echo "SKIP: fixtures not found at '$fx'"; exit 77; fi

for f in "$fx/llama2c/stories260K.bin" "$fx/gguf/stories260K.gguf"; do
  out=$("$bin" info "$f" 2>&1) || { echo "FAIL: info $f exited $?"; echo "$out"; fail=1; }
  for pat in '^dim: +64$' '^layers: +5$' '^heads: +8$' '^kv heads: +4$' '^vocab: +512$' '^architecture: +llama$'; do
    check "info $f" "$out" "$pat"
  done
  json=$("$bin" info --json "$f") || { echo "FAIL: info --json $f"; fail=1; }
  echo "$json" | python3 -c '
import json,sys
d=json.load(sys.stdin); h=d["hparams"]
assert (h["dim"],h["n_layers"],h["n_heads"],h["n_kv_heads"],h["vocab_size"])==(64,5,8,4,512), h
' || { echo "FAIL: info --json $f"; fail=1; }
done
out=$("$bin" info "$fx/gguf/stories260K.gguf")
check "gguf tokenizer" "$out" '^tokenizer: +llama, 512 tokens'
check "gguf bos" "$out" "^bos: +1 '<s>'"
out=$("$bin" info --tensors "$fx/gguf/stories260K.gguf")
check "tensors" "$out" '^blk\.4\.ffn_down\.weight +f32 +\[64, 172\]'
check "chatml template" "$("$bin" info "$fx/gguf/stories260K-chatml.gguf")" '^chat template: yes'

# Every GGUF fixture opens (vocab-only files have no tensors but still parse).
for f in "$fx"/gguf/*.gguf; do
  "$bin" info "$f" >/dev/null 2>&1 || { echo "FAIL: info $f: $("$bin" info "$f" 2>&1 | tail -1)"; fail=1; }
done
# Vocab-only GGUFs, also of architectures llmkit cannot run yet, and lone
# safetensors files: info shows what they hold.
for f in "$fx"/llamacpp-vocab/*.gguf "$fx"/safetensors/*.safetensors; do
  out=$("$bin" info "$f" 2>&1) || { echo "FAIL: info $f: $out"; fail=1; }
done
check "falcon vocab" "$("$bin" info "$fx/llamacpp-vocab/ggml-vocab-falcon.gguf")" '^runnable: +no .*falcon'
check "falcon vocab" "$("$bin" info "$fx/llamacpp-vocab/ggml-vocab-falcon.gguf")" '^tokenizer: +gpt2 / falcon, 65024 tokens'
check "safetensors" "$("$bin" info --tensors "$fx/safetensors/tensor-2d-float64.safetensors")" 'f64'
for f in "$fx"/gguf/stories260K-ffn192-Q*.gguf; do
  out=$("$bin" info "$f")
  check "$f" "$out" '^ffn dim: +192$'
done

# Errors: a clear message and exit code 1 (2 for usage).
tmp=$(mktemp -d)
printf 'GGUF\x03\x00\x00\x00' > "$tmp/trunc.gguf"
out=$("$bin" info "$tmp/trunc.gguf" 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: truncated gguf exit $rc"; fail=1; }
check "truncated" "$out" "trunc.gguf"
out=$("$bin" info "$tmp/missing.gguf" 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: missing file exit $rc"; fail=1; }
check "missing" "$out" "missing.gguf"
"$bin" info >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: no-arg usage exit"; fail=1; }
"$bin" info --help | grep -q -- '--tensors' || { echo "FAIL: --help"; fail=1; }
rm -rf "$tmp"
[ $fail -eq 0 ] && echo "e2e_info: ok"
exit $fail
