//! Dialplan load errors: every problem names the file, the line where known, the step (or
//! question, or section) and the field. The loader collects them all before giving up.

use std::fmt;

/// Everything wrong with a dialplan, in file order; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DialplanErrors(pub Vec<Problem>);

impl fmt::Display for DialplanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// One problem in one dialplan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as its path was given (includes: relative to the including file's folder).
    pub file: String,
    /// The 1-based line, when the problem has a place in the text.
    pub line: Option<usize>,
    /// The part of the file the problem is in.
    pub place: Place,
    /// The key concerned, when there is one.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        let place = match &self.place {
            Place::File => None,
            Place::Section(s) => Some(format!("[{s}]")),
            Place::Step(s) => Some(format!("step `{s}`")),
            Place::Question(q) => Some(format!("question `{q}`")),
        };
        let field = self.field.as_ref().map(|f| format!("field `{f}`"));
        let location: Vec<String> = place.into_iter().chain(field).collect();
        if !location.is_empty() {
            write!(f, ": {}", location.join(", "))?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// The part of a dialplan file a problem is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole (syntax, top-level keys).
    File,
    /// A section such as `dialplan` or `defaults`.
    Section(String),
    /// A step, by id.
    Step(String),
    /// A question, by id (or `#n` when it has no usable id).
    Question(String),
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// A file (the dialplan or an include) could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why (the operating system's error kind).
        reason: String,
    },
    /// The text is not valid TOML (the parser's message).
    #[error("not valid TOML: {0}")]
    Syntax(String),
    /// A key this format does not know, usually a typo.
    #[error("unknown key; expected one of {expected}")]
    UnknownKey {
        /// The keys allowed here.
        expected: String,
    },
    /// A required key is absent.
    #[error("missing")]
    Missing,
    /// A value of the wrong type or an unknown name (the TOML decoder's message).
    #[error("{0}")]
    BadValue(String),
    /// A step `type` that does not exist.
    #[error("unknown step type `{0}`; expected one of play, language_menu, menu, collect, identify, questions, hangup")]
    UnknownStepType(String),
    /// A question `type` that does not exist.
    #[error("unknown question type `{0}`; expected number or choice")]
    UnknownQuestionType(String),
    /// A step id used as a target that no step has.
    #[error("no step `{0}`")]
    MissingTarget(String),
    /// A step that no path from the start reaches.
    #[error("unreachable from the start step")]
    Unreachable,
    /// A prompt id the prompt catalogue does not have.
    #[error("unknown prompt `{0}`")]
    UnknownPrompt(String),
    /// A question id that is not a report field.
    #[error("no report field `{0}`; expected one of {fields}", fields = crate::domain::ReportField::names_listed())]
    UnknownField(String),
    /// A report field asked twice.
    #[error("question `{0}` is asked twice")]
    DuplicateQuestion(String),
    /// A question type that cannot produce the field's value.
    #[error("field `{field}` cannot be answered by a {kind} question")]
    WrongQuestionType {
        /// The report field.
        field: String,
        /// The question type given.
        kind: &'static str,
    },
    /// A choice the field cannot store (e.g. `unknown` for `callback`).
    #[error("`{choice}` cannot be stored in field `{field}`")]
    ChoiceNotStorable {
        /// The choice named.
        choice: String,
        /// The report field.
        field: String,
    },
    /// `min` is greater than `max`.
    #[error("min {min} is above max {max}")]
    MinAboveMax {
        /// The lower bound given.
        min: u32,
        /// The upper bound given.
        max: u32,
    },
    /// A bound that the allowed number of digits cannot key.
    #[error("{value} cannot be keyed with {digits} digits")]
    RangeBeyondDigits {
        /// The bound.
        value: u32,
        /// The most digits the entry takes.
        digits: u8,
    },
    /// A bound larger than the report field can store.
    #[error("{value} does not fit field `{field}` (at most {largest})")]
    RangeBeyondField {
        /// The bound.
        value: u32,
        /// The report field.
        field: String,
        /// The largest storable value.
        largest: u32,
    },
    /// A number out of its allowed interval (digit counts, attempts, keys).
    #[error("{value} is outside {low}..={high}")]
    OutOfRange {
        /// The value given.
        value: u64,
        /// The smallest allowed.
        low: u64,
        /// The largest allowed.
        high: u64,
    },
    /// Two keys that exclude each other, or a key that needs another.
    #[error("{0}")]
    Conflict(&'static str),
    /// A menu or choice key that is not a single digit 0–9.
    #[error("key `{0}` is not a single digit 0-9")]
    BadKey(String),
    /// An include that is not a question fragment.
    #[error("an included file may only hold [[questions]]")]
    NotAFragment,
}
