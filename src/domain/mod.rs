//! carecall's domain model: the words every module shares, as plain types: row ids, who
//! placed a call, how a leg ended, the report fields, a patient's call settings and priority,
//! and an automatic-call attempt with where it stands and how it ended.
//!
//! Owns: value types, their labels and their pure rules. Must not touch: I/O, SQL, the SIP
//! library, the clock; it imports nothing from the rest of the crate but the value types of
//! `report` (dates, slots) and `lang`, so `store/`, `schedule/`, `call/` and `sip/` can all
//! depend on it without depending on each other. `store/` maps its rows to these types and
//! `schedule/` takes and returns them.

mod attempt;
mod direction;
mod disposition;
mod finish;
mod ids;
mod patient;
mod report_field;

pub use attempt::{Attempt, AttemptState, Claim};
pub use direction::Direction;
pub use disposition::Disposition;
pub use finish::{AttemptOutcome, CancelReason, Finish, MissReason};
pub use ids::{AlertId, AttemptId, CentreId, PatientId, ReportId, StaffId};
pub use patient::{PatientSettings, Period, Priority, RiskFactors};
pub use report_field::{FieldKind, ReportField};
