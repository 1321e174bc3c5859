"""Self-test: the vectorised reference against a second, scalar implementation.

The scalar models below are written independently of reference_models.py in a different style
(python floats, loops over positions, heads and features; RoPE as complex rotation of the pairs
(i, i + hd/2); kv head looked up per query head), and run on small random models where every
weight matters: all biases present (llama's attention_bias puts them on q, k, v and o), a large
norm eps and an unusual rope_theta (so a forward that ignored either would differ), head_dim
different from hidden / heads, grouped-query attention. Agreement of the two is a check on both.
"""

import cmath
import math

import torch

import layouts
import reference_models as ref
from selftest_harness import check, close


def _mv(w, x, bias=None):
    """nn.Linear: w [out][in] . x (+ b)."""
    out = [sum(a * b for a, b in zip(row, x)) for row in w]
    return [o + b for o, b in zip(out, bias)] if bias is not None else out


def _conv(w, x, bias):
    """Conv1D: x . w with w [in][out], + b."""
    return [sum(x[i] * w[i][j] for i in range(len(x))) + bias[j] for j in range(len(bias))]


def _attend(qs, ks, vs, n_head, n_kv, hd):
    """qs[t] (n_head * hd), ks[t] / vs[t] (n_kv * hd) -> out[t] (n_head * hd), causal."""
    out = []
    for t in range(len(qs)):
        row = []
        for j in range(n_head):
            kvh = j * n_kv // n_head  # = j // (n_head / n_kv)
            q = qs[t][j * hd:(j + 1) * hd]
            scores = [sum(a * b for a, b in zip(q, ks[s][kvh * hd:(kvh + 1) * hd])) / math.sqrt(hd)
                      for s in range(t + 1)]
            top = max(scores)
            e = [math.exp(z - top) for z in scores]
            for c in range(hd):
                row.append(sum(e[s] * vs[s][kvh * hd + c] for s in range(t + 1)) / sum(e))
        out.append(row)
    return out


def _rope(vec, pos, n, hd, theta):
    out = list(vec)
    for h in range(n):
        for i in range(hd // 2):
            a, b = h * hd + i, h * hd + i + hd // 2
            z = complex(vec[a], vec[b]) * cmath.exp(1j * pos * theta ** (-2.0 * i / hd))
            out[a], out[b] = z.real, z.imag
    return out


def scalar_llama(config, w, tokens):
    L = lambda k: w[k].tolist()  # noqa: E731
    B = lambda k: w[k].tolist() if k in w else None  # noqa: E731
    n_head, n_kv = config["num_attention_heads"], config["num_key_value_heads"]
    hd = config["head_dim"]
    eps, theta = config["rms_norm_eps"], config["rope_theta"]

    def rms(v, g):
        s = math.sqrt(sum(x * x for x in v) / len(v) + eps)
        return [x / s * gi for x, gi in zip(v, g)]

    xs = [L("model.embed_tokens.weight")[t] for t in tokens]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        r = [rms(x, L(p + "input_layernorm.weight")) for x in xs]
        proj = lambda name, v: _mv(L(p + name + ".weight"), v, B(p + name + ".bias"))  # noqa: E731
        qs = [_rope(proj("self_attn.q_proj", v), t, n_head, hd, theta) for t, v in enumerate(r)]
        ks = [_rope(proj("self_attn.k_proj", v), t, n_kv, hd, theta) for t, v in enumerate(r)]
        vs = [proj("self_attn.v_proj", v) for v in r]
        att = _attend(qs, ks, vs, n_head, n_kv, hd)
        hs = [[a + b for a, b in zip(x, proj("self_attn.o_proj", o))] for x, o in zip(xs, att)]
        xs = []
        for h in hs:
            m = rms(h, L(p + "post_attention_layernorm.weight"))
            g, u = proj("mlp.gate_proj", m), proj("mlp.up_proj", m)
            act = [gi / (1.0 + math.exp(-gi)) * ui for gi, ui in zip(g, u)]
            xs.append([a + b for a, b in zip(h, proj("mlp.down_proj", act))])
    head = L("model.embed_tokens.weight") if config["tie_word_embeddings"] else L("lm_head.weight")
    return [_mv(head, rms(x, L("model.norm.weight"))) for x in xs]


def scalar_gpt2(config, w, tokens):
    L = lambda k: w[k].tolist()  # noqa: E731
    d, n_head, eps = config["n_embd"], config["n_head"], config["layer_norm_epsilon"]
    hd = d // n_head

    def ln(v, g, b):
        m = sum(v) / len(v)
        s = math.sqrt(sum((x - m) ** 2 for x in v) / len(v) + eps)
        return [(x - m) / s * gi + bi for x, gi, bi in zip(v, g, b)]

    def gelu(x):
        return 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    wte, wpe = L("wte.weight"), L("wpe.weight")
    xs = [[a + b for a, b in zip(wte[tok], wpe[t])] for t, tok in enumerate(tokens)]
    for i in range(config["n_layer"]):
        p = f"h.{i}."
        def conv(name, v, p=p):
            return _conv(L(p + name + ".weight"), v, L(p + name + ".bias"))

        a = [ln(x, L(p + "ln_1.weight"), L(p + "ln_1.bias")) for x in xs]
        qkv = [conv("attn.c_attn", v) for v in a]
        att = _attend([v[:d] for v in qkv], [v[d:2 * d] for v in qkv], [v[2 * d:] for v in qkv],
                      n_head, n_head, hd)
        hs = [[x + y for x, y in zip(x, conv("attn.c_proj", o))] for x, o in zip(xs, att)]
        xs = []
        for h in hs:
            m = [gelu(z) for z in conv("mlp.c_fc", ln(h, L(p + "ln_2.weight"), L(p + "ln_2.bias")))]
            xs.append([x + y for x, y in zip(h, conv("mlp.c_proj", m))])
    return [_mv(L("wte.weight"), ln(x, L("ln_f.weight"), L("ln_f.bias"))) for x in xs]


def random_weights(config, seed):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape, role in layouts.model_layout(config, gpt2_prefix=False):
        x = torch.randn(shape, generator=g, dtype=torch.float64)
        if role == "norm":
            out[key] = 1.0 + 0.2 * x
        elif role in ("bias", "embed"):
            out[key] = 0.5 * x
        else:
            out[key] = x / math.sqrt(shape[0] if role == "conv1d" else shape[1])
    return out


@check
def llama_matches_the_scalar_implementation(tmp):
    for tie in (False, True):
        config = layouts.config_json("llama", vocab=7, hidden=12, layers=2, heads=4, kv_heads=2,
                                     head_dim=4, intermediate=10, max_positions=16, eps=0.3,
                                     rope_theta=3.0, attention_bias=True, tie=tie, dtype="float32")
        w = random_weights(config, 5 + tie)
        assert "model.layers.0.self_attn.o_proj.bias" in w
        tokens = [3, 0, 6, 3, 1]
        want = scalar_llama(config, w, tokens)
        w32 = {k: v.float() for k, v in w.items()}
        got = ref.llama_logits(config, w32, torch.tensor([tokens]))[0]
        close(got, want, 1e-4, f"llama (tied={tie}) vs scalar")


@check
def gpt2_matches_the_scalar_implementation(tmp):
    config = layouts.config_json("gpt2", vocab=7, hidden=6, layers=2, heads=2, max_positions=8,
                                 eps=0.3, n_inner=5, dtype="float32")
    w = random_weights(config, 7)
    tokens = [2, 5, 5, 0, 6]
    want = scalar_gpt2(config, w, tokens)
    got = ref.gpt2_logits(config, {k: v.float() for k, v in w.items()}, torch.tensor([tokens]))[0]
    close(got, want, 1e-4, "gpt2 vs scalar")
