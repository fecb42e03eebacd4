"""The prompt map as the engine draws it (`Sources/SPTEngine/SPT/PromptMap.swift`, docs/METHOD.md
§4.4): per block, the principal plane of the probe images' patch tokens at the block's input,
fixed at a run's first map; the prompts' (averaged over the images) and at most 256 evenly strided
patch tokens' coordinates in it; each prompt's distance to its nearest probe patch token in units
of those tokens' spread. Rounded as the engine rounds: to 6 significant digits.
"""
import torch

MAX_PATCHES = 256


def sample(n):
    """Which of n flattened probe tokens (index b·m + j) a map keeps (`PromptMap.sample`)."""
    s = min(n, MAX_PATCHES)
    return [i * n // s for i in range(s)]


def _r6(v):
    return float(f"{v:.6g}")


def basis(tokens):
    """The principal plane of tokens [n, D]: (centre [D], axes [2·D], explained [2]), each axis
    signed so that its largest-magnitude component is positive."""
    x = tokens.double()
    centre = x.mean(0)
    xc = x - centre
    cov = xc.T @ xc / x.shape[0]
    w, v = torch.linalg.eigh(cov)
    trace = float(cov.diagonal().sum())
    axes = []
    for j in (-1, -2):
        a = v[:, j]
        if a[a.abs().argmax()] < 0:
            a = -a
        axes += a.tolist()
    explained = [float(w[j]) / trace if trace > 0 else 0.0 for j in (-1, -2)]
    return [_r6(c) for c in centre.tolist()], [_r6(a) for a in axes], [_r6(e) for e in explained]


def block(x, P, Np, centre, axes):
    """One block's map from its input tokens x [B, T, D]: (prompts [2·Np], patches [2·s], nearest [Np])."""
    B, T, D = x.shape
    x = x.double()
    c, a = torch.tensor(centre, dtype=torch.float64), torch.tensor(axes, dtype=torch.float64).reshape(2, D)
    prompts = x[:, P:P + Np].mean(0)
    tokens = x[:, P + Np:].reshape(-1, D)

    def project(v):
        return [_r6(float(t)) for t in ((v - c) @ a.T).reshape(-1)]

    spread = float(((tokens - tokens.mean(0)) ** 2).sum(1).mean().sqrt())
    nearest = [_r6(float(d) / max(spread, 1e-30)) for d in torch.cdist(prompts, tokens).min(1).values]
    return project(prompts), project(tokens[sample(tokens.shape[0])]), nearest


def due(step, total, nmi_every, maps, initialization):
    """Whether a probe draws a map (`PromptTrainer.mapDue`): at every initialization, and at most
    `maps` of the scheduled probes, evenly spread, the last one included."""
    if maps <= 0:
        return False
    if initialization:
        return True
    every = max(1, (total // nmi_every + maps - 1) // maps)
    return (step // nmi_every) % every == 0 or step + nmi_every > total
