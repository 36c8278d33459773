#!/usr/bin/env bash
# Whole Health Calls from SIPp, a generator nobody here wrote (docs/benchmarks.md "Whole calls
# from SIPp").
#
#   scripts/bench_sipp.sh [CONCURRENT] [SECONDS]
#
# Starts `carecall serve` (release build, SQLite, the real prompts and dialplans) on loopback
# with its RTP ports at 10000-19999 (outside the kernel's ephemeral range), imports one
# patient, and has SIPp (shared/peers' health_call.xml, the caller's audio and RFC 4733 keys
# played from a pcap written by shared/peers' dtmf_pcap.py) keep CONCURRENT (default 250)
# 30-second Health Calls up for SECONDS (default 120) after a 30 s ramp: language, HER-SYS ID,
# birthday, temperature and its confirmation, SpO2 and its confirmation, two yes/no answers,
# then the caller hangs up at 30 s.
#
# Measured:
# - the engine's CPU over the steady window from /proc (per concurrent call, and per thread:
#   media workers, tokio workers, the rest), its RSS at the start and end of the window;
# - the engine's audio as it arrived on the loopback interface, captured by tcpdump (a packet
#   socket of its own, not SIPp's): per-stream inter-arrival p50/p99/max and lateness against
#   the RTP timestamp (p50/p99/max), over the window;
# - SIP retransmissions counted by SIPp, calls successful/failed;
# - digits: sent (the pcap's keys × calls that reached them) and received
#   (`carecall_dtmf_digits_total`).
# CARECALL=path picks the binary (default target/release/carecall, built if missing).
# NETNS=1 runs SIPp in a network namespace of its own, reached over a veth pair whose SIPp end
# receives in a kernel thread of its own (threaded NAPI), as a caller on another machine
# would: the receiving side's work (SIPp's sockets; SIPp's pcap play opens one raw UDP socket
# per call, and the kernel offers every UDP datagram of the namespace to each of them; the
# capture) is then not done on the engine's sending threads. Needs root. Without it, all of
# that runs inside the engine's sendto() on loopback (see docs/benchmarks.md).
# IO_URING=false has the engine send one sendto per frame and read with one recvfrom per
# socket instead of one io_uring submission of each per media slot (`[rtp] io_uring`), for a
# side-by-side run.
# NAPI_BATCH=1 (with NETNS=1) makes that kernel thread SCHED_BATCH: an engine sendto() that wakes
# it is then not preempted by it at once, as a NIC's driver would take the frames without
# switching the sender out (docs/benchmarks.md, "the harness's wake-ups").
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${1:-250}
STEADY=${2:-120}
BIN=${CARECALL:-target/release/carecall}
if [ ! -x "$BIN" ]; then cargo build --release; fi
command -v sipp >/dev/null || apt-get install -y -qq --no-install-recommends sip-tester
command -v tcpdump >/dev/null || apt-get install -y -qq --no-install-recommends tcpdump

DIR=$(mktemp -d /tmp/carecall-bench-sipp.XXXXXX)
SIP=$((21060 + RANDOM % 1000 * 4))
HTTP=$((SIP + 1))
ENGINE_IP=127.0.0.1 PEER_IP=127.0.0.1 CAPTURE_IF=lo IN_PEER=
NS=
cleanup_ns() { [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null; ip link del "cc$$a" 2>/dev/null || true; }
if [ -n "${NETNS:-}" ]; then
  command -v ethtool >/dev/null || apt-get install -y -qq --no-install-recommends ethtool
  NS=carecall-sipp-$$ NET=$((RANDOM % 250))
  ENGINE_IP=10.251.$NET.1 PEER_IP=10.251.$NET.2 CAPTURE_IF=cc$$b IN_PEER="ip netns exec $NS"
  ip netns add "$NS"
  ip link add "cc$$a" type veth peer name "cc$$b"
  ip link set "cc$$b" netns "$NS"
  ip addr add "$ENGINE_IP/30" dev "cc$$a"
  ip link set "cc$$a" up
  $IN_PEER ip addr add "$PEER_IP/30" dev "cc$$b"
  $IN_PEER ip link set "cc$$b" up
  $IN_PEER ip link set lo up
  # veth hands a datagram to the peer's NAPI (not to the sender's softirq backlog) only when
  # the receiving end takes GRO for UDP it forwards, or the sending end has no TSO.
  ethtool -K "cc$$a" tso off >/dev/null
  $IN_PEER ethtool -K "cc$$b" gro on rx-udp-gro-forwarding on >/dev/null
  $IN_PEER sh -c "echo 1 > /sys/class/net/cc$$b/threaded"
  if [ -n "${NAPI_BATCH:-}" ]; then
    # NAPI_BATCH=1: that NAPI thread runs as SCHED_BATCH, so the engine's sendto() that wakes it
    # is not preempted by it at once (a NIC's driver takes a burst of frames the same way).
    for pid in $(ps -eo pid=,comm= | awk -v p="napi/cc$$" 'index($2, p) == 1 {print $1}'); do
      chrt -b -p 0 "$pid"
    done
  fi
fi
cat >"$DIR/carecall.toml" <<EOF
[sip]
listen = "$ENGINE_IP:$SIP"
[http]
listen = "127.0.0.1:$HTTP"
[rtp]
port_min = 10000
port_max = 19999
media_timeout_ms = 30000
io_uring = ${IO_URING:-true}
[calls]
automatic_calls = false
max_concurrent = $((CALLS * 2 + 100))
[store]
url = "sqlite://$DIR/carecall.db"
[prompts]
dir = "$PWD/prompts"
[dialplans]
dir = "$PWD/dialplans"
[[trunk]]
name = "bench"
proxy = "$PEER_IP:$((SIP + 100))"
caller_id = "0300000000"
allowed_sources = ["$PEER_IP/32"]
EOF
cat >"$DIR/patients.csv" <<EOF
hersys_id,name,birthday,phone,language,call_times,observation_start,observation_end,auto_call,health_center,risk
73920561,Bench Patient,1950-04-15,0311112222,ja,09:00,$(date -d '-3 days' +%F),$(date -d '+7 days' +%F),false,Bench,
EOF
RUST_LOG=warn "$BIN" serve --config "$DIR/carecall.toml" 2>"$DIR/engine.log" &
ENGINE=$!
CAPTURE=
trap 'kill $ENGINE $CAPTURE 2>/dev/null || true; wait $ENGINE 2>/dev/null || true; cleanup_ns' EXIT
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
"$BIN" patients import --config "$DIR/carecall.toml" "$DIR/patients.csv" >/dev/null

# The keys, seconds after the answer: 1 (Japanese), the ID, the birthday, 36.5 °C, confirm,
# SpO2 94, confirm, two answers.
KEYS="3:1,7:73920561#,11:0415,16:365,20:1,22:94#,26:1,28:2,29:2"
KEYS_PER_CALL=$(echo "$KEYS" | tr ',' '\n' | cut -d: -f2 | tr -d '\n' | wc -c)
python3 ../shared/peers/dtmf_pcap.py -o "$DIR/keys.pcap" --schedule "$KEYS" --tail 2 >/dev/null

metric() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" 'index($1, m) == 1 {s += $2} END {printf "%.0f", s}'; }
digits() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk '/^carecall_dtmf_digits_total/ {s += $2} END {printf "%.0f", s}'; }
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$ENGINE/status; }
ticks() { awk '{print $14 + $15}' /proc/$ENGINE/stat; }
threads() {
  for t in /proc/$ENGINE/task/*; do
    printf '%s %s\n' "$(tr ' ' '_' <"$t/comm")" "$(awk '{print $14, $15}' "$t/stat")"
  done | awk '{k = $1 ~ /^carecall-media/ ? "media-workers" : ($1 == "carecall" ? "tokio-SIP-calls-store" : "other"); u[k] += $2; s[k] += $3} END {for (k in u) print k, u[k] + s[k], u[k], s[k]}' | sort
}

RATE=$(awk -v c="$CALLS" 'BEGIN {printf "%.2f", c / 30}')
TOTAL=$(awk -v c="$CALLS" -v s="$STEADY" 'BEGIN {printf "%d", c * (s + 60) / 30}')
echo "SIPp: $CALLS concurrent 30 s calls ($RATE/s, $TOTAL calls), steady window $STEADY s"
$IN_PEER sipp $ENGINE_IP:$SIP -sf ../shared/peers/sipp/health_call.xml -s healthcall -i $PEER_IP \
  -p $((SIP + 100)) -mi $PEER_IP -mp $((SIP + 200)) -key dtmf_pcap "$DIR/keys.pcap" \
  -set max_call_ms 30000 -r "$RATE" -l $((CALLS + CALLS / 10)) -m "$TOTAL" -nostdin \
  -trace_stat -stf "$DIR/sipp.csv" -fd 5 -timeout $((STEADY + 200))s >"$DIR/sipp.out" 2>&1 &
SIPP=$!
sleep 35
$IN_PEER tcpdump -i "$CAPTURE_IF" -s 60 -B 65536 -w "$DIR/rtp.pcap" "udp and src portrange 10000-19999" 2>"$DIR/tcpdump.log" &
CAPTURE=$!
t0=$(date +%s.%N); c0=$(ticks); r0=$(rss); d0=$(digits); threads >"$DIR/threads0"
if [ -n "${PERF:-}" ]; then
  # PERF=file: a call-graph profile of the engine over the window (perf report -i file).
  perf record -q -e cpu-clock -F 499 -g -p "$ENGINE" -o "$PERF" -- sleep "$STEADY" 2>/dev/null
elif [ -n "${SYSCALLS:-}" ]; then
  # SYSCALLS=1: the engine's system calls over the window, per call-second (a count, which
  # this noisy machine does not blur as it does CPU time).
  events=sendto,recvfrom,clock_nanosleep,futex,epoll_wait,sendmsg,recvmsg,write,read,pwrite64,fdatasync,fsync
  perf stat -x, -e "$(echo $events | sed 's/\([a-z_0-9]*\)/syscalls:sys_enter_\1/g')" -p "$ENGINE" \
    -o "$DIR/syscalls.csv" -- sleep "$STEADY" 2>/dev/null
  awk -F, -v n="$CALLS" -v s="$STEADY" '$3 ~ /sys_enter/ {sub("syscalls:sys_enter_", "", $3); t += $1;
    printf "  %s: %.1f per call-second\n", $3, $1 / n / s} END {printf "  all of these: %.1f per call-second\n", t / n / s}' \
    "$DIR/syscalls.csv" >"$DIR/syscalls.txt"
else
  sleep "$STEADY"
fi
t1=$(date +%s.%N); c1=$(ticks); r1=$(rss); d1=$(digits); threads >"$DIR/threads1"
active=$(metric carecall_calls_active)
kill -INT $CAPTURE; wait $CAPTURE 2>/dev/null || true; CAPTURE=
wait $SIPP || true
sleep 2
d2=$(digits)
HZ=$(getconf CLK_TCK)
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$HZ" -v n="$CALLS" 'BEGIN {
  cpu = (c1 - c0) / hz / (t1 - t0) * 100
  printf "engine CPU over %.0f s: %.1f %% of one core = %.4f %% per concurrent call (%.3f ms per call-second)\n", t1 - t0, cpu, cpu / n, cpu / n * 10 }'
join -a 2 -e 0 -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$DIR/threads0" "$DIR/threads1" | awk -v t="$(echo "$t1 - $t0" | bc)" -v hz="$HZ" \
  '{printf "  %s threads: %.1f %% of one core (user %.1f %%, kernel %.1f %%)\n", $1, ($5 - $2) / hz / t * 100, ($6 - $3) / hz / t * 100, ($7 - $4) / hz / t * 100}'
echo "calls active at the end of the window: $active"
echo "engine RSS: $r0 MiB at the start of the window, $r1 MiB at its end"
python3 - "$DIR/sipp.csv" "$KEYS_PER_CALL" "$d2" "$((d1 - d0))" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
head, last = rows[0], rows[-1]
col = lambda name: int(last[head.index(name)])
ok, keys, got, window = col("SuccessfulCall(C)"), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"SIPp: {ok} calls successful, {col('FailedCall(C)')} failed, "
      f"{col('Retransmissions(C)')} retransmissions")
print(f"digits: {ok * keys} sent by the successful calls ({keys} each), {got} received by the "
      f"engine ({window} in the window), {ok * keys - got} lost")
PY
python3 - "$DIR/rtp.pcap" <<'PY'
import struct, sys
# Each stream (engine port → caller port): gaps between packets, and lateness against the
# RTP timestamp relative to the earliest packet of its talkspurt.
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
nano = magic == 0xA1B23C4D
off, gaps, lates, last, best = 24, [], [], {}, {}
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack("<IIII", data[off:off + 16])
    pkt = data[off + 16: off + 16 + incl]
    off += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    ip = pkt[4:] if pkt[:4] == b"\x00\x00\x08\x00" else pkt[14:]  # lo: Ethernet header
    if len(ip) < 20 or ip[0] >> 4 != 4:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    rtp = udp[8:]
    if len(rtp) < 12 or rtp[1] & 0x7F == 101:
        continue
    key = (udp[:2], udp[2:4], ip[16:20])
    ts = struct.unpack(">I", rtp[4:8])[0]
    if key in last:
        gaps.append((t - last[key]) * 1000)
    last[key] = t
    o = t - ts / 8000.0
    if rtp[1] & 0x80 or key not in best or abs(o - best[key]) > 5:
        best[key] = o
        continue
    best[key] = min(best[key], o)
    lates.append((o - best[key]) * 1000)
def q(g, p):
    return g[min(len(g) - 1, int(len(g) * p))]
gaps.sort(); lates.sort()
if gaps:
    print(f"engine audio as captured: {len(last)} streams, {len(gaps)} gaps: inter-arrival "
          f"p50={q(gaps, .5):.2f} ms p99={q(gaps, .99):.2f} ms max={gaps[-1]:.2f} ms; "
          f"lateness p50={q(lates, .5):.2f} ms p99={q(lates, .99):.2f} ms max={lates[-1]:.2f} ms")
else:
    print("engine audio as captured: no packets")
PY
[ -f "$DIR/syscalls.txt" ] && { echo "engine system calls over the window:"; cat "$DIR/syscalls.txt"; }
grep -c '"level":"ERROR"\|ERROR' "$DIR/engine.log" | xargs echo "engine error lines:"
echo "files: $DIR"
