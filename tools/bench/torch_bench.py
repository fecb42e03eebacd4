#!/usr/bin/env python3
"""PyTorch eager twin of `spt bench`: the same ViT, batch and steps, timed the same way, each
step with its peak resident memory.

Prints one JSON object: images/s (and `<step>_rss`, bytes) for forward, VPT-shallow, VPT-deep and
linear-probe train steps and, with --full 1, full fine-tuning. `spt bench` runs this when `python3 -c "import torch"` works (or --python PATH).
"""
import argparse, ctypes, gc, json, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for k, v in dict(image=32, patch=4, channels=3, dim=192, depth=6, heads=3, mlp=768, batch=64, prompts=10, classes=10,
                 threads=2, warmup=15, iters=30, full=1).items():
    p.add_argument(f"--{k}", type=int, default=v)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
m = (a.image // a.patch) ** 2


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.norm1, s.norm2 = nn.LayerNorm(a.dim, eps=1e-6), nn.LayerNorm(a.dim, eps=1e-6)
        s.qkv, s.proj = nn.Linear(a.dim, 3 * a.dim), nn.Linear(a.dim, a.dim)
        s.fc1, s.fc2 = nn.Linear(a.dim, a.mlp), nn.Linear(a.mlp, a.dim)

    def forward(s, x):
        B, T, D = x.shape
        q, k, v = s.qkv(s.norm1(x)).reshape(B, T, 3, a.heads, D // a.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // a.heads), dim=-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(B, T, D))
        return x + s.fc2(F.gelu(s.fc1(s.norm2(x))))


class ViT(nn.Module):
    def __init__(s, prompts, deep):
        super().__init__()
        s.patch = nn.Conv2d(a.channels, a.dim, a.patch, a.patch)
        s.cls = nn.Parameter(torch.zeros(1, 1, a.dim))
        s.pos = nn.Parameter(torch.zeros(1, 1 + m, a.dim))
        s.blocks = nn.ModuleList(Block() for _ in range(a.depth))
        s.norm = nn.LayerNorm(a.dim, eps=1e-6)
        s.head = nn.Linear(a.dim, a.classes)
        s.np, s.deep = prompts, deep
        s.prompt = nn.Parameter(torch.randn(a.depth if deep else 1, max(prompts, 1), a.dim) * 0.06)

    def forward(s, img):
        B = img.shape[0]
        e = s.patch(img).flatten(2).transpose(1, 2) + s.pos[:, 1:]
        parts = [(s.cls + s.pos[:, :1]).expand(B, -1, -1)]
        if s.np:
            parts.append(s.prompt[0].expand(B, -1, -1))
        x = torch.cat(parts + [e], 1)
        for i, blk in enumerate(s.blocks):
            if s.np and s.deep and i > 0:
                x = torch.cat([x[:, :1], s.prompt[i].expand(B, -1, -1), x[:, 1 + s.np:]], 1)
            x = blk(x)
        return s.head(s.norm(x[:, 0]))


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


def timed(fn):
    for _ in range(a.warmup):
        fn()
    ts = []
    for _ in range(a.iters):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return a.batch / statistics.median(ts)


def measure(key, make):
    """Images/s of the step `make()` builds, and the peak memory from building it to the end."""
    reset_peak_rss()
    out[key] = timed(make())
    out[key + "_rss"] = peak_rss()


img = torch.randn(a.batch, a.channels, a.image, a.image)
lab = torch.randint(0, a.classes, (a.batch,))
out = {"torch": torch.__version__, "threads": a.threads}
def forward():
    model = ViT(a.prompts, False).eval()

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

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(img), lab).backward()
        opt.step()
    return step


measure("vpt_shallow", lambda: step_fn(ViT(a.prompts, False).train(), lambda n: n.startswith(("prompt", "head"))))
measure("vpt_deep", lambda: step_fn(ViT(a.prompts, True).train(), lambda n: n.startswith(("prompt", "head"))))
measure("linear", lambda: step_fn(ViT(0, False).train(), lambda n: n.startswith("head")))
if a.full:
    measure("full", lambda: step_fn(ViT(0, False).train(), lambda n: True))
print(json.dumps(out))
