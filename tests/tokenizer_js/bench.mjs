// Encode throughput of @huggingface/tokenizers (a benchmark, not a test):
// each corpus is encoded paragraph by paragraph (split at blank lines),
// single thread, as llmkit's own benchmark does.
//   node bench.mjs FIXTURES
import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const fixtures = process.argv[2] || path.resolve("../../../shared/fixtures");
const toks = ["tokenizers/llama2-hf/tokenizer.json", "tokenizers/t5-small/tokenizer.json", "tokenizers/chatglm/tokenizer.json"];
const corpora = ["corpora/war-and-peace.txt", "corpora/llm-dev_medical_qa_zh.txt"];
for (const rel of toks) {
  const dir = path.dirname(path.join(fixtures, rel));
  const cfgPath = path.join(dir, "tokenizer_config.json");
  const t0 = performance.now();
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(fixtures, rel), "utf8")),
                            fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {});
  const load = performance.now() - t0;
  const line = [`${rel}: load ${load.toFixed(1)} ms`];
  for (const c of corpora) {
    const text = fs.readFileSync(path.join(fixtures, c), "utf8");
    const paras = text.split("\n\n");
    const bytes = Buffer.byteLength(text);
    const a = performance.now();
    let n = 0;
    for (const p of paras) n += tok.encode(p).ids.length;
    const s = (performance.now() - a) / 1000;
    line.push(`${path.basename(c)} ${(bytes / 1e6 / s).toFixed(2)} MB/s (${n} ids)`);
  }
  console.log(line.join(", "));
}
