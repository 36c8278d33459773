//! How an outbound call attempt ended, from SIP's final response (SPEC §7 call progress):
//! the type lives in [`crate::domain`]; this path stays for the SIP side's readers.

pub use crate::domain::Disposition;
