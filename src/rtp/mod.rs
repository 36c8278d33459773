//! RTP media: packets, G.711, digits (RFC 4733 telephone-events, SIP INFO bodies, in-band
//! tones), and the sender state that keeps sequence, timestamp and SSRC continuous.
//! Pure code: no sockets, no clock; the runtime feeds packets and `now` in.

pub mod digit;
pub mod g711;
pub mod inband;
pub mod info;
pub mod packet;
pub mod rfc4733;
pub mod sender;

pub use digit::{Digit, DigitEvent, DigitMethod};
pub use inband::InbandDetector;
pub use info::{parse_info_body, InfoDtmfError};
pub use packet::{RtpExtension, RtpHeader, RtpPacket, RtpParseError, RtpWriteError};
pub use rfc4733::{NewDigits, TelephoneEvents};
pub use sender::{RtpSender, SAMPLES_PER_FRAME};
