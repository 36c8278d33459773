//! SDP offer/answer (RFC 3264) for one audio stream: PCMU or PCMA, `telephone-event/8000` on
//! whatever payload type the peer uses, ptime 20.
//!
//! SDP here is a handful of lines, so carecall parses it itself (see docs/dependencies.md):
//! [`parse`] is total (every input gives a value or a typed error), [`answer`] picks the
//! codec, [`offer`] and [`accept_answer`] serve outbound calls.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::rtp::g711::Law;

/// Why an SDP body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// A line is not `x=value`, or a field that must be a number or address is not.
    #[error("malformed SDP line {line}")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// There is no `m=audio` section.
    #[error("no audio stream offered")]
    NoAudio,
    /// The audio stream has no connection address (`c=`) at session or media level.
    #[error("no connection address for the audio stream")]
    NoConnection,
    /// Neither PCMU nor PCMA is offered: the call gets 488 Not Acceptable Here.
    #[error("no G.711 codec offered")]
    NoCommonCodec,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways (default).
    SendRecv,
    /// The offerer only sends (it put us on hold, or plays music on hold).
    SendOnly,
    /// The offerer only receives.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction that answers this offered one (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }
}

/// The audio stream of a parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// Where the peer wants RTP (an unspecified IP such as 0.0.0.0 means hold, RFC 2543 style).
    pub remote: SocketAddr,
    /// Payload types in the peer's order of preference.
    pub formats: Vec<u8>,
    /// `a=rtpmap` entries: payload type, encoding name (lower case), clock rate.
    pub rtpmap: Vec<(u8, String, u32)>,
    /// The direction attribute.
    pub direction: Direction,
}

impl Audio {
    /// The encoding of payload type `pt`: its rtpmap, or the RFC 3551 static assignment.
    fn encoding(&self, pt: u8) -> Option<(String, u32)> {
        if let Some((_, name, rate)) = self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
            return Some((name.clone(), *rate));
        }
        match pt {
            0 => Some(("pcmu".into(), 8000)),
            8 => Some(("pcma".into(), 8000)),
            _ => None,
        }
    }

    /// The peer's telephone-event payload type at 8000 Hz, if offered.
    fn telephone_event(&self) -> Option<u8> {
        self.formats.iter().copied().find(|&pt| {
            self.encoding(pt)
                .is_some_and(|(name, rate)| name == "telephone-event" && rate == 8000)
        })
    }

    /// The first G.711 codec in the peer's order.
    fn first_g711(&self) -> Option<(Law, u8)> {
        self.formats.iter().find_map(|&pt| match self.encoding(pt) {
            Some((name, 8000)) if name == "pcmu" => Some((Law::Pcmu, pt)),
            Some((name, 8000)) if name == "pcma" => Some((Law::Pcma, pt)),
            _ => None,
        })
    }
}

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The G.711 law of the audio.
    pub law: Law,
    /// The audio payload type (0 or 8 unless the peer remapped it).
    pub audio_pt: u8,
    /// The telephone-event payload type, when the peer supports RFC 4733.
    pub telephone_event: Option<u8>,
    /// Where to send RTP (until symmetric RTP learns the real source).
    pub remote: SocketAddr,
    /// Our direction in the answer.
    pub direction: Direction,
}

impl Negotiated {
    /// Whether the peer has put the call on hold (we should not send audio).
    pub fn on_hold(&self) -> bool {
        matches!(self.direction, Direction::RecvOnly | Direction::Inactive)
            || self.remote.ip().is_unspecified()
    }
}

/// Our side of the media: where we receive RTP, and the `o=` session id and version.
#[derive(Debug, Clone, Copy)]
pub struct LocalMedia {
    /// Our RTP address.
    pub addr: SocketAddr,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` version; bump it for every new offer or answer in the dialog.
    pub version: u64,
}

/// Our telephone-event payload type in offers.
pub const OFFER_TELEPHONE_EVENT_PT: u8 = 101;

/// Parses the audio stream of an SDP body. Unknown lines are ignored.
pub fn parse(body: &str) -> Result<Audio, SdpError> {
    let mut session_ip: Option<IpAddr> = None;
    let mut audio: Option<(u16, Vec<u8>)> = None;
    let mut media_ip: Option<IpAddr> = None;
    let mut in_audio = false;
    let mut rtpmap = Vec::new();
    let mut direction = Direction::SendRecv;
    for (i, line) in body.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let malformed = SdpError::Malformed { line: i + 1 };
        let (kind, value) = line.split_once('=').ok_or(malformed.clone())?;
        match kind {
            "m" => {
                in_audio = false;
                let mut parts = value.split_ascii_whitespace();
                if parts.next() == Some("audio") && audio.is_none() {
                    let port = parts.next().and_then(|p| p.parse().ok()).ok_or(malformed)?;
                    let _proto = parts.next();
                    let formats = parts.filter_map(|f| f.parse().ok()).collect();
                    audio = Some((port, formats));
                    in_audio = true;
                }
            }
            "c" => {
                let ip = value
                    .split_ascii_whitespace()
                    .nth(2)
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.parse().ok())
                    .ok_or(malformed)?;
                if in_audio {
                    media_ip = Some(ip);
                } else if audio.is_none() {
                    session_ip = Some(ip);
                }
            }
            "a" if in_audio || audio.is_none() => {
                if let Some(d) = parse_direction(value) {
                    direction = d;
                } else if let Some(map) = value.strip_prefix("rtpmap:") {
                    if in_audio {
                        rtpmap.push(parse_rtpmap(map).ok_or(malformed)?);
                    }
                }
            }
            _ => {}
        }
    }
    let (port, formats) = audio.ok_or(SdpError::NoAudio)?;
    let ip = media_ip.or(session_ip).ok_or(SdpError::NoConnection)?;
    Ok(Audio {
        remote: SocketAddr::new(ip, port),
        formats,
        rtpmap,
        direction,
    })
}

fn parse_direction(value: &str) -> Option<Direction> {
    match value {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

fn parse_rtpmap(map: &str) -> Option<(u8, String, u32)> {
    let (pt, rest) = map.split_once(' ')?;
    let mut enc = rest.trim().split('/');
    let name = enc.next()?.to_ascii_lowercase();
    let rate = enc.next()?.parse().ok()?;
    Some((pt.trim().parse().ok()?, name, rate))
}

/// Answers an offer: the first G.711 codec in the peer's order, its telephone-event payload
/// type if any, ptime 20. `Err(NoCommonCodec)` means reply 488.
pub fn answer(offer: &str, local: LocalMedia) -> Result<(Negotiated, String), SdpError> {
    let audio = parse(offer)?;
    let (law, audio_pt) = audio.first_g711().ok_or(SdpError::NoCommonCodec)?;
    let negotiated = Negotiated {
        law,
        audio_pt,
        telephone_event: audio.telephone_event(),
        remote: audio.remote,
        direction: audio.direction.answer(),
    };
    let body = render(
        local,
        &[(audio_pt, law)],
        negotiated.telephone_event,
        negotiated.direction,
    );
    Ok((negotiated, body))
}

/// Our offer for an outbound call: PCMU, PCMA and telephone-event 101, ptime 20.
pub fn offer(local: LocalMedia) -> String {
    render(
        local,
        &[(0, Law::Pcmu), (8, Law::Pcma)],
        Some(OFFER_TELEPHONE_EVENT_PT),
        Direction::SendRecv,
    )
}

/// Reads the peer's answer to our [`offer`].
pub fn accept_answer(body: &str) -> Result<Negotiated, SdpError> {
    let audio = parse(body)?;
    let (law, audio_pt) = audio.first_g711().ok_or(SdpError::NoCommonCodec)?;
    Ok(Negotiated {
        law,
        audio_pt,
        telephone_event: audio.telephone_event(),
        remote: audio.remote,
        direction: audio.direction.answer(),
    })
}

fn render(local: LocalMedia, codecs: &[(u8, Law)], te: Option<u8>, dir: Direction) -> String {
    let ip = local.addr.ip();
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let mut pts: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    pts.extend(te.map(|pt| pt.to_string()));
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "v=0\r\no=carecall {} {} IN {family} {ip}\r\ns=carecall\r\nc=IN {family} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP {}\r\n",
        local.session_id,
        local.version,
        local.addr.port(),
        pts.join(" ")
    );
    for (pt, law) in codecs {
        let name = match law {
            Law::Pcmu => "PCMU",
            Law::Pcma => "PCMA",
        };
        let _ = write!(s, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    if let Some(pt) = te {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", dir.attribute());
    s
}

#[cfg(test)]
mod tests {
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
            parse("v=0\nc=IN IP4 nowhere\n"),
            Err(SdpError::Malformed { line: 2 })
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
}
