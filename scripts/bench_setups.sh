#!/usr/bin/env bash
# Call set-ups per second, measured from outside (docs/benchmarks.md "Call set-ups").
#
#   scripts/bench_setups.sh [RATE] [SECONDS] [HOLD_MS]
#
# Starts `carecall serve` (release build, SQLite, the real prompts and the Health Call
# dialplan) on loopback and has SIPp's built-in `uac` scenario place RATE calls a second
# (default 1000) for SECONDS (default 20): INVITE with SDP, 100/180/200, ACK, HOLD_MS of the
# call (default 1000: the engine answers, attaches media and starts the greeting), BYE, 200.
# Reports calls successful/failed, SIP retransmissions, SIPp's response-time distribution, the
# engine's CPU per call set-up and its RSS; SIPp runs on the same two cores. CARECALL=path
# picks the binary (default target/release/carecall, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${1:-1000}
SECONDS_=${2:-20}
HOLD=${3:-1000}
BIN=${CARECALL:-target/release/carecall}
if [ ! -x "$BIN" ]; then cargo build --release; fi
command -v sipp >/dev/null || apt-get install -y -qq --no-install-recommends sip-tester

DIR=$(mktemp -d /tmp/carecall-bench-setups.XXXXXX)
SIP=$((23060 + RANDOM % 1000 * 4))
HTTP=$((SIP + 1))
cat >"$DIR/carecall.toml" <<EOF
[sip]
listen = "127.0.0.1:$SIP"
[http]
listen = "127.0.0.1:$HTTP"
[rtp]
port_min = 10000
port_max = 29999
[calls]
automatic_calls = false
max_concurrent = $((RATE * (HOLD + 2000) / 1000 + 100))
[store]
url = "sqlite://$DIR/carecall.db"
[prompts]
dir = "$PWD/prompts"
[dialplans]
dir = "$PWD/dialplans"
EOF
RUST_LOG=warn "$BIN" serve --config "$DIR/carecall.toml" 2>"$DIR/engine.log" &
ENGINE=$!
trap 'kill $ENGINE 2>/dev/null || true; wait $ENGINE 2>/dev/null || true' EXIT
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

ticks() { awk '{print $14 + $15}' /proc/$ENGINE/stat; }
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$ENGINE/status; }
TOTAL=$((RATE * SECONDS_))
HZ=$(getconf CLK_TCK)
echo "SIPp uac: $TOTAL calls at $RATE/s, each held $HOLD ms, ${ROUNDS:-1} round(s)"
for round in $(seq "${ROUNDS:-1}"); do
r0=$(rss); c0=$(ticks); t0=$(date +%s.%N)
sipp 127.0.0.1:$SIP -sn uac -s healthcall -i 127.0.0.1 -p $((SIP + 100)) -mp $((SIP + 200)) \
  -r "$RATE" -d "$HOLD" -m "$TOTAL" -l $((RATE * (HOLD + 2000) / 1000)) -nostdin -fd 1 \
  -trace_stat -stf "$DIR/sipp.csv" -timeout $((SECONDS_ + 60))s >"$DIR/sipp.out" 2>&1 || true
t1=$(date +%s.%N); c1=$(ticks); r1=$(rss)
echo "round $round:"
python3 - "$DIR/sipp.csv" "$c0" "$c1" "$t0" "$t1" "$HZ" "$r0" "$r1" "$HOLD" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
head, last = rows[0], rows[-1]
col = lambda name: last[head.index(name)]
c0, c1, t0, t1, hz = (float(x) for x in sys.argv[2:7])
ok, failed = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)"))
elapsed = float(t1) - float(t0)
cpu_s = (c1 - c0) / hz
hold = float(sys.argv[9]) / 1000
print(f"  calls: {ok} successful, {failed} failed, {col('Retransmissions(C)')} retransmissions; "
      f"placed over {elapsed - hold:.1f} s (the run less one hold): {ok / (elapsed - hold):.0f} "
      f"set-ups a second")
print(f"  engine CPU: {cpu_s / elapsed * 100:.1f} % of one core, {cpu_s * 1000 / max(ok, 1):.3f} ms "
      f"per call (set-up, media start, greeting, tear-down)")
print(f"  engine RSS: {sys.argv[7]} MiB before, {sys.argv[8]} MiB after")
PY
# SIP transactions linger 32 s after their end (64·T1, RFC 3261 §17.2.1, RFC 6026).
sleep 40
echo "  engine RSS 40 s later (every transaction timed out): $(rss) MiB"
rm -f "$DIR/sipp.csv"
done
grep -c 'ERROR' "$DIR/engine.log" | xargs echo "engine error lines:"
echo "files: $DIR"
