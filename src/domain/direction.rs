//! Who placed a call.

/// Whether carecall or the patient placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The patient called carecall (Health Call).
    Inbound,
    /// carecall called the patient (automatic call).
    Outbound,
}

impl Direction {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}
