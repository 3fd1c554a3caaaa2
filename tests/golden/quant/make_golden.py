#!/usr/bin/env python3
"""Golden data for tests/test_quant.c, written by llama.cpp itself.

Loads libggml-base.so from the npm package @node-llama-cpp/linux-x64 (pinned
below) with ctypes and records, for a fixed set of input floats:
  - the bytes ggml_quantize_chunk writes for each type without an importance
    matrix (what `llama-quantize` writes; F16 and BF16 included), or
    quantize_row_*_ref for the activation types Q8_1 and Q8_K;
  - an FNV-1a 64 hash of the floats dequantize_row_* gives back for those
    bytes and for random blocks (random quants, sane random scales).

Usage:
  npm pack @node-llama-cpp/linux-x64@3.21.1 && tar xzf node-llama-cpp-linux-x64-3.21.1.tgz
  python3 make_golden.py package/bins/linux-x64/libggml-base.so
Writes input.f32, <type>.bin, random_<type>.bin and manifest.txt next to this script.
"""
import ctypes
import os
import random
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
QK_K = 256
N_PER_ROW = 512
N_ROWS = 5  # 2560 floats: 10 super-blocks, 80 legacy blocks

# name, ggml type id, block size, block bytes, offsets of f16 fields
TYPES = [
    ("f16", 1, 1, 2, []),
    ("bf16", 30, 1, 2, []),
    ("q4_0", 2, 32, 18, [0]),
    ("q4_1", 3, 32, 20, [0, 2]),
    ("q5_0", 6, 32, 22, [0]),
    ("q5_1", 7, 32, 24, [0, 2]),
    ("q8_0", 8, 32, 34, [0]),
    ("q8_1", 9, 32, 36, [0, 2]),
    ("q2_k", 10, 256, 84, [80, 82]),
    ("q3_k", 11, 256, 110, [108]),
    ("q4_k", 12, 256, 144, [0, 2]),
    ("q5_k", 13, 256, 176, [0, 2]),
    ("q6_k", 14, 256, 210, [208]),
    ("q8_k", 15, 256, 292, []),  # float d at 0
]
NO_DEQUANT = {"q8_1"}          # ggml has no dequantize_row_q8_1
ROW_REF_ONLY = {"q8_1", "q8_k"}  # activation types: quantize_row_*_ref


def inputs():
    """Ten super-blocks, each a different kind of data."""
    rng = np.random.default_rng(20261128)
    b = []
    b.append(rng.standard_normal(QK_K) * 0.02)                 # typical weights
    x = rng.standard_normal(QK_K) * 0.02
    x[rng.integers(0, QK_K, 6)] *= 40                          # with outliers
    b.append(x)
    b.append(rng.uniform(-1, 1, QK_K))                         # uniform
    b.append(np.zeros(QK_K))                                   # all zero
    b.append(np.full(QK_K, 0.5))                               # constant
    b.append(rng.standard_normal(QK_K) * 3e3)                  # huge (scales stay finite in f16)
    b.append(rng.standard_normal(QK_K) * 1e-5)                 # tiny (f16 scales subnormal)
    b.append(rng.uniform(0.1, 1.0, QK_K))                      # all positive
    x = np.zeros(QK_K)
    x[rng.integers(0, QK_K, 20)] = rng.standard_normal(20)     # sparse
    b.append(x)
    b.append(np.full(QK_K, -2.0) + np.repeat(rng.standard_normal(16) * 0.1, 16))  # stepwise
    return np.concatenate(b).astype(np.float32)


def random_blocks(name, bs, size, f16_offsets, nblocks=8):
    rnd = random.Random("llmkit-" + name)
    if name in ("f16", "bf16"):  # 256 random finite values (no NaN/inf payload questions)
        vals = []
        while len(vals) < 256:
            h = rnd.getrandbits(16)
            if (name == "f16" and (h >> 10) & 0x1f != 0x1f) or (name == "bf16" and (h >> 7) & 0xff != 0xff):
                vals.append(h)
        return struct.pack("<256H", *vals)
    out = bytearray()
    for _ in range(nblocks):
        blk = bytearray(rnd.getrandbits(8) for _ in range(size))
        for off in f16_offsets:  # finite halves in [2^-14, 2^2), either sign
            h = (rnd.getrandbits(1) << 15) | (rnd.randint(1, 16) << 10) | rnd.getrandbits(10)
            blk[off:off + 2] = struct.pack("<H", h)
        if name == "q8_k":
            blk[0:4] = struct.pack("<f", rnd.uniform(-0.01, 0.01))
        out += blk
    return bytes(out)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for c in data:
        h ^= c
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
    x = inputs()
    x.tofile(os.path.join(HERE, "input.f32"))
    n = x.size
    manifest = ["# type  quantized-bytes  fnv1a64(dequant of it)  random-bytes  fnv1a64(dequant of random)"]
    for name, tid, bs, size, f16s in TYPES:
        nbytes = n // bs * size
        q = ctypes.create_string_buffer(nbytes)
        if name in ROW_REF_ONLY:
            getattr(lib, "quantize_row_%s_ref" % name.replace("_k", "_K"))(
                x.ctypes.data_as(ctypes.c_void_p), q, ctypes.c_int64(n))
        else:
            got = lib.ggml_quantize_chunk(tid, x.ctypes.data, q, 0, N_ROWS, N_PER_ROW, None)
            assert got == nbytes, (name, got, nbytes)
        qb = bytes(q.raw[:nbytes])
        if name == "q8_k":  # bsums are left unset for all-zero blocks: zero them
            qb = bytearray(qb)
            for blk in range(n // bs):
                if struct.unpack_from("<f", qb, blk * size)[0] == 0.0:
                    qb[blk * size + 260:blk * size + 292] = bytes(32)
            qb = bytes(qb)
        open(os.path.join(HERE, name + ".bin"), "wb").write(qb)
        rb = random_blocks(name, bs, size, f16s)
        open(os.path.join(HERE, "random_" + name + ".bin"), "wb").write(rb)
        if name in NO_DEQUANT:
            manifest.append("%s %d - %d -" % (name, nbytes, len(rb)))
            continue
        deq = {"f16": lib.ggml_fp16_to_fp32_row, "bf16": lib.ggml_bf16_to_fp32_row}.get(name) or \
            getattr(lib, "dequantize_row_%s" % name.replace("_k", "_K"))
        out = np.zeros(n, dtype=np.float32)
        deq(ctypes.c_char_p(qb), out.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(n))
        h1 = fnv1a64(out.tobytes())
        nr = len(rb) // size * bs
        out2 = np.zeros(nr, dtype=np.float32)
        deq(ctypes.c_char_p(rb), out2.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(nr))
        h2 = fnv1a64(out2.tobytes())
        manifest.append("%s %d %016x %d %016x" % (name, nbytes, h1, len(rb), h2))
    open(os.path.join(HERE, "manifest.txt"), "w").write("\n".join(manifest) + "\n")
    print("\n".join(manifest))


if __name__ == "__main__":
    main()
