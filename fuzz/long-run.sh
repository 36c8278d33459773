#!/usr/bin/env bash
# Long fuzz run (a benchmark, not part of scripts/test.sh): every network-facing target, one at
# a time under `nice -n 19`, for FUZZ_RUNS inputs each (default 10 million), starting from the
# checked-in seeds. Prints per target: execs, wall seconds, exec/s, crashes, final corpus size.
# Usage: fuzz/long-run.sh [target...]   (work corpora in $FUZZ_WORK, default /tmp/carecall-fuzz-long)
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
runs="${FUZZ_RUNS:-10000000}"
work="${FUZZ_WORK:-/tmp/carecall-fuzz-long}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sip_message sip_raw sip_tcp_stream sdp_offer rtp_packet telephone_event info_body)
cargo fuzz build -O --sanitizer none
printf '%-16s %10s %8s %9s %7s %7s\n' target execs wall_s exec/s crashes corpus
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$work/$t.artifacts"
  start=$(date +%s)
  rc=0
  nice -n 19 cargo fuzz run -O --sanitizer none "$t" "$work/$t" "corpus/$t" -- \
    -runs="$runs" -print_final_stats=1 -artifact_prefix="$work/$t.artifacts/" \
    >"$work/$t.log" 2>&1 || rc=$?
  wall=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -n 1)
  crashes=$(find "$work/$t.artifacts" -type f | wc -l)
  corpus=$(find "$work/$t" -type f | wc -l)
  printf '%-16s %10s %8s %9s %7s %7s\n' "$t" "${execs:-?}" "$wall" \
    "$(( ${execs:-0} / (wall > 0 ? wall : 1) ))" "$crashes" "$corpus"
  [ "$rc" -eq 0 ] || { echo "$t: exit $rc, see $work/$t.log"; exit 1; }
done
