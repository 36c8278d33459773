//! Saying numbers: a pure function per language from a value to the prompt ids that speak it
//! (the shape of Asterisk's `ast_say_*` and FreeSWITCH's `mod_say_*`, one file per language).
//!
//! Owns the number grammar of each language and the list of number-word ids (`num_*`) each
//! language can emit. Must not touch audio, files or the prompt catalogue loader: playing the
//! ids is the player's job, and the words' text and recordings live in `prompts/`.
//!
//! Range: integers 0–100 and tenths 0.0–100.9 are read as numbers; anything larger is read
//! digit by digit (so every value still comes out intelligible); digit strings are read one
//! digit at a time, the way each language reads a phone number.

use std::fmt;

use crate::lang::Language;

mod en;
mod es;
mod ja;
mod ko;
mod pt;
mod yue;
mod zh_cn;
mod zh_tw;

#[cfg(test)]
mod check;

/// A value to read back to the caller.
///
/// `Debug` never prints the value: keyed digits and answers are personal data.
#[derive(Clone, PartialEq, Eq)]
pub enum Number {
    /// A whole number, such as an SpO2 percentage (`97`). Read as a number up to 100.
    Integer(u32),
    /// A number in tenths: `365` is 36.5, such as a body temperature. Read as a number up to
    /// 100.9.
    Tenths(u32),
    /// A string of digits read one by one (an ID, a birthday). Characters other than the
    /// ASCII digits `0`–`9` (a `*` or `#` keyed by the caller) are skipped.
    Digits(String),
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Number::Integer(_) => "Integer",
            Number::Tenths(_) => "Tenths",
            Number::Digits(_) => "Digits",
        };
        write!(f, "{variant}([redacted])")
    }
}

/// A unit prompt said with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Degrees Celsius, prompt `unit_degrees`.
    Degrees,
    /// Percent, prompt `unit_percent`.
    Percent,
}

impl Unit {
    /// The catalogue prompt id of this unit.
    pub fn prompt_id(self) -> &'static str {
        match self {
            Unit::Degrees => "unit_degrees",
            Unit::Percent => "unit_percent",
        }
    }
}

/// The prompt ids that speak `n` in `lang`, in playing order. Never empty except for a
/// `Digits` string with no digit in it. Every id returned is in [`words`]`(lang)`.
pub fn say(lang: Language, n: &Number) -> Vec<&'static str> {
    let grammar = grammar(lang);
    match n {
        Number::Integer(v) if *v <= 100 => (grammar.integer)(*v),
        Number::Integer(v) => read_digits(grammar, &v.to_string()),
        Number::Tenths(t) if *t / 10 <= 100 => (grammar.tenths)(*t / 10, *t % 10),
        Number::Tenths(t) => {
            let mut ids = read_digits(grammar, &(*t / 10).to_string());
            ids.push("num_point");
            ids.push(NUM[(*t % 10) as usize]);
            ids
        }
        Number::Digits(s) => read_digits(grammar, s),
    }
}

/// [`say`] with a unit in the place `lang` puts it: after the number ("97 percent"), except
/// the percent sign in Mandarin and Cantonese, which is said first (百分之九十七).
pub fn say_with_unit(lang: Language, n: &Number, unit: Unit) -> Vec<&'static str> {
    let unit_first =
        unit == Unit::Percent && matches!(lang, Language::ZhCn | Language::ZhTw | Language::Yue);
    let number = say(lang, n);
    let mut ids = Vec::with_capacity(number.len() + 1);
    if unit_first {
        ids.push(unit.prompt_id());
    }
    ids.extend(number);
    if !unit_first {
        ids.push(unit.prompt_id());
    }
    ids
}

/// Every id [`say`] can emit for `lang`: the keys of `[words.<lang>]` in the catalogue, each
/// with a recording `prompts/<lang>/<id>.wav`.
pub fn words(lang: Language) -> &'static [&'static str] {
    grammar(lang).words
}

/// One language's number grammar.
struct Grammar {
    /// Ids for an integer 0–100.
    integer: fn(u32) -> Vec<&'static str>,
    /// Ids for `whole` point `tenth`, with `whole` 0–100 and `tenth` 0–9.
    tenths: fn(u32, u32) -> Vec<&'static str>,
    /// The id for one digit 0–9 of a digit string.
    digit: fn(u32) -> &'static str,
    /// Every id the three functions above can return.
    words: &'static [&'static str],
}

fn grammar(lang: Language) -> &'static Grammar {
    match lang {
        Language::Ja => &ja::GRAMMAR,
        Language::En => &en::GRAMMAR,
        Language::ZhCn => &zh_cn::GRAMMAR,
        Language::Yue => &yue::GRAMMAR,
        Language::ZhTw => &zh_tw::GRAMMAR,
        Language::Ko => &ko::GRAMMAR,
        Language::Es => &es::GRAMMAR,
        Language::Pt => &pt::GRAMMAR,
    }
}

fn read_digits(grammar: &Grammar, s: &str) -> Vec<&'static str> {
    s.chars()
        .filter_map(|c| c.to_digit(10))
        .map(grammar.digit)
        .collect()
}

/// Tens then units, the shape of Japanese, Chinese and Cantonese numbers from 0 to 100
/// (三十六 = 三十 + 六; 十六 = 十 + 六; 一百 is one word).
fn tens_then_units(n: u32) -> Vec<&'static str> {
    let (tens, units) = (n / 10, n % 10);
    match (tens, units) {
        (0, _) | (10, 0) => vec![NUM[n as usize]],
        (_, 0) => vec![NUM[(tens * 10) as usize]],
        _ => vec![NUM[(tens * 10) as usize], NUM[units as usize]],
    }
}

/// The number, `num_point`, then the tenth as a plain number word.
fn tenths_with_point(
    integer: fn(u32) -> Vec<&'static str>,
    whole: u32,
    tenth: u32,
) -> Vec<&'static str> {
    let mut ids = integer(whole);
    ids.push("num_point");
    ids.push(NUM[tenth as usize]);
    ids
}

/// The plain digit word `num_0`…`num_9`.
fn plain_digit(d: u32) -> &'static str {
    NUM[d as usize % 10]
}

/// `num_0` … `num_100`: the ids of whole-number words, indexed by value. Each language uses
/// the ones its grammar needs and lists them in its `WORDS`.
const NUM: [&str; 101] = [
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_11", "num_12", "num_13", "num_14", "num_15", "num_16", "num_17", "num_18",
    "num_19", "num_20", "num_21", "num_22", "num_23", "num_24", "num_25", "num_26", "num_27",
    "num_28", "num_29", "num_30", "num_31", "num_32", "num_33", "num_34", "num_35", "num_36",
    "num_37", "num_38", "num_39", "num_40", "num_41", "num_42", "num_43", "num_44", "num_45",
    "num_46", "num_47", "num_48", "num_49", "num_50", "num_51", "num_52", "num_53", "num_54",
    "num_55", "num_56", "num_57", "num_58", "num_59", "num_60", "num_61", "num_62", "num_63",
    "num_64", "num_65", "num_66", "num_67", "num_68", "num_69", "num_70", "num_71", "num_72",
    "num_73", "num_74", "num_75", "num_76", "num_77", "num_78", "num_79", "num_80", "num_81",
    "num_82", "num_83", "num_84", "num_85", "num_86", "num_87", "num_88", "num_89", "num_90",
    "num_91", "num_92", "num_93", "num_94", "num_95", "num_96", "num_97", "num_98", "num_99",
    "num_100",
];
