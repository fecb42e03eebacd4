#!/usr/bin/env bash
# The initial prompts' diversity per strategy and pooling variant on mae-tiny's own tokens
# (docs/findings.md, "Pooling variants"): deep prompts, 10 per block, seed 0, one epoch each (only
# the init record is read). Prints a Markdown table: mean pairwise cosine, effective rank and
# distance to the nearest probe token (in spreads), for block 0 and the mean over blocks 1–5.
# Usage: tools/findings/diversity.sh [OUT] (default runs/diversity).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/diversity}
spt=${SPT:-.build/release/spt}
for task in fashion-mnist orientation; do
  for sv in random:authors kmeans:authors sample:authors mean-pool:authors mean-pool:batch-windows \
            max-pool:authors max-pool:batch-windows; do
    s=${sv%%:*} v=${sv##*:} dir="$out/$task-$s-$v"
    [[ -d $dir ]] || "$spt" train --task "$task" --backbone mae-tiny --strategy "$s" --pool-variant "$v" --deep --prompts 10 \
      --epochs 1 --nmi-every 0 --threads 1 --runs-dir "$dir" >/dev/null
  done
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
print("| task | strategy | variant | cosine b0 | cosine b1–5 | eff. rank b0 | eff. rank b1–5 | nearest b0 (σ) | nearest b1–5 (σ) |")
print("|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(sys.argv[1] + "/*/*/*.jsonl")):
    init = next(r for r in map(json.loads, open(path)) if r["kind"] == "init")
    head = next(r for r in map(json.loads, open(path)) if r["kind"] == "header")
    variant = init["variant"] if init["strategy"] in ("mean-pool", "max-pool", "sample") else "—"
    cells = [f"{v[0]:.2f} | {statistics.mean(v[1:]):.2f}" for v in (init["cosine"], init["effective_rank"], init["nearest"])]
    print(f"| {head['task']} | {init['strategy']} | {variant} | " + " | ".join(cells) + " |")
PY
