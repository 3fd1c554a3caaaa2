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
# --tokenizer: the llama2.c vocabulary goes in as tokenizer.ggml.* (model
# "llama"), and the GGUF then runs alone exactly as the checkpoint does.
tok="$fx/llama2c/tok512.bin"
"$bin" convert "$src" "$tmp/t.gguf" --tokenizer "$tok" >/dev/null 2>&1 || { echo "FAIL: convert --tokenizer"; fail=1; }
"$bin" info "$tmp/t.gguf" 2>&1 | grep -qE '^tokenizer: +llama, 512 tokens' || { echo "FAIL: no vocabulary written"; fail=1; }
a=$("$bin" run "$tmp/t.gguf" -p "Once upon" --temp 0 -n 24 --print-ids 2>/dev/null)
b=$("$bin" run "$src" --tokenizer "$tok" -p "Once upon" --temp 0 -n 24 --print-ids 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || { echo "FAIL: converted run differs: '$a' vs '$b'"; fail=1; }
grep -qE '^1 [0-9 ]+$' <<<"$(head -1 <<<"$a")" && [ "$(sed -n 2p <<<"$a" | wc -w)" -eq 24 ] ||
  { echo "FAIL: --print-ids output: $a"; fail=1; }
out=$("$bin" convert "$src" "$tmp/x.gguf" --tokenizer "$tmp/nonexistent.bin" 2>&1); rc=$?
[ $rc -eq 1 ] && [ ! -e "$tmp/x.gguf" ] || { echo "FAIL: missing --tokenizer file ($rc): $out"; fail=1; }
out=$("$bin" convert "$src" "$tmp/x.gguf" --outtype q4_0 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'known: f32 f16 bf16 q8_0' <<<"$out" || { echo "FAIL: bad outtype ($rc): $out"; fail=1; }
[ $fail -eq 0 ] && echo "e2e_convert: ok"
exit $fail
