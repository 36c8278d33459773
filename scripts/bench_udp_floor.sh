#!/usr/bin/env bash
# The kernel's price of one RTP frame on this machine, without carecall (docs/benchmarks.md
# "Batched sends"): N UDP sockets, as N calls have, each send a 172-byte datagram every 20 ms
# across a veth pair to a receiver in a network namespace (its receive work is then not the
# sender's, as with NETNS=1 in bench_sipp.sh), for SECONDS, by three means in turn:
#   mode 0: one sendto per datagram (carecall's `[rtp] io_uring = false`);
#   mode 1: io_uring, one submission of up to 48 sendmsg entries (carecall's default);
#   mode 2: the same with the sockets registered as fixed files.
# Prints the process's CPU per datagram and per "call". Needs root and a C compiler.
#
#   scripts/bench_udp_floor.sh [N] [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-250}
SECS=${2:-20}
ROUNDS=${3:-3}
[ -f /usr/include/liburing.h ] || apt-get install -y -qq --no-install-recommends liburing-dev gcc
command -v ethtool >/dev/null || apt-get install -y -qq --no-install-recommends ethtool
DIR=$(mktemp -d /tmp/carecall-udp-floor.XXXXXX)
gcc -O2 -o "$DIR/floor" udp_floor.c -luring
gcc -O2 -o "$DIR/rx" udp_floor_rx.c
NS=ccfloor$$
cleanup() { kill "$RX" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; ip link del "cf$$a" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
ip netns add "$NS"
ip link add "cf$$a" type veth peer name "cf$$b"
ip link set "cf$$b" netns "$NS"
ip addr add 10.253.0.1/30 dev "cf$$a"
ip link set "cf$$a" up
ip netns exec "$NS" ip addr add 10.253.0.2/30 dev "cf$$b"
ip netns exec "$NS" ip link set "cf$$b" up
ethtool -K "cf$$a" tso off >/dev/null
ip netns exec "$NS" ethtool -K "cf$$b" gro on rx-udp-gro-forwarding on >/dev/null
ip netns exec "$NS" sh -c "echo 1 > /sys/class/net/cf$$b/threaded"
ip netns exec "$NS" "$DIR/rx" &
RX=$!
sleep 0.5
for _ in $(seq "$ROUNDS"); do
  for mode in 0 1 2; do "$DIR/floor" "$N" "$mode" "$SECS" 10.253.0.2; done
done
