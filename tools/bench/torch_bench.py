#!/usr/bin/env python3
"""PyTorch twin of `spt bench`: timm's own ViT of the same shape, batch and steps, timed the same
way, each step with its peak resident memory, eager or compiled (`--compile 1`: the model under
`torch.compile`, inductor's default mode; the first calls, which compile, are timed apart as
`<step>_compile_s` and left out of the rate).

Prints one JSON object: images/s (and `<step>_rss`, bytes) for forward, VPT-shallow, VPT-deep and
linear-probe train steps and, with --full 1, full fine-tuning. `spt bench` runs this when `python3 -c "import torch"` works (or --python PATH).
"""
import argparse, ctypes, gc, json, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.models.vision_transformer import VisionTransformer

p = argparse.ArgumentParser()
for k, v in dict(image=32, patch=4, channels=3, dim=192, depth=6, heads=3, mlp=768, batch=64, prompts=10, classes=10,
                 threads=2, warmup=15, iters=30, full=1).items():
    p.add_argument(f"--{k}", type=int, default=v)
p.add_argument("--autocast", choices=["none", "bf16"], default="none",
               help="bf16: every step under torch.autocast('cpu', dtype=torch.bfloat16)")
p.add_argument("--compile", type=int, default=0, help="1: the model under torch.compile (inductor)")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
m = (a.image // a.patch) ** 2


class ViT(nn.Module):
    """timm's own VisionTransformer with VPT prompts after the class token (shallow: once; deep:
    replaced before every block), run through timm's modules as its forward_features does."""

    def __init__(s, prompts, deep):
        super().__init__()
        s.vit = VisionTransformer(img_size=a.image, patch_size=a.patch, in_chans=a.channels, num_classes=a.classes,
                                  embed_dim=a.dim, depth=a.depth, num_heads=a.heads, mlp_ratio=a.mlp / a.dim)
        s.np, s.deep = prompts, deep
        s.prompt = nn.Parameter(torch.randn(a.depth if deep else 1, max(prompts, 1), a.dim) * 0.06)

    def forward(s, img):
        v, B = s.vit, img.shape[0]
        x = v.norm_pre(v._pos_embed(v.patch_embed(img)))
        if s.np:
            x = torch.cat([x[:, :1], s.prompt[0].expand(B, -1, -1), x[:, 1:]], 1)
        for i, blk in enumerate(v.blocks):
            if s.np and s.deep and i > 0:
                x = torch.cat([x[:, :1], s.prompt[i].expand(B, -1, -1), x[:, 1 + s.np:]], 1)
            x = blk(x)
        return v.forward_head(v.norm(x))


def reset_peak_rss():
    """Linux: hand freed memory back, then restart the peak-RSS mark (VmHWM): each step reports its own."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))


def timed(fn, key):
    if a.autocast == "bf16":
        plain = fn

        def fn():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                plain()
    if a.compile:
        # Inductor compiles the forward at the first call and the backward at the first
        # backward; the second call is the first at speed.
        t = time.perf_counter(); fn(); fn(); out[key + "_compile_s"] = time.perf_counter() - t
    for _ in range(a.warmup):
        fn()
    ts = []
    for _ in range(a.iters):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return a.batch / statistics.median(ts)


def measure(key, make):
    """Images/s of the step `make()` builds, and the peak memory from building it to the end."""
    reset_peak_rss()
    out[key] = timed(make(), key)
    out[key + "_rss"] = peak_rss()


img = torch.randn(a.batch, a.channels, a.image, a.image)
lab = torch.randint(0, a.classes, (a.batch,))
import timm
out = {"torch": torch.__version__, "timm": timm.__version__, "threads": a.threads, "autocast": a.autocast, "compile": a.compile}


def compiled(model):
    return torch.compile(model) if a.compile else model


def forward():
    model = compiled(ViT(a.prompts, False).eval())

    def run():
        with torch.no_grad():
            model(img)
    return run


measure("forward", forward)


def step_fn(model, trainable):
    for p_ in model.parameters():
        p_.requires_grad_(False)
    params = [p_ for n, p_ in model.named_parameters() if trainable(n)]
    for p_ in params:
        p_.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=1e-3)
    run = compiled(model)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(run(img), lab).backward()
        opt.step()
    return step


measure("vpt-shallow", lambda: step_fn(ViT(a.prompts, False).train(), lambda n: n.startswith(("prompt", "vit.head"))))
measure("vpt-deep", lambda: step_fn(ViT(a.prompts, True).train(), lambda n: n.startswith(("prompt", "vit.head"))))
measure("linear-probe", lambda: step_fn(ViT(0, False).train(), lambda n: n.startswith("vit.head")))
if a.full:
    measure("full", lambda: step_fn(ViT(0, False).train(), lambda n: True))
print(json.dumps(out))
