import {readGgufFileInfo} from "node-llama-cpp";
const [a, b] = await Promise.all(process.argv.slice(2).map(p => readGgufFileInfo(p, {readTensorInfo: false})));
const ta = a.metadata.tokenizer.ggml, tb = b.metadata.tokenizer.ggml;
for (const k of new Set([...Object.keys(ta), ...Object.keys(tb)])) {
  const va = JSON.stringify(ta[k]), vb = JSON.stringify(tb[k]);
  console.log(k, va === vb ? "same" : `DIFF ${va?.slice(0,200)} | ${vb?.slice(0,200)}`);
}
