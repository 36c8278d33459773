//! Receiving: which sources are accepted, which DTMF transport is heard, AMD.

use super::*;
use crate::rtp::amd::{AmdParams, AmdResult};
use crate::rtp::DigitMethod;

#[test]
fn the_first_packet_latches_its_source_and_frames_follow_it() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    assert_eq!(leg.poll_transmit(t0).unwrap().destination, signalled());
    let got = leg.handle_packet(&silence_packet(1), nat_source(), t0 + ms(5));
    assert_eq!(got, Inbound::Accepted);
    assert_eq!(
        leg.poll_transmit(t0 + ms(20)).unwrap().destination,
        nat_source()
    );
}

#[test]
fn once_latched_a_stranger_is_ignored_but_the_signalled_ip_re_latches() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.handle_packet(&silence_packet(1), nat_source(), t0);
    let spoofed = leg.handle_packet(&silence_packet(2), stranger(), t0 + ms(10));
    assert_eq!(spoofed, Inbound::UnknownSource);
    assert_eq!(leg.remote(), nat_source());
    // From the signalled IP, on any port, the leg re-latches.
    let moved = addr("127.0.0.2:4010");
    assert_eq!(
        leg.handle_packet(&silence_packet(3), moved, t0 + ms(20)),
        Inbound::Accepted
    );
    assert_eq!(leg.poll_transmit(t0).unwrap().destination, moved);
    assert_eq!(
        leg.handle_packet(&silence_packet(4), stranger(), t0),
        Inbound::UnknownSource
    );
    assert_eq!(leg.handle_packet(b"not rtp", moved, t0), Inbound::NotRtp);
    assert_eq!(leg.remote(), moved);
}

#[test]
fn a_stranger_does_not_keep_the_call_alive() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.handle_packet(&silence_packet(1), nat_source(), t0);
    for n in 1..=300u16 {
        leg.handle_packet(&silence_packet(n), stranger(), t0 + ms(20 * u64::from(n)));
    }
    leg.handle_timeout(t0 + TIMEOUT);
    assert_eq!(events(&mut leg), vec![MediaEvent::MediaTimeout]);
}

#[test]
fn a_new_signalled_ip_is_sent_to_at_once_and_learnt_again() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.handle_packet(&silence_packet(1), nat_source(), t0);
    // Same IP, other port: the latched source stays.
    leg.update(
        MediaParams {
            remote: addr("127.0.0.2:4002"),
            ..params(None)
        },
        t0,
    );
    assert_eq!(leg.remote(), nat_source());
    // The peer moved: send to the new address, and latch onto whatever it sends from.
    let new_sdp = addr("127.0.0.4:7000");
    leg.update(
        MediaParams {
            remote: new_sdp,
            ..params(None)
        },
        t0,
    );
    assert_eq!(leg.remote(), new_sdp);
    let behind_nat = addr("127.0.0.5:7100");
    assert_eq!(
        leg.handle_packet(&silence_packet(2), behind_nat, t0),
        Inbound::Accepted
    );
    assert_eq!(leg.remote(), behind_nat);
    assert_eq!(
        leg.handle_packet(&silence_packet(3), nat_source(), t0),
        Inbound::UnknownSource
    );
}

#[test]
fn telephone_events_give_rfc4733_digits_when_negotiated() {
    let t0 = Instant::now();
    let mut leg = leg(Some(TE), t0);
    let mut got = Vec::new();
    for (i, key) in "59#".chars().enumerate() {
        for p in event_packets(key, 8000 * i as u32, 10 * i as u16) {
            assert_eq!(leg.handle_packet(&p, nat_source(), t0), Inbound::Accepted);
        }
        got.extend(events(&mut leg));
    }
    let want: Vec<_> = "59#".chars().map(|c| (c, DigitMethod::Rfc4733)).collect();
    assert_eq!(digits(&got), want);
    // Tones in the audio are not listened to when telephone-events were agreed.
    for p in tone_packets("123") {
        leg.handle_packet(&p, nat_source(), t0);
    }
    assert!(
        digits(&events(&mut leg)).is_empty(),
        "in-band heard beside RFC 4733"
    );
}

#[test]
fn tones_in_the_audio_give_inband_digits_when_telephone_events_were_not_negotiated() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    for p in tone_packets("1590*") {
        leg.handle_packet(&p, nat_source(), t0);
    }
    let want: Vec<_> = "1590*".chars().map(|c| (c, DigitMethod::Inband)).collect();
    assert_eq!(digits(&events(&mut leg)), want);
    // Event packets on the would-be payload type mean nothing here.
    for p in event_packets('7', 0, 500) {
        leg.handle_packet(&p, nat_source(), t0);
    }
    assert!(events(&mut leg).is_empty());
}

#[test]
fn renegotiating_telephone_events_switches_the_transport() {
    let t0 = Instant::now();
    let mut leg = leg(None, t0);
    leg.update(params(Some(TE)), t0);
    for p in event_packets('8', 0, 0) {
        leg.handle_packet(&p, nat_source(), t0);
    }
    assert_eq!(digits(&events(&mut leg)), vec![('8', DigitMethod::Rfc4733)]);
}

#[test]
fn a_person_keying_during_machine_detection_is_human_and_silence_is_not_sure() {
    let t0 = Instant::now();
    let mut keyed = leg(Some(TE), t0).detect_machine(AmdParams::default());
    for p in event_packets('1', 0, 0) {
        keyed.handle_packet(&p, nat_source(), t0);
    }
    let got = events(&mut keyed);
    assert_eq!(got[0], MediaEvent::Amd(AmdResult::Human));
    assert_eq!(digits(&got), vec![('1', DigitMethod::Rfc4733)]);

    let mut quiet = leg(None, t0).detect_machine(AmdParams::default());
    for n in 0..200u16 {
        quiet.handle_packet(&silence_packet(n), nat_source(), t0 + ms(20 * u64::from(n)));
    }
    assert_eq!(
        events(&mut quiet),
        vec![MediaEvent::Amd(AmdResult::NotSure)]
    );
}
