#!/usr/bin/env python3
"""Summarizes run logs (spt compare output, e.g. sample-runs/findings/*) as docs/findings.md's
tables, per directory:
  - per strategy and prompt count: final test accuracy mean ± sd over seeds, NMI (mean over
    blocks) at step 0 and at the end, and how many blocks' NMI ended above where it started;
  - when the directory holds several prompt counts: test accuracy per strategy × prompt count;
  - when it holds `--tune` runs (protocol tune): val accuracy per strategy × learning rate,
    the picked rate in bold.
With --together, all directories given form one table (e.g. a prompt-count sweep and the
session that ran the default count); with --matrix, one row per directory: test accuracy per
strategy at Np 10 and the best SPT strategy's margin over random. Standard library only.
    tools/findings.py sample-runs/findings/*
    tools/findings.py --together DIR_A DIR_B
    tools/findings.py --matrix sample-runs/findings/*
    tools/findings.py --matrix NAME=DIR,DIR … --nmi NAME=DIR,DIR …
With --matrix or --nmi an argument NAME=DIR,DIR,… joins directories into one row, as spt report
joins them (e.g. one variants directory per strategy); --nmi gives per row and strategy the NMI
(mean over blocks) at step 0 → end and the share of blocks whose NMI ended above its start.
    tools/findings.py --variants sample-runs/findings/variants/*
With --variants, one row per directory (one strategy and pooling variant each, tools/findings/variants.sh):
shallow or deep prompts, the tuned rate, test accuracy, and the initial prompts' diversity (mean
over seeds and prompt layers).
With --attention, per strategy: the prompts' attention share (from CLS and from the patches; mean
over blocks, and the first and last block) at step 0 and at the end, and from the prompt maps the
prompts' median distance to the nearest probe patch token (in spreads) at the first and last map.
    tools/findings.py --attention sample-runs/findings/attention/*
With --paired, per pair of directories A B (the same configurations run two ways, e.g. fp32 and
bf16 by tools/findings/bf16.sh): per strategy, A's and B's test accuracy and B − A paired by seed
(mean, sd and count of the per-seed differences).
    tools/findings.py --paired sample-runs/findings/variants/NAME sample-runs/findings/bf16/NAME …
A --tune point's val accuracy is the mean over its seeds, as spt compare --tune scores it."""
import json, math, statistics, sys
from collections import defaultdict
from pathlib import Path

def read(path):
    header, evals, nmis, inits = None, [], [], []
    for line in open(path, encoding="utf-8"):
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a torn line; the engine's reader reports these, here they are just skipped
        k = r.get("kind")
        if k == "header": header = r
        elif k == "eval": evals.append(r)
        elif k == "nmi" and r["values"]: nmis.append(r["values"])
        elif k == "init": inits.append(r)
    return header, evals, nmis, inits

def fmt(xs, scale=100):
    if not xs: return "—"
    m = statistics.mean(xs) * scale
    return f"{m:.1f} ± {statistics.stdev(xs) * scale:.1f}" if len(xs) > 1 else f"{m:.1f}"

def table(head, rows):
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows: print("| " + " | ".join(r) + " |")

def order(strategy): return (strategy != "random", strategy)

def picked(accuracy_by_lr):
    """The rate spt compare --tune picks: best val accuracy, the smaller rate on a tie."""
    best = max(accuracy_by_lr.values())
    return min(lr for lr, a in accuracy_by_lr.items() if a == best)

def collect(dirs):
    """Final runs per (strategy, Np) and the tune grid (strategy -> lr -> val accuracy)."""
    final = defaultdict(lambda: {"acc": [], "nmi0": [], "nmi1": [], "rising": [], "lr": set(), "div": []})
    grid = defaultdict(lambda: defaultdict(list))
    task = backbone = "?"
    for f in sorted(p for x in dirs for p in Path(x).glob("*.jsonl")):
        h, evals, nmis, inits = read(f)
        if not h or not evals: continue
        task, backbone = h["task"], h["backbone"]
        if h["params"].get("protocol") == "tune":
            val = [e["accuracy"] for e in evals if e["split"] == "val"]
            if val: grid[h["strategy"]][h["lr"]].append(val[-1])
            continue
        test = [e["accuracy"] for e in evals if e["split"] == "test"]
        if not test or not nmis: continue
        g = final[(h["strategy"], h["prompts"])]
        g["acc"].append(test[-1]); g["lr"].add(h["lr"]); g["variant"] = h.get("variant"); g["deep"] = h.get("deep", False)
        g["nmi0"].append(statistics.mean(nmis[0])); g["nmi1"].append(statistics.mean(nmis[-1]))
        g["rising"].append(sum(b > a for a, b in zip(nmis[0], nmis[-1])) / len(nmis[0]))
        if inits and inits[0].get("effective_rank"):
            i = inits[0]
            g["div"].append((statistics.mean(i["cosine"]) if i.get("cosine") else math.nan,
                             statistics.mean(i["effective_rank"]), statistics.mean(i["nearest"])))
    grid = {s: {lr: statistics.mean(v) for lr, v in g.items()} for s, g in grid.items()}
    return task, backbone, final, grid

def variants(dirs):
    """One row per directory of tools/findings/variants.sh: strategy, variant, tuned lr, test accuracy, diversity."""
    rows = []
    for d in dirs:
        if not Path(d).is_dir(): continue
        task, backbone, final, grid = collect([d])
        for (s, np_), g in final.items():
            div = g["div"]
            mean = lambda k: statistics.mean(x[k] for x in div)
            rows.append((task, backbone, "deep" if g["deep"] else "shallow", s, g["variant"] or "—",
                         ", ".join(f"{x:g}" for x in sorted(g["lr"])), str(len(g["acc"])), fmt(g["acc"]),
                         f"{mean(0):.2f}" if div and not math.isnan(mean(0)) else "—",
                         f"{mean(1):.1f}" if div else "—", f"{mean(2):.2f}" if div else "—"))
    rows.sort(key=lambda r: (r[2] == "deep", r[1], r[0], order(r[3]), r[4]))
    table(["task", "backbone", "prompts", "strategy", "variant", "tuned lr", "seeds", "test acc %", "init cos", "init rank", "nearest (σ)"],
          [list(r) for r in rows])

def attention(dirs):
    """Per directory and strategy: attention shares at the first and last probe, and init distance."""
    rows = []
    for d in dirs:
        for f in sorted(Path(d).glob("*.jsonl")):
            records = [json.loads(line) for line in open(f, encoding="utf-8") if line.strip()]
            h = records[0]
            att = [r for r in records if r["kind"] == "attention"]
            init = next((r for r in records if r["kind"] == "init"), {})
            if not att: continue
            share = lambda r, k: (statistics.mean(r[k]), r[k][0], r[k][-1]) if r.get(k) else None
            cell = lambda v: "—" if v is None else f"{v[0] * 100:.1f} ({v[1] * 100:.1f} / {v[2] * 100:.1f})"
            maps = [r for r in records if r["kind"] == "map"]
            # The prompts' median distance to the nearest patch token per block (the prompt map's).
            medians = lambda m: [statistics.median(b) for b in m["nearest"]]
            far = lambda m: f"{statistics.mean(medians(m)):.2f} ({medians(m)[0]:.2f} / {medians(m)[-1]:.2f})"
            rows.append((h["task"], h["backbone"], h["strategy"], cell(share(att[0], "cls")), cell(share(att[-1], "cls")),
                         cell(share(att[0], "patches")), cell(share(att[-1], "patches")),
                         far(maps[0]) if maps else "—", far(maps[-1]) if maps else "—"))
    rows.sort(key=lambda r: (r[1], r[0], order(r[2])))
    table(["task", "backbone", "strategy", "CLS → prompts, step 0 %", "CLS → prompts, end %", "patches → prompts, step 0 %",
           "patches → prompts, end %", "nearest token, step 0 (σ)", "nearest token, end (σ)"], [list(r) for r in rows])

STRATEGIES = ["random", "kmeans", "mean-pool", "max-pool", "sample"]

def groups(args):
    """(name, directories) per argument: a directory, or NAME=DIR,DIR,… joined into one."""
    return [(Path(a).name, [a]) if Path(a).exists() or "=" not in a else (a.split("=", 1)[0], a.split("=", 1)[1].split(","))
            for a in args]

def matrix(args):
    """One row per directory (or joined group): test accuracy per strategy (Np 10) and best SPT strategy − random."""
    strategies = STRATEGIES
    rows = []
    for name, d in groups(args):
        task, backbone, final, _ = collect(d)
        accs = {s: final[(s, 10)]["acc"] for s in strategies if (s, 10) in final}
        if not accs: continue
        best = max((statistics.mean(a) for s, a in accs.items() if s != "random"), default=None)
        delta = f"{(best - statistics.mean(accs['random'])) * 100:+.1f}" if best is not None and "random" in accs else "—"
        seeds = "/".join(sorted({str(len(a)) for a in accs.values()}))
        rows.append([task, backbone, name, seeds] + [fmt(accs.get(s, [])) for s in strategies] + [delta])
    table(["task", "backbone", "session", "seeds"] + strategies + ["best SPT − random"], rows)

def nmi(args):
    """One row per directory (or joined group): per strategy (Np 10), NMI step 0 → end (share of blocks rising)."""
    rows = []
    for name, d in groups(args):
        _, _, final, _ = collect(d)
        cell = lambda g: f"{statistics.mean(g['nmi0']):.1e} → {statistics.mean(g['nmi1']):.1e} ({statistics.mean(g['rising']) * 100:.0f}%)"
        rows.append([name] + [cell(final[(s, 10)]) if (s, 10) in final else "—" for s in STRATEGIES])
    table(["session"] + STRATEGIES, rows)

def finals(d):
    """Final runs' test accuracy by (strategy, seed), and the precision they ran in."""
    acc, precision = {}, set()
    for f in sorted(Path(d).glob("*.jsonl")):
        h, evals, _, _ = read(f)
        test = [e["accuracy"] for e in evals if e["split"] == "test"]
        if not h or not test or h["params"].get("protocol") == "tune": continue
        acc[(h["strategy"], h["seed"])] = test[-1]
        precision.add(h["params"].get("precision", "fp32"))
    return acc, "/".join(sorted(precision))

def paired(args):
    """Per pair of directories and strategy: A, B and the per-seed difference B − A."""
    rows, precisions = [], (set(), set())
    for a, b in zip(args[::2], args[1::2]):
        (acc_a, pa), (acc_b, pb) = finals(a), finals(b)
        precisions[0].add(pa); precisions[1].add(pb)
        task, backbone, _, _ = collect([a])
        for s in sorted({s for s, _ in acc_a}, key=order):
            seeds = sorted(seed for t, seed in acc_a if t == s and (t, seed) in acc_b)
            if not seeds: continue
            diff = [(acc_b[(s, x)] - acc_a[(s, x)]) * 100 for x in seeds]
            sd = f"{statistics.stdev(diff):.2f}" if len(diff) > 1 else "—"
            rows.append([task, backbone, s, f"{statistics.mean(acc_a[(s, x)] for x in seeds) * 100:.2f}",
                         f"{statistics.mean(acc_b[(s, x)] for x in seeds) * 100:.2f}", f"{statistics.mean(diff):+.2f} (sd {sd}, n {len(diff)})"])
    pa, pb = ("/".join(sorted(p)) or "?" for p in precisions)
    table(["task", "backbone", "strategy", f"{pa} test acc %", f"{pb} test acc %", f"{pb} − {pa}, paired by seed"], rows)

def details(dirs):
    task, backbone, final, grid = collect(dirs)
    print(f"\n{task} · {backbone} ({' + '.join(dirs)})\n")
    rows = []
    for (s, np_), g in sorted(final.items(), key=lambda kv: (kv[0][1], order(kv[0][0]))):
        lr = ", ".join(f"{x:g}" for x in sorted(g["lr"]))
        rows.append([s, str(np_), lr, str(len(g["acc"])), fmt(g["acc"]), f"{statistics.mean(g['nmi0']):.2e}",
                     f"{statistics.mean(g['nmi1']):.2e}", f"{statistics.mean(g['rising']) * 100:.0f}%"])
    table(["strategy", "Np", "lr", "seeds", "test acc %", "NMI step 0", "NMI end", "blocks rising"], rows)
    counts = sorted({np_ for _, np_ in final})
    if len(counts) > 1:
        print()
        strategies = sorted({s for s, _ in final}, key=order)
        table(["strategy"] + [f"Np {n}" for n in counts] + ["spread"],
              [[s] + [fmt(final[(s, n)]["acc"]) if (s, n) in final else "—" for n in counts]
               + [f"{(max(a) - min(a)) * 100:.1f}" if len(a := [statistics.mean(final[(s, n)]['acc']) for n in counts if (s, n) in final]) > 1 else "—"]
               for s in strategies])
    if grid:
        print()
        lrs = sorted({lr for g in grid.values() for lr in g})
        table(["strategy (val acc %)"] + [f"lr {lr:g}" for lr in lrs],
              [[s] + [(f"**{grid[s][lr] * 100:.1f}**" if lr == picked(grid[s]) else f"{grid[s][lr] * 100:.1f}")
                      if lr in grid[s] else "—" for lr in lrs] for s in sorted(grid, key=order)])

args = sys.argv[1:]
if args[:1] == ["--matrix"]: matrix(args[1:])
elif args[:1] == ["--nmi"]: nmi(args[1:])
elif args[:1] == ["--variants"]: variants(args[1:])
elif args[:1] == ["--attention"]: attention(args[1:])
elif args[:1] == ["--paired"]: paired(args[1:])
elif args[:1] == ["--together"]: details(args[1:])
else:
    for a in args: details([a])
