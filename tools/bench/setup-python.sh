#!/usr/bin/env bash
# The Python that `make bench` compares against: a virtual environment outside the repository
# (SPT_BENCH_VENV, default ~/.cache/spt/bench-venv) with the pinned CPU PyTorch and what
# kmeans_sklearn.py and kmeans_faiss.py need. Created once; prints its python's path on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../setup.sh" python3-venv >&2
venv=${SPT_BENCH_VENV:-$HOME/.cache/spt/bench-venv}
if ! "$venv/bin/python" -c "import torch, sklearn, safetensors, faiss" 2>/dev/null; then
  echo "bench: creating $venv (torch 2.13.0 CPU, scikit-learn, faiss-cpu, safetensors; ≈1 GB)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.13.0 numpy scikit-learn faiss-cpu==1.15.1 safetensors >&2
fi
echo "$venv/bin/python"
