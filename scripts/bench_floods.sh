#!/usr/bin/env bash
# Floods and overload, measured from outside (docs/reliability.md "Floods and overload").
#
#   scripts/bench_floods.sh [CALLS] [FLOOD_INVITES] [FLOOD_RATE]
#
# Starts `carecall serve` on loopback with [calls] max_concurrent = CALLS (default 50), puts
# CALLS SIPp calls up (tests/sipp/listen.xml: the engine's audio goes to one UDP socket of a
# Python receiver, streams told apart by SSRC), then sends FLOOD_INVITES (default 20000) more
# INVITEs at FLOOD_RATE a second (default 1000) with tests/sipp/expect_503.xml, which fails any
# INVITE not refused with 503 + Retry-After. The receiver measures every stream's packet
# inter-arrival before and during the flood (deviation from 20 ms: p50/p99/max) and packets
# lost to gaps. Then OPTIONS floods over UDP at several rates, counting the answers, and the
# engine's RSS. CARECALL=path picks the binary (default target/release/carecall, built if
# missing). Bounded: every step has a timeout; the engine is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${1:-50}
FLOOD=${2:-20000}
RATE=${3:-1000}
BIN=${CARECALL:-target/release/carecall}
if [ ! -x "$BIN" ]; then cargo build --release; fi

DIR=$(mktemp -d /tmp/carecall-bench-floods.XXXXXX)
SIP=$((15060 + RANDOM % 1000 * 4))
HTTP=$((SIP + 1))
RTP=$((SIP + 2))
cat >"$DIR/carecall.toml" <<EOF
[sip]
listen = "127.0.0.1:$SIP"
[http]
listen = "127.0.0.1:$HTTP"
[rtp]
port_min = 42000
port_max = 49999
media_timeout_ms = 120000
[calls]
automatic_calls = false
max_concurrent = $CALLS
retry_after_s = 30
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
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

HOLD_MS=$(( (FLOOD / RATE + 12) * 1000 ))
rss() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk '/^process_resident_memory_bytes /{printf "%.0f", $2/1048576}'; }
# The engine's own count of frames sent 20 ms or more after their due time, and of frames sent.
late() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk '/^carecall_rtp_late_frames_total /{l=$2} /^carecall_rtp_packets_total\{direction="out"\}/{o=$2} END{printf "%s late of %s sent", l, o}'; }
echo "engine RSS before: $(rss) MiB"

python3 - "$RTP" "$HOLD_MS" >"$DIR/media.txt" <<'PY' &
import socket, sys, time
port, hold_ms = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", port))
s.settimeout(1.0)
# Lateness of a packet: its arrival minus its RTP timestamp's due time, relative to the
# earliest packet of its talkspurt (a marker bit starts one: each prompt). A perfectly paced
# stream scores 0; a frame sent 3 ms after its 20 ms slot scores 3 ms.
best, lat, streams = {}, {"before": [], "during": []}, set()
t0 = time.monotonic()
flood_at = 6.0  # the flood starts 6 s after the receiver
end = t0 + hold_ms / 1000 + 6
while time.monotonic() < end:
    try:
        data = s.recv(2048)
    except socket.timeout:
        continue
    now = time.monotonic()
    if len(data) < 12 or data[1] & 0x7F == 101:
        continue
    ssrc, marker = data[8:12], data[1] & 0x80
    ts = int.from_bytes(data[4:8], "big")
    streams.add(ssrc)
    offset = now - ts / 8000.0
    if marker or ssrc not in best or abs(offset - best[ssrc]) > 5:
        best[ssrc] = offset
        continue
    best[ssrc] = min(best[ssrc], offset)
    phase = "before" if now - t0 < flood_at else "during"
    lat[phase].append((offset - best[ssrc]) * 1000)
for phase, g in lat.items():
    g.sort()
    if not g:
        print(f"{phase}: no packets"); continue
    q = lambda p: g[min(len(g) - 1, int(len(g) * p))]
    late = sum(1 for x in g if x >= 20)
    print(f"{phase} the flood: {len(streams)} streams, {len(g)} packets, lateness p50={q(.5):.2f} ms p99={q(.99):.2f} ms max={g[-1]:.2f} ms, >= 20 ms: {late}")
PY
RECEIVER=$!
sleep 1
timeout $((HOLD_MS / 1000 + 60)) sipp 127.0.0.1:$SIP -sf tests/sipp/listen.xml -s healthcall -i 127.0.0.1 \
  -p $((SIP + 100)) -mi 127.0.0.1 -mp $((SIP + 200)) -set rtp_port "$RTP" -set hold_ms "$HOLD_MS" \
  -m "$CALLS" -l "$CALLS" -r 50 -nostdin -bg >/dev/null 2>&1 || true
sleep 5
echo "engine, before the flood: $(late)"
start=$(date +%s.%N)
timeout $((FLOOD / RATE + 60)) sipp 127.0.0.1:$SIP -sf tests/sipp/expect_503.xml -s healthcall -i 127.0.0.1 \
  -p $((SIP + 300)) -mi 127.0.0.1 -mp $((SIP + 400)) -m "$FLOOD" -l "$FLOOD" -r "$RATE" -nostdin \
  -trace_stat -stf "$DIR/flood.csv" -timeout $((FLOOD / RATE + 40))s >"$DIR/flood.out" 2>&1 || true
echo "INVITE flood: $FLOOD at $RATE/s in $(echo "$(date +%s.%N) - $start" | bc) s; SIPp successful (503 + Retry-After) / failed:"
tail -1 "$DIR/flood.csv" | tr ';' '\n' | sed -n '16p;18p' | paste -sd' ' || true
echo "engine, after the flood: $(late)"
wait $RECEIVER || true
cat "$DIR/media.txt"
echo "engine RSS after the INVITE flood: $(rss) MiB"

python3 - "$SIP" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
for rate in (2000, 5000, 10000, 0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 0)); s.setblocking(False)
    me = "127.0.0.1:%d" % s.getsockname()[1]
    n, got, t0 = 20000, 0, time.monotonic()
    for i in range(n):
        if rate:
            while time.monotonic() < t0 + i / rate:
                try:
                    s.recv(4096); got += 1
                except BlockingIOError:
                    pass
        m = (f"OPTIONS sip:hc@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-b{rate}-{i}\r\n"
             f"From: <sip:c@{me}>;tag={i}\r\nTo: <sip:hc@127.0.0.1:{port}>\r\nCall-ID: b{rate}-{i}@x\r\n"
             f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        s.sendto(m.encode(), ("127.0.0.1", port))
    sent = time.monotonic() - t0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            s.recv(4096); got += 1
        except BlockingIOError:
            time.sleep(0.001)
    label = f"{rate}/s" if rate else "as fast as possible"
    print(f"OPTIONS flood {label}: {n} sent in {sent:.2f} s, {got} answered ({100 * got / n:.1f} %)")
    time.sleep(2)
PY
echo "engine RSS after the OPTIONS floods: $(rss) MiB"
sleep 40
echo "engine RSS 40 s later (finished transactions expire after 32 s): $(rss) MiB"
kill -0 $ENGINE && echo "engine still up"
