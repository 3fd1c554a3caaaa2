// Turns the JSON lines bench/compare_llamacpp.sh collects into the markdown
// table of docs/performance.md.
//
//   node bench/compare_table.mjs RESULTS.jsonl
//
// Ratios are llmkit / llama.cpp (above 1: llmkit is faster). "roofline" is
// generation speed as a fraction of what this machine's read bandwidth
// allows: tokens/s x bytes of weights one token reads / bandwidth measured by
// membw at the same thread count.
import {readFileSync} from "node:fs";
import {basename} from "node:path";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim());
const recs = lines.map((l) => JSON.parse(l));
const machine = recs.find((x) => x.kind === "machine");
const models = new Map(recs.filter((x) => x.kind === "model").map((x) => [x.path, x]));
const bw = new Map(recs.filter((x) => x.kind === "membw").map((x) => [x.threads, x.read_gbs]));
const runs = recs.filter((x) => x.kind === "run");

const get = (path, t, engine, prefix) =>
    runs.find((x) => x.path === path && x.threads === t && x.engine === engine && x.test.startsWith(prefix));
const fmt = (x) => (x ? `${x.avg_ts.toFixed(1)} ± ${x.stddev_ts.toFixed(1)}` : "n/a");
const ratio = (a, b) => (a && b ? (a.avg_ts / b.avg_ts).toFixed(2) : "n/a");
const roof = (x, path, t) => {
    const m = models.get(path), g = bw.get(t);
    return x && m && g ? (x.avg_ts * m.read_bytes / (g * 1e9)).toFixed(2) : "n/a";
};

if (machine)
    console.log(`${machine.cpu}, ${machine.cpus} CPUs, load before ${machine.load_before}, ` +
                `${machine.date}, -r ${machine.r}`);
console.log(`read bandwidth (membw): ${[...bw].map(([t, g]) => `${t} thread(s) ${g.toFixed(1)} GB/s`).join(", ")}`);
console.log();
console.log(`| model | type | threads | pp${machine.p} llama.cpp | pp${machine.p} llmkit | pp ratio ` +
            `| tg${machine.n} llama.cpp | tg${machine.n} llmkit | tg ratio | tg roofline llama.cpp / llmkit | load |`);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
const seen = new Set();
for (const x of runs) {
    const key = `${x.path}|${x.threads}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const m = /^(.*)-([a-z0-9_]+)\.gguf$/.exec(basename(x.path));
    const lp = get(x.path, x.threads, "llama.cpp", "pp"), kp = get(x.path, x.threads, "llmkit", "pp");
    const lt = get(x.path, x.threads, "llama.cpp", "tg"), kt = get(x.path, x.threads, "llmkit", "tg");
    const loads = runs.filter((y) => y.path === x.path && y.threads === x.threads).map((y) => y.load);
    console.log(`| ${m ? m[1] : basename(x.path)} | ${m ? m[2] : "?"} | ${x.threads} | ${fmt(lp)} | ${fmt(kp)} | ` +
                `${ratio(kp, lp)} | ${fmt(lt)} | ${fmt(kt)} | ${ratio(kt, lt)} | ` +
                `${roof(lt, x.path, x.threads)} / ${roof(kt, x.path, x.threads)} | ${[...new Set(loads)].join(", ")} |`);
}
