#!/usr/bin/env python3
"""Writes Tests/SPTEngineTests/Fixtures/pillow-png/: one small PNG per colour type and bit depth
(gray 1/2/4/8/16, RGB 8/16, palette 1/2/4/8, gray+alpha 8/16, RGBA 8/16) and the chunks Pillow
ignores (tRNS, gAMA), an Adam7-interlaced one and a palette index beyond its palette, with
expected.json: what Pillow's Image.open(f).convert("RGB") gives for each (the transform timm and
spt_torch apply), as hex. The PNGs are encoded here byte by byte, so every case is exactly the
one named. Run by hand in the project's venv (tools/setup-python.sh) when Pillow's behaviour is
to be re-read; python/tests/test_pixels.py checks the fixture against the installed Pillow.
"""
import io
import json
import os
import random
import struct
import sys
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SPTEngineTests", "Fixtures", "pillow-png")
W, H = 7, 5
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack(samples, depth):
    """One row's samples as PNG stores them: packed big-endian bits, or 16-bit big-endian."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc, bits = acc << depth | s, bits + depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def png(depth, ctype, image, extra=b"", interlace=False):
    """image[y][x] is a tuple of samples."""
    ihdr = struct.pack(">IIBBBBB", W, H, depth, ctype, 0, 0, 1 if interlace else 0)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for x0, y0, dx, dy in passes:
        for y in range(y0, H, dy):
            row = [s for x in range(x0, W, dx) for s in image[y][x]]
            if row:
                raw += b"\0" + pack(row, depth)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def cases():
    rng = random.Random(7)
    def img(ctype, depth, top=None):
        top = top if top is not None else (1 << depth) - 1
        return [[tuple(rng.randint(0, top) for _ in range(CHANNELS[ctype])) for _ in range(W)] for _ in range(H)]
    palette = chunk(b"PLTE", bytes(rng.randint(0, 255) for _ in range(3 * 16)))
    for depth in (1, 2, 4, 8, 16):
        yield f"gray{depth}", png(depth, 0, img(0, depth))
    # 16-bit gray with small values: below 256 they pass, above they clip (Pillow's I;16 → L).
    yield "gray16-low", png(16, 0, img(0, 16, top=400))
    for depth in (8, 16):
        yield f"rgb{depth}", png(depth, 2, img(2, depth))
        yield f"gray-alpha{depth}", png(depth, 4, img(4, depth))
        yield f"rgba{depth}", png(depth, 6, img(6, depth))
    for depth in (1, 2, 4, 8):
        yield f"palette{depth}", png(depth, 3, img(3, depth, top=min(15, (1 << depth) - 1)), palette)
    yield "palette8-beyond", png(8, 3, img(3, 8, top=40), palette)
    yield "palette8-trns", png(8, 3, img(3, 8, top=15), palette + chunk(b"tRNS", bytes(rng.randint(0, 255) for _ in range(16))))
    yield "gray8-trns", png(8, 0, img(0, 8), chunk(b"tRNS", struct.pack(">H", 77)))
    yield "rgb8-trns", png(8, 2, img(2, 8), chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3)))
    yield "rgb8-gamma", png(8, 2, img(2, 8), chunk(b"gAMA", struct.pack(">I", 45455)))
    yield "gray8-gamma", png(8, 0, img(0, 8), chunk(b"gAMA", struct.pack(">I", 100000)))
    yield "rgb8-interlaced", png(8, 2, img(2, 8), interlace=True)
    yield "gray4-interlaced", png(4, 0, img(0, 4), interlace=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, data in cases():
        with open(os.path.join(OUT, name + ".png"), "wb") as f:
            f.write(data)
        rgb = Image.open(io.BytesIO(data)).convert("RGB")
        expected[name] = {"width": rgb.width, "height": rgb.height, "rgb": rgb.tobytes().hex()}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"pillow": __import__("PIL").__version__, "images": expected}, f, indent=1, sort_keys=True)
    print(f"{len(expected)} cases → {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
