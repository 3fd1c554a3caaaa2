#!/usr/bin/python3
"""Independent PyTorch reference for llmkit's decoder forward pass.

Builds small random-weight models (llama, mistral, qwen2, qwen3, gemma,
gemma2, phi3, gpt2), runs them with the equations of HF transformers' modeling_*.py
written out here from scratch (full causal attention over the whole
sequence, no KV cache), and writes golden files that tests/test_forward_ref.c
compares llmkit against:

  tests/golden/<name>.json    HF-style config, seed, prompt, 32 greedy tokens
  tests/golden/<name>.logits  "LKLOGIT1", u32 rows, u32 vocab, then
                              f32 little-endian logits[rows][vocab] for every
                              position of the 64-token prompt

Weights are not stored: both sides generate them from the same tiny PRNG
(splitmix64 keyed by FNV-1a of the tensor name, see weight()), so the
goldens stay a few tens of KB. Run: /usr/bin/python3 tests/ref/llama_ref.py
(needs Debian's python3-torch; CI only reads the committed goldens).
"""
import json
import math
import os
import struct
import sys

import torch

MASK64 = (1 << 64) - 1
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden")
N_PROMPT = 64
N_GEN = 32


def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def uniform_stream(name, seed, n):
    """n floats, exactly k/2^23 - 1 for 24-bit k: uniform in [-1, 1)."""
    state = fnv1a64(name) ^ ((seed * 0x9E3779B97F4A7C15) & MASK64)
    out = []
    for _ in range(n):
        state, z = splitmix64(state)
        out.append((z >> 40) / 8388608.0 - 1.0)
    return torch.tensor(out, dtype=torch.float32)


def weight(name, seed, shape, scale, offset=0.0):
    """offset + u * scale in float32, same rounding as the C side."""
    n = 1
    for d in shape:
        n *= d
    u = uniform_stream(name, seed, n) * torch.tensor(scale, dtype=torch.float32)
    if offset:
        u = u + torch.tensor(offset, dtype=torch.float32)
    return u.reshape(shape)


def prompt_tokens(seed, vocab):
    state = fnv1a64("prompt") ^ ((seed * 0x9E3779B97F4A7C15) & MASK64)
    toks = []
    for _ in range(N_PROMPT):
        state, z = splitmix64(state)
        toks.append((z >> 33) % vocab)
    return toks


# ---------------------------------------------------------------- weights

def dims(cfg):
    """D, F, layers, H, Hkv, head_dim, eps under either naming (gpt2 has its own keys)."""
    if cfg["model_type"] == "gpt2":
        D = cfg["n_embd"]
        return (D, cfg.get("n_inner") or 4 * D, cfg["n_layer"], cfg["n_head"], cfg["n_head"],
                D // cfg["n_head"], cfg["layer_norm_epsilon"])
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    return (D, cfg["intermediate_size"], cfg["num_hidden_layers"], H, cfg["num_key_value_heads"],
            cfg.get("head_dim") or D // H, cfg["rms_norm_eps"])


def make_weights(cfg, seed):
    """Tensors keyed by llmkit's internal names (the seeds); the model below
    uses them under their HF roles. phi3 and gpt2 keep HF's fused q|k|v (and
    phi3's gate|up) as one tensor, as llama.cpp does."""
    D, F, L, H, Hkv, d, _ = dims(cfg)
    V = cfg["vocab_size"]
    mt = cfg["model_type"]
    gemma = mt in ("gemma", "gemma2")
    gpt2 = mt == "gpt2"
    norm_off = 0.0 if gemma else 1.0  # gemma stores w for (1 + w)
    w = {}

    def lin(name, out_f, in_f):
        w[name] = weight(name, seed, (out_f, in_f), 2.0 / math.sqrt(in_f))

    def vec(name, n, norm):
        w[name] = weight(name, seed, (n,), 0.2, norm_off if norm else 0.0)

    # Small embeddings: with tied weights a large input embedding would make
    # every token predict itself, and greedy decoding would test little.
    emb_scale = 0.05 if gemma else 0.4
    w["token_embd.weight"] = weight("token_embd.weight", seed, (V, D), emb_scale)
    if gpt2:
        w["position_embd.weight"] = weight("position_embd.weight", seed, (cfg["n_positions"], D), 0.4)
    for i in range(L):
        p = "blk.%d." % i
        vec(p + "attn_norm.weight", D, True)
        if gpt2:
            vec(p + "attn_norm.bias", D, False)
        if mt in ("phi3", "gpt2"):
            lin(p + "attn_qkv.weight", (H + 2 * Hkv) * d, D)
        else:
            lin(p + "attn_q.weight", H * d, D)
            lin(p + "attn_k.weight", Hkv * d, D)
            lin(p + "attn_v.weight", Hkv * d, D)
        lin(p + "attn_output.weight", D, H * d)
        if gpt2:
            vec(p + "attn_qkv.bias", (H + 2 * Hkv) * d, False)
            vec(p + "attn_output.bias", D, False)
        if mt == "qwen2" or cfg.get("attention_bias"):
            vec(p + "attn_q.bias", H * d, False)
            vec(p + "attn_k.bias", Hkv * d, False)
            vec(p + "attn_v.bias", Hkv * d, False)
        if cfg.get("attention_bias"):  # llama: o_proj has a bias too
            vec(p + "attn_output.bias", D, False)
        if cfg.get("mlp_bias"):
            vec(p + "ffn_gate.bias", F, False)
            vec(p + "ffn_up.bias", F, False)
            vec(p + "ffn_down.bias", D, False)
        if mt == "qwen3":
            vec(p + "attn_q_norm.weight", d, True)
            vec(p + "attn_k_norm.weight", d, True)
        if mt == "gemma2":
            vec(p + "post_attention_norm.weight", D, True)
            vec(p + "post_ffw_norm.weight", D, True)
        vec(p + "ffn_norm.weight", D, True)
        if gpt2:
            vec(p + "ffn_norm.bias", D, False)
            lin(p + "ffn_up.weight", F, D)
            vec(p + "ffn_up.bias", F, False)
            vec(p + "ffn_down.bias", D, False)
        elif mt == "phi3":
            lin(p + "ffn_up.weight", 2 * F, D)
        else:
            lin(p + "ffn_gate.weight", F, D)
            lin(p + "ffn_up.weight", F, D)
        lin(p + "ffn_down.weight", D, F)
    vec("output_norm.weight", D, True)
    if gpt2:
        vec("output_norm.bias", D, False)
    if not cfg.get("tie_word_embeddings", False):
        lin("output.weight", V, D)
    return w


# ---------------------------------------------------------------- HF equations

def rms_norm(x, w, eps, gemma):
    # LlamaRMSNorm / GemmaRMSNorm, in float32
    var = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(var + eps)
    return x * (1.0 + w) if gemma else w * x


def rope_inv_freq(cfg, d):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type") == "linear":
        inv = inv / rs["factor"]
    elif rs and rs.get("rope_type") == "llama3":
        # _compute_llama3_parameters
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def act_fn(cfg, x):
    name = cfg.get("hidden_activation") or cfg.get("hidden_act") or cfg.get("activation_function", "silu")
    if name == "silu":
        return torch.nn.functional.silu(x)
    if name in ("gelu_pytorch_tanh", "gelu_tanh", "gelu_new"):
        return torch.nn.functional.gelu(x, approximate="tanh")
    if name == "gelu":
        return torch.nn.functional.gelu(x)
    raise ValueError(name)


def norm(cfg, x, w, prefix, eps):
    mt = cfg["model_type"]
    if mt == "gpt2":
        return torch.nn.functional.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"],
                                              w[prefix + ".bias"], eps)
    return rms_norm(x, w[prefix + ".weight"], eps, mt in ("gemma", "gemma2"))


def forward(cfg, w, tokens):
    """Logits [T][V] for a whole sequence, attention over all earlier positions."""
    mt = cfg["model_type"]
    gemma = mt in ("gemma", "gemma2")
    D, F, L, H, Hkv, d, eps = dims(cfg)
    T = len(tokens)
    ids = torch.tensor(tokens)
    h = w["token_embd.weight"][ids]
    if gemma:
        h = h * torch.tensor(D ** 0.5, dtype=h.dtype)
    if mt == "gpt2":
        h = h + w["position_embd.weight"][torch.arange(T)]
    else:
        # rotary over the first rd dims of each head (phi3's partial_rotary_factor)
        rd = int(d * cfg.get("partial_rotary_factor", 1.0))
        inv = rope_inv_freq(cfg, rd)
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()  # [T][rd]
    if mt == "gemma2":
        scaling = cfg["query_pre_attn_scalar"] ** -0.5
    else:
        scaling = d ** -0.5
    i_idx = torch.arange(T).unsqueeze(1)
    j_idx = torch.arange(T).unsqueeze(0)
    for li in range(L):
        p = "blk.%d." % li
        res = h
        x = norm(cfg, h, w, p + "attn_norm", eps)
        if mt in ("phi3", "gpt2"):
            qkv = x @ w[p + "attn_qkv.weight"].T
            if mt == "gpt2":
                qkv = qkv + w[p + "attn_qkv.bias"]
            q, k, v = qkv.split([H * d, Hkv * d, Hkv * d], dim=-1)
        else:
            q = x @ w[p + "attn_q.weight"].T
            k = x @ w[p + "attn_k.weight"].T
            v = x @ w[p + "attn_v.weight"].T
        if mt == "qwen2" or cfg.get("attention_bias"):
            q = q + w[p + "attn_q.bias"]
            k = k + w[p + "attn_k.bias"]
            v = v + w[p + "attn_v.bias"]
        q = q.reshape(T, H, d).transpose(0, 1)  # [H][T][d]
        k = k.reshape(T, Hkv, d).transpose(0, 1)
        v = v.reshape(T, Hkv, d).transpose(0, 1)
        if mt == "qwen3":
            q = rms_norm(q, w[p + "attn_q_norm.weight"], eps, False)
            k = rms_norm(k, w[p + "attn_k_norm.weight"], eps, False)
        if mt != "gpt2":
            q = torch.cat((apply_rope(q[..., :rd], cos, sin), q[..., rd:]), dim=-1)
            k = torch.cat((apply_rope(k[..., :rd], cos, sin), k[..., rd:]), dim=-1)
        k = k.repeat_interleave(H // Hkv, dim=0)  # repeat_kv
        v = v.repeat_interleave(H // Hkv, dim=0)
        att = (q @ k.transpose(1, 2)) * scaling  # [H][T][T]
        if mt == "gemma2" and cfg.get("attn_logit_softcapping"):
            c = cfg["attn_logit_softcapping"]
            att = torch.tanh(att / c) * c
        allowed = j_idx <= i_idx
        window = cfg.get("sliding_window") or 0
        sliding = mt in ("mistral", "phi3") or (mt == "gemma2" and li % 2 == 0)
        if window and sliding:
            allowed = allowed & (j_idx > i_idx - window)
        att = att.masked_fill(~allowed, float("-inf"))
        att = torch.softmax(att, dim=-1)
        o = (att @ v).transpose(0, 1).reshape(T, H * d)
        o = o @ w[p + "attn_output.weight"].T
        if mt == "gpt2" or cfg.get("attention_bias"):
            o = o + w[p + "attn_output.bias"]
        if mt == "gemma2":
            o = rms_norm(o, w[p + "post_attention_norm.weight"], eps, True)
        h = res + o
        res = h
        x = norm(cfg, h, w, p + "ffn_norm", eps)
        if mt == "gpt2":
            m = act_fn(cfg, x @ w[p + "ffn_up.weight"].T + w[p + "ffn_up.bias"])
            m = m @ w[p + "ffn_down.weight"].T + w[p + "ffn_down.bias"]
        else:
            if mt == "phi3":
                gate, u = (x @ w[p + "ffn_up.weight"].T).chunk(2, dim=-1)
            else:
                gate, u = x @ w[p + "ffn_gate.weight"].T, x @ w[p + "ffn_up.weight"].T
                if cfg.get("mlp_bias"):
                    gate, u = gate + w[p + "ffn_gate.bias"], u + w[p + "ffn_up.bias"]
            m = (act_fn(cfg, gate) * u) @ w[p + "ffn_down.weight"].T
            if cfg.get("mlp_bias"):
                m = m + w[p + "ffn_down.bias"]
        if mt == "gemma2":
            m = rms_norm(m, w[p + "post_ffw_norm.weight"], eps, True)
        h = res + m
    h = norm(cfg, h, w, "output_norm", eps)
    out_w = w["token_embd.weight"] if cfg.get("tie_word_embeddings", False) else w["output.weight"]
    logits = h @ out_w.T
    if mt == "gemma2" and cfg.get("final_logit_softcapping"):
        c = cfg["final_logit_softcapping"]
        logits = torch.tanh(logits / c) * c
    return logits


# ---------------------------------------------------------------- models

# Special token ids are given explicitly: the HF defaults of some model
# types (phi3's pad 32000, gpt2's 50256) lie outside these small vocabularies.
TOKENS = dict(bos_token_id=1, eos_token_id=2, pad_token_id=0)
BASE = dict(hidden_size=64, intermediate_size=100, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=131, rms_norm_eps=1e-5, rope_theta=10000.0,
            max_position_embeddings=256, tie_word_embeddings=False, hidden_act="silu", **TOKENS)

MODELS = {
    # Llama 3.1-style rope scaling, with an original context small enough that
    # all three wavelength bands occur at head_dim 16.
    "llama": dict(BASE, model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=10000.0,
                  rope_scaling=dict(rope_type="llama3", factor=4.0, low_freq_factor=1.0,
                                    high_freq_factor=4.0, original_max_position_embeddings=16)),
    # MQA and a sliding window shorter than the prompt.
    "mistral": dict(BASE, model_type="mistral", architectures=["MistralForCausalLM"],
                    num_key_value_heads=1, sliding_window=24, rope_theta=1000000.0),
    # q/k/v biases, tied embeddings, linear rope scaling.
    "qwen2": dict(BASE, model_type="qwen2", architectures=["Qwen2ForCausalLM"], rms_norm_eps=1e-6,
                  tie_word_embeddings=True, rope_scaling=dict(rope_type="linear", factor=2.0)),
    # q/k RMSNorm, head_dim * heads != hidden size.
    "qwen3": dict(BASE, model_type="qwen3", architectures=["Qwen3ForCausalLM"], head_dim=32,
                  rms_norm_eps=1e-6, tie_word_embeddings=True),
    # (1 + w) norms, sqrt(D) embedding scale, GeGLU (tanh), tied.
    "gemma": dict(BASE, model_type="gemma", architectures=["GemmaForCausalLM"], head_dim=32,
                  num_key_value_heads=1, rms_norm_eps=1e-6, tie_word_embeddings=True,
                  hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh"),
    # soft-capping, post-norms, alternating sliding window, query_pre_attn_scalar.
    "gemma2": dict(BASE, model_type="gemma2", architectures=["Gemma2ForCausalLM"], head_dim=16,
                   rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="gelu_pytorch_tanh",
                   hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=24,
                   attn_logit_softcapping=50.0, final_logit_softcapping=30.0, sliding_window=20),
    # fused qkv and gate|up, partial rotary, a sliding window, untied.
    "phi3": dict(BASE, model_type="phi3", architectures=["Phi3ForCausalLM"], num_key_value_heads=4,
                 partial_rotary_factor=0.5, sliding_window=40, rope_theta=10000.0),
    # learned positions, LayerNorm with biases, fused qkv with bias, gelu_new, tied.
    "gpt2": dict(model_type="gpt2", architectures=["GPT2LMHeadModel"], n_embd=64, n_layer=2,
                 n_head=4, n_inner=100, n_positions=128, vocab_size=131, layer_norm_epsilon=1e-5,
                 activation_function="gelu_new", tie_word_embeddings=True, **TOKENS),
    # llama with attention_bias (q, k, v, o) and mlp_bias (gate, up, down).
    "llama_bias": dict(BASE, model_type="llama", architectures=["LlamaForCausalLM"],
                       attention_bias=True, mlp_bias=True),
}


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(MODELS)
    for i, name in enumerate(names):
        cfg = MODELS[name]
        seed = 1000 + list(MODELS).index(name)  # append new models: keeps the others' seeds
        w = make_weights(cfg, seed)
        prompt = prompt_tokens(seed, cfg["vocab_size"])
        with torch.no_grad():
            logits = forward(cfg, w, prompt)
            seq = list(prompt)
            for _ in range(N_GEN):
                seq.append(int(torch.argmax(forward(cfg, w, seq)[-1])))
        gen = seq[N_PROMPT:]
        doc = dict(name=name, seed=seed, config=cfg, prompt=prompt, greedy=gen,
                   logits_file=name + ".logits",
                   generator="tests/ref/llama_ref.py (torch %s)" % torch.__version__)
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        with open(os.path.join(OUT, name + ".logits"), "wb") as f:
            f.write(b"LKLOGIT1" + struct.pack("<II", logits.shape[0], logits.shape[1]))
            f.write(logits.contiguous().numpy().astype("<f4").tobytes())
        rng = float(logits.max() - logits.min())
        print("%s: range %.3f, greedy %s" % (name, rng, gen[:8]))


if __name__ == "__main__":
    main()
