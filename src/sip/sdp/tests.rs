//! Offer/answer tests: the existing behaviour, and RFC 3264 with several streams.

use super::*;

const SIPP_OFFER: &str = "v=0\r\no=patient 1 1 IN IP4 127.0.0.1\r\ns=patient\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

fn local() -> LocalMedia {
    LocalMedia {
        addr: "127.0.0.1:20000".parse().unwrap(),
        session_id: 7,
        version: 1,
    }
}

#[test]
fn answers_pcmu_with_the_peers_telephone_event_type() {
    let (n, body) = answer(SIPP_OFFER, local()).unwrap();
    assert_eq!(n.law, Law::Pcmu);
    assert_eq!(n.telephone_event, Some(101));
    assert_eq!(n.remote, "127.0.0.1:6000".parse().unwrap());
    assert!(body.contains("m=audio 20000 RTP/AVP 0 101\r\n"), "{body}");
    assert!(body.contains("a=rtpmap:101 telephone-event/8000"));
    assert!(body.contains("a=ptime:20"));
    assert!(!body.contains("PCMA"));
}

#[test]
fn follows_the_offerers_preference_and_any_event_type() {
    let offer = "v=0\nc=IN IP4 10.0.0.5\nm=audio 4000 RTP/AVP 18 8 0 96\na=rtpmap:96 telephone-event/8000\n";
    let (n, body) = answer(offer, local()).unwrap();
    assert_eq!((n.law, n.audio_pt), (Law::Pcma, 8));
    assert_eq!(n.telephone_event, Some(96));
    assert!(body.contains("RTP/AVP 8 96"), "{body}");
}

#[test]
fn no_telephone_event_means_inband_detection() {
    let offer = "v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 0\r\n";
    let (n, body) = answer(offer, local()).unwrap();
    assert_eq!(n.telephone_event, None);
    assert!(!body.contains("telephone-event"));
}

#[test]
fn no_g711_is_not_acceptable() {
    let offer =
        "v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 18 9\r\na=rtpmap:18 G729/8000\r\n";
    assert_eq!(answer(offer, local()).unwrap_err(), SdpError::NoCommonCodec);
    // PCMU at the wrong clock rate is not PCMU.
    let odd = "v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/16000\r\n";
    assert_eq!(answer(odd, local()).unwrap_err(), SdpError::NoCommonCodec);
}

#[test]
fn hold_and_unhold() {
    let hold = SIPP_OFFER.replace("a=sendrecv", "a=sendonly");
    let (n, body) = answer(&hold, local()).unwrap();
    assert!(n.on_hold());
    assert!(body.contains("a=recvonly"));
    let old_style = SIPP_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
    assert!(answer(&old_style, local()).unwrap().0.on_hold());
    let (n, _) = answer(SIPP_OFFER, local()).unwrap();
    assert!(!n.on_hold());
}

#[test]
fn media_level_connection_wins_and_other_streams_are_ignored() {
    let offer = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 10.9.9.9\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n";
    assert_eq!(
        parse(offer).unwrap().remote,
        "10.0.0.2:4000".parse().unwrap()
    );
}

#[test]
fn malformed_bodies_are_errors_not_panics() {
    assert_eq!(parse(""), Err(SdpError::NoAudio));
    assert_eq!(parse("garbage"), Err(SdpError::Malformed { line: 1 }));
    assert_eq!(
        parse("v=0\nm=audio x RTP/AVP 0"),
        Err(SdpError::Malformed { line: 2 })
    );
    assert_eq!(
        parse("v=0\nm=audio 4000 RTP/AVP 0"),
        Err(SdpError::NoConnection)
    );
    assert_eq!(
        parse("v=0\nc=IN IP4\n"),
        Err(SdpError::Malformed { line: 2 })
    );
    // A host name is valid RFC 8866 syntax, but carecall sends RTP to IP addresses only.
    assert_eq!(
        parse("v=0\nc=IN IP4 nowhere\nm=audio 4000 RTP/AVP 0\n"),
        Err(SdpError::UnusableConnection)
    );
    assert_eq!(
        parse("m=audio 4000 RTP/AVP 0"),
        Err(SdpError::Malformed { line: 1 })
    );
    for cut in 0..SIPP_OFFER.len() {
        let _ = parse(&SIPP_OFFER[..cut]);
    }
}

#[test]
fn our_offer_round_trips_through_our_parser() {
    let body = offer(local());
    let n = accept_answer(&body).unwrap();
    assert_eq!(n.law, Law::Pcmu);
    assert_eq!(n.telephone_event, Some(OFFER_TELEPHONE_EVENT_PT));
    assert_eq!(n.remote, local().addr);
    let pcma_only = "v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 7000 RTP/AVP 8\r\n";
    assert_eq!(accept_answer(pcma_only).unwrap().law, Law::Pcma);
}

/// The m= lines of a body, in order.
fn m_lines(body: &str) -> Vec<&str> {
    body.lines().filter(|l| l.starts_with("m=")).collect()
}

/// The attribute lines between the `n`-th m= line and the next one.
fn media_section(body: &str, n: usize) -> Vec<&str> {
    body.split("\r\nm=")
        .nth(n + 1)
        .map(|s| s.lines().skip(1).collect())
        .unwrap_or_default()
}

const AUDIO_VIDEO: &str = "v=0\r\no=phone 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\nm=video 4002 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\na=rtpmap:97 VP8/90000\r\na=sendrecv\r\n";

#[test]
fn audio_and_video_offer_gets_two_m_lines_with_video_at_port_0() {
    let (n, body) = answer(AUDIO_VIDEO, local()).unwrap();
    assert_eq!(
        m_lines(&body),
        ["m=audio 20000 RTP/AVP 0 101", "m=video 0 RTP/AVP 96 97"],
        "{body}"
    );
    assert_eq!(
        (n.law, n.audio_pt, n.telephone_event),
        (Law::Pcmu, 0, Some(101))
    );
    assert_eq!(n.remote, "10.0.0.7:4000".parse().unwrap());
    assert!(
        media_section(&body, 1).is_empty(),
        "a declined stream has no attributes: {body}"
    );
}

#[test]
fn inactive_video_first_never_silences_the_audio_second() {
    // The bug this replaced: a=inactive of the video (first) made the audio a=inactive.
    let offer = "v=0\r\no=phone 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=inactive\r\nm=audio 4000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\n";
    let (n, body) = answer(offer, local()).unwrap();
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(!n.on_hold());
    assert_eq!((n.law, n.audio_pt), (Law::Pcma, 8));
    assert_eq!(
        m_lines(&body),
        ["m=video 0 RTP/AVP 96", "m=audio 20000 RTP/AVP 8"],
        "the answer keeps the offer's order: {body}"
    );
    let audio = media_section(&body, 1);
    assert!(audio.contains(&"a=sendrecv"), "{body}");
    assert!(!body.contains("a=inactive"), "{body}");
    assert_eq!(parse(offer).unwrap().direction, Direction::SendRecv);
    // Likewise a sendonly video after the audio.
    let after = AUDIO_VIDEO
        .replacen("a=sendrecv\r\nm=video", "m=video", 1)
        .replace("a=sendrecv", "a=sendonly");
    let (n, _) = answer(&after, local()).unwrap();
    assert_eq!(n.direction, Direction::SendRecv, "{after}");
}

#[test]
fn session_level_attributes_apply_unless_the_stream_has_its_own() {
    // Session-level sendonly: the audio without an attribute of its own is on hold.
    let held = "v=0\r\no=phone 1 2 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n";
    let (n, body) = answer(held, local()).unwrap();
    assert!(n.on_hold());
    assert!(media_section(&body, 0).contains(&"a=recvonly"), "{body}");
    // The audio's own attribute overrides the session's, for the audio only.
    let own = "v=0\r\no=phone 1 2 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\na=inactive\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\nm=video 4002 RTP/AVP 96\r\n";
    let (n, _) = answer(own, local()).unwrap();
    assert_eq!(n.direction, Direction::SendRecv);
    let description = read::description(own).unwrap();
    assert_eq!(
        description.streams[1].direction,
        Direction::Inactive,
        "the video keeps the session's"
    );
    // c= likewise: the video's own address is the video's, the audio takes the session's.
    let addresses = "v=0\r\no=phone 1 2 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\nc=IN IP4 10.9.9.9\r\nm=audio 4000 RTP/AVP 0\r\n";
    assert_eq!(
        parse(addresses).unwrap().remote,
        "10.0.0.1:4000".parse().unwrap()
    );
    // A media-level hold address (c=0.0.0.0) holds that stream, not the session's others.
    let audio_hold = addresses.replace(
        "m=audio 4000 RTP/AVP 0\r\n",
        "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n",
    );
    assert!(answer(&audio_hold, local()).unwrap().0.on_hold());
    // rtpmap is a media-level attribute: one at session level maps nothing.
    let session_rtpmap =
        "v=0\r\nc=IN IP4 10.0.0.1\r\na=rtpmap:96 PCMU/8000\r\nm=audio 4000 RTP/AVP 96\r\n";
    assert_eq!(
        answer(session_rtpmap, local()).unwrap_err(),
        SdpError::NoCommonCodec
    );
}

#[test]
fn unusable_streams_are_declined_and_the_first_usable_audio_taken() {
    // SRTP audio (not spoken here), a T.38 fax stream, then plain audio.
    let offer = "v=0\r\no=gw 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\nm=image 4004 udptl t38\r\nm=audio 4002 RTP/AVP 8\r\nm=audio 4006 RTP/AVP 0\r\n";
    let (n, body) = answer(offer, local()).unwrap();
    assert_eq!(n.remote, "10.0.0.7:4002".parse().unwrap());
    assert_eq!(
        m_lines(&body),
        [
            "m=audio 0 RTP/SAVP 0",
            "m=image 0 udptl t38",
            "m=audio 20000 RTP/AVP 8",
            "m=audio 0 RTP/AVP 0"
        ],
        "{body}"
    );
    // An audio stream the offerer disabled (port 0) is not taken.
    let disabled = "v=0\r\nc=IN IP4 10.0.0.7\r\nm=audio 0 RTP/AVP 0\r\n";
    assert_eq!(
        answer(disabled, local()).unwrap_err(),
        SdpError::NoCommonCodec
    );
    let video_only = "v=0\r\nc=IN IP4 10.0.0.7\r\nm=video 4002 RTP/AVP 96\r\n";
    assert_eq!(answer(video_only, local()).unwrap_err(), SdpError::NoAudio);
}

#[test]
fn the_answer_parses_again_as_rfc_8866() {
    let (_, body) = answer(AUDIO_VIDEO, local()).unwrap();
    assert!(body.starts_with("v=0\r\no=carecall 7 1 IN IP4 127.0.0.1\r\ns=carecall\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"), "{body}");
    assert!(body.ends_with("\r\n") && !body.contains("\n\n"));
    let again = read::description(&body).unwrap();
    assert_eq!(again.streams.len(), 2);
    assert_eq!(
        again.streams[0].rtpmap,
        [
            (0, "pcmu".into(), 8000),
            (101, "telephone-event".into(), 8000)
        ]
    );
    assert_eq!(
        media_section(&body, 0),
        [
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=ptime:20",
            "a=sendrecv"
        ]
    );
    let v6 = LocalMedia {
        addr: "[::1]:20000".parse().unwrap(),
        ..local()
    };
    assert!(offer(v6).contains("c=IN IP6 ::1\r\n"));
}

#[test]
fn avpf_audio_is_taken_with_its_protocol_echoed() {
    let offer = "v=0\r\nc=IN IP4 10.0.0.7\r\nm=audio 4000 RTP/AVPF 8\r\na=rtcp-fb:* nack\r\n";
    let (n, body) = answer(offer, local()).unwrap();
    assert_eq!(n.law, Law::Pcma);
    assert_eq!(m_lines(&body), ["m=audio 20000 RTP/AVPF 8"], "{body}");
}
