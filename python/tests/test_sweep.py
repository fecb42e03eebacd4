"""`python -m spt_torch.sweep`: the engine's --tune search in rounds; a sweep through submitit's
local executor and through a real one-node SLURM (Debian's slurm-wlm and munge, started on
localhost by tools/slurm-local.sh) writes every run's log and an engine-shaped compare.json; a job
stopped with SIGTERM midway (`scancel --signal=TERM` under SLURM) is submitted again and its run
resumes to the uninterrupted run's losses."""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

from engine import REPO, SPT, ExportedTaskCase
from spt_torch.sweep import LRSearch, snap

try:
    import submitit  # noqa: F401
    HAVE_SUBMITIT = True
except ImportError:
    HAVE_SUBMITIT = False


class LRSearchTests(unittest.TestCase):
    def search(self, score, grid=(1e-3, 3e-3, 1e-2, 3e-2), wds=(1e-4,), extensions=4):
        s, rounds = LRSearch(grid, wds, max_extensions=extensions), 0
        while s.points():
            s.feed([[score(lr, wd)] for lr, wd in s.points()])
            rounds += 1
        return s.result(), rounds

    def test_the_grid_grows_until_the_pick_is_bracketed(self):
        # Best at 0.3: the grid's top (0.03) grows to 0.1, 0.3, 1 — one round each.
        r, rounds = self.search(lambda lr, wd: 1 - abs(np_log10(lr) - np_log10(0.3)) / 10)
        self.assertEqual((r["best"]["lr"], r["extensions"], r["bracketed"], rounds), (0.3, [0.1, 0.3, 1.0], True, 4))

    def test_the_bound_stops_and_says_so(self):
        r, _ = self.search(lambda lr, wd: lr, extensions=2)
        self.assertEqual((r["best"]["lr"], r["extensions"], r["bracketed"]), (0.3, [0.1, 0.3], False))

    def test_a_plateau_stops_growth_and_ties_go_to_the_smaller_rate(self):
        r, rounds = self.search(lambda lr, wd: 0.5)
        self.assertEqual((r["best"]["lr"], r["extensions"], rounds), (1e-3, [], 1))

    def test_a_diverged_seed_leaves_its_point_unscored(self):
        s = LRSearch([0.01, 0.03], [0.0])
        s.feed([[0.8, None], [0.7, 0.7]])
        self.assertIsNone(s.scored[0]["accuracy"])

    def test_snap_keeps_the_ladder(self):
        self.assertEqual([snap(x) for x in (0.09, 0.0333, 0.9, 0.05)], [0.1, 0.03, 1.0, 0.05])

    def test_the_engines_search_on_shared_scenarios(self):
        """40 scenarios the engine's LRSearchSharedTests drew and ran (fixtures/lrsearch.json):
        the same points asked in the same order, the same pick, extensions and bracketing."""
        with open(os.path.join(os.path.dirname(__file__), "fixtures", "lrsearch.json")) as f:
            scenarios = json.load(f)["scenarios"]
        for i, sc in enumerate(scenarios):
            counts, wds = sc["valCountsOf200"], sc["wdGrid"]
            s, asked = LRSearch(sc["lrGrid"], wds, max_extensions=sc["maxExtensions"]), []
            while s.points():
                keys = [f"{round(2 * math.log10(lr))}|{wds.index(wd)}" for lr, wd in s.points()]
                asked += keys
                s.feed([[None if c is None else c / 200 for c in counts[k]] for k in keys])
            self.assertEqual(sorted(asked), sorted(counts), f"scenario {i}: the points asked")
            self.assertEqual(s.result(), sc["result"], f"scenario {i}")


def np_log10(x):
    import math
    return math.log10(x)


class SweepCase(ExportedTaskCase):
    """What both launchers' tests share (no tests of its own)."""
    FLAGS = ["--", "--epochs", "2", "--nmi-every", "10", "--checkpoint-every", "0"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..")}

    def sweep(self, runs, args, launcher="local"):
        return subprocess.Popen([sys.executable, "-m", "spt_torch.sweep", "--task", self.task, "--backbone", self.backbone,
                                 "--runs-dir", runs, "--session", "s", "--threads", "1", "--launcher", launcher, "--prompt-counts", "4"] + args + self.FLAGS,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, start_new_session=True)

    def records(self, path):
        from spt_torch import read
        return read(path)[0]

    @staticmethod
    def losses(records):
        return [(r["step"], r["loss"]) for r in records if r["kind"] == "train"] + \
               [(r["step"], r["accuracy"]) for r in records if r["kind"] == "eval"]

    def uninterrupted(self, run):
        """The run as one uninterrupted `spt_torch.train` (the sweep's argv for it, another session)."""
        runs = os.path.join(self.tmp.name, "whole-" + run)
        strategy, seed = run.split("-np")[0], run.rsplit("-s", 1)[1]
        subprocess.run([sys.executable, "-m", "spt_torch.train", "--task", self.task, "--backbone", self.backbone, "--strategy", strategy,
                        "--prompts", "4", "--seed", seed, "--eval-protocol", "tune", "--runs-dir", runs, "--session", "s", "--run", run]
                       + self.FLAGS[1:], check=True, capture_output=True, env=self.env)
        return self.losses(self.records(os.path.join(runs, "s", run + ".jsonl")))

    def interrupt_and_finish(self, runs, p, victim, stop):
        """Waits until `victim`'s log has 10 train records, calls `stop()`, then lets the sweep end."""
        path = os.path.join(runs, "s", victim + ".jsonl")
        deadline = time.time() + 600
        while time.time() < deadline and p.poll() is None and \
                sum(r["kind"] == "train" for r in (self.records(path) if os.path.exists(path) else [])) < 10:
            time.sleep(0.1)
        stop()
        try:
            out, _ = p.communicate(timeout=900)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        self.assertEqual(p.returncode, 0, out[-3000:])
        return out

    def check_session(self, runs, victim, out, expected_runs):
        session = os.path.join(runs, "s")
        with open(os.path.join(session, "compare.json")) as f:
            table = json.load(f)
        self.assertEqual(sorted(f for f in os.listdir(session) if f.endswith(".jsonl")), sorted(r + ".jsonl" for r in expected_runs))
        for row in table["rows"]:
            self.assertLessEqual({"strategy", "prompts", "split", "lr", "weightDecay", "accuracyMean", "accuracySD", "initSeconds",
                                  "gatherSeconds", "diverged"}, set(row))
        victim_records = self.records(os.path.join(session, victim + ".jsonl"))
        # The `stopped` event came after the checkpoint: resuming cut it off with the rest of the stop.
        events = [r["event"] for r in victim_records if r["kind"] == "event"]
        self.assertEqual(events, ["restored", "finished"], out[-3000:])
        self.assertIn("submitted again to resume", out)
        self.assertEqual(self.losses(victim_records), self.uninterrupted(victim))
        # spt report reads the session as an engine compare's.
        report = subprocess.run([SPT, "report", session, "--out", os.path.join(self.tmp.name, "report-" + os.path.basename(runs))],
                                capture_output=True, text=True)
        self.assertEqual(report.returncode, 0, report.stderr)
        print(f"{os.path.basename(runs)}: {len(expected_runs)} runs, {victim} stopped by SIGTERM at step ≥ 10, resubmitted, "
              f"resumed to the uninterrupted run's {len(self.losses(victim_records))} losses and accuracies")


@unittest.skipUnless(HAVE_SUBMITIT, "needs submitit (tools/setup-python.sh installs it)")
class LocalSweepTests(SweepCase):
    def test_a_local_sweep_resumes_a_run_stopped_midway(self):
        runs = os.path.join(self.tmp.name, "local")
        p = self.sweep(runs, ["--strategies", "random", "mean-pool", "--seeds", "0", "1", "--parallel", "2"])
        victim = "random-np4-s0"

        def stop():
            # The job's process is the one holding the run's log open.
            path = os.path.realpath(os.path.join(runs, "s", victim + ".jsonl"))
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if any(os.path.realpath(os.path.join(f"/proc/{pid}/fd", fd)) == path for fd in os.listdir(f"/proc/{pid}/fd")):
                        os.kill(int(pid), signal.SIGTERM)
                except OSError:
                    continue

        out = self.interrupt_and_finish(runs, p, victim, stop)
        self.check_session(runs, victim, out, [f"{s}-np4-s{seed}" for s in ("random", "mean-pool") for seed in (0, 1)])


SLURM_LOCAL = os.path.join(REPO, "tools", "slurm-local.sh")


def slurm_ready():
    """Starts the one-node SLURM of tools/slurm-local.sh (root only): (its SLURM_CONF or None,
    whether it was already running)."""
    if os.geteuid() != 0 or not shutil.which("slurmctld"):
        return None, False
    # A live controller only: a killed one can linger as a zombie, which plain pgrep also matches.
    running = subprocess.run(["pgrep", "-x", "-r", "D,R,S", "slurmctld"], capture_output=True).returncode == 0
    r = subprocess.run(["bash", SLURM_LOCAL, "start"], capture_output=True, text=True)
    m = re.search(r"SLURM_CONF=(\S+)", r.stdout)
    return (m.group(1) if r.returncode == 0 and m else None), running


class SlurmCase(SweepCase):
    """Sweeps through the one-node SLURM of tools/slurm-local.sh where it starts (it is stopped
    again unless it was running before); without one a case that `needs_slurm` is skipped, any
    other runs on the local executor (`launcher`)."""
    needs_slurm = True

    @classmethod
    def setUpClass(cls):
        conf, cls.was_running = slurm_ready()
        if conf is None and cls.needs_slurm:
            raise unittest.SkipTest("no SLURM here: tools/slurm-local.sh needs root and Debian's slurm-wlm and munge (tools/setup.sh)")
        super().setUpClass()
        cls.launcher = "slurm" if conf else "local"
        if conf:
            cls.env["SLURM_CONF"] = conf

    @classmethod
    def tearDownClass(cls):
        if cls.launcher == "slurm" and not cls.was_running:
            subprocess.run(["bash", SLURM_LOCAL, "stop"], capture_output=True)  # what this case started, it stops
        super().tearDownClass()


@unittest.skipUnless(HAVE_SUBMITIT, "needs submitit (tools/setup-python.sh installs it)")
class SlurmSweepTests(SlurmCase):
    def test_a_slurm_sweep_resumes_a_job_cancelled_with_sigterm(self):
        runs = os.path.join(self.tmp.name, "slurm")
        p = self.sweep(runs, ["--strategies", "random", "mean-pool", "--seeds", "0", "1"], launcher="slurm")
        victim, printed = "mean-pool-np4-s1", []

        def stop():
            # The sweep printed "<run>: submitted as job <id>" for every job it submitted.
            job = None
            while job is None:
                printed.append(p.stdout.readline())
                m = re.match(rf"{victim}: submitted as job (\S+)", printed[-1])
                job = m.group(1) if m else None
            subprocess.run(["scancel", "--signal=TERM", job], check=True, env=self.env)

        # Lines are read by stop(); the rest by communicate().
        out = self.interrupt_and_finish(runs, p, victim, stop)
        self.check_session(runs, victim, "".join(printed) + out, [f"{s}-np4-s{seed}" for s in ("random", "mean-pool") for seed in (0, 1)])


@unittest.skipUnless(HAVE_SUBMITIT, "needs submitit (tools/setup-python.sh installs it)")
class TuneSweepTests(SlurmCase):
    """`--tune` end to end, through the real SLURM where tools/slurm-local.sh can start one (else
    the local executor, said in the output): the sweep's compare.json equals `spt compare --tune`'s
    on the same grid — every point's per-seed val accuracy, the extension, the pick, the final
    test accuracy."""
    needs_slurm = False

    def test_a_tune_sweep_picks_what_the_engine_picks(self):
        grid = ["--strategies", "mean-pool", "--tune", "--tune-seeds", "0", "1", "--lr-grid", "0.003", "0.01",
                "--max-grid-extensions", "1", "--seeds", "0"]
        runs = os.path.join(self.tmp.name, "tune-" + self.launcher)
        p = self.sweep(runs, grid, launcher=self.launcher)
        out, _ = p.communicate(timeout=1200)
        self.assertEqual(p.returncode, 0, out[-3000:])
        engine = os.path.join(self.tmp.name, "tune-engine")
        r = subprocess.run([SPT, "compare", "--task", self.task, "--backbone", "mae-tiny", "--prompt-counts", "4", "--threads", "1",
                            "--runs-dir", engine, "--epochs", "2", "--nmi-every", "10"] + grid, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        tables = []
        for d in (os.path.join(runs, "s"), os.path.join(engine, os.listdir(engine)[0])):
            with open(os.path.join(d, "compare.json")) as f:
                tables.append(json.load(f)["rows"])
        (ours,), (theirs,) = tables
        points = lambda row: [(p["lr"], p["weightDecay"], p["seeds"]) for p in row["tune"]["points"]]
        self.assertEqual(points(ours), points(theirs))
        for key in ("extensions", "bracketed"):
            self.assertEqual(ours["tune"][key], theirs["tune"][key], key)
        self.assertEqual((ours["lr"], ours["weightDecay"], ours["split"]), (theirs["lr"], theirs["weightDecay"], theirs["split"]))
        self.assertEqual(ours["accuracyMean"], theirs["accuracyMean"])
        print(f"tune sweep through {self.launcher}: {len(points(ours))} grid points × 2 seeds, extension {ours['tune']['extensions']}, "
              f"pick lr {ours['lr']:g}, test accuracy {ours['accuracyMean']:.4f} — as spt compare --tune")


if __name__ == "__main__":
    unittest.main()
