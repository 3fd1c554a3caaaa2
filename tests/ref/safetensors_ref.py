#!/usr/bin/env python3
"""Independent safetensors writer for llmkit's reader test.

Writes tests/ref/safetensors_ref.safetensors using only json + struct (the
`safetensors` package is not installable here), following the format in the
HF safetensors README: u64 little-endian header length, JSON header, byte
buffer. Deliberately unlike llmkit's writer: the JSON is pretty-printed with
spaces, fields come in a different order, "__metadata__" comes last, the
header's tensor order differs from the data order, and the padding is
newlines and spaces. tests/test_safetensors.c checks the values listed in
EXPECTED below.

Run: /usr/bin/python3 tests/ref/safetensors_ref.py  (from the repo root)
"""
import json
import os
import struct

# name -> (dtype, shape, struct format per element, values)
TENSORS = [
    ("b.i64", "I64", [2, 3], "q", [-3, -2, -1, 0, 1, 2**40]),
    ("a.f32", "F32", [4], "f", [0.5, -1.25, 3.0e-5, 65504.0]),
    ("c.f16", "F16", [2, 2], "e", [1.0, -2.0, 0.333251953125, 65504.0]),
    ("d.u8", "U8", [3], "B", [0, 128, 255]),
    ("e.bool", "BOOL", [2], "?", [True, False]),
    ("f.bf16", "BF16", [2], "H", [0x3F80, 0x4049]),  # 1.0, 3.140625 as raw bits
    ("g.f64", "F64", [], "d", [2.718281828459045]),  # a scalar
    ("h.i8", "I8", [1, 2, 1], "b", [-128, 127]),
    ("中文.权重", "I32", [2], "i", [-7, 123456789]),
]

def main():
    data = b""
    header = {}
    # Data order is the list order; the header lists them reversed.
    for name, dtype, shape, fmt, values in TENSORS:
        blob = struct.pack("<%d%s" % (len(values), fmt), *values)
        header[name] = {"data_offsets": [len(data), len(data) + len(blob)], "shape": shape, "dtype": dtype}
        data += blob
    ordered = {k: header[k] for k in reversed(list(header))}
    ordered["__metadata__"] = {"source": "safetensors_ref.py", "语言": "中文"}
    text = json.dumps(ordered, indent=1, ensure_ascii=False).encode("utf-8")
    text += b"\n" + b" " * ((8 - (len(text) + 1) % 8) % 8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors_ref.safetensors")
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)
    print("wrote %s (%d bytes)" % (out, 8 + len(text) + len(data)))

if __name__ == "__main__":
    main()
