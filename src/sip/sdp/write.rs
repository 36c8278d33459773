//! Printing carecall's offers and answers through the `sdp-types` crate's writer: one session
//! with our `o=`, `s=carecall`, a session-level `c=` and `t=0 0`, then the `m=` lines.

use sdp_types::{
    Attribute, Connection, Media, MediaType, Origin, RtpMap, Session, Time, TransportProto,
};

use super::{Direction, LocalMedia};
use crate::rtp::g711::Law;

/// An `m=` line of ours.
pub(super) enum Line<'a> {
    /// The audio stream carecall sends and receives.
    Audio {
        /// The transport protocol, echoing the offer's (`RTP/AVP` in our offers).
        proto: &'a str,
        /// Codecs in our order of preference.
        codecs: &'a [(u8, Law)],
        /// The telephone-event payload type, if any.
        telephone_event: Option<u8>,
        /// Our direction.
        direction: Direction,
    },
    /// An offered stream carecall declines (RFC 3264 §6): the same media type, protocol and
    /// formats, port 0, no attributes.
    Rejected {
        media: &'a str,
        proto: &'a str,
        fmt: &'a str,
    },
}

/// The body for `lines`, in order, from `local`'s address and `o=` values.
pub(super) fn body(local: LocalMedia, lines: &[Line<'_>]) -> String {
    let ip = local.addr.ip();
    let mut origin = Origin::with_ip_addr(local.session_id, local.version, ip);
    origin.set_username("carecall");
    let mut session = Session::new(origin, "carecall");
    session.connection = Some(Connection::from_ip_addr(ip));
    session.times.push(Time::new(0, 0));
    session.medias = lines.iter().map(|l| media(local, l)).collect();
    session.to_string()
}

fn media(local: LocalMedia, line: &Line<'_>) -> Media {
    match *line {
        Line::Rejected { media, proto, fmt } => {
            let mut m = stream(0, proto, fmt);
            m.media = media.to_owned();
            m
        }
        Line::Audio {
            proto,
            codecs,
            telephone_event,
            direction,
        } => {
            let pts = codecs
                .iter()
                .map(|(pt, _)| *pt)
                .chain(telephone_event)
                .map(|pt| pt.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            let mut m = stream(local.addr.port(), proto, pts);
            for (pt, law) in codecs {
                let name = match law {
                    Law::Pcmu => "PCMU",
                    Law::Pcma => "PCMA",
                };
                m.add_attribute(RtpMap::new(*pt, name, 8000));
            }
            if let Some(pt) = telephone_event {
                m.add_attribute(RtpMap::new(pt, "telephone-event", 8000));
                m.add_attribute(Attribute::with_value("fmtp", format!("{pt} 0-16")));
            }
            m.add_attribute(Attribute::with_value("ptime", "20"));
            m.add_attribute(Attribute::new(direction.attribute()));
            m
        }
    }
}

/// An audio `m=` line on `port` with `proto` and `fmt` kept as written, no attributes yet.
fn stream(port: u16, proto: &str, fmt: impl ToString) -> Media {
    let mut m = Media::new(MediaType::Audio, port, TransportProto::RtpAvp, fmt);
    m.proto = proto.to_owned();
    m
}
