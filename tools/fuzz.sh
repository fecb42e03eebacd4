#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/<name>) optimized (release: the readers keep their bounds and
# overflow checks; unoptimized, the JPEG target ran 25 inputs a second) with -sanitize=fuzzer,address
# in .build-fuzz, and runs
# each for SECONDS (default 30) on its committed seeds plus the corpus grown by earlier runs.
# A crash stops with a non-zero exit and leaves the input in .build-fuzz/crashes/: make it a test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
targets=(safetensors idx cifar png jpeg lists runlog wandb)
export SPT_FUZZ=1
for t in "${targets[@]}"; do
  mkdir -p .build-fuzz
  swift build -c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --product "fuzz-$t" \
    >.build-fuzz/build.log 2>&1 || { echo "fuzz: build of fuzz-$t failed:"; grep -E "error" .build-fuzz/build.log; exit 1; }
done
mkdir -p .build-fuzz/crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p ".build-fuzz/corpus/$t"
  log=".build-fuzz/fuzz-$t.log"
  extra=()
  # Run-log lines are short: shorter inputs let the parser's fuzzer run several times faster.
  [[ $t == runlog ]] && extra=(-max_len=1024)
  # W&B run files: long enough to cross a 32 KiB block (records in pieces), no longer.
  [[ $t == wandb ]] && extra=(-max_len=36000)
  if ".build-fuzz/release/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" \
       -artifact_prefix=".build-fuzz/crashes/$t-" ".build-fuzz/corpus/$t" "Fuzz/$t/seeds" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz-$t: ${runs:-?} executions in ${seconds} s (${rate:-?}/s), $cov, no crash"
  else
    echo "fuzz-$t: FAILED — input saved under .build-fuzz/crashes/; log:"; tail -40 "$log"; status=1
  fi
done
exit $status
