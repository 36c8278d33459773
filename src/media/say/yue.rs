//! Cantonese: 三十六點五 (36.5), read saam1 sap6 luk6 dim2 ng5.
//!
//! Words: 零, 一…九, 十…九十, 一百, 點. The clear forms are used throughout: 二十一 and 三十六
//! rather than the spoken contractions 廿一 and 卅六, which are easy to mishear on a poor line
//! and which a caller keying 36 does not need to decode.

use super::{plain_digit, tens_then_units, Grammar};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer: tens_then_units,
    tenths,
    digit: plain_digit,
    words: WORDS,
};

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    super::tenths_with_point(tens_then_units, whole, tenth)
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_20", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80", "num_90",
    "num_100", "num_point",
];

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::Yue, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "零", "一", "二", "三", "四", "五", "六", "七", "八", "九",
        "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九",
        "二十", "二十一", "二十二", "二十三", "二十四",
        "二十五", "二十六", "二十七", "二十八", "二十九",
        "三十", "三十一", "三十二", "三十三", "三十四",
        "三十五", "三十六", "三十七", "三十八", "三十九",
        "四十", "四十一", "四十二", "四十三", "四十四",
        "四十五", "四十六", "四十七", "四十八", "四十九",
        "五十", "五十一", "五十二", "五十三", "五十四",
        "五十五", "五十六", "五十七", "五十八", "五十九",
        "六十", "六十一", "六十二", "六十三", "六十四",
        "六十五", "六十六", "六十七", "六十八", "六十九",
        "七十", "七十一", "七十二", "七十三", "七十四",
        "七十五", "七十六", "七十七", "七十八", "七十九",
        "八十", "八十一", "八十二", "八十三", "八十四",
        "八十五", "八十六", "八十七", "八十八", "八十九",
        "九十", "九十一", "九十二", "九十三", "九十四",
        "九十五", "九十六", "九十七", "九十八", "九十九",
        "一百",
    ];

    const HEADS_34_TO_42: [&str; 9] = [
        "三十四點",
        "三十五點",
        "三十六點",
        "三十七點",
        "三十八點",
        "三十九點",
        "四十點",
        "四十一點",
        "四十二點",
    ];
    const TENTHS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

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
        assert_eq!(say(Number::Tenths(365)), "三十六點五");
        assert_eq!(say(Number::Tenths(400)), "四十點零");
        assert_eq!(say(Number::Integer(100)), "一百");
        assert_eq!(say(Number::Integer(21)), "二十一");
        assert_eq!(say(Number::Digits("0415".into())), "零四一五");
    }
}
