#!/usr/bin/env bash
# The project's Python: a virtual environment outside the repository (SPT_VENV, default
# ~/.cache/spt/venv) with the pinned CPU PyTorch, timm, what the benchmark's comparisons need,
# TensorBoard (the event-file round-trip tests), submitit (sweeps) and wandb (W&B run files, offline,
# for the reader's tests and `spt_torch.train --wandb`); and Debian's slurm-wlm and
# munge, the one-node SLURM the sweep tests start (tools/slurm-local.sh).
# Used by `make bench` and by the fixture scripts under tools/ (run by hand). Created once;
# prints its python's path on stdout.
#
# timm imports torchvision for its transforms, and PyPI's torchvision is a CUDA build whose
# `_meta_registrations` module fails beside CPU torch (it registers ops that its CUDA library did
# not load). timm uses only torchvision's pure-Python transforms, so the pinned wheel is installed
# without dependencies and that one module is replaced by an empty one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/setup.sh" python3-venv slurm-wlm munge >&2
venv=${SPT_VENV:-$HOME/.cache/spt/venv}
py="$venv/bin/python"
if ! "$py" -c "import torch, timm, sklearn, safetensors, faiss, PIL, tensorboard" 2>/dev/null; then
  echo "python: creating $venv (torch 2.13.0 CPU, timm 1.0.31, scikit-learn, faiss-cpu, safetensors, tensorboard; ≈1 GB)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0 numpy scikit-learn faiss-cpu==1.15.1 safetensors==0.8.0 \
    pillow pyyaml huggingface_hub tensorboard==2.21.0 >&2
  "$venv/bin/pip" install -q --no-deps torchvision==0.28.0 timm==1.0.31 >&2
  tv=$("$py" -c "import importlib.util as u; print(u.find_spec('torchvision').submodule_search_locations[0])")
  echo "# Emptied by tools/setup-python.sh: the CUDA wheel's op registrations fail beside CPU torch." > "$tv/_meta_registrations.py"
  "$py" -c "import timm, torchvision.transforms" >&2
fi
# Added after the first release of this venv: installed into an existing one too.
"$py" -c "import submitit" 2>/dev/null || "$venv/bin/pip" install -q submitit==1.5.4 >&2
"$py" -c "import wandb" 2>/dev/null || "$venv/bin/pip" install -q wandb==0.31.0 >&2
echo "$py"
