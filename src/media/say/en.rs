//! English: thirty-six point five (36.5).
//!
//! Words: zero…nineteen, twenty…ninety, one hundred, point. 21–99 are the tens word then the
//! units word. Zero is "zero" everywhere (never "oh"): it is the reading that survives a poor
//! line and the one used for keypad digits.

use super::{plain_digit, Grammar, NUM};

pub(super) static GRAMMAR: Grammar = Grammar {
    integer,
    tenths,
    digit: plain_digit,
    words: WORDS,
};

fn integer(n: u32) -> Vec<&'static str> {
    if n < 20 || n.is_multiple_of(10) {
        vec![NUM[n as usize]]
    } else {
        vec![NUM[(n / 10 * 10) as usize], NUM[(n % 10) as usize]]
    }
}

fn tenths(whole: u32, tenth: u32) -> Vec<&'static str> {
    super::tenths_with_point(integer, whole, tenth)
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
    "num_0", "num_1", "num_2", "num_3", "num_4", "num_5", "num_6", "num_7", "num_8", "num_9",
    "num_10", "num_11", "num_12", "num_13", "num_14", "num_15", "num_16", "num_17", "num_18",
    "num_19", "num_20", "num_30", "num_40", "num_50", "num_60", "num_70", "num_80", "num_90",
    "num_100", "num_point",
];

#[cfg(test)]
mod tests {
    use super::super::check::spoken;
    use super::super::Number;
    use crate::lang::Language;

    fn say(n: Number) -> String {
        spoken(Language::En, &n)
    }

    /// 0 to 100, written out.
    #[rustfmt::skip]
    const ZERO_TO_100: [&str; 101] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen",
        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
        "twenty", "twenty one", "twenty two", "twenty three", "twenty four",
        "twenty five", "twenty six", "twenty seven", "twenty eight", "twenty nine",
        "thirty", "thirty one", "thirty two", "thirty three", "thirty four",
        "thirty five", "thirty six", "thirty seven", "thirty eight", "thirty nine",
        "forty", "forty one", "forty two", "forty three", "forty four",
        "forty five", "forty six", "forty seven", "forty eight", "forty nine",
        "fifty", "fifty one", "fifty two", "fifty three", "fifty four",
        "fifty five", "fifty six", "fifty seven", "fifty eight", "fifty nine",
        "sixty", "sixty one", "sixty two", "sixty three", "sixty four",
        "sixty five", "sixty six", "sixty seven", "sixty eight", "sixty nine",
        "seventy", "seventy one", "seventy two", "seventy three", "seventy four",
        "seventy five", "seventy six", "seventy seven", "seventy eight", "seventy nine",
        "eighty", "eighty one", "eighty two", "eighty three", "eighty four",
        "eighty five", "eighty six", "eighty seven", "eighty eight", "eighty nine",
        "ninety", "ninety one", "ninety two", "ninety three", "ninety four",
        "ninety five", "ninety six", "ninety seven", "ninety eight", "ninety nine",
        "one hundred",
    ];

    const HEADS_34_TO_42: [&str; 9] = [
        "thirty four point",
        "thirty five point",
        "thirty six point",
        "thirty seven point",
        "thirty eight point",
        "thirty nine point",
        "forty point",
        "forty one point",
        "forty two point",
    ];
    const TENTHS: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
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
        assert_eq!(say(Number::Tenths(365)), "thirty six point five");
        assert_eq!(say(Number::Tenths(400)), "forty point zero");
        assert_eq!(say(Number::Tenths(5)), "zero point five");
        assert_eq!(say(Number::Tenths(1000)), "one hundred point zero");
        assert_eq!(say(Number::Tenths(1234)), "one two three point four");
        assert_eq!(say(Number::Digits("0415".into())), "zero four one five");
        assert_eq!(say(Number::Integer(101)), "one zero one");
    }
}
