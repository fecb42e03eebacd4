"""Normalized mutual information between prompt and patch tokens per block (docs/METHOD.md §4), as
the engine measures it (`Sources/SPTEngine/SPT/NMI.swift`): per image, scores s[k, j] between
prompt k and patch j — `tokens`: p·e/√D of the block's input; `attention`: q·k/√(D/H) of its own
projections, averaged over heads — a joint π ∝ σ(s), I(P; E) normalized by √(H_P·H_E) (`sqrt`) or
(H_P + H_E)/2 (`arithmetic`); averaged over the probe images. In the same pass, the attention the
prompts get (`PromptAttention.swift`): per block, the share of the softmax attention mass the class
token's query gives the prompt keys, and the patch queries' mean share, averaged over heads and
images."""
import math

import torch

from . import prompt_map


CADENCE_BUDGET, CADENCE_MULTIPLE = 0.05, 5


def cadence_steps(probe_seconds, step_seconds):
    """`--nmi-every auto` (the engine's `NMICadence.steps`): the smallest multiple of 5 steps at
    which a probe of `probe_seconds` costs at most 5% of training steps of `step_seconds`."""
    ratio = probe_seconds / max(step_seconds, 1e-9)
    return CADENCE_MULTIPLE * max(1, math.ceil(ratio / (CADENCE_MULTIPLE * CADENCE_BUDGET)))


def from_scores(s, normalization="sqrt"):
    """NMI of one score matrix [Np, m] (float64)."""
    pi = torch.sigmoid(s)
    total = pi.sum()
    if total <= 0:
        return 0.0
    pi = pi / total
    pk, pj = pi.sum(1), pi.sum(0)
    ratio = pi / (pk[:, None] * pj[None, :])
    mi = max(0.0, float(torch.where(pi > 0, pi * torch.log(ratio), torch.zeros_like(pi)).sum()))
    hp = -float(torch.where(pk > 0, pk * torch.log(pk), torch.zeros_like(pk)).sum())
    he = -float(torch.where(pj > 0, pj * torch.log(pj), torch.zeros_like(pj)).sum())
    if normalization == "sqrt":
        return mi / math.sqrt(hp * he) if hp > 0 and he > 0 else 0.0
    return 2 * mi / (hp + he) if hp + he > 0 else 0.0


@torch.no_grad()
def probe(model, images, mode="tokens", normalization="sqrt", map_basis=None):
    """Per-block NMI of a `PromptedViT` on `images` (normalized), averaged over the images, and the
    prompts' attention shares per block: {"nmi", "cls" (None without a class token), "patches"};
    with `map_basis` (a dict of per-block lists "centre", "axes", "explained", empty at a run's first
    map and filled in from this pass) also "map": {"prompts", "patches", "nearest"} per block."""
    P, Np = model.vit.num_prefix_tokens, model.np
    has_cls = getattr(model.vit, "cls_token", None) is not None
    out = {"nmi": [], "cls": [] if has_cls else None, "patches": []}
    if map_basis is not None:
        out["map"] = {"prompts": [], "patches": [], "nearest": [], "image_nearest": [], "image_attention": []}

    def observe(block, x):
        B, T, D = x.shape
        H = block.attn.num_heads
        qkv = block.attn.qkv(block.norm1(x)).reshape(B, T, 3, H, D // H)
        if mode == "tokens":
            prompts, patches, scale = x[:, P:P + Np], x[:, P + Np:], 1 / math.sqrt(D)
            scores = torch.einsum("bkd,bjd->bkj", prompts, patches) * scale
        else:
            q, k = qkv[:, P:P + Np, 0], qkv[:, P + Np:, 1]
            scores = torch.einsum("bkhd,bjhd->bkj", q, k) / H / math.sqrt(D // H)
        scores = scores.double()
        out["nmi"].append(sum(from_scores(scores[b], normalization) for b in range(B)) / B)
        # Attention probabilities [B, H, queries, keys], and the mass on the prompt keys.
        att = torch.softmax(torch.einsum("bqhd,bkhd->bhqk", qkv[:, :, 0], qkv[:, :, 1]) / math.sqrt(D // H), dim=-1)
        share = att[..., P:P + Np].double().sum(-1)
        if has_cls:
            out["cls"].append(float(share[:, :, 0].mean()))
        out["patches"].append(float(share[:, :, P + Np:].mean()))
        if map_basis is not None:
            i = len(out["map"]["prompts"])
            if len(map_basis["centre"]) == i:
                for key, value in zip(("centre", "axes", "explained"), prompt_map.basis(x[:, P + Np:].reshape(-1, D))):
                    map_basis[key].append(value)
            for key, value in zip(("prompts", "patches", "nearest"), prompt_map.block(x, P, Np, map_basis["centre"][i], map_basis["axes"][i])):
                out["map"][key].append(value)
            for key, value in zip(("image_nearest", "image_attention"), prompt_map.image_overlays(x, att, P, Np)):
                out["map"][key].append(value)

    model(images, observe=observe)
    return out


def per_block(model, images, mode="tokens", normalization="sqrt"):
    """Per-block NMI alone (`probe`'s first part)."""
    return probe(model, images, mode, normalization)["nmi"]
