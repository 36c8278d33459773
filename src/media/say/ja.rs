//! Japanese: さんじゅう ろく てん ご (36.5).
//!
//! Words: units いち…きゅう with よん, なな, きゅう (the readings used on the phone), tens
//! じゅう…きゅうじゅう, ひゃく, てん. Zero is ゼロ, in 40.0 (よんじゅう てん ゼロ) as in digit
//! strings: it is what nurses and phone services say, and it cannot be lost on a poor line
//! the way the one-syllable れい can. A 1 before the point fuses to いってん (よんじゅう
//! いってん ご), as every speaker says it. In digit strings 2 and 5 are lengthened to にー and
//! ごー, as Japanese read phone numbers.

use super::{plain_digit, tens_then_units, Grammar, NUM};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer: tens_then_units,
    tenths,
    digit,
    words: WORDS,
};

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    let mut ids = tens_then_units(whole);
    if whole % 10 == 1 {
        ids.pop();
        ids.push("num_1_point");
    } else {
        ids.push("num_point");
    }
    ids.push(NUM[tenth as usize]);
    ids
}

fn digit(d: u32) -> &'static str {
    match d {
        2 => "num_2_digit",
        5 => "num_5_digit",
        _ => plain_digit(d),
    }
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_20", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80", "num_90",
    "num_100", "num_point", "num_1_point", "num_2_digit", "num_5_digit",
];

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::Ja, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "ゼロ", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう",
        "じゅう", "じゅういち", "じゅうに", "じゅうさん", "じゅうよん",
        "じゅうご", "じゅうろく", "じゅうなな", "じゅうはち", "じゅうきゅう",
        "にじゅう", "にじゅういち", "にじゅうに", "にじゅうさん", "にじゅうよん",
        "にじゅうご", "にじゅうろく", "にじゅうなな", "にじゅうはち", "にじゅうきゅう",
        "さんじゅう", "さんじゅういち", "さんじゅうに", "さんじゅうさん", "さんじゅうよん",
        "さんじゅうご", "さんじゅうろく", "さんじゅうなな", "さんじゅうはち", "さんじゅうきゅう",
        "よんじゅう", "よんじゅういち", "よんじゅうに", "よんじゅうさん", "よんじゅうよん",
        "よんじゅうご", "よんじゅうろく", "よんじゅうなな", "よんじゅうはち", "よんじゅうきゅう",
        "ごじゅう", "ごじゅういち", "ごじゅうに", "ごじゅうさん", "ごじゅうよん",
        "ごじゅうご", "ごじゅうろく", "ごじゅうなな", "ごじゅうはち", "ごじゅうきゅう",
        "ろくじゅう", "ろくじゅういち", "ろくじゅうに", "ろくじゅうさん", "ろくじゅうよん",
        "ろくじゅうご", "ろくじゅうろく", "ろくじゅうなな", "ろくじゅうはち", "ろくじゅうきゅう",
        "ななじゅう", "ななじゅういち", "ななじゅうに", "ななじゅうさん", "ななじゅうよん",
        "ななじゅうご", "ななじゅうろく", "ななじゅうなな", "ななじゅうはち", "ななじゅうきゅう",
        "はちじゅう", "はちじゅういち", "はちじゅうに", "はちじゅうさん", "はちじゅうよん",
        "はちじゅうご", "はちじゅうろく", "はちじゅうなな", "はちじゅうはち", "はちじゅうきゅう",
        "きゅうじゅう", "きゅうじゅういち", "きゅうじゅうに", "きゅうじゅうさん",
        "きゅうじゅうよん", "きゅうじゅうご", "きゅうじゅうろく", "きゅうじゅうなな",
        "きゅうじゅうはち", "きゅうじゅうきゅう",
        "ひゃく",
    ];

    /// 34. to 42. as said before the tenth.
    const HEADS_34_TO_42: [&str; 9] = [
        "さんじゅうよんてん",
        "さんじゅうごてん",
        "さんじゅうろくてん",
        "さんじゅうななてん",
        "さんじゅうはちてん",
        "さんじゅうきゅうてん",
        "よんじゅうてん",
        "よんじゅういってん",
        "よんじゅうにてん",
    ];
    const TENTHS: [&str; 10] = [
        "ゼロ",
        "いち",
        "に",
        "さん",
        "よん",
        "ご",
        "ろく",
        "なな",
        "はち",
        "きゅう",
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
                let want = format!("{head}{tail}");
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
        assert_eq!(say(Number::Tenths(365)), "さんじゅうろくてんご");
        assert_eq!(say(Number::Tenths(400)), "よんじゅうてんゼロ");
        assert_eq!(say(Number::Tenths(415)), "よんじゅういってんご");
        assert_eq!(say(Number::Tenths(15)), "いってんご");
        assert_eq!(say(Number::Tenths(5)), "ゼロてんご");
        assert_eq!(say(Number::Tenths(999)), "きゅうじゅうきゅうてんきゅう");
        assert_eq!(say(Number::Integer(100)), "ひゃく");
        assert_eq!(say(Number::Digits("0415".into())), "ゼロよんいちごー");
        assert_eq!(say(Number::Digits("*12#".into())), "いちにー");
        assert_eq!(say(Number::Integer(250)), "にーごーゼロ");
    }
}
