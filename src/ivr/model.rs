//! The checked dialplan: what the loader produces and the interpreter runs.
//!
//! Every target is an index into [`Dialplan`]'s step list, every prompt was known to the
//! catalogue, every range fits its digit count and its report field. Nothing here can fail.

use std::time::Duration;

use crate::lang::Language;
use crate::rtp::Digit;

use super::answer::{AnswerValue, QuestionId};
use super::event::{CallOutcome, PromptId};

/// A loaded, checked dialplan. Build one with [`super::load_file`] or [`super::parse`].
#[derive(Debug, Clone)]
pub struct Dialplan {
    pub(super) id: String,
    pub(super) version: u32,
    pub(super) start: StepIdx,
    pub(super) steps: Vec<Step>,
    pub(super) questions: Vec<Question>,
}

impl Dialplan {
    /// The dialplan's id (`[dialplan] id`), recorded in call records.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The dialplan's version (`[dialplan] version`), recorded in call records.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The questions this dialplan asks, in order.
    pub fn question_ids(&self) -> impl Iterator<Item = &QuestionId> {
        self.questions.iter().map(|q| &q.id)
    }

    /// The ids of all steps, in the order the dialplan lists them.
    pub fn step_ids(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|s| s.id.as_str())
    }

    /// The step at `idx`; indices only come from the loader, so it exists.
    pub(super) fn step(&self, idx: StepIdx) -> &Step {
        &self.steps[idx.0]
    }
}

/// The position of a step in [`Dialplan::steps`]; only the loader creates these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct StepIdx(pub(super) usize);

/// One step: its id (for call records and errors) and what it does.
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub(super) id: String,
    pub(super) kind: StepKind,
}

/// What a step does.
#[derive(Debug, Clone)]
pub(super) enum StepKind {
    /// Play prompts, then go on. A key interrupts and counts as input to the next step.
    Play {
        prompts: Vec<PromptId>,
        barge_in: bool,
        next: StepIdx,
    },
    /// Play one prompt in each language; key 1–8 picks the language.
    LanguageMenu {
        prompt: PromptId,
        repeats: u8,
        default: Language,
        input: InputPolicy,
        next: StepIdx,
    },
    /// Play prompts and branch on one key.
    Menu(Menu),
    /// Collect a HER-SYS ID or a birthday.
    Collect {
        into: Slot,
        prompts: Vec<PromptId>,
        length: Length,
        input: InputPolicy,
        next: StepIdx,
        on_exhausted: StepIdx,
    },
    /// Ask the call layer to identify the caller from the collected ID and birthday.
    Identify(Identify),
    /// Ask every question of the dialplan in order, then report complete and go on.
    Questions { next: StepIdx },
    /// Play prompts, then hang up.
    Hangup {
        prompts: Vec<PromptId>,
        outcome: CallOutcome,
    },
}

/// A one-key menu.
#[derive(Debug, Clone)]
pub(super) struct Menu {
    pub(super) prompts: Vec<PromptId>,
    pub(super) options: Vec<MenuOption>,
    pub(super) repeats: u8,
    pub(super) on_no_input: StepIdx,
    pub(super) on_other_key: Option<StepIdx>,
    pub(super) input: InputPolicy,
}

/// One key of a menu.
#[derive(Debug, Clone)]
pub(super) struct MenuOption {
    pub(super) key: u8,
    pub(super) action: Option<MenuAction>,
    pub(super) goto: StepIdx,
}

/// A call-level event a menu key raises before going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum MenuAction {
    /// [`super::Action::NewReport`].
    NewReport,
    /// [`super::Action::WrongNumber`].
    WrongNumber,
}

/// The identification step.
#[derive(Debug, Clone)]
pub(super) struct Identify {
    pub(super) on_confirmed: StepIdx,
    pub(super) on_not_confirmed: StepIdx,
    pub(super) not_confirmed_prompt: PromptId,
    pub(super) max_failures: u8,
    pub(super) on_too_many_failures: StepIdx,
    /// Where the call goes when the store could not check the keys (not a failure).
    pub(super) on_unavailable: StepIdx,
}

/// Where a collected entry goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Slot {
    /// The HER-SYS ID (digits).
    HersysId,
    /// The birthday (MMDD, a calendar date).
    Birthday,
}

/// How many digits an entry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    /// Exactly this many; the entry is complete at the last one.
    Fixed(u8),
    /// Between `min` and `max`, ended by the terminator or the inter-digit pause.
    Variable { min: u8, max: u8 },
}

/// Timeouts, attempts, reprompts and barge-in for one input step (dialplan defaults with the
/// step's overrides applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InputPolicy {
    pub(super) first_digit: Duration,
    pub(super) inter_digit: Duration,
    pub(super) terminator: Digit,
    pub(super) attempts: u8,
    pub(super) barge_in: bool,
    pub(super) no_input: PromptId,
    pub(super) invalid_input: PromptId,
    pub(super) skipped: PromptId,
}

/// One question of the shared question list.
#[derive(Debug, Clone)]
pub(super) struct Question {
    pub(super) id: QuestionId,
    pub(super) prompts: Vec<PromptId>,
    pub(super) input: InputPolicy,
    pub(super) kind: QuestionKind,
}

/// How a question is answered.
#[derive(Debug, Clone)]
pub(super) enum QuestionKind {
    /// A keyed number checked against a range, optionally read back and confirmed.
    Number(NumberQuestion),
    /// One key from a table.
    Choice(Vec<(u8, AnswerValue)>),
}

/// A keyed number question.
#[derive(Debug, Clone)]
pub(super) struct NumberQuestion {
    pub(super) length: Length,
    pub(super) min: u32,
    pub(super) max: u32,
    pub(super) hash_alone_not_measured: bool,
    pub(super) read_back: Vec<ReadBackItem>,
}

/// One item of a read-back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ReadBackItem {
    /// A prompt.
    Prompt(PromptId),
    /// The number keyed (`"$value"` in the dialplan).
    Value,
}
