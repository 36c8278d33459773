//! What goes into the interpreter ([`Input`]) and what comes out ([`Action`]).
//!
//! Keyed digits, HER-SYS IDs, birthdays, answers and read-back numbers are personal data:
//! every `Debug` here hides them.

use std::fmt;

use crate::lang::Language;
use crate::pii::Redacted;
use crate::rtp::Digit;

use super::answer::{AnswerValue, QuestionId};

/// Something that happened on the call, fed to [`super::Interpreter::handle_input`].
#[derive(Clone, PartialEq, Eq)]
pub enum Input {
    /// The call is answered and media flows: the dialplan starts. Must come first.
    Started,
    /// The last [`Action::Play`] ran to its end. Not sent for a playback that was stopped by
    /// [`Action::StopPlayback`]; a `PromptsDone` while nothing is playing is ignored.
    PromptsDone,
    /// The caller pressed a key (from any DTMF transport).
    Digit(Digit),
    /// The answer to the last [`Action::Identify`].
    IdentifyResult(Identification),
    /// The caller hung up (or the call dropped). No action follows.
    Hangup,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Started => f.write_str("Started"),
            Input::PromptsDone => f.write_str("PromptsDone"),
            Input::Digit(_) => f.write_str("Digit([redacted])"),
            Input::IdentifyResult(r) => write!(f, "IdentifyResult({r:?})"),
            Input::Hangup => f.write_str("Hangup"),
        }
    }
}

/// Whether the HER-SYS ID and birthday keyed in matched a patient allowed to use Health Call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identification {
    /// They matched: the report is for this patient.
    Confirmed,
    /// No match, a locked ID, or anything else that is not a match. The caller hears one
    /// message whatever the reason.
    NotConfirmed,
    /// The store failed or did not answer in time, so nobody could check the keys. Not a
    /// failure: it does not count towards `max_failures` and the call goes to the step's
    /// `on_unavailable`.
    Unavailable,
}

/// What the call layer must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these items one after another, then send [`Input::PromptsDone`].
    Play(Vec<PlayItem>),
    /// Stop the current playback at once (barge-in). No `PromptsDone` for it.
    StopPlayback,
    /// From now on, prompts without a language override are in this language.
    SetLanguage(Language),
    /// Look up the patient; answer with [`Input::IdentifyResult`].
    Identify {
        /// The HER-SYS ID as keyed (digits only).
        hersys_id: Redacted<String>,
        /// The birthday as keyed.
        birthday: Redacted<Mmdd>,
    },
    /// Store this confirmed answer in the current report now.
    StoreAnswer {
        /// The question, which is also the report field.
        question: QuestionId,
        /// The value to store.
        value: AnswerValue,
    },
    /// Every question of the current report has been answered or skipped.
    ReportComplete,
    /// The caller reports for another person: the next identification starts a new report.
    NewReport,
    /// The person called says this is the wrong number: stop calling it and flag it for staff.
    WrongNumber,
    /// Hang up; the call ended with this outcome.
    Hangup(CallOutcome),
}

/// One item of a [`Action::Play`].
#[derive(Clone, PartialEq, Eq)]
pub enum PlayItem {
    /// A prompt from the catalogue.
    Prompt {
        /// The prompt id (`prompts/<lang>/<id>.wav`).
        id: PromptId,
        /// Play it in this language instead of the call language (the language menu).
        language: Option<Language>,
    },
    /// A number spoken in the call language (read-back of a keyed value).
    Number(SpokenNumber),
}

impl PlayItem {
    /// A prompt in the call language.
    pub fn prompt(id: &str) -> PlayItem {
        PlayItem::Prompt {
            id: PromptId::new(id),
            language: None,
        }
    }

    /// A prompt in a given language, whatever the call language is.
    pub fn prompt_in(id: &str, language: Language) -> PlayItem {
        PlayItem::Prompt {
            id: PromptId::new(id),
            language: Some(language),
        }
    }
}

impl fmt::Debug for PlayItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlayItem::Prompt { id, language: None } => write!(f, "{}", id.as_str()),
            PlayItem::Prompt {
                id,
                language: Some(l),
            } => write!(f, "{}@{}", id.as_str(), l.code()),
            PlayItem::Number(_) => f.write_str("Number([redacted])"),
        }
    }
}

/// A number to be spoken; the call layer maps it to `media::say`.
#[derive(Clone, PartialEq, Eq)]
pub enum SpokenNumber {
    /// A whole number ("ninety-seven").
    Integer(u32),
    /// Tenths, spoken with one decimal (`365` → "thirty-six point five").
    Tenths(u32),
}

impl fmt::Debug for SpokenNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpokenNumber([redacted])")
    }
}

/// The id of a prompt in the catalogue, e.g. `q_temperature`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(String);

impl PromptId {
    /// Wraps an id; whether it exists is checked when a dialplan is loaded.
    pub fn new(id: &str) -> PromptId {
        PromptId(id.to_owned())
    }

    /// The id as written in dialplans and file names.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a call ended, as far as the dialplan knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The report (or every report, on Health Call) was completed.
    Completed,
    /// The caller hung up in the middle of a report; the answers stored so far are kept.
    Incomplete,
    /// Nobody pressed a key at the greeting (counts as unanswered).
    NoResponse,
    /// The person called said it is the wrong number.
    WrongNumber,
    /// Health Call identification failed too often, or no ID or birthday was keyed.
    NotIdentified,
    /// The caller hung up before a report started.
    Abandoned,
    /// Health Call identification could not reach the report store (it failed or did not
    /// answer in time); the caller was asked to call again later.
    StoreUnavailable,
}

/// A birthday as keyed on Health Call: month and day, checked as a calendar date (29 February
/// allowed).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mmdd {
    month: u8,
    day: u8,
}

impl Mmdd {
    /// The date for a month (1–12) and day (1 up to the month's length); `None` otherwise.
    pub fn new(month: u8, day: u8) -> Option<Mmdd> {
        let days = match month {
            2 => 29,
            4 | 6 | 9 | 11 => 30,
            1..=12 => 31,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(Mmdd { month, day })
    }

    /// Parses four keyed digits `MMDD`; `None` for anything else.
    pub fn from_digits(digits: &str) -> Option<Mmdd> {
        let b = digits.as_bytes();
        if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        Mmdd::new(two(0), two(2))
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Debug for Mmdd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mmdd([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays_are_calendar_dates() {
        let d = Mmdd::from_digits("0415").unwrap();
        assert_eq!((d.month(), d.day()), (4, 15));
        assert!(Mmdd::from_digits("0229").is_some());
        assert!(Mmdd::from_digits("1231").is_some());
        assert!(Mmdd::from_digits("1301").is_none());
        assert!(Mmdd::from_digits("0001").is_none());
        assert!(Mmdd::from_digits("0100").is_none());
        assert!(Mmdd::from_digits("0230").is_none());
        assert!(Mmdd::from_digits("0431").is_none());
        assert!(Mmdd::from_digits("041").is_none());
        assert!(Mmdd::from_digits("04a5").is_none());
    }

    #[test]
    fn debug_hides_personal_data() {
        let digit = format!("{:?}", Input::Digit(Digit::Num(7)));
        assert_eq!(digit, "Digit([redacted])");
        let identify = Action::Identify {
            hersys_id: Redacted::new("12345678".to_owned()),
            birthday: Redacted::new(Mmdd::new(4, 15).unwrap()),
        };
        let shown = format!("{identify:?}");
        assert!(!shown.contains("1234") && !shown.contains("15"), "{shown}");
        let play = Action::Play(vec![
            PlayItem::prompt("confirm_temperature"),
            PlayItem::Number(SpokenNumber::Tenths(365)),
        ]);
        assert_eq!(
            format!("{play:?}"),
            "Play([confirm_temperature, Number([redacted])])"
        );
    }
}
