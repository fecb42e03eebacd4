#!/usr/bin/env python3
"""Summarizes run logs (spt compare output, e.g. sample-runs/findings/*) as the README's findings
tables: per directory and strategy (and prompt count), final test accuracy mean ± sd over seeds,
and NMI (mean over blocks) at step 0 and at the end. Standard library only.
    tools/findings.py sample-runs/findings/*"""
import json, statistics, sys
from collections import defaultdict
from pathlib import Path

def read(path):
    header, evals, nmis = None, [], []
    for line in open(path, encoding="utf-8"):
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a torn line; the engine's reader reports these, here they are just skipped
        k = r.get("kind")
        if k == "header": header = r
        elif k == "eval" and r["split"] == "test": evals.append(r["accuracy"])
        elif k == "nmi" and r["values"]: nmis.append(sum(r["values"]) / len(r["values"]))
    return header, evals, nmis

def fmt(xs, scale=100):
    if not xs: return "—"
    m = statistics.mean(xs) * scale
    return f"{m:.1f} ± {statistics.stdev(xs) * scale:.1f}" if len(xs) > 1 else f"{m:.1f}"

for d in sys.argv[1:]:
    groups = defaultdict(lambda: {"acc": [], "nmi0": [], "nmi1": [], "lr": set()})
    task = backbone = "?"
    for f in sorted(Path(d).glob("*.jsonl")):
        h, evals, nmis = read(f)
        if not h or not evals: continue
        task, backbone = h["task"], h["backbone"]
        g = groups[(h["strategy"], h["prompts"])]
        g["acc"].append(evals[-1]); g["nmi0"].append(nmis[0]); g["nmi1"].append(nmis[-1]); g["lr"].add(h["lr"])
    print(f"\n{task} · {backbone} ({d})\n")
    print("| strategy | Np | lr | seeds | test acc % | NMI step 0 | NMI end |")
    print("|---|---|---|---|---|---|---|")
    for (s, np_), g in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0] != "random", kv[0][0])):
        lr = ", ".join(f"{x:g}" for x in sorted(g["lr"]))
        print(f"| {s} | {np_} | {lr} | {len(g['acc'])} | {fmt(g['acc'])} | {statistics.mean(g['nmi0']):.2e} | {statistics.mean(g['nmi1']):.2e} |")
