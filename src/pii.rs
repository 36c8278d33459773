//! Personal data wrapper.
//!
//! HER-SYS IDs, names, birthdays, phone numbers, SIP URIs that carry them and the digits a
//! caller keys in are held in [`Redacted<T>`]. Its `Debug` and `Display` print `[redacted]`,
//! so a value that slips into a `tracing` field or a `format!` never reaches a log line.
//! Code that needs the value (the store, the SIP stack) calls [`Redacted::expose`], which is
//! easy to grep for.

use std::fmt;

/// A value that must never be logged. Compare, clone and hash it freely; print it never.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    /// Wraps a personal value.
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The wrapped value, for the few places that must use it (store, SIP headers).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Redacted<T> {
    fn from(value: T) -> Self {
        Redacted(value)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_value() {
        let id = Redacted::new(String::from("12345678"));
        assert_eq!(format!("{id}"), "[redacted]");
        assert_eq!(format!("{id:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&id)), "Some([redacted])");
        assert_eq!(id.expose(), "12345678");
    }
}
