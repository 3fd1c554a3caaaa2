// Writes a small random-weight Hugging Face model folder (config.json,
// model.safetensors in F32, the tokenizer files copied from TOKDIR) for
// tests/e2e_llamacpp_interop.sh, which converts it with `llmkit convert`.
//
//   node make_hf.mjs llama|qwen2 TOKDIR OUTDIR [--vocab N] [--seed S]
//
// Shapes are small but K-quant friendly: hidden 256, ffn 512 (rows are
// multiples of 256), 2 layers, 4 heads of 64, 2 KV heads (GQA). llama has a
// separate lm_head, qwen2 ties it to the embeddings and has q/k/v biases.
// Weights are uniform noise scaled so that the logits spread widely (a
// standard deviation of a few units): greedy picks are then far from ties,
// and both engines must agree on them.
import {copyFileSync, existsSync, mkdirSync, writeFileSync} from "node:fs";
import {join} from "node:path";

const [arch, tokDir, outDir, ...rest] = process.argv.slice(2);
if (!["llama", "qwen2"].includes(arch) || !tokDir || !outDir)
    throw new Error("usage: make_hf.mjs llama|qwen2 TOKDIR OUTDIR [--vocab N] [--seed S]");
let vocab = 0, seed = 1234;
for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--vocab") vocab = Number(rest[++i]);
    else if (rest[i] === "--seed") seed = Number(rest[++i]);
    else throw new Error(`unknown argument ${rest[i]}`);
}
if (!vocab) throw new Error("--vocab N is needed (the tokenizer's size or more)");

const H = 256, FF = 512, L = 2, NH = 4, NKV = 2, HD = H / NH;
const qwen = arch === "qwen2";

// xorshift32: fixed seed, same weights every run.
let s = seed >>> 0 || 1;
function uniform(a) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s / 4294967296 * 2 - 1) * a;
}

const tensors = [];
function add(name, shape, a, constant) {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = constant !== undefined ? constant + uniform(a) : uniform(a);
    tensors.push({name, shape, data});
}
// Tied (qwen2): small embeddings, so that the layers' output outweighs the
// input token's own embedding (else each token predicts itself), and a large
// final norm to spread the logits again.
add("model.embed_tokens.weight", [vocab, H], qwen ? 0.05 : 1.0);
for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    add(p + "input_layernorm.weight", [H], 0.1, 1.0);
    add(p + "post_attention_layernorm.weight", [H], 0.1, 1.0);
    add(p + "self_attn.q_proj.weight", [NH * HD, H], 0.15);
    add(p + "self_attn.k_proj.weight", [NKV * HD, H], 0.15);
    add(p + "self_attn.v_proj.weight", [NKV * HD, H], 0.1);
    add(p + "self_attn.o_proj.weight", [H, NH * HD], 0.05);
    if (qwen) {
        add(p + "self_attn.q_proj.bias", [NH * HD], 0.1);
        add(p + "self_attn.k_proj.bias", [NKV * HD], 0.1);
        add(p + "self_attn.v_proj.bias", [NKV * HD], 0.1);
    }
    add(p + "mlp.gate_proj.weight", [FF, H], 0.1);
    add(p + "mlp.up_proj.weight", [FF, H], 0.1);
    add(p + "mlp.down_proj.weight", [H, FF], 0.05);
}
add("model.norm.weight", [H], qwen ? 2.0 : 0.1, qwen ? 20.0 : 1.0);
// Logits with a standard deviation of about 9 either way.
if (!qwen) add("lm_head.weight", [vocab, H], 1.0);

// safetensors: u64 header length, JSON header, raw little-endian data.
const header = {};
let off = 0;
for (const t of tensors) {
    header[t.name] = {dtype: "F32", shape: t.shape, data_offsets: [off, off + t.data.byteLength]};
    off += t.data.byteLength;
}
let json = JSON.stringify(header);
json += " ".repeat((8 - (json.length % 8)) % 8);
const head = Buffer.alloc(8);
head.writeBigUInt64LE(BigInt(json.length));
mkdirSync(outDir, {recursive: true});
writeFileSync(join(outDir, "model.safetensors"),
              Buffer.concat([head, Buffer.from(json, "utf8"),
                             ...tensors.map(t => Buffer.from(t.data.buffer))]));

const config = qwen
    ? {architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", hidden_size: H, intermediate_size: FF,
       num_hidden_layers: L, num_attention_heads: NH, num_key_value_heads: NKV, vocab_size: vocab,
       max_position_embeddings: 4096, rms_norm_eps: 1e-6, rope_theta: 1000000.0, hidden_act: "silu",
       tie_word_embeddings: true, bos_token_id: 2000, eos_token_id: 2000, torch_dtype: "float32"}
    : {architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: H, intermediate_size: FF,
       num_hidden_layers: L, num_attention_heads: NH, num_key_value_heads: NKV, vocab_size: vocab,
       max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000.0, hidden_act: "silu",
       tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2, torch_dtype: "float32"};
writeFileSync(join(outDir, "config.json"), JSON.stringify(config, null, 2) + "\n");

// The tokenizer: TOKDIR/tokenizer.json (+ tokenizer_config.json), or a
// tokenizer.json file given directly.
const tokJson = existsSync(join(tokDir, "tokenizer.json")) ? join(tokDir, "tokenizer.json") : tokDir;
copyFileSync(tokJson, join(outDir, "tokenizer.json"));
if (existsSync(join(tokDir, "tokenizer_config.json")))
    copyFileSync(join(tokDir, "tokenizer_config.json"), join(outDir, "tokenizer_config.json"));
