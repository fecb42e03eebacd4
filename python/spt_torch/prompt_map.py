"""The prompt map as the engine draws it (`Sources/SPTEngine/SPT/PromptMap.swift`, docs/METHOD.md
§4.4): per block, the principal plane of the probe images' patch tokens at the block's input,
fixed at a run's first map; the prompts' (averaged over the images) and at most 256 evenly strided
patch tokens' coordinates in it; each prompt's distance to its nearest probe patch token in units
of those tokens' spread. Rounded as the engine rounds: to 6 significant digits.
"""
import torch

MAX_PATCHES = 256
IMAGE_PROMPTS = 16   # prompts whose attention over the first probe image a map keeps
IMAGE_SIDE = 64      # the longest side of the probe image a run log keeps


def sample(n):
    """Which of n flattened probe tokens (index b·m + j) a map keeps (`PromptMap.sample`)."""
    s = min(n, MAX_PATCHES)
    return [i * n // s for i in range(s)]


def _r6(v):
    return float(f"{v:.6g}")


def basis(tokens):
    """The principal plane of tokens [n, D]: (centre [D], axes [2·D], explained [2]), each axis
    signed so that its largest-magnitude component is positive."""
    x = tokens.double().cpu()
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
    x = x.double().cpu()
    c, a = torch.tensor(centre, dtype=torch.float64), torch.tensor(axes, dtype=torch.float64).reshape(2, D)
    prompts = x[:, P:P + Np].mean(0)
    tokens = x[:, P + Np:].reshape(-1, D)

    def project(v):
        return [_r6(float(t)) for t in ((v - c) @ a.T).reshape(-1)]

    spread = float(((tokens - tokens.mean(0)) ** 2).sum(1).mean().sqrt())
    nearest = [_r6(float(d) / max(spread, 1e-30)) for d in torch.cdist(prompts, tokens).min(1).values]
    return project(prompts), project(tokens[sample(tokens.shape[0])]), nearest


def image_overlays(x, att, P, Np):
    """The image view's overlays on image 0 (`PromptMap.imageOverlays`): per patch the nearest
    prompt, and the first 16 prompts' attention over the patches (heads averaged), in percent of
    each prompt's largest, prompt-major. `x` [B, T, D] the block's input, `att` [B, H, T, T]."""
    x0 = x[0].double().cpu()
    nearest = torch.cdist(x0[P + Np:], x0[P:P + Np]).argmin(1)
    rows = att[0, :, P:P + min(Np, IMAGE_PROMPTS), P + Np:].double().mean(0).cpu()
    percent = torch.where(rows.max(1, keepdim=True).values > 0, rows / rows.max(1, keepdim=True).values * 100, torch.zeros_like(rows))
    # Half away from zero, as the engine rounds.
    return [float(k) for k in nearest], [float(v) for v in torch.floor(percent + 0.5).reshape(-1)]


def probe_image(image, mean, std):
    """The probe's first image as a run log keeps it (`PromptMap.probeImage`): `image` [C, S, S]
    normalized; returns (width, height, bytes) of 8-bit pixels, channels interleaved, area-averaged
    by the smallest whole factor that brings the side to at most 64."""
    C, S, _ = image.shape
    f = (S + IMAGE_SIDE - 1) // IMAGE_SIDE
    w = S // f
    x = image.double()[:, :w * f, :w * f].reshape(C, w, f, w, f).mean((2, 4))
    x = (x * torch.tensor(std, dtype=torch.float64)[:, None, None] + torch.tensor(mean, dtype=torch.float64)[:, None, None]) * 255
    return w, w, bytes(torch.floor(x + 0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).reshape(-1).tolist())


def due(step, total, nmi_every, maps, initialization):
    """Whether a probe draws a map (`PromptTrainer.mapDue`): at every initialization, and at most
    `maps` of the scheduled probes, evenly spread, the last one included."""
    if maps <= 0:
        return False
    if initialization:
        return True
    every = max(1, (total // nmi_every + maps - 1) // maps)
    return (step // nmi_every) % every == 0 or step + nmi_every > total
