//! Sending and timers: frames, hold, pacing, the media timeout, playback.

use super::*;
use crate::rtp::packet::RtpPacket;

#[test]
fn hold_sends_nothing_and_runs_no_media_timeout_until_unhold() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    let first = RtpPacket::parse(leg.poll_transmit(t0).unwrap().payload)
        .unwrap()
        .header;
    leg.update(
        MediaParams {
            hold: true,
            ..params(None)
        },
        t0 + ms(10),
    );
    for n in 1..=1500u64 {
        let now = t0 + ms(20 * n);
        assert!(
            leg.poll_transmit(now).is_none(),
            "frame sent on hold at {n}"
        );
        leg.handle_timeout(now);
    }
    assert_eq!(leg.deadline(LegTimer::MediaTimeout), None);
    assert!(events(&mut leg).is_empty(), "media timeout while held");
    // Back from hold at 30.01 s: frames again, on one stream whose clock ran on.
    let back = t0 + ms(30_010);
    leg.update(params(None), back);
    let next = RtpPacket::parse(leg.poll_transmit(t0 + ms(30_020)).unwrap().payload)
        .unwrap()
        .header;
    assert_eq!(next.sequence, first.sequence.wrapping_add(1));
    assert_eq!(next.timestamp, first.timestamp.wrapping_add(160 * 1501));
    assert_eq!(next.ssrc, first.ssrc);
    // The timeout restarted at the change.
    assert_eq!(leg.deadline(LegTimer::MediaTimeout), Some(back + TIMEOUT));
    leg.handle_timeout(back + TIMEOUT);
    assert_eq!(events(&mut leg), vec![MediaEvent::MediaTimeout]);
}

#[test]
fn the_media_timeout_fires_once_after_the_configured_silence() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.handle_packet(&silence_packet(1), nat_source(), t0 + ms(1000));
    assert_eq!(leg.poll_timeout(), Some(t0), "first frame due at once");
    assert_eq!(
        leg.deadline(LegTimer::MediaTimeout),
        Some(t0 + ms(1000) + TIMEOUT)
    );
    leg.handle_timeout(t0 + ms(5999));
    assert!(events(&mut leg).is_empty());
    leg.handle_timeout(t0 + ms(6000));
    assert_eq!(events(&mut leg), vec![MediaEvent::MediaTimeout]);
    leg.handle_timeout(t0 + ms(6020));
    leg.handle_timeout(t0 + ms(60_000));
    assert!(events(&mut leg).is_empty(), "fired twice");
    assert_eq!(leg.deadline(LegTimer::MediaTimeout), None);
}

#[test]
fn noted_activity_keeps_a_silent_call_alive_for_a_minute() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    // SIP INFO digits every 4 s, no RTP at all.
    for n in 1..=3000u64 {
        let now = t0 + ms(20 * n);
        if n % 200 == 0 {
            leg.note_activity(now);
        }
        leg.handle_timeout(now);
    }
    assert!(
        events(&mut leg).is_empty(),
        "timed out while the peer signalled"
    );
    leg.handle_timeout(t0 + ms(60_000) + TIMEOUT);
    assert_eq!(events(&mut leg), vec![MediaEvent::MediaTimeout]);
}

#[test]
fn playback_done_comes_with_the_frame_that_ends_the_queue() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.play(&[PlayItem::Prompt("a"), PlayItem::PromptIn(Language::Ja, "b")])
        .unwrap();
    let one = Law::Pcmu.encode(1000);
    let mut frames = Vec::new();
    for n in 0..6u64 {
        let frame = leg.poll_transmit(t0 + ms(20 * n)).unwrap().payload.to_vec();
        let done = events(&mut leg) == vec![MediaEvent::PlaybackDone];
        frames.push((
            RtpPacket::parse(&frame).unwrap().header.marker,
            frame[12],
            done,
        ));
    }
    let silence = Law::Pcmu.silence();
    let two = Law::Pcmu.encode(-2000);
    assert_eq!(
        frames,
        vec![
            (true, one, false),
            (false, one, false),
            (false, one, false),
            (true, two, true),
            (false, silence, false),
            (false, silence, false),
        ]
    );
}

#[test]
fn stop_drops_the_queue_without_playback_done_and_a_bad_prompt_reports_it() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.play(&[PlayItem::Prompt("a")]).unwrap();
    leg.poll_transmit(t0);
    leg.stop();
    for n in 1..10u64 {
        let frame = leg.poll_transmit(t0 + ms(20 * n)).unwrap();
        assert_eq!(frame.payload[12], Law::Pcmu.silence());
    }
    assert!(events(&mut leg).is_empty());
    assert!(leg.play(&[PlayItem::Prompt("missing")]).is_err());
    assert_eq!(events(&mut leg), vec![MediaEvent::PlaybackDone]);
    leg.play(&[PlayItem::Silence(0)]).unwrap();
    assert_eq!(events(&mut leg), vec![MediaEvent::PlaybackDone]);
}

#[test]
fn a_codec_change_while_playing_reports_playback_done() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.play(&[PlayItem::Prompt("a")]).unwrap();
    leg.poll_transmit(t0);
    leg.update(
        MediaParams {
            law: Law::Pcma,
            audio_pt: 8,
            ..params(None)
        },
        t0,
    );
    assert_eq!(events(&mut leg), vec![MediaEvent::PlaybackDone]);
    let frame = leg.poll_transmit(t0 + ms(20)).unwrap();
    let header = RtpPacket::parse(frame.payload).unwrap().header;
    assert_eq!(
        (header.payload_type, frame.payload[12]),
        (8, Law::Pcma.silence())
    );
}

#[test]
fn a_late_slot_skips_the_missed_frames_instead_of_bursting() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    let first = RtpPacket::parse(leg.poll_transmit(t0).unwrap().payload)
        .unwrap()
        .header;
    assert!(leg.poll_transmit(t0 + ms(19)).is_none(), "early");
    // A stall: the slot comes 105 ms after the frame at 20 ms was due.
    let late = RtpPacket::parse(leg.poll_transmit(t0 + ms(125)).unwrap().payload)
        .unwrap()
        .header;
    assert!(
        leg.poll_transmit(t0 + ms(125)).is_none(),
        "burst after a stall"
    );
    assert_eq!(late.sequence, first.sequence.wrapping_add(1));
    assert_eq!(late.timestamp, first.timestamp.wrapping_add(160 * 6));
    assert_eq!(leg.poll_timeout(), Some(t0 + ms(140)));
}

/// A whole minute-long call driven by `poll_timeout` alone, as a shell would: 50 frames a
/// second, the prompt once, the peer's audio keeping it alive, and the media timeout after
/// the peer goes quiet at 60 s.
#[test]
fn a_minute_of_call_driven_by_its_deadlines_runs_in_microseconds() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.play(&[PlayItem::Prompt("a")]).unwrap();
    let (mut sent, mut seen, mut seq) = (0u32, Vec::new(), 0u16);
    while let Some(now) = leg.poll_timeout() {
        if now > t0 + ms(70_000) {
            break;
        }
        if now < t0 + ms(60_000) {
            seq = seq.wrapping_add(1);
            leg.handle_packet(&silence_packet(seq), nat_source(), now);
        }
        leg.handle_timeout(now);
        sent += u32::from(leg.poll_transmit(now).is_some());
        seen.extend(events(&mut leg).into_iter().map(|e| (e, now - t0)));
    }
    // The prompt's 3 frames end at 40 ms; the peer's last packet came at 59.98 s.
    assert_eq!(
        seen,
        vec![
            (MediaEvent::PlaybackDone, ms(40)),
            (MediaEvent::MediaTimeout, ms(59_980) + TIMEOUT)
        ]
    );
    assert_eq!(sent, 3501, "one frame per 20 ms from 0 to 70 s");
}
