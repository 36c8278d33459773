//! Reading an SDP body: the `sdp-types` crate parses RFC 8866 syntax, this file turns its
//! session into carecall's view, one [`Stream`] per `m=` line with the session-level defaults
//! already applied (RFC 8866 §5.7 for `c=`, §6.7 for the direction attributes): a media-level
//! value overrides the session-level one for its own stream and for no other.
//!
//! Only this file and `write.rs` name the crate's types.

use std::net::IpAddr;

use sdp_types::{ParserError, TransportProto};

use super::{Direction, SdpError};
use crate::rtp::g711::Law;

/// A parsed body: its streams in `m=` line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Description {
    pub streams: Vec<Stream>,
}

/// One `m=` line, with session-level `c=` and direction applied when it has none of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stream {
    /// The media type as written (`audio`, `video`, `image`, …).
    pub media: String,
    /// The transport port; 0 means the stream is disabled (RFC 3264 §5.1).
    pub port: u16,
    /// The transport protocol as written (`RTP/AVP`, `udptl`, …).
    pub proto: String,
    /// The format list as written, echoed by the line that rejects this stream.
    pub fmt: String,
    /// Whether `proto` is plain RTP, which carecall speaks (`RTP/AVP`, or `RTP/AVPF` whose
    /// feedback messages are optional).
    pub plain_rtp: bool,
    /// The numeric payload types of `fmt`, in the peer's order of preference.
    pub formats: Vec<u8>,
    /// `a=rtpmap` entries of this stream: payload type, encoding name (lower case), clock
    /// rate. An entry that does not parse is left out.
    pub rtpmap: Vec<(u8, String, u32)>,
    /// The stream's direction: its own attribute, else the session's, else sendrecv.
    pub direction: Direction,
    /// The connection address: the stream's own `c=`, else the session's.
    pub connection: Result<IpAddr, SdpError>,
}

impl Stream {
    /// The encoding of payload type `pt`: its rtpmap, or the RFC 3551 static assignment.
    pub fn encoding(&self, pt: u8) -> Option<(&str, u32)> {
        if let Some((_, name, rate)) = self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
            return Some((name.as_str(), *rate));
        }
        match pt {
            0 => Some(("pcmu", 8000)),
            8 => Some(("pcma", 8000)),
            _ => None,
        }
    }

    /// The first G.711 codec in the peer's order, at 8000 Hz.
    pub fn first_g711(&self) -> Option<(Law, u8)> {
        self.formats.iter().find_map(|&pt| match self.encoding(pt) {
            Some(("pcmu", 8000)) => Some((Law::Pcmu, pt)),
            Some(("pcma", 8000)) => Some((Law::Pcma, pt)),
            _ => None,
        })
    }

    /// The peer's telephone-event payload type at 8000 Hz, if offered.
    pub fn telephone_event(&self) -> Option<u8> {
        self.formats
            .iter()
            .copied()
            .find(|&pt| self.encoding(pt) == Some(("telephone-event", 8000)))
    }

    /// Whether this is an audio stream at all (usable or not).
    pub fn is_audio(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio")
    }

    /// The codec carecall would use on this stream, when it can take the stream: audio,
    /// enabled (port not 0), plain RTP, with G.711 among its formats.
    pub fn usable_audio(&self) -> Option<(Law, u8)> {
        if !self.is_audio() || self.port == 0 || !self.plain_rtp {
            return None;
        }
        self.first_g711()
    }
}

/// Parses `body` (RFC 8866 syntax, `v=` first). A body with no line at all is a description
/// without streams; a syntax error names its 1-based line.
pub(super) fn description(body: &str) -> Result<Description, SdpError> {
    if body.trim().is_empty() {
        return Ok(Description { streams: vec![] });
    }
    let session = sdp_types::Session::parse(body.as_bytes()).map_err(malformed)?;
    let session_connection = session.connection.as_ref();
    let session_direction = direction_of(&session.attributes);
    let streams = session
        .medias
        .iter()
        .map(|m| {
            let connection = match m.connections.first().or(session_connection) {
                None => Err(SdpError::NoConnection),
                Some(c) => c
                    .try_address()
                    .map(|a| a.ip)
                    .map_err(|_| SdpError::UnusableConnection),
            };
            Stream {
                media: m.media.clone(),
                port: m.port,
                proto: m.proto.clone(),
                fmt: m.fmt.clone(),
                plain_rtp: matches!(
                    m.parse_transport_proto(),
                    TransportProto::RtpAvp | TransportProto::RtpAvpf
                ),
                formats: m
                    .fmt
                    .split_ascii_whitespace()
                    .filter_map(|f| f.parse().ok())
                    .collect(),
                rtpmap: m
                    .attributes_typed::<sdp_types::RtpMap>()
                    .filter_map(Result::ok)
                    .map(|r| {
                        let name = r.encoding_name.to_ascii_lowercase();
                        (r.payload_type, name, r.clock_rate)
                    })
                    .collect(),
                direction: direction_of(&m.attributes)
                    .or(session_direction)
                    .unwrap_or(Direction::SendRecv),
                connection,
            }
        })
        .collect();
    Ok(Description { streams })
}

/// The first direction attribute among `attributes` (RFC 8866 §6.7 allows one per level).
fn direction_of(attributes: &[sdp_types::Attribute]) -> Option<Direction> {
    attributes
        .iter()
        .filter(|a| a.value.is_none())
        .find_map(|a| match a.attribute.parse::<sdp_types::Direction>() {
            Ok(sdp_types::Direction::SendRecv) => Some(Direction::SendRecv),
            Ok(sdp_types::Direction::SendOnly) => Some(Direction::SendOnly),
            Ok(sdp_types::Direction::RecvOnly) => Some(Direction::RecvOnly),
            Ok(sdp_types::Direction::Inactive) => Some(Direction::Inactive),
            Err(_) => None,
        })
}

/// The line a parser error names (a missing `v=` is the first line's fault).
fn malformed(e: ParserError) -> SdpError {
    #[allow(deprecated)]
    let line = match e {
        ParserError::UnexpectedLine(n, _)
        | ParserError::InvalidLineFormat(n, _)
        | ParserError::InvalidFieldEncoding(n, _)
        | ParserError::InvalidFieldFormat(n, _)
        | ParserError::MissingField(n, _)
        | ParserError::FieldTrailingData(n, _)
        | ParserError::InvalidVersion(n, _)
        | ParserError::MultipleVersions(n)
        | ParserError::MultipleOrigins(n)
        | ParserError::MultipleSessionNames(n)
        | ParserError::MultipleSessionDescription(n)
        | ParserError::MultipleUris(n)
        | ParserError::MultipleConnections(n)
        | ParserError::MultipleTimeZones(n)
        | ParserError::MultipleMediaTitles(n)
        | ParserError::MultipleKeys(n)
        | ParserError::RepeatWithoutTime(n) => n,
        ParserError::NoVersion | ParserError::NoOrigin | ParserError::NoSessionName => 1,
    };
    SdpError::Malformed { line }
}
