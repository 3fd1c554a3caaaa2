// llama.cpp's side of tests/e2e_llamacpp_interop.sh: loads GGUF files in
// llama.cpp (the prebuilt CPU libraries node-llama-cpp ships) and prints, per
// file, one JSON line that the test compares with `llmkit run --print-ids`
// and `llmkit perplexity`.
//
//   node interop.mjs gen [-n 32] (--ids "1 2 3" | --text TEXT) [[--expect "ids"] MODEL.gguf]...
//       {"model":..,"prompt":[ids],"ids":[greedy ids],"diverged":null|{..}}
//       --text is tokenized by llama.cpp (BOS added when the model asks for
//       it); generation stops after -n tokens or at an end-of-generation
//       token, which is listed (llmkit lists the one it stops at too).
//       --expect: llmkit's ids for the model after it; at the first step
//       where llama.cpp picks another token, "diverged" gives the step, both
//       tokens and the gap between their log-probabilities in llama.cpp (how
//       near a tie it was).
//   node interop.mjs ppl [--ctx 128] TEXTFILE MODEL.gguf...
//       {"model":..,"ppl":..,"chunks":..}  llama-perplexity's method: chunks
//       of --ctx tokens of the text, BOS first, the second half of each
//       chunk scored.
//   node interop.mjs tok TEXTFILE MODEL.gguf...
//       {"model":..,"ids":[[ids of line 1],..]}  each non-empty line of
//       TEXTFILE tokenized by llama.cpp, nothing added (add_special off,
//       parse_special off).
//
// Several models per call: node-llama-cpp's start-up is the slow part.
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

function parseArgs(argv) {
    const o = {cmd: argv[0], n: 32, ids: null, text: null, expect: null, ctx: 128, file: null, models: []};
    for (let i = 1; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-n") o.n = Number(argv[++i]);
        else if (a === "--ids") o.ids = argv[++i].trim().split(/\s+/).filter(Boolean).map(Number);
        else if (a === "--text") o.text = argv[++i];
        else if (a === "--expect") o.expect = argv[++i].trim().split(/\s+/).filter(Boolean).map(Number);
        else if (a === "--ctx") o.ctx = Number(argv[++i]);
        else if (o.cmd === "gen") o.models.push({path: a, expect: o.expect}), o.expect = null;
        else if ((o.cmd === "ppl" || o.cmd === "tok") && o.file === null) o.file = a;
        else o.models.push({path: a, expect: null});
    }
    if (!["gen", "ppl", "tok"].includes(o.cmd) || o.models.length === 0)
        throw new Error("usage: interop.mjs gen|ppl|tok [options] MODEL.gguf... (see the header)");
    return o;
}

const opt = parseArgs(process.argv.slice(2));
// build "never": only the prebuilt binaries from the npm package, never a
// download or a local build.
const llama = await getLlama({gpu: false, build: "never", progressLogs: false,
                              logLevel: LlamaLogLevel.error,
                              logger: (level, msg) => process.stderr.write(msg)});

async function withModel(path, fn) {
    const model = await llama.loadModel({modelPath: path, gpuLayers: 0});
    try {
        return await fn(model);
    } finally {
        await model.dispose();
    }
}

// Full-temperature, untruncated probabilities: the softmax of the logits.
const RAW = {temperature: 1, topK: 0, topP: 1, minP: 0};

async function generate(model, expect) {
    let prompt = opt.ids;
    if (!prompt) {
        prompt = model.tokenize(opt.text, false);
        if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) prompt.unshift(model.tokens.bos);
    }
    const context = await model.createContext({contextSize: prompt.length + opt.n + 8, threads: 1,
                                               sequences: 1});
    const seq = context.getSequence();
    const ids = [];
    let diverged = null; // the first step where llmkit's token (--expect) is not llama.cpp's
    let input = prompt;
    while (ids.length < opt.n) {
        // Greedy by hand: the argmax of the probabilities (the map is sorted,
        // highest first), so that a disagreement can be measured.
        const last = input.length - 1;
        const out = await seq.controlledEvaluate(
            input.map((t, i) => i === last ? [t, {generateNext: {probabilities: true, options: RAW}}] : t));
        const probs = out[last].next.probabilities;
        const tok = probs.keys().next().value;
        const step = ids.length;
        if (expect && diverged === null && expect[step] !== tok) {
            const theirs = expect[step];
            diverged = {step, llamacpp: tok, llmkit: theirs ?? null,
                        gap: theirs === undefined ? null
                            : Math.log(probs.get(tok)) - Math.log(probs.get(theirs) ?? 0)};
        }
        ids.push(tok);
        if (model.isEogToken(tok)) break;
        input = [tok];
    }
    if (expect && diverged === null && expect.length > ids.length)
        diverged = {step: ids.length, llamacpp: null, llmkit: expect[ids.length], gap: null};
    await context.dispose();
    return {prompt, ids, diverged};
}

async function perplexity(model, _expect) {
    const text = readFileSync(opt.file, "utf8");
    // As llama-perplexity (and llmkit perplexity): BOS first when the
    // vocabulary adds one, then BOS again at the start of every chunk.
    const toks = model.tokenize(text, false);
    if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) toks.unshift(model.tokens.bos);
    const n = opt.ctx, first = n >> 1;
    const chunks = Math.floor(toks.length / n);
    if (chunks < 2) throw new Error(`${opt.file}: ${toks.length} tokens, fewer than --ctx ${n}`);
    const context = await model.createContext({contextSize: n, batchSize: n, threads: 1, sequences: 1});
    const seq = context.getSequence();
    let nll = 0, count = 0;
    for (let c = 0; c < chunks; c++) {
        const chunk = toks.slice(c * n, (c + 1) * n);
        if (model.tokens.bos != null) chunk[0] = model.tokens.bos; // as llama-perplexity does
        await seq.clearHistory();
        // Probabilities at full temperature, no truncation: the softmax of
        // the logits, for the positions whose next token is scored.
        const input = chunk.map((t, i) => i >= first && i < n - 1
            ? [t, {generateNext: {probabilities: true, options: RAW}}]
            : t);
        const out = await seq.controlledEvaluate(input);
        for (let i = first; i < n - 1; i++) {
            const p = out[i]?.next?.probabilities?.get(chunk[i + 1]);
            if (!(p > 0)) throw new Error(`no probability for chunk ${c} position ${i}`);
            nll -= Math.log(p);
            count++;
        }
    }
    await context.dispose();
    return {ppl: Math.exp(nll / count), chunks, scored: count};
}

async function tokenizeLines(model, _expect) {
    const lines = readFileSync(opt.file, "utf8").split("\n").filter(l => l.length > 0);
    return {ids: lines.map(l => model.tokenize(l, false))};
}

// A model that fails to load or run gets {"model":..,"error":..}; the others still run.
for (const {path, expect} of opt.models) {
    try {
        const res = await withModel(path, m => ({gen: generate, ppl: perplexity, tok: tokenizeLines})[opt.cmd](m, expect));
        console.log(JSON.stringify({model: path, ...res}));
    } catch (e) {
        console.log(JSON.stringify({model: path, error: String(e?.message ?? e)}));
    }
}
await llama.dispose();
