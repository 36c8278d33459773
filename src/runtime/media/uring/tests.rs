//! The batched paths on a real kernel (the test machines allow `io_uring`, so the ring is the
//! path tested) and the same behaviour on system calls.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::send::MAX_FRAME;
use super::{Ring, BATCH};

fn receiver() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
}

fn sends_every_frame_to_its_own_destination(use_ring: bool) {
    let mut ring = Ring::new(use_ring);
    // The test machines' kernels allow io_uring: the batched path must be the one tested.
    assert_eq!(ring.batched(), use_ring);
    let sockets: Vec<UdpSocket> = (0..BATCH * 2 + 3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let receivers: Vec<UdpSocket> = (0..3).map(|_| receiver()).collect();
    let mut batch = ring.batch();
    for (i, socket) in sockets.iter().enumerate() {
        let to = receivers[i % 3].local_addr().unwrap();
        batch.push(socket, &[i as u8; 172], to);
    }
    assert_eq!(batch.flush(), (sockets.len(), 0));
    let mut seen = vec![false; sockets.len()];
    for (r, receiver) in receivers.iter().enumerate() {
        let mut buf = [0u8; 600];
        for _ in (0..sockets.len()).filter(|i| i % 3 == r) {
            let (len, from) = receiver.recv_from(&mut buf).unwrap();
            assert_eq!(len, 172);
            let i = buf[0] as usize;
            assert_eq!(i % 3, r, "frame {i} reached receiver {r}");
            assert_eq!(
                from,
                sockets[i].local_addr().unwrap(),
                "sent from its socket"
            );
            assert!(buf[..len].iter().all(|&b| b == i as u8));
            seen[i] = true;
        }
    }
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn a_batch_on_io_uring_sends_every_frame_from_its_socket_to_its_destination() {
    sends_every_frame_to_its_own_destination(true);
}

#[test]
fn a_batch_on_system_calls_sends_the_same() {
    sends_every_frame_to_its_own_destination(false);
}

#[test]
fn a_frame_too_long_for_an_entry_and_an_ipv6_destination_still_go_out() {
    let mut ring = Ring::new(true);
    let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
    let v6 = UdpSocket::bind("[::1]:0").unwrap();
    let (r4, r6) = (receiver(), UdpSocket::bind("[::1]:0").unwrap());
    r6.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut batch = ring.batch();
    batch.push(&v4, &[7; MAX_FRAME + 100], r4.local_addr().unwrap());
    batch.push(&v6, &[6; 172], r6.local_addr().unwrap());
    assert_eq!(batch.flush(), (2, 0));
    let mut buf = [0u8; 1500];
    assert_eq!(r4.recv_from(&mut buf).unwrap().0, MAX_FRAME + 100);
    let (len, from) = r6.recv_from(&mut buf).unwrap();
    assert_eq!((len, from), (172, v6.local_addr().unwrap()));
}

#[test]
fn a_send_the_kernel_refuses_is_counted_as_failed_not_sent() {
    let mut ring = Ring::new(true);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let ok = receiver();
    let mut batch = ring.batch();
    // An IPv6 destination from an IPv4 socket: the kernel refuses it.
    batch.push(&socket, &[1; 172], "[::1]:9".parse().unwrap());
    batch.push(&socket, &[2; 172], ok.local_addr().unwrap());
    assert_eq!(batch.flush(), (1, 1));
}

/// A call's socket as the media pool makes it: non-blocking.
fn call_socket(at: &str) -> UdpSocket {
    let socket = UdpSocket::bind(at).unwrap();
    socket.set_nonblocking(true).unwrap();
    socket
}

/// A socket per "call", some with datagrams waiting from two peers, read the way a drain
/// does: until every socket is empty.
fn reads_every_waiting_datagram_with_its_source(use_ring: bool) {
    let mut ring = Ring::new(use_ring);
    assert_eq!(ring.batched(), use_ring);
    let calls: Vec<UdpSocket> = (0..BATCH + 10)
        .map(|_| call_socket("127.0.0.1:0"))
        .collect();
    let peers = [
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
    ];
    // Call i gets i % 4 datagrams, alternately from each peer, each naming call and sequence.
    let mut expected = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        for seq in 0..i % 4 {
            let peer = &peers[seq % 2];
            let len = if seq == 2 { 1500 } else { 172 };
            let mut datagram = vec![seq as u8; len];
            datagram[0] = i as u8;
            peer.send_to(&datagram, call.local_addr().unwrap()).unwrap();
            expected.push((i, seq, len, peer.local_addr().unwrap()));
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    let mut items: Vec<(usize, &UdpSocket)> = calls.iter().enumerate().collect();
    let mut wanted = vec![true; items.len()];
    let mut got: Vec<(usize, usize, usize, SocketAddr)> = Vec::new();
    let mut rounds = 0;
    loop {
        let read = ring.receive(
            &mut items,
            &mut wanted,
            |item| item.1,
            |item, datagram, from| {
                assert_eq!(
                    datagram[0] as usize, item.0,
                    "read from call {}'s socket",
                    item.0
                );
                let seq = got.iter().filter(|g| g.0 == item.0).count();
                got.push((item.0, seq, datagram.len(), from));
            },
        );
        rounds += 1;
        if read == 0 {
            break;
        }
    }
    // Three datagrams at most per socket: three rounds that read and one that finds all empty.
    assert_eq!(rounds, 4);
    assert!(wanted.iter().all(|w| !w), "every socket left empty");
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
}

#[test]
fn a_receive_on_io_uring_reads_each_socket_once_a_round_with_the_source() {
    reads_every_waiting_datagram_with_its_source(true);
}

#[test]
fn a_receive_on_system_calls_reads_the_same() {
    reads_every_waiting_datagram_with_its_source(false);
}

#[test]
fn a_receive_skips_the_sockets_not_wanted_and_reads_ipv6() {
    let mut ring = Ring::new(true);
    let (v4, v6) = (call_socket("127.0.0.1:0"), call_socket("[::1]:0"));
    let (p4, p6) = (
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        UdpSocket::bind("[::1]:0").unwrap(),
    );
    p4.send_to(&[4; 172], v4.local_addr().unwrap()).unwrap();
    p6.send_to(&[6; 160], v6.local_addr().unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let mut items = [&v4, &v6];
    let mut wanted = [false, true];
    let mut got = Vec::new();
    let read = ring.receive(
        &mut items,
        &mut wanted,
        |s| s,
        |_, d, from| got.push((d.len(), from)),
    );
    assert_eq!(read, 1);
    assert_eq!(got, vec![(160, p6.local_addr().unwrap())]);
    assert_eq!(wanted, [false, true]);
    // The IPv4 socket's datagram is still there for the next round that wants it.
    let mut wanted = [true, true];
    let mut got = Vec::new();
    ring.receive(
        &mut items,
        &mut wanted,
        |s| s,
        |_, d, from| got.push((d.len(), from)),
    );
    assert_eq!(got, vec![(172, p4.local_addr().unwrap())]);
    assert_eq!(wanted, [true, false]);
}
