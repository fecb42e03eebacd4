"""The CUDA path of `spt_torch.train` (device placement, nccl, bf16 autocast, pinned eval
batches): 20 steps on the GPU give the CPU's losses within 1e-3 relative (TF32 off). Runs where
CUDA is present; elsewhere it is skipped, saying so — tools/gpu-check.sh is the same check, with
ViT-B/16 throughput, for a machine with a GPU."""
import os
import subprocess
import sys
import unittest

from engine import ExportedTaskCase

try:
    import torch
    HAVE_CUDA = torch.cuda.is_available()
except ImportError:
    HAVE_CUDA = False


@unittest.skipUnless(HAVE_CUDA, "no CUDA device here: the GPU path runs on a machine with one (tools/gpu-check.sh)")
class CudaTests(ExportedTaskCase):
    def losses(self, device, precision="fp32"):
        runs = os.path.join(self.tmp.name, f"{device}-{precision}")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}
        subprocess.run([sys.executable, "-m", "spt_torch.train", "--backbone", self.backbone, "--task", self.task, "--strategy", "kmeans",
                        "--prompts", "4", "--epochs", "1", "--max-steps", "20", "--device", device, "--precision", precision,
                        "--runs-dir", runs, "--session", "s"], check=True, capture_output=True, env=env)
        from spt_torch import read
        return [r["loss"] for r in read(os.path.join(runs, "s", "kmeans.jsonl"))[0] if r["kind"] == "train"]

    def test_twenty_steps_on_the_gpu_give_the_cpus_losses(self):
        cpu, gpu = self.losses("cpu"), self.losses("cuda")
        worst = max(abs(a - b) / abs(b) for a, b in zip(gpu, cpu))
        print(f"{torch.cuda.get_device_name()}: 20 steps, largest relative loss difference {worst:.1e}")
        self.assertEqual(len(gpu), 20)
        self.assertLessEqual(worst, 1e-3)

    def test_bf16_autocast_runs_on_the_gpu(self):
        self.assertEqual(len(self.losses("cuda", "bf16")), 20)
