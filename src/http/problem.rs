//! What is wrong with one field of a request: a stable code for programs (the staff page shows
//! its own text for each, in the page's language) and an English sentence for people reading
//! the JSON. Neither ever holds the value that was sent.
//!
//! Codes are part of the API (`"codes": {FIELD: CODE}` beside `"fields": {FIELD: TEXT}` in a
//! 422 answer; listed in `openapi.json` as the `ProblemCode` enum): add new ones, never rename.

use std::borrow::Cow;

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    code: &'static str,
    message: Cow<'static, str>,
}

impl Problem {
    /// The field must be given.
    pub const REQUIRED: Problem = Problem::fixed("required", "required");
    /// The field is not one the request takes.
    pub const UNKNOWN_FIELD: Problem = Problem::fixed("unknown_field", "unknown field");
    /// The field is fixed once created.
    pub const IMMUTABLE: Problem = Problem::fixed("immutable", "cannot be changed");
    /// Not a `YYYY-MM-DD` date.
    pub const DATE: Problem = Problem::fixed("date_format", "expected a date YYYY-MM-DD");
    /// A date after today where only past dates make sense.
    pub const IN_FUTURE: Problem = Problem::fixed("date_in_future", "is in the future");
    /// A birthday before 1900.
    pub const BEFORE_1900: Problem = Problem::fixed("date_before_1900", "is before 1900");
    /// A HER-SYS ID that is not 4 to 16 digits.
    pub const HERSYS_ID: Problem = Problem::fixed("hersys_id_format", "expected 4 to 16 digits");
    /// A name that is empty or too long.
    pub const NAME: Problem =
        Problem::fixed("name_length", "expected a name of 1 to 200 characters");
    /// Not a phone number.
    pub const PHONE: Problem =
        Problem::fixed("phone_format", "expected a phone number of 3 to 15 digits");
    /// The number already belongs to another patient's automatic calls.
    pub const PHONE_TAKEN: Problem = Problem::fixed(
        "phone_taken",
        "already used for automatic calls by another patient",
    );
    /// Not one of the eight call languages.
    pub const LANGUAGE: Problem = Problem::fixed(
        "language_unknown",
        "expected one of ja, en, zh-CN, yue, zh-TW, ko, es, pt",
    );
    /// Automatic calls on without a call time.
    pub const CALL_TIME_NEEDED: Problem = Problem::fixed(
        "call_times_needed",
        "choose at least one call time when auto_call is on",
    );
    /// One end of the call period without the other.
    pub const CALL_START_NEEDED: Problem =
        Problem::fixed("period_incomplete", "required with call_end");
    /// One end of the call period without the other.
    pub const CALL_END_NEEDED: Problem =
        Problem::fixed("period_incomplete", "required with call_start");
    /// The observation period ends before it starts.
    pub const BEFORE_OBSERVATION_START: Problem =
        Problem::fixed("period_order", "is before observation_start");
    /// The call period ends before it starts.
    pub const BEFORE_CALL_START: Problem = Problem::fixed("period_order", "is before call_start");
    /// The observation period is longer than the longest allowed.
    pub const PERIOD_TOO_LONG: Problem = Problem::fixed(
        "period_too_long",
        "observation period is longer than 90 days",
    );
    /// A call-period date outside the observation period.
    pub const OUTSIDE_OBSERVATION: Problem =
        Problem::fixed("outside_observation", "is outside the observation period");
    /// Not `true` or `false`.
    pub const BOOLEAN: Problem = Problem::fixed("boolean", "expected true or false");
    /// Free text that is too long.
    pub const TEXT: Problem =
        Problem::fixed("text_length", "expected text of at most 500 characters");
    /// Not a health centre's name.
    pub const CENTRE_NAME: Problem = Problem::fixed("centre_name", "expected a health centre name");
    /// A centre's name that is empty or too long.
    pub const CENTRE_NAME_LENGTH: Problem =
        Problem::fixed("centre_name", "expected 1 to 100 characters");
    /// No centre of that name.
    pub const CENTRE_UNKNOWN: Problem = Problem::fixed("centre_unknown", "no such health centre");
    /// A staff member naming a centre not theirs.
    pub const CENTRE_NOT_YOURS: Problem =
        Problem::fixed("centre_not_yours", "not your health centre");
    /// A staff account must belong to a centre.
    pub const CENTRE_REQUIRED: Problem = Problem::fixed("required", "required for a staff account");
    /// The HER-SYS ID is already registered.
    pub const DUPLICATE_ID: Problem = Problem::fixed("duplicate", "already registered");
    /// A number or date outside what the request allows.
    pub const OUT_OF_RANGE: Problem = Problem::fixed("out_of_range", "out of range");
    /// `days` outside 1 to 90.
    pub const DAYS: Problem = Problem::fixed("out_of_range", "expected 1 to 90");
    /// An export format other than csv or json.
    pub const FORMAT: Problem = Problem::fixed("format_choice", "expected csv or json");
    /// A role other than staff or admin.
    pub const ROLE: Problem = Problem::fixed("role_choice", "expected staff or admin");
    /// A username of the wrong shape.
    pub const USERNAME: Problem = Problem::fixed(
        "username_format",
        "expected 1 to 64 letters, digits, '.', '_' or '-'",
    );
    /// A staff report without answers.
    pub const ANSWERS: Problem =
        Problem::fixed("answers_empty", "expected an object of at least one answer");

    const fn fixed(code: &'static str, message: &'static str) -> Problem {
        Problem {
            code,
            message: Cow::Borrowed(message),
        }
    }

    fn new(code: &'static str, message: String) -> Problem {
        Problem {
            code,
            message: Cow::Owned(message),
        }
    }

    /// A password the password check refused as too short; `message` is its sentence.
    pub fn password_short(message: String) -> Problem {
        Problem::new("password_short", message)
    }

    /// A CSV file that cannot be imported; `message` names the line and the field.
    pub fn import_file(message: String) -> Problem {
        Problem::new("import_file", message)
    }

    /// Call times not from the configured `choices`, or one twice.
    pub fn call_times(choices: &[String]) -> Problem {
        Problem::new(
            "call_times_choice",
            format!(
                "expected a list of times from {}, each at most once",
                choices.join(", ")
            ),
        )
    }

    /// A staff report's answer of the wrong kind; `expected` says what the question takes.
    pub fn answer(expected: &'static str) -> Problem {
        Problem::fixed("answer_invalid", expected)
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The English sentence.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem the API can answer with.
    fn all() -> Vec<Problem> {
        vec![
            Problem::REQUIRED,
            Problem::UNKNOWN_FIELD,
            Problem::IMMUTABLE,
            Problem::DATE,
            Problem::IN_FUTURE,
            Problem::BEFORE_1900,
            Problem::HERSYS_ID,
            Problem::NAME,
            Problem::PHONE,
            Problem::PHONE_TAKEN,
            Problem::LANGUAGE,
            Problem::CALL_TIME_NEEDED,
            Problem::CALL_START_NEEDED,
            Problem::CALL_END_NEEDED,
            Problem::BEFORE_OBSERVATION_START,
            Problem::BEFORE_CALL_START,
            Problem::PERIOD_TOO_LONG,
            Problem::OUTSIDE_OBSERVATION,
            Problem::BOOLEAN,
            Problem::TEXT,
            Problem::CENTRE_NAME,
            Problem::CENTRE_NAME_LENGTH,
            Problem::CENTRE_UNKNOWN,
            Problem::CENTRE_NOT_YOURS,
            Problem::CENTRE_REQUIRED,
            Problem::DUPLICATE_ID,
            Problem::OUT_OF_RANGE,
            Problem::DAYS,
            Problem::FORMAT,
            Problem::ROLE,
            Problem::USERNAME,
            Problem::ANSWERS,
            Problem::call_times(&["09:00".into()]),
            Problem::answer("expected yes or no"),
            Problem::password_short("too short".into()),
            Problem::import_file("line 2".into()),
        ]
    }

    #[test]
    fn every_code_is_in_the_openapi_document_and_the_page_says_it_in_japanese() {
        let doc: serde_json::Value = serde_json::from_str(super::super::openapi::DOCUMENT).unwrap();
        let listed: Vec<&str> = doc["components"]["schemas"]["ProblemCode"]["enum"]
            .as_array()
            .expect("ProblemCode enum in openapi.json")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let page = super::super::pages::STAFF_TEXT_JS;
        let codes: std::collections::BTreeSet<&str> = all().iter().map(Problem::code).collect();
        for code in &codes {
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{code}"
            );
            assert!(listed.contains(code), "{code} missing from ProblemCode");
            assert!(
                page.contains(&format!("{code}: \"")),
                "web/staff-text.js has no text for {code}"
            );
        }
        for code in listed {
            assert!(
                codes.contains(code),
                "ProblemCode lists {code}, which nothing uses"
            );
        }
    }
}
