#!/usr/bin/env bash
# sample-runs/report: spt report of the tuned sessions under the defaults (the authors' pooling,
# shallow prompts), one section per task and backbone joining its five strategies' directories of
# tools/findings/variants.sh. The same groups make docs/findings.md's "SPT against random" tables:
# tools/findings.py --matrix (and --nmi) with the arguments this script prints.
# Usage: tools/findings/report.sh [OUT] (default sample-runs/report; replaced whole).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-sample-runs/report}
spt=${SPT:-.build/release/spt}
v=sample-runs/findings/variants
groups=()
for t in fashion-mnist orientation shape; do
  for b in mae-tiny sup-tiny; do
    groups+=("$t-$b=$(ls -d "$v/$t-$b"-*-authors | paste -sd,)")
  done
done
printf '%s\n' "${groups[@]}"
rm -rf "$out"
"$spt" report "${groups[@]}" --out "$out" --title "Findings: the five strategies, tuned on val over three seeds (spt report)"
