//! States of the non-question steps: play, language menu, menu, identification, hang-up.
//! Each transition consumes the state and returns the next one.

use crate::lang::Language;
use crate::rtp::Digit;

use super::event::{Action, CallOutcome, Identification, PlayItem, PromptId};
use super::interp::{goto, items, Ctx, Intro, State};
use super::model::{Menu, MenuAction, StepIdx, StepKind};
use crate::pii::Redacted;

/// A play step's prompts are playing; a key skips to the next step and counts there.
pub(super) struct ExpectPlayEnd {
    pub step: StepIdx,
}

impl ExpectPlayEnd {
    /// The prompts ended: go to the next step.
    pub fn on_prompts_done(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        match &plan.step(self.step).kind {
            StepKind::Play { next, .. } => goto(*next, Intro::default(), cx),
            _ => State::ExpectPlayEnd(self),
        }
    }

    /// A key stops the prompts and becomes the next step's first key (a `*` is ignored).
    pub fn on_digit(self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::Play { barge_in, next, .. } = &plan.step(self.step).kind else {
            return State::ExpectPlayEnd(self);
        };
        if d == Digit::Star || !barge_in {
            return State::ExpectPlayEnd(self);
        }
        cx.out.push(Action::StopPlayback);
        match goto(*next, Intro::Silent, cx) {
            // A play step entered silently still plays; the key is not for it.
            s @ State::ExpectPlayEnd(_) => s,
            s => s.on_digit(d, cx),
        }
    }
}

/// The language menu: key 1–8 picks a language; no key or another key replays it up to
/// `repeats` times, then the default language is used.
pub(super) struct ExpectLanguage {
    step: StepIdx,
    round: u8,
    playing: bool,
}

impl ExpectLanguage {
    /// Plays the menu (after `intro`); `round` counts the replays so far.
    pub fn enter(step: StepIdx, round: u8, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::LanguageMenu { prompt, input, .. } = &plan.step(step).kind else {
            return State::Idle;
        };
        let options = Language::ALL.map(|l| PlayItem::prompt_in(prompt.as_str(), l));
        let playing = cx.listen(intro.with(options), input);
        State::ExpectLanguage(ExpectLanguage {
            step,
            round,
            playing,
        })
    }

    /// The menu ended: the first-digit timer starts.
    pub fn on_prompts_done(mut self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let StepKind::LanguageMenu { input, .. } = &plan.step(self.step).kind {
            cx.prompts_done(&mut self.playing, input);
        }
        State::ExpectLanguage(self)
    }

    /// Key 1–8 picks a language; `*` is ignored; another key counts as no choice.
    pub fn on_digit(mut self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::LanguageMenu { input, next, .. } = &plan.step(self.step).kind else {
            return State::ExpectLanguage(self);
        };
        if d == Digit::Star || !cx.take_key(&mut self.playing, input) {
            return State::ExpectLanguage(self);
        }
        let chosen = match d {
            Digit::Num(n) => Language::from_menu_key(n),
            _ => None,
        };
        match chosen {
            Some(language) => choose(language, *next, cx),
            None => self.on_timeout(cx),
        }
    }

    /// No key (or a key that is not a language): the menu again, or the default language.
    pub fn on_timeout(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::LanguageMenu {
            repeats,
            default,
            next,
            ..
        } = &plan.step(self.step).kind
        else {
            return State::ExpectLanguage(self);
        };
        if self.round >= *repeats {
            return choose(*default, *next, cx);
        }
        ExpectLanguage::enter(self.step, self.round + 1, Intro::default(), cx)
    }
}

fn choose(language: Language, next: StepIdx, cx: &mut Ctx<'_>) -> State {
    cx.call.language = language;
    cx.out.push(Action::SetLanguage(language));
    goto(next, Intro::default(), cx)
}

/// A one-key menu.
pub(super) struct ExpectMenuKey {
    step: StepIdx,
    round: u8,
    playing: bool,
}

impl ExpectMenuKey {
    /// Plays the menu (after `intro`); `round` counts the replays so far.
    pub fn enter(step: StepIdx, round: u8, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::Menu(menu) = &plan.step(step).kind else {
            return State::Idle;
        };
        let playing = cx.listen(intro.with(items(&menu.prompts)), &menu.input);
        State::ExpectMenuKey(ExpectMenuKey {
            step,
            round,
            playing,
        })
    }

    /// The menu ended: the first-digit timer starts.
    pub fn on_prompts_done(mut self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        if let StepKind::Menu(menu) = &plan.step(self.step).kind {
            cx.prompts_done(&mut self.playing, &menu.input);
        }
        State::ExpectMenuKey(self)
    }

    /// An option's key raises its action and goes to its step; `*` is ignored; any other key goes
    /// to `on_other_key` or replays the menu after `invalid_input`.
    pub fn on_digit(mut self, d: Digit, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::Menu(menu) = &plan.step(self.step).kind else {
            return State::ExpectMenuKey(self);
        };
        if d == Digit::Star || !cx.take_key(&mut self.playing, &menu.input) {
            return State::ExpectMenuKey(self);
        }
        let option = menu.options.iter().find(|o| Digit::Num(o.key) == d);
        if let Some(option) = option {
            match option.action {
                Some(MenuAction::NewReport) => {
                    cx.call.hersys_id = None;
                    cx.call.birthday = None;
                    cx.out.push(Action::NewReport);
                }
                Some(MenuAction::WrongNumber) => cx.out.push(Action::WrongNumber),
                None => {}
            }
            return goto(option.goto, Intro::default(), cx);
        }
        match menu.on_other_key {
            Some(target) => goto(target, Intro::default(), cx),
            None => self.again(menu, Intro::after(&menu.input.invalid_input), cx),
        }
    }

    /// No key: replay the menu, or go to `on_no_input` after the last replay.
    pub fn on_timeout(self, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        match &plan.step(self.step).kind {
            StepKind::Menu(menu) => self.again(menu, Intro::default(), cx),
            _ => State::ExpectMenuKey(self),
        }
    }

    /// Plays the menu again, or gives up after `repeats` replays.
    fn again(self, menu: &Menu, intro: Intro, cx: &mut Ctx<'_>) -> State {
        if self.round >= menu.repeats {
            return goto(menu.on_no_input, Intro::default(), cx);
        }
        ExpectMenuKey::enter(self.step, self.round + 1, intro, cx)
    }
}

/// Waiting for the call layer's answer to [`Action::Identify`].
pub(super) struct ExpectIdentity {
    step: StepIdx,
}

impl ExpectIdentity {
    /// Emits `Identify` with the collected ID and birthday (which are then forgotten). Without
    /// both, identification fails at once.
    pub fn enter(step: StepIdx, intro: Intro, cx: &mut Ctx<'_>) -> State {
        let lead = intro.with([]);
        if !lead.is_empty() {
            cx.out.push(Action::Play(lead));
        }
        let me = ExpectIdentity { step };
        match (cx.call.hersys_id.take(), cx.call.birthday.take()) {
            (Some(id), Some(birthday)) => {
                cx.out.push(Action::Identify {
                    hersys_id: Redacted::new(id),
                    birthday: Redacted::new(birthday),
                });
                State::ExpectIdentity(me)
            }
            _ => me.on_result(Identification::NotConfirmed, cx),
        }
    }

    /// Confirmed: on to the questions. Unavailable (the store could not check): to
    /// `on_unavailable`, not counted as a failure. Not confirmed: again after the failure
    /// prompt, or the give-up step once the call's failures reach `max_failures`.
    pub fn on_result(self, result: Identification, cx: &mut Ctx<'_>) -> State {
        let plan = cx.plan;
        let StepKind::Identify(step) = &plan.step(self.step).kind else {
            return State::ExpectIdentity(self);
        };
        match result {
            Identification::Confirmed => return goto(step.on_confirmed, Intro::default(), cx),
            Identification::Unavailable => return goto(step.on_unavailable, Intro::default(), cx),
            Identification::NotConfirmed => {}
        }
        cx.call.identify_failures = cx.call.identify_failures.saturating_add(1);
        if cx.call.identify_failures >= step.max_failures {
            return goto(step.on_too_many_failures, Intro::default(), cx);
        }
        goto(
            step.on_not_confirmed,
            Intro::after(&step.not_confirmed_prompt),
            cx,
        )
    }
}

/// The last prompts are playing; then the call hangs up.
pub(super) struct ExpectHangup {
    outcome: CallOutcome,
}

impl ExpectHangup {
    /// Plays the lead-in and the step's prompts, or hangs up at once when there are none.
    pub fn enter(
        prompts: &[PromptId],
        outcome: CallOutcome,
        intro: Intro,
        cx: &mut Ctx<'_>,
    ) -> State {
        let lead = match intro {
            Intro::Prompts(lead) => lead,
            Intro::Silent => Vec::new(),
        };
        let all: Vec<PlayItem> = lead.into_iter().chain(items(prompts)).collect();
        if all.is_empty() {
            return ExpectHangup { outcome }.on_prompts_done(cx);
        }
        cx.out.push(Action::Play(all));
        State::ExpectHangup(ExpectHangup { outcome })
    }

    /// The last prompts ended: hang up with the step's outcome.
    pub fn on_prompts_done(self, cx: &mut Ctx<'_>) -> State {
        cx.timers.clear();
        cx.out.push(Action::Hangup(self.outcome));
        State::Ended(self.outcome)
    }
}
