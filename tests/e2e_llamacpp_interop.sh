#!/usr/bin/env bash
# llama.cpp interop: GGUF files that llmkit converts or quantizes load in
# llama.cpp (the prebuilt CPU libraries of the npm package node-llama-cpp
# 3.21.1, driven by tests/llamacpp_js/interop.mjs) and give the same greedy
# tokens as `llmkit run --temp 0 --print-ids`; llama.cpp-quantized files
# (the stories260K-ffn192-* fixtures) give the same tokens in llmkit; and
# `llmkit quantize` writes the same bytes as llama.cpp's llama_model_quantize;
# `llmkit perplexity` is within 1 % of llama.cpp's on the same files.
#
# Models: stories260K (llama2.c checkpoint + tok512.bin converted, which
# also checks the SentencePiece tokenizer metadata: both tokenize the prompt
# to the same ids; and the F32 GGUFs re-quantized by `llmkit quantize` to
# every type), and random-weight HF folders (tests/llamacpp_js/make_hf.mjs)
# of a llama (Llama 2's SentencePiece-style tokenizer.json) and a qwen2
# (a byte-level BPE tokenizer.json), converted to F16/Q8_0 and quantized;
# random-weight llamas with a WordPiece and a Unigram tokenizer.json,
# converted, whose "bert" / "t5" vocabularies llama.cpp must tokenize as
# the tokenizer.json does.
#
# Greedy tokens must agree for all 32 steps on F32/F16 files. On quantized
# files the two engines' activations differ by float rounding (llama.cpp
# rounds some intermediates to F16), which the on-the-fly Q8 quantization
# of activations turns into logit noise of ~0.05-0.1 (both engines are
# equally far from the exact product, see docs/quantization.md); random
# weights and a 260K-parameter model have near-ties, so there the first
# disagreement is allowed where llama.cpp's own log-probabilities of the two
# tokens are within 0.5 of each other, or within 1.5 after 16 equal steps
# (the random qwen2 model's logits span tens of units, so its near-ties are
# wider; a broken file disagrees at once, by several units). The quantized bytes themselves are held to llama.cpp's by
# test_quant, test_quant_fixtures and test_quantize.
#
# Skips (exit 77) without node >= 20 (node-llama-cpp's minimum), npm, the
# npm registry (first run: `npm ci` into the build folder) or the fixtures.
set -u
bin=${LLMKIT_BIN:?}
fx=${LLMKIT_FIXTURES:-}
src=${LLMKIT_SOURCE_DIR:?}
skip() { echo "SKIP: $*"; exit 77; }

for f in llama2c/stories260K.bin llama2c/tok512.bin gguf/stories260K.gguf gguf/stories260K-ffn192.gguf \
         gguf/stories260K-ffn192-Q4_0.gguf tokenizers/llama2-hf/tokenizer.json \
         tokenizers/torchtune-tiny/tiny_bpe_tokenizer.json; do
  [ -f "$fx/$f" ] || skip "fixture $fx/$f not found"
done
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  skip "node >= 20 is needed by node-llama-cpp 3.21.1 (have $(node --version))"
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || skip "node-llama-cpp's prebuilt package here is linux-x64 only"

# node-llama-cpp into the build folder (not the source tree), from the npm
# registry tarballs pinned by integrity in package-lock.json:
# --ignore-scripts: its postinstall (which could download or build llama.cpp)
# never runs; --omit=optional: of the prebuilt packages only the CPU one,
# @node-llama-cpp/linux-x64, a direct dependency, is installed.
js="$(cd "$(dirname "$bin")" && pwd)/llamacpp_js"
mkdir -p "$js"
cp "$src"/tests/llamacpp_js/{package.json,package-lock.json,interop.mjs,make_hf.mjs} "$js/"
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.installed-lock.json" 2>/dev/null; then
  echo "== npm ci node-llama-cpp 3.21.1 into $js"
  (cd "$js" && npm ci --no-audit --no-fund --ignore-scripts --omit=optional >npm.log 2>&1) ||
    { tail -5 "$js/npm.log"; skip "npm ci failed (no npm registry?)"; }
  cp "$js/package-lock.json" "$js/node_modules/.installed-lock.json"
fi
lib="$js/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
[ -f "$lib/libllama.v0.4.0.so" ] && [ -f "$lib/llama-addon.node" ] ||
  { echo "FAIL: the prebuilt llama.cpp is not in $lib"; exit 1; }
node -e 'const v = require(process.argv[1]).version; process.exit(v === "3.21.1" ? 0 : 1)' \
  "$js/node_modules/node-llama-cpp/package.json" || { echo "FAIL: node-llama-cpp is not 3.21.1"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=32
STORY="Once upon a time, Lily saw a big dog."
TEXT="Hello world, this is a test: 12 apples and ünïcödé text."

# llmkit's side: "prompt ids" and "generated ids", one line each.
lk_ids() { "$bin" run "$1" -p "$2" --temp 0 -n $n --print-ids -t 1 2>"$tmp/run.err"; }

# compare STRICT|NEAR TEXT MODEL...: llmkit on each (or, with SRC set, on
# the model they were converted from), then one node process (llama.cpp) for
# all of them, checking the prompt's ids and the greedy ids against llmkit's.
compare() {
  local mode=$1 text=$2; shift 2
  local m args=()
  if [ -n "${SRC:-}" ]; then
    # llmkit on the source model (HF folder, or llama2.c checkpoint with its
    # tokenizer): llama.cpp must read the converted file as that model.
    "$bin" run "$SRC" ${SRC_TOK:+--tokenizer "$SRC_TOK"} -p "$text" --temp 0 -n $n --print-ids -t 1 \
      >"$tmp/lk-src.txt" 2>"$tmp/run.err" || { echo "FAIL: llmkit run $SRC: $(cat "$tmp/run.err")"; fail=1; return; }
  fi
  for m in "$@"; do
    if [ -n "${SRC:-}" ]; then
      cp "$tmp/lk-src.txt" "$tmp/lk.txt"
    elif ! lk_ids "$m" "$text" >"$tmp/lk.txt"; then
      echo "FAIL: llmkit run $m: $(cat "$tmp/run.err")"; fail=1; continue
    fi
    args+=(--expect "$(sed -n 2p "$tmp/lk.txt")" "$m")
    sed -n 1p "$tmp/lk.txt" >"$tmp/lk-prompt.$(basename "$m")"
  done
  [ ${#args[@]} -gt 0 ] || return
  node "$js/interop.mjs" gen -n $n --text "$text" "${args[@]}" >"$tmp/lc.jsonl" 2>"$tmp/lc.err" ||
    { echo "FAIL: interop.mjs: $(tail -3 "$tmp/lc.err")"; fail=1; return; }
  local out
  out=$(node -e '
    const fs = require("fs"), [file, dir, mode] = process.argv.slice(1);
    for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
      const r = JSON.parse(line), name = r.model.split("/").pop();
      const say = (v) => console.log(`${name.padEnd(32)} ${v}`);
      if (r.error) { say(`FAIL llama.cpp: ${r.error}`); continue; }
      const lkPrompt = fs.readFileSync(`${dir}/lk-prompt.${name}`, "utf8").trim().split(/\s+/).map(Number);
      if (JSON.stringify(lkPrompt) !== JSON.stringify(r.prompt))
        { say(`FAIL tokenization: llmkit [${lkPrompt}] llama.cpp [${r.prompt}]`); continue; }
      const d = r.diverged;
      if (!d) { say(`ok: ${r.ids.length} tokens the same`); continue; }
      const near = mode === "NEAR" && d.gap !== null &&
        (d.gap <= 0.5 || (d.step >= 16 && d.gap <= 1.5));
      say(`${near ? "ok" : "FAIL"}: the same for ${d.step} tokens, then llama.cpp ${d.llamacpp}, llmkit ${d.llmkit}` +
          (d.gap === null ? "" : ` (log-prob gap ${d.gap.toFixed(3)} in llama.cpp)`));
    }' "$tmp/lc.jsonl" "$tmp" "$mode")
  echo "$out"
  grep -q FAIL <<<"$out" && fail=1
  [ "$(grep -c . <<<"$out")" -eq $(( ${#args[@]} / 3 )) ] || { echo "FAIL: results missing"; fail=1; }
}

q() { # q IN OUT TYPE: llmkit quantize, quietly
  "$bin" quantize "$1" "$2" "$3" -t 2 >/dev/null 2>"$tmp/q.err" ||
    { echo "FAIL: llmkit quantize $1 $3: $(cat "$tmp/q.err")"; fail=1; }
}

# 1. stories260K: llama2.c checkpoint + tok512.bin converted; the F32 GGUFs
#    re-quantized by llmkit (stories260K's ffn of 172 takes only the K mixes,
#    which fall back to F16 there; the ffn192 variant takes every type).
s="$tmp/stories"
mkdir -p "$s"
for t in f32 f16; do
  "$bin" convert "$fx/llama2c/stories260K.bin" "$s/conv-$t.gguf" --outtype $t \
    --tokenizer "$fx/llama2c/tok512.bin" >/dev/null 2>"$tmp/c.err" ||
    { echo "FAIL: convert --outtype $t: $(cat "$tmp/c.err")"; fail=1; }
done
q "$fx/gguf/stories260K.gguf" "$s/s-q4_k_m.gguf" q4_k_m
types="q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_m q4_k_s q4_k_m q5_k_s q5_k_m q6_k"
for t in $types; do q "$fx/gguf/stories260K-ffn192.gguf" "$s/ffn192-$t.gguf" $t; done
echo "== stories260K converted / quantized by llmkit"
SRC="$fx/llama2c/stories260K.bin" SRC_TOK="$fx/llama2c/tok512.bin" compare STRICT "$STORY" "$s"/conv-*.gguf
compare NEAR "$STORY" "$s"/s-*.gguf "$s"/ffn192-*.gguf

# 2. llama.cpp-quantized files in llmkit.
echo "== stories260K-ffn192 quantized by llama.cpp"
compare STRICT "$STORY" "$fx"/gguf/stories260K-ffn192.gguf
compare NEAR "$STORY" "$fx"/gguf/stories260K-ffn192-*.gguf

# 3. Random-weight HF folders converted and quantized.
for arch in llama qwen2; do
  d="$tmp/$arch"
  if [ $arch = llama ]; then tok="$fx/tokenizers/llama2-hf"; vocab=32000
  else tok="$fx/tokenizers/torchtune-tiny/tiny_bpe_tokenizer.json"; vocab=2048; fi
  node "$js/make_hf.mjs" $arch "$tok" "$d/hf" --vocab $vocab || { echo "FAIL: make_hf $arch"; fail=1; continue; }
  for t in f16 q8_0; do
    "$bin" convert "$d/hf" "$d/$arch-conv-$t.gguf" --outtype $t -t 2 >/dev/null 2>"$tmp/c.err" ||
      { echo "FAIL: convert $arch $t: $(cat "$tmp/c.err")"; fail=1; }
  done
  for t in q4_0 q5_1 q3_k_m q4_k_m q6_k; do q "$d/hf" "$d/$arch-$t.gguf" $t; done
  echo "== random-weight $arch (HF folder) converted / quantized by llmkit"
  SRC="$d/hf" compare STRICT "$TEXT" "$d/$arch-conv-f16.gguf"
  compare NEAR "$TEXT" "$d/$arch-conv-q8_0.gguf" "$d/$arch"-q*.gguf
done

# 3b. WordPiece and Unigram tokenizer.json files: a random-weight llama
#     folder with each, converted; llama.cpp must tokenize mixed texts
#     (case, accents, CJK, whitespace runs) with the converted vocabulary
#     ("bert" / "t5") to the ids llmkit gives from the folder's
#     tokenizer.json (nothing added: llama.cpp's add_special differs by
#     model, checked by test_convert_tokenizer on the metadata instead).
#     The WordPiece tokenizer.json is BertTokenizerFast's form around
#     bert-base-uncased's vocab.txt, written here.
printf '%s\n' "Hello world! It's 2024, isn't it?" "MiXeD CaSe ÀÉÎÕÜ àéîõü ß Straße" \
  "中文也要一样：你好，世界。日本語のテキスト" "  leading spaces,   runs"$'\t'"of"$'\t'"tabs  and trailing  " \
  "ﬁ ligature ① ㎏ Å e$(printf '\xcc\x81') café naïve" "x = [i**2 for i in range(10)]  # 3.14159 1e-9" \
  "supercalifragilisticexpialidocious antidisestablishmentarianism" >"$tmp/tok-texts.txt"
tok_models=()
if [ -f "$fx/tokenizers/bert-base-uncased/vocab.txt" ] && [ -f "$fx/tokenizers/t5-small/tokenizer.json" ]; then
  mkdir -p "$tmp/bert-tok"
  node -e '
    const fs = require("fs"), [vocabTxt, dir] = process.argv.slice(1);
    const vocab = {}, added = [];
    fs.readFileSync(vocabTxt, "utf8").split("\n").forEach((t, i) => {
      if (t === "" && i > 0) return;
      vocab[t] = i;
      if (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].includes(t))
        added.push({id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true});
    });
    const sp = (id, t) => ({SpecialToken: {id, type_id: t}}), sq = (id, t) => ({Sequence: {id, type_id: t}});
    fs.writeFileSync(`${dir}/tokenizer.json`, JSON.stringify({version: "1.0", added_tokens: added,
      normalizer: {type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true},
      pre_tokenizer: {type: "BertPreTokenizer"},
      post_processor: {type: "TemplateProcessing", single: [sp("[CLS]", 0), sq("A", 0), sp("[SEP]", 0)],
        pair: [sp("[CLS]", 0), sq("A", 0), sp("[SEP]", 0), sq("B", 1), sp("[SEP]", 1)],
        special_tokens: {"[CLS]": {id: "[CLS]", ids: [101], tokens: ["[CLS]"]}, "[SEP]": {id: "[SEP]", ids: [102], tokens: ["[SEP]"]}}},
      decoder: {type: "WordPiece", prefix: "##", cleanup: true},
      model: {type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab}}));
    fs.writeFileSync(`${dir}/tokenizer_config.json`, JSON.stringify({do_lower_case: true, cls_token: "[CLS]",
      sep_token: "[SEP]", unk_token: "[UNK]", pad_token: "[PAD]", mask_token: "[MASK]"}));
  ' "$fx/tokenizers/bert-base-uncased/vocab.txt" "$tmp/bert-tok" || { echo "FAIL: writing the WordPiece tokenizer.json"; fail=1; }
  for kind in wordpiece:"$tmp/bert-tok":30522 unigram:"$fx/tokenizers/t5-small":32128; do
    IFS=: read -r name tdir tvocab <<<"$kind"
    d="$tmp/$name"
    node "$js/make_hf.mjs" llama "$tdir" "$d/hf" --vocab "$tvocab" || { echo "FAIL: make_hf $name"; fail=1; continue; }
    "$bin" convert "$d/hf" "$d/$name.gguf" --outtype f16 -t 2 >/dev/null 2>"$tmp/c.err" ||
      { echo "FAIL: convert $name: $(cat "$tmp/c.err")"; fail=1; continue; }
    while IFS= read -r line; do
      [ -n "$line" ] && "$bin" tokenize "$d/hf" "$line" --no-special
    done <"$tmp/tok-texts.txt" >"$tmp/lk-tok.$name.txt" 2>"$tmp/tok.err" ||
      { echo "FAIL: llmkit tokenize $name: $(cat "$tmp/tok.err")"; fail=1; continue; }
    tok_models+=("$d/$name.gguf")
  done
  echo "== WordPiece / Unigram tokenizer.json converted: llama.cpp vs the tokenizer.json"
  if [ ${#tok_models[@]} -gt 0 ]; then
    node "$js/interop.mjs" tok "$tmp/tok-texts.txt" "${tok_models[@]}" >"$tmp/lc-tok.jsonl" 2>"$tmp/lc.err" ||
      { echo "FAIL: interop.mjs tok: $(tail -3 "$tmp/lc.err")"; fail=1; }
    out=$(node -e '
      const fs = require("fs"), [file, dir] = process.argv.slice(1);
      for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
        const r = JSON.parse(line), name = r.model.split("/").pop().replace(/\.gguf$/, "");
        if (r.error) { console.log(`${name.padEnd(12)} FAIL llama.cpp: ${r.error}`); continue; }
        const lk = fs.readFileSync(`${dir}/lk-tok.${name}.txt`, "utf8").trim().split("\n")
          .map(l => l.trim().split(/\s+/).filter(Boolean).map(Number));
        const same = r.ids.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(lk[i])).length;
        const ok = same === r.ids.length && r.ids.length === lk.length;
        console.log(`${name.padEnd(12)} ${ok ? "ok" : "FAIL"}: ${same}/${lk.length} texts the same ids`);
        r.ids.forEach((ids, i) => { if (JSON.stringify(ids) !== JSON.stringify(lk[i]))
          console.log(`  text ${i + 1}: llama.cpp [${ids}] tokenizer.json [${lk[i]}]`); });
      }' "$tmp/lc-tok.jsonl" "$tmp")
    echo "$out"
    grep -q FAIL <<<"$out" && fail=1
    [ "$(grep -cE '^[a-z]' <<<"$out")" -eq ${#tok_models[@]} ] || { echo "FAIL: results missing"; fail=1; }
  fi
else
  echo "SKIP (this part): tokenizers/bert-base-uncased or t5-small not in the fixtures"
fi

# 4. Quantizing: llama.cpp's own llama_model_quantize (libllama from the
#    npm package, called by llamacpp_quantize.c) and `llmkit quantize` write
#    the same bytes, whole files, for every type, from the F32 files above
#    (stories260K-ffn192: rows of 64/192, so the K mixes fall back to
#    block-32 types; the random models: rows of 256/512, real K-quants).
echo "== llama_model_quantize vs llmkit quantize (whole files, byte for byte)"
if cc -O1 -o "$tmp/llamacpp_quantize" "$src/tests/llamacpp_js/llamacpp_quantize.c" -ldl 2>"$tmp/cc.err"; then
  ftypes="q4_0:2 q4_1:3 q8_0:7 q5_0:8 q5_1:9 q2_k:10 q3_k_s:11 q3_k_m:12 q3_k_l:13 q4_k_s:14 q4_k_m:15 q5_k_s:16 q5_k_m:17 q6_k:18"
  for d in llama qwen2; do
    "$bin" convert "$tmp/$d/hf" "$tmp/$d/$d-f32.gguf" --outtype f32 -t 2 >/dev/null 2>"$tmp/c.err" ||
      { echo "FAIL: convert $d f32: $(cat "$tmp/c.err")"; fail=1; }
  done
  for m in "$fx/gguf/stories260K-ffn192.gguf" "$tmp/llama/llama-f32.gguf" "$tmp/qwen2/qwen2-f32.gguf"; do
    same=() differ=()
    for tf in $ftypes; do
      t=${tf%%:*}
      # llama.cpp in the background while llmkit quantizes the same type.
      "$tmp/llamacpp_quantize" "$lib" "$m" "$tmp/lc.gguf" ${tf##*:} 1 >"$tmp/lq.log" 2>&1 &
      lq=$!
      q "$m" "$tmp/lk.gguf" "$t"
      if ! wait $lq; then echo "FAIL: llama_model_quantize $t: $(tail -2 "$tmp/lq.log")"; fail=1; continue; fi
      if cmp -s "$tmp/lc.gguf" "$tmp/lk.gguf"; then same+=("$t"); else differ+=("$t"); fi
    done
    printf '%-32s identical: %s\n' "$(basename "$m")" "${same[*]:-none}"
    [ ${#differ[@]} -eq 0 ] || { printf '%-32s FAIL, differ: %s\n' "" "${differ[*]}"; fail=1; }
  done
else
  echo "SKIP (this part): no C compiler: $(head -2 "$tmp/cc.err")"
fi

# 5. Perplexity: llmkit's within 1 % of llama.cpp's, same files, same method.
echo "== perplexity (tests/data/tiny_stories.txt, --ctx 128)"
pmodels=("$s/conv-f32.gguf" "$s"/ffn192-*.gguf "$fx"/gguf/stories260K-ffn192-*.gguf)
node "$js/interop.mjs" ppl --ctx 128 "$src/tests/data/tiny_stories.txt" "${pmodels[@]}" >"$tmp/ppl.json" 2>"$tmp/ppl.err" ||
  { echo "FAIL: llama.cpp perplexity: $(tail -3 "$tmp/ppl.err")"; fail=1; }
for m in "${pmodels[@]}"; do
  lk=$("$bin" perplexity "$m" "$src/tests/data/tiny_stories.txt" --ctx 128 -t 2 2>&1 |
       sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p')
  lc=$(node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n"))
                  if (l && JSON.parse(l).model === process.argv[2]) console.log(JSON.parse(l).ppl.toFixed(4))' \
       "$tmp/ppl.json" "$m")
  if [ -z "$lk" ] || [ -z "$lc" ]; then echo "FAIL: no perplexity for $m (llmkit '$lk', llama.cpp '$lc')"; fail=1; continue; fi
  verdict=$(awk -v a="$lk" -v b="$lc" 'BEGIN { r = (a - b) / b; if (r < 0) r = -r;
                                              printf "%s %.2f%%", r <= 0.01 ? "ok" : "FAIL", 100 * r }')
  printf '%-32s llmkit %s llama.cpp %s %s\n' "$(basename "$m")" "$lk" "$lc" "$verdict"
  case $verdict in ok*) ;; *) fail=1 ;; esac
done

[ $fail -eq 0 ] && echo "e2e_llamacpp_interop: ok"
exit $fail
