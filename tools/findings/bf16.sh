#!/usr/bin/env bash
# The measurement behind docs/performance.md's bf16 accuracy table: each shallow `authors`
# configuration of tools/findings/variants.sh (its three-seed-tuned fp32 session under
# sample-runs/findings/variants/NAME) run again under --precision bf16 at the rate and weight decay
# the fp32 tune picked, on the same final seeds 0 1 2 — each bf16 run pairs with the fp32 run of
# its seed (same initialization draw and data order). Two configurations at a time, one thread
# each; resumable (a finished OUT/NAME/compare.json is skipped).
# Usage: tools/findings/bf16.sh [TASK…] (default fashion-mnist); OUT=sample-runs/findings/bf16.
# Table: tools/findings.py --paired sample-runs/findings/variants/NAME sample-runs/findings/bf16/NAME …
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-sample-runs/findings/bf16}
spt=${SPT:-.build/release/spt}
mkdir -p "$out"
. tools/findings/session.sh

configs() {  # name task backbone strategy lr weight-decay (the fp32 session's pick)
  local t b s fp32
  for t in "${@:-fashion-mnist}"; do
    for b in mae-tiny sup-tiny; do
      for s in random kmeans mean-pool max-pool sample; do
        fp32=sample-runs/findings/variants/$t-$b-$s-authors/compare.json
        [[ -f $fp32 ]] || { echo "no fp32 session $fp32" >&2; exit 1; }
        python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["rows"][0]; print(sys.argv[2], r["lr"], r["weightDecay"])' \
          "$fp32" "$t-$b-$s-authors $t $b $s"
      done
    done
  done
}

one() {
  session "$out" "$1" --task "$2" --backbone "$3" --strategies "$4" --pool-variant authors --lr "$5" --weight-decay "$6" \
    --eval-protocol final --seeds 0 1 2 --nmi-every 5 --precision bf16 --threads 1
}
export -f one session
export out spt
configs "$@" | xargs -P 2 -L 1 bash -c 'one "$@"' _
