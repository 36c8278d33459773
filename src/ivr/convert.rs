//! Raw dialplan structs → checked model: resolves targets and prompts, checks digit counts,
//! timeouts and attempts. Each function records every problem it finds and returns `None`
//! when the result would be unusable. Questions are in `convert_question`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use toml::Spanned;

use super::error::{Place, ProblemKind};
use super::event::PromptId;
use super::model::{InputPolicy, Length, StepIdx};
use super::raw::{Overrides, RawDefaults, Sink, Text};
use crate::rtp::Digit;

/// What conversion needs besides the raw struct: step names and the prompt catalogue. It also
/// records every resolved step-to-step edge, for the reachability check (a step that fails
/// other checks still has its edges).
pub(super) struct Resolver<'a> {
    pub names: HashMap<String, StepIdx>,
    pub prompt_known: &'a dyn Fn(&str) -> bool,
    pub edges: RefCell<Vec<(StepIdx, StepIdx)>>,
}

impl Resolver<'_> {
    /// The step a target names, or a [`ProblemKind::MissingTarget`].
    pub fn target(
        &self,
        sink: &mut Sink<'_>,
        place: &Place,
        field: &str,
        t: &Text,
    ) -> Option<StepIdx> {
        let found = self.names.get(t.get_ref().as_str()).copied();
        let from = match place {
            Place::Step(name) => self.names.get(name).copied(),
            _ => None,
        };
        if let (Some(from), Some(to)) = (from, found) {
            self.edges.borrow_mut().push((from, to));
        }
        if found.is_none() {
            let kind = ProblemKind::MissingTarget(t.get_ref().clone());
            sink.push(Some(t.span()), place, Some(field), kind);
        }
        found
    }

    /// An optional target.
    pub fn target_opt(
        &self,
        sink: &mut Sink<'_>,
        place: &Place,
        field: &str,
        t: Option<&Text>,
    ) -> Option<Option<StepIdx>> {
        match t {
            None => Some(None),
            Some(t) => self.target(sink, place, field, t).map(Some),
        }
    }

    /// A prompt the catalogue has, or a [`ProblemKind::UnknownPrompt`].
    pub fn prompt(
        &self,
        sink: &mut Sink<'_>,
        place: &Place,
        field: &str,
        p: &Text,
    ) -> Option<PromptId> {
        if (self.prompt_known)(p.get_ref()) {
            return Some(PromptId::new(p.get_ref()));
        }
        let kind = ProblemKind::UnknownPrompt(p.get_ref().clone());
        sink.push(Some(p.span()), place, Some(field), kind);
        None
    }

    /// A list of prompts; every unknown one is reported.
    pub fn prompts(
        &self,
        sink: &mut Sink<'_>,
        place: &Place,
        field: &str,
        list: &[Text],
    ) -> Option<Vec<PromptId>> {
        let checked: Vec<_> = list
            .iter()
            .map(|p| self.prompt(sink, place, field, p))
            .collect();
        checked.into_iter().collect()
    }
}

/// Built-in defaults (SPEC §5a, §6), used for every key `[defaults]` leaves out.
pub(super) const FIRST_DIGIT_MS: u32 = 8000;
/// Built-in inter-digit timeout.
pub(super) const INTER_DIGIT_MS: u32 = 4000;
/// Built-in number of attempts per item.
pub(super) const ATTEMPTS: u8 = 3;
const TIMEOUT_MS: (u32, u32) = (100, 120_000);
const ATTEMPTS_RANGE: (u8, u8) = (1, 9);

/// `[defaults]` → the dialplan's base input policy. Problems are recorded, and a built-in value
/// stands in for a bad one so the steps can still be checked.
pub(super) fn defaults(sink: &mut Sink<'_>, r: &Resolver<'_>, raw: RawDefaults) -> InputPolicy {
    let place = Place::Section("defaults".to_owned());
    let prompt = |sink: &mut Sink<'_>, field: &str, given: Option<Text>, builtin: &str| {
        let id = given.unwrap_or_else(|| Spanned::new(0..0, builtin.to_owned()));
        if !(r.prompt_known)(id.get_ref()) {
            let span = (id.span() != (0..0)).then(|| id.span());
            let kind = ProblemKind::UnknownPrompt(id.get_ref().clone());
            sink.push(span, &place, Some(field), kind);
        }
        PromptId::new(id.get_ref())
    };
    let no_input = prompt(sink, "no_input", raw.no_input, "no_input");
    let invalid_input = prompt(sink, "invalid_input", raw.invalid_input, "invalid_input");
    let skipped = prompt(sink, "skipped", raw.skipped, "skip_item");
    let terminator = match raw.terminator {
        None => Digit::Hash,
        Some(t) => match t.get_ref().as_str() {
            "#" => Digit::Hash,
            "*" => Digit::Star,
            _ => {
                let kind = ProblemKind::Conflict("the terminator must be \"#\" or \"*\"");
                sink.push(Some(t.span()), &place, Some("terminator"), kind);
                Digit::Hash
            }
        },
    };
    let base = InputPolicy {
        first_digit: Duration::from_millis(FIRST_DIGIT_MS.into()),
        inter_digit: Duration::from_millis(INTER_DIGIT_MS.into()),
        terminator,
        attempts: ATTEMPTS,
        barge_in: true,
        no_input,
        invalid_input,
        skipped,
    };
    let overrides = Overrides {
        first_digit_timeout_ms: raw.first_digit_timeout_ms,
        inter_digit_timeout_ms: raw.inter_digit_timeout_ms,
        attempts: raw.attempts,
        barge_in: raw.barge_in,
    };
    policy(sink, &place, &base, overrides).unwrap_or(base)
}

/// A step's input policy: `base` with the step's overrides, each checked.
pub(super) fn policy(
    sink: &mut Sink<'_>,
    place: &Place,
    base: &InputPolicy,
    o: Overrides,
) -> Option<InputPolicy> {
    let ms = |sink: &mut Sink<'_>, field: &str, v: Option<Spanned<u32>>, dflt: Duration| match v {
        None => Some(dflt),
        Some(v) => {
            in_range(sink, place, field, &v, TIMEOUT_MS).map(|ms| Duration::from_millis(ms.into()))
        }
    };
    let first_digit = ms(
        sink,
        "first_digit_timeout_ms",
        o.first_digit_timeout_ms,
        base.first_digit,
    );
    let inter_digit = ms(
        sink,
        "inter_digit_timeout_ms",
        o.inter_digit_timeout_ms,
        base.inter_digit,
    );
    let attempts = match o.attempts {
        None => Some(base.attempts),
        Some(a) => in_range(sink, place, "attempts", &a, ATTEMPTS_RANGE),
    };
    Some(InputPolicy {
        first_digit: first_digit?,
        inter_digit: inter_digit?,
        attempts: attempts?,
        barge_in: o.barge_in.unwrap_or(base.barge_in),
        ..base.clone()
    })
}

/// `v` when inside `low..=high`, else a [`ProblemKind::OutOfRange`].
pub(super) fn in_range<T: Copy + PartialOrd + Into<u64>>(
    sink: &mut Sink<'_>,
    place: &Place,
    field: &str,
    v: &Spanned<T>,
    (low, high): (T, T),
) -> Option<T> {
    let value = *v.get_ref();
    if value >= low && value <= high {
        return Some(value);
    }
    let kind = ProblemKind::OutOfRange {
        value: value.into(),
        low: low.into(),
        high: high.into(),
    };
    sink.push(Some(v.span()), place, Some(field), kind);
    None
}

/// The digit count of an entry: `digits` (fixed) or `min_digits`/`max_digits` (variable,
/// `min_digits` defaulting to 1), at most `limit` digits.
pub(super) fn length(
    sink: &mut Sink<'_>,
    place: &Place,
    digits: Option<Spanned<u8>>,
    min_digits: Option<Spanned<u8>>,
    max_digits: Option<Spanned<u8>>,
    limit: u8,
) -> Option<Length> {
    match (digits, max_digits) {
        (Some(d), max) => {
            if min_digits.is_some() || max.is_some() {
                let kind = ProblemKind::Conflict("use either digits or min_digits/max_digits");
                sink.push(Some(d.span()), place, Some("digits"), kind);
                return None;
            }
            in_range(sink, place, "digits", &d, (1, limit)).map(Length::Fixed)
        }
        (None, Some(max_d)) => {
            let max = in_range(sink, place, "max_digits", &max_d, (1, limit))?;
            let min = match min_digits {
                None => 1,
                Some(m) => in_range(sink, place, "min_digits", &m, (1, max))?,
            };
            Some(Length::Variable { min, max })
        }
        (None, None) => {
            let span = min_digits.map(|m| m.span());
            sink.push(span, place, Some("digits"), ProblemKind::Missing);
            None
        }
    }
}

/// The single digit 0–9 a menu or choice key names, or a [`ProblemKind::BadKey`].
pub(super) fn key_digit(sink: &mut Sink<'_>, place: &Place, field: &str, key: &Text) -> Option<u8> {
    match key.get_ref().as_bytes() {
        [d @ b'0'..=b'9'] => Some(d - b'0'),
        _ => {
            let kind = ProblemKind::BadKey(key.get_ref().clone());
            sink.push(Some(key.span()), place, Some(field), kind);
            None
        }
    }
}
