"""The Hugging Face layouts: config.json per model_type, and the tensors a checkpoint holds.

These tables are written from the transformers model definitions (GPT2LMHeadModel,
LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM as of transformers 4.46) and PEFT's LoRA
(peft 0.13), independently of mpitune's C++. The fixtures are generated from them and
`check-export` checks mpitune's exports against them, so both sides of a C++ test agree with
Hugging Face rather than with each other.

  config_json(model_type, **sizes)   the dict save_pretrained writes (it writes every key of the
                                     model's own config class, and of the base PretrainedConfig
                                     only those that differ from its defaults: that is why a
                                     GPT-2 config has no tie_word_embeddings)
  model_layout(config, ...)          [(name, shape, role)] in state-dict order
  lora_modules(config)               [(module path, in, out)] of every linear LoRA can target
  adapter_layout(config, adapter)    [(PEFT key, shape)] of an adapter_model.safetensors
Roles say how a fixture initialises a tensor: embed, norm, bias, linear (nn.Linear: [out, in]),
conv1d (GPT-2's Conv1D: [in, out]), mask and masked_bias (GPT-2's old attention buffers).
No torch here.
"""

TRANSFORMERS_VERSION = "4.46.3"
PEFT_VERSION = "0.13.2"
LLAMA_FAMILY = ("llama", "mistral", "qwen2")
ARCHITECTURES = {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM",
                 "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}

# Class defaults of the keys that decide the architecture (what a config means when it lacks
# one). None for a key that has no default worth guessing: its absence is a difference.
ARCH_DEFAULTS = {
    "gpt2": {"model_type": None, "architectures": None, "vocab_size": 50257, "n_positions": 1024,
             "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
             "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
             "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
             "reorder_and_upcast_attn": False, "tie_word_embeddings": True},
    "llama": {"model_type": None, "architectures": None, "vocab_size": 32000, "hidden_size": 4096,
              "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": None, "head_dim": None, "hidden_act": "silu",
              "max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
              "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
              "tie_word_embeddings": False},
    "mistral": {"model_type": None, "architectures": None, "vocab_size": 32000,
                "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
                "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None,
                "hidden_act": "silu", "max_position_embeddings": 4096 * 32, "rms_norm_eps": 1e-6,
                "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": False},
    "qwen2": {"model_type": None, "architectures": None, "vocab_size": 151936,
              "hidden_size": 4096, "intermediate_size": 22016, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 32, "hidden_act": "silu",
              "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
              "rope_scaling": None, "use_sliding_window": False, "sliding_window": 4096,
              "tie_word_embeddings": False},
}


def family(config):
    mt = config.get("model_type")
    if mt == "gpt2":
        return "gpt2"
    if mt in LLAMA_FAMILY:
        return "llama"
    raise ValueError(f"model_type {mt!r} is not one of gpt2, {', '.join(LLAMA_FAMILY)}")


def arch_value(config, key):
    """A config's architecture key with the class default filled in; head_dim and
    num_key_value_heads as transformers derives them when absent."""
    mt = config["model_type"]
    if key in config:
        value = config[key]
    else:
        value = ARCH_DEFAULTS[mt].get(key)
    if value is None and key == "num_key_value_heads":
        value = arch_value(config, "num_attention_heads")
    if value is None and key == "head_dim" and mt != "gpt2":
        value = arch_value(config, "hidden_size") // arch_value(config, "num_attention_heads")
    return value


def tied(config):
    return bool(arch_value(config, "tie_word_embeddings"))


def config_json(model_type, *, vocab, hidden, layers, heads, kv_heads=None, head_dim=None,
                intermediate=None, max_positions, eps, dtype, tie=None, rope_theta=10000.0,
                attention_bias=False, sliding_window=None, bos=None, eos=None, n_inner=None):
    """config.json as save_pretrained writes it for model_type (sorted, indent 2 on disk)."""
    base = {"model_type": model_type, "architectures": [ARCHITECTURES[model_type]],
            "torch_dtype": dtype, "transformers_version": TRANSFORMERS_VERSION}
    if model_type == "gpt2":
        c = {"activation_function": "gelu_new", "attn_pdrop": 0.1, "embd_pdrop": 0.1,
             "initializer_range": 0.02, "layer_norm_epsilon": eps, "n_embd": hidden,
             "n_head": heads, "n_inner": n_inner, "n_layer": layers, "n_positions": max_positions,
             "reorder_and_upcast_attn": False, "resid_pdrop": 0.1,
             "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
             "summary_activation": None, "summary_first_dropout": 0.1,
             "summary_proj_to_labels": True, "summary_type": "cls_index",
             "summary_use_proj": True, "use_cache": True, "vocab_size": vocab,
             "bos_token_id": vocab - 1 if bos is None else bos,
             "eos_token_id": vocab - 1 if eos is None else eos}
        if tie is False:  # written only when it differs from PretrainedConfig's default (True)
            c["tie_word_embeddings"] = False
        return {**base, **c}
    c = {"attention_dropout": 0.0, "bos_token_id": 1 if bos is None else bos,
         "eos_token_id": 2 if eos is None else eos, "hidden_act": "silu", "hidden_size": hidden,
         "initializer_range": 0.02, "intermediate_size": intermediate,
         "max_position_embeddings": max_positions, "num_attention_heads": heads,
         "num_hidden_layers": layers, "num_key_value_heads": kv_heads or heads,
         "rms_norm_eps": eps, "rope_theta": rope_theta, "tie_word_embeddings": bool(tie),
         "use_cache": True, "vocab_size": vocab}
    if model_type == "llama":
        c.update({"attention_bias": attention_bias, "head_dim": head_dim or hidden // heads,
                  "mlp_bias": False, "pretraining_tp": 1, "rope_scaling": None})
    elif model_type == "mistral":
        c.update({"head_dim": head_dim or hidden // heads, "sliding_window": sliding_window})
    elif model_type == "qwen2":
        c.update({"max_window_layers": layers, "rope_scaling": None,
                  "sliding_window": sliding_window, "use_sliding_window": False})
    return {**base, **c}


def generation_config_json(config):
    return {"_from_model_config": True, "bos_token_id": config["bos_token_id"],
            "eos_token_id": config["eos_token_id"], "transformers_version": TRANSFORMERS_VERSION}


def _gpt2_dims(config):
    d = config["n_embd"]
    inner = config.get("n_inner") or 4 * d
    return d, inner


def model_layout(config, gpt2_prefix=True, gpt2_buffers=False):
    """[(name, shape, role)] of the checkpoint save_pretrained writes, in state-dict order.
    GPT-2: `transformer.` prefix as GPT2LMHeadModel saves it (gpt2_prefix=False: GPT2Model's bare
    names); gpt2_buffers adds attn.bias / attn.masked_bias as transformers < 4.31 saved them.
    The head (lm_head.weight) is there iff the embeddings are untied."""
    out = []
    if family(config) == "gpt2":
        d, inner = _gpt2_dims(config)
        p = "transformer." if gpt2_prefix else ""
        n_pos = config["n_positions"]
        out += [(f"{p}wte.weight", (config["vocab_size"], d), "embed"),
                (f"{p}wpe.weight", (n_pos, d), "embed")]
        for i in range(config["n_layer"]):
            b = f"{p}h.{i}."
            out += [(b + "ln_1.weight", (d,), "norm"), (b + "ln_1.bias", (d,), "bias")]
            if gpt2_buffers:
                out += [(b + "attn.bias", (1, 1, n_pos, n_pos), "mask"),
                        (b + "attn.masked_bias", (), "masked_bias")]
            out += [(b + "attn.c_attn.weight", (d, 3 * d), "conv1d"),
                    (b + "attn.c_attn.bias", (3 * d,), "bias"),
                    (b + "attn.c_proj.weight", (d, d), "conv1d"),
                    (b + "attn.c_proj.bias", (d,), "bias"),
                    (b + "ln_2.weight", (d,), "norm"), (b + "ln_2.bias", (d,), "bias"),
                    (b + "mlp.c_fc.weight", (d, inner), "conv1d"),
                    (b + "mlp.c_fc.bias", (inner,), "bias"),
                    (b + "mlp.c_proj.weight", (inner, d), "conv1d"),
                    (b + "mlp.c_proj.bias", (d,), "bias")]
        out += [(f"{p}ln_f.weight", (d,), "norm"), (f"{p}ln_f.bias", (d,), "bias")]
        if not tied(config):
            out.append(("lm_head.weight", (config["vocab_size"], d), "embed"))
        return out

    d = config["hidden_size"]
    inter = config["intermediate_size"]
    hd = arch_value(config, "head_dim")
    q_out = arch_value(config, "num_attention_heads") * hd
    kv_out = arch_value(config, "num_key_value_heads") * hd
    qkv_bias = config["model_type"] == "qwen2" or bool(arch_value(config, "attention_bias"))
    o_bias = config["model_type"] == "llama" and bool(arch_value(config, "attention_bias"))
    mlp_bias = config["model_type"] == "llama" and bool(arch_value(config, "mlp_bias"))
    out.append(("model.embed_tokens.weight", (config["vocab_size"], d), "embed"))

    def lin(name, o, i, bias):
        r = [(name + ".weight", (o, i), "linear")]
        return r + [(name + ".bias", (o,), "bias")] if bias else r

    for i in range(config["num_hidden_layers"]):
        b = f"model.layers.{i}."
        out += lin(b + "self_attn.q_proj", q_out, d, qkv_bias)
        out += lin(b + "self_attn.k_proj", kv_out, d, qkv_bias)
        out += lin(b + "self_attn.v_proj", kv_out, d, qkv_bias)
        out += lin(b + "self_attn.o_proj", d, q_out, o_bias)
        out += lin(b + "mlp.gate_proj", inter, d, mlp_bias)
        out += lin(b + "mlp.up_proj", inter, d, mlp_bias)
        out += lin(b + "mlp.down_proj", d, inter, mlp_bias)
        out += [(b + "input_layernorm.weight", (d,), "norm"),
                (b + "post_attention_layernorm.weight", (d,), "norm")]
    out.append(("model.norm.weight", (d,), "norm"))
    if not tied(config):
        out.append(("lm_head.weight", (config["vocab_size"], d), "linear"))
    return out


def lora_modules(config):
    """[(module path, in_features, out_features, layer)] of every per-layer linear, with the
    module paths of the *ForCausalLM model (what PEFT names), whatever the file's key prefix."""
    out = []
    if family(config) == "gpt2":
        d, inner = _gpt2_dims(config)
        for i in range(config["n_layer"]):
            b = f"transformer.h.{i}."
            out += [(b + "attn.c_attn", d, 3 * d, i), (b + "attn.c_proj", d, d, i),
                    (b + "mlp.c_fc", d, inner, i), (b + "mlp.c_proj", inner, d, i)]
        return out
    d = config["hidden_size"]
    inter = config["intermediate_size"]
    hd = arch_value(config, "head_dim")
    q_out = arch_value(config, "num_attention_heads") * hd
    kv_out = arch_value(config, "num_key_value_heads") * hd
    for i in range(config["num_hidden_layers"]):
        b = f"model.layers.{i}."
        out += [(b + "self_attn.q_proj", d, q_out, i), (b + "self_attn.k_proj", d, kv_out, i),
                (b + "self_attn.v_proj", d, kv_out, i), (b + "self_attn.o_proj", q_out, d, i),
                (b + "mlp.gate_proj", d, inter, i), (b + "mlp.up_proj", d, inter, i),
                (b + "mlp.down_proj", inter, d, i)]
    return out


def target_matches(module_path, targets):
    """PEFT's rule for a list of target_modules: the module's full name equals a target or ends
    with "." + target."""
    return any(module_path == t or module_path.endswith("." + t) for t in targets)


def adapter_config_json(base_path, targets, r, alpha, dropout, fan_in_fan_out):
    """adapter_config.json as PEFT's save_pretrained writes it for a LoRA CAUSAL_LM adapter."""
    return {"alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_path,
            "bias": "none", "fan_in_fan_out": fan_in_fan_out, "inference_mode": True,
            "init_lora_weights": True, "layer_replication": None, "layers_pattern": None,
            "layers_to_transform": None, "loftq_config": {}, "lora_alpha": alpha,
            "lora_dropout": dropout, "megatron_config": None, "megatron_core": "megatron.core",
            "modules_to_save": None, "peft_type": "LORA", "r": r, "rank_pattern": {},
            "revision": None, "target_modules": sorted(targets), "task_type": "CAUSAL_LM",
            "use_dora": False, "use_rslora": False}


def adapter_layout(config, adapter):
    """[(PEFT key, shape, module path)] for an adapter_config dict on the base config: one
    lora_A [r, in] and lora_B [out, r] per targeted module (GPT-2's Conv1D included: in/out are
    the Conv1D's, whose weight is stored [in, out])."""
    r = adapter["r"]
    layers = adapter.get("layers_to_transform")
    if isinstance(layers, int):
        layers = [layers]
    out = []
    for path, fan_in, fan_out, layer in lora_modules(config):
        if not target_matches(path, adapter["target_modules"]):
            continue
        if layers is not None and layer not in layers:
            continue
        out += [(f"base_model.model.{path}.lora_A.weight", (r, fan_in), path),
                (f"base_model.model.{path}.lora_B.weight", (fan_out, r), path)]
    return out
