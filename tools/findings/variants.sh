#!/usr/bin/env bash
# The measurement behind docs/findings.md's "Pooling variants" (issue: the authors' strategies):
# both pooling variants of mean-pool and max-pool, and kmeans, sample and random beside them, each
# tuned on val over three seeds (spt compare --tune --tune-seeds 0 1 2) and run final over three
# seeds, on Fashion-MNIST and orientation with both shipped backbones; the default variant on shape too
# (the tuned Findings rows under the new defaults). One spt compare session per
# configuration, two at a time on the two cores (one thread each), most informative first.
# Last, deep prompts on Fashion-MNIST with mae-tiny: the only protocol that reads the deeper
# blocks, where batch-windows' prompts collapse (name suffix -deep).
# Resumable: a finished configuration (OUT/<name>/compare.json) is skipped, an unfinished one
# starts again. Usage: tools/findings/variants.sh [OUT] (default sample-runs/findings/variants).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-sample-runs/findings/variants}
spt=${SPT:-.build/release/spt}
mkdir -p "$out"
. tools/findings/session.sh

grid() {  # the rates around each task's earlier picks; --tune grows the grid where a pick sits on an edge
  case $1 in fashion-mnist) echo "0.003 0.01 0.03" ;; orientation) echo "0.03 0.1 0.3" ;; shape) echo "0.01 0.03 0.1 0.3" ;; esac
}

configs() {  # name task backbone strategy variant; what decides the default variant first
  local b s t v
  for t in fashion-mnist orientation; do
    for s in kmeans sample random; do echo "$t-mae-tiny-$s-authors $t mae-tiny $s authors"; done
  done
  # per-image (removed after this measurement) ran here too; its finished directories stay.
  for v in authors batch-windows; do
    for t in fashion-mnist orientation; do
      for b in mae-tiny sup-tiny; do
        for s in mean-pool max-pool; do echo "$t-$b-$s-$v $t $b $s $v"; done
      done
    done
  done
  for t in fashion-mnist orientation; do
    for s in kmeans sample random; do echo "$t-sup-tiny-$s-authors $t sup-tiny $s authors"; done
  done
  for b in mae-tiny sup-tiny; do
    for s in mean-pool max-pool kmeans sample random; do echo "shape-$b-$s-authors shape $b $s authors"; done
  done
  for v in authors batch-windows; do
    for s in mean-pool max-pool; do echo "fashion-mnist-mae-tiny-$s-$v-deep fashion-mnist mae-tiny $s $v --deep"; done
  done
  for s in random kmeans; do echo "fashion-mnist-mae-tiny-$s-authors-deep fashion-mnist mae-tiny $s authors --deep"; done
}

one() {
  local name=$1 task=$2 backbone=$3 strategy=$4 variant=$5
  shift 5  # the rest: extra flags of the configuration (--deep)
  # shellcheck disable=SC2046
  session "$out" "$name" --task "$task" --backbone "$backbone" --strategies "$strategy" --pool-variant "$variant" "$@" \
    --tune --tune-seeds 0 1 2 --lr-grid $(grid "$task") --max-grid-extensions 2 --seeds 0 1 2 --threads 1
}
export -f one grid session
export out spt
configs | xargs -P 2 -L 1 bash -c 'one "$@"' _
