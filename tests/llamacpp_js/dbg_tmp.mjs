import {getLlama, LlamaLogLevel} from "node-llama-cpp";
const [path, idsStr] = process.argv.slice(2);
const ids = idsStr.split(/\s+/).map(Number);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: path, gpuLayers: 0});
const ctx = await model.createContext({contextSize: 128, threads: 1});
const seq = ctx.getSequence();
const input = ids.map((t, i) => i === ids.length - 1 ? [t, {generateNext: {probabilities: true, options: {temperature: 1, topK: 0, topP: 1, minP: 0}}}] : t);
const out = await seq.controlledEvaluate(input);
const p = [...out[ids.length - 1].next.probabilities.entries()].slice(0, 4);
if (process.env.DUMP) { const a = new Array(32000).fill(0); for (const [t, q] of out[ids.length - 1].next.probabilities) a[t] = Math.log(q); (await import("node:fs")).writeFileSync(process.env.DUMP, a.map(x => x.toFixed(6)).join("\n") + "\n"); }
console.log(p.map(([t, q]) => `${t}:${Math.log(q).toFixed(4)}`).join(" "));
