"""`spt_torch.train` under torchrun: two processes at 16 images each step exactly as one process
at 32, and a control command switches a running two-process run (a `segment` in its log). Needs
torch, timm and the `spt` binary (for the exported task and the backbone file)."""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

from test_parity import HAVE_TORCH, SPT


@unittest.skipUnless(HAVE_TORCH and os.path.exists(SPT), "needs torch, timm and the spt binary")
class DistributedTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.task = os.path.join(cls.tmp.name, "shape")
        subprocess.run([SPT, "tasks", "--export", "shape", "--out", cls.task, "--image-size", "28"], check=True, capture_output=True)
        info = subprocess.run([SPT, "info", "mae-tiny"], check=True, capture_output=True, text=True).stdout
        cls.backbone = re.search(r"file (\S+\.safetensors)", info).group(1)
        cls.env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}

    def args(self, runs, steps, strategy="random"):
        return ["-m", "spt_torch.train", "--backbone", self.backbone, "--task", self.task, "--strategy", strategy,
                "--prompts", "4", "--epochs", "2", "--batch", "32", "--max-steps", str(steps), "--runs-dir", runs, "--session", "s"]

    def torchrun(self, args):
        return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29511"] + args

    def losses(self, runs, run="random"):
        from spt_torch import read
        records, _ = read(os.path.join(runs, "s", run + ".jsonl"))
        return records, [r["loss"] for r in records if r["kind"] == "train"]

    def test_two_processes_step_as_one(self):
        one, two = os.path.join(self.tmp.name, "one"), os.path.join(self.tmp.name, "two")
        subprocess.run([sys.executable] + self.args(one, 6), check=True, capture_output=True, env=self.env)
        subprocess.run(self.torchrun(self.args(two, 6)), check=True, capture_output=True, env=self.env)
        _, a = self.losses(one)
        records, b = self.losses(two)
        self.assertEqual((len(a), len(b)), (6, 6))
        self.assertEqual(records[0]["params"]["world_size"], "2")
        worst = max(abs(x - y) for x, y in zip(a, b))
        print(f"torchrun 2 × 16 vs 1 × 32: 6 steps, largest loss difference {worst:.1e}")
        self.assertLessEqual(worst, 1e-5)

    def test_a_control_command_switches_a_running_two_process_run(self):
        from spt_torch.control import send
        runs = os.path.join(self.tmp.name, "control")
        log = os.path.join(runs, "s", "random.jsonl")
        p = subprocess.Popen(self.torchrun(self.args(runs, 40)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        try:
            deadline = time.time() + 120
            while time.time() < deadline and len(self.losses(runs)[1] if os.path.exists(log) else []) < 3:
                time.sleep(0.2)
            send(log, "switch", strategy="kmeans")
            self.assertEqual(p.wait(timeout=300), 0)
        finally:
            p.kill()
        records, losses = self.losses(runs)
        segments = [r for r in records if r["kind"] == "segment"]
        self.assertEqual([(s["strategy"], s["reason"]) for s in segments], [("kmeans", "control channel")])
        self.assertTrue(3 <= segments[0]["step"] < 40 and len(losses) == 40)
        self.assertEqual(records[-1]["event"], "stopped")


if __name__ == "__main__":
    unittest.main()
