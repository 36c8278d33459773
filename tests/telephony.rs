//! The telephony core against SIPp, a SIP peer nobody here wrote, over loopback: inbound and
//! outbound calls, prompt audio, DTMF in three forms, CANCEL, BYE both ways, hold, call
//! progress outcomes, digest challenges, overload and shutdown.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use carecall::pii::Redacted;
use carecall::sip::outcome::Disposition;
use common::*;

const LIMIT: Duration = Duration::from_secs(30);

fn rt_test() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Reads RTP from `socket` for `secs`: (arrival time, sequence, timestamp, ssrc, marker, payload).
fn capture_rtp(socket: &UdpSocket, secs: f64) -> Vec<(Instant, u16, u32, u32, bool, Vec<u8>)> {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            if n >= 12 {
                let seq = u16::from_be_bytes([buf[2], buf[3]]);
                let ts = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
                out.push((
                    Instant::now(),
                    seq,
                    ts,
                    ssrc,
                    buf[1] & 0x80 != 0,
                    buf[12..n].to_vec(),
                ));
            }
        }
    }
    out
}

/// Power of `freq` in μ-law `payload` relative to its total power (Goertzel).
fn tone_share(payload: &[u8], freq: f64) -> f64 {
    let samples: Vec<f64> = payload
        .iter()
        .map(|&c| carecall::rtp::g711::ulaw_decode(c) as f64)
        .collect();
    let k = 2.0 * (2.0 * std::f64::consts::PI * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in &samples {
        let s = x + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2;
    let total: f64 = samples.iter().map(|x| x * x).sum::<f64>() * samples.len() as f64 / 2.0;
    if total == 0.0 {
        0.0
    } else {
        power / total
    }
}

#[test]
fn inbound_call_streams_prompt_audio_at_50_packets_per_second() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/listen.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "4000"],
        );
        let sipp = tokio::spawn(sipp(args, LIMIT));
        let packets = tokio::task::spawn_blocking(move || capture_rtp(&rtp, 3.5))
            .await
            .unwrap();
        let (ok, out) = sipp.await.unwrap();
        assert!(ok, "SIPp call failed:\n{out}");

        assert!(packets.len() > 100, "only {} packets", packets.len());
        let span = packets.last().unwrap().0 - packets[0].0;
        let rate = (packets.len() - 1) as f64 / span.as_secs_f64();
        assert!((47.0..=53.0).contains(&rate), "{rate:.1} packets/s");
        let ssrc = packets[0].3;
        for w in packets.windows(2) {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1), "sequence is continuous");
            assert_eq!(
                w[1].2,
                w[0].2.wrapping_add(160),
                "timestamp advances 160 per frame"
            );
            assert_eq!(w[1].3, ssrc, "one SSRC across prompts");
            assert_eq!(w[1].5.len(), 160, "20 ms of G.711");
        }
        // The probe plays beep (1 kHz, 20 frames) then tone2 (2 kHz, 15 frames), looping:
        // every marker starts a prompt, and the audio is those tones, not silence.
        let markers: Vec<usize> = (0..packets.len()).filter(|&i| packets[i].4).collect();
        assert!(
            markers.len() >= 4,
            "a marker at each prompt start: {markers:?}"
        );
        for &m in &markers {
            let share_1k = tone_share(&packets[m].5, 1000.0);
            let share_2k = tone_share(&packets[m].5, 2000.0);
            assert!(
                share_1k > 0.8 || share_2k > 0.8,
                "frame {m} is a prompt's audio"
            );
        }
        let gaps: Vec<usize> = markers.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|&g| g == 20 || g == 15),
            "prompt lengths in frames: {gaps:?}"
        );

        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Answered));
        engine.shutdown().await;
    });
}

async fn digits_test(scenario: &str, pcap_args: Option<&[&str]>, hold: &str) -> CallLog {
    let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
    let mut extra = vec!["-set".to_string(), "max_call_ms".into(), hold.into()];
    if let Some(pcap_args) = pcap_args {
        let pcap = dtmf_pcap(
            &format!("{}-{}", scenario.replace('/', "_"), std::process::id()),
            pcap_args,
        );
        extra.extend([
            "-key".into(),
            "dtmf_pcap".into(),
            pcap.display().to_string(),
        ]);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let (ok, out) = sipp(uac(engine.sip_addr(), scenario, &extra), LIMIT).await;
    assert!(ok, "SIPp call failed:\n{out}");
    let calls = collect(&mut events, 1, LIMIT).await;
    engine.shutdown().await;
    calls.into_iter().next().expect("one call")
}

#[test]
fn rfc4733_digits_are_reported_once_each_in_order() {
    rt_test().block_on(async {
        let call = digits_test(
            "tests/peers/sipp/health_call.xml",
            Some(&["--schedule", "1:12,2:3456789,5:0*#,6.5:55"]),
            "9000",
        )
        .await;
        assert_eq!(call.digits, "1234567890*#55");
        assert!(
            call.methods.iter().all(|m| *m == "rfc4733"),
            "{:?}",
            call.methods
        );
    });
}

#[test]
fn sip_info_digits_are_reported_once_each_in_order() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/info_dtmf.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "500"],
        );
        let (ok, out) = sipp(args, LIMIT).await;
        assert!(ok, "SIPp call failed:\n{out}");
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].digits, "159#*0");
        assert!(calls[0].methods.iter().all(|m| *m == "sip_info"));
        engine.shutdown().await;
    });
}

#[test]
fn inband_digits_are_detected_once_each_in_order() {
    rt_test().block_on(async {
        let call = digits_test(
            "tests/sipp/health_call_inband.xml",
            Some(&[
                "--mode",
                "inband",
                "--schedule",
                "1:12,2:3456789,5:0*#,6.5:55",
            ]),
            "9000",
        )
        .await;
        assert_eq!(call.digits, "1234567890*#55");
        assert!(
            call.methods.iter().all(|m| *m == "inband"),
            "{:?}",
            call.methods
        );
    });
}

#[test]
fn cancel_before_the_answer_gets_487() {
    rt_test().block_on(async {
        let cfg = config("[calls]\nanswer_delay_ms = 3000\n");
        let (engine, mut events) = engine(cfg, probe(Duration::from_secs(30))).await;
        let (ok, out) = sipp(uac(engine.sip_addr(), "tests/sipp/cancel.xml", &[]), LIMIT).await;
        assert!(ok, "SIPp call failed:\n{out}");
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Cancelled));
        assert!(!calls[0].answered);
        engine.shutdown().await;
    });
}

#[test]
fn caller_hangs_up_with_bye() {
    rt_test().block_on(async {
        let call = digits_test(
            "tests/peers/sipp/health_call.xml",
            Some(&["--digits", "1", "--start", "0.5"]),
            "2000",
        )
        .await;
        assert!(call.answered);
        assert_eq!(call.ended.map(|e| e.0), Some(Disposition::Answered));
    });
}

#[test]
fn engine_hangs_up_with_bye() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_millis(1500))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let started = Instant::now();
        // The caller would stay 20 s; the engine's BYE must end the call well before.
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/listen.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "20000"],
        );
        let (ok, out) = sipp(args, LIMIT).await;
        assert!(ok, "SIPp call failed:\n{out}");
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "BYE came from the engine"
        );
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Answered));
        engine.shutdown().await;
    });
}

#[test]
fn hold_and_unhold_keep_the_call_up() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/hold.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "1000"],
        );
        let (ok, out) = sipp(args, LIMIT).await;
        assert!(ok, "SIPp call with re-INVITEs failed:\n{out}");
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Answered));
        engine.shutdown().await;
    });
}

/// An engine whose trunk points at a SIPp UAS on `port`.
fn trunk_config(port: u16, extra_trunk: &str, extra: &str) -> carecall::config::Config {
    config(&format!(
        "[[trunk]]\nname = \"carrier\"\nproxy = \"127.0.0.1:{port}\"\ncaller_id = \"0300000000\"\nallowed_sources = [\"127.0.0.0/8\"]\n{extra_trunk}\n{extra}"
    ))
}

async fn outbound_test(
    scenario: &str,
    sipp_extra: &[&str],
    extra_trunk: &str,
    extra: &str,
    hangup_after: Duration,
) -> (CallLog, bool, String) {
    let port = free_port();
    let cfg = trunk_config(port, extra_trunk, extra);
    let trunk = cfg.trunks[0].clone();
    let (engine, mut events) = engine(cfg, probe(hangup_after)).await;
    let peer = tokio::spawn(sipp(uas(port, scenario, sipp_extra), LIMIT));
    tokio::time::sleep(Duration::from_millis(500)).await;
    engine.dial(
        &trunk,
        Redacted::new("0312345678".into()),
        carecall::lang::Language::Ja,
    );
    let calls = collect(&mut events, 1, LIMIT).await;
    let (ok, out) = peer.await.unwrap();
    engine.shutdown().await;
    (calls.into_iter().next().expect("one call"), ok, out)
}

#[test]
fn outbound_call_answered_by_a_patient() {
    rt_test().block_on(async {
        let pcap = dtmf_pcap("patient-answers", &["--schedule", "1:1,2:365"]);
        let pcap = pcap.display().to_string();
        let (call, ok, out) = outbound_test(
            "tests/peers/sipp/patient_answers.xml",
            &[
                "-key",
                "dtmf_pcap",
                &pcap,
                "-set",
                "answer_ms",
                "300",
                "-set",
                "max_call_ms",
                "20000",
            ],
            "",
            "",
            Duration::from_secs(4),
        )
        .await;
        assert!(ok, "SIPp patient failed:\n{out}");
        assert!(call.answered);
        assert_eq!(call.digits, "1365");
        assert_eq!(call.ended.map(|e| e.0), Some(Disposition::Answered));
    });
}

#[test]
fn outbound_busy_is_reported_as_busy() {
    rt_test().block_on(async {
        let (call, ok, out) =
            outbound_test("tests/peers/sipp/patient_busy.xml", &[], "", "", LIMIT).await;
        assert!(ok, "{out}");
        assert_eq!(call.ended, Some((Disposition::Busy, 486)));
    });
}

#[test]
fn outbound_480_is_reported_as_no_answer() {
    rt_test().block_on(async {
        let (call, ok, out) = outbound_test(
            "tests/peers/sipp/patient_no_answer.xml",
            &["-set", "ring_ms", "1000"],
            "",
            "",
            LIMIT,
        )
        .await;
        assert!(ok, "{out}");
        assert_eq!(call.ended, Some((Disposition::NoAnswer, 480)));
    });
}

#[test]
fn outbound_ring_timeout_cancels_and_is_no_answer() {
    rt_test().block_on(async {
        let (call, ok, out) = outbound_test(
            "tests/peers/sipp/patient_no_answer.xml",
            &["-set", "ring_ms", "20000"],
            "",
            "[calls]\nring_timeout_ms = 1500\n",
            LIMIT,
        )
        .await;
        assert!(ok, "{out}");
        assert_eq!(call.ended, Some((Disposition::NoAnswer, 487)));
    });
}

#[test]
fn outbound_decline_is_reported_as_rejected() {
    rt_test().block_on(async {
        let (call, ok, out) =
            outbound_test("tests/sipp/patient_decline.xml", &[], "", "", LIMIT).await;
        assert!(ok, "{out}");
        assert_eq!(call.ended, Some((Disposition::Rejected, 603)));
    });
}

#[test]
fn outbound_401_challenge_is_answered_with_the_trunk_credentials() {
    rt_test().block_on(async {
        let pcap = dtmf_pcap("patient-auth", &["--digits", "9", "--start", "0.5"]);
        let pcap = pcap.display().to_string();
        let (call, ok, out) = outbound_test(
            "tests/sipp/patient_auth.xml",
            &[
                "-key",
                "dtmf_pcap",
                &pcap,
                "-set",
                "answer_ms",
                "200",
                "-set",
                "max_call_ms",
                "20000",
            ],
            "username = \"carecall\"\npassword = \"s3cret\"\n",
            "",
            Duration::from_secs(3),
        )
        .await;
        assert!(ok, "{out}");
        assert!(call.answered, "{call:?}");
        assert_eq!(call.digits, "9");
    });
}

#[test]
fn beyond_the_call_limit_invites_get_503_and_calls_up_are_unaffected() {
    rt_test().block_on(async {
        let cfg = config("[calls]\nmax_concurrent = 1\nretry_after_s = 17\n");
        let (engine, mut events) = engine(cfg, probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let first = uac(
            engine.sip_addr(),
            "tests/sipp/listen.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "8000"],
        );
        let first = tokio::spawn(sipp(first, LIMIT));
        // Wait until the first call is up, then try a second.
        loop {
            if let Ok(carecall::runtime::CallEvent::Answered { .. }) = events.recv().await {
                break;
            }
        }
        let (ok, out) = sipp(
            uac(engine.sip_addr(), "tests/sipp/expect_503.xml", &[]),
            LIMIT,
        )
        .await;
        assert!(ok, "second INVITE should get 503 with Retry-After:\n{out}");
        // The socket holds what came since the answer too. A media worker starved on a loaded
        // machine skips periods rather than bursting, so the window is 2 s (100 frames) and
        // the bound 40; the engine's 5 s media timeout ends the silent caller's call after it.
        let counter = std::thread::spawn(move || capture_rtp(&rtp, 2.0).len());
        let packets = counter.join().unwrap();
        let media = engine.media_stats();
        let (ok, out) = first.await.unwrap();
        assert!(
            packets > 40,
            "the first call's audio kept flowing: {packets} packets; {media:?}; first call ok={ok}:\n{out}"
        );
        assert!(ok, "first call failed:\n{out}");
        engine.shutdown().await;
    });
}

#[test]
fn requests_from_unknown_addresses_get_403() {
    rt_test().block_on(async {
        let cfg = config("[[trunk]]\nname = \"carrier\"\nproxy = \"127.0.0.9:5060\"\nallowed_sources = [\"127.0.0.9\"]\n");
        let (engine, _events) = engine(cfg, probe(Duration::from_secs(30))).await;
        let (ok, out) = sipp(uac(engine.sip_addr(), "tests/sipp/expect_403.xml", &[]), LIMIT).await;
        assert!(ok, "INVITE from 127.0.0.1 should be refused:\n{out}");
        assert_eq!(engine.active_calls(), 0);
        engine.shutdown().await;
    });
}

#[test]
fn malformed_sip_never_takes_the_engine_down() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let target = engine.sip_addr();
        let junk: Vec<Vec<u8>> = vec![
            b"\x00\x01\x02garbage".to_vec(),
            b"INVITE\r\n\r\n".to_vec(),
            b"INVITE sip:x@y SIP/2.0\r\nVia: nonsense\r\nCSeq: abc\r\n\r\n".to_vec(),
            b"SIP/2.0 200 OK\r\nCall-ID: nowhere\r\n\r\n".to_vec(),
            format!("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nX-Long: {}\r\nContent-Length: 99999\r\n\r\n", "a".repeat(60000)).into_bytes(),
            vec![0xFF; 1400],
        ];
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        for j in &junk {
            let _ = socket.send_to(j, target);
        }
        // TCP too: a stream of junk, then a half message and a close.
        if let Ok(mut s) = std::net::TcpStream::connect(target) {
            use std::io::Write;
            let _ = s.write_all(b"NOT SIP AT ALL\r\n\r\nINVITE sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nabc");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let call = {
            let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let port = rtp.local_addr().unwrap().port().to_string();
            let args = uac(target, "tests/sipp/listen.xml", &["-set", "rtp_port", &port, "-set", "hold_ms", "500"]);
            sipp(args, LIMIT).await
        };
        assert!(call.0, "a normal call after the junk:\n{}", call.1);
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls.len(), 1, "junk created no call");
        engine.shutdown().await;
    });
}

#[test]
fn shutdown_refuses_new_calls_and_drains_active_ones() {
    rt_test().block_on(async {
        let cfg = config("[calls]\ndrain_limit_s = 1\n");
        let (engine, mut events) = engine(cfg, probe(Duration::from_secs(30))).await;
        let target = engine.sip_addr();
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let args = uac(
            target,
            "tests/sipp/listen.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "20000"],
        );
        let active = tokio::spawn(sipp(args, LIMIT));
        loop {
            if let Ok(carecall::runtime::CallEvent::Answered { .. }) = events.recv().await {
                break;
            }
        }
        let started = Instant::now();
        let shutdown = tokio::spawn(engine.shutdown());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (ok, out) = sipp(uac(target, "tests/sipp/expect_503.xml", &[]), LIMIT).await;
        assert!(ok, "a call during the drain gets 503:\n{out}");
        let (ok, out) = active.await.unwrap();
        assert!(ok, "the active call got BYE at the drain limit:\n{out}");
        shutdown.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(8));
    });
}

#[test]
fn a_call_without_incoming_rtp_is_ended_by_the_media_timeout() {
    rt_test().block_on(async {
        let mut cfg = config("");
        cfg.rtp.media_timeout = Duration::from_secs(1);
        assert_eq!(cfg.rtp.media_timeout, Duration::from_secs(1));
        let (engine, mut events) = engine(cfg, probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let started = Instant::now();
        // listen.xml sends no RTP at all and would stay 20 s.
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/listen.xml",
            &["-set", "rtp_port", &port, "-set", "hold_ms", "20000"],
        );
        let (ok, out) = sipp(args, LIMIT).await;
        assert!(ok, "the engine's BYE ends the call cleanly:\n{out}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_secs(6),
            "{took:?}"
        );
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Answered));
        engine.shutdown().await;
    });
}

#[test]
fn trunk_registers_with_digest_and_refreshes() {
    rt_test().block_on(async {
        let port = free_port();
        let cfg = trunk_config(port, "username = \"carecall\"\npassword = \"s3cret\"\nregister = true\nregister_expires_s = 2\n", "");
        let registrar = tokio::spawn(sipp(uas(port, "tests/sipp/registrar.xml", &[]), LIMIT));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (engine, _events) = engine(cfg, probe(LIMIT)).await;
        let (ok, out) = registrar.await.unwrap();
        assert!(ok, "registrar saw challenge, valid digest and a refresh:\n{out}");
        assert_eq!(
            engine.registrations(),
            vec![("carrier".to_string(), carecall::sip::RegistrationState::Registered)]
        );
        engine.shutdown().await;
    });
}

#[test]
fn an_inbound_call_over_tcp_streams_audio() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rtp.local_addr().unwrap().port().to_string();
        let args = uac(
            engine.sip_addr(),
            "tests/sipp/listen.xml",
            &[
                "-t", "t1", "-set", "rtp_port", &port, "-set", "hold_ms", "2000",
            ],
        );
        let sipp = tokio::spawn(sipp(args, LIMIT));
        let packets = tokio::task::spawn_blocking(move || capture_rtp(&rtp, 1.5))
            .await
            .unwrap();
        let (ok, out) = sipp.await.unwrap();
        assert!(ok, "SIPp call over TCP failed:\n{out}");
        assert!(
            packets.len() > 50,
            "audio flows on a TCP-signalled call: {}",
            packets.len()
        );
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended.map(|e| e.0), Some(Disposition::Answered));
        engine.shutdown().await;
    });
}

#[test]
fn options_is_answered_with_what_carecall_allows() {
    rt_test().block_on(async {
        let (engine, _events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let (ok, out) = sipp(uac(engine.sip_addr(), "tests/sipp/options.xml", &[]), LIMIT).await;
        assert!(ok, "OPTIONS:\n{out}");
        engine.shutdown().await;
    });
}

#[test]
fn an_offer_without_g711_gets_488() {
    rt_test().block_on(async {
        let (engine, mut events) = engine(config(""), probe(Duration::from_secs(30))).await;
        let (ok, out) = sipp(
            uac(engine.sip_addr(), "tests/sipp/expect_488.xml", &[]),
            LIMIT,
        )
        .await;
        assert!(ok, "INVITE with G.729 only:\n{out}");
        let calls = collect(&mut events, 1, LIMIT).await;
        assert_eq!(calls[0].ended, Some((Disposition::Failed, 488)));
        engine.shutdown().await;
    });
}

#[test]
fn an_answering_machine_greeting_is_detected_and_hung_up_on() {
    rt_test().block_on(async {
        // Three seconds of continuous sound right after the answer: a machine's greeting.
        let pcap = dtmf_pcap(
            "machine",
            &[
                "--mode",
                "inband",
                "--digits",
                "5",
                "--duration",
                "3",
                "--start",
                "0.3",
            ],
        );
        let pcap = pcap.display().to_string();
        let (call, ok, out) = outbound_test(
            "tests/peers/sipp/patient_answers.xml",
            &[
                "-key",
                "dtmf_pcap",
                &pcap,
                "-set",
                "answer_ms",
                "200",
                "-set",
                "max_call_ms",
                "20000",
            ],
            "",
            "",
            LIMIT,
        )
        .await;
        assert!(ok, "{out}");
        assert_eq!(
            call.ended,
            Some((Disposition::AnsweringMachine, 200)),
            "{call:?}"
        );
    });
}
