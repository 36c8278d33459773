//! The question list: moving through it, storing each answer the moment it is confirmed, the
//! read-back confirmation and one-key questions.

use crate::rtp::Digit;

use super::answer::{AnswerValue, FieldKind};
use super::event::{Action, PlayItem, PromptId, SpokenNumber};
use super::expect_digits::{read_back_or_store, DigitsFor, ExpectDigits};
use super::interp::{goto, items, Ctx, Intro, State};
use super::model::{Dialplan, Question, QuestionKind, ReadBackItem, StepIdx, StepKind};

/// Which question of which questions step the call is at.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    step: StepIdx,
    index: usize,
}

impl Cursor {
    /// The first question, for the questions step `step`.
    pub fn first(step: StepIdx) -> Cursor {
        Cursor { step, index: 0 }
    }

    /// The question under the cursor.
    pub fn question<'p>(&self, plan: &'p Dialplan) -> Option<&'p Question> {
        plan.questions.get(self.index)
    }

    /// Asks the question under the cursor (after `intro`), or when the list is done reports
    /// complete and goes to the questions step's `next`.
    pub fn enter(self, failures: u8, intro: Intro, cx: &mut Ctx<'_>) -> State {
        cx.timers.clear();
        let plan = cx.plan;
        match self.question(plan).map(|q| &q.kind) {
            Some(QuestionKind::Number(_)) => {
                ExpectDigits::enter(DigitsFor::Question(self), failures, intro, cx)
            }
            Some(QuestionKind::Choice(_)) => ExpectChoice::enter(self, failures, intro, cx),
            None => {
                cx.out.push(Action::ReportComplete);
                cx.call.in_report = false;
                cx.call.reports_completed = cx.call.reports_completed.saturating_add(1);
                match &plan.step(self.step).kind {
                    StepKind::Questions { next } => goto(*next, intro, cx),
                    _ => State::Idle,
                }
            }
        }
    }

    /// Stores `value` for this question now, then asks the next one.
    pub fn store(self, value: AnswerValue, cx: &mut Ctx<'_>) -> State {
        self.store_then(value, Intro::default(), cx)
    }

    /// Stores the question as unanswered and moves on with the "next question" prompt.
    pub fn skip(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let intro = match self.question(plan) {
            Some(q) => Intro::after(&q.input.skipped),
            None => Intro::default(),
        };
        self.store_then(AnswerValue::Unanswered, intro, cx)
    }

    fn store_then(self, value: AnswerValue, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let Some(q) = self.question(plan) {
            let question = q.id.clone();
            cx.out.push(Action::StoreAnswer { question, value });
        }
        let next = Cursor {
            index: self.index + 1,
            ..self
        };
        next.enter(0, intro, cx)
    }

    /// A complete number entry: read back (or stored) when inside the range; `None` (invalid)
    /// otherwise.
    pub fn number_entered(self, digits: &str, failures: u8, cx: &mut Ctx<'_>) -> Option<State> {
        let plan = cx.plan;
        let QuestionKind::Number(q) = &self.question(plan)?.kind else {
            return None;
        };
        let n: u32 = digits.parse().ok()?;
        (q.min..=q.max).contains(&n).then_some(())?;
        Some(read_back_or_store(self, n, failures, cx))
    }

    /// The terminator alone: "not measured" where the question allows it; `None` (invalid)
    /// otherwise.
    pub fn hash_alone(self, cx: &mut Ctx<'_>) -> Option<State> {
        let plan = cx.plan;
        let QuestionKind::Number(q) = &self.question(plan)?.kind else {
            return None;
        };
        q.hash_alone_not_measured.then_some(())?;
        Some(self.store(AnswerValue::Spo2(None), cx))
    }
}

/// A value was read back: 1 = correct (store it), 2 = enter it again.
pub(super) struct ExpectConfirm {
    cursor: Cursor,
    value: u32,
    playing: bool,
    failures: u8,
}

impl ExpectConfirm {
    /// Plays the read-back of `value` (after `intro`).
    pub fn enter(
        cursor: Cursor,
        value: u32,
        failures: u8,
        intro: Intro,
        cx: &mut Ctx<'_>,
    ) -> State {
        let plan = cx.plan;
        let Some(q) = cursor.question(plan) else {
            return State::Idle;
        };
        let QuestionKind::Number(number) = &q.kind else {
            return State::Idle;
        };
        let spoken = match q.id.kind() {
            FieldKind::Temperature => SpokenNumber::Tenths(value),
            _ => SpokenNumber::Integer(value),
        };
        let read_back = number.read_back.iter().map(|item| match item {
            ReadBackItem::Prompt(p) => PlayItem::prompt(p.as_str()),
            ReadBackItem::Value => PlayItem::Number(spoken.clone()),
        });
        let playing = cx.listen(intro.with(read_back), &q.input);
        State::ExpectConfirm(ExpectConfirm {
            cursor,
            value,
            playing,
            failures,
        })
    }

    /// The read-back ended: the first-digit timer starts.
    pub fn on_prompts_done(mut self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let Some(q) = self.cursor.question(plan) {
            cx.prompts_done(&mut self.playing, &q.input);
        }
        State::ExpectConfirm(self)
    }

    /// 1 stores the value, 2 asks the question again, `*` is ignored, anything else is an invalid
    /// try.
    pub fn on_digit(mut self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(q) = self.cursor.question(plan) else {
            return State::ExpectConfirm(self);
        };
        if d == Digit::Star || !cx.take_key(&mut self.playing, &q.input) {
            return State::ExpectConfirm(self);
        }
        match d {
            Digit::Num(1) => match q.id.kind().number_value(self.value) {
                Some(value) => self.cursor.store(value, cx),
                None => self.cursor.skip(cx),
            },
            Digit::Num(2) => self.cursor.enter(self.failures, Intro::default(), cx),
            _ => self.fail(&q.input.invalid_input, cx),
        }
    }

    /// No key after the read-back: a failed try.
    pub fn on_timeout(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        match self.cursor.question(plan) {
            Some(q) => self.fail(&q.input.no_input, cx),
            None => State::ExpectConfirm(self),
        }
    }

    fn fail(self, prompt: &PromptId, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let attempts = self.cursor.question(plan).map_or(0, |q| q.input.attempts);
        let failures = self.failures.saturating_add(1);
        if failures >= attempts {
            return self.cursor.skip(cx);
        }
        ExpectConfirm::enter(self.cursor, self.value, failures, Intro::after(prompt), cx)
    }
}

/// A one-key question.
pub(super) struct ExpectChoice {
    cursor: Cursor,
    playing: bool,
    failures: u8,
}

impl ExpectChoice {
    /// Plays the question (after `intro`); `failures` carries over the item's failed tries.
    pub fn enter(cursor: Cursor, failures: u8, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(q) = cursor.question(plan) else {
            return State::Idle;
        };
        let playing = cx.listen(intro.with(items(&q.prompts)), &q.input);
        State::ExpectChoice(ExpectChoice {
            cursor,
            playing,
            failures,
        })
    }

    /// The question ended: the first-digit timer starts.
    pub fn on_prompts_done(mut self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let Some(q) = self.cursor.question(plan) {
            cx.prompts_done(&mut self.playing, &q.input);
        }
        State::ExpectChoice(self)
    }

    /// A key from the table stores its answer; `*` is ignored; any other key is an invalid try.
    pub fn on_digit(mut self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let Some(q) = self.cursor.question(plan) else {
            return State::ExpectChoice(self);
        };
        if d == Digit::Star || !cx.take_key(&mut self.playing, &q.input) {
            return State::ExpectChoice(self);
        }
        let QuestionKind::Choice(keys) = &q.kind else {
            return State::ExpectChoice(self);
        };
        match keys.iter().find(|(k, _)| Digit::Num(*k) == d) {
            Some((_, value)) => self.cursor.store(*value, cx),
            None => self.fail(&q.input.invalid_input, cx),
        }
    }

    /// No key: a failed try.
    pub fn on_timeout(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        match self.cursor.question(plan) {
            Some(q) => self.fail(&q.input.no_input, cx),
            None => State::ExpectChoice(self),
        }
    }

    fn fail(self, prompt: &PromptId, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let attempts = self.cursor.question(plan).map_or(0, |q| q.input.attempts);
        let failures = self.failures.saturating_add(1);
        if failures >= attempts {
            return self.cursor.skip(cx);
        }
        ExpectChoice::enter(self.cursor, failures, Intro::after(prompt), cx)
    }
}
