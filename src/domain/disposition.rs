//! How a call leg ended: the disposition call records, metrics and the scheduler name.

/// The disposition of a call leg, as call records and metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Answered (2xx).
    Answered,
    /// Rang out: 480, 408, a ring timeout that carecall cancelled (487), or no response.
    NoAnswer,
    /// 486 Busy Here or 600 Busy Everywhere.
    Busy,
    /// 603 Decline: the patient rejected the call.
    Rejected,
    /// 404, 484, 410, 604: the number does not exist.
    Unreachable,
    /// 5xx, 6xx other than the above, and any other failure (transport, auth).
    Failed,
    /// Answered by an answering machine (decided from the audio, not from SIP).
    AnsweringMachine,
    /// Cancelled by the caller before the answer (inbound legs).
    Cancelled,
}

impl Disposition {
    /// Every disposition, in the order metrics list them.
    pub const ALL: [Disposition; 8] = [
        Disposition::Answered,
        Disposition::NoAnswer,
        Disposition::Busy,
        Disposition::Rejected,
        Disposition::Unreachable,
        Disposition::Failed,
        Disposition::AnsweringMachine,
        Disposition::Cancelled,
    ];

    /// The disposition for a final SIP status of an INVITE carecall sent.
    /// `cancelled_by_us` is true when carecall sent CANCEL on ring timeout.
    pub fn from_final_status(status: u16, cancelled_by_us: bool) -> Disposition {
        match status {
            200..=299 => Disposition::Answered,
            487 if cancelled_by_us => Disposition::NoAnswer,
            408 | 480 => Disposition::NoAnswer,
            486 | 600 => Disposition::Busy,
            603 => Disposition::Rejected,
            404 | 410 | 484 | 604 => Disposition::Unreachable,
            _ => Disposition::Failed,
        }
    }

    /// The label used in metrics and call records.
    pub fn label(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::NoAnswer => "no_answer",
            Disposition::Busy => "busy",
            Disposition::Rejected => "rejected",
            Disposition::Unreachable => "unreachable",
            Disposition::Failed => "failed",
            Disposition::AnsweringMachine => "answering_machine",
            Disposition::Cancelled => "cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_responses_map_to_distinct_outcomes() {
        use Disposition::*;
        let cases = [
            (200, false, Answered),
            (486, false, Busy),
            (600, false, Busy),
            (480, false, NoAnswer),
            (408, false, NoAnswer),
            (487, true, NoAnswer),
            (487, false, Failed),
            (603, false, Rejected),
            (404, false, Unreachable),
            (484, false, Unreachable),
            (503, false, Failed),
            (500, false, Failed),
        ];
        for (status, cancelled, want) in cases {
            assert_eq!(
                Disposition::from_final_status(status, cancelled),
                want,
                "{status}"
            );
        }
    }
}
