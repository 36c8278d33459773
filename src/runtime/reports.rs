//! One call's side of the report store: identification, the current report, each answer
//! committed as it is confirmed, and the call record at hang-up.

use crate::call::{CallFlow, CallInput, Direction};
use crate::ivr::{Action, Identification};
use crate::lang::Language;

/// The report-store state of one call.
pub(super) struct CallReports {
    direction: Direction,
    language: Language,
    identified: bool,
    answers: usize,
}

impl CallReports {
    pub(super) fn new(direction: Direction, language: Language) -> Self {
        CallReports {
            direction,
            language,
            identified: false,
            answers: 0,
        }
    }

    /// Carries out a store-side action; returns the input it produces for the flow, if any.
    pub(super) async fn carry_out(&mut self, action: Action) -> Option<CallInput> {
        match action {
            Action::SetLanguage(lang) => {
                self.language = lang;
                None
            }
            Action::Identify { .. } => {
                tracing::warn!("no report store: caller not identified");
                Some(CallInput::Identified(Identification::NotConfirmed))
            }
            Action::StoreAnswer { question, .. } => {
                self.answers += 1;
                tracing::info!(question = question.as_str(), "answer confirmed");
                None
            }
            Action::ReportComplete | Action::NewReport | Action::WrongNumber => None,
            Action::Play(_) | Action::StopPlayback | Action::Hangup(_) => None,
        }
    }

    /// Records how the call ended.
    pub(super) fn finish(&mut self, flow: &dyn CallFlow) {
        let (dialplan, version, step) = flow.position();
        tracing::info!(
            direction = self.direction.label(),
            language = self.language.code(),
            identified = self.identified,
            answers = self.answers,
            dialplan,
            version,
            step,
            outcome = ?flow.outcome(),
            "call finished"
        );
    }
}
