// Times llama.cpp (the prebuilt CPU libraries that node-llama-cpp ships) the
// way llama-bench and `llmkit bench` do: ppN = N prompt tokens evaluated as
// one batch into an empty context; tgN = N tokens decoded one at a time into
// an empty context (no sampling: the next input token is made up, as
// llama-bench does). One warm-up run, then -r timed runs; mean and sd.
//
//   node bench/llamacpp_bench.mjs MODEL.gguf [-p 512] [-n 128] [-t 1] [-r 3]
//
// Prints one JSON line per test:
//   {"engine":"llama.cpp","test":"pp512","threads":1,"avg_ts":..,"stddev_ts":..,"samples_ts":[..]}
// node-llama-cpp is installed into bench/node_modules by compare_llamacpp.sh.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

function parseArgs(argv) {
    const o = {model: null, p: 512, n: 128, t: 1, r: 3};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "-p") o.p = Number(argv[++i]);
        else if (a === "-n") o.n = Number(argv[++i]);
        else if (a === "-t") o.t = Number(argv[++i]);
        else if (a === "-r") o.r = Number(argv[++i]);
        else if (!o.model) o.model = a;
        else throw new Error(`unknown argument ${a}`);
    }
    if (!o.model) throw new Error("usage: llamacpp_bench.mjs MODEL.gguf [-p N] [-n N] [-t N] [-r N]");
    return o;
}

function stats(xs) {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
    return {mean, sd};
}

// Made-up token ids away from the control tokens (as llama-bench does).
function tokens(n, vocab) {
    const out = [];
    let s = 12345;
    for (let i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) % 2147483648;
        out.push(300 + (s % (Math.min(vocab, 30000) - 300)));
    }
    return out;
}

const opt = parseArgs(process.argv.slice(2));
// maxThreads 0: the context's thread count is used as given, not capped by
// what other evaluations are using.
// llama.cpp's own timings (llama_perf, cumulative) are read after each run
// through the logger: the figure reported is native decode time, so the JS
// round trip per token (about 1-3 ms on a loaded 2-core machine) is not
// charged to llama.cpp; the JS wall-clock figure is reported too (js_avg_ts).
let perfLines = [];
const llama = await getLlama({gpu: false, build: "never", maxThreads: 0, progressLogs: false,
                              logLevel: LlamaLogLevel.info,
                              logger: (level, msg) => {
                                  if (/llama_perf_context_print/.test(msg)) perfLines.push(msg);
                                  else if (level === "error" || level === "fatal") process.stderr.write(msg);
                              }});
// {prompt_ms, prompt_tokens, eval_ms, eval_runs} since the last call (printTimings resets them).
async function nativePerf() {
    perfLines = [];
    await context.printTimings();
    const text = perfLines.join("\n");
    const pr = /prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/.exec(text);
    const ev = /[^t] eval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(text);
    return {prompt_ms: pr ? Number(pr[1]) : NaN, prompt_tokens: pr ? Number(pr[2]) : 0,
            eval_ms: ev ? Number(ev[1]) : NaN, eval_runs: ev ? Number(ev[2]) : 0};
}
const model = await llama.loadModel({modelPath: opt.model, gpuLayers: 0, useMmap: true});
const ctxSize = Math.max(opt.p, opt.n) + 16;
const context = await model.createContext({contextSize: ctxSize, batchSize: Math.max(opt.p, 1),
                                           threads: opt.t, sequences: 1,
                                           performanceTracking: true});
const seq = context.getSequence();
const vocab = 32000; // both shapes have at least this many tokens

// Logits for the batch's last token, as llama-bench and `llmkit bench` compute
// them. evaluateWithoutGeneratingNewTokens asks for none, and then llama.cpp
// skips the output matrix (for Qwen2.5-0.5B F16, 272 MB of the ~990 MB a
// token reads), which made its tg figures look 1.3-1.4x faster than they are.
// The sampled token is thrown away; sampling is not in llama.cpp's eval timer.
function withLastLogits(toks) {
    return toks.map((t, i) => i === toks.length - 1 ? [t, {generateNext: {token: true}}] : t);
}

async function timePP() {
    await seq.clearHistory();
    const toks = tokens(opt.p, vocab);
    const t0 = process.hrtime.bigint();
    await seq.controlledEvaluate(withLastLogits(toks));
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function timeTG() {
    await seq.clearHistory();
    const toks = tokens(opt.n, vocab);
    const t0 = process.hrtime.bigint();
    for (const tok of toks) await seq.controlledEvaluate(withLastLogits([tok]));
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

for (const [name, n, fn, ms, count] of [
    [`pp${opt.p}`, opt.p, timePP, "prompt_ms", "prompt_tokens"],
    [`tg${opt.n}`, opt.n, timeTG, "eval_ms", "eval_runs"]]) {
    if (n <= 0) continue;
    await fn(); // warm-up
    await nativePerf(); // node-llama-cpp's printTimings also resets the counters
    const js = [], native = [];
    for (let i = 0; i < opt.r; i++) {
        const secs = await fn();
        // The counters were reset by the previous nativePerf: they cover this run.
        const perf = await nativePerf();
        js.push(n / secs);
        const runs = perf[count], runMs = perf[ms];
        if (process.env.LK_DEBUG) console.error(JSON.stringify(perf));
        // A count far from n means the timings could not be read: use the JS wall clock.
        native.push(runs >= n - 1 && runs <= n && runMs > 0 ? runs / (runMs / 1000) : n / secs);
    }
    const nat = stats(native), jst = stats(js);
    console.log(JSON.stringify({engine: "llama.cpp", model: opt.model, test: name, threads: opt.t,
                                avg_ts: nat.mean, stddev_ts: nat.sd, samples_ts: native,
                                js_avg_ts: jst.mean, js_samples_ts: js}));
}
await context.dispose();
await model.dispose();
await llama.dispose();
