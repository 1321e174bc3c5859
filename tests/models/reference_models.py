"""Reference forward passes of GPT-2 and the Llama family in plain torch ops, float32.

Written from the published architecture descriptions (and transformers' conventions where a
choice exists), not from mpitune's C++, so a C++ test comparing its logits to these compares
against Hugging Face's math:
  GPT-2   x = wte[ids] + wpe[pos]; per block h = x + c_proj(attn(ln_1 x)),
          x = h + mlp.c_proj(gelu_tanh(c_fc(ln_2 h))); every linear is a Conv1D, y = x W + b with W
          stored [in, out]; c_attn's output splits into q, k, v (d each); ln_f; logits = x wte^T
          (lm_head when untied).
  Llama   x = embed[ids]; per layer h = x + o_proj(attn(rms(x) * input_layernorm)),
          x = h + down(silu(gate r) * up r), r = rms(h) * post_attention_layernorm;
          RoPE rotate-half (pairs i, i + hd/2), inv_freq = 1 / theta^(2i/hd) in float32; GQA:
          query head j reads kv head j // (heads / kv_heads); model.norm; logits = x lm_head^T
          (embed_tokens^T when tied). mistral and qwen2 are the same math here (qwen2 adds
          q/k/v biases; llama's attention_bias adds them and an o_proj bias).
  LoRA    a targeted linear adds (alpha / r) * (x A^T) B^T (PEFT; dropout is off at inference).
Weights come as {Hugging Face key: tensor}; they are upcast to float32 here, so a bf16 file's
reference is its bf16 values computed in float32.
"""

import math

import torch

import layouts


def gelu_tanh(x):
    """GELU with the tanh approximation (GPT-2's gelu_new)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)  # biased, as LayerNorm normalises
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope_tables(seq_len, head_dim, theta):
    """cos, sin [T, hd] of Hugging Face's RoPE (angles repeated: cat(angles, angles))."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    angles = torch.arange(seq_len, dtype=torch.int64).float()[:, None] * inv_freq[None, :]
    emb = torch.cat([angles, angles], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x [B, heads, T, hd]."""
    return x * cos + rotate_half(x) * sin


def causal_attention(q, k, v):
    """q [B, H, T, hd], k and v [B, KV, T, hd] with H a multiple of KV -> [B, T, H * hd].
    Query head j uses kv head j // (H / KV); scores scaled by 1/sqrt(hd); causal mask."""
    b, h, t, hd = q.shape
    group = h // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(future, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(1, 2).reshape(b, t, h * hd)


def _f32(weights):
    return {k: v.float() for k, v in weights.items()}


def _lora_delta(x, lora, path):
    """(alpha / r) * B(A x) for the module at path, or 0. lora: {path: (A, B, scale)}."""
    if not lora or path not in lora:
        return 0.0
    a, b, scale = lora[path]
    return scale * ((x @ a.float().t()) @ b.float().t())


def _linear(x, w, path, lora):
    y = x @ w[path + ".weight"].t()
    if path + ".bias" in w:
        y = y + w[path + ".bias"]
    return y + _lora_delta(x, lora, path)


def _conv1d(x, w, key_prefix, path, lora):
    y = x @ w[key_prefix + ".weight"] + w[key_prefix + ".bias"]
    return y + _lora_delta(x, lora, path)


def gpt2_logits(config, weights, tokens, lora=None):
    """logits [B, T, vocab] of GPT2LMHeadModel; keys with or without `transformer.`."""
    w = _f32(weights)
    p = "transformer." if "transformer.wte.weight" in w else ""
    d, n_head = config["n_embd"], config["n_head"]
    hd = d // n_head
    eps = layouts.arch_value(config, "layer_norm_epsilon")
    if layouts.arch_value(config, "activation_function") not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError("the reference implements GPT-2's tanh GELU only")
    bsz, t = tokens.shape
    x = w[p + "wte.weight"][tokens] + w[p + "wpe.weight"][torch.arange(t)]
    for i in range(config["n_layer"]):
        key, path = f"{p}h.{i}.", f"transformer.h.{i}."  # file keys; PEFT module paths
        a = layer_norm(x, w[key + "ln_1.weight"], w[key + "ln_1.bias"], eps)
        qkv = _conv1d(a, w, key + "attn.c_attn", path + "attn.c_attn", lora)
        q, k, v = (s.reshape(bsz, t, n_head, hd).transpose(1, 2) for s in qkv.split(d, dim=-1))
        att = causal_attention(q, k, v)
        h = x + _conv1d(att, w, key + "attn.c_proj", path + "attn.c_proj", lora)
        m = layer_norm(h, w[key + "ln_2.weight"], w[key + "ln_2.bias"], eps)
        m = gelu_tanh(_conv1d(m, w, key + "mlp.c_fc", path + "mlp.c_fc", lora))
        x = h + _conv1d(m, w, key + "mlp.c_proj", path + "mlp.c_proj", lora)
    x = layer_norm(x, w[p + "ln_f.weight"], w[p + "ln_f.bias"], eps)
    head = w[p + "wte.weight"] if layouts.tied(config) else w["lm_head.weight"]
    return x @ head.t()


def llama_logits(config, weights, tokens, lora=None):
    """logits [B, T, vocab] of LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM."""
    w = _f32(weights)
    av = lambda key: layouts.arch_value(config, key)  # noqa: E731
    n_head, n_kv, hd = av("num_attention_heads"), av("num_key_value_heads"), av("head_dim")
    eps = av("rms_norm_eps")
    if av("hidden_act") != "silu" or av("rope_scaling") not in (None, {}):
        raise ValueError("the reference implements silu and unscaled RoPE only")
    bsz, t = tokens.shape
    window = config.get("sliding_window")
    windowed = config["model_type"] == "mistral" or config.get("use_sliding_window")
    if window and windowed and t > window:
        raise ValueError(f"T={t} exceeds sliding_window {window}: the reference has no windowing")
    cos, sin = rope_tables(t, hd, float(av("rope_theta")))
    x = w["model.embed_tokens.weight"][tokens]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        r = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = _linear(r, w, p + "self_attn.q_proj", lora).reshape(bsz, t, n_head, hd).transpose(1, 2)
        k = _linear(r, w, p + "self_attn.k_proj", lora).reshape(bsz, t, n_kv, hd).transpose(1, 2)
        v = _linear(r, w, p + "self_attn.v_proj", lora).reshape(bsz, t, n_kv, hd).transpose(1, 2)
        att = causal_attention(apply_rope(q, cos, sin), apply_rope(k, cos, sin), v)
        h = x + _linear(att, w, p + "self_attn.o_proj", lora)
        r = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = _linear(r, w, p + "mlp.gate_proj", lora)
        up = _linear(r, w, p + "mlp.up_proj", lora)
        x = h + _linear(torch.nn.functional.silu(gate) * up, w, p + "mlp.down_proj", lora)
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if layouts.tied(config) else w["lm_head.weight"]
    return x @ head.t()


def logits(config, weights, tokens, lora=None):
    if layouts.family(config) == "gpt2":
        return gpt2_logits(config, weights, tokens, lora)
    return llama_logits(config, weights, tokens, lora)


def next_token_loss(logits_, tokens):
    """Mean cross-entropy of logits[:, :-1] predicting tokens[:, 1:] (log-sum-exp form)."""
    z = logits_[:, :-1].reshape(-1, logits_.shape[-1]).float()
    target = tokens[:, 1:].reshape(-1)
    picked = z.gather(1, target[:, None]).squeeze(1)
    return (torch.logsumexp(z, dim=-1) - picked).mean()


def lora_from_adapter(adapter_weights, adapter_config):
    """{module path: (A, B, scale)} from PEFT keys; scale = alpha / r (alpha / sqrt(r) with
    use_rslora)."""
    r, alpha = adapter_config["r"], adapter_config["lora_alpha"]
    scale = alpha / math.sqrt(r) if adapter_config.get("use_rslora") else alpha / r
    out = {}
    for key, a in adapter_weights.items():
        if key.endswith(".lora_A.weight"):
            path = key[len("base_model.model."):-len(".lora_A.weight")]
            b = adapter_weights[key.replace(".lora_A.weight", ".lora_B.weight")]
            out[path] = (a, b, scale)
    return out
