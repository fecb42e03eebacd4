"""The engine's defaults, read from `defaults.json` — written from the engine's own declarations
(`Sources/SPTEngine/Train/Defaults.swift`, `TrainOptions.swift`) and kept equal to them by
`DefaultsTests`: a default changes there, never here."""
import json
import os

with open(os.path.join(os.path.dirname(__file__), "defaults.json")) as _f:
    _DEFAULTS = json.load(_f)

# Every option's default by its flag name (`--weight-decay` → "weight_decay" is under `rates`).
OPTIONS = _DEFAULTS["options"]

# The tuned table is keyed by content hash and holds only the small shipped backbones: larger
# files are not hashed (pure Python reads about 4 MB/s).
_HASHED_BYTES = 64 << 20


def file_hash(path):
    """FNV-1a 64 of a file's bytes, hex: how the engine names a backbone file (`backbone_hash`);
    None for a file above 64 MB."""
    if os.path.getsize(path) > _HASHED_BYTES:
        return None
    h, prime, mask = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
    with open(path, "rb") as f:
        for b in f.read():
            h = ((h ^ b) * prime) & mask
    return format(h, "x")


def rates(backbone_hash, strategy, mode="prompt"):
    """(learning rate, weight decay) the engine picks for this backbone, strategy and mode."""
    table = _DEFAULTS["rates"][mode]
    entry = table["by_hash"].get(backbone_hash) or table["other"]
    return entry["lr"][strategy], entry["weight_decay"]
