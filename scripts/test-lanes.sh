#!/usr/bin/env bash
# Runs every test target (built already by `cargo test --no-run`) in parallel lanes: the
# whole-call tests spend most of their time waiting on real-time calls, so three lanes finish
# in about a third of the time on two cores. Each lane's output goes to target/test-lanes/,
# and is printed when the lane ends. Exit status: non-zero if any test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=target/test-lanes
rm -rf "$out"; mkdir -p "$out"

# The long whole-call binaries, spread by their running time; every other tests/*.rs is dealt
# out round-robin after them, so a new test file is never left out.
lanes=("health_call" "automatic_calls" "operator staff_end_to_end")
i=0
for f in tests/*.rs; do
  t=$(basename "$f" .rs)
  case " ${lanes[*]} " in *" $t "*) continue ;; esac
  lanes[$((i % 3))]+=" $t"
  i=$((i + 1))
done

run_lane() {
  local n=$1; shift
  local log="$out/lane-$n.log" rc=0
  if [ "$n" -eq 0 ]; then
    cargo test --locked --lib --bins >>"$log" 2>&1 || rc=1
  fi
  for t in "$@"; do
    cargo test --locked --test "$t" >>"$log" 2>&1 || rc=1
  done
  echo "$rc" >"$out/lane-$n.rc"
}

start=$(date +%s)
for n in 0 1 2; do
  # shellcheck disable=SC2086
  run_lane "$n" ${lanes[$n]} &
done
wait
status=0
for n in 0 1 2; do
  echo "=== lane $n: ${lanes[$n]}"
  cat "$out/lane-$n.log"
  [ "$(cat "$out/lane-$n.rc")" = 0 ] || status=1
done
echo "=== test lanes finished in $(( $(date +%s) - start )) s: $(grep -h '^test result' "$out"/lane-*.log | grep -c ' ok\.') targets ok, $(grep -h '^test result' "$out"/lane-*.log | grep -vc ' ok\.') failed"
exit $status
