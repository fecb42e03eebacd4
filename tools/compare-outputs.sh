#!/usr/bin/env bash
# Behaviour before and after a refactor: the same short run trained by two spt binaries (their run
# logs compared record by record, times and dates left out), and the same sessions exported as CSV
# (tidy and wide) by both. Prints what differs; exit status 1 if anything does.
# Usage: tools/compare-outputs.sh OLD_SPT NEW_SPT [SESSION…] (default: two committed sessions).
set -euo pipefail
old=$1 new=$2; shift 2
sessions=("$@")
[[ ${#sessions[@]} -gt 0 ]] || sessions=(sample-runs/findings/variants/orientation-sup-tiny-kmeans-authors sample-runs/fashion-mnist-mae-tiny)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0
for side in old new; do
  bin=${!side}
  "$bin" train --task orientation --backbone mae-tiny --strategy mean-pool --epochs 1 --nmi-every 5 --threads 1 \
    --eval-protocol final --runs-dir "$tmp/$side-runs" > /dev/null
  # Times, dates, ids and throughput differ from run to run; everything else must not.
  python3 - "$tmp/$side-runs" > "$tmp/$side-log.txt" <<'PY'
import glob, json, sys
for line in open(glob.glob(sys.argv[1] + "/*/*.jsonl")[0]):
    r = json.loads(line)
    for k in ("time", "created", "session", "seconds", "gather_seconds", "images_per_second"):
        r.pop(k, None)
    print(json.dumps(r, sort_keys=True))
PY
  for s in "${sessions[@]}"; do
    for layout in tidy wide; do
      "$bin" export "$s" --layout "$layout" --out "$tmp/$side-$(basename "$s")-$layout.csv" > /dev/null
    done
  done
done
report() {  # name old new
  if cmp -s "$2" "$3"; then echo "same: $1"; else
    status=1; echo "differs: $1 ($(diff "$2" "$3" | grep -c '^[<>]' || true) lines); first differences:"; diff "$2" "$3" | head -6 | cut -c1-160 || true; fi
}
report "run log of a short run" "$tmp/old-log.txt" "$tmp/new-log.txt"
for s in "${sessions[@]}"; do
  for layout in tidy wide; do report "$(basename "$s") CSV, $layout" "$tmp/old-$(basename "$s")-$layout.csv" "$tmp/new-$(basename "$s")-$layout.csv"; done
done
exit $status
