// Load generator for a running `llmkit serve` (or any OpenAI-compatible
// server): for each concurrency level it fires that many streamed requests
// at once (greedy, a fixed max_tokens) and prints the aggregate generated
// tokens per second and its ratio to a single stream. It starts nothing:
// bench/serve_load.sh starts a server and calls it.
//
//   node bench/serve_load.mjs --url http://127.0.0.1:8080
//        [--api completion|chat] [--concurrency 1,2,4,8] [--max-tokens 128]
//        [--rounds 2] [--prompt TEXT] [--api-key KEY] [--pid PID] [--json]
//
// With --pid (the server's process id, on this machine) it also reports the
// CPU time the server used per level, as generated tokens per CPU-second:
// on a busy shared machine wall-clock rates are noise, CPU time much less.
//
// Node 20, plain fetch; no npm packages. Tokens are counted from the usage
// chunk (stream_options.include_usage), or, if the server sends none, as
// one per content chunk. Each level runs --rounds times after a warm-up;
// the best round is reported (the machine is shared, noise only slows).
import { readFileSync } from 'node:fs';
import process from 'node:process';

function parseArgs(argv) {
    const a = {
        url: 'http://127.0.0.1:8080', api: 'completion', concurrency: [1, 2, 4, 8],
        maxTokens: 128, rounds: 2, apiKey: process.env.LLMKIT_API_KEY || '', json: false,
        prompt: 'Once upon a time, in a small village by the sea, there lived',
    };
    for (let i = 2; i < argv.length; i++) {
        const o = argv[i], v = argv[i + 1];
        const need = () => {
            if (v === undefined) throw new Error(`${o} needs a value`);
            i++;
            return v;
        };
        if (o === '--url') a.url = need().replace(/\/+$/, '');
        else if (o === '--api') a.api = need();
        else if (o === '--concurrency') a.concurrency = need().split(',').map(Number);
        else if (o === '--max-tokens') a.maxTokens = Number(need());
        else if (o === '--rounds') a.rounds = Number(need());
        else if (o === '--prompt') a.prompt = need();
        else if (o === '--api-key') a.apiKey = need();
        else if (o === '--pid') a.pid = Number(need());
        else if (o === '--json') a.json = true;
        else if (o === '-h' || o === '--help') {
            console.log('usage: node bench/serve_load.mjs --url URL [--api completion|chat] ' +
                '[--concurrency 1,2,4,8] [--max-tokens N] [--rounds N] [--prompt TEXT] ' +
                '[--api-key KEY] [--pid PID] [--json]');
            process.exit(0);
        } else throw new Error(`unknown argument ${o} (see --help)`);
    }
    if (!['completion', 'chat'].includes(a.api)) throw new Error('--api is completion or chat');
    if (a.concurrency.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('bad --concurrency');
    if (!(a.maxTokens > 0) || !(a.rounds > 0)) throw new Error('--max-tokens and --rounds must be > 0');
    return a;
}

// One streamed request. Resolves to {tokens, ttft_s, total_s}.
async function streamOne(a, id) {
    const path = a.api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    // A distinct tail per stream, so no two requests are the same prompt.
    const prompt = `${a.prompt} (${id})`;
    const body = {
        model: 'bench', stream: true, stream_options: { include_usage: true },
        max_tokens: a.maxTokens, temperature: 0, seed: 1,
    };
    if (a.api === 'chat') body.messages = [{ role: 'user', content: prompt }];
    else body.prompt = prompt;
    const headers = { 'Content-Type': 'application/json' };
    if (a.apiKey) headers.Authorization = `Bearer ${a.apiKey}`;
    const t0 = performance.now();
    const res = await fetch(a.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buf = '', chunks = 0, usageTokens = -1, ttft = -1, done = false;
    for await (const part of res.body) {
        buf += decoder.decode(part, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n\n')) >= 0) {
            const event = buf.slice(0, nl);
            buf = buf.slice(nl + 2);
            for (const line of event.split('\n')) {
                if (!line.startsWith('data:')) continue;
                const data = line.slice(5).trim();
                if (data === '[DONE]') { done = true; continue; }
                const j = JSON.parse(data);
                if (j.error) throw new Error(`${path}: ${JSON.stringify(j.error)}`);
                if (j.usage && j.usage.completion_tokens !== undefined) usageTokens = j.usage.completion_tokens;
                for (const c of j.choices || []) {
                    const text = a.api === 'chat' ? c.delta && c.delta.content : c.text;
                    if (text) {
                        chunks++;
                        if (ttft < 0) ttft = (performance.now() - t0) / 1000;
                    }
                }
            }
        }
    }
    if (!done) throw new Error(`${path}: the stream ended without [DONE]`);
    return { tokens: usageTokens >= 0 ? usageTokens : chunks, ttft_s: ttft, total_s: (performance.now() - t0) / 1000 };
}

// User + system CPU seconds of a process so far (Linux /proc), or NaN.
function cpuSeconds(pid) {
    if (!pid) return NaN;
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
    } catch {
        return NaN;
    }
}

async function level(a, c, round) {
    const cpu0 = cpuSeconds(a.pid);
    const t0 = performance.now();
    const runs = await Promise.all(Array.from({ length: c }, (_, i) => streamOne(a, `${c}.${round}.${i}`)));
    const wall = (performance.now() - t0) / 1000;
    const tokens = runs.reduce((s, r) => s + r.tokens, 0);
    const ttft = runs.reduce((s, r) => s + Math.max(r.ttft_s, 0), 0) / runs.length;
    const cpu = cpuSeconds(a.pid) - cpu0;
    return { concurrency: c, tokens, wall_s: wall, tokens_per_s: tokens / wall, mean_ttft_s: ttft,
        cpu_s: cpu, tokens_per_cpu_s: tokens / cpu };
}

async function main() {
    const a = parseArgs(process.argv);
    await streamOne(a, 'warm-up');
    const results = [];
    for (const c of a.concurrency) {
        let best = null;
        for (let r = 0; r < a.rounds; r++) {
            const x = await level(a, c, r);
            if (!best || x.tokens_per_s > best.tokens_per_s) best = x;
        }
        results.push(best);
    }
    const base = results.find((r) => r.concurrency === 1);
    for (const r of results) {
        r.ratio_to_1 = base ? r.tokens_per_s / base.tokens_per_s : null;
        r.cpu_ratio_to_1 = base && a.pid ? r.tokens_per_cpu_s / base.tokens_per_cpu_s : null;
    }
    if (a.json) {
        for (const r of results) console.log(JSON.stringify({ api: a.api, max_tokens: a.maxTokens, ...r }));
        return;
    }
    console.log(`${a.url} ${a.api}, max_tokens ${a.maxTokens}, greedy, best of ${a.rounds} round(s)`);
    const cpuCols = a.pid ? '  server CPU s  tokens/CPU s  x 1 stream' : '';
    console.log(`streams  tokens   wall s  tokens/s  x 1 stream  mean TTFT s${cpuCols}`);
    for (const r of results) {
        let line = `${String(r.concurrency).padStart(7)}  ${String(r.tokens).padStart(6)}  ` +
            `${r.wall_s.toFixed(2).padStart(7)}  ${r.tokens_per_s.toFixed(1).padStart(8)}  ` +
            `${(r.ratio_to_1 === null ? '-' : r.ratio_to_1.toFixed(2)).padStart(10)}  ` +
            `${r.mean_ttft_s.toFixed(3).padStart(11)}`;
        if (a.pid) {
            line += `  ${r.cpu_s.toFixed(2).padStart(12)}  ${r.tokens_per_cpu_s.toFixed(1).padStart(12)}  ` +
                `${(r.cpu_ratio_to_1 === null ? '-' : r.cpu_ratio_to_1.toFixed(2)).padStart(10)}`;
        }
        console.log(line);
    }
}

main().catch((e) => {
    console.error(`serve_load: ${e.message}`);
    process.exit(1);
});
