"""W&B run files between the real `wandb` package (offline, no network, no account) and spt: what a
script logs, `spt export` reads with identical values at identical steps, with the config's
strategy, a logged change of it, the summary and the exit; a run killed with SIGKILL mid-write
reads up to its last whole record, and is read as it grows; `spt_torch.train --wandb` mirrors its
run log so that both export the same numbers. Needs wandb, torch and the `spt` binary."""
import csv
import glob
import math
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from engine import SPT, ExportedTaskCase

try:
    import wandb  # noqa: F401
    HAVE_WANDB = True
except ImportError:
    HAVE_WANDB = False

# A script that logs like a training loop: the value of each metric at each step is a formula, so
# a test can say what any row must hold. argv: steps, seconds to sleep per step, padding bytes.
SCRIPT = textwrap.dedent("""
    import math, sys, time, wandb
    steps, pause, pad = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    run = wandb.init(project="spt-test", name="logged", config={"strategy": "kmeans", "lr": 0.05, "prompts": 10})
    for s in range(steps):
        row = {"train/loss": 2.5 * math.exp(-s / 17), "lr": 0.05 * (1 - s / steps), "gpu/memory_gb": 3.5 + s / 7}
        if s % 10 == 9:
            row["val/accuracy"] = 0.5 + s / 200
            row.update({f"nmi/block_{b}": 0.01 * (b + 1) * s for b in range(3)})
        if s == 25:
            row["strategy"] = "mean-pool"
        if pad:
            row["padding"] = "x" * pad
        wandb.log(row, step=s)
        time.sleep(pause)
    run.summary["best_val"] = 0.745
    run.finish()
""")


def expected(steps):
    """{(metric as spt export names it, block, step): value} for SCRIPT's first `steps` rows."""
    out = {}
    for s in range(steps):
        out[("train/loss", "", s)] = 2.5 * math.exp(-s / 17)
        out[("train/lr", "", s)] = 0.05 * (1 - s / 50)
        out[("gpu/memory_gb", "", s)] = 3.5 + s / 7
        if s % 10 == 9:
            out[("val/acc", "", s)] = 0.5 + s / 200
            for b in range(3):
                out[("nmi", str(b), s)] = 0.01 * (b + 1) * s
    return out


@unittest.skipUnless(HAVE_WANDB and os.path.exists(SPT), "needs wandb and the spt binary")
class WandBTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": self.tmp.name}

    def log(self, steps, pause=0.0, pad=0, wait=True):
        script = os.path.join(self.tmp.name, "log.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        # A session of its own: killing it kills W&B's service process too.
        p = subprocess.Popen([sys.executable, script, str(steps), str(pause), str(pad)], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if wait else subprocess.DEVNULL, start_new_session=True)
        if wait:
            _, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err.decode()[-2000:])
        return p

    def export(self, path):
        """`spt export PATH` (tidy) → ({(metric, block, step): value}, rows, stderr)."""
        out = os.path.join(self.tmp.name, "out.csv")
        r = subprocess.run([SPT, "export", path, "--out", out, "--smoothing", "0"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        return {(r["metric"], r["block"], int(r["step"])): float(r["value"]) for r in rows}, rows, r.stderr

    def run_file(self):
        files = glob.glob(os.path.join(self.tmp.name, "wandb", "*run-*", "run-*.wandb"))
        return files[0] if files else None

    def test_what_wandb_writes_spt_reads(self):
        self.log(50)
        values, rows, _ = self.export(os.path.join(self.tmp.name, "wandb"))
        want = expected(50)
        got = {k: v for k, v in values.items() if k in want}
        self.assertEqual(got, want)
        self.assertEqual({r["run"] for r in rows}, {"logged"})
        # The config's strategy until step 25, the logged change from there on.
        self.assertEqual({int(r["step"]) for r in rows if r["strategy"] == "mean-pool" and r["metric"] == "train/loss"}, set(range(25, 50)))
        self.assertEqual(values[("summary/best_val", "", 49)], 0.745)
        self.assertTrue(any(k[0].startswith("system/") for k in values))
        print(f"wandb → spt export: {len(want)} values at identical steps, identical; strategy change at step 25; summary read")

    def test_a_run_is_read_as_it_grows_and_after_sigkill(self):
        """2 KB of padding per row fills W&B's 32 KiB blocks, which it writes as they fill: the live
        file is read while the job runs, then after SIGKILL, up to its last whole record."""
        p = self.log(200, pause=0.05, pad=2000, wait=False)
        try:
            seen = []
            deadline = time.time() + 120
            while time.time() < deadline and len(seen) < 2 and p.poll() is None:
                path = self.run_file()
                if path and os.path.getsize(path) > 32768 * (len(seen) + 1):
                    values, _, _ = self.export(path)
                    seen.append(max(s for m, _, s in values if m == "train/loss"))
                time.sleep(0.2)
            self.assertIsNone(p.poll(), "the job ended before its file was read twice while running")
            self.assertEqual(len(seen), 2)
            self.assertLess(seen[0], seen[1])
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        values, rows, stderr = self.export(self.run_file())
        steps = sorted(s for m, _, s in values if m == "train/loss")
        self.assertEqual(steps, list(range(len(steps))))
        want = expected(200)
        self.assertEqual({k: v for k, v in values.items() if k in want and k[2] in steps and k[0] != "train/lr"},
                         {k: v for k, v in want.items() if k[2] in steps and k[0] != "train/lr"})
        print(f"read live at steps {seen}; SIGKILL: steps 0…{steps[-1]} read, values identical; {stderr.strip() or 'no torn tail'}")


@unittest.skipUnless(HAVE_WANDB, "needs wandb")
class TrainerMirrorTests(ExportedTaskCase):
    def test_the_trainer_mirrors_its_run_log_to_wandb(self):
        """One run, two files: the run log and its W&B mirror export the same train, eval and NMI
        numbers at the same steps, with the header's strategy and a `finished` end."""
        runs = os.path.join(self.tmp.name, "wandb-mirror")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": runs,
               "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}
        subprocess.run([sys.executable, "-m", "spt_torch.train", "--backbone", self.backbone, "--task", self.task, "--runs-dir", runs,
                        "--session", "s", "--strategy", "kmeans", "--prompts", "4", "--epochs", "1", "--nmi-every", "4",
                        "--wandb", "spt-test"], check=True, capture_output=True, env=env, timeout=300)

        def export(path):
            out = os.path.join(runs, "out.csv")
            subprocess.run([SPT, "export", path, "--out", out, "--smoothing", "0"], check=True, capture_output=True)
            with open(out, newline="") as f:
                rows = list(csv.DictReader(f))
            return {(r["metric"], r["block"], int(r["step"])): float(r["value"]) for r in rows if r["metric"] in ("train/loss", "train/lr", "val/acc", "train/acc", "nmi")}, rows

        log, log_rows = export(os.path.join(runs, "s", "kmeans.jsonl"))
        mirror, mirror_rows = export(os.path.join(runs, "wandb"))
        self.assertGreater(len(log), 20)
        self.assertEqual(mirror, log)
        self.assertEqual({r["strategy"] for r in mirror_rows}, {"kmeans"})
        self.assertEqual({r["run"] for r in mirror_rows}, {"kmeans"})
        print(f"spt_torch.train --wandb: {len(log)} train, eval and NMI values in the W&B file equal the run log's")


if __name__ == "__main__":
    unittest.main()
