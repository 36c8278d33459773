//! One keyed entry (an ID, a birthday, a number) as it is typed: when it is complete, when it
//! is invalid. Pure bookkeeping over [`Length`] and the terminator; no timers.

use crate::rtp::Digit;

use super::model::Length;

/// What the last key (or the inter-digit pause) did to the entry.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Progress {
    /// A leading `*` (dial-pulse phones switching to tone): not part of the entry.
    Ignored,
    /// More digits may follow.
    More,
    /// The entry is complete; the digits keyed.
    Complete(String),
    /// The terminator alone, with no digit before it.
    Empty,
    /// The entry cannot be valid (too short, too long, a stray key).
    Invalid,
}

/// The digits keyed so far. No `Debug`: digits are personal data.
#[derive(Clone, Default)]
pub(super) struct Entry {
    digits: String,
    too_long: bool,
}

impl Entry {
    /// Adds one key.
    pub fn push(&mut self, key: Digit, length: Length, terminator: Digit) -> Progress {
        if key == Digit::Star && self.is_fresh() && terminator != key {
            return Progress::Ignored;
        }
        if key == terminator {
            return self.finish(length, true);
        }
        let Digit::Num(n) = key else {
            return Progress::Invalid;
        };
        match length {
            Length::Fixed(max) | Length::Variable { max, .. }
                if self.digits.len() >= usize::from(max) =>
            {
                self.too_long = true;
            }
            _ => self.digits.push(char::from(b'0' + n)),
        }
        match length {
            Length::Fixed(n) if self.digits.len() == usize::from(n) => {
                Progress::Complete(std::mem::take(&mut self.digits))
            }
            _ => Progress::More,
        }
    }

    /// No key has counted yet (a `*` now would be a leading one).
    pub fn is_fresh(&self) -> bool {
        self.digits.is_empty() && !self.too_long
    }

    /// The inter-digit pause: a variable-length entry ends here, a fixed one is incomplete.
    pub fn pause(&mut self, length: Length) -> Progress {
        self.finish(length, false)
    }

    fn finish(&mut self, length: Length, by_terminator: bool) -> Progress {
        if self.digits.is_empty() && !self.too_long {
            return if by_terminator {
                Progress::Empty
            } else {
                Progress::Invalid
            };
        }
        let len = self.digits.len();
        match length {
            Length::Variable { min, max }
                if !self.too_long && (usize::from(min)..=usize::from(max)).contains(&len) =>
            {
                Progress::Complete(std::mem::take(&mut self.digits))
            }
            _ => Progress::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXED3: Length = Length::Fixed(3);
    const ID: Length = Length::Variable { min: 4, max: 12 };
    const SPO2: Length = Length::Variable { min: 1, max: 3 };

    fn keys(entry: &mut Entry, length: Length, s: &str) -> Vec<Progress> {
        s.chars()
            .map(|c| entry.push(Digit::from_char(c).unwrap(), length, Digit::Hash))
            .collect()
    }

    fn last(length: Length, s: &str) -> Progress {
        keys(&mut Entry::default(), length, s).pop().unwrap()
    }

    #[test]
    fn fixed_length_completes_at_the_last_digit() {
        let mut e = Entry::default();
        let p = keys(&mut e, FIXED3, "365");
        assert!(p[..2].iter().all(|p| *p == Progress::More));
        assert!(p[2] == Progress::Complete("365".into()));
        assert!(last(FIXED3, "36#") == Progress::Invalid);
        let mut e = Entry::default();
        keys(&mut e, FIXED3, "36");
        assert!(e.pause(FIXED3) == Progress::Invalid);
    }

    #[test]
    fn leading_star_is_ignored_later_stars_are_invalid() {
        let p = keys(&mut Entry::default(), FIXED3, "*365");
        assert!(p[0] == Progress::Ignored);
        assert!(p[3] == Progress::Complete("365".into()));
        assert!(last(ID, "12*") == Progress::Invalid);
        assert!(last(FIXED3, "**") == Progress::Ignored);
    }

    #[test]
    fn variable_length_ends_with_hash_or_pause() {
        assert!(last(ID, "1234567#") == Progress::Complete("1234567".into()));
        assert!(last(ID, "123#") == Progress::Invalid);
        assert!(last(SPO2, "100#") == Progress::Complete("100".into()));
        assert!(last(SPO2, "1000#") == Progress::Invalid);
        assert!(last(SPO2, "#") == Progress::Empty);
        let mut e = Entry::default();
        keys(&mut e, ID, "12345678");
        assert!(e.pause(ID) == Progress::Complete("12345678".into()));
    }
}
