"""A task folder in the VTAB-1k layout (`spt tasks --export` writes one, and users' own folders
with `train800.txt`-style lists), preprocessed as the engine preprocesses images
(`Sources/SPTFormats/ImagePreprocessing.swift`): 8-bit RGB resampled with Pillow's filters — timm's
eval transform (`crop`: shorter side to ⌊size / crop_pct⌋, centre crop) or VTAB's `squash` —
gray as the mean of R, G and B, then normalized. Returns float tensors [N, C, H, W] and labels."""
import math
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

FILTERS = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}


@dataclass
class Preprocessing:
    size: int
    mode: str = "squash"          # or "crop"
    crop_pct: float = 1.0
    interpolation: str = "bicubic"
    mean: tuple = (0.5,)
    std: tuple = (0.5,)

    @property
    def channels(self):
        return len(self.mean)

    @property
    def summary(self):
        """As the engine's run headers say it."""
        if self.mode == "crop":
            return f"resize shorter side to {math.floor(self.size / self.crop_pct)} ({self.interpolation}), centre crop {self.size}²"
        return f"resize to {self.size}² ({self.interpolation}), aspect not kept"

    def apply(self, image):
        """One PIL image → float32 array [C, size, size] in [0, 1], before normalization."""
        img, size, f = image.convert("RGB"), self.size, FILTERS[self.interpolation]
        if self.mode == "squash":
            img = img.resize((size, size), f)
        else:
            # torchvision's Resize(int): the shorter side to the scale size, the longer truncated;
            # CenterCrop: offsets rounded half to even (Python's round), zero padding beyond the image.
            s, (w, h) = math.floor(size / self.crop_pct), img.size
            target = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
            if target != (w, h):
                img = img.resize(target, f)
            left, top = round((img.size[0] - size) / 2), round((img.size[1] - size) / 2)
            img = img.crop((left, top, left + size, top + size))
        a = np.asarray(img, dtype=np.float32) / 255
        return a.mean(2, keepdims=True).transpose(2, 0, 1) if self.channels == 1 else a.transpose(2, 0, 1)


def read_list(root, name):
    items = []
    path = os.path.join(root, name)
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                parts = line.split()
                if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
                    raise ValueError(f"{path}:{number}: expected 'image-path label', got {line.strip()!r}")
                items.append((os.path.join(root, parts[0]), int(parts[1])))
    return items


def load_split(root, name, preprocessing):
    """The images and labels of list `name` (e.g. train800.txt) in `root`, normalized."""
    items = read_list(root, name)
    p = preprocessing
    x = torch.from_numpy(np.stack([p.apply(Image.open(path)) for path, _ in items]))
    x = (x - torch.tensor(p.mean)[None, :, None, None]) / torch.tensor(p.std)[None, :, None, None]
    return x.contiguous(), torch.tensor([label for _, label in items])


SHIFT = 2  # the engine's `--augment` shift, in pixels


def augment_draws(rng, count):
    """Per image of a global batch, the engine's draws in its order (`Batcher.fill` under
    `--augment`): flip when the first is 1, then the shifts dx and dy in [-2, 2]."""
    return [(rng.int(2) == 1, rng.int(2 * SHIFT + 1) - SHIFT, rng.int(2 * SHIFT + 1) - SHIFT) for _ in range(count)]


def augment(images, draws, mean, std):
    """`images` [B, C, S, S] (normalized) flipped horizontally and shifted as `draws` say, the
    uncovered pixels those of value 0 before normalization, as the engine pads."""
    out = ((0 - torch.tensor(mean)) / torch.tensor(std))[None, :, None, None].expand_as(images).clone()
    S = images.shape[-1]
    for n, (flip, dx, dy) in enumerate(draws):
        f = images[n].flip(-1) if flip else images[n]
        out[n, :, max(dy, 0):S + min(dy, 0), max(dx, 0):S + min(dx, 0)] = f[:, max(-dy, 0):S - max(dy, 0), max(-dx, 0):S - max(dx, 0)]
    return out

