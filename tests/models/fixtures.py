"""The fixtures: tiny random-weight Hugging Face folders, their PEFT adapters, and a large one.

Every fixture is a folder as save_pretrained writes it (config.json, generation_config.json,
model.safetensors or shards + index) plus reference.safetensors: `tokens` I64 [2, 12] (seeded
random ids), `logits` F32 [2, 12, vocab] of reference_models in float32, `loss` F32 [] (mean
next-token cross-entropy). Every weight is random (norm weights around 1, biases non-zero) so a
wrong mapping cannot pass by accident; vocab sizes are not multiples of 64. Seeds are fixed per
fixture, so `make` writes the same bytes every time (on the same torch).
"""

import json
import math
import os
import shutil
import time

import numpy as np
import torch

import layouts
import reference_models
import safetensors_io as st

BATCH, SEQ = 2, 12

# name -> (seed, config_json kwargs, options). Options: dtype (F32 | BF16), shards,
# gpt2_prefix, gpt2_buffers.
MODELS = {
    "gpt2_prefixed_fp32": (11, dict(model_type="gpt2", vocab=397, hidden=48, layers=2, heads=4,
                                    max_positions=64, eps=1e-5, n_inner=None),
                           dict(dtype="F32", gpt2_prefix=True, gpt2_buffers=True)),
    "gpt2_bare_bf16": (12, dict(model_type="gpt2", vocab=331, hidden=32, layers=2, heads=2,
                                max_positions=48, eps=1e-5, n_inner=80),
                       dict(dtype="BF16", gpt2_prefix=False)),
    "llama_gqa_untied_fp32": (13, dict(model_type="llama", vocab=503, hidden=64, layers=2, heads=4,
                                       kv_heads=2, intermediate=160, max_positions=128, eps=1e-5,
                                       rope_theta=500000.0, tie=False),
                              dict(dtype="F32")),
    "llama_tied_bf16_sharded": (14, dict(model_type="llama", vocab=389, hidden=48, layers=2,
                                         heads=6, kv_heads=2, intermediate=128, max_positions=128,
                                         eps=1e-6, tie=True),
                                dict(dtype="BF16", shards=3)),
    "llama_headdim": (15, dict(model_type="llama", vocab=311, hidden=48, layers=2, heads=4,
                               head_dim=16, intermediate=96, max_positions=128, eps=1e-5,
                               tie=False, attention_bias=True),
                      dict(dtype="F32")),
    "qwen2_bias_fp32": (16, dict(model_type="qwen2", vocab=353, hidden=32, layers=2, heads=4,
                                 kv_heads=2, intermediate=88, max_positions=128, eps=1e-6,
                                 rope_theta=1000000.0, tie=True, sliding_window=128,
                                 bos=350, eos=[351, 352]),
                        dict(dtype="F32")),
    "mistral_fp32": (17, dict(model_type="mistral", vocab=419, hidden=32, layers=2, heads=4,
                              kv_heads=1, intermediate=96, max_positions=512, eps=1e-5,
                              rope_theta=1000000.0, tie=False, sliding_window=256),
                     dict(dtype="F32")),
    "llama_bytes_tiny": (18, dict(model_type="llama", vocab=256, hidden=64, layers=2, heads=4,
                                  kv_heads=2, intermediate=176, max_positions=256, eps=1e-5,
                                  tie=True),
                         dict(dtype="BF16")),
}

# name -> (seed, base fixture, target modules, r, alpha)
ADAPTERS = {
    "llama_lora_adapter": (21, "llama_gqa_untied_fp32",
                           ["q_proj", "k_proj", "v_proj", "o_proj"], 4, 8),
    "gpt2_lora_adapter": (22, "gpt2_prefixed_fp32", ["c_attn"], 4, 8),
}
ALL = list(MODELS) + list(ADAPTERS)


def model_config(name):
    _, kwargs, opts = MODELS[name]
    return layouts.config_json(dtype={"F32": "float32", "BF16": "bfloat16"}[opts["dtype"]],
                               **kwargs)


def random_tensor(shape, role, gen, embed_std=0.5):
    """A float32 tensor initialised for its role (see layouts.model_layout)."""
    if role == "mask":  # GPT-2's old causal buffer: ones on and below the diagonal
        return torch.ones(shape[-2:]).tril().reshape(shape)
    if role == "masked_bias":
        return torch.tensor(-1e4)
    x = torch.randn(shape, generator=gen)
    if role == "norm":
        return 1.0 + 0.1 * x
    if role == "bias":
        return 0.1 * x
    if role == "embed":
        return embed_std * x
    fan_in = shape[0] if role == "conv1d" else shape[1]
    return x / math.sqrt(fan_in)


def to_bytes(t, dtype):
    t = t.contiguous()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
    return {"F32": t.float(), "I64": t.long()}[dtype].numpy().tobytes()


def from_bytes(dtype, shape, data):
    if dtype == "BF16":
        bits = torch.from_numpy(np.frombuffer(data, np.int16).copy())
        return bits.view(torch.bfloat16).reshape(shape)
    arr = np.frombuffer(data, {"F32": np.float32, "I64": np.int64, "F16": np.float16}[dtype])
    return torch.from_numpy(arr.copy()).reshape(shape)


def load_folder_weights(folder, stem="model"):
    """{name: tensor} of every safetensors file of a folder (tiny fixtures only)."""
    files, _ = st.folder_files(folder, stem)
    out = {}
    for f in files:
        for name, (dtype, shape, data) in st.read_tensors(os.path.join(folder, f)).items():
            out[name] = from_bytes(dtype, shape, data)
    return out


def model_weights(name):
    """(config, [(key, dtype, tensor as stored)]) of a model fixture, in state-dict order.
    Stored tensors are already rounded to the file dtype, so forward(stored) is the reference."""
    seed, _, opts = MODELS[name]
    config = model_config(name)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for key, shape, role in layouts.model_layout(config, opts.get("gpt2_prefix", True),
                                                 opts.get("gpt2_buffers", False)):
        t = random_tensor(shape, role, gen)
        dtype = "F32" if role in ("mask", "masked_bias") else opts["dtype"]
        if dtype == "BF16":
            t = t.to(torch.bfloat16)
        out.append((key, dtype, t))
    return config, out


def tokens_for(seed, vocab):
    gen = torch.Generator().manual_seed(1000 + seed)
    return torch.randint(0, vocab, (BATCH, SEQ), generator=gen)


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_reference(folder, tokens, logits):
    loss = reference_models.next_token_loss(logits, tokens)
    st.write_file(os.path.join(folder, "reference.safetensors"), [
        ("tokens", "I64", tuple(tokens.shape), to_bytes(tokens, "I64")),
        ("logits", "F32", tuple(logits.shape), to_bytes(logits, "F32")),
        ("loss", "F32", (), to_bytes(loss, "F32"))])


def fresh_folder(folder):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)


def make_model(outdir, name):
    folder = os.path.join(outdir, name)
    fresh_folder(folder)
    config, stored = model_weights(name)
    write_json(os.path.join(folder, "config.json"), config)
    write_json(os.path.join(folder, "generation_config.json"),
               layouts.generation_config_json(config))
    st.write_folder(folder, [(k, d, tuple(t.shape), to_bytes(t, d)) for k, d, t in stored],
                    n_shards=MODELS[name][2].get("shards", 1))
    tokens = tokens_for(MODELS[name][0], config["vocab_size"])
    with torch.no_grad():
        logits = reference_models.logits(config, {k: t for k, _, t in stored}, tokens)
    write_reference(folder, tokens, logits)


def adapter_weights(name):
    """(base config, adapter_config with base path unset, {PEFT key: tensor}) of an adapter."""
    seed, base, targets, r, alpha = ADAPTERS[name]
    config = model_config(base)
    fan_in_fan_out = layouts.family(config) == "gpt2"  # PEFT flips it on for Conv1D targets
    adapter = layouts.adapter_config_json(None, targets, r, alpha, 0.05, fan_in_fan_out)
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for key, shape, _ in layouts.adapter_layout(config, adapter):
        x = torch.randn(shape, generator=gen)
        # A like PEFT's kaiming init; B non-zero (PEFT starts it at 0) so the adapter matters.
        weights[key] = x / math.sqrt(shape[1]) if ".lora_A." in key else 0.2 * x
    return config, adapter, weights


def make_adapter(outdir, name):
    folder = os.path.join(outdir, name)
    fresh_folder(folder)
    base = ADAPTERS[name][1]
    config, adapter, weights = adapter_weights(name)
    adapter["base_model_name_or_path"] = os.path.abspath(os.path.join(outdir, base))
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        f.write(json.dumps(adapter, indent=2, sort_keys=True))  # PEFT writes no final newline
    st.write_file(os.path.join(folder, "adapter_model.safetensors"),
                  [(k, "F32", tuple(t.shape), to_bytes(t, "F32")) for k, t in weights.items()])
    _, stored = model_weights(base)
    tokens = tokens_for(MODELS[base][0], config["vocab_size"])  # the base fixture's tokens
    lora = reference_models.lora_from_adapter(weights, adapter)
    with torch.no_grad():
        logits = reference_models.logits(config, {k: t for k, _, t in stored}, tokens, lora)
    write_reference(folder, tokens, logits)


def make(outdir, only=None):
    """Writes the named fixtures (all by default; an adapter brings its base). Returns names."""
    names = list(only) if only else list(ALL)
    unknown = [n for n in names if n not in ALL]
    if unknown:
        raise ValueError(f"unknown fixture(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    for n in list(names):
        if n in ADAPTERS and ADAPTERS[n][1] not in names:
            names.insert(0, ADAPTERS[n][1])
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        (make_adapter if n in ADAPTERS else make_model)(outdir, n)
    return names


def parse_count(text):
    """'100M' -> 100_000_000 (K, M, B suffixes)."""
    scale = {"K": 10**3, "M": 10**6, "B": 10**9}.get(text[-1:].upper(), 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def large_config(params):
    """A llama of hidden 768, intermediate 2048, vocab 32000, 12/4 heads, tied, bf16, with the
    number of layers that brings the parameter count closest to `params`."""
    kwargs = dict(vocab=32000, hidden=768, heads=12, kv_heads=4, intermediate=2048,
                  max_positions=2048, eps=1e-5, tie=True, dtype="bfloat16")
    count = lambda n: sum(st.numel(s) for _, s, _ in layouts.model_layout(  # noqa: E731
        layouts.config_json("llama", layers=n, **kwargs)))
    per_layer = count(2) - count(1)
    layers = max(1, round((params - count(0)) / per_layer))
    config = layouts.config_json("llama", layers=layers, **kwargs)
    return config, count(layers)


LARGE_CHUNK = 1 << 20  # elements generated at a time by make_large


def make_large(folder, params):
    """Writes the large llama tensor by tensor, each in blocks of rows, so memory stays a few MiB
    above the interpreter's whatever the model's size. Returns (parameters, bytes, seconds)."""
    start = time.monotonic()
    config, n_params = large_config(params)
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), config)
    write_json(os.path.join(folder, "generation_config.json"),
               layouts.generation_config_json(config))
    layout = layouts.model_layout(config)
    roles = {k: (shape, role) for k, shape, role in layout}
    gen = torch.Generator().manual_seed(99)

    def produce(key):  # called in data order, so the seed stream follows the file order
        shape, role = roles[key]
        rows = max(1, LARGE_CHUNK // st.numel(shape[1:]))  # blocks of rows, about 4 MiB in f32
        for start in range(0, shape[0], rows):
            block = (min(rows, shape[0] - start),) + tuple(shape[1:])
            bf16 = random_tensor(block, role, gen, embed_std=0.02).to(torch.bfloat16)
            yield bf16.view(torch.int16).numpy()  # a buffer, not a bytes copy

    st.write_streaming(os.path.join(folder, "model.safetensors"),
                       [(k, "BF16", s) for k, s, _ in layout], produce)
    size = os.path.getsize(os.path.join(folder, "model.safetensors"))
    return n_params, size, time.monotonic() - start
