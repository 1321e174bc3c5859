"""Self-test checks of whole models and of the fixtures `make` writes.

Model properties any correct implementation has, each checked on the fixtures' own weights:
causality, tied == untied when lm_head equals the embeddings, grouped-query attention == plain
multi-head attention with the kv heads repeated (and != with the wrong head mapping), a LoRA
adapter == its merged weights, GPT-2's bare and prefixed names giving the same model. Then the
fixture folders: layout, dtypes, config, references recomputed from the files as written,
adapters, determinism.
"""

import filecmp
import json
import os

import torch

import fixtures
import layouts
import reference_models as ref
import safetensors_io as st
from selftest_harness import check, close, fixture_dir


def weights_of(name):
    config, stored = fixtures.model_weights(name)
    return config, {k: t.float() for k, _, t in stored}


def run_model(config, w, tokens, lora=None):
    with torch.no_grad():
        return ref.logits(config, w, tokens, lora)


@check
def every_family_is_causal(tmp):
    for name in fixtures.MODELS:
        config, w = weights_of(name)
        tokens = fixtures.tokens_for(0, config["vocab_size"])
        changed = tokens.clone()
        changed[0, 6] = (changed[0, 6] + 1) % config["vocab_size"]
        a, b = run_model(config, w, tokens), run_model(config, w, changed)
        close(a[0, :6], b[0, :6], 1e-6, f"{name}: positions before the change")
        close(a[1], b[1], 1e-6, f"{name}: the other sequence")
        later = (a[0, 6:] - b[0, 6:]).abs().amax(-1).min()
        assert later > 1e-4, f"{name}: later positions did not change"


@check
def tied_equals_untied_with_the_embeddings_as_head(tmp):
    for name, embed in (("llama_gqa_untied_fp32", "model.embed_tokens.weight"),
                        ("gpt2_prefixed_fp32", "transformer.wte.weight")):
        config, w = weights_of(name)
        tokens = fixtures.tokens_for(1, config["vocab_size"])
        tied_cfg = dict(config, tie_word_embeddings=True)
        untied_cfg = dict(config, tie_word_embeddings=False)
        tied_w = {k: v for k, v in w.items() if k != "lm_head.weight"}
        untied_w = dict(w, **{"lm_head.weight": w[embed].clone()})
        a, b = run_model(tied_cfg, tied_w, tokens), run_model(untied_cfg, untied_w, tokens)
        close(a, b, 1e-6, f"{name}: tied vs untied with an equal head")
        other = dict(untied_w, **{"lm_head.weight": torch.randn(w[embed].shape)})
        assert (run_model(untied_cfg, other, tokens) - a).abs().max() > 1e-2, f"{name}: no head"


@check
def gqa_equals_mha_with_repeated_kv_heads(tmp):
    config, w = weights_of("llama_gqa_untied_fp32")
    heads, kv, hd = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    assert heads == 2 * kv
    tokens = fixtures.tokens_for(2, config["vocab_size"])
    gqa = run_model(config, w, tokens)

    def repeated(order):
        mha = dict(w)
        for i in range(config["num_hidden_layers"]):
            for proj in ("k_proj", "v_proj"):
                key = f"model.layers.{i}.self_attn.{proj}.weight"
                blocks = w[key].reshape(kv, hd, -1)  # one block of rows per kv head
                mha[key] = blocks[order].reshape(heads * hd, -1)
        return run_model(dict(config, num_key_value_heads=heads), mha, tokens)

    right = [j // (heads // kv) for j in range(heads)]  # query head j reads kv head j // group
    wrong = [j % kv for j in range(heads)]
    close(gqa, repeated(right), 1e-5, "GQA vs MHA with kv heads repeated")
    assert (gqa - repeated(wrong)).abs().max() > 1e-2, "the wrong head mapping gave the same logits"


@check
def lora_equals_its_merged_weights(tmp):
    for name in fixtures.ADAPTERS:
        config, adapter, aw = fixtures.adapter_weights(name)
        _, w = weights_of(fixtures.ADAPTERS[name][1])
        tokens = fixtures.tokens_for(3, config["vocab_size"])
        lora = ref.lora_from_adapter(aw, adapter)
        assert len(lora) == len(aw) // 2 and all(s == 2.0 for _, _, s in lora.values()), "alpha / r"
        with_lora = run_model(config, w, tokens, lora)
        merged = dict(w)
        gpt2 = layouts.family(config) == "gpt2"
        for path, (a, b, scale) in lora.items():
            key = path + ".weight"  # the fixtures' GPT-2 keys carry transformer., like PEFT's paths
            delta = scale * (b @ a)  # [out, in]
            merged[key] = w[key] + (delta.t() if gpt2 else delta)  # Conv1D stores [in, out]
        close(with_lora, run_model(config, merged, tokens), 1e-4, f"{name}: LoRA vs merged")
        base = run_model(config, w, tokens)
        assert (with_lora - base).abs().max() > 1e-2, f"{name}: the adapter changes nothing"
        zero_b = {p: (a, torch.zeros_like(b), s) for p, (a, b, s) in lora.items()}
        close(run_model(config, w, tokens, zero_b), base, 1e-6, f"{name}: B = 0 is the base")


@check
def gpt2_bare_and_prefixed_names_are_one_model(tmp):
    config, w = weights_of("gpt2_prefixed_fp32")
    bare = {k[len("transformer."):]: v for k, v in w.items()
            if k.startswith("transformer.") and not k.endswith((".attn.bias", ".attn.masked_bias"))}
    tokens = fixtures.tokens_for(4, config["vocab_size"])
    close(run_model(config, w, tokens), run_model(config, bare, tokens), 0, "bare vs prefixed")


@check
def llama_family_members_share_the_math(tmp):
    # mistral's weights under a llama config; qwen2 with its biases zeroed == llama without them
    config, w = weights_of("mistral_fp32")
    tokens = fixtures.tokens_for(5, config["vocab_size"])
    as_llama = dict(config, model_type="llama")
    close(run_model(config, w, tokens), run_model(as_llama, w, tokens), 0, "mistral vs llama")
    config, w = weights_of("qwen2_bias_fp32")
    tokens = fixtures.tokens_for(5, config["vocab_size"])
    no_bias = {k: v for k, v in w.items() if not k.endswith(".bias")}
    zeroed = {k: (torch.zeros_like(v) if k.endswith(".bias") else v) for k, v in w.items()}
    as_llama = dict(config, model_type="llama")
    close(run_model(config, zeroed, tokens), run_model(as_llama, no_bias, tokens), 1e-6,
          "qwen2 with zero biases vs llama")


def header_dtypes(folder):
    files, _ = st.folder_files(folder)
    headers = [st.read_header(os.path.join(folder, f))[0] for f in files]
    return {k: e["dtype"] for h in headers for k, e in h.items()}


def check_reference(folder, config, weights, lora=None):
    r = fixtures.load_folder_weights(folder, stem="reference")
    tokens, logits, loss = r["tokens"], r["logits"], r["loss"]
    assert tokens.dtype == torch.int64 and tuple(tokens.shape) == (2, 12), tokens.shape
    assert int(tokens.max()) < config["vocab_size"] and int(tokens.min()) >= 0
    assert tuple(logits.shape) == (2, 12, config["vocab_size"]) and loss.shape == (), logits.shape
    close(run_model(config, weights, tokens, lora), logits, 1e-5,
          f"{folder}: logits from the files")
    want = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, config["vocab_size"]),
                                             tokens[:, 1:].reshape(-1))
    close(loss, want, 1e-5, f"{folder}: loss")
    return tokens, logits


@check
def fixtures_have_the_layouts_and_their_references(tmp):
    root = fixture_dir()
    for name, (_, _, opts) in fixtures.MODELS.items():
        folder = os.path.join(root, name)
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        assert config == fixtures.model_config(name), f"{name}: config.json"
        w = fixtures.load_folder_weights(folder)
        layout = layouts.model_layout(config, opts.get("gpt2_prefix", True),
                                      opts.get("gpt2_buffers", False))
        assert {k: tuple(s) for k, s, _ in layout} == {k: tuple(v.shape) for k, v in w.items()}
        roles = {k: r for k, _, r in layout}
        for k, v in w.items():  # every weight random: no constant tensor, norms near (not at) 1
            if roles[k] not in ("mask", "masked_bias"):
                assert v.float().std() > 0.05, f"{name}: {k} is (nearly) constant"
            if roles[k] == "norm":
                assert 0.8 < v.float().mean() < 1.2, f"{name}: {k} mean {v.float().mean()}"
        dtypes = set(d for k, d in header_dtypes(folder).items()
                     if roles[k] not in ("mask", "masked_bias"))
        assert dtypes == {opts["dtype"]}, f"{name}: dtypes {dtypes}"
        vocab = config["vocab_size"]
        wanted = vocab == 256 if name == "llama_bytes_tiny" else vocab % 64 != 0
        assert wanted, f"{name}: vocab {vocab}"
        assert ("lm_head.weight" in w) == (not layouts.tied(config)), f"{name}: lm_head vs tie"
        check_reference(folder, config, w)
    # The fixture-specific points of each
    g = fixtures.load_folder_weights(os.path.join(root, "gpt2_prefixed_fp32"))
    mask = torch.ones(64, 64).tril().reshape(1, 1, 64, 64)
    assert torch.equal(g["transformer.h.1.attn.bias"], mask)
    assert g["transformer.h.0.attn.masked_bias"].item() == -1e4
    bare = fixtures.load_folder_weights(os.path.join(root, "gpt2_bare_bf16"))
    assert not any(k.startswith("transformer.") for k in bare)
    files, index = st.folder_files(os.path.join(root, "llama_tied_bf16_sharded"))
    assert len(files) == 3 and len(set(index.values())) == 3, files
    assert fixtures.model_config("llama_headdim")["head_dim"] * 4 != 48
    assert fixtures.model_config("llama_gqa_untied_fp32")["rope_theta"] == 500000.0


@check
def adapters_follow_peft_and_their_references(tmp):
    root = fixture_dir()
    for name, (_, base, targets, r, alpha) in fixtures.ADAPTERS.items():
        folder = os.path.join(root, name)
        with open(os.path.join(folder, "adapter_config.json")) as f:
            adapter = json.load(f)
        fields = (adapter["peft_type"], adapter["task_type"], adapter["r"], adapter["lora_alpha"])
        assert fields == ("LORA", "CAUSAL_LM", r, alpha), fields
        assert adapter["base_model_name_or_path"] == os.path.abspath(os.path.join(root, base))
        assert adapter["fan_in_fan_out"] == base.startswith("gpt2"), adapter["fan_in_fan_out"]
        with open(os.path.join(root, base, "config.json")) as f:
            config = json.load(f)
        aw = fixtures.load_folder_weights(folder, stem="adapter_model")
        layers = config.get("num_hidden_layers", config.get("n_layer"))
        assert len(aw) == 2 * len(targets) * layers, sorted(aw)
        for k, shape, _ in layouts.adapter_layout(config, adapter):
            assert tuple(aw[k].shape) == shape, (k, aw[k].shape, shape)
            assert aw[k].std() > 0.01, f"{k} is not random (PEFT's B starts at 0; ours must not)"
        base_w = fixtures.load_folder_weights(os.path.join(root, base))
        tokens, logits = check_reference(folder, config, base_w, ref.lora_from_adapter(aw, adapter))
        base_ref = fixtures.load_folder_weights(os.path.join(root, base), stem="reference")
        assert torch.equal(tokens, base_ref["tokens"]), "the adapter's tokens are the base's"
        assert (logits - base_ref["logits"]).abs().max() > 1e-2, "the adapter changes nothing"
    key = "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"
    gpt2 = fixtures.load_folder_weights(os.path.join(root, "gpt2_lora_adapter"), "adapter_model")
    assert tuple(gpt2[key].shape) == (4, 48), gpt2[key].shape


@check
def make_is_deterministic_and_brings_an_adapters_base(tmp):
    root = fixture_dir()
    again = os.path.join(tmp, "again")
    names = fixtures.make(again, ["llama_lora_adapter", "llama_tied_bf16_sharded",
                                  "gpt2_bare_bf16"])
    assert names[0] == "llama_gqa_untied_fp32", names
    for name in names:
        a, b = os.path.join(root, name), os.path.join(again, name)
        assert sorted(os.listdir(a)) == sorted(os.listdir(b)), name
        for f in os.listdir(a):
            if f == "adapter_config.json":  # the base's path differs, nothing else may
                ja, jb = (json.load(open(os.path.join(d, f))) for d in (a, b))
                ja.pop("base_model_name_or_path"), jb.pop("base_model_name_or_path")
                assert ja == jb
            else:
                same = filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False)
                assert same, f"{name}/{f} differs"
    try:
        fixtures.make(again, ["no_such_fixture"])
    except ValueError as e:
        assert "no_such_fixture" in str(e)
    else:
        raise AssertionError("an unknown fixture name was accepted")


@check
def large_model_is_about_the_asked_size(tmp):
    assert fixtures.parse_count("100M") == 100_000_000
    assert fixtures.parse_count("1.5B") == 1_500_000_000
    config, n = fixtures.large_config(100_000_000)
    assert abs(n - 100e6) < 4e6, n  # one layer is ~6.3M parameters
    shape = tuple(config[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads",
                                      "vocab_size", "tie_word_embeddings", "torch_dtype"))
    assert shape == (768, 12, 4, 32000, True, "bfloat16"), shape
    assert layouts.model_layout(config)[-1][0] == "model.norm.weight", "tied: no lm_head"
