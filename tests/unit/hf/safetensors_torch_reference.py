"""Reference data from torch for the safetensors tests (safetensors_torch_test.cpp).

usage: safetensors_torch_reference.py <folder>

Reads <folder>/inputs.f32 (float32 values chosen by the test) and writes, all little-endian:
  to_bf16.u16, to_f16.u16      torch's rounding of every input to bfloat16 / float16
  from_bf16.f32, from_f16.f32  torch's widening of all 65536 bit patterns of each 16-bit type
  python.safetensors           a file written by the tiny writer below (struct + json: Debian has
                               no safetensors package), one tensor of every dtype mpitune reads
  tensors.json                 those tensors: name -> dtype, shape, raw bytes file, and for float
                               types a file of their values as torch's .float() gives them
Exits 77 when torch cannot be imported.
"""
import json
import os
import struct
import sys

try:
    import numpy
    import torch
except ImportError:
    sys.exit(77)

out = sys.argv[1]


def path(name):
    return os.path.join(out, name)


def raw(t):
    # The bytes of a tensor, whatever its dtype (numpy has no bfloat16: view it as int16).
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


with open(path("inputs.f32"), "rb") as f:
    inputs = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
with open(path("to_bf16.u16"), "wb") as f:
    f.write(raw(inputs.to(torch.bfloat16)))
with open(path("to_f16.u16"), "wb") as f:
    f.write(raw(inputs.to(torch.float16)))

# Element i is bit pattern i.
patterns = torch.from_numpy(numpy.arange(65536, dtype=numpy.uint16).view(numpy.int16))
with open(path("from_bf16.f32"), "wb") as f:
    f.write(raw(patterns.view(torch.bfloat16).to(torch.float32)))
with open(path("from_f16.f32"), "wb") as f:
    f.write(raw(patterns.view(torch.float16).to(torch.float32)))

# One tensor of each dtype, in this order in the file.
g = torch.Generator().manual_seed(1234)
base = torch.randn(3, 5, generator=g) * 100
tensors = [
    ("blocks.0.w_f32", "F32", base.clone()),
    ("blocks.0.w_bf16", "BF16", base.to(torch.bfloat16)),
    ("blocks.0.w_f16", "F16", (base / 10).to(torch.float16)),
    ("blocks.0.w_f64", "F64", base.to(torch.float64) / 3),
    ("ids_i64", "I64", torch.tensor([-(2**40), -1, 0, 7, 2**50], dtype=torch.int64)),
    ("ids_i32", "I32", torch.tensor([[-(2**30), 3], [9, 2**30]], dtype=torch.int32)),
    ("ids_i16", "I16", torch.tensor([-300, 5, 32767], dtype=torch.int16)),
    ("ids_i8", "I8", torch.tensor([-128, -1, 0, 127], dtype=torch.int8)),
    ("bytes_u8", "U8", torch.tensor([0, 1, 200, 255, 77], dtype=torch.uint8)),
    ("mask", "BOOL", torch.tensor([True, False, False, True, True, False, True], dtype=torch.bool)),
    ("scalar", "F32", torch.tensor(2.5)),
    ("empty", "F16", torch.zeros(0, 4, dtype=torch.float16)),
]

header = {"__metadata__": {"format": "pt"}}
offset = 0
manifest = {}
data = b""
for name, dtype, t in tensors:
    b = raw(t)
    header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    data += b
    entry = {"dtype": dtype, "shape": list(t.shape), "raw": name + ".raw"}
    with open(path(name + ".raw"), "wb") as f:
        f.write(b)
    if t.is_floating_point():
        entry["f32"] = name + ".f32"
        with open(path(name + ".f32"), "wb") as f:
            f.write(raw(t.float()))
    manifest[name] = entry
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
with open(path("python.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
with open(path("tensors.json"), "w") as f:
    json.dump({"order": [n for n, _, _ in tensors], "tensors": manifest}, f)
