#!/usr/bin/env python3
"""Per-tensor types llama.cpp's llama_model_quantize picks for the K mixes.

Writes two small random-weight llama GGUFs (shapes below), quantizes each
with libllama from the npm package @node-llama-cpp/linux-x64@3.21.1 for every
mix, and records the type each tensor got in mix_types.txt, one line per tensor whose type is not the mix's default
type (norm vectors, never quantized, are left out):
    <model> <mix> <tensor name> <ggml type name>

Model "a": 12 layers, n_embd 256, 4 heads, 1 kv head (n_gqa 4), n_ff 512,
separate output.weight. Model "b": 8 layers, n_embd 256, 4 heads, 4 kv heads,
n_ff 320 (ffn_down rows not a multiple of 256: fallback types), tied
embeddings (no output.weight).

Usage: python3 make_mix_golden.py package/bins/linux-x64
"""
import ctypes
import os
import struct
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# llama_ftype values (llama.h)
MIXES = [("q4_0", 2, "q4_0"), ("q4_1", 3, "q4_1"), ("q8_0", 7, "q8_0"), ("q5_0", 8, "q5_0"),
         ("q5_1", 9, "q5_1"), ("q2_k", 10, "q2_k"), ("q3_k_s", 11, "q3_k"), ("q3_k_m", 12, "q3_k"),
         ("q3_k_l", 13, "q3_k"), ("q4_k_s", 14, "q4_k"), ("q4_k_m", 15, "q4_k"),
         ("q5_k_s", 16, "q5_k"), ("q5_k_m", 17, "q5_k"), ("q6_k", 18, "q6_k")]
TYPE_NAMES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0",
              10: "q2_k", 11: "q3_k", 12: "q4_k", 13: "q5_k", 14: "q6_k", 20: "iq4_nl"}


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_model(path, n_layer, n_embd, n_head, n_head_kv, n_ff, vocab, tied):
    rng = np.random.default_rng(n_layer)
    hd = n_embd // n_head
    tensors = [("token_embd.weight", (n_embd, vocab)), ("output_norm.weight", (n_embd,))]
    if not tied:
        tensors.append(("output.weight", (n_embd, vocab)))
    for i in range(n_layer):
        p = "blk.%d." % i
        tensors += [(p + "attn_norm.weight", (n_embd,)), (p + "attn_q.weight", (n_embd, n_embd)),
                    (p + "attn_k.weight", (n_embd, hd * n_head_kv)),
                    (p + "attn_v.weight", (n_embd, hd * n_head_kv)),
                    (p + "attn_output.weight", (n_embd, n_embd)), (p + "ffn_norm.weight", (n_embd,)),
                    (p + "ffn_gate.weight", (n_embd, n_ff)), (p + "ffn_up.weight", (n_embd, n_ff)),
                    (p + "ffn_down.weight", (n_ff, n_embd))]
    kv = [("general.architecture", 8, gguf_str("llama")),
          ("llama.context_length", 4, struct.pack("<I", 256)),
          ("llama.embedding_length", 4, struct.pack("<I", n_embd)),
          ("llama.feed_forward_length", 4, struct.pack("<I", n_ff)),
          ("llama.attention.head_count", 4, struct.pack("<I", n_head)),
          ("llama.attention.head_count_kv", 4, struct.pack("<I", n_head_kv)),
          ("llama.block_count", 4, struct.pack("<I", n_layer)),
          ("llama.rope.dimension_count", 4, struct.pack("<I", hd)),
          ("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
          ("llama.vocab_size", 4, struct.pack("<I", vocab)),
          ("general.file_type", 4, struct.pack("<I", 0))]
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for k, t, v in kv:
        out += gguf_str(k) + struct.pack("<I", t) + v
    datas, off = [], 0
    for name, ne in tensors:
        out += gguf_str(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        out += struct.pack("<IQ", 0, off)
        d = (rng.standard_normal(int(np.prod(ne))) * 0.02).astype(np.float32).tobytes()
        datas.append(d)
        off += (len(d) + 31) // 32 * 32
    out += bytes((-len(out)) % 32)
    for d in datas:
        out += d + bytes((-len(d)) % 32)
    open(path, "wb").write(out)


def read_types(path):
    f = open(path, "rb")
    f.read(4)
    _, nt, nkv = struct.unpack("<IQQ", f.read(20))

    def rstr():
        n, = struct.unpack("<Q", f.read(8))
        return f.read(n).decode()

    def skip(t):
        sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
        if t in sizes:
            f.read(sizes[t])
        elif t == 8:
            rstr()
        else:
            et, n = struct.unpack("<IQ", f.read(12))
            for _ in range(n):
                skip(et)
    for _ in range(nkv):
        rstr()
        t, = struct.unpack("<I", f.read(4))
        skip(t)
    types = []
    for _ in range(nt):
        name = rstr()
        nd, = struct.unpack("<I", f.read(4))
        f.read(8 * nd)
        t, _ = struct.unpack("<IQ", f.read(12))
        types.append((name, TYPE_NAMES.get(t, str(t))))
    return types


def main():
    libdir = sys.argv[1]
    lib = ctypes.CDLL(os.path.join(libdir, "libllama.v0.4.0.so"))
    lib.llama_backend_init()

    class Params(ctypes.Structure):  # only nthread and ftype (the first two fields) are set
        _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int32),
                    ("rest", ctypes.c_uint8 * 248)]
    lib.llama_model_quantize_default_params.restype = Params
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(Params)]
    lines = ["# model mix tensor type  (written by make_mix_golden.py)"]
    with tempfile.TemporaryDirectory() as tmp:
        models = {"a": (12, 256, 4, 1, 512, 256, False), "b": (8, 256, 4, 4, 320, 256, True)}
        for mname, shape in models.items():
            src = os.path.join(tmp, mname + ".gguf")
            write_model(src, *shape)
            for mix, ftype, default in MIXES:
                dst = os.path.join(tmp, "%s-%s.gguf" % (mname, mix))
                p = lib.llama_model_quantize_default_params()
                p.nthread = 1
                p.ftype = ftype
                rc = lib.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
                assert rc == 0, (mname, mix, rc)
                for name, t in read_types(dst):
                    if t == default or name.endswith("_norm.weight"):
                        continue
                    lines.append("%s %s %s %s" % (mname, mix, name, t))
    open(os.path.join(HERE, "mix_types.txt"), "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
