//! Portuguese (Brazil): trinta e seis vírgula cinco (36.5).
//!
//! Words: whole words zero…dezenove (Brazilian dezesseis, dezessete, dezenove), tens
//! vinte…noventa, and "vinte e"…"noventa e" recorded with their "e" so that 21–99 join as
//! spoken, cem, vírgula. Numbers here never come before a feminine noun, so 1 and 2 are um
//! and dois. In digit strings 6 is "meia", as Brazilians read phone numbers (seis and três
//! sound alike on a poor line).

use super::{plain_digit, Grammar, NUM};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer,
    tenths,
    digit,
    words: WORDS,
};

/// "vinte e" … "noventa e", indexed by the tens digit.
const TENS_AND: [&str; 10] = [
    "", "", "num_20_e", "num_30_e", "num_40_e", "num_50_e", "num_60_e", "num_70_e", "num_80_e",
    "num_90_e",
];

fn integer(n: u32) -> Vec<&'static str> {
    if n < 20 || n.is_multiple_of(10) {
        vec![NUM[n as usize]]
    } else {
        vec![TENS_AND[(n / 10) as usize], NUM[(n % 10) as usize]]
    }
}

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    super::tenths_with_point(integer, whole, tenth)
}

fn digit(d: u32) -> &'static str {
    if d == 6 {
        "num_6_digit"
    } else {
        plain_digit(d)
    }
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_11", "num_12", "num_13", "num_14", "num_15", "num_16", "num_17", "num_18",
    "num_19", "num_20", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80", "num_90",
    "num_20_e", "num_30_e", "num_40_e", "num_50_e", "num_60_e", "num_70_e", "num_80_e", "num_90_e",
    "num_100", "num_point", "num_6_digit",
];

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::Pt, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove",
        "dez", "onze", "doze", "treze", "catorze",
        "quinze", "dezesseis", "dezessete", "dezoito", "dezenove",
        "vinte", "vinte e um", "vinte e dois", "vinte e três", "vinte e quatro",
        "vinte e cinco", "vinte e seis", "vinte e sete", "vinte e oito", "vinte e nove",
        "trinta", "trinta e um", "trinta e dois", "trinta e três", "trinta e quatro",
        "trinta e cinco", "trinta e seis", "trinta e sete", "trinta e oito", "trinta e nove",
        "quarenta", "quarenta e um", "quarenta e dois", "quarenta e três",
        "quarenta e quatro", "quarenta e cinco", "quarenta e seis", "quarenta e sete",
        "quarenta e oito", "quarenta e nove",
        "cinquenta", "cinquenta e um", "cinquenta e dois", "cinquenta e três",
        "cinquenta e quatro", "cinquenta e cinco", "cinquenta e seis", "cinquenta e sete",
        "cinquenta e oito", "cinquenta e nove",
        "sessenta", "sessenta e um", "sessenta e dois", "sessenta e três",
        "sessenta e quatro", "sessenta e cinco", "sessenta e seis", "sessenta e sete",
        "sessenta e oito", "sessenta e nove",
        "setenta", "setenta e um", "setenta e dois", "setenta e três", "setenta e quatro",
        "setenta e cinco", "setenta e seis", "setenta e sete", "setenta e oito", "setenta e nove",
        "oitenta", "oitenta e um", "oitenta e dois", "oitenta e três", "oitenta e quatro",
        "oitenta e cinco", "oitenta e seis", "oitenta e sete", "oitenta e oito", "oitenta e nove",
        "noventa", "noventa e um", "noventa e dois", "noventa e três", "noventa e quatro",
        "noventa e cinco", "noventa e seis", "noventa e sete", "noventa e oito", "noventa e nove",
        "cem",
    ];

    const HEADS_34_TO_42: [&str; 9] = [
        "trinta e quatro vírgula",
        "trinta e cinco vírgula",
        "trinta e seis vírgula",
        "trinta e sete vírgula",
        "trinta e oito vírgula",
        "trinta e nove vírgula",
        "quarenta vírgula",
        "quarenta e um vírgula",
        "quarenta e dois vírgula",
    ];
    const TENTHS: [&str; 10] = [
        "zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove",
    ];

    #[test]
    fn integers_0_to_100() {
        for (n, want) in (0u32..).zip(ZERO_TO_100) {
            assert_eq!(say(Number::Integer(n)), want, "{n}");
        }
    }

    #[test]
    fn temperatures_34_0_to_42_9() {
        for (whole, head) in (34u32..).zip(HEADS_34_TO_42) {
            for (tenth, tail) in (0u32..).zip(TENTHS) {
                let want = format!("{head} {tail}");
                assert_eq!(
                    say(Number::Tenths(whole * 10 + tenth)),
                    want,
                    "{whole}.{tenth}"
                );
            }
        }
    }

    #[test]
    fn examples_from_the_brief_and_edges() {
        assert_eq!(say(Number::Tenths(365)), "trinta e seis vírgula cinco");
        assert_eq!(say(Number::Integer(16)), "dezesseis");
        assert_eq!(say(Number::Integer(100)), "cem");
        assert_eq!(say(Number::Integer(21)), "vinte e um");
        assert_eq!(say(Number::Tenths(400)), "quarenta vírgula zero");
        assert_eq!(say(Number::Digits("365".into())), "três meia cinco");
    }
}
