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

/// A worker reads a call's socket once a period on most periods, but a backlog (here 40
/// packets sent at once, then a steady 50 a second, so one read a period never catches up)
/// is drained every few periods: a key pressed after it is heard within a few periods, not
/// after the 40 packets' 800 ms.
#[test]
fn a_backlog_on_a_calls_socket_is_drained_within_a_few_periods() {
    let config = RtpConfig {
        port_min: 31000,
        port_max: 31999,
        media_timeout: Duration::from_secs(30),
        workers: 1,
        io_uring: true,
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
    let mut session = pool.attach(port, negotiated, false, &prompts);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

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
