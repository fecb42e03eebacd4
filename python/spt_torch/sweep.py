"""`spt compare` on PyTorch, each run a job: strategies × prompt counts × seeds, with `--tune`'s
learning-rate and weight-decay search (the engine's `LRSearch`: the grid scored on val by the mean
over the tune seeds, grown by about 3× on the side where the pick sits on an edge), submitted
through submitit to SLURM (`--launcher slurm`) or to local processes (`--launcher local`).

One session directory holds every run's log and the same `compare.json` as an engine compare, so
`spt-tui --watch` follows the sweep and `spt report` summarizes it. A job that a signal stopped
(SLURM's SIGTERM or SIGUSR1 before a kill or requeue, `scancel --signal=TERM`) has written its
run's checkpoint; the sweep submits it again and the run resumes where it stopped.

    python -m spt_torch.sweep --task fashion-mnist --backbone mae-tiny --seeds 0 1 2 --tune \\
        --launcher slurm --slurm-partition gpu -- --deep --epochs 10
"""
import argparse
import json
import math
import os
import signal
import statistics
import sys
import time

from .defaults import OPTIONS
from .prompt_init import STRATEGIES
from .runlog import read

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT, signal.SIGHUP)
# The train flags the sweep sets per run.
SWEEP_SETS = ("--task", "--backbone", "--strategy", "--prompts", "--seed", "--eval-protocol", "--lr", "--weight-decay",
              "--runs-dir", "--session", "--run")


class LRSearch:
    """The engine's `--tune` search (`Sources/SPTEngine/Train/LRSearch.swift`), in rounds so that
    each round's points run as parallel jobs: `points()` gives the (lr, wd) pairs to score next
    (empty when done), `feed(scores)` takes each pair's per-seed val accuracies (None: diverged)."""

    def __init__(self, lr_grid, wd_grid, factor=3.0, max_extensions=4):
        self.rates, self.wd_grid, self.factor, self.max_extensions = sorted(set(lr_grid)), list(wd_grid), factor, max_extensions
        self.scored, self.extensions, self.pending, self.done = [], [], [(lr, wd) for lr in self.rates for wd in wd_grid], False

    def points(self):
        return [] if self.done else list(self.pending)

    def feed(self, scores):
        for (lr, wd), seeds in zip(self.pending, scores):
            scored = [s for s in seeds if s is not None]
            accuracy = sum(scored) / len(scored) if scored and len(scored) == len(seeds) else None
            self.scored.append({"lr": lr, "weightDecay": wd, "accuracy": accuracy, "seeds": list(seeds)})
        best = self.best()
        if best is None:
            self.done, self.pending = True, []
            return
        low, high = best["lr"] == self.rates[0], best["lr"] == self.rates[-1]
        tied = any(p["lr"] != best["lr"] and p["accuracy"] == best["accuracy"] for p in self.scored)
        if not (low or high) or tied or len(self.extensions) >= self.max_extensions:
            self.done, self.pending = True, []
            return
        step = snap(best["lr"] * self.factor if high else best["lr"] / self.factor)
        self.extensions.append(step)
        self.rates = sorted(self.rates + [step])
        self.pending = [(step, wd) for wd in self.wd_grid]

    def best(self):
        """The highest accuracy; ties to the smaller rate, then to the earlier point."""
        best = None
        for _, p in sorted(enumerate(self.scored), key=lambda ip: (ip[1]["lr"], ip[0])):
            if p["accuracy"] is not None and p["accuracy"] > (best["accuracy"] if best else -1):
                best = p
        return best

    def result(self):
        best = self.best()
        if best is None:
            return None
        return {"best": best, "points": self.scored, "extensions": self.extensions,
                "bracketed": best["lr"] not in (self.rates[0], self.rates[-1])}


def snap(x):
    """`x` moved to the nearest value of the 1–3–10 ladder when within 15% of it (`LRSearch.snap`)."""
    e = math.floor(math.log10(x))
    for m in (1.0, 3.0, 10.0):
        v = m * 10 ** e
        if abs(v - x) <= 0.15 * v:
            return float(f"{v:.6g}")
    return x


def run_job(argv, threads):
    """One run, in the job's process: `spt_torch.train`, its exit status returned (128+signal:
    stopped by a signal, checkpoint written)."""
    import torch
    torch.set_num_threads(threads)
    from .train import main
    try:
        main(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


class Launcher:
    """Runs jobs through submitit — SLURM, or local processes at most `parallel` at a time — and
    submits a job again (up to `requeues` times) when a signal stopped it: its run resumes."""

    def __init__(self, kind, folder, threads, parallel, requeues, slurm):
        import submitit
        self.kind, self.threads, self.parallel, self.requeues = kind, threads, parallel, requeues
        if kind == "slurm":
            self.executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
            params = dict(cpus_per_task=threads, timeout_min=slurm["time"], slurm_signal_delay_s=slurm["signal_delay"],
                          name="spt-sweep", tasks_per_node=1, nodes=1)
            if slurm["partition"]:
                params["slurm_partition"] = slurm["partition"]
            self.executor.update_parameters(**params)
        else:
            self.executor = submitit.LocalExecutor(folder=folder)
            self.executor.update_parameters(timeout_min=24 * 60)

    def run(self, jobs, progress):
        """`jobs`: (run id, train argv). Returns {run id: exit status}."""
        queue, running, status, tries = list(jobs), {}, {}, {}
        limit = self.parallel if self.kind == "local" else len(jobs)
        while queue or running:
            while queue and len(running) < limit:
                run, argv = queue.pop(0)
                running[run] = (self.executor.submit(run_job, argv, self.threads), argv)
                progress(f"{run}: submitted as job {running[run][0].job_id}")
            time.sleep(0.5)
            for run, (job, argv) in list(running.items()):
                if not job.done():
                    continue
                del running[run]
                try:
                    code = job.result()
                except Exception as e:  # the job died without returning (killed, timed out, a failed node)
                    code, why = 1, str(e).strip().splitlines()[-1:] or [type(e).__name__]
                    progress(f"{run}: job {job.job_id} failed: {why[0]}")
                if code in [128 + s for s in STOP_SIGNALS] and tries.get(run, 0) < self.requeues:
                    tries[run] = tries.get(run, 0) + 1
                    progress(f"{run}: stopped by {signal.Signals(code - 128).name}; submitted again to resume ({tries[run]}/{self.requeues})")
                    queue.insert(0, (run, argv))
                    continue
                status[run] = code
                progress(f"{run}: {'finished' if code == 0 else f'exit status {code}'}")
        return status


def summarize(path):
    """What compare.json needs of one run's log (the engine's `RunSummary`), and its header."""
    evals, nmi, init, gather, diverged, header = {}, [], 0.0, 0.0, False, {}
    for r in (read(path)[0] if os.path.exists(path) else []):
        kind = r["kind"]
        if kind == "header":
            header = r
        elif kind == "eval":
            evals.setdefault(r["split"], []).append(r["accuracy"])
        elif kind == "nmi" and r["values"]:
            nmi.append(statistics.mean(r["values"]))
        elif kind == "init":
            init += r["seconds"]
            gather += r.get("gather_seconds") or 0.0
        elif kind == "event" and r["event"] == "diverged":
            diverged = True
    final = lambda split: None if diverged or not evals.get(split) else evals[split][-1]
    return dict(final=final, best=lambda split: max(evals[split]) if evals.get(split) else None, init=init, gather=gather,
                nmi_start=nmi[0] if nmi else None, nmi_end=nmi[-1] if nmi else None, diverged=diverged, header=header)


def _mean(xs):
    return sum(xs) / len(xs) if xs else None


def _sd(xs):
    return statistics.stdev(xs) if len(xs) > 1 else (0.0 if xs else None)


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m spt_torch.sweep", description=__doc__.split("\n\n")[0],
                                epilog="Flags after -- go to every run's python -m spt_torch.train.")
    p.add_argument("--task", required=True)
    p.add_argument("--backbone", required=True)
    p.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--prompt-counts", nargs="+", type=int, default=[OPTIONS["prompts"]])
    p.add_argument("--tune", action="store_true", help="pick lr and weight decay per strategy on val, then run final (train 1000, test)")
    p.add_argument("--tune-seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--lr-grid", nargs="+", type=float, default=[1e-3, 3e-3, 1e-2, 3e-2])
    p.add_argument("--wd-grid", nargs="+", type=float, default=[1e-4])
    p.add_argument("--max-grid-extensions", type=int, default=4)
    p.add_argument("--launcher", choices=["local", "slurm"], default="local")
    p.add_argument("--threads", type=int, default=OPTIONS["threads"], help="each run's torch threads (SLURM: its CPUs)")
    p.add_argument("--parallel", type=int, help="local: runs at a time (default: cores / --threads)")
    p.add_argument("--requeues", type=int, default=3, help="times a run stopped by a signal is submitted again")
    p.add_argument("--slurm-partition")
    p.add_argument("--slurm-time", type=int, default=60, help="minutes per job")
    p.add_argument("--slurm-signal-delay", type=int, default=90, help="seconds before the time limit SLURM sends SIGUSR1")
    p.add_argument("--runs-dir", default=OPTIONS["runs_dir"])
    p.add_argument("--session", default=time.strftime("%Y%m%d-%H%M%S"))
    own, rest = _split(argv)
    a = p.parse_args(own)
    # What each run trains is the sweep's to say: its grid's flags after -- would rename runs' contents.
    taken = [f for f in rest if f.split("=")[0] in SWEEP_SETS]
    if taken:
        p.error(f"{' '.join(taken)} after --: the sweep sets it for every run (use the sweep's own flags)")
    a.train_flags = rest
    if a.parallel is None:
        a.parallel = max(1, (os.cpu_count() or 1) // a.threads)
    return a


def _split(argv):
    """The sweep's own flags, and those after `--` for every run."""
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    session = os.path.join(a.runs_dir, a.session)
    os.makedirs(session, exist_ok=True)
    say = lambda line: print(line, flush=True)
    launcher = Launcher(a.launcher, os.path.join(session, ".submitit"), a.threads, a.parallel, a.requeues,
                        dict(partition=a.slurm_partition, time=a.slurm_time, signal_delay=a.slurm_signal_delay))

    def argv_for(run, strategy, np, seed, protocol, lr=None, wd=None):
        out = ["--task", a.task, "--backbone", a.backbone, "--strategy", strategy, "--prompts", str(np), "--seed", str(seed),
               "--eval-protocol", protocol, "--runs-dir", a.runs_dir, "--session", a.session, "--run", run]
        return out + (["--lr", repr(lr), "--weight-decay", repr(wd)] if lr is not None else []) + a.train_flags

    def log(run):
        return os.path.join(session, run + ".jsonl")

    configs = [(np, s) for np in a.prompt_counts for s in a.strategies]
    picks = {}
    if a.tune:
        searches = {c: LRSearch(a.lr_grid, a.wd_grid, max_extensions=a.max_grid_extensions) for c in configs}
        while any(s.points() for s in searches.values()):
            jobs, names = [], {}
            for (np, strategy), search in searches.items():
                for lr, wd in search.points():
                    names[(np, strategy, lr, wd)] = [f"tune-{strategy}-np{np}-lr{lr:g}-wd{wd:g}-s{seed}" for seed in a.tune_seeds]
                    jobs += [(run, argv_for(run, strategy, np, seed, "tune", lr, wd)) for run, seed in zip(names[(np, strategy, lr, wd)], a.tune_seeds)]
            launcher.run(jobs, say)
            for (np, strategy), search in searches.items():
                points = search.points()
                if points:
                    search.feed([[summarize(log(run))["final"]("val") for run in names[(np, strategy, lr, wd)]] for lr, wd in points])
        for c, search in searches.items():
            picks[c] = search.result()
            if picks[c] is None:
                say(f"{c[1]} np={c[0]}: every learning rate of the grid diverged")
            else:
                b = picks[c]["best"]
                say(f"{c[1]} np={c[0]}: picked lr {b['lr']:g} wd {b['weightDecay']:g} (val {b['accuracy'] * 100:.1f}%)")
    protocol = "final" if a.tune else "tune"
    finals = {}
    jobs = []
    for np, strategy in configs:
        if a.tune and picks[(np, strategy)] is None:
            continue
        best = picks[(np, strategy)]["best"] if a.tune else None
        for seed in a.seeds:
            run = f"{strategy}-np{np}-s{seed}"
            finals.setdefault((np, strategy), []).append(run)
            jobs.append((run, argv_for(run, strategy, np, seed, protocol, best and best["lr"], best and best["weightDecay"])))
    launcher.run(jobs, say)
    split = "test" if a.tune else "val"
    rows, first = [], {}
    for (np, strategy), runs in finals.items():
        summaries = [summarize(log(r)) for r in runs]
        first = first or summaries[0]["header"]
        accs = [x for x in (s["final"](split) for s in summaries) if x is not None]
        best_val = picks[(np, strategy)]["best"]["accuracy"] if a.tune else max((x for x in (s["best"]("val") for s in summaries) if x is not None), default=None)
        nmi = lambda key: _mean([s[key] for s in summaries if s[key] is not None])
        rows.append({"strategy": strategy, "prompts": np, "split": split, "lr": summaries[0]["header"].get("lr"),
                     "weightDecay": summaries[0]["header"].get("weight_decay"),
                     "accuracyMean": _mean(accs), "accuracySD": _sd(accs), "bestVal": best_val,
                     "initSeconds": _mean([s["init"] for s in summaries]), "gatherSeconds": _mean([s["gather"] for s in summaries]),
                     "nmiStart": nmi("nmi_start"), "nmiEnd": nmi("nmi_end"), "diverged": sum(s["diverged"] for s in summaries),
                     "tune": picks.get((np, strategy))})
    # The task and backbone as the runs' headers name them (an engine compare's names).
    table = {"session": a.session, "task": first.get("task", a.task), "backbone": first.get("backbone", a.backbone), "seeds": a.seeds,
             "rows": [{k: v for k, v in r.items() if v is not None} for r in rows]}
    tmp = os.path.join(session, "compare.json.partial")
    with open(tmp, "w") as f:
        json.dump(table, f, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(session, "compare.json"))
    for r in rows:
        acc = "—" if r["accuracyMean"] is None else f"{r['accuracyMean'] * 100:.1f} ± {r['accuracySD'] * 100:.1f}"
        say(f"{r['strategy']:10} np={r['prompts']:<3} lr {r['lr']:<8g} {split} acc {acc}")
    say(f"logs: {session}")


if __name__ == "__main__":
    main()
