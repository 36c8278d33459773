//! From a parsed TOML table to the `Raw*` section structs, collecting every problem.
//!
//! serde stops at the first error, so each section is read key by key: a key the section's
//! struct does not declare is an unknown key; a key whose value does not deserialize (alone,
//! the other keys defaulted) is a bad value; the good keys are then read together. The keys a
//! struct declares come from its derived `Deserialize` (see [`field_names`]), so adding a key
//! to a section is adding a field to its struct.

use serde::de::{DeserializeOwned, Deserializer, Visitor};
use toml::{Table, Value};

use super::problem::Problem;

/// Reads sections out of one file's top-level table, collecting problems.
pub(super) struct Reader {
    table: Table,
    /// Everything wrong so far.
    pub problems: Vec<Problem>,
}

impl Reader {
    /// Starts on a parsed file.
    pub fn new(table: Table) -> Reader {
        Reader {
            table,
            problems: Vec::new(),
        }
    }

    /// `[name]` as `T`; `T::default()` when absent; bad keys are left out (and recorded).
    pub fn section<T: DeserializeOwned + Default>(&mut self, name: &str) -> T {
        match self.table.remove(name) {
            None => T::default(),
            Some(Value::Table(t)) => self.fields(name, None, t),
            Some(other) => {
                self.type_problem(name, None, "", &other, "a table");
                T::default()
            }
        }
    }

    /// `[[name]]` as a list of `T`, `None` when absent; each table is read like a section.
    pub fn array<T: DeserializeOwned + Default>(&mut self, name: &str) -> Option<Vec<T>> {
        match self.table.remove(name)? {
            Value::Array(items) => Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::Table(t) => self.fields(name, Some(i), t),
                        other => {
                            self.type_problem(name, Some(i), "", &other, "a table");
                            T::default()
                        }
                    })
                    .collect(),
            ),
            other => {
                self.type_problem(name, None, "", &other, "an array of tables ([[…]])");
                None
            }
        }
    }

    /// Records every key or section left unread: none of them is known.
    pub fn finish(mut self) -> Vec<Problem> {
        for (name, value) in std::mem::take(&mut self.table) {
            let problem = match value {
                Value::Table(_) => Problem::new(&name, None, "", "unknown section"),
                _ => Problem::new("", None, &name, "unknown key"),
            };
            self.problems.push(problem);
        }
        self.problems
    }

    fn fields<T: DeserializeOwned + Default>(
        &mut self,
        section: &str,
        index: Option<usize>,
        table: Table,
    ) -> T {
        let known = field_names::<T>();
        let mut good = Table::new();
        for (key, value) in table {
            if !known.contains(&key.as_str()) {
                self.problems
                    .push(Problem::new(section, index, &key, "unknown key"));
                continue;
            }
            let mut one = Table::new();
            one.insert(key.clone(), value.clone());
            match T::deserialize(Value::Table(one)) {
                Ok(_) => {
                    good.insert(key, value);
                }
                Err(e) => {
                    let reason = plain_message(&e.to_string(), &value);
                    self.problems
                        .push(Problem::new(section, index, &key, reason));
                }
            }
        }
        T::deserialize(Value::Table(good)).unwrap_or_else(|e| {
            let reason = e.to_string().trim().to_owned();
            self.problems.push(Problem::new(section, index, "", reason));
            T::default()
        })
    }

    fn type_problem(
        &mut self,
        section: &str,
        index: Option<usize>,
        key: &str,
        value: &Value,
        expected: &str,
    ) {
        let reason = format!("expected {expected}, found {}", kind(value));
        self.problems
            .push(Problem::new(section, index, key, reason));
    }
}

/// serde's message in an operator's words: `invalid type: string "x", expected usize` →
/// `expected a non-negative integer, found a string`. Other messages are kept.
fn plain_message(message: &str, value: &Value) -> String {
    let message = message.lines().next().unwrap_or("").trim();
    let expected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "))
        .map(|(_, expected)| expected);
    let Some(expected) = expected else {
        return message.to_owned();
    };
    let expected = match expected {
        "usize" | "u64" | "u32" => "a non-negative integer",
        "u16" => "an integer from 0 to 65535",
        "u8" => "an integer from 0 to 255",
        "f64" | "f32" => "a number",
        "a boolean" => "true or false",
        other => other,
    };
    format!("expected {expected}, found {}", kind(value))
}

/// The TOML type of a value, for messages (never the value: it may be a password).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(i) if *i < 0 => "a negative integer",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// The field names `T`'s derived `Deserialize` declares (it passes them to
/// `deserialize_struct`); empty for a type that is not a struct.
pub(super) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

struct FieldProbe<'a>(&'a mut &'static [&'static str]);

/// Stops the probe (it never reads a value).
#[derive(Debug, thiserror::Error)]
#[error("field probe")]
struct ProbeDone;

impl serde::de::Error for ProbeDone {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        ProbeDone
    }
}

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = ProbeDone;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeDone> {
        Err(ProbeDone)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ProbeDone> {
        *self.0 = fields;
        Err(ProbeDone)
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

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Section {
        port: u16,
        name: String,
    }

    #[test]
    fn every_unknown_key_and_bad_value_is_recorded_and_good_keys_are_kept() {
        let table: Table =
            toml::from_str("[s]\nport = \"x\"\nnmae = \"a\"\nname = \"b\"\nextra = 1\n[t]\n")
                .unwrap();
        let mut r = Reader::new(table);
        let s: Section = r.section("s");
        assert_eq!(
            s,
            Section {
                port: 0,
                name: "b".into()
            }
        );
        let problems = r.finish();
        let keys: Vec<(&str, &str, &str)> = problems
            .iter()
            .map(|p| (p.section.as_str(), p.key.as_str(), p.reason.as_str()))
            .collect();
        assert!(
            keys.contains(&(
                "s",
                "port",
                "expected an integer from 0 to 65535, found a string"
            )),
            "{keys:?}"
        );
        assert!(keys.contains(&("s", "nmae", "unknown key")), "{keys:?}");
        assert!(keys.contains(&("s", "extra", "unknown key")), "{keys:?}");
        assert!(keys.contains(&("t", "", "unknown section")), "{keys:?}");
        assert_eq!(field_names::<Section>(), ["port", "name"]);
    }
}
