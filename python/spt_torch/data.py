"""A task folder in one of the engine's three layouts (`Sources/SPTFormats/ImageFolderReader.swift`):
VTAB-1k lists (`spt tasks --export` writes them: `train800.txt`, `val200.txt`, `train800val200.txt`,
`test.txt`), class folders (`train/<class>/*`, `test/<class>/*`) or VPT's FGVC JSON (`train.json`,
`val.json`, `test.json`), preprocessed as the engine preprocesses images
(`Sources/SPTFormats/ImagePreprocessing.swift`): 8-bit RGB resampled with Pillow's filters — timm's
eval transform (`crop`: shorter side to ⌊size / crop_pct⌋, centre crop) or VTAB's `squash` —
gray as the mean of R, G and B, then normalized. Returns float tensors [N, C, H, W] and labels."""
import json
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


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def layout(root):
    """Which of the engine's layouts `root` holds (its order of checks), or None."""
    if os.path.isfile(os.path.join(root, "train800val200.txt")):
        return "vtab1k"
    if os.path.isfile(os.path.join(root, "train.json")):
        return "fgvc"
    if os.path.isdir(os.path.join(root, "train")):
        return "class folders"
    return None


def class_folders(root):
    """(train items, test items): classes are the sorted folder names of train/, numbered in that
    order; each folder's .png/.jpg/.jpeg files sorted by name; a test class must be a training class."""
    train_dir = os.path.join(root, "train")
    classes = sorted(c for c in os.listdir(train_dir) if os.path.isdir(os.path.join(train_dir, c)))
    if not classes:
        raise ValueError(f"{train_dir}: no class folders")
    test_dir = os.path.join(root, "test")
    for c in sorted(os.listdir(test_dir)) if os.path.isdir(test_dir) else []:
        if os.path.isdir(os.path.join(test_dir, c)) and c not in classes:
            raise ValueError(f"{os.path.join(test_dir, c)}: a test class with no folder in train/")

    def split(name):
        items = []
        for k, c in enumerate(classes):
            d = os.path.join(root, name, c)
            files = sorted(f for f in os.listdir(d) if f.lower().endswith(IMAGE_EXTENSIONS)) if os.path.isdir(d) else []
            if name == "train" and not files:
                raise ValueError(f"{d}: a training class folder with no .png or .jpg image")
            items += [(os.path.join(d, f), k) for f in files]
        if not items:
            raise ValueError(f"{os.path.join(root, name)}: no .png or .jpg images in class folders")
        return items
    return split("train"), split("test")


def fgvc(root, name):
    """The items of an FGVC split file: a JSON object mapping image paths (relative to root/images
    when it exists, else root; sorted) to class ids."""
    path = os.path.join(root, name)
    with open(path) as f:
        try:
            obj = json.load(f)
        except ValueError as e:
            raise ValueError(f"{path}: not JSON: {e}") from None
    if not isinstance(obj, dict) or not obj:
        raise ValueError(f"{path}: not a JSON object mapping image paths to class ids")
    images = os.path.join(root, "images") if os.path.exists(os.path.join(root, "images")) else root
    items = []
    for key in sorted(obj):
        label = obj[key]
        if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < 100_000:
            raise ValueError(f"{path}: {key}: class id {label!r} is not an integer in 0…99999")
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"{path}: {key}: leaves the data folder")
        items.append((os.path.join(images, key), label))
    return items


def division(root, protocol, split_seed=0):
    """The engine's `TaskData` over any layout: (train items, eval items, eval split name, split
    seed or None for a published division, the training selection's indices). Published divisions
    (VTAB-1k lists, FGVC JSON) are used as given; class folders get the VTAB-1k draw of 1000 training
    images (800 train + 200 val) with the split seed."""
    kind = layout(root)
    if kind == "vtab1k":
        names = ("train800.txt", "val200.txt") if protocol == "tune" else ("train800val200.txt", "test.txt")
        train, evaluation = read_list(root, names[0]), read_list(root, names[1])
        index = {p: i for i, (p, _) in reversed(list(enumerate(read_list(root, "train800val200.txt"))))}
        for p, _ in train if protocol == "tune" else []:
            if p not in index:
                raise ValueError(f"{os.path.join(root, names[0])}: {os.path.relpath(p, root)} is not in train800val200.txt")
        selection = [index[p] for p, _ in train] if protocol == "tune" else list(range(len(train)))
        return train, evaluation, ("val" if protocol == "tune" else "test"), None, selection
    if kind == "fgvc":
        tr, va, te = fgvc(root, "train.json"), fgvc(root, "val.json"), fgvc(root, "test.json")
        ids = {k: i for i, k in enumerate(sorted({label for _, label in tr}))}
        def relabel(items, name):
            for p, label in items:
                if label not in ids:
                    raise ValueError(f"{os.path.join(root, name)}: {p}: class {label} has no image in train.json")
            return [(p, ids[label]) for p, label in items]
        tr, va, te = relabel(tr, "train.json"), relabel(va, "val.json"), relabel(te, "test.json")
        if protocol == "tune":
            return tr, va, "val", None, list(range(len(tr)))
        return tr + va, te, "test", None, list(range(len(tr) + len(va)))
    if kind == "class folders":
        from .rng import RNG
        train, test = class_folders(root)
        picked = RNG(split_seed ^ 0x7AB1).permutation(len(train))[:1000]
        n_val = min(200, len(picked) // 5)
        train_pick, val_pick = picked[:len(picked) - n_val], picked[len(picked) - n_val:]
        if protocol == "tune":
            return [train[i] for i in train_pick], [train[i] for i in val_pick], "val", split_seed, train_pick
        return [train[i] for i in picked], test, "test", split_seed, picked
    raise ValueError(f"{root}: not a task folder (VTAB-1k lists, class folders train/ and test/, or FGVC train.json)")


def load_split(root, name, preprocessing):
    """The images and labels of list `name` (e.g. train800.txt) in `root`, normalized."""
    return load_items(read_list(root, name), preprocessing)


def load_items(items, preprocessing):
    """Images (normalized) and labels of `items` [(path, label)]."""
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
