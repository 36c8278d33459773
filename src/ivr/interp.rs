//! The interpreter: one call's walk through a [`Dialplan`], sans IO.
//!
//! Feed it [`Input`]s with the current time; it returns the [`Action`]s to carry out, in order,
//! and says when it next needs [`Interpreter::handle_timeout`]. It reads no clock and owns no
//! timer: `now` is always an argument.

use std::sync::Arc;
use std::time::Instant;

use crate::lang::Language;
use crate::rtp::Digit;

use super::event::{Action, CallOutcome, Identification, Input, Mmdd, PlayItem, PromptId};
use super::expect::{ExpectHangup, ExpectIdentity, ExpectLanguage, ExpectMenuKey, ExpectPlayEnd};
use super::expect_digits::{DigitsFor, ExpectDigits};
use super::model::{Dialplan, InputPolicy, StepIdx, StepKind};
use super::question::{Cursor, ExpectChoice, ExpectConfirm};
use super::timer::{Timer, Timers};

/// One call's dialplan interpreter. Create it when the call is answered, send
/// [`Input::Started`], then every input as it happens.
pub struct Interpreter {
    plan: Arc<Dialplan>,
    state: State,
    call: CallFacts,
    timers: Timers,
}

impl Interpreter {
    /// An interpreter for `plan`, speaking `language` until the caller picks another one.
    pub fn new(plan: Arc<Dialplan>, language: Language) -> Interpreter {
        Interpreter {
            plan,
            state: State::Idle,
            call: CallFacts::new(language),
            timers: Timers::default(),
        }
    }

    /// Handles one input at `now` and returns what to do, in order. Inputs that do not apply
    /// in the current state (a key while waiting for identification, anything after the end)
    /// are ignored and return nothing.
    pub fn handle_input(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        let state = std::mem::replace(&mut self.state, State::Idle);
        let mut cx = Ctx {
            plan: &self.plan,
            call: &mut self.call,
            timers: &mut self.timers,
            out: &mut out,
            now,
        };
        self.state = match (state, input) {
            (State::Ended(o), _) => State::Ended(o),
            (_, Input::Hangup) => {
                cx.timers.clear();
                State::Ended(cx.call.outcome_if_dropped())
            }
            (State::Idle, Input::Started) => goto(cx.plan.start, Intro::default(), &mut cx),
            (State::Idle, _) => State::Idle,
            (s, Input::Started) => s,
            (s, Input::PromptsDone) => s.on_prompts_done(&mut cx),
            (s, Input::Digit(d)) => s.on_digit(d, &mut cx),
            (s, Input::IdentifyResult(r)) => s.on_identify(r, &mut cx),
        };
        out
    }

    /// When [`Interpreter::handle_timeout`] is next due; `None` while no timer runs (prompts
    /// playing, waiting for identification, ended).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Handles every timer due at `now`. Calling it early, or twice, does nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(timer) = self.timers.take_expired(now) {
            let state = std::mem::replace(&mut self.state, State::Idle);
            let mut cx = Ctx {
                plan: &self.plan,
                call: &mut self.call,
                timers: &mut self.timers,
                out: &mut out,
                now,
            };
            self.state = state.on_timer(timer, &mut cx);
        }
        out
    }

    /// The current (or last) step's id, for the call record.
    pub fn step_id(&self) -> &str {
        &self.plan.step(self.call.step).id
    }

    /// The call language now.
    pub fn language(&self) -> Language {
        self.call.language
    }

    /// How the call ended, once it has (by the dialplan or by [`Input::Hangup`]).
    pub fn outcome(&self) -> Option<CallOutcome> {
        match self.state {
            State::Ended(o) => Some(o),
            _ => None,
        }
    }
}

/// Shows the dialplan, step and language only: the call's digits and answers stay out.
impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("dialplan", &self.plan.id())
            .field("step", &self.step_id())
            .field("language", &self.call.language)
            .finish_non_exhaustive()
    }
}

/// What the call has gathered so far, across steps.
pub(super) struct CallFacts {
    pub language: Language,
    pub step: StepIdx,
    pub hersys_id: Option<String>,
    pub birthday: Option<Mmdd>,
    pub identify_failures: u8,
    pub in_report: bool,
    pub reports_completed: u32,
}

impl CallFacts {
    fn new(language: Language) -> CallFacts {
        CallFacts {
            language,
            step: StepIdx(0),
            hersys_id: None,
            birthday: None,
            identify_failures: 0,
            in_report: false,
            reports_completed: 0,
        }
    }

    /// The outcome when the caller hangs up now.
    fn outcome_if_dropped(&self) -> CallOutcome {
        if self.in_report {
            CallOutcome::Incomplete
        } else if self.reports_completed > 0 {
            CallOutcome::Completed
        } else {
            CallOutcome::Abandoned
        }
    }
}

/// Everything a transition may read or change besides its own state.
pub(super) struct Ctx<'a> {
    pub plan: &'a Dialplan,
    pub call: &'a mut CallFacts,
    pub timers: &'a mut Timers,
    pub out: &'a mut Vec<Action>,
    pub now: Instant,
}

impl Ctx<'_> {
    /// Plays `items`, or when there are none starts the first-digit timer at once. Returns
    /// whether prompts are now playing.
    pub fn listen(&mut self, items: Vec<PlayItem>, policy: &InputPolicy) -> bool {
        if items.is_empty() {
            self.timers
                .set(Timer::FirstDigit, self.now + policy.first_digit);
            false
        } else {
            self.out.push(Action::Play(items));
            true
        }
    }

    /// The step's prompts ended: the first-digit timer starts.
    pub fn prompts_done(&mut self, playing: &mut bool, policy: &InputPolicy) {
        if std::mem::replace(playing, false) {
            self.timers
                .set(Timer::FirstDigit, self.now + policy.first_digit);
        }
    }

    /// A key arrived. Returns `false` when it must be dropped (prompts playing and barge-in
    /// off); otherwise stops any playback and the first-digit timer.
    pub fn take_key(&mut self, playing: &mut bool, policy: &InputPolicy) -> bool {
        if *playing {
            if !policy.barge_in {
                return false;
            }
            self.out.push(Action::StopPlayback);
            *playing = false;
        }
        self.timers.cancel(Timer::FirstDigit);
        true
    }
}

/// How a step starts: with its prompts (after some lead-in prompts, e.g. a reprompt), or
/// silently because a key pressed during the previous step's prompts is its first input.
pub(super) enum Intro {
    Prompts(Vec<PlayItem>),
    Silent,
}

impl Default for Intro {
    fn default() -> Intro {
        Intro::Prompts(Vec::new())
    }
}

impl Intro {
    /// A lead-in of one prompt.
    pub fn after(prompt: &PromptId) -> Intro {
        Intro::Prompts(vec![PlayItem::prompt(prompt.as_str())])
    }

    /// The items to play: the lead-in and then `prompts`; nothing when silent.
    pub fn with(self, prompts: impl IntoIterator<Item = PlayItem>) -> Vec<PlayItem> {
        match self {
            Intro::Prompts(mut lead) => {
                lead.extend(prompts);
                lead
            }
            Intro::Silent => Vec::new(),
        }
    }
}

/// Prompt ids → play items in the call language.
pub(super) fn items(prompts: &[PromptId]) -> impl Iterator<Item = PlayItem> + '_ {
    prompts.iter().map(|p| PlayItem::prompt(p.as_str()))
}

/// Enters a step.
pub(super) fn goto(step: StepIdx, intro: Intro, cx: &mut Ctx<'_>) -> State {
    cx.call.step = step;
    cx.timers.clear();
    let plan = cx.plan;
    match &plan.step(step).kind {
        StepKind::Play { prompts, .. } => {
            let lead = match intro {
                Intro::Prompts(lead) => lead,
                Intro::Silent => Vec::new(),
            };
            let all: Vec<PlayItem> = lead.into_iter().chain(items(prompts)).collect();
            cx.out.push(Action::Play(all));
            State::ExpectPlayEnd(ExpectPlayEnd { step })
        }
        StepKind::LanguageMenu { .. } => ExpectLanguage::enter(step, 0, intro, cx),
        StepKind::Menu(_) => ExpectMenuKey::enter(step, 0, intro, cx),
        StepKind::Collect { .. } => ExpectDigits::enter(DigitsFor::Collect(step), 0, intro, cx),
        StepKind::Identify(_) => ExpectIdentity::enter(step, intro, cx),
        StepKind::Questions { .. } => {
            cx.call.in_report = true;
            Cursor::first(step).enter(0, intro, cx)
        }
        StepKind::Hangup { prompts, outcome } => ExpectHangup::enter(prompts, *outcome, intro, cx),
    }
}

/// What the call is waiting for.
pub(super) enum State {
    /// Not started yet.
    Idle,
    /// A play step's prompts to end.
    ExpectPlayEnd(ExpectPlayEnd),
    /// A language menu key.
    ExpectLanguage(ExpectLanguage),
    /// A menu key.
    ExpectMenuKey(ExpectMenuKey),
    /// The digits of an entry (ID, birthday, a number question).
    ExpectDigits(ExpectDigits),
    /// 1 (correct) or 2 (enter again) after a read-back.
    ExpectConfirm(ExpectConfirm),
    /// One key of a choice question.
    ExpectChoice(ExpectChoice),
    /// The identification result.
    ExpectIdentity(ExpectIdentity),
    /// The closing prompts to end, to hang up.
    ExpectHangup(ExpectHangup),
    /// Nothing: the call is over.
    Ended(CallOutcome),
}

impl State {
    fn on_prompts_done(self, cx: &mut Ctx<'_>) -> State {
        match self {
            State::ExpectPlayEnd(s) => s.on_prompts_done(cx),
            State::ExpectLanguage(s) => s.on_prompts_done(cx),
            State::ExpectMenuKey(s) => s.on_prompts_done(cx),
            State::ExpectDigits(s) => s.on_prompts_done(cx),
            State::ExpectConfirm(s) => s.on_prompts_done(cx),
            State::ExpectChoice(s) => s.on_prompts_done(cx),
            State::ExpectHangup(s) => s.on_prompts_done(cx),
            s @ (State::Idle | State::ExpectIdentity(_) | State::Ended(_)) => s,
        }
    }

    /// Handles a key; also used to hand a barge-in key on to the next step.
    pub(super) fn on_digit(self, d: Digit, cx: &mut Ctx<'_>) -> State {
        match self {
            State::ExpectPlayEnd(s) => s.on_digit(d, cx),
            State::ExpectLanguage(s) => s.on_digit(d, cx),
            State::ExpectMenuKey(s) => s.on_digit(d, cx),
            State::ExpectDigits(s) => s.on_digit(d, cx),
            State::ExpectConfirm(s) => s.on_digit(d, cx),
            State::ExpectChoice(s) => s.on_digit(d, cx),
            s @ (State::Idle
            | State::ExpectIdentity(_)
            | State::ExpectHangup(_)
            | State::Ended(_)) => s,
        }
    }

    fn on_timer(self, t: Timer, cx: &mut Ctx<'_>) -> State {
        match self {
            State::ExpectLanguage(s) => s.on_timeout(cx),
            State::ExpectMenuKey(s) => s.on_timeout(cx),
            State::ExpectDigits(s) => s.on_timer(t, cx),
            State::ExpectConfirm(s) => s.on_timeout(cx),
            State::ExpectChoice(s) => s.on_timeout(cx),
            s => s,
        }
    }

    fn on_identify(self, r: Identification, cx: &mut Ctx<'_>) -> State {
        match self {
            State::ExpectIdentity(s) => s.on_result(r, cx),
            s => s,
        }
    }
}
