"""The trainer's bad inputs, as a user meets them: each is one line on stderr naming the flag or
file, exit status 1, no traceback; and the shipped backbone names work as they do for `spt`."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

from engine import REPO, ExportedTaskCase, HAVE_TORCH


@unittest.skipUnless(HAVE_TORCH, "needs torch and timm")
class BadInputTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        d = self.tmp.name
        self.task = os.path.join(d, "task")
        os.makedirs(os.path.join(self.task, "images"))
        for name in ("train800.txt", "val200.txt", "train800val200.txt"):
            with open(os.path.join(self.task, name), "w") as f:
                f.write("images/a.png 0\n")
        self.broken_task = os.path.join(d, "broken")
        os.makedirs(self.broken_task)
        for name in ("train800.txt", "val200.txt", "train800val200.txt"):
            with open(os.path.join(self.broken_task, name), "w") as f:
                f.write("no label here\n")
        self.garbage = os.path.join(d, "garbage.safetensors")
        with open(self.garbage, "wb") as f:
            f.write(b"\x07\x00\x00\x00\x00\x00\x00\x00{oops}")
        self.empty_dir = os.path.join(d, "hub")
        os.makedirs(self.empty_dir)
        self.timm_fixture = os.path.join(REPO, "Tests", "SPTEngineTests", "Fixtures", "timm", "mae-avg-fcnorm")

    def run_trainer(self, flags):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}
        return subprocess.run([sys.executable, "-m", "spt_torch.train", "--runs-dir", os.path.join(self.tmp.name, "runs")] + flags,
                              capture_output=True, text=True, env=env, timeout=300)

    def test_each_bad_input_is_one_line_and_exit_status_1(self):
        t = self.task
        cases = [
            (["--backbone", "no-such-backbone", "--task", t], "--backbone no-such-backbone"),
            (["--backbone", self.empty_dir, "--task", t], "without model.safetensors"),
            (["--backbone", self.garbage, "--task", t], f"--backbone {self.garbage}"),
            (["--backbone", "mae-tiny", "--task", "/no/such/task"], "--task /no/such/task"),
            (["--backbone", "mae-tiny", "--task", self.empty_dir], "not a task folder"),
            (["--backbone", "mae-tiny", "--task", t, "--eval-protocol", "final"], "no test.txt"),
            (["--backbone", "mae-tiny", "--task", self.broken_task], f"--task {self.broken_task}"),
            (["--backbone", "mae-tiny", "--task", t, "--epochs", "0"], "--epochs 0"),
            (["--backbone", "mae-tiny", "--task", t, "--lr", "-1"], "--lr -1"),
            (["--backbone", "mae-tiny", "--task", t, "--momentum", "1.5"], "--momentum 1.5"),
            (["--backbone", "mae-tiny", "--task", t, "--image-size", "4"], "--image-size 4: must be 8…4096"),
            (["--backbone", "mae-tiny", "--task", t, "--image-size", "56"], "--image-size 56: this project's own backbones run at the size"),
            (["--backbone", self.timm_fixture, "--task", t, "--image-size", "50"], "--image-size 50: not a multiple of the backbone's patch size (8)"),
            (["--backbone", "mae-tiny", "--task", t, "--strategy", "bogus"], "bogus"),
            (["--backbone", "mae-tiny", "--task", t, "--no-such-flag"], "--no-such-flag"),
            (["--backbone", "mae-tiny", "--task", t, "--init", "/no/init.safetensors"], "--init /no/init.safetensors"),
            (["--task", t], "--backbone"),
        ] + ([] if torch_cuda() else [
            (["--backbone", "mae-tiny", "--task", t, "--device", "cuda"], "--device cuda: no CUDA device here"),
        ])
        from spt_torch.train import main
        for flags, text in cases:
            # In-process (a process each costs torch's import): what main prints and its exit status.
            err = io.StringIO()
            with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as exit:
                main(["--runs-dir", os.path.join(self.tmp.name, "runs")] + flags)
            lines = err.getvalue().strip().splitlines()
            self.assertEqual(exit.exception.code, 1, f"{flags}: {err.getvalue()}")
            self.assertEqual(len(lines), 1, f"{flags}: {err.getvalue()}")
            self.assertIn(text, lines[0], flags)
        # And as a process: one line, status 1, no traceback.
        r = self.run_trainer(["--backbone", self.garbage, "--task", t])
        self.assertEqual((r.returncode, len(r.stderr.strip().splitlines())), (1, 1), r.stderr)
        self.assertNotIn("Traceback", r.stderr)


class ShippedNameTests(ExportedTaskCase):
    def test_the_shipped_name_trains_as_the_file_does(self):
        runs = os.path.join(self.tmp.name, "by-name")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}
        r = subprocess.run([sys.executable, "-m", "spt_torch.train", "--backbone", "mae-tiny", "--task", self.task, "--runs-dir", runs,
                            "--session", "s", "--strategy", "random", "--max-steps", "2", "--nmi-every", "0"],
                           capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        from spt_torch import read
        records, issues = read(os.path.join(runs, "s", "random.jsonl"))
        self.assertEqual(issues, [])
        self.assertEqual(records[0]["backbone"], "mae-tiny")
        self.assertEqual([x["step"] for x in records if x["kind"] == "train"], [1, 2])


if __name__ == "__main__":
    unittest.main()


def torch_cuda():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False
