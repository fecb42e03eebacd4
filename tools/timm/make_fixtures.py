#!/usr/bin/env python3
"""Conformance fixtures: small random-init models of every ViT family the loader supports, built
with timm's own classes (tiny widths, the same code paths as the published models).

For each family, Tests/SPTEngineTests/Fixtures/timm/<family>/ gets the hub layout users bring —
`model.safetensors` (timm's state dict) and `config.json` (timm's own `save_config_for_hf`) — and
`expected.safetensors`: a normalized input batch and timm's `forward_features`, pre-logits
(`forward_head(pre_logits=True)`) and logits where a head exists. `embed/` adds a 224² model and
an image folder (PNG at 224², JPEG of other sizes: baseline, progressive, gray, CMYK) and the
pre-logits timm gives under its eval transform built from the same config.json (and, for the 224²
PNGs, with crop_pct 1: no resampling at all).

Run by hand (CI never needs Python):  $(bash tools/setup-python.sh) tools/timm/make_fixtures.py
"""
import json, pathlib, shutil
import numpy as np
import torch
import timm
from PIL import Image
from safetensors.torch import save_file
from timm.data import resolve_data_config, create_transform
from timm.models._hub import save_config_for_hf

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/SPTEngineTests/Fixtures/timm"
TINY = dict(embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0)

# family: (timm architecture, its arguments) — each exercises one part of timm's VisionTransformer.
FAMILIES = {
    "plain-head": ("vit_tiny_patch16_224", dict(img_size=32, patch_size=8, num_classes=5)),
    "mae-avg-fcnorm": ("vit_base_patch16_224.mae", dict(img_size=32, patch_size=8, num_classes=0, global_pool="avg")),
    "avg-no-fcnorm": ("vit_small_patch16_224", dict(img_size=32, patch_size=8, num_classes=0, global_pool="avg", fc_norm=False)),
    "no-class-token": ("vit_small_patch16_224", dict(img_size=32, patch_size=8, num_classes=3, class_token=False, global_pool="avg")),
    "dinov2-reg": ("vit_small_patch14_reg4_dinov2", dict(img_size=42, patch_size=14, num_classes=0, init_values=1.0)),
    "deit3": ("deit3_small_patch16_224", dict(img_size=32, patch_size=8, num_classes=4, init_values=1.0)),
    "no-qkv-bias": ("vit_small_patch16_224", dict(img_size=32, patch_size=8, num_classes=0, qkv_bias=False)),
    "clip-norm-pre": ("vit_base_patch32_clip_224", dict(img_size=32, patch_size=8, num_classes=6)),
}


def randomize(model):
    """timm's init leaves LayerScale at a constant and biases at zero: random values make every
    tensor matter to the outputs."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".gamma") or name.endswith(".bias") or "norm" in name:
                p.copy_(p + 0.2 * torch.randn(p.shape, generator=g))


def outputs(model, x):
    with torch.no_grad():
        feats = model.forward_features(x)
        out = {"input": x, "features": feats, "pre_logits": model.forward_head(feats, pre_logits=True)}
        if model.num_classes > 0:
            out["logits"] = model.forward_head(feats)
    return {k: v.contiguous().float() for k, v in out.items()}


def family(name, arch, args):
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    model = timm.create_model(arch, pretrained=False, **TINY, **args).eval()
    randomize(model)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, d / "model.safetensors")
    save_config_for_hf(model, d / "config.json", model_args={**TINY, **args})
    size = args["img_size"]
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    out = outputs(model, x)
    if name == "plain-head":
        # Position embeddings at other resolutions: timm's resample_abs_pos_embed, up and down.
        from timm.layers import resample_abs_pos_embed
        for grid in (6, 3):
            out[f"pos_embed_grid{grid}"] = resample_abs_pos_embed(model.pos_embed.detach(), [grid, grid], num_prefix_tokens=1)
    save_file({k: v.contiguous() for k, v in out.items()}, d / "expected.safetensors")
    return model


def unknown_tensor():
    """A plain checkpoint with one tensor no ViT part uses: it must be refused by name."""
    src, d = OUT / "plain-head", OUT / "unknown-tensor"
    d.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import load_file
    w = load_file(src / "model.safetensors")
    w["blocks.1.attn.extra_scale"] = torch.ones(32)
    save_file(w, d / "model.safetensors")
    shutil.copy(src / "config.json", d / "config.json")


def smooth_image(w, h, seed):
    """A smooth colour image (compresses well, so the fixture stays small)."""
    r = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    chans = [np.sin(xx * r.uniform(2, 9) + yy * r.uniform(2, 9) + r.uniform(0, 6)) for _ in range(3)]
    return Image.fromarray((np.stack(chans, -1) * 110 + 128).clip(0, 255).astype(np.uint8))


def embed_fixture():
    """A 224² model with the ImageNet statistics and crop 0.875 bicubic of a supervised ViT, and
    an image folder: two 224² PNGs (no resampling), JPEGs of other sizes and encodings."""
    d = OUT / "embed"
    if d.exists():
        shutil.rmtree(d)
    args = dict(img_size=224, patch_size=32, num_classes=0)
    model = timm.create_model("vit_base_patch32_224", pretrained=False, **TINY, **args).eval()
    randomize(model)
    d.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, d / "model.safetensors")
    save_config_for_hf(model, d / "config.json", model_args={**TINY, **args},
                       data_config=dict(crop_pct=0.875, interpolation="bicubic",
                                        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)))
    images = d / "images"
    (images / "a").mkdir(parents=True)
    (images / "b").mkdir(parents=True)
    smooth_image(224, 224, 0).save(images / "a/png224.png")
    smooth_image(224, 224, 1).convert("L").save(images / "b/gray224.png")
    smooth_image(300, 260, 2).save(images / "a/baseline.jpg", quality=90)
    smooth_image(250, 330, 3).save(images / "b/progressive.jpg", quality=85, progressive=True)
    smooth_image(280, 240, 4).convert("L").save(images / "a/gray.jpg", quality=90)
    smooth_image(240, 300, 5).convert("CMYK").save(images / "b/cmyk.jpg", quality=92)
    with open(d / "config.json") as f:
        cfg = json.load(f)
    tf = create_transform(**resolve_data_config(cfg["pretrained_cfg"], model=model))
    files = sorted(p.relative_to(images).as_posix() for p in images.rglob("*.*"))
    x = torch.stack([tf(Image.open(images / f).convert("RGB")) for f in files])
    # The 224² PNGs once more without resampling (crop_pct 1): the exact comparison.
    exact = [f for f in files if f.endswith("224.png")]
    tf1 = create_transform(**resolve_data_config({**cfg["pretrained_cfg"], "crop_pct": 1.0}, model=model))
    x1 = torch.stack([tf1(Image.open(images / f).convert("RGB")) for f in exact])
    save_file({"pre_logits": outputs(model, x)["pre_logits"], "pre_logits_exact": outputs(model, x1)["pre_logits"]},
              d / "expected.safetensors", metadata={"files": json.dumps(files), "exact_files": json.dumps(exact)})


def main():
    torch.manual_seed(0)
    for name, (arch, args) in FAMILIES.items():
        family(name, arch, args)
    unknown_tensor()
    embed_fixture()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"timm {timm.__version__}, torch {torch.__version__}: {OUT} holds {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
