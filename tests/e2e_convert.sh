#!/usr/bin/env bash
# `llmkit convert`: a llama2.c checkpoint to GGUF, read back by `llmkit info`;
# usage errors. (HF folders: test_forward_ref checks converted logits.)
set -u
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:-}
fail=0
src="$fx/llama2c/stories260K.bin"
if [ ! -f "$src" ]; then echo "SKIP: fixture $src not found"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" convert --help | grep -q -- '--outtype' || { echo "FAIL: --help"; fail=1; }
"$bin" convert "$src" "$tmp/m.gguf" --outtype f16 >/dev/null || { echo "FAIL: convert"; fail=1; }
out=$("$bin" info "$tmp/m.gguf" 2>&1) || { echo "FAIL: info: $out"; fail=1; }
for pat in '^architecture: +llama$' '^dim: +64$' '^layers: +5$' '^kv heads: +4$'; do
  grep -qE "$pat" <<<"$out" || { echo "FAIL: info lacks /$pat/"; echo "$out"; fail=1; }
done
"$bin" info --tensors "$tmp/m.gguf" | grep -qE '^blk\.0\.attn_q\.weight +f16' || { echo "FAIL: f16 weights"; fail=1; }
"$bin" info --tensors "$tmp/m.gguf" | grep -qE '^blk\.0\.attn_norm\.weight +f32' || { echo "FAIL: f32 norms"; fail=1; }
out=$("$bin" convert "$src" "$tmp/x.gguf" --outtype q4_0 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'known: f32 f16 bf16 q8_0' <<<"$out" || { echo "FAIL: bad outtype ($rc): $out"; fail=1; }
[ $fail -eq 0 ] && echo "e2e_convert: ok"
exit $fail
