//! The dialplan file format as serde structs (`deny_unknown_fields`, spans kept), and the
//! decoder that turns one TOML table into one of them while recording every problem.
//!
//! These types say what may be written; `convert` says what it means.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::de::{DeValue, ValueDeserializer};
use toml::Spanned;

use super::answer::Choice;
use super::error::{Place, Problem, ProblemKind};
use super::event::CallOutcome;
use super::model::{MenuAction, Slot};
use crate::lang::Language;

/// A string with its place in the file.
pub(super) type Text = Spanned<String>;

/// `[dialplan]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeader {
    pub id: Text,
    pub version: u32,
    pub start: Text,
    #[serde(default)]
    pub include: Vec<Text>,
}

/// `[defaults]`: every key optional, built-in values as in SPEC §5a.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub inter_digit_timeout_ms: Option<Spanned<u32>>,
    pub terminator: Option<Text>,
    pub attempts: Option<Spanned<u8>>,
    pub barge_in: Option<bool>,
    pub no_input: Option<Text>,
    pub invalid_input: Option<Text>,
    pub skipped: Option<Text>,
}

/// A step's overrides of `[defaults]`; which ones a step type accepts is up to its struct.
#[derive(Debug, Default)]
pub(super) struct Overrides {
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub inter_digit_timeout_ms: Option<Spanned<u32>>,
    pub attempts: Option<Spanned<u8>>,
    pub barge_in: Option<bool>,
}

/// `type = "play"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlay {
    pub prompts: Vec<Text>,
    pub next: Text,
    pub barge_in: Option<bool>,
}

/// `type = "language_menu"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLanguageMenu {
    pub prompt: Text,
    #[serde(default)]
    pub repeats: u8,
    pub default: Language,
    pub next: Text,
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub barge_in: Option<bool>,
}

/// `type = "menu"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMenu {
    pub prompts: Vec<Text>,
    pub options: BTreeMap<Text, RawOption>,
    #[serde(default)]
    pub repeats: u8,
    pub on_no_input: Text,
    pub on_other_key: Option<Text>,
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub barge_in: Option<bool>,
}

/// One menu key: `1 = { goto = "questions", action = "new_report" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOption {
    pub goto: Text,
    pub action: Option<MenuAction>,
}

/// `type = "collect"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCollect {
    pub into: Spanned<Slot>,
    pub prompts: Vec<Text>,
    pub digits: Option<Spanned<u8>>,
    pub min_digits: Option<Spanned<u8>>,
    pub max_digits: Option<Spanned<u8>>,
    pub next: Text,
    pub on_exhausted: Text,
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub inter_digit_timeout_ms: Option<Spanned<u32>>,
    pub attempts: Option<Spanned<u8>>,
    pub barge_in: Option<bool>,
}

/// `type = "identify"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentify {
    pub on_confirmed: Text,
    pub on_not_confirmed: Text,
    pub not_confirmed_prompt: Text,
    pub max_failures: Spanned<u8>,
    pub on_too_many_failures: Text,
    pub on_unavailable: Text,
}

/// `type = "questions"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuestions {
    pub next: Text,
}

/// `type = "hangup"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHangup {
    #[serde(default)]
    pub prompts: Vec<Text>,
    pub outcome: CallOutcome,
}

/// `[[questions]]` with `type = "number"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNumberQuestion {
    pub id: Text,
    pub prompts: Vec<Text>,
    pub digits: Option<Spanned<u8>>,
    pub min_digits: Option<Spanned<u8>>,
    pub max_digits: Option<Spanned<u8>>,
    pub min: Spanned<u32>,
    pub max: Spanned<u32>,
    pub hash_alone: Option<Spanned<HashAlone>>,
    #[serde(default)]
    pub read_back: Vec<Text>,
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub inter_digit_timeout_ms: Option<Spanned<u32>>,
    pub attempts: Option<Spanned<u8>>,
    pub barge_in: Option<bool>,
}

/// What `#` alone means for a number question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum HashAlone {
    /// The value was not measured (SpO2 without an oximeter).
    NotMeasured,
}

/// `[[questions]]` with `type = "choice"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChoiceQuestion {
    pub id: Text,
    pub prompts: Vec<Text>,
    pub keys: BTreeMap<Text, Spanned<Choice>>,
    pub first_digit_timeout_ms: Option<Spanned<u32>>,
    pub attempts: Option<Spanned<u8>>,
    pub barge_in: Option<bool>,
}

/// Where problems of one file go: the file's name and text (for line numbers) and the list.
pub(super) struct Sink<'a> {
    pub file: &'a str,
    pub src: &'a str,
    pub problems: &'a mut Vec<Problem>,
}

impl Sink<'_> {
    /// Records a problem; `span` (bytes of the file) gives the line.
    pub fn push(
        &mut self,
        span: Option<Range<usize>>,
        place: &Place,
        field: Option<&str>,
        kind: ProblemKind,
    ) {
        let line = span.map(|s| line_of(self.src, s.start));
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line,
            place: place.clone(),
            field: field.map(str::to_owned),
            kind,
        });
    }
}

/// The 1-based line of a byte offset.
pub(super) fn line_of(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Decodes one table into `T`. Every unknown key is reported (not just the first) and dropped,
/// then serde reports the first remaining problem. Returns `None` when the table did not
/// decode; unknown keys alone do not stop decoding, so later checks still run.
pub(super) fn decode<T: DeserializeOwned>(
    sink: &mut Sink<'_>,
    place: &Place,
    value: Spanned<DeValue<'_>>,
) -> Option<T> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        let kind = ProblemKind::BadValue("expected a table".to_owned());
        sink.push(Some(span), place, None, kind);
        return None;
    };
    let fields = struct_fields::<T>();
    let mut unknown: Vec<_> = table
        .keys()
        .filter(|k| !fields.contains(&k.get_ref().as_ref()))
        .cloned()
        .collect();
    unknown.sort_by_key(|k| k.span().start);
    for key in &unknown {
        let expected = fields.join(", ");
        let kind = ProblemKind::UnknownKey { expected };
        sink.push(Some(key.span()), place, Some(key.get_ref()), kind);
        table.remove(key.get_ref().as_ref());
    }
    let spans: Vec<(String, Range<usize>)> = table
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), k.span().start..v.span().end))
        .collect();
    let de = ValueDeserializer::from(Spanned::new(span, DeValue::Table(table)));
    match T::deserialize(de) {
        Ok(v) => Some(v),
        Err(e) => {
            let (field, kind) = match missing_field(e.message()) {
                Some(name) => (Some(name.to_owned()), ProblemKind::Missing),
                None => {
                    let at = e.span().map(|s| s.start);
                    let field = at.and_then(|at| {
                        spans
                            .iter()
                            .find(|(_, s)| s.contains(&at))
                            .map(|(k, _)| k.clone())
                    });
                    (field, ProblemKind::BadValue(e.message().to_owned()))
                }
            };
            sink.push(e.span(), place, field.as_deref(), kind);
            None
        }
    }
}

/// The field name in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// The field names serde expects for struct `T` (asked of `T`'s derived `Deserialize`).
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only records the field list a struct asks for, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("field names only"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("field names only"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_str<T: DeserializeOwned>(src: &str) -> (Option<T>, Vec<String>) {
        let mut problems = Vec::new();
        let root = toml::de::DeTable::parse(src).unwrap();
        let span = root.span();
        let value = Spanned::new(span, DeValue::Table(root.into_inner()));
        let mut sink = Sink {
            file: "t.toml",
            src,
            problems: &mut problems,
        };
        let out = decode::<T>(&mut sink, &Place::Step("s".into()), value);
        (out, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn field_names_come_from_the_derive() {
        assert_eq!(struct_fields::<RawQuestions>(), &["next"]);
        assert_eq!(struct_fields::<RawPlay>(), &["prompts", "next", "barge_in"]);
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_line() {
        let src = "prompts = []\nnxt = \"a\"\nnext = \"b\"\nbarge = true\n";
        let (out, problems) = decode_str::<RawPlay>(src);
        assert_eq!(out.unwrap().next.get_ref(), "b");
        let expected = [
            "t.toml:2: step `s`, field `nxt`: unknown key; expected one of prompts, next, barge_in",
            "t.toml:4: step `s`, field `barge`: unknown key; expected one of prompts, next, barge_in",
        ];
        assert_eq!(problems, expected);
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let (out, problems) = decode_str::<RawPlay>("prompts = []\n");
        assert!(out.is_none());
        assert_eq!(problems, ["t.toml:1: step `s`, field `next`: missing"]);
        let (_, problems) = decode_str::<RawPlay>("prompts = []\nnext = 3\n");
        assert_eq!(
            problems,
            ["t.toml:2: step `s`, field `next`: invalid type: integer `3`, expected a string"]
        );
    }

    #[test]
    fn lines_count_newlines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
