//! The store's errors. Messages name tables, lines and fields, never a stored value.
//!
//! `Debug` is written by hand to print the `Display` text: the driver's own `Debug` of a
//! PostgreSQL error carries its DETAIL line, which quotes row values (a duplicate phone
//! number, a failing row), and an error is exactly what ends up in a log line.

use std::fmt;

use crate::pii::Redacted;

use super::{PatientId, ReportId};

/// A store operation that failed. Callers count these (`carecall_store_errors_total`); none
/// is swallowed inside the store.
#[derive(thiserror::Error)]
pub enum StoreError {
    /// The store URL is neither `sqlite:` nor `postgres:`/`postgresql:`. (The URL is not
    /// repeated: it may hold a password.)
    #[error("unsupported store URL: expected sqlite://PATH or postgres://…")]
    UnsupportedUrl,
    /// The database could not be opened or reached.
    #[error("cannot open the store: {0}")]
    Connect(#[source] sqlx::Error),
    /// The schema migration failed, or the database holds migrations this build does not know.
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed (connection lost, constraint, pool closed, …).
    #[error("store query failed: {0}")]
    Database(#[from] sqlx::Error),
    /// A time that does not fit `i64` milliseconds since 1970 (about ±292 million years).
    #[error("time out of the storable range")]
    TimeOutOfRange,
    /// No report with this id.
    #[error("no report {}", .0 .0)]
    UnknownReport(ReportId),
    /// No patient with this id.
    #[error("no patient {}", .0 .0)]
    UnknownPatient(PatientId),
    /// A stored value this build cannot read (written by a newer version, or edited by hand).
    #[error("unreadable value in {table}.{column}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
}

impl StoreError {
    /// Whether `e` is a foreign-key violation (a row pointing at a missing parent).
    pub(crate) fn is_foreign_key(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
    }

    /// Whether the database refused the data itself (a unique, foreign-key, not-null or
    /// check constraint), on either backend: writing it again will fail again.
    pub(crate) fn is_constraint(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .is_some_and(|d| d.kind() != sqlx::error::ErrorKind::Other)
    }
}

/// Why a patients CSV file was refused. Nothing from the file is written when any row is bad.
#[derive(thiserror::Error)]
pub enum ImportError {
    /// The file is not well-formed CSV (unequal field counts, invalid UTF-8, read error).
    #[error("line {line}: malformed CSV: {source}")]
    Csv {
        /// The line of the record (1 = header), 0 when unknown.
        line: u64,
        /// The reader's error.
        #[source]
        source: csv::Error,
    },
    /// A required column is missing from the header.
    #[error("line 1: missing column {0}")]
    MissingColumn(&'static str),
    /// The header has a column the format does not define (or defines twice).
    #[error("line 1: unexpected column {0:?}")]
    UnexpectedColumn(String),
    /// A field of a row is invalid.
    #[error("line {line}: field {field}: {problem}")]
    Field {
        /// The line of the row (1 = header).
        line: u64,
        /// The column name.
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// The same HER-SYS ID appears on two lines.
    #[error("line {line}: hersys_id already given on line {first_line}")]
    DuplicateId {
        /// The later line.
        line: u64,
        /// The earlier line.
        first_line: u64,
    },
    /// Two lines with automatic calls on share one phone number (SPEC §4).
    #[error("line {line}: phone already used with auto_call on line {first_line}")]
    DuplicatePhone {
        /// The later line.
        line: u64,
        /// The earlier line.
        first_line: u64,
    },
    /// A line with automatic calls on uses the phone number of a patient already in the store
    /// (with automatic calls on, and not in this file).
    #[error("line {line}: phone already used with auto_call by patient {patient}")]
    PhoneTaken {
        /// The line.
        line: u64,
        /// The HER-SYS ID of the patient who has that number (printed as `[redacted]`).
        patient: Redacted<String>,
    },
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Several problems (each one of the above), in line order: one per line of the message.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Problems(Vec<ImportError>),
}

impl ImportError {
    /// The line of the file the problem is on (1 = header), if it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            ImportError::Csv { line, .. }
            | ImportError::Field { line, .. }
            | ImportError::DuplicateId { line, .. }
            | ImportError::DuplicatePhone { line, .. }
            | ImportError::PhoneTaken { line, .. } => Some(*line),
            ImportError::MissingColumn(_) | ImportError::UnexpectedColumn(_) => Some(1),
            ImportError::Store(_) | ImportError::Problems(_) => None,
        }
    }

    /// The column the problem is in, if it is one column's.
    pub fn field(&self) -> Option<&str> {
        match self {
            ImportError::Field { field, .. } => Some(field),
            ImportError::MissingColumn(c) => Some(c),
            ImportError::UnexpectedColumn(c) => Some(c),
            ImportError::DuplicateId { .. } => Some("hersys_id"),
            ImportError::DuplicatePhone { .. } | ImportError::PhoneTaken { .. } => Some("phone"),
            _ => None,
        }
    }

    /// Each single problem: itself, or the list of [`ImportError::Problems`].
    pub fn each(&self) -> Vec<&ImportError> {
        match self {
            ImportError::Problems(all) => all.iter().flat_map(ImportError::each).collect(),
            one => vec![one],
        }
    }
}

/// Prints the `Display` text only (see the module doc).
impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreError({self})")
    }
}

/// Prints the `Display` text only (see the module doc).
impl fmt::Debug for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImportError({self})")
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> ImportError {
        ImportError::Store(StoreError::Database(e))
    }
}

/// What is wrong with one CSV field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// The field is empty but required.
    #[error("empty")]
    Empty,
    /// `hersys_id` is not 4–16 ASCII digits.
    #[error("expected 4 to 16 digits")]
    NotAnId,
    /// Not a real `YYYY-MM-DD` date.
    #[error("expected a date YYYY-MM-DD")]
    NotADate,
    /// `phone` is not 3–15 digits after an optional `+` (spaces, `-`, `(`, `)` are ignored).
    #[error("expected a phone number of 3 to 15 digits")]
    NotAPhone,
    /// `language` is not one of ja, en, zh-CN, yue, zh-TW, ko, es, pt.
    #[error("expected one of ja, en, zh-CN, yue, zh-TW, ko, es, pt")]
    UnknownLanguage,
    /// `call_times` holds a time that is not a configured slot (by default 09:00, 11:00,
    /// 14:00, 16:00), or one twice.
    #[error("expected configured slot times such as 09:00;14:00, each at most once")]
    BadCallTimes,
    /// `auto_call` is not `true` or `false`.
    #[error("expected true or false")]
    NotABool,
    /// `observation_end` is before `observation_start`.
    #[error("observation_end is before observation_start")]
    EndBeforeStart,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_display_text_and_never_a_value() {
        let e = StoreError::Database(sqlx::Error::RowNotFound);
        assert_eq!(format!("{e:?}"), format!("StoreError({e})"));
        let taken = ImportError::PhoneTaken {
            line: 4,
            patient: Redacted::new("11110001".into()),
        };
        let shown = format!("{taken:?} {taken}");
        assert!(!shown.contains("11110001"), "{shown}");
        assert!(shown.contains("line 4"));
    }
}
