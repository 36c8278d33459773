//! Korean, Sino-Korean numbers: 삼십육 점 오 (36.5).
//!
//! Words: whole words 영…백 for 0–100 and 점. Whole words, because Korean joins a ten and a
//! unit in speech (삼십육 is said [삼심뉵], 삼십일 [삼시빌]); a tens word and a units word
//! played one after the other would lose that. Zero is 영 in numbers (사십 점 영) and 공 in
//! digit strings, as Koreans read phone numbers.

use super::{plain_digit, Grammar, NUM};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer,
    tenths,
    digit,
    words: &WORDS,
};

fn integer(n: u32) -> Vec<&'static str> {
    vec![NUM[n as usize]]
}

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    super::tenths_with_point(integer, whole, tenth)
}

fn digit(d: u32) -> &'static str {
    if d == 0 {
        "num_0_digit"
    } else {
        plain_digit(d)
    }
}

/// All of `num_0`…`num_100`, then 점 and 공.
const WORDS: [&str; 103] = {
    let mut words = ["num_point"; 103];
    let mut i = 0;
    while i < NUM.len() {
        words[i] = NUM[i];
        i += 1;
    }
    words[102] = "num_0_digit";
    words
};

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::Ko, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구",
        "십", "십일", "십이", "십삼", "십사", "십오", "십육", "십칠", "십팔", "십구",
        "이십", "이십일", "이십이", "이십삼", "이십사",
        "이십오", "이십육", "이십칠", "이십팔", "이십구",
        "삼십", "삼십일", "삼십이", "삼십삼", "삼십사",
        "삼십오", "삼십육", "삼십칠", "삼십팔", "삼십구",
        "사십", "사십일", "사십이", "사십삼", "사십사",
        "사십오", "사십육", "사십칠", "사십팔", "사십구",
        "오십", "오십일", "오십이", "오십삼", "오십사",
        "오십오", "오십육", "오십칠", "오십팔", "오십구",
        "육십", "육십일", "육십이", "육십삼", "육십사",
        "육십오", "육십육", "육십칠", "육십팔", "육십구",
        "칠십", "칠십일", "칠십이", "칠십삼", "칠십사",
        "칠십오", "칠십육", "칠십칠", "칠십팔", "칠십구",
        "팔십", "팔십일", "팔십이", "팔십삼", "팔십사",
        "팔십오", "팔십육", "팔십칠", "팔십팔", "팔십구",
        "구십", "구십일", "구십이", "구십삼", "구십사",
        "구십오", "구십육", "구십칠", "구십팔", "구십구",
        "백",
    ];

    const HEADS_34_TO_42: [&str; 9] = [
        "삼십사점",
        "삼십오점",
        "삼십육점",
        "삼십칠점",
        "삼십팔점",
        "삼십구점",
        "사십점",
        "사십일점",
        "사십이점",
    ];
    const TENTHS: [&str; 10] = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"];

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
        assert_eq!(say(Number::Tenths(365)), "삼십육점오");
        assert_eq!(say(Number::Tenths(400)), "사십점영");
        assert_eq!(say(Number::Integer(100)), "백");
        assert_eq!(say(Number::Integer(0)), "영");
        assert_eq!(say(Number::Digits("1005".into())), "일공공오");
    }
}
