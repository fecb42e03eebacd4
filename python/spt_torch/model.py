"""A timm VisionTransformer with VPT prompts, as the Swift engine defines it: prompts right after
the class and register tokens — inserted once (shallow) or replacing those rows before every
block (deep) — and the head reading the class token or the mean of every later token (prompts
included), with the final LayerNorm before pooling (timm `norm`) or after it (`fc_norm`).
"""
import json
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from timm.models.vision_transformer import VisionTransformer

from .data import FILTERS, Preprocessing
from .inputs import InputError


@dataclass
class Backbone:
    vit: VisionTransformer        # frozen, eval mode
    pooling: str                  # "cls" or "mean"
    preprocessing: Preprocessing  # with the normalization


def load_backbone(path, resize=None, image_size=None):
    """A frozen timm ViT and its input preprocessing (`resize` "crop"|"squash" overrides the mode) from
    - this project's own backbone files (architecture in the safetensors metadata; their final
      LayerNorm sits after pooling: timm's fc_norm), or
    - a timm export: a hub-style folder (config.json + model.safetensors) or a `.safetensors` file
      with timm's config.json beside it, built by `timm.create_model` from the config's
      architecture and model_args, preprocessed as its pretrained_cfg says (timm's ViT defaults
      without one: mean/std 0.5, crop_pct 0.9, bicubic), at `image_size` (default: its
      pretrained_cfg's input size) with the position embeddings resampled by timm's own
      `set_input_size` (bicubic, antialiased), as the engine's `--image-size`. An MAE decoder is
      ignored; any other unknown tensor is an error."""
    config_path = None
    if os.path.isdir(path):
        config_path, path = os.path.join(path, "config.json"), os.path.join(path, "model.safetensors")
    elif os.path.exists(os.path.join(os.path.dirname(path), "config.json")):
        config_path = os.path.join(os.path.dirname(path), "config.json")
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
        weights = {k: f.get_tensor(k) for k in f.keys()}
    if "config" in meta:
        c = json.loads(meta["config"])
        if image_size and image_size != c["imageSize"]:
            raise InputError(f"--image-size {image_size}: this project's own backbones run at the size they were trained at ({c['imageSize']})")
        pooling = meta.get("pooling", "cls")
        norm = json.loads(meta.get("normalization", '{"mean": [0.5], "std": [0.5]}'))
        vit = VisionTransformer(img_size=c["imageSize"], patch_size=c["patchSize"], in_chans=c["channels"], num_classes=0,
                                embed_dim=c["dim"], depth=c["depth"], num_heads=c["heads"], mlp_ratio=c["mlpDim"] / c["dim"],
                                global_pool="avg" if pooling == "mean" else "token", fc_norm=True)
        weights = {("fc_" + k if k.startswith("norm.") else k): v for k, v in weights.items()}
        pre = Preprocessing(size=c["imageSize"], mean=tuple(norm["mean"]), std=tuple(norm["std"]))
    elif config_path and os.path.exists(config_path):
        import timm
        with open(config_path) as f:
            c = json.load(f)
        args = dict(c.get("model_args") or {})
        args.setdefault("num_classes", 0)
        if c.get("global_pool") is not None:
            args.setdefault("global_pool", c["global_pool"])
        vit = timm.create_model(c["architecture"], pretrained=False, **args)
        if not isinstance(vit, VisionTransformer):
            raise ValueError(f"{config_path}: {c['architecture']} is not a timm VisionTransformer")
        if vit.global_pool not in ("token", "avg"):
            raise ValueError(f"{config_path}: global_pool {vit.global_pool!r} (token and avg are read)")
        weights = {k: v for k, v in weights.items() if not k.startswith(("decoder", "mask_token"))
                   and not (k.startswith("head.") and args["num_classes"] == 0)}
        pooling = "mean" if vit.global_pool == "avg" else "cls"
        cfg = c.get("pretrained_cfg") or {}
        if cfg.get("interpolation", "bicubic") not in FILTERS:
            raise ValueError(f"{config_path}: interpolation {cfg['interpolation']!r} (bicubic and bilinear are read)")
        pre = Preprocessing(size=(cfg.get("input_size") or [0, 0, vit.patch_embed.img_size[0]])[2], mode="squash" if cfg.get("crop_mode") == "squash" else "crop",
                            crop_pct=cfg.get("crop_pct", 0.9), interpolation=cfg.get("interpolation", "bicubic"),
                            mean=tuple(cfg.get("mean", (0.5,) * 3)), std=tuple(cfg.get("std", (0.5,) * 3)))
    else:
        raise ValueError(f"{path}: neither this project's backbone (no config in its metadata) nor a timm export "
                         f"(no config.json beside it)")
    missing, unexpected = vit.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
    pre.size = image_size or pre.size
    patch = vit.patch_embed.patch_size[0]
    if pre.size % patch:
        raise InputError(f"--image-size {pre.size}: not a multiple of the backbone's patch size ({patch})")
    if pre.size != vit.patch_embed.img_size[0]:
        vit.set_input_size(img_size=(pre.size, pre.size))
    for p in vit.parameters():
        p.requires_grad_(False)
    if resize:
        pre.mode = resize
    return Backbone(vit.eval(), pooling, pre)


class PromptedViT(nn.Module):
    def __init__(self, vit, pooling, classes, prompts, deep):
        super().__init__()
        self.vit, self.pooling, self.deep, self.np = vit, pooling, deep, prompts
        D, layers = vit.embed_dim, (len(vit.blocks) if deep else 1)
        self.prompt_embeddings = nn.Parameter(torch.zeros(layers, prompts, D))
        self.head = nn.Linear(D, classes)

    def forward(self, images, observe=None, masks=None):
        """Logits; `observe(block, x)` sees each block's input (NMI); `masks` [layers, B, Np, D]
        multiply the prompts each image gets (prompt dropout, `dropout_masks`)."""
        v, B, P = self.vit, images.shape[0], self.vit.num_prefix_tokens

        def prompts(layer):
            p = self.prompt_embeddings[layer].expand(B, -1, -1)
            return p * masks[layer] if masks is not None else p
        x = v.norm_pre(v._pos_embed(v.patch_embed(images)))
        x = torch.cat([x[:, :P], prompts(0), x[:, P:]], 1)
        for i, block in enumerate(v.blocks):
            if self.deep and i > 0:
                x = torch.cat([x[:, :P], prompts(i), x[:, P + self.np:]], 1)
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

    def unfreeze(self):
        """`--mode full`: the backbone trains with the head."""
        for p in self.vit.parameters():
            p.requires_grad_(True)

    def trainable(self):
        """The parameters a step updates, in the engine's order: prompts and head, then the backbone's."""
        return [self.prompt_embeddings, self.head.weight, self.head.bias] + [p for p in self.vit.parameters() if p.requires_grad]

    def optimizer(self, kind, lr, weight_decay, momentum=0.9):
        """AdamW or SGD with momentum as the engine steps them: decay on the prompts and the head's
        weight, not its bias (SGD adds it to the gradient, AdamW decouples it); in full mode on the
        backbone's matrices, not on its biases, norms, class token or position embedding (the
        engine's `ParameterLayout`)."""
        decay, no_decay = [self.prompt_embeddings, self.head.weight], [self.head.bias]
        for name, p in self.vit.named_parameters():
            if p.requires_grad:
                keep = p.ndim <= 1 or name.endswith(".bias") or name in ("cls_token", "reg_token", "pos_embed")
                (no_decay if keep else decay).append(p)
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        if kind == "sgd":
            return torch.optim.SGD(groups, lr=lr, momentum=momentum)
        return torch.optim.AdamW(groups, lr=lr)


def dropout_masks(rng, p, layers, batch, prompts, dim):
    """The engine's prompt-dropout masks for a global batch (`ViTClassifier.fillDropoutMasks`): per
    element of every prompt layer × image × prompt × channel, in that order, 1/keep where the
    generator's next float32 uniform is below keep = 1 − p, else 0 (element-wise, not per token)."""
    keep = np.float32(1) - np.float32(p)
    scale = float(np.float32(1) / keep)
    keep = float(keep)
    values = [scale if rng.uniform() < keep else 0.0 for _ in range(layers * batch * prompts * dim)]
    return torch.tensor(values, dtype=torch.float32).view(layers, batch, prompts, dim)


def learning_rate(lr, step, total, warmup, min_lr=0.0, per_epoch=None):
    """Linear warmup (step 0 gets lr/warmup), then a half-cycle cosine to min_lr (the engine's).
    With `per_epoch` (VPT's recipe) the rate changes once per epoch: warmup from 0, then cosine to 0."""
    import math
    if per_epoch:
        e, warm, epochs = step // per_epoch, warmup // per_epoch, total // per_epoch
        if e < warm:
            return lr * e / warm
        return max(0.0, lr * 0.5 * (1 + math.cos(math.pi * (e - warm) / max(1, epochs - warm))))
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def loss(model, images, labels):
    return F.cross_entropy(model(images), labels)
