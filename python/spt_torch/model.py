"""A timm VisionTransformer with VPT prompts, as the Swift engine defines it: prompts right after
the class and register tokens — inserted once (shallow) or replacing those rows before every
block (deep) — and the head reading the class token or the mean of every later token (prompts
included), with the final LayerNorm before pooling (timm `norm`) or after it (`fc_norm`).
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from timm.models.vision_transformer import VisionTransformer


def load_backbone(path):
    """A frozen timm ViT from a safetensors file: this project's own backbones (architecture in
    the metadata; their `norm` sits after pooling) or a timm export (`spt info` reads more
    variants; this loader covers the plain ViT). Returns (vit, pooling, mean, std)."""
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
        weights = {k: f.get_tensor(k) for k in f.keys()}
    if "config" in meta:
        c = json.loads(meta["config"])
        pooling = meta.get("pooling", "cls")
        norm = json.loads(meta.get("normalization", '{"mean": [0.5], "std": [0.5]}'))
        # This project's backbones apply their final LayerNorm to the pooled vector: timm's fc_norm.
        vit = VisionTransformer(img_size=c["imageSize"], patch_size=c["patchSize"], in_chans=c["channels"], num_classes=0,
                                embed_dim=c["dim"], depth=c["depth"], num_heads=c["heads"], mlp_ratio=c["mlpDim"] / c["dim"],
                                global_pool="avg" if pooling == "mean" else "token", fc_norm=True)
        weights = {("fc_" + k if k.startswith("norm.") else k): v for k, v in weights.items()}
        mean, std = norm["mean"], norm["std"]
    else:
        raise ValueError(f"{path}: only this project's own backbone files are read here so far")
    missing, unexpected = vit.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
    for p in vit.parameters():
        p.requires_grad_(False)
    return vit.eval(), pooling, mean, std


class PromptedViT(nn.Module):
    def __init__(self, vit, pooling, classes, prompts, deep):
        super().__init__()
        self.vit, self.pooling, self.deep, self.np = vit, pooling, deep, prompts
        D, layers = vit.embed_dim, (len(vit.blocks) if deep else 1)
        self.prompt_embeddings = nn.Parameter(torch.zeros(layers, prompts, D))
        self.head = nn.Linear(D, classes)

    def forward(self, images, observe=None):
        """Logits; `observe(block, x)` sees each block's input (NMI)."""
        v, B, P = self.vit, images.shape[0], self.vit.num_prefix_tokens
        x = v.norm_pre(v._pos_embed(v.patch_embed(images)))
        x = torch.cat([x[:, :P], self.prompt_embeddings[0].expand(B, -1, -1), x[:, P:]], 1)
        for i, block in enumerate(v.blocks):
            if self.deep and i > 0:
                x = torch.cat([x[:, :P], self.prompt_embeddings[i].expand(B, -1, -1), x[:, P + self.np:]], 1)
            if observe:
                observe(block, x)
            x = block(x)
        x = v.norm(x)
        pooled = x[:, P:].mean(1) if self.pooling == "mean" else x[:, 0]
        return self.head(v.fc_norm(pooled))

    def load_init(self, path):
        """The initial prompts and head `spt train --save-init` wrote."""
        with safe_open(path, "pt") as f:
            self.prompt_embeddings.data.copy_(f.get_tensor("prompt_embeddings"))
            self.head.weight.data.copy_(f.get_tensor("head.weight"))
            self.head.bias.data.copy_(f.get_tensor("head.bias"))

    def optimizer(self, lr, weight_decay):
        """AdamW as the engine steps it: decay on the prompts and the head's weight, not its bias."""
        return torch.optim.AdamW([{"params": [self.prompt_embeddings, self.head.weight], "weight_decay": weight_decay},
                                  {"params": [self.head.bias], "weight_decay": 0.0}], lr=lr)


def learning_rate(lr, step, total, warmup, min_lr=0.0):
    """Linear warmup (step 0 gets lr/warmup), then a half-cycle cosine to min_lr (the engine's)."""
    import math
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def loss(model, images, labels):
    return F.cross_entropy(model(images), labels)
