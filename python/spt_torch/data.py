"""A task folder in the VTAB-1k layout (`spt tasks --export` writes one): the same images and
labels the Swift engine reads, as float tensors in [0, 1], [N, C, H, W]."""
import os

import numpy as np
import torch
from PIL import Image


def read_list(root, name):
    items = []
    with open(os.path.join(root, name)) as f:
        for line in f:
            if line.strip():
                path, label = line.split()
                items.append((os.path.join(root, path), int(label)))
    return items


def load_split(root, name, channels):
    items = read_list(root, name)
    mode = "L" if channels == 1 else "RGB"
    arrays = [np.asarray(Image.open(p).convert(mode), dtype=np.float32) / 255 for p, _ in items]
    x = torch.from_numpy(np.stack(arrays))
    x = x[:, None] if channels == 1 else x.permute(0, 3, 1, 2)
    return x.contiguous(), torch.tensor([l for _, l in items])
