"""check-export: does a folder exported by mpitune have Hugging Face's layout for its base model?

Full model (default): config.json equal to BASEDIR/config.json in every architecture key
(layouts.ARCH_DEFAULTS, class defaults filled in); weights as model.safetensors or shards +
model.safetensors.index.json (index and shards agreeing, total_size right); every file's header
valid (as the Rust reader checks it), padded to 8 bytes, __metadata__ {"format": "pt"}; dtypes
F32/BF16/F16; and exactly the tensors, with the shapes, that transformers' save_pretrained writes
for the model_type. GPT-2 is required *with* the `transformer.` prefix and without the old
attn.bias / attn.masked_bias buffers: that is what GPT2LMHeadModel.save_pretrained writes today
(bare names are what GPT2Model writes, and the hub's gpt2 has them, but an exported LM is a
GPT2LMHeadModel). lm_head.weight is present iff the embeddings are untied.
Adapter (--adapter): adapter_config.json with PEFT's required fields (LORA, CAUSAL_LM, r,
lora_alpha, lora_dropout, target_modules, bias "none", fan_in_fan_out true exactly for GPT-2's
Conv1D, base_model_name_or_path, inference_mode) and adapter_model.safetensors with one lora_A
[r, in] / lora_B [out, r] per targeted module per layer under PEFT's names.

Standard library only (no torch), so it is quick to run from a C++ test.
"""

import glob
import json
import os
import re

import layouts
import safetensors_io as st

EXPORT_DTYPES = ("F32", "BF16", "F16")


def _same(a, b):
    """JSON equality that keeps true apart from 1 and 1 equal to 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _load_json(path, problems, what):
    try:
        with open(path) as f:
            value = json.load(f)
    except FileNotFoundError:
        problems.append(f"{path}: missing ({what})")
        return None
    except (OSError, json.JSONDecodeError) as e:
        problems.append(f"{path}: cannot be read as JSON: {e}")
        return None
    if not isinstance(value, dict):
        problems.append(f"{path}: is not a JSON object")
        return None
    return value


def _arch(config, key):
    value = layouts.arch_value(config, key)
    if key == "n_inner" and value is None:
        return 4 * layouts.arch_value(config, "n_embd")  # GPT-2's default MLP width
    return value


def check_config(folder, base, problems):
    exported = _load_json(os.path.join(folder, "config.json"), problems, "the model's config")
    if exported is None:
        return
    if exported.get("model_type") != base["model_type"]:
        problems.append(f"config.json: model_type {exported.get('model_type')!r}, "
                        f"the base is {base['model_type']!r}")
        return
    for key in layouts.ARCH_DEFAULTS[base["model_type"]]:
        a, b = _arch(exported, key), _arch(base, key)
        if not _same(a, b):
            problems.append(f"config.json: {key} is {json.dumps(a)}, the base has {json.dumps(b)}")


def _check_file(path, problems):
    """Header checks of one file; returns its entries or None."""
    name = os.path.basename(path)
    try:
        entries, metadata, header_len, _ = st.read_header(path)
    except st.SafetensorsError as e:
        problems.append(str(e))
        return None
    if header_len % 8:
        problems.append(f"{name}: header is {header_len} bytes, not padded to a multiple of 8")
    if metadata is None or metadata.get("format") != "pt":
        problems.append(f"{name}: __metadata__ is {json.dumps(metadata)}, needs "
                        '{"format": "pt"} (transformers refuses other formats)')
    for key, e in entries.items():
        if e["dtype"] not in EXPORT_DTYPES:
            problems.append(f"{name}: {key} is {e['dtype']}, an export holds F32, BF16 or F16")
    return entries


def _hint(key, config):
    if layouts.family(config) == "gpt2":
        if key.endswith(".attn.bias") or key.endswith(".attn.masked_bias"):
            return " (a buffer: save_pretrained does not write it)"
        if re.match(r"(wte|wpe|ln_f|h\.\d+)\.", key):
            return " (GPT2LMHeadModel's names carry the transformer. prefix)"
    if key == "lm_head.weight" and layouts.tied(config):
        return " (tied embeddings: save_pretrained drops the head)"
    if ".default." in key:
        return " (PEFT saves keys without the adapter name)"
    return ""


def compare_layout(found, expected, config, problems, where):
    """found {key: (shape, file)} vs expected [(key, shape)]."""
    expected_shapes = dict(expected)
    for key, shape in expected:
        if key not in found:
            problems.append(f"{where}: missing tensor {key} {list(shape)}")
        elif tuple(found[key][0]) != tuple(shape):
            problems.append(f"{found[key][1]}: {key} has shape {list(found[key][0])}, "
                            f"expected {list(shape)}")
    for key in sorted(set(found) - set(expected_shapes)):
        problems.append(f"{found[key][1]}: unexpected tensor {key}{_hint(key, config)}")


def check_weights(folder, config, problems):
    """Returns (tensor count, file count)."""
    single = os.path.join(folder, "model.safetensors")
    index_path = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(single) and os.path.exists(index_path):
        problems.append("both model.safetensors and model.safetensors.index.json: loaders take "
                        "one and ignore the other")
    if os.path.exists(index_path):
        index = _load_json(index_path, problems, "the shard index")
        if index is None:
            return 0, 0
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            problems.append("model.safetensors.index.json: no weight_map")
            return 0, 0
        files = sorted(set(weight_map.values()))
        n = len(files)
        pattern = re.compile(r"model-(\d{5})-of-(\d{5})\.safetensors$")
        wanted = {f"model-{k:05d}-of-{n:05d}.safetensors" for k in range(1, n + 1)}
        if set(files) != wanted:
            problems.append(f"model.safetensors.index.json: shards {files}, expected "
                            f"model-00001-of-{n:05d}.safetensors ... model-{n:05d}-of-{n:05d}")
        on_disk = glob.glob(os.path.join(folder, "model-*.safetensors"))
        stray = sorted(os.path.basename(p) for p in on_disk
                       if pattern.search(p) and os.path.basename(p) not in files)
        for s in stray:
            problems.append(f"{s}: a shard file the index does not name")
    elif os.path.exists(single):
        files, weight_map = ["model.safetensors"], None
    else:
        problems.append(f"{folder}: no model.safetensors and no model.safetensors.index.json")
        return 0, 0

    found, total = {}, 0
    for f in files:
        entries = _check_file(os.path.join(folder, f), problems)
        if entries is None:
            continue
        for key, e in entries.items():
            if key in found:
                problems.append(f"{f}: {key} is also in {found[key][1]}")
            found[key] = (tuple(e["shape"]), f)
            total += e["data_offsets"][1] - e["data_offsets"][0]
            if weight_map is not None and weight_map.get(key) != f:
                problems.append(f"{f}: holds {key}, which the index maps to {weight_map.get(key)}")
    if weight_map is not None:
        for key, f in sorted(weight_map.items()):
            if key not in found and os.path.exists(os.path.join(folder, f)):
                problems.append(f"model.safetensors.index.json: maps {key} to {f}, which lacks it")
        size = (index.get("metadata") or {}).get("total_size")
        if size != total:
            problems.append(f"model.safetensors.index.json: metadata.total_size is {size}, "
                            f"the shards hold {total} bytes of tensors")
    if layouts.family(config) == "gpt2" and "wte.weight" in found and not any(
            k.startswith("transformer.") for k in found):
        # One line for the one cause, then the shapes are still checked under the right names.
        problems.append(f"{found['wte.weight'][1]}: tensor names lack the transformer. prefix "
                        "(GPT2Model's names; GPT2LMHeadModel.save_pretrained writes "
                        "transformer.wte.weight, transformer.h.0.ln_1.weight, ...)")
        found = {(k if k == "lm_head.weight" else "transformer." + k): v for k, v in found.items()}
    expected = [(k, s) for k, s, _ in layouts.model_layout(config, gpt2_prefix=True)]
    compare_layout(found, expected, config, problems, "model")
    return len(found), len(files)


def check_adapter_config(adapter, config, problems):
    """Returns True when the fields the layout needs are usable."""
    gpt2 = layouts.family(config) == "gpt2"
    required = {"peft_type": lambda v: v == "LORA", "task_type": lambda v: v == "CAUSAL_LM",
                "r": lambda v: type(v) is int and v > 0,
                "lora_alpha": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                "lora_dropout": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                "target_modules": lambda v: (isinstance(v, list) and v
                                             and all(isinstance(t, str) for t in v)),
                "bias": lambda v: v == "none",
                "fan_in_fan_out": lambda v: v is gpt2,
                "base_model_name_or_path": lambda v: isinstance(v, str) and v != "",
                "inference_mode": lambda v: isinstance(v, bool)}
    wants = {"peft_type": '"LORA"', "task_type": '"CAUSAL_LM"', "r": "a positive integer",
             "lora_alpha": "a number", "lora_dropout": "a number",
             "target_modules": "a non-empty list of module names", "bias": '"none"',
             "fan_in_fan_out": "true (GPT-2's Conv1D stores [in, out])" if gpt2 else "false",
             "base_model_name_or_path": "the base model's path or hub id",
             "inference_mode": "true or false"}
    for key, ok in required.items():
        if key not in adapter:
            problems.append(f"adapter_config.json: missing {key} (needs {wants[key]})")
        elif not ok(adapter[key]):
            problems.append(f"adapter_config.json: {key} is {json.dumps(adapter[key])}, "
                            f"needs {wants[key]}")
    unsupported = {"use_dora": False, "modules_to_save": None, "rank_pattern": {},
                   "alpha_pattern": {}, "layer_replication": None}
    for key, plain in unsupported.items():
        value = adapter.get(key)
        if value is not None and value is not plain and value != {} and value != []:
            problems.append(f"adapter_config.json: {key} is {json.dumps(adapter[key])}; "
                            f"a plain LoRA export has {json.dumps(plain)}")
    layers = adapter.get("layers_to_transform")
    n_layers = layouts.lora_modules(config)[-1][3] + 1
    as_list = [layers] if type(layers) is int else layers
    if layers is not None and not (isinstance(as_list, list) and all(
            type(i) is int and 0 <= i < n_layers for i in as_list)):
        problems.append(f"adapter_config.json: layers_to_transform is {json.dumps(layers)}, "
                        f"needs null or layer numbers below {n_layers}")
        return False
    return (type(adapter.get("r")) is int and adapter["r"] > 0
            and isinstance(adapter.get("target_modules"), list) and adapter["target_modules"])


def check_adapter(folder, config, problems):
    adapter = _load_json(os.path.join(folder, "adapter_config.json"), problems,
                         "the adapter config")
    if adapter is None or not check_adapter_config(adapter, config, problems):
        return 0, 0
    modules = [m for m, _, _, _ in layouts.lora_modules(config)]
    for t in adapter["target_modules"]:
        if not any(layouts.target_matches(m, [t]) for m in modules):
            problems.append(f"adapter_config.json: target module {t!r} matches no linear of a "
                            f"{config['model_type']} model")
    path = os.path.join(folder, "adapter_model.safetensors")
    if not os.path.exists(path):
        problems.append(f"{path}: missing (PEFT loads adapter_model.safetensors)")
        return 0, 0
    entries = _check_file(path, problems)
    if entries is None:
        return 0, 1
    found = {k: (tuple(e["shape"]), "adapter_model.safetensors") for k, e in entries.items()}
    expected = [(k, s) for k, s, _ in layouts.adapter_layout(config, adapter)]
    compare_layout(found, expected, config, problems, "adapter_model.safetensors")
    return len(found), 1


def check_export(folder, base_dir, adapter=False):
    """Returns (problems, summary line)."""
    problems = []
    base = _load_json(os.path.join(base_dir, "config.json"), problems, "the base model's config")
    if base is None:
        return problems, ""
    try:
        layouts.family(base)
    except ValueError as e:
        return [f"{base_dir}/config.json: {e}"], ""
    if not os.path.isdir(folder):
        return [f"{folder}: not a folder"], ""
    if adapter:
        n_tensors, n_files = check_adapter(folder, base, problems)
        what = "LoRA adapter"
    else:
        check_config(folder, base, problems)
        n_tensors, n_files = check_weights(folder, base, problems)
        what = "model"
    head = "tied" if layouts.tied(base) else "untied"
    summary = (f"OK: {folder}: {n_tensors} tensors in {n_files} file(s) match the "
               f"{base['model_type']} {what} layout of {base_dir} ({head} embeddings)")
    return problems, summary
