"""Self-test checks of check-export: correct folders pass, broken ones fail with the right line.

The correct folders are the fixtures themselves where they are what save_pretrained writes (the
llama family, the adapters) and a GPT-2 export assembled from the layout (prefixed, no buffers).
Each broken folder is a correct one with one thing wrong: a renamed tensor, a wrong shape, a
missing tensor, an extra buffer, a head that tied embeddings must not have, a changed config key,
an unpadded header, a wrong format tag, a bad index, and, for adapters, missing or misshapen
LoRA pairs and wrong PEFT fields. The CLI's exit codes are checked too.
"""

import json
import os
import shutil
import subprocess
import sys

import check_export
import safetensors_io as st
from selftest_harness import check, fixture_dir

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf_fixtures.py")


def copy_fixture(name, tmp, as_name=None):
    dst = os.path.join(tmp, as_name or name)
    shutil.copytree(os.path.join(fixture_dir(), name), dst)
    return dst


def rewrite(path, edit):
    """Rewrites a safetensors file with edit([(name, dtype, shape, data)]) -> the new list."""
    tensors = [(k, d, s, b) for k, (d, s, b) in st.read_tensors(path).items()]
    st.write_file(path, edit(tensors))


def gpt2_export(tmp):
    """gpt2_prefixed_fp32 as GPT2LMHeadModel.save_pretrained writes it today: no buffers."""
    folder = copy_fixture("gpt2_prefixed_fp32", tmp, "gpt2_export")
    rewrite(os.path.join(folder, "model.safetensors"),
            lambda ts: [t for t in ts if not t[0].endswith((".attn.bias", ".attn.masked_bias"))])
    return folder


def expect(folder, base, adapter, *wanted):
    base_dir = os.path.join(fixture_dir(), base)
    problems, summary = check_export.check_export(folder, base_dir, adapter)
    if not wanted:
        assert not problems, f"{folder}: a correct folder was rejected: {problems}"
        assert summary.startswith("OK: "), summary
        return
    text = "\n".join(problems)
    for w in wanted:
        assert w in text, f"{folder}: expected a problem saying {w!r}, got:\n{text or '(none)'}"


@check
def check_export_accepts_correct_folders(tmp):
    for name in ("llama_gqa_untied_fp32", "llama_tied_bf16_sharded", "llama_headdim",
                 "qwen2_bias_fp32", "mistral_fp32", "llama_bytes_tiny"):
        expect(os.path.join(fixture_dir(), name), name, False)
    expect(gpt2_export(tmp), "gpt2_prefixed_fp32", False)
    expect(os.path.join(fixture_dir(), "llama_lora_adapter"), "llama_gqa_untied_fp32", True)
    expect(os.path.join(fixture_dir(), "gpt2_lora_adapter"), "gpt2_prefixed_fp32", True)


@check
def check_export_rejects_broken_models(tmp):
    root = fixture_dir()
    # GPT-2 as older transformers / GPT2Model wrote it: buffers, bare names
    expect(os.path.join(root, "gpt2_prefixed_fp32"), "gpt2_prefixed_fp32", False,
           "unexpected tensor transformer.h.0.attn.bias (a buffer",
           "transformer.h.1.attn.masked_bias")
    problems, _ = check_export.check_export(os.path.join(root, "gpt2_bare_bf16"),
                                            os.path.join(root, "gpt2_bare_bf16"))
    assert len(problems) == 1 and "names lack the transformer. prefix" in problems[0], problems
    folder = copy_fixture("gpt2_bare_bf16", tmp, "bare_and_misshapen")
    rewrite(os.path.join(folder, "model.safetensors"), lambda ts: [
        t if t[0] != "h.1.mlp.c_fc.weight" else (t[0], t[1], (80, 32), t[3]) for t in ts])
    expect(folder, "gpt2_bare_bf16", False, "names lack the transformer. prefix",
           "transformer.h.1.mlp.c_fc.weight has shape [80, 32], expected [32, 80]")
    folder = copy_fixture("gpt2_bare_bf16", tmp, "mixed_names")
    rewrite(os.path.join(folder, "model.safetensors"), lambda ts: [
        (("transformer." + t[0]) if t[0] != "h.0.ln_1.bias" else t[0],) + t[1:] for t in ts])
    expect(folder, "gpt2_bare_bf16", False, "missing tensor transformer.h.0.ln_1.bias [32]",
           "unexpected tensor h.0.ln_1.bias (GPT2LMHeadModel's names carry the transformer. "
           "prefix)")
    k_proj = "model.layers.0.self_attn.k_proj.weight"
    cases = {
        "renamed": (lambda ts: [(t[0].replace("layers.1.mlp.up_proj", "layers.1.mlp.upproj"),)
                                + t[1:] for t in ts],
                    ["missing tensor model.layers.1.mlp.up_proj.weight [160, 64]",
                     "unexpected tensor model.layers.1.mlp.upproj.weight"]),
        "reshaped": (lambda ts: [t if t[0] != k_proj else (t[0], t[1], (64, 32), t[3]) for t in ts],
                     [f"{k_proj} has shape [64, 32], expected [32, 64]"]),
        "missing": (lambda ts: [t for t in ts if t[0] != "model.norm.weight"],
                    ["missing tensor model.norm.weight [64]"]),
        "int64": (lambda ts: ts + [("extra.step", "I64", (), b"\0" * 8)],
                  ["extra.step is I64", "unexpected tensor extra.step"]),
    }
    for case, (edit, wanted) in cases.items():
        folder = copy_fixture("llama_gqa_untied_fp32", tmp, case)
        rewrite(os.path.join(folder, "model.safetensors"), edit)
        expect(folder, "llama_gqa_untied_fp32", False, *wanted)
    # a tied model with a head
    folder = copy_fixture("llama_bytes_tiny", tmp, "tied_with_head")
    rewrite(os.path.join(folder, "model.safetensors"), lambda ts: ts + [
        ("lm_head.weight",) + next(t for t in ts if t[0] == "model.embed_tokens.weight")[1:]])
    expect(folder, "llama_bytes_tiny", False, "unexpected tensor lm_head.weight (tied embeddings")


@check
def check_export_rejects_broken_configs_and_files(tmp):
    folder = copy_fixture("qwen2_bias_fp32", tmp, "config")
    path = os.path.join(folder, "config.json")
    config = json.load(open(path))
    config.update(num_key_value_heads=4, rope_theta=10000.0, tie_word_embeddings=1)
    json.dump(config, open(path, "w"))
    expect(folder, "qwen2_bias_fp32", False, "num_key_value_heads is 4, the base has 2",
           "rope_theta is 10000.0, the base has 1000000.0",
           "tie_word_embeddings is 1, the base has true")
    os.unlink(path)
    expect(folder, "qwen2_bias_fp32", False, "config.json: missing")

    folder = copy_fixture("mistral_fp32", tmp, "unpadded")
    path = os.path.join(folder, "model.safetensors")
    entries, _, n, _ = st.read_header(path)
    with open(path, "rb") as f:
        f.seek(8)
        header = f.read(n).rstrip(b" ")
        data = f.read()
    header = header.replace(b'"format":"pt"', b'"format":"np"')
    header += b" " if len(header) % 8 == 0 else b""
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header + data)
    expect(folder, "mistral_fp32", False, "not padded to a multiple of 8", '{"format": "np"}')
    with open(path, "ab") as f:
        f.write(b"\0" * 4)
    expect(folder, "mistral_fp32", False, "the file holds")

    folder = copy_fixture("llama_tied_bf16_sharded", tmp, "index")
    path = os.path.join(folder, "model.safetensors.index.json")
    index = json.load(open(path))
    index["metadata"]["total_size"] += 2
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00003.safetensors"
    json.dump(index, open(path, "w"))
    expect(folder, "llama_tied_bf16_sharded", False, "metadata.total_size",
           "holds model.norm.weight, which the index maps to model-00001-of-00003.safetensors")
    os.unlink(os.path.join(folder, "model-00002-of-00003.safetensors"))
    expect(folder, "llama_tied_bf16_sharded", False,
           "missing tensor model.layers.0.mlp.down_proj.weight")


@check
def check_export_rejects_broken_adapters(tmp):
    base = "llama_gqa_untied_fp32"
    a = "base_model.model.model.layers.1.self_attn.v_proj"
    cases = {
        "no_b": (lambda ts: [t for t in ts if t[0] != a + ".lora_B.weight"],
                 [f"missing tensor {a}.lora_B.weight [32, 4]"]),
        "rank": (lambda ts: [t if t[0] != a + ".lora_A.weight" else (t[0], t[1], (8, 32), t[3])
                             for t in ts],
                 [f"{a}.lora_A.weight has shape [8, 32], expected [4, 64]"]),
        "named": (lambda ts: [(t[0].replace(".lora_A.weight", ".lora_A.default.weight"),) + t[1:]
                              for t in ts],
                  [f"unexpected tensor {a}.lora_A.default.weight "
                   "(PEFT saves keys without the adapter name)"]),
    }
    for case, (edit, wanted) in cases.items():
        folder = copy_fixture("llama_lora_adapter", tmp, case)
        rewrite(os.path.join(folder, "adapter_model.safetensors"), edit)
        expect(folder, base, True, *wanted)
    folder = copy_fixture("llama_lora_adapter", tmp, "fields")
    path = os.path.join(folder, "adapter_config.json")
    adapter = json.load(open(path))
    del adapter["peft_type"]
    adapter.update(task_type="SEQ_CLS", target_modules=["q_proj", "qkv"], fan_in_fan_out=True,
                   use_dora=True)
    json.dump(adapter, open(path, "w"))
    expect(folder, base, True, "missing peft_type", 'task_type is "SEQ_CLS"',
           "fan_in_fan_out is true, needs false",
           "target module 'qkv' matches no linear", "use_dora is true",
           "unexpected tensor base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight")
    folder = copy_fixture("gpt2_lora_adapter", tmp, "gpt2_fan")
    path = os.path.join(folder, "adapter_config.json")
    json.dump(dict(json.load(open(path)), fan_in_fan_out=False), open(path, "w"))
    expect(folder, "gpt2_prefixed_fp32", True,
           "fan_in_fan_out is false, needs true (GPT-2's Conv1D")
    os.unlink(os.path.join(folder, "adapter_model.safetensors"))
    expect(folder, "gpt2_prefixed_fp32", True, "adapter_model.safetensors: missing")


@check
def check_export_cli_exit_codes(tmp):
    root = fixture_dir()

    def cli(*args):
        p = subprocess.run([sys.executable, SCRIPT, "check-export", *args],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr

    at = lambda name: os.path.join(root, name)  # noqa: E731
    rc, out = cli(at("llama_headdim"), "--base", at("llama_headdim"))
    assert rc == 0 and out.startswith("OK: ") and out.count("\n") == 1, (rc, out)
    rc, out = cli(at("gpt2_lora_adapter"), "--base", at("gpt2_prefixed_fp32"), "--adapter")
    assert rc == 0 and "LoRA adapter layout" in out, (rc, out)
    rc, out = cli(at("gpt2_prefixed_fp32"), "--base", at("gpt2_prefixed_fp32"))
    lines = out.splitlines()
    assert rc == 1 and lines[-1].startswith("FAILED: 4 problem(s)") and len(lines) == 5, (rc, out)
    rc, out = cli(at("llama_headdim"))  # no --base
    assert rc == 2 and "--base" in out, (rc, out)


@check
def check_export_honours_layers_to_transform(tmp):
    # An adapter on layer 1 only: its layer-0 pairs are then unexpected, and a layer number the
    # model lacks is refused.
    folder = copy_fixture("llama_lora_adapter", tmp, "layer1")
    path = os.path.join(folder, "adapter_config.json")
    json.dump(dict(json.load(open(path)), layers_to_transform=[1]), open(path, "w"))
    expect(folder, "llama_gqa_untied_fp32", True,
           "unexpected tensor base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
    rewrite(os.path.join(folder, "adapter_model.safetensors"),
            lambda ts: [t for t in ts if ".layers.0." not in t[0]])
    expect(folder, "llama_gqa_untied_fp32", True)
    json.dump(dict(json.load(open(path)), layers_to_transform=[2]), open(path, "w"))
    expect(folder, "llama_gqa_untied_fp32", True, "layers_to_transform is [2], needs null or "
           "layer numbers below 2")
