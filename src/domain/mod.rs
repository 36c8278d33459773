//! carecall's domain model: the words every module shares (who placed a call, how a leg
//! ended), as plain types.
//!
//! Owns: value types and their labels. Must not touch: I/O, SQL, the SIP library, the clock;
//! it imports nothing from the rest of the crate, so `store/`, `schedule/`, `call/` and
//! `sip/` can all depend on it without depending on each other.

mod direction;
mod disposition;

pub use direction::Direction;
pub use disposition::Disposition;
