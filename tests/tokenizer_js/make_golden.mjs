// Writes golden.json: for every tokenizer.json in the fixtures and every
// text of texts.mjs, the ids @huggingface/tokenizers (pinned in
// package.json) gives with add_special_tokens, as count + FNV-1a hash
// (the C test recomputes both). Usage:
//   cd tests/tokenizer_js && npm install && node make_golden.mjs [FIXTURES]
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { inline, corpora, corpusPieces } from "./texts.mjs";

const fixtures = process.argv[2] || path.resolve("../../../shared/fixtures");
const tokenizers = [
  "tokenizers/llama2-hf/tokenizer.json",
  "tokenizers/phi-3-mini/tokenizer.json",
  "tokenizers/t5-small/tokenizer.json",
  "tokenizers/chatglm/tokenizer.json",
  "tokenizers/ollama-mini/mini_llama.json",
  "tokenizers/torchtune-tiny/tiny_bpe_tokenizer.json",
];

function fnv(ids) {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let b = 0; b < 4; b++) {
      h ^= (id >>> (8 * b)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

const texts = inline.map((text) => ({ text }));
for (const rel of corpora) texts.push(...corpusPieces(fixtures, rel));

const out = { generator: "@huggingface/tokenizers 0.2.0", texts: texts.map(({ text, ...ref }) => (ref.file ? ref : { text })), results: [] };
for (const rel of tokenizers) {
  const file = path.join(fixtures, rel);
  if (!fs.existsSync(file)) continue;
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  const cfgPath = path.join(path.dirname(file), "tokenizer_config.json");
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
  let tok;
  try {
    tok = new Tokenizer(json, cfg);
  } catch (e) {
    out.results.push({ tokenizer: rel, error: String(e) });
    continue;
  }
  const rows = texts.map(({ text }) => {
    const ids = tok.encode(text).ids;
    return [ids.length, fnv(ids)];
  });
  out.results.push({ tokenizer: rel, rows });
}
fs.writeFileSync("golden.json", JSON.stringify(out));
console.log(`golden.json: ${texts.length} texts x ${out.results.length} tokenizers`);
