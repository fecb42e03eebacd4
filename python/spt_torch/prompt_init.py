"""Prompt and head initialization as the engine does it (`Sources/SPTEngine/SPT/PromptInit.swift`,
METHOD.md §3), draw for draw with its generator:

- random: uniform on ±√(6/(patch_dim + D)), in float32 as the engine computes it;
- kmeans: the engine's K-means (`spt_torch.kmeans`) per prompt layer on the candidate tokens of the
  gathered training images (the first `kmeans_images`, all by default), seed + layer;
- mean-pool / max-pool: per layer, a random batch of `pool_batch` images; `batch-windows` pools
  Np equal windows of the batch's flattened tokens, `per-image` pools windows of m/(Np−1) tokens
  within each image and keeps Np of them at random;
- sample: per layer, Np distinct tokens of a random batch.

Candidate tokens of layer 0 are the patch embeddings before the position embedding; of layer
l ≥ 1 the output of block l−1 without the class and register tokens (a prompt-free pass).
Under torch.distributed, K-means clusters each rank's shard of the images; the other strategies
draw a few images, which every rank embeds itself.
"""
import math
import time

import numpy as np
import torch

from .kmeans import kmeans, shard
from .rng import RNG

STRATEGIES = ("random", "kmeans", "mean-pool", "max-pool", "sample")
VARIANTS = {"kmeans": "kmeans++/lloyd", "random": "xavier-uniform"}


def variant_name(strategy, pool_variant):
    """What the log's `variant` field says (None for sample), as the engine writes it."""
    return pool_variant if strategy in ("mean-pool", "max-pool") else VARIANTS.get(strategy)


@torch.no_grad()
def candidate_tokens(vit, images, layers, batch=64):
    """Candidate tokens of prompt layers 0..<layers of `images`: a list of [n·m, D] tensors."""
    out, P = [[] for _ in range(layers)], vit.num_prefix_tokens
    for i in range(0, len(images), batch):
        x = vit.patch_embed(images[i:i + batch])
        out[0].append(x.reshape(-1, x.shape[-1]))
        if layers > 1:
            x = vit.norm_pre(vit._pos_embed(x))
            for layer, block in enumerate(vit.blocks[:layers - 1], start=1):
                x = block(x)
                out[layer].append(x[:, P:].reshape(-1, x.shape[-1]))
    return [torch.cat(t) for t in out]


def _random_batch(count, size, rng):
    return rng.permutation(count)[:min(size, count)]


def _pool(tokens, images, m, count, use_max, variant, rng):
    reduce = (lambda t: t.max(0).values) if use_max else (lambda t: t.mean(0))
    if variant == "batch-windows":
        w = max(1, images * m // count)
        return torch.stack([reduce(tokens[k * w:min(images * m, (k + 1) * w)]) for k in range(count)])
    w = max(1, m // max(1, count - 1))
    pooled = [reduce(tokens[b * m + s:b * m + s + w]) for b in range(images) for s in range(0, m - w + 1, w)]
    keep = [pooled[i] for i in _random_batch(len(pooled), count, rng)]
    return torch.stack(keep + [pooled[0]] * (count - len(keep)))


def _sample(tokens, count, rng):
    picks = _random_batch(tokens.shape[0], count, rng)
    return torch.cat([tokens[picks], tokens[:1].expand(count - len(picks), -1)])


def init_prompts(vit, strategy, images, layers, count, seed, pool_variant="batch-windows", pool_batch=32, kmeans_images=None):
    """Prompts [layers, count, D] for `strategy`, drawn from `seed` (the engine passes
    seed + 31·step) on the training `images` (normalized), and the fields of the log's `init`
    record (seconds without gathering, gather_seconds, iterations, inertia, images)."""
    D, rng, t0 = vit.embed_dim, RNG(seed), time.time()
    if strategy == "random":
        bound = np.float32(math.sqrt(6.0 / (vit.patch_embed.proj.weight[0].numel() + D)))
        u = np.array([rng.next() >> 40 for _ in range(layers * count * D)], dtype=np.float32) * np.float32(1 / 16777216)
        prompts = torch.from_numpy(-bound + (bound - -bound) * u).reshape(layers, count, D)
        return prompts, dict(seconds=time.time() - t0, images=0)
    gathered = images[:kmeans_images] if kmeans_images else images
    if strategy == "kmeans":
        tokens = candidate_tokens(vit, gathered[shard(len(gathered))], layers)
        gather, t0 = time.time() - t0, time.time()
        runs = [kmeans(t, count, seed=(seed + l) & ((1 << 64) - 1)) for l, t in enumerate(tokens)]
        return torch.stack([c for c, _, _ in runs]), dict(
            seconds=time.time() - t0, gather_seconds=gather, iterations=sum(i for _, _, i in runs),
            inertia=sum(e for _, e, _ in runs), images=len(gathered))
    m, out, gather = vit.patch_embed.num_patches, [], 0.0
    for l in range(layers):
        batch = _random_batch(len(gathered), pool_batch, rng)
        t1 = time.time()
        tokens = candidate_tokens(vit, gathered[batch], l + 1)[l]
        gather += time.time() - t1
        if strategy == "sample":
            out.append(_sample(tokens, count, rng))
        else:
            out.append(_pool(tokens, len(batch), m, count, strategy == "max-pool", pool_variant, rng))
    return torch.stack(out), dict(seconds=time.time() - t0 - gather, gather_seconds=gather, images=min(len(gathered), pool_batch))


def init_head(head, seed):
    """The engine's head: weights 0.01·N(0, 1) from seed ^ 0x4EAD in row order, bias 0."""
    rng = RNG(seed ^ 0x4EAD)
    w = np.array([rng.normal() for _ in range(head.weight.numel())], dtype=np.float32) * np.float32(0.01)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(w).reshape(head.weight.shape))
        head.bias.zero_()
