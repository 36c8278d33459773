//! RTP media: packets, G.711, digits (RFC 4733 telephone-events, SIP INFO bodies, in-band
//! tones), and the sender state that keeps sequence, timestamp and SSRC continuous.
//! Pure code: no sockets, no clock; the runtime feeds packets and `now` in.

pub mod digit;
pub mod g711;

pub use digit::{Digit, DigitEvent, DigitMethod};
