"""Eager PyTorch reference for bench/zero3_bench.cpp, measured on the same machine in the same run.

The same GPT (pre-LN, fused qkv with bias, causal scaled-dot-product attention, GELU tanh MLP,
final LayerNorm, head tied to the token embedding), the same step (forward and backward of the
global batch, global-norm clipping at 1.0, AdamW with decay on matrices only, one loss.item()
per step), fp32 parameters under bf16 autocast (the C++ trainer keeps fp32 masters and computes
in bf16). Prints one markdown row per shape and AdamW implementation; tokens are random.

    python3 bench/torch_reference.py [--steps 10] [--shapes 124m,124m-pad,30m,3m]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = {  # key: (label, n_layer, n_head, d_model, seq_len, vocab, batch)
    "124m": ("GPT-2 124M (V50257)", 12, 12, 768, 1024, 50257, 16),
    "124m-pad": ("GPT-2 124M (V50304)", 12, 12, 768, 1024, 50304, 16),
    "30m": ("30M (L6 d640 h10 V256)", 6, 10, 640, 256, 256, 64),
    "3m": ("3.3M bytes (L4 d256 h4 V256)", 4, 4, 256, 256, 256, 64),
}


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (a.view(b, t, self.h, d // self.h).transpose(1, 2) for a in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, layers, heads, d, t, vocab):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(t, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))


def measure(key, steps, fused):
    label, layers, heads, d, t, vocab, batch = SHAPES[key]
    torch.manual_seed(0)
    model = GPT(layers, heads, d, t, vocab).cuda()
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), fused=fused)
    data = torch.randint(vocab, (4, batch, t + 1), device="cuda")
    warmup = 3
    for i in range(warmup + steps):
        if i == warmup:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        x, y = data[i % 4, :, :-1], data[i % 4, :, 1:]
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    n = sum(p.numel() for p in model.parameters()) - t * d
    tok = batch * t * steps / dt
    mfu = (6 * n + 12 * layers * t * d) * tok / 989e12
    return label, batch, t, "fused" if fused else "foreach", 1e3 * dt / steps, tok, mfu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--shapes", default="124m,124m-pad,30m,3m")
    a = ap.parse_args()
    print(f"\nPyTorch {torch.__version__} eager on {torch.cuda.get_device_name()}, measured now (bf16 autocast, fp32 params):\n")
    print("| shape | batch | AdamW | ms/step | tokens/s | MFU (989T) |\n|---|---|---|---|---|---|")
    for key in a.shapes.split(","):
        for fused in (False, True):
            label, batch, t, impl, ms, tok, mfu = measure(key, a.steps, fused)
            print(f"| {label} | {batch} x {t} | {impl} | {ms:.1f} | {tok / 1e3:.0f}K | {100 * mfu:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
