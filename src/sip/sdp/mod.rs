//! SDP offer/answer (RFC 3264) for one audio stream: PCMU or PCMA, `telephone-event/8000` on
//! whatever payload type the peer uses, ptime 20.
//!
//! The `sdp-types` crate parses and prints the RFC 8866 syntax (`read.rs`, `write.rs`, the only
//! files that name its types; see docs/dependencies.md); the negotiation here is carecall's:
//!
//! - every offered `m=` line gets one in the answer, in order; carecall takes the first audio
//!   stream it can use (port not 0, plain RTP, G.711 offered) and declines every other one,
//!   video and a second audio included, with port 0 (RFC 3264 §6);
//! - a stream's direction and `c=` are its own when it has them, else the session's
//!   (RFC 8866 §5.7, §6.7): an attribute of another stream never touches the audio;
//! - [`parse`] and [`answer`] are total: every input gives a value or a typed error.
//!
//! [`offer`] and [`accept_answer`] serve outbound calls.

mod read;
mod write;

use std::net::SocketAddr;

use crate::rtp::g711::Law;
use read::{Description, Stream};
use write::Line;

/// Why an SDP body could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not RFC 8866 syntax: `v=0` is not the first line, a line is not `x=value`, or a field
    /// that must be a number is not.
    #[error("malformed SDP line {line}")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// There is no `m=audio` section (an empty body included).
    #[error("no audio stream offered")]
    NoAudio,
    /// The audio stream has no connection address (`c=`) at session or media level.
    #[error("no connection address for the audio stream")]
    NoConnection,
    /// The audio stream's connection address is not an IP address (a host name is not
    /// resolved, and a malformed address is not guessed at).
    #[error("the audio stream's connection address is not an IP address")]
    UnusableConnection,
    /// No audio stream can be taken: none offers PCMU or PCMA on plain RTP with a port other
    /// than 0. The call gets 488 Not Acceptable Here.
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

/// The audio stream of a parsed SDP body: the one [`answer`] would take, else the first audio
/// stream offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// Where the peer wants RTP (an unspecified IP such as 0.0.0.0 means hold, RFC 2543 style).
    pub remote: SocketAddr,
    /// Payload types in the peer's order of preference.
    pub formats: Vec<u8>,
    /// `a=rtpmap` entries: payload type, encoding name (lower case), clock rate.
    pub rtpmap: Vec<(u8, String, u32)>,
    /// The stream's direction: its own attribute, else the session's, else sendrecv.
    pub direction: Direction,
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

/// Parses the audio stream of an SDP body: the one [`answer`] would take, or when none is usable
/// the first `m=audio` line. `Err(NoAudio)` when there is no audio stream (an empty body
/// included), `Err(Malformed)` on a syntax error, `Err(NoConnection)` or
/// `Err(UnusableConnection)` when the stream has no IP address to send to.
pub fn parse(body: &str) -> Result<Audio, SdpError> {
    let description = read::description(body)?;
    let stream = match pick(&description) {
        Ok(picked) => picked.stream,
        Err(SdpError::NoCommonCodec) => description
            .streams
            .iter()
            .find(|s| s.is_audio())
            .ok_or(SdpError::NoAudio)?,
        Err(e) => return Err(e),
    };
    Ok(Audio {
        remote: SocketAddr::new(stream.connection.clone()?, stream.port),
        formats: stream.formats.clone(),
        rtpmap: stream.rtpmap.clone(),
        direction: stream.direction,
    })
}

/// The audio stream carecall takes, where it is among the `m=` lines, and its codec.
struct Picked<'a> {
    index: usize,
    stream: &'a Stream,
    law: Law,
    audio_pt: u8,
}

impl Picked<'_> {
    /// What both sides agree on for this stream; `Err` when it has no IP address.
    fn negotiated(&self) -> Result<Negotiated, SdpError> {
        Ok(Negotiated {
            law: self.law,
            audio_pt: self.audio_pt,
            telephone_event: self.stream.telephone_event(),
            remote: SocketAddr::new(self.stream.connection.clone()?, self.stream.port),
            direction: self.stream.direction.answer(),
        })
    }
}

/// The first usable audio stream; `NoCommonCodec` when there is audio but none is usable,
/// `NoAudio` when there is no audio at all.
fn pick(description: &Description) -> Result<Picked<'_>, SdpError> {
    let found = description
        .streams
        .iter()
        .enumerate()
        .find_map(|(index, stream)| {
            let (law, audio_pt) = stream.usable_audio()?;
            Some(Picked {
                index,
                stream,
                law,
                audio_pt,
            })
        });
    match found {
        Some(picked) => Ok(picked),
        None if description.streams.iter().any(Stream::is_audio) => Err(SdpError::NoCommonCodec),
        None => Err(SdpError::NoAudio),
    }
}

/// Answers an offer: the first G.711 codec in the peer's order on the first usable audio
/// stream, its telephone-event payload type if any, ptime 20; one `m=` line per offered one,
/// every other stream declined with port 0. `Err(NoCommonCodec)` means reply 488; any other
/// error means the offer is unusable (488 on a new call, 400 on a re-INVITE).
pub fn answer(offer: &str, local: LocalMedia) -> Result<(Negotiated, String), SdpError> {
    let description = read::description(offer)?;
    let picked = pick(&description)?;
    let negotiated = picked.negotiated()?;
    let codecs = [(picked.audio_pt, picked.law)];
    let lines: Vec<Line<'_>> = description
        .streams
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == picked.index {
                Line::Audio {
                    proto: &s.proto,
                    codecs: &codecs,
                    telephone_event: negotiated.telephone_event,
                    direction: negotiated.direction,
                }
            } else {
                Line::Rejected {
                    media: &s.media,
                    proto: &s.proto,
                    fmt: &s.fmt,
                }
            }
        })
        .collect();
    Ok((negotiated, write::body(local, &lines)))
}

/// Our offer for an outbound call: PCMU, PCMA and telephone-event 101, ptime 20.
pub fn offer(local: LocalMedia) -> String {
    let line = Line::Audio {
        proto: "RTP/AVP",
        codecs: &[(0, Law::Pcmu), (8, Law::Pcma)],
        telephone_event: Some(OFFER_TELEPHONE_EVENT_PT),
        direction: Direction::SendRecv,
    };
    write::body(local, &[line])
}

/// Reads the peer's answer to our [`offer`]: its first usable audio stream. `Err` when the
/// answer declined the audio (port 0), or has no G.711 or no address: the call cannot go on.
pub fn accept_answer(body: &str) -> Result<Negotiated, SdpError> {
    let description = read::description(body)?;
    pick(&description)?.negotiated()
}

#[cfg(test)]
mod tests;
