//! `[[questions]]` tables → checked [`Question`]s: the field exists, the question type fits
//! the field, ranges fit both the digit count and the field, every choice is storable.

use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

use super::answer::{FieldKind, QuestionId};
use super::convert::{key_digit, length, policy, Resolver};
use super::error::{Place, ProblemKind};
use super::model::{InputPolicy, Length, NumberQuestion, Question, QuestionKind, ReadBackItem};
use super::raw::{decode, HashAlone, Overrides, RawChoiceQuestion, RawNumberQuestion, Sink, Text};

/// The most digits a number question may take (its value must fit a `u32`).
const MAX_NUMBER_DIGITS: u8 = 9;

/// Decodes and checks the `index`th (0-based) entry of a `questions` array.
pub(super) fn question(
    sink: &mut Sink<'_>,
    r: &Resolver<'_>,
    base: &InputPolicy,
    index: usize,
    value: Spanned<DeValue<'_>>,
) -> Option<Question> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        let place = Place::Question(format!("#{}", index + 1));
        let kind = ProblemKind::BadValue("a question must be a table".to_owned());
        sink.push(Some(span), &place, None, kind);
        return None;
    };
    let place = match table.get("id").map(|v| v.get_ref()) {
        Some(DeValue::String(id)) => Place::Question(id.to_string()),
        _ => Place::Question(format!("#{}", index + 1)),
    };
    let Some(kind) = table.remove("type") else {
        sink.push(Some(span), &place, Some("type"), ProblemKind::Missing);
        return None;
    };
    let kind_span = kind.span();
    let rest = Spanned::new(span, DeValue::Table(table));
    match kind.get_ref().as_str() {
        Some("number") => {
            let raw = decode::<RawNumberQuestion>(sink, &place, rest)?;
            number(sink, &place, r, base, Typed(raw, kind_span))
        }
        Some("choice") => {
            let raw = decode::<RawChoiceQuestion>(sink, &place, rest)?;
            choice(sink, &place, r, base, Typed(raw, kind_span))
        }
        other => {
            let name = other.unwrap_or("(not a string)").to_owned();
            let kind = ProblemKind::UnknownQuestionType(name);
            sink.push(Some(kind_span), &place, Some("type"), kind);
            None
        }
    }
}

/// A decoded question with the place of its `type` key.
struct Typed<T>(T, Range<usize>);

/// The report field a question id names, of one of the `allowed` kinds (else the problem is
/// reported at `type_at`, the question's `type`).
fn field(
    sink: &mut Sink<'_>,
    place: &Place,
    id: &Text,
    (allowed, kind_name, type_at): ([FieldKind; 2], &'static str, Range<usize>),
) -> Option<QuestionId> {
    let Some(qid) = QuestionId::new(id.get_ref()) else {
        let kind = ProblemKind::UnknownField(id.get_ref().clone());
        sink.push(Some(id.span()), place, Some("id"), kind);
        return None;
    };
    if !allowed.contains(&qid.kind()) {
        let field = id.get_ref().clone();
        let kind = ProblemKind::WrongQuestionType {
            field,
            kind: kind_name,
        };
        sink.push(Some(type_at), place, Some("type"), kind);
        return None;
    }
    Some(qid)
}

fn number(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    base: &InputPolicy,
    Typed(q, type_at): Typed<RawNumberQuestion>,
) -> Option<Question> {
    let allowed = [FieldKind::Temperature, FieldKind::Spo2];
    let id = field(sink, place, &q.id, (allowed, "number", type_at));
    let prompts = r.prompts(sink, place, "prompts", &q.prompts);
    let len = length(
        sink,
        place,
        q.digits,
        q.min_digits,
        q.max_digits,
        MAX_NUMBER_DIGITS,
    );
    let (min, max) = (*q.min.get_ref(), *q.max.get_ref());
    let mut ranges_ok = true;
    if min > max {
        sink.push(
            Some(q.min.span()),
            place,
            Some("min"),
            ProblemKind::MinAboveMax { min, max },
        );
        ranges_ok = false;
    }
    if let Some(digits) = len.map(|l| match l {
        Length::Fixed(n) | Length::Variable { max: n, .. } => n,
    }) {
        // min ≤ max is checked above, so the largest bound is the one to check here.
        if max > 10u32.pow(u32::from(digits)) - 1 {
            let kind = ProblemKind::RangeBeyondDigits { value: max, digits };
            sink.push(Some(q.max.span()), place, Some("max"), kind);
            ranges_ok = false;
        }
    }
    let largest = id.as_ref().and_then(|id| id.kind().largest_number());
    if let (Some(id), Some(largest)) = (&id, largest) {
        if max > largest {
            let kind = ProblemKind::RangeBeyondField {
                value: max,
                field: id.as_str().to_owned(),
                largest,
            };
            sink.push(Some(q.max.span()), place, Some("max"), kind);
            ranges_ok = false;
        }
    }
    let not_measured = q
        .hash_alone
        .as_ref()
        .map(|h| *h.get_ref() == HashAlone::NotMeasured);
    if let (Some(h), Some(id)) = (&q.hash_alone, &id) {
        if id.kind() != FieldKind::Spo2 {
            let kind = ProblemKind::Conflict("only spo2 can be stored as not measured");
            sink.push(Some(h.span()), place, Some("hash_alone"), kind);
            ranges_ok = false;
        }
    }
    let read_back = read_back(sink, place, r, &q.read_back);
    let o = Overrides {
        first_digit_timeout_ms: q.first_digit_timeout_ms,
        inter_digit_timeout_ms: q.inter_digit_timeout_ms,
        attempts: q.attempts,
        barge_in: q.barge_in,
    };
    let input = policy(sink, place, base, o);
    let kind = NumberQuestion {
        length: len?,
        min,
        max,
        hash_alone_not_measured: not_measured.unwrap_or(false),
        read_back: read_back?,
    };
    ranges_ok.then_some(())?;
    Some(Question {
        id: id?,
        prompts: prompts?,
        input: input?,
        kind: QuestionKind::Number(kind),
    })
}

/// A read-back list: prompts and exactly one `"$value"`, or nothing (no confirmation).
fn read_back(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    list: &[Text],
) -> Option<Vec<ReadBackItem>> {
    let items: Vec<Option<ReadBackItem>> = list
        .iter()
        .map(|t| match t.get_ref().as_str() {
            "$value" => Some(ReadBackItem::Value),
            _ => r
                .prompt(sink, place, "read_back", t)
                .map(ReadBackItem::Prompt),
        })
        .collect();
    let values = list.iter().filter(|t| t.get_ref() == "$value").count();
    if !list.is_empty() && values != 1 {
        let span = list.first().map(|t| t.span());
        let kind = ProblemKind::Conflict("a read-back names \"$value\" exactly once");
        sink.push(span, place, Some("read_back"), kind);
        return None;
    }
    items.into_iter().collect()
}

fn choice(
    sink: &mut Sink<'_>,
    place: &Place,
    r: &Resolver<'_>,
    base: &InputPolicy,
    Typed(q, type_at): Typed<RawChoiceQuestion>,
) -> Option<Question> {
    let allowed = [FieldKind::Symptom, FieldKind::YesNo];
    let id = field(sink, place, &q.id, (allowed, "choice", type_at));
    let prompts = r.prompts(sink, place, "prompts", &q.prompts);
    let keys: Vec<Option<(u8, _)>> = q
        .keys
        .iter()
        .map(|(key, choice)| {
            let digit = key_digit(sink, place, "keys", key);
            let kind = id.as_ref()?.kind();
            let value = choice.get_ref().value_for(kind);
            if value.is_none() {
                let kind = ProblemKind::ChoiceNotStorable {
                    choice: choice.get_ref().name().to_owned(),
                    field: q.id.get_ref().clone(),
                };
                sink.push(Some(choice.span()), place, Some("keys"), kind);
            }
            Some((digit?, value?))
        })
        .collect();
    if q.keys.is_empty() {
        sink.push(
            None,
            place,
            Some("keys"),
            ProblemKind::Conflict("a choice needs at least one key"),
        );
    }
    let o = Overrides {
        first_digit_timeout_ms: q.first_digit_timeout_ms,
        attempts: q.attempts,
        barge_in: q.barge_in,
        ..Overrides::default()
    };
    let input = policy(sink, place, base, o);
    let keys: Vec<_> = keys.into_iter().collect::<Option<_>>()?;
    Some(Question {
        id: id?,
        prompts: prompts?,
        input: input?,
        kind: QuestionKind::Choice(keys).filter_empty()?,
    })
}

impl QuestionKind {
    /// `None` for a choice without keys (already reported).
    fn filter_empty(self) -> Option<QuestionKind> {
        match &self {
            QuestionKind::Choice(keys) if keys.is_empty() => None,
            _ => Some(self),
        }
    }
}
