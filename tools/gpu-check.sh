#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (≤ 5 minutes on one): the PyTorch trainer's CUDA path against
# its CPU path — 20 steps of the same run, losses within 1e-3 relative (TF32 off) — and the
# throughput of a VPT step on timm's ViT-B/16 at 224² in fp32 and under bf16 autocast, printed
# with the GPU's name. Needs the project's venv (tools/setup-python.sh) with a CUDA build of torch
# (SPT_VENV may point at one) and the spt binary (swift build).
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(bash tools/setup-python.sh)
"$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu-check: no CUDA device for this torch (' + torch.__version__ + ')')"
swift build --product spt >/dev/null
(cd python && OMP_NUM_THREADS=1 "$py" -m unittest discover -s tests -p test_cuda.py -v)
cd python && "$py" - <<'PY'
import time, timm, torch
from spt_torch.model import PromptedViT
torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
vit = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=0).cuda().eval().requires_grad_(False)
model = PromptedViT(vit, "cls", classes=100, prompts=50, deep=False).cuda()
opt = torch.optim.AdamW([model.prompt_embeddings, *model.head.parameters()], lr=1e-3)
x, y = torch.randn(32, 3, 224, 224, device="cuda"), torch.randint(0, 100, (32,), device="cuda")
for name, bf16 in (("fp32", False), ("bf16 autocast", True)):
    def step():
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        opt.step()
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0, n = time.time(), 20
    for _ in range(n):
        step()
    torch.cuda.synchronize()
    print(f"{torch.cuda.get_device_name()}: ViT-B/16 224², VPT-shallow 50 prompts, batch 32, {name}: {32 * n / (time.time() - t0):.1f} img/s")
PY
