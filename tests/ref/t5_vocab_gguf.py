#!/usr/bin/env python3
"""Writes a vocab-only GGUF for a T5 (Unigram) tokenizer.json, laid out as
llama.cpp's convert_hf_to_gguf.py (T5Model.set_vocab) and gguf-py write it:
tokenizer.ggml.model "t5", tokens / scores (float32) / token_type (int32),
add_space_prefix, remove_extra_whitespaces, precompiled_charsmap as a uint8
array, special ids and add_bos/add_eos. Written independently of llmkit's
own GGUF writer, so tests/e2e_tokenize.sh checks llmkit's reader against it.

usage: t5_vocab_gguf.py tokenizer.json out.gguf
"""
import base64
import json
import struct
import sys

# GGUF value types
U8, I32, U32, F32, BOOL, STR, ARR = 0, 5, 4, 6, 7, 8, 9
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED = 1, 2, 3, 4, 5


def gstr(s: bytes) -> bytes:
    return struct.pack("<Q", len(s)) + s


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return gstr(key.encode()) + struct.pack("<I", vtype) + payload


def arr(elem: int, items: list, fmt: str) -> bytes:
    head = struct.pack("<IQ", elem, len(items))
    if elem == STR:
        return head + b"".join(gstr(x) for x in items)
    return head + struct.pack("<%d%s" % (len(items), fmt), *items)


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    tj = json.load(open(src, encoding="utf-8"))
    model = tj["model"]
    unk = model["unk_id"]
    tokens = [p.encode() for p, _ in model["vocab"]]
    scores = [float(s) for _, s in model["vocab"]]
    types = [NORMAL] * len(tokens)
    for t in tj["added_tokens"]:
        i = t["id"]
        if i <= 2:  # T5's SentencePiece specials <pad> </s> <unk>
            types[i] = UNKNOWN if i == unk else CONTROL
        else:  # added_tokens.json: <extra_id_N>
            tokens[i], scores[i], types[i] = t["content"].encode(), -1000.0, USER_DEFINED
    charsmap = base64.b64decode(tj["normalizer"]["precompiled_charsmap"])
    pre = tj["pre_tokenizer"]["pretokenizers"]
    remove_ws = any(p["type"] == "WhitespaceSplit" for p in pre)
    prefix = any(p["type"] == "Metaspace" and p.get("add_prefix_space", True) for p in pre)

    kvs = [
        kv("general.architecture", STR, gstr(b"t5")),
        kv("tokenizer.ggml.model", STR, gstr(b"t5")),
        kv("tokenizer.ggml.pre", STR, gstr(b"default")),
        kv("tokenizer.ggml.tokens", ARR, arr(STR, tokens, "")),
        kv("tokenizer.ggml.scores", ARR, arr(F32, scores, "f")),
        kv("tokenizer.ggml.token_type", ARR, arr(I32, types, "i")),
        kv("tokenizer.ggml.add_space_prefix", BOOL, struct.pack("<?", prefix)),
        kv("tokenizer.ggml.remove_extra_whitespaces", BOOL, struct.pack("<?", remove_ws)),
        kv("tokenizer.ggml.precompiled_charsmap", ARR, struct.pack("<IQ", U8, len(charsmap)) + charsmap),
        kv("tokenizer.ggml.eos_token_id", U32, struct.pack("<I", 1)),
        kv("tokenizer.ggml.unknown_token_id", U32, struct.pack("<I", unk)),
        kv("tokenizer.ggml.padding_token_id", U32, struct.pack("<I", 0)),
        kv("tokenizer.ggml.add_bos_token", BOOL, struct.pack("<?", False)),
        kv("tokenizer.ggml.add_eos_token", BOOL, struct.pack("<?", True)),
    ]
    with open(out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)))  # version, tensors, kvs
        f.write(b"".join(kvs))


if __name__ == "__main__":
    main()
