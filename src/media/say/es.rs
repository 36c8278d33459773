//! Spanish (Latin America): treinta y seis coma cinco (36.5).
//!
//! Words: whole words cero…veintinueve (Spanish fuses 16 dieciséis and 21–29 veintiuno,
//! veintidós…), tens treinta…noventa, and "treinta y"…"noventa y" recorded with their "y"
//! so that 31–99 join as spoken ([tɾeintaiˈseis]), cien, coma. Numbers here never come before
//! a noun, so 21 and 31 keep their full forms (veintiuno, treinta y uno).

use super::{plain_digit, Grammar, NUM};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer,
    tenths,
    digit: plain_digit,
    words: WORDS,
};

/// "treinta y" … "noventa y", indexed by the tens digit.
const TENS_AND: [&str; 10] = [
    "", "", "", "num_30_y", "num_40_y", "num_50_y", "num_60_y", "num_70_y", "num_80_y", "num_90_y",
];

fn integer(n: u32) -> Vec<&'static str> {
    if n < 30 || n.is_multiple_of(10) {
        vec![NUM[n as usize]]
    } else {
        vec![TENS_AND[(n / 10) as usize], NUM[(n % 10) as usize]]
    }
}

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    super::tenths_with_point(integer, whole, tenth)
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_11", "num_12", "num_13", "num_14", "num_15", "num_16", "num_17", "num_18",
    "num_19", "num_20", "num_21", "num_22", "num_23", "num_24", "num_25", "num_26", "num_27",
    "num_28", "num_29", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80", "num_90",
    "num_30_y", "num_40_y", "num_50_y", "num_60_y", "num_70_y", "num_80_y", "num_90_y", "num_100",
    "num_point",
];

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::Es, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
        "diez", "once", "doce", "trece", "catorce",
        "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve",
        "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro",
        "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve",
        "treinta", "treinta y uno", "treinta y dos", "treinta y tres", "treinta y cuatro",
        "treinta y cinco", "treinta y seis", "treinta y siete", "treinta y ocho", "treinta y nueve",
        "cuarenta", "cuarenta y uno", "cuarenta y dos", "cuarenta y tres",
        "cuarenta y cuatro", "cuarenta y cinco", "cuarenta y seis", "cuarenta y siete",
        "cuarenta y ocho", "cuarenta y nueve",
        "cincuenta", "cincuenta y uno", "cincuenta y dos", "cincuenta y tres",
        "cincuenta y cuatro", "cincuenta y cinco", "cincuenta y seis", "cincuenta y siete",
        "cincuenta y ocho", "cincuenta y nueve",
        "sesenta", "sesenta y uno", "sesenta y dos", "sesenta y tres", "sesenta y cuatro",
        "sesenta y cinco", "sesenta y seis", "sesenta y siete", "sesenta y ocho", "sesenta y nueve",
        "setenta", "setenta y uno", "setenta y dos", "setenta y tres", "setenta y cuatro",
        "setenta y cinco", "setenta y seis", "setenta y siete", "setenta y ocho", "setenta y nueve",
        "ochenta", "ochenta y uno", "ochenta y dos", "ochenta y tres", "ochenta y cuatro",
        "ochenta y cinco", "ochenta y seis", "ochenta y siete", "ochenta y ocho", "ochenta y nueve",
        "noventa", "noventa y uno", "noventa y dos", "noventa y tres", "noventa y cuatro",
        "noventa y cinco", "noventa y seis", "noventa y siete", "noventa y ocho", "noventa y nueve",
        "cien",
    ];

    const HEADS_34_TO_42: [&str; 9] = [
        "treinta y cuatro coma",
        "treinta y cinco coma",
        "treinta y seis coma",
        "treinta y siete coma",
        "treinta y ocho coma",
        "treinta y nueve coma",
        "cuarenta coma",
        "cuarenta y uno coma",
        "cuarenta y dos coma",
    ];
    const TENTHS: [&str; 10] = [
        "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
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
        assert_eq!(say(Number::Tenths(365)), "treinta y seis coma cinco");
        assert_eq!(say(Number::Integer(16)), "dieciséis");
        assert_eq!(say(Number::Integer(21)), "veintiuno");
        assert_eq!(say(Number::Integer(22)), "veintidós");
        assert_eq!(say(Number::Integer(31)), "treinta y uno");
        assert_eq!(say(Number::Integer(100)), "cien");
        assert_eq!(say(Number::Tenths(400)), "cuarenta coma cero");
        assert_eq!(say(Number::Digits("0415".into())), "cero cuatro uno cinco");
    }
}
