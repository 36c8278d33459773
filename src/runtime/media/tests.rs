//! A media worker with real sockets on loopback: what it reads of a call's socket, and when.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use super::*;
use crate::config::RtpConfig;
use crate::lang::Language;
use crate::rtp::g711::Law;
use crate::rtp::packet::RtpHeader;
use crate::sip::sdp::Direction;

const TE: u8 = 101;

fn packet(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let header = RtpHeader {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: 0x5EED,
    };
    let mut out = Vec::new();
    header.write(payload, &mut out);
    out
}

/// A pool of one worker with one call on a port from `port_min` (a hundred ports of its
/// own), its peer's socket, the call's address, its session and a runtime to await it on.
fn one_call(
    port_min: u16,
) -> (
    MediaPool,
    UdpSocket,
    std::net::SocketAddr,
    MediaSession,
    tokio::runtime::Runtime,
) {
    let config = RtpConfig {
        port_min,
        port_max: port_min + 99,
        media_timeout: Duration::from_secs(30),
        workers: 1,
        io_uring: true,
        worker_nice: 0,
    };
    let pool = MediaPool::start_on(&config, "127.0.0.1".parse().unwrap()).unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = pool.reserve().unwrap();
    let engine = port.local_addr();
    let negotiated = Negotiated {
        law: Law::Pcmu,
        audio_pt: 0,
        telephone_event: Some(TE),
        remote: peer.local_addr().unwrap(),
        direction: Direction::SendRecv,
    };
    let prompts = PromptSet::from_linear([(Language::Ja, "x", vec![0i16; 160])]);
    let session = pool.attach(port, negotiated, false, &prompts);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (pool, peer, engine, session, runtime)
}

/// A worker reads a call's socket once a period on most periods, but a backlog (here 40
/// packets sent at once, then a steady 50 a second, so one read a period never catches up)
/// is drained every few periods: a key pressed after it is heard within a few periods, not
/// after the 40 packets' 800 ms.
#[test]
fn a_backlog_on_a_calls_socket_is_drained_within_a_few_periods() {
    let (pool, peer, engine, mut session, runtime) = one_call(31000);

    let mut seq: u16 = 0;
    let send_silence = |seq: &mut u16| {
        *seq += 1;
        let p = packet(0, *seq, u32::from(*seq) * 160, &[0xFF; 160]);
        peer.send_to(&p, engine).unwrap();
    };
    for _ in 0..40 {
        send_silence(&mut seq);
    }
    let start = Instant::now();
    for n in 1..=25u32 {
        std::thread::sleep(start + Duration::from_millis(20 * u64::from(n)) - Instant::now());
        send_silence(&mut seq);
    }
    // Key 5, its end sent three times (RFC 4733 §2.5.1.4).
    let pressed = Instant::now();
    let ts = u32::from(seq + 1) * 160;
    for _ in 0..3 {
        seq += 1;
        peer.send_to(&packet(TE, seq, ts, &[5, 0x80 | 10, 0x03, 0x20]), engine)
            .unwrap();
    }
    let heard = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(3), async {
            loop {
                match session.next_event().await {
                    Some(MediaEvent::Digit(d)) => return Some(d.digit),
                    Some(_) => continue,
                    None => return None,
                }
            }
        })
        .await
    });
    let after = pressed.elapsed();
    pool.shutdown();
    assert!(
        matches!(heard, Ok(Some(_))),
        "the key was not heard: {heard:?}"
    );
    assert!(
        after < Duration::from_millis(400),
        "the key was heard {after:?} after it was pressed: the backlog was not drained"
    );
}

/// A worker hands a call's events on once a period, but a task about to handle a hang-up
/// flushes first: a key whose packets are already at the call's socket comes back from
/// `flush` at once (read from the socket there if the worker had not read it yet), and only
/// once.
#[test]
fn a_flush_hands_on_a_key_already_at_the_socket_once() {
    let (pool, peer, engine, mut session, runtime) = one_call(30100);
    for seq in 1..=5u16 {
        peer.send_to(&packet(0, seq, u32::from(seq) * 160, &[0xFF; 160]), engine)
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Key 7: its end sent three times, then at once the flush a hang-up makes.
    for seq in 6..=8u16 {
        peer.send_to(
            &packet(TE, seq, 6 * 160, &[7, 0x80 | 10, 0x03, 0x20]),
            engine,
        )
        .unwrap();
    }
    let (flushed, later) = runtime.block_on(async {
        let flushed = session.flush().await;
        let mut later = Vec::new();
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while let Some(event) = session.next_event().await {
                later.push(event);
            }
        })
        .await;
        (flushed, later)
    });
    // Every datagram counted once, whether the slot's read or the flush took it.
    let received = pool.stats().packets_received;
    pool.shutdown();
    assert_eq!(received, 8, "5 audio and 3 event packets");
    let digits = |events: &[MediaEvent]| -> Vec<char> {
        events
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Digit(d) => Some(d.digit.to_char()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(digits(&flushed), vec!['7'], "flushed: {flushed:?}");
    assert!(digits(&later).is_empty(), "the key came again: {later:?}");
}
