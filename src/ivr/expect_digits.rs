//! Collecting a keyed entry: a HER-SYS ID, a birthday, or a number question's value.
//! Timers, barge-in, leading `*`, reprompts and the attempt count live here; what a complete
//! entry means is decided by its purpose.

use crate::rtp::Digit;

use super::answer::AnswerValue;
use super::entry::{Entry, Progress};
use super::event::{Mmdd, PromptId};
use super::interp::{goto, items, Ctx, Intro, State};
use super::model::{Dialplan, InputPolicy, Length, QuestionKind, Slot, StepIdx, StepKind};
use super::question::{Cursor, ExpectConfirm};
use super::timer::Timer;

/// What an entry is for.
#[derive(Clone, Copy)]
pub(super) enum DigitsFor {
    /// A collect step (ID or birthday).
    Collect(StepIdx),
    /// A number question.
    Question(Cursor),
}

/// Waiting for the digits of an entry.
pub(super) struct ExpectDigits {
    purpose: DigitsFor,
    entry: Entry,
    playing: bool,
    failures: u8,
}

/// The parts of a step or question that drive an entry.
struct Spec<'p> {
    prompts: &'p [PromptId],
    input: &'p InputPolicy,
    length: Length,
}

impl DigitsFor {
    fn spec<'p>(&self, plan: &'p Dialplan) -> Option<Spec<'p>> {
        match self {
            DigitsFor::Collect(step) => match &plan.step(*step).kind {
                StepKind::Collect {
                    prompts,
                    length,
                    input,
                    ..
                } => Some(Spec {
                    prompts,
                    input,
                    length: *length,
                }),
                _ => None,
            },
            DigitsFor::Question(cursor) => {
                let q = cursor.question(plan)?;
                match &q.kind {
                    QuestionKind::Number(n) => Some(Spec {
                        prompts: &q.prompts,
                        input: &q.input,
                        length: n.length,
                    }),
                    QuestionKind::Choice(_) => None,
                }
            }
        }
    }
}

impl ExpectDigits {
    /// Starts a fresh entry, after `intro`; `failures` carries over the item's failed tries.
    pub fn enter(purpose: DigitsFor, failures: u8, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(spec) = purpose.spec(plan) else {
            return State::Idle;
        };
        let playing = cx.listen(intro.with(items(spec.prompts)), spec.input);
        State::ExpectDigits(ExpectDigits {
            purpose,
            entry: Entry::default(),
            playing,
            failures,
        })
    }

    /// The prompts ended: the first-digit timer starts.
    pub fn on_prompts_done(mut self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let Some(spec) = self.purpose.spec(plan) {
            cx.prompts_done(&mut self.playing, spec.input);
        }
        State::ExpectDigits(self)
    }

    /// A key: a leading `*` is ignored; otherwise it stops the prompts (barge-in), joins the entry
    /// and restarts the inter-digit timer, or ends the entry.
    pub fn on_digit(mut self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(spec) = self.purpose.spec(plan) else {
            return State::ExpectDigits(self);
        };
        let leading_star = d == Digit::Star && self.entry.is_fresh();
        if leading_star && spec.input.terminator != Digit::Star {
            return State::ExpectDigits(self);
        }
        if !cx.take_key(&mut self.playing, spec.input) {
            return State::ExpectDigits(self);
        }
        cx.timers.cancel(Timer::InterDigit);
        match self.entry.push(d, spec.length, spec.input.terminator) {
            Progress::More | Progress::Ignored => {
                cx.timers
                    .set(Timer::InterDigit, cx.now + spec.input.inter_digit);
                State::ExpectDigits(self)
            }
            p => self.finish(p, cx),
        }
    }

    /// First-digit timer: no input. Inter-digit timer: the entry ends where it is.
    pub fn on_timer(mut self, timer: Timer, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(spec) = self.purpose.spec(plan) else {
            return State::ExpectDigits(self);
        };
        match timer {
            Timer::FirstDigit => {
                let prompt = spec.input.no_input.clone();
                self.fail(&prompt, cx)
            }
            Timer::InterDigit => {
                let progress = self.entry.pause(spec.length);
                self.finish(progress, cx)
            }
        }
    }

    /// A complete, empty or invalid entry.
    fn finish(self, progress: Progress, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(spec) = self.purpose.spec(plan) else {
            return State::ExpectDigits(self);
        };
        let invalid = spec.input.invalid_input.clone();
        let accepted = match (progress, self.purpose) {
            (Progress::Complete(digits), DigitsFor::Collect(step)) => collected(step, digits, cx),
            (Progress::Complete(digits), DigitsFor::Question(cursor)) => {
                cursor.number_entered(&digits, self.failures, cx)
            }
            (Progress::Empty, DigitsFor::Question(cursor)) => cursor.hash_alone(cx),
            _ => None,
        };
        match accepted {
            Some(next) => next,
            None => self.fail(&invalid, cx),
        }
    }

    /// A failed try: reprompt after `prompt`, or give up once the attempts are used.
    fn fail(self, prompt: &PromptId, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(spec) = self.purpose.spec(plan) else {
            return State::ExpectDigits(self);
        };
        let failures = self.failures.saturating_add(1);
        if failures < spec.input.attempts {
            return ExpectDigits::enter(self.purpose, failures, Intro::after(prompt), cx);
        }
        match self.purpose {
            DigitsFor::Collect(step) => match &plan.step(step).kind {
                StepKind::Collect { on_exhausted, .. } => goto(*on_exhausted, Intro::default(), cx),
                _ => State::ExpectDigits(self),
            },
            DigitsFor::Question(cursor) => cursor.skip(cx),
        }
    }
}

/// Keeps a complete ID or birthday and goes on; `None` when the birthday is not a date.
fn collected(step: StepIdx, digits: String, cx: &mut Ctx<'_>) -> Option<State> {
    let plan = cx.plan;
    let StepKind::Collect { into, next, .. } = &plan.step(step).kind else {
        return None;
    };
    match into {
        Slot::HersysId => cx.call.hersys_id = Some(digits),
        Slot::Birthday => cx.call.birthday = Some(Mmdd::from_digits(&digits)?),
    }
    Some(goto(*next, Intro::default(), cx))
}

/// A number question's value, read back for confirmation or stored at once.
pub(super) fn read_back_or_store(cursor: Cursor, n: u32, failures: u8, cx: &mut Ctx<'_>) -> State {
    let plan = cx.plan;
    let needs_confirm = cursor
        .question(plan)
        .is_some_and(|q| matches!(&q.kind, QuestionKind::Number(n) if !n.read_back.is_empty()));
    if needs_confirm {
        return ExpectConfirm::enter(cursor, n, failures, Intro::default(), cx);
    }
    let value = cursor
        .question(plan)
        .and_then(|q| q.id.kind().number_value(n));
    cursor.store(value.unwrap_or(AnswerValue::Unanswered), cx)
}
