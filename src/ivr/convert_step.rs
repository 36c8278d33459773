//! `[steps.<id>]` tables → checked [`StepKind`]s: dispatch on `type`, decode, resolve.

use toml::de::DeValue;
use toml::Spanned;

use super::convert::{in_range, key_digit, length, policy, Resolver};
use super::error::{Place, ProblemKind};
use super::model::{Identify, InputPolicy, Length, Menu, MenuOption, Slot, StepKind};
use super::raw::{
    decode, Overrides, RawCollect, RawHangup, RawIdentify, RawLanguageMenu, RawMenu, RawPlay,
    RawQuestions, Sink,
};

/// A decoded step table, by `type`.
pub(super) enum RawStep {
    Play(RawPlay),
    LanguageMenu(RawLanguageMenu),
    Menu(RawMenu),
    Collect(RawCollect),
    Identify(RawIdentify),
    Questions(RawQuestions),
    Hangup(RawHangup),
}

/// Reads a step's `type` and decodes the rest of its table into that type's struct.
pub(super) fn decode_step(
    sink: &mut Sink<'_>,
    place: &Place,
    value: Spanned<DeValue<'_>>,
) -> Option<RawStep> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        let kind = ProblemKind::BadValue("a step must be a table".to_owned());
        sink.push(Some(span), place, None, kind);
        return None;
    };
    let Some(kind) = table.remove("type") else {
        sink.push(Some(span), place, Some("type"), ProblemKind::Missing);
        return None;
    };
    let kind_span = kind.span();
    let DeValue::String(name) = kind.into_inner() else {
        let kind = ProblemKind::BadValue("expected a string".to_owned());
        sink.push(Some(kind_span), place, Some("type"), kind);
        return None;
    };
    let rest = Spanned::new(span, DeValue::Table(table));
    match name.as_ref() {
        "play" => decode(sink, place, rest).map(RawStep::Play),
        "language_menu" => decode(sink, place, rest).map(RawStep::LanguageMenu),
        "menu" => decode(sink, place, rest).map(RawStep::Menu),
        "collect" => decode(sink, place, rest).map(RawStep::Collect),
        "identify" => decode(sink, place, rest).map(RawStep::Identify),
        "questions" => decode(sink, place, rest).map(RawStep::Questions),
        "hangup" => decode(sink, place, rest).map(RawStep::Hangup),
        other => {
            let kind = ProblemKind::UnknownStepType(other.to_owned());
            sink.push(Some(kind_span), place, Some("type"), kind);
            None
        }
    }
}

/// A decoded step → its checked form, every problem recorded.
pub(super) fn step(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    base: &InputPolicy,
    raw: RawStep,
) -> Option<StepKind> {
    match raw {
        RawStep::Play(s) => {
            let prompts = r.prompts(sink, place, "prompts", &s.prompts);
            if s.prompts.is_empty() {
                sink.push(
                    None,
                    place,
                    Some("prompts"),
                    ProblemKind::Conflict("a play step needs at least one prompt"),
                );
            }
            let next = r.target(sink, place, "next", &s.next);
            let barge_in = s.barge_in.unwrap_or(base.barge_in);
            Some(StepKind::Play {
                prompts: prompts.filter(|p| !p.is_empty())?,
                barge_in,
                next: next?,
            })
        }
        RawStep::LanguageMenu(s) => {
            let prompt = r.prompt(sink, place, "prompt", &s.prompt);
            let next = r.target(sink, place, "next", &s.next);
            let o = Overrides {
                first_digit_timeout_ms: s.first_digit_timeout_ms,
                barge_in: s.barge_in,
                ..Overrides::default()
            };
            let input = policy(sink, place, base, o);
            Some(StepKind::LanguageMenu {
                prompt: prompt?,
                repeats: s.repeats,
                default: s.default,
                input: input?,
                next: next?,
            })
        }
        RawStep::Menu(s) => menu(sink, place, r, base, s).map(StepKind::Menu),
        RawStep::Collect(s) => collect(sink, place, r, base, s),
        RawStep::Identify(s) => identify(sink, place, r, s).map(StepKind::Identify),
        RawStep::Questions(s) => {
            let next = r.target(sink, place, "next", &s.next);
            Some(StepKind::Questions { next: next? })
        }
        RawStep::Hangup(s) => {
            let prompts = r.prompts(sink, place, "prompts", &s.prompts);
            Some(StepKind::Hangup {
                prompts: prompts?,
                outcome: s.outcome,
            })
        }
    }
}

fn menu(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    base: &InputPolicy,
    s: RawMenu,
) -> Option<Menu> {
    let prompts = r.prompts(sink, place, "prompts", &s.prompts);
    let options: Vec<Option<MenuOption>> = s
        .options
        .iter()
        .map(|(key, opt)| {
            let key = key_digit(sink, place, "options", key);
            let goto = r.target(sink, place, "options", &opt.goto);
            Some(MenuOption {
                key: key?,
                action: opt.action,
                goto: goto?,
            })
        })
        .collect();
    let on_no_input = r.target(sink, place, "on_no_input", &s.on_no_input);
    let on_other_key = r.target_opt(sink, place, "on_other_key", s.on_other_key.as_ref());
    let o = Overrides {
        first_digit_timeout_ms: s.first_digit_timeout_ms,
        barge_in: s.barge_in,
        ..Overrides::default()
    };
    let input = policy(sink, place, base, o);
    Some(Menu {
        prompts: prompts?,
        options: options.into_iter().collect::<Option<_>>()?,
        repeats: s.repeats,
        on_no_input: on_no_input?,
        on_other_key: on_other_key?,
        input: input?,
    })
}

fn collect(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    base: &InputPolicy,
    s: RawCollect,
) -> Option<StepKind> {
    let prompts = r.prompts(sink, place, "prompts", &s.prompts);
    let digits_at = s
        .digits
        .as_ref()
        .or(s.max_digits.as_ref())
        .map(|d| d.span());
    let len = length(sink, place, s.digits, s.min_digits, s.max_digits, 32);
    let into = *s.into.get_ref();
    if into == Slot::Birthday && len.is_some_and(|l| l != Length::Fixed(4)) {
        let kind = ProblemKind::Conflict("a birthday is keyed as exactly 4 digits (digits = 4)");
        let span = digits_at.unwrap_or(s.into.span());
        sink.push(Some(span), place, Some("digits"), kind);
    }
    let next = r.target(sink, place, "next", &s.next);
    let on_exhausted = r.target(sink, place, "on_exhausted", &s.on_exhausted);
    let o = Overrides {
        first_digit_timeout_ms: s.first_digit_timeout_ms,
        inter_digit_timeout_ms: s.inter_digit_timeout_ms,
        attempts: s.attempts,
        barge_in: s.barge_in,
    };
    let input = policy(sink, place, base, o);
    let length = len.filter(|l| into != Slot::Birthday || *l == Length::Fixed(4));
    Some(StepKind::Collect {
        into,
        prompts: prompts?,
        length: length?,
        input: input?,
        next: next?,
        on_exhausted: on_exhausted?,
    })
}

fn identify(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    s: RawIdentify,
) -> Option<Identify> {
    let on_confirmed = r.target(sink, place, "on_confirmed", &s.on_confirmed);
    let on_not_confirmed = r.target(sink, place, "on_not_confirmed", &s.on_not_confirmed);
    let prompt = r.prompt(sink, place, "not_confirmed_prompt", &s.not_confirmed_prompt);
    let max_failures = in_range(sink, place, "max_failures", &s.max_failures, (1, 9));
    let on_too_many = r.target(sink, place, "on_too_many_failures", &s.on_too_many_failures);
    let on_unavailable = r.target(sink, place, "on_unavailable", &s.on_unavailable);
    Some(Identify {
        on_confirmed: on_confirmed?,
        on_not_confirmed: on_not_confirmed?,
        not_confirmed_prompt: prompt?,
        max_failures: max_failures?,
        on_too_many_failures: on_too_many?,
        on_unavailable: on_unavailable?,
    })
}
