"""selftest: checks that the fixture writer, the reference forward and check-export are right.

The reference forward is what mpitune's C++ is compared against, so it is checked against things
that do not share its code: hand-derived results of 1-layer models, torch's own gelu /
layer_norm / cross_entropy, RoPE written with complex numbers, attention written as scalar loops
(here); whole models written a second time as scalar loops (selftest_scalar.py); properties any
correct model has: causality, tied == untied with equal weights, GQA == MHA with repeated kv
heads, a LoRA adapter == its merged weights (selftest_models.py, with the fixtures themselves).
The safetensors writer is checked against hand-assembled bytes, check-export on correct and
broken folders (selftest_export.py). Prints one line per check; exits 1 if any fails.
"""

import importlib
import json
import math
import os
import struct
import sys
import tempfile
import time
import traceback

import torch

import fixtures
import layouts
import reference_models as ref
import safetensors_io as st
import selftest_harness as harness
from selftest_harness import check, close

# ---------------------------------------------------------------- safetensors


@check
def safetensors_bytes_match_hand_assembled(tmp):
    path = os.path.join(tmp, "hand.safetensors")
    st.write_file(path, [("b", "F32", (2,), struct.pack("<2f", 1.0, 2.0)),
                         ("a", "BF16", (1,), b"\x80\x3f"),
                         ("c", "I64", (), struct.pack("<q", 7))])
    # The reference writer's order: I64 before F32 before BF16 (whatever the names);
    # __metadata__ first; compact JSON.
    header = ('{"__metadata__":{"format":"pt"},'
              '"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},'
              '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},'
              '"a":{"dtype":"BF16","shape":[1],"data_offsets":[16,18]}}').encode()
    # counted by hand: 32 (metadata) + 52 (c) + 54 (b) + 56 (a) = 194 = 8 * 24 + 2: 6 spaces
    assert len(header) == 194
    expected = struct.pack("<Q", 200) + header + b" " * 6
    expected += struct.pack("<q", 7) + struct.pack("<2f", 1.0, 2.0) + b"\x80\x3f"
    with open(path, "rb") as f:
        got = f.read()
    assert got == expected, f"file bytes differ:\n{got!r}\n{expected!r}"
    back = st.read_tensors(path)
    assert back["c"] == ("I64", (), struct.pack("<q", 7)), back["c"]
    assert back["a"] == ("BF16", (1,), b"\x80\x3f"), back["a"]


@check
def bf16_rounds_to_nearest_even(tmp):
    # 1 + 2^-8 is halfway between 1 (0x3F80) and 1 + 2^-7 (0x3F81): ties go to the even 0x3F80;
    # 1 + 3 * 2^-8 is halfway between 0x3F81 and 0x3F82: even is 0x3F82.
    data = fixtures.to_bytes(torch.tensor([1.0, 1 + 2**-8, 1 + 3 * 2**-8, -2.0]), "BF16")
    bits = struct.unpack("<4H", data)
    assert bits == (0x3F80, 0x3F80, 0x3F82, 0xC000), [hex(v) for v in bits]
    back = fixtures.from_bytes("BF16", (4,), data).float()
    close(back, [1.0, 1.0, 1 + 2 * 2**-7, -2.0], 0, "bf16 widening")


def _raw_file(path, header_json, data):
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_json)) + header_json + data)


@check
def reader_rejects_malformed_files(tmp):
    p = os.path.join(tmp, "bad.safetensors")
    cases = {
        "too short": (None, b"\x01\x02"),
        "past the end": (b"", None),
        "not a JSON object": (b"[1, 2]", b""),
        "unknown dtype": (b'{"x":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}', b"\0"),
        "needs 8": (b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 4),
        "hole": (b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', b"\0" * 8),
        "overlaps": (b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                     b'"y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}', b"\0" * 6),
        "the file holds": (b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 8),
        "list of sizes": (b'{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', b"\0" * 4),
    }
    for expect, (header, data) in cases.items():
        if header is None:
            with open(p, "wb") as f:
                f.write(data)
        elif data is None:
            with open(p, "wb") as f:
                f.write(struct.pack("<Q", 1000) + b"{}")
        else:
            _raw_file(p, header, data)
        try:
            st.read_header(p)
        except st.SafetensorsError as e:
            assert expect in str(e) and p in str(e), f"{expect!r}: message {e}"
        else:
            raise AssertionError(f"a file with {expect!r} was accepted")


@check
def sharding_is_greedy_and_indexed(tmp):
    specs = [(f"t{i}", "F32", (n,)) for i, n in enumerate([10, 3, 3, 3, 8, 1, 1])]
    groups = st.plan_shards(specs, 3)
    names = [[s[0] for s in g] for g in groups]
    assert names == [["t0"], ["t1", "t2", "t3"], ["t4", "t5", "t6"]], names
    tensors = [(n, d, s, struct.pack(f"<{s[0]}f", *range(s[0]))) for n, d, s in specs]
    folder = os.path.join(tmp, "sharded")
    os.makedirs(folder)
    names = st.write_folder(folder, tensors, n_shards=3)
    assert names[0] == "model-00001-of-00003.safetensors", names
    assert names[-1] == "model.safetensors.index.json", names
    files, weight_map = st.folder_files(folder)
    assert len(files) == 3 and weight_map["t3"] == "model-00002-of-00003.safetensors", weight_map
    with open(os.path.join(folder, names[-1])) as f:
        assert json.load(f)["metadata"]["total_size"] == 4 * 29
    back = {}
    for f in files:
        back.update(st.read_tensors(os.path.join(folder, f)))
    assert {k: v[2] for k, v in back.items()} == {t[0]: t[3] for t in tensors}


@check
def streaming_writer_equals_whole_file_writer(tmp):
    tensors = [("w", "BF16", (3, 2), bytes(range(12))), ("v", "F32", (1,), b"\0\0\x80\x3f")]
    a, b = os.path.join(tmp, "a.safetensors"), os.path.join(tmp, "b.safetensors")
    st.write_file(a, tensors)
    st.write_streaming(b, [t[:3] for t in tensors], {t[0]: t[3] for t in tensors}.get)
    assert open(a, "rb").read() == open(b, "rb").read()

    def in_chunks(name):  # a generator of pieces, as make-large writes its big tensors
        data = dict((t[0], t[3]) for t in tensors)[name]
        for i in range(0, len(data), 5):
            yield data[i:i + 5]

    st.write_streaming(b, [t[:3] for t in tensors], in_chunks)
    assert open(a, "rb").read() == open(b, "rb").read(), "chunked streaming"
    assert oct(os.stat(a).st_mode & 0o777) != "0o600", "written like mkstemp, not like open()"


# ---------------------------------------------------------------- building blocks


@check
def gelu_layernorm_rmsnorm_loss_match_torch(tmp):
    x = torch.linspace(-4, 4, 41)
    close(ref.gelu_tanh(x), torch.nn.functional.gelu(x, approximate="tanh"), 1e-6, "gelu_tanh")
    assert abs(ref.gelu_tanh(torch.tensor(1.0)).item() - 0.8411920) < 1e-6  # tabulated value
    g = torch.Generator().manual_seed(0)
    x, w, b = (torch.randn(s, generator=g) for s in ((3, 7), (7,), (7,)))
    close(ref.layer_norm(x, w, b, 1e-5), torch.nn.functional.layer_norm(x, (7,), w, b, 1e-5),
          1e-5, "layer_norm")
    # rms([3, 4]) = [3, 4] / sqrt((9 + 16) / 2)
    close(ref.rms_norm(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0]), 0.0),
          [3 / math.sqrt(12.5), 8 / math.sqrt(12.5)], 1e-6, "rms_norm")
    logits, tokens = torch.randn(2, 5, 11, generator=g), torch.randint(0, 11, (2, 5), generator=g)
    want = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 11),
                                             tokens[:, 1:].reshape(-1))
    close(ref.next_token_loss(logits, tokens), want, 1e-6, "loss")


@check
def rope_is_hugging_face_rotate_half(tmp):
    # Hugging Face pairs feature i with i + hd/2 and rotates the pair by pos * theta^(-2i/hd):
    # as complex numbers z_i = x_i + i x_{i+hd/2}, z_i' = z_i exp(i pos inv_freq_i).
    hd, t, theta = 8, 5, 10000.0
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 1, t, hd, generator=g, dtype=torch.float64)
    cos, sin = ref.rope_tables(t, hd, theta)
    got = ref.apply_rope(x, cos.double(), sin.double())
    half = hd // 2
    for pos in range(t):
        for i in range(half):
            angle = pos * theta ** (-2 * i / hd)
            z = complex(x[0, 0, pos, i], x[0, 0, pos, i + half])
            z *= complex(math.cos(angle), math.sin(angle))
            assert abs(got[0, 0, pos, i] - z.real) < 1e-5, (pos, i)
            assert abs(got[0, 0, pos, i + half] - z.imag) < 1e-5, (pos, i)
    # Position 0 is the identity, and q.k after RoPE depends on positions only through m - n.
    close(got[0, 0, 0], x[0, 0, 0], 1e-12, "rope at position 0")
    cos, sin = ref.rope_tables(9, hd, theta)
    q, k = torch.randn(hd, generator=g), torch.randn(hd, generator=g)

    def rot(v, p):
        return ref.apply_rope(v.reshape(1, 1, 1, hd).expand(1, 1, 9, hd), cos, sin)[0, 0, p]

    close((rot(q, 5) * rot(k, 2)).sum(), (rot(q, 7) * rot(k, 4)).sum(), 1e-4,
          "rope relative positions")


@check
def attention_matches_scalar_loops_with_gqa(tmp):
    g = torch.Generator().manual_seed(2)
    b, h, kv, t, hd = 2, 4, 2, 5, 3
    q = torch.randn(b, h, t, hd, generator=g, dtype=torch.float64)
    k = torch.randn(b, kv, t, hd, generator=g, dtype=torch.float64)
    v = torch.randn(b, kv, t, hd, generator=g, dtype=torch.float64)
    got = ref.causal_attention(q, k, v).reshape(b, t, h, hd)
    for bi in range(b):
        for j in range(h):
            kvh = j // (h // kv)  # query heads 0, 1 share kv head 0; 2, 3 share kv head 1
            for i in range(t):
                scores = [sum(q[bi, j, i, c] * k[bi, kvh, s, c] for c in range(hd)) / math.sqrt(hd)
                          for s in range(i + 1)]  # only positions s <= i
                top = max(scores)
                e = [math.exp(x - top) for x in scores]
                for c in range(hd):
                    want = sum(e[s] * v[bi, kvh, s, c] for s in range(i + 1)) / sum(e)
                    assert abs(got[bi, i, j, c] - want) < 1e-9, (bi, j, i, c)


# ---------------------------------------------------------------- hand-derived 1-layer models


def _rms(v, w, eps=0.0):
    s = math.sqrt(sum(x * x for x in v) / len(v) + eps)
    return [x / s * g for x, g in zip(v, w)]


def _ln(v, w, b, eps):
    m = sum(v) / len(v)
    s = math.sqrt(sum((x - m) ** 2 for x in v) / len(v) + eps)
    return [(x - m) / s * g + c for x, g, c in zip(v, w, b)]


def _matvec(rows, v):  # rows [out][in] . v
    return [sum(r * x for r, x in zip(row, v)) for row in rows]


@check
def llama_one_layer_by_hand(tmp):
    # d = 2, one head of 2, eps 0. q = k = 0: uniform attention over the prefix; v = identity;
    # o = [[0, 1], [0.5, 0]] ([out, in]); input_layernorm [1, 2]; MLP gate = up = identity,
    # down = [[1, 0.5], [0, 1]]. Per position t:
    #   a_t = mean_{s<=t} rms(x_s) * [1, 2];  h_t = x_t + o a_t
    #   m_t = rms(h_t);  y_t = h_t + down (silu(m_t) * m_t);  logits_t = head rms(y_t)
    cfg = layouts.config_json("llama", vocab=3, hidden=2, layers=1, heads=1, intermediate=2,
                              max_positions=8, eps=0.0, dtype="float32", tie=False)
    z2, eye = torch.zeros(2, 2), torch.eye(2)
    o, down = [[0.0, 1.0], [0.5, 0.0]], [[1.0, 0.5], [0.0, 1.0]]
    head = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    w = {"model.embed_tokens.weight": torch.tensor([[3.0, 4.0], [2.0, 0.0], [0.0, 2.0]]),
         "model.layers.0.self_attn.q_proj.weight": z2, "model.layers.0.self_attn.k_proj.weight": z2,
         "model.layers.0.self_attn.v_proj.weight": eye,
         "model.layers.0.self_attn.o_proj.weight": torch.tensor(o),
         "model.layers.0.mlp.gate_proj.weight": eye, "model.layers.0.mlp.up_proj.weight": eye,
         "model.layers.0.mlp.down_proj.weight": torch.tensor(down),
         "model.layers.0.input_layernorm.weight": torch.tensor([1.0, 2.0]),
         "model.layers.0.post_attention_layernorm.weight": torch.ones(2),
         "model.norm.weight": torch.ones(2), "lm_head.weight": torch.tensor(head)}
    xs = [[3.0, 4.0], [2.0, 0.0]]
    normed = [_rms(x, [1.0, 2.0]) for x in xs]
    silu = lambda z: z / (1 + math.exp(-z))  # noqa: E731
    rows = []
    for t, x in enumerate(xs):
        a = [sum(n[i] for n in normed[:t + 1]) / (t + 1) for i in range(2)]
        h = [x[i] + _matvec(o, a)[i] for i in range(2)]
        m = _rms(h, [1.0, 1.0])
        y = [h[i] + _matvec(down, [silu(z) * z for z in m])[i] for i in range(2)]
        rows.append(_matvec(head, _rms(y, [1.0, 1.0])))
    close(ref.llama_logits(cfg, w, torch.tensor([[0, 1]]))[0], rows, 1e-5, "llama by hand")


@check
def gpt2_one_layer_by_hand(tmp):
    # d = 3, one head. c_attn (stored [in, out] = [3, 9]): q = bias [2, 0, 0] (weight 0),
    # k = a (identity), v = a Wv; so the score of key s is 2 a_s[0] / sqrt(3), which tells q from
    # k. c_proj = identity + [0.5, 0, 0]; MLP: c_fc weight 0, bias [1, 2] (n_inner 2),
    # c_proj [[1, 0, 0], [0.5, 0, 0]] adds [gelu(1) + 0.5 gelu(2), 0, 0]; tied head.
    eps = 1e-5
    cfg = layouts.config_json("gpt2", vocab=2, hidden=3, layers=1, heads=1, max_positions=4,
                              eps=eps, dtype="float32", n_inner=2)
    wv = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 1.0]]  # [in][out]
    c_attn = torch.zeros(3, 9)
    c_attn[:, 3:6] = torch.eye(3)
    c_attn[:, 6:] = torch.tensor(wv)
    c_attn_bias = torch.zeros(9)
    c_attn_bias[0] = 2.0
    wte, wpe = [[1.0, 3.0, 0.0], [2.0, -2.0, 1.0]], [[0.0, 0.0, 0.0], [1.0, 0.0, 0.5]]
    ln1_w, ln1_b, lnf_b = [1.0, 1.0, 2.0], [0.0, 0.5, 0.0], [0.25, -0.25, 0.0]
    w = {"wte.weight": torch.tensor(wte), "wpe.weight": torch.tensor(wpe + [[0.0] * 3] * 2),
         "h.0.ln_1.weight": torch.tensor(ln1_w), "h.0.ln_1.bias": torch.tensor(ln1_b),
         "h.0.attn.c_attn.weight": c_attn, "h.0.attn.c_attn.bias": c_attn_bias,
         "h.0.attn.c_proj.weight": torch.eye(3),
         "h.0.attn.c_proj.bias": torch.tensor([0.5, 0.0, 0.0]),
         "h.0.ln_2.weight": torch.ones(3), "h.0.ln_2.bias": torch.zeros(3),
         "h.0.mlp.c_fc.weight": torch.zeros(3, 2), "h.0.mlp.c_fc.bias": torch.tensor([1.0, 2.0]),
         "h.0.mlp.c_proj.weight": torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.0, 0.0]]),
         "h.0.mlp.c_proj.bias": torch.zeros(3),
         "ln_f.weight": torch.ones(3), "ln_f.bias": torch.tensor(lnf_b)}
    g1, g2 = torch.nn.functional.gelu(torch.tensor([1.0, 2.0]), approximate="tanh").tolist()
    xs = [[wte[0][i] + wpe[0][i] for i in range(3)], [wte[1][i] + wpe[1][i] for i in range(3)]]
    a = [_ln(x, ln1_w, ln1_b, eps) for x in xs]
    v = [[sum(a_s[i] * wv[i][j] for i in range(3)) for j in range(3)] for a_s in a]  # a Wv
    rows = []
    for t, x in enumerate(xs):
        scores = [2.0 * a[s][0] / math.sqrt(3) for s in range(t + 1)]
        e = [math.exp(z) for z in scores]
        att = [sum(e[s] * v[s][j] for s in range(t + 1)) / sum(e) for j in range(3)]
        h = [x[j] + att[j] + (0.5, 0.0, 0.0)[j] + (g1 + 0.5 * g2, 0.0, 0.0)[j] for j in range(3)]
        rows.append(_matvec(wte, _ln(h, [1.0] * 3, lnf_b, eps)))
    close(ref.gpt2_logits(cfg, w, torch.tensor([[0, 1]]))[0], rows, 1e-5, "gpt2 by hand")


def run(verbose=False):
    # Importing the other check modules registers their checks: scalar implementations, model
    # properties and fixtures, check-export.
    for module in ("selftest_scalar", "selftest_models", "selftest_export"):
        importlib.import_module(module)
    checks = harness.CHECKS
    start = time.monotonic()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="hf_fixtures_selftest_") as tmp:
        harness.FIXTURE_ROOT = os.path.join(tmp, "fixtures")
        for fn in checks:
            folder = os.path.join(tmp, fn.__name__)
            os.makedirs(folder)
            t0 = time.monotonic()
            try:
                fn(folder)
            except Exception as e:  # every failure is reported, then the next check runs
                failed += 1
                print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")
                if verbose:
                    traceback.print_exc()
            else:
                print(f"ok   {fn.__name__} ({time.monotonic() - t0:.2f} s)")
    took = time.monotonic() - start
    if failed:
        print(f"selftest: {failed} of {len(checks)} checks FAILED ({took:.1f} s)")
        return 1
    print(f"selftest: all {len(checks)} checks passed ({took:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run("-v" in sys.argv))
