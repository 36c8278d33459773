//! RTP media for one call, as pure state machines: the runtime feeds received packets and
//! audio in and gets headers and digits out.
//!
//! Owns:
//! - [`packet`]: RTP header parse (zero-copy, typed errors) and write;
//! - [`sender`]: the outbound stream's sequence number, timestamp and SSRC across prompts
//!   and silences (20 ms frames, marker at each prompt start);
//! - [`g711`]: μ-law and A-law;
//! - the three DTMF transports, each yielding [`Digit`]s for the runtime to wrap in a
//!   [`DigitEvent`] with its [`DigitMethod`]: [`rfc4733`] telephone-events, [`info`] SIP INFO
//!   bodies, and [`inband`] tone detection in the decoded audio;
//! - [`leg`]: one call's media as a sans-IO core (packets and `now` in, frames and events
//!   out): symmetric latching, hold, media timeout, the choice of DTMF transport, AMD feeding,
//!   the prompt player.
//!
//! Must not touch: sockets, tokio, threads or the clock (`now` is an argument; the runtime's
//! workers wake every call on its 20 ms slot and move the bytes), SDP and SIP (payload types
//! come from the negotiated SDP as plain numbers), and logging of digits (digits are personal
//! data: types here that hold them print no digit in `Debug`, except [`Digit`] itself).

pub mod amd;
pub mod digit;
pub mod g711;
pub mod inband;
pub mod info;
pub mod leg;
pub mod packet;
pub mod rfc4733;
pub mod sender;

pub use digit::{Digit, DigitEvent, DigitMethod};
pub use inband::InbandDetector;
pub use info::{parse_info_body, InfoDtmfError};
pub use leg::{MediaEvent, MediaLeg, MediaParams};
pub use packet::{RtpExtension, RtpHeader, RtpPacket, RtpParseError, RtpWriteError};
pub use rfc4733::{NewDigits, TelephoneEvents};
pub use sender::{RtpSender, SAMPLES_PER_FRAME};
