"""Prompt and head initialization as the engine does it (`Sources/SPTEngine/SPT/PromptInit.swift`,
docs/METHOD.md §3), draw for draw with its generator:

- random: uniform on ±√(6/(patch_dim + D)), in float32 as the engine computes it;
- kmeans: the engine's K-means (`spt_torch.kmeans`) per prompt layer on the candidate tokens of the
  gathered training images (the first `kmeans_images`, all by default), seed + layer, the best of
  `kmeans_restarts` seedings;
- mean-pool / max-pool / sample under the `authors` variant (the SPT authors' `prompt_generator`):
  `init_images` images (default: as many as gathered) drawn with replacement once for every layer;
  pooling cuts each into Np−1 windows of ⌊m/(Np−1)⌋ tokens plus the last `m mod w` tokens (the whole
  image when that is 0), orders the pooled tokens window-major and keeps the first Np of a
  permutation; sample keeps Np distinct tokens of the drawn images' flattened tokens;
- under `batch-windows`, per layer a random batch of `init_images` (default 32) images: pooling
  takes Np equal windows of the batch's flattened tokens, sample Np distinct tokens of the batch.

Candidate tokens of layer 0 are the patch embeddings before the position embedding; of layer
l ≥ 1 the output of block l−1 without the class and register tokens (a prompt-free pass).
Under torch.distributed, K-means clusters each rank's shard of the images; the other strategies
embed only the images their kept windows and tokens come from, which every rank does itself.
"""
import math
import time

import numpy as np
import torch

from .kmeans import kmeans, shard
from .rng import RNG

STRATEGIES = ("random", "kmeans", "mean-pool", "max-pool", "sample")
POOL_VARIANTS = ("authors", "batch-windows")


def variant_name(strategy, pool_variant, kmeans_restarts=1):
    """What the log's `variant` field says, as the engine writes it."""
    if strategy == "kmeans":
        return "kmeans++/lloyd" + (f"×{kmeans_restarts}" if kmeans_restarts > 1 else "")
    return "xavier-uniform" if strategy == "random" else pool_variant


def drawn_images(pool_variant, init_images, gathered):
    """How many images pooling and sampling draw (`InitOptions.drawnImages`)."""
    return (init_images or gathered) if pool_variant == "authors" else min(init_images or 32, gathered)


def draw_rule(pool_variant):
    """How the drawn images are chosen, as the header's `init_draw` says it."""
    return "with replacement, shared by all layers" if pool_variant == "authors" else "distinct, a new batch per layer"


def authors_window(p, m, count):
    """Token range of window `p` of an image of `m` tokens cut for `count` prompts, as the authors
    slice it (`PromptInitializer.authorsWindow`): the last window is `x[:, -(m mod w):]`, the whole
    image when the remainder is 0; one prompt pools the whole image."""
    if count == 1:
        return range(m)
    w = m // (count - 1)
    if p < count - 1:
        return range(p * w, (p + 1) * w)
    r = m % w
    return range(m) if r == 0 else range(m - r, m)


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


def _batch_window_pool(tokens, images, m, count, use_max):
    reduce = (lambda t: t.max(0).values) if use_max else (lambda t: t.mean(0))
    w = max(1, images * m // count)
    return torch.stack([reduce(tokens[k * w:min(images * m, (k + 1) * w)]) for k in range(count)])


def _sample(tokens, count, rng):
    picks = _random_batch(tokens.shape[0], count, rng)
    return torch.cat([tokens[picks], tokens[:1].expand(count - len(picks), -1)])


def authors_pool(x, count, use_max, keep):
    """The authors' pooled prompts of one layer: `x[b]` is drawn image b's tokens [m, D] (b < N);
    their pooled tokens are ordered window-major (index p·N + b, their `[Np, B, D]` reshape) and the
    rows `keep` are returned [len(keep), D]. Only the kept windows are computed."""
    n = len(x)
    rows = []
    for k in keep:
        w = authors_window(k // n, x[k % n].shape[0], count)
        t = x[k % n][w.start:w.stop]
        rows.append(t.max(0).values if use_max else t.mean(0))
    return torch.stack(rows)


def _authors(vit, strategy, gathered, layers, count, drawn, rng):
    """mean-pool, max-pool or sample under the authors' variant: the draws and permutations first
    (they do not depend on token values), then one pass over the images the kept rows come from."""
    m = vit.patch_embed.num_patches
    shared = [rng.int(len(gathered)) for _ in range(drawn)]
    size = drawn * m if strategy == "sample" else count * drawn
    keeps = [rng.permutation(size)[:count] for _ in range(layers)]
    per = m if strategy == "sample" else 1
    used = sorted({shared[(k // per) % drawn] for keep in keeps for k in keep})
    row = {i: j for j, i in enumerate(used)}
    t1 = time.time()
    tokens = [t.reshape(len(used), m, -1) for t in candidate_tokens(vit, gathered[used], layers)]
    gather = time.time() - t1
    out = []
    for l, keep in enumerate(keeps):
        if strategy == "sample":
            out.append(torch.stack([tokens[l][row[shared[t // m]], t % m] for t in keep]))
        else:
            # Views of the drawn images' tokens; only the kept ones are read.
            x = [tokens[l][row[i]] if i in row else None for i in shared]
            out.append(authors_pool(x, count, strategy == "max-pool", keep))
    return torch.stack(out), gather


def init_prompts(vit, strategy, images, layers, count, seed, pool_variant="authors", init_images=None, kmeans_images=None,
                 kmeans_restarts=1):
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
        # On the CPU whatever the device: the engine's float64 sums, and gloo's collectives on GPU runs.
        runs = [kmeans(t.cpu(), count, seed=(seed + l) & ((1 << 64) - 1), restarts=kmeans_restarts) for l, t in enumerate(tokens)]
        return torch.stack([c for c, _, _ in runs]), dict(
            seconds=time.time() - t0, gather_seconds=gather, iterations=sum(i for _, _, i in runs),
            inertia=sum(e for _, e, _ in runs), images=len(gathered))
    drawn = drawn_images(pool_variant, init_images, len(gathered))
    if pool_variant == "authors":
        prompts, gather = _authors(vit, strategy, gathered, layers, count, drawn, rng)
        return prompts, dict(seconds=time.time() - t0 - gather, gather_seconds=gather, images=drawn)
    m, out, gather = vit.patch_embed.num_patches, [], 0.0
    for l in range(layers):
        batch = _random_batch(len(gathered), drawn, rng)
        t1 = time.time()
        tokens = candidate_tokens(vit, gathered[batch], l + 1)[l]
        gather += time.time() - t1
        if strategy == "sample":
            out.append(_sample(tokens, count, rng))
        else:
            out.append(_batch_window_pool(tokens, len(batch), m, count, strategy == "max-pool"))
    return torch.stack(out), dict(seconds=time.time() - t0 - gather, gather_seconds=gather, images=drawn)


def init_head(head, seed):
    """The engine's head: weights 0.01·N(0, 1) from seed ^ 0x4EAD in row order, bias 0."""
    rng = RNG(seed ^ 0x4EAD)
    w = np.array([rng.normal() for _ in range(head.weight.numel())], dtype=np.float32) * np.float32(0.01)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(w).reshape(head.weight.shape))
        head.bias.zero_()


def diversity(prompts, tokens):
    """One layer's prompts [Np, D] against reference tokens [n, D] (`PromptDiversity.measure`):
    mean pairwise cosine (None for one prompt), effective rank (exp of the entropy of the
    normalized singular values), and mean distance to the nearest token in units of the tokens'
    spread (root-mean-square distance to their mean)."""
    p, t = prompts.double(), tokens.double()
    gram = p @ p.T
    cosine = None
    if p.shape[0] > 1:
        norms = gram.diagonal().clamp_min(1e-60).sqrt()
        c = gram / (norms[:, None] * norms[None, :])
        cosine = float(c.triu(1).sum() / (p.shape[0] * (p.shape[0] - 1) / 2))
    sigma = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt()
    q = sigma / sigma.sum()
    rank = math.exp(float(-(q[q > 0] * q[q > 0].log()).sum())) if sigma.sum() > 0 else 1.0
    spread = float(((t - t.mean(0)) ** 2).sum(1).mean().sqrt())
    nearest = float(torch.cdist(p, t).min(1).values.mean()) / max(spread, 1e-30)
    return cosine, rank, nearest
