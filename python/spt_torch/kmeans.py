"""K-means as the engine runs it for prototype prompts: greedy k-means++ seeding (as
scikit-learn's: 2 + ⌊ln K⌋ candidates per centre, the one that lowers the potential most wins),
then Lloyd iterations until no point changes centre (at most `max_iter`); empty clusters are
re-seeded with the worst-fit point; inertia measured on the final assignment."""
import bisect
import math

import torch

from .rng import RNG


def _sq_dist(x, c):
    return (x.pow(2).sum(1, keepdim=True) - 2 * x @ c.T + c.pow(2).sum(1)[None]).clamp_min(0)


def kmeans(x, k, seed=0, max_iter=100):
    """x [N, D] float tensor → (centroids [k, D], inertia). Seeded with the engine's generator in
    the engine's order of draws, so the same tokens and seed give the engine's seeding."""
    rng = RNG(seed)
    n = x.shape[0]
    trials = 2 + int(math.log(k))
    first = rng.int(n)
    centres = [x[first]]
    nearest = _sq_dist(x, x[first][None]).squeeze(1)
    for _ in range(1, k):
        cumulative = torch.cumsum(nearest.double(), 0).tolist()
        total = cumulative[-1]
        picks = [bisect.bisect_left(cumulative, rng.uniform() * total) if total > 0 else rng.int(n) for _ in range(trials)]
        d = torch.minimum(nearest[None], _sq_dist(x, x[picks]).T)
        best = int(d.double().sum(1).argmin())
        centres.append(x[picks[best]])
        nearest = d[best]
    c = torch.stack(centres)
    labels = _sq_dist(x, c).argmin(1)
    for _ in range(max_iter):
        sums = torch.zeros_like(c).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k)
        c = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], c)
        d = _sq_dist(x, c)
        for e in (counts == 0).nonzero().flatten().tolist():
            worst = int(d.min(1).values.argmax())
            c[e] = x[worst]
            d = _sq_dist(x, c)
        new = d.argmin(1)
        if torch.equal(new, labels):
            break
        labels = new
    d = _sq_dist(x, c)
    return c, float(d.min(1).values.sum())
