#!/usr/bin/env python3
"""Independent PyTorch twin of the engine's ViT with VPT prompts.

Writes Tests/SPTEngineTests/Fixtures/vit_reference.safetensors: weights, an input batch, and for
each case the logits, loss, gradients of every tensor and of the input, and 5 optimizer steps'
losses (AdamW and SGD, prompts + head trainable). The Swift test compares every tensor by name.

Run by hand (CI never needs Python):
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch==2.13.0 safetensors
    /tmp/venv/bin/python tools/reference/vit_reference.py
"""
import json, math, pathlib
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # the reference is computed in double precision

CFG = dict(imageSize=8, patchSize=4, channels=3, dim=16, depth=2, heads=2, mlpDim=32)
K, NP, B = 5, 3, 4
S, P, C, D, L, H, M = (CFG[k] for k in ("imageSize", "patchSize", "channels", "dim", "depth", "heads", "mlpDim"))
m = (S // P) ** 2
ADAMW = dict(lr=1e-2, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8)
SGD = dict(lr=0.1, momentum=0.9, weight_decay=1e-3)


def backbone_weights():
    w = {"cls_token": torch.randn(1, 1, D) * 0.5, "pos_embed": torch.randn(1, 1 + m, D) * 0.5,
         "patch_embed.proj.weight": torch.randn(D, C, P, P) * 0.3, "patch_embed.proj.bias": torch.randn(D) * 0.1}
    for i in range(L):
        p = f"blocks.{i}."
        w[p + "norm1.weight"] = 1 + 0.1 * torch.randn(D); w[p + "norm1.bias"] = 0.1 * torch.randn(D)
        w[p + "attn.qkv.weight"] = torch.randn(3 * D, D) * 0.3; w[p + "attn.qkv.bias"] = 0.1 * torch.randn(3 * D)
        w[p + "attn.proj.weight"] = torch.randn(D, D) * 0.3; w[p + "attn.proj.bias"] = 0.1 * torch.randn(D)
        w[p + "norm2.weight"] = 1 + 0.1 * torch.randn(D); w[p + "norm2.bias"] = 0.1 * torch.randn(D)
        w[p + "mlp.fc1.weight"] = torch.randn(M, D) * 0.3; w[p + "mlp.fc1.bias"] = 0.1 * torch.randn(M)
        w[p + "mlp.fc2.weight"] = torch.randn(D, M) * 0.2; w[p + "mlp.fc2.bias"] = 0.1 * torch.randn(D)
    w["norm.weight"] = 1 + 0.1 * torch.randn(D); w["norm.bias"] = 0.1 * torch.randn(D)
    return w


def block(x, w, p):
    Bq, T, _ = x.shape
    h = F.layer_norm(x, (D,), w[p + "norm1.weight"], w[p + "norm1.bias"], eps=1e-6)
    qkv = (h @ w[p + "attn.qkv.weight"].T + w[p + "attn.qkv.bias"]).reshape(Bq, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // H), dim=-1)
    y = (a @ v).transpose(1, 2).reshape(Bq, T, D)
    x = x + y @ w[p + "attn.proj.weight"].T + w[p + "attn.proj.bias"]
    h = F.layer_norm(x, (D,), w[p + "norm2.weight"], w[p + "norm2.bias"], eps=1e-6)
    h = F.gelu(h @ w[p + "mlp.fc1.weight"].T + w[p + "mlp.fc1.bias"])
    return x + h @ w[p + "mlp.fc2.weight"].T + w[p + "mlp.fc2.bias"]


def forward(w, images, deep, pooling):
    Bq = images.shape[0]
    emb = F.conv2d(images, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=P)
    emb = emb.flatten(2).transpose(1, 2)  # [B, m, D], patch j = gy * (S/P) + gx
    pos = w["pos_embed"]
    cls = (w["cls_token"] + pos[:, :1]).expand(Bq, -1, -1)
    prompts = w["prompt_embeddings"]
    x = torch.cat([cls, prompts[0].expand(Bq, -1, -1), emb + pos[:, 1:]], dim=1)
    for i in range(L):
        if deep and i > 0:
            x = torch.cat([x[:, :1], prompts[i].expand(Bq, -1, -1), x[:, 1 + NP:]], dim=1)
        x = block(x, w, f"blocks.{i}.")
    feat = x[:, 0] if pooling == "cls" else x[:, 1:].mean(dim=1)
    feat = F.layer_norm(feat, (D,), w["norm.weight"], w["norm.bias"], eps=1e-6)
    return feat @ w["head.weight"].T + w["head.bias"]


def train_losses(w0, images, labels, deep, pooling, kind):
    w = {k: v.clone() for k, v in w0.items()}
    names = ["prompt_embeddings", "head.weight", "head.bias"]
    for n in names:
        w[n].requires_grad_(True)
    decay = [w[n] for n in names if w[n].ndim > 1]
    no_decay = [w[n] for n in names if w[n].ndim <= 1]
    if kind == "adamw":
        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], **ADAMW)
    else:
        opt = torch.optim.SGD([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], **SGD)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(forward(w, images, deep, pooling), labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return torch.tensor(losses)


def main():
    w = backbone_weights()
    w["prompt_embeddings"] = torch.randn(L, NP, D) * 0.5  # deep uses all L sets, shallow the first
    w["head.weight"] = torch.randn(K, D) * 0.3
    w["head.bias"] = torch.randn(K) * 0.1
    images = torch.randn(B, C, S, S)
    labels = torch.tensor([0, 3, 1, 4])
    out = {k: v for k, v in w.items()}
    out["input"] = images
    out["labels"] = labels.to(torch.float64)
    for deep, pooling in [(False, "cls"), (True, "mean")]:
        case = f"{'deep' if deep else 'shallow'}_{pooling}"
        wc = {k: v.clone().requires_grad_(True) for k, v in w.items()}
        x = images.clone().requires_grad_(True)
        logits = forward(wc, x, deep, pooling)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        out[f"{case}.logits"] = logits.detach()
        out[f"{case}.loss"] = loss.detach().reshape(1)
        out[f"{case}.grad.input"] = x.grad
        for k, v in wc.items():
            g = v.grad if v.grad is not None else torch.zeros_like(v)
            if k == "prompt_embeddings" and not deep:
                g = g[:1]
            out[f"{case}.grad.{k}"] = g
        for kind in ("adamw", "sgd"):
            out[f"{case}.{kind}_losses"] = train_losses(w, images, labels, deep, pooling, kind)
    out = {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}
    meta = {"config": json.dumps(CFG), "classes": str(K), "prompts": str(NP),
            "adamw": json.dumps(ADAMW), "sgd": json.dumps(SGD), "torch": torch.__version__}
    dst = pathlib.Path(__file__).resolve().parents[2] / "Tests/SPTEngineTests/Fixtures/vit_reference.safetensors"
    save_file(out, str(dst), metadata=meta)
    print(f"wrote {dst} ({len(out)} tensors)")


if __name__ == "__main__":
    main()
