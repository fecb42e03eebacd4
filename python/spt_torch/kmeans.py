"""K-means as the engine runs it for prototype prompts: greedy k-means++ seeding (as
scikit-learn's: 2 + ⌊ln K⌋ candidates per centre, the one that lowers the potential most wins),
then Lloyd iterations until no point changes centre (at most `max_iter`); empty clusters are
re-seeded with the worst-fit point; inertia measured on the final assignment.

Under torch.distributed each rank passes its own shard of the tokens (rank order = token order).
Every decision is taken on values gathered from all ranks and summed in one order, so N ranks
reach exactly the centroids of one process on the concatenated tokens."""
import bisect
import math

import torch
import torch.distributed as dist

from .rng import RNG


def _sq_dist(x, c):
    return (x.pow(2).sum(1, keepdim=True) - 2 * x @ c.T + c.pow(2).sum(1)[None]).clamp_min(0)


# The process group K-means' collectives use: the default one, or on GPU runs (nccl) a gloo group,
# since K-means runs on CPU tensors (`spt_torch.train.Ranks` sets it).
cpu_group = None


def _world():
    return (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)


def shard(n):
    """This rank's contiguous block of n items (rank order = item order)."""
    rank, world = _world()
    return slice(n * rank // world, n * (rank + 1) // world)


class _Shards:
    """The ranks' token shards seen as one array: global indices, gathering, fetching rows."""

    def __init__(self, x):
        self.x = x
        self.rank, self.world = _world()
        if self.world == 1:
            self.sizes = [x.shape[0]]
        else:
            sizes = [torch.zeros((), dtype=torch.int64) for _ in range(self.world)]
            dist.all_gather(sizes, torch.tensor(x.shape[0], dtype=torch.int64), group=cpu_group)
            self.sizes = [int(s) for s in sizes]
        self.offset = sum(self.sizes[:self.rank])
        self.n = sum(self.sizes)

    def gather(self, t):
        """Concatenates every rank's `t` (its last dimension is per token) in rank order."""
        if self.world == 1:
            return t
        width = max(self.sizes)
        padded = torch.zeros(*t.shape[:-1], width, dtype=t.dtype)
        padded[..., :t.shape[-1]] = t
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        dist.all_gather(parts, padded, group=cpu_group)
        return torch.cat([p[..., :s] for p, s in zip(parts, self.sizes)], -1)

    def sum(self, t):
        if self.world > 1:
            dist.all_reduce(t, group=cpu_group)
        return t

    def rows(self, indices):
        """The tokens at these global indices, on every rank (their owner contributes them)."""
        out = torch.zeros(len(indices), self.x.shape[1], dtype=self.x.dtype)
        for j, i in enumerate(indices):
            if self.offset <= i < self.offset + self.x.shape[0]:
                out[j] = self.x[i - self.offset]
        return self.sum(out)


def kmeans(x, k, seed=0, max_iter=100, restarts=1):
    """x [N, D] float tensor (this rank's shard) → (centroids [k, D], inertia, Lloyd iterations),
    the same on every rank. Seeded with the engine's generator in the engine's order of draws, so the same tokens
    and seed give the engine's seeding. With `restarts` > 1, start r is seeded with seed + r·0x9E3779B97F4A7C15
    and the lowest inertia is kept, as the engine does: a later start must be lower by more than 1e-6 relative
    (starts reaching one optimum differ only by summation rounding, which differs between the engines)."""
    best = None
    for r in range(restarts):
        run = _kmeans_once(x, k, (seed + r * 0x9E3779B97F4A7C15) & ((1 << 64) - 1), max_iter)
        if best is None or run[1] < best[1] * (1 - 1e-6):
            best = run
    return best


def _kmeans_once(x, k, seed, max_iter):
    s = _Shards(x)
    rng = RNG(seed)
    trials = 2 + int(math.log(k))
    c = s.rows([rng.int(s.n)])
    nearest = _sq_dist(x, c).squeeze(1)
    for _ in range(1, k):
        cumulative = torch.cumsum(s.gather(nearest).double(), 0).tolist()
        total = cumulative[-1]
        picks = [bisect.bisect_left(cumulative, rng.uniform() * total) if total > 0 else rng.int(s.n) for _ in range(trials)]
        d = torch.minimum(nearest[None], _sq_dist(x, s.rows(picks)).T)
        best = int(s.gather(d).double().sum(1).argmin())
        c = torch.cat([c, s.rows([picks[best]])])
        nearest = d[best]
    labels, iterations = _sq_dist(x, c).argmin(1), 0
    for iterations in range(1, max_iter + 1):
        sums = s.sum(torch.zeros(k, x.shape[1], dtype=torch.float64).index_add_(0, labels, x.double()))
        counts = s.sum(torch.bincount(labels, minlength=k))
        c = torch.where(counts[:, None] > 0, (sums / counts.clamp_min(1)[:, None]).to(x.dtype), c)
        d = _sq_dist(x, c)
        for e in (counts == 0).nonzero().flatten().tolist():
            c[e] = s.rows([int(s.gather(d.min(1).values).argmax())])[0]
            d = _sq_dist(x, c)
        new = d.argmin(1)
        changed = s.sum(torch.tensor((new != labels).sum().item()))
        labels = new
        if changed == 0:
            break
    inertia = float(s.gather(_sq_dist(x, c).min(1).values).double().sum())
    return c, inertia, iterations
