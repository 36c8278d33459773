//! Errors of the prompt loader: one [`PromptProblem`] per thing wrong, all collected, so
//! `carecall check` can list every problem in one run.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::decode::DecodeError;
use crate::lang::Language;

/// Why the prompt set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The catalogue file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadCatalogue {
        /// The catalogue's path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The catalogue is not TOML of the expected shape (the TOML error names line and key).
    #[error("{}: {source}", path.display())]
    ParseCatalogue {
        /// The catalogue's path.
        path: PathBuf,
        /// The parser's error.
        source: Box<toml::de::Error>,
    },
    /// Catalogue entries or audio files are missing or unusable; every problem is listed.
    #[error("{0}")]
    Invalid(Problems),
}

impl PromptError {
    /// Every problem found, for `carecall check`; empty for catalogue read and parse errors.
    pub fn problems(&self) -> &[PromptProblem] {
        match self {
            PromptError::Invalid(problems) => &problems.0,
            _ => &[],
        }
    }
}

/// A non-empty list of problems, displayed one per line.
#[derive(Debug)]
pub struct Problems(pub Vec<PromptProblem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} prompt problem{}:", if n == 1 { "" } else { "s" })?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// One thing wrong with the catalogue or the prompt files.
#[derive(Debug, thiserror::Error)]
pub enum PromptProblem {
    /// A `[prompts.<id>]` entry lacks the text for one language (or it is blank).
    #[error("catalogue: prompt `{id}` has no {lang} text")]
    MissingText {
        /// The prompt id.
        id: String,
        /// The language without text.
        lang: Language,
    },
    /// A catalogue key that is neither a language code nor an allowed pinyin hint.
    #[error("catalogue: unknown key `{key}` in [{table}]")]
    UnknownKey {
        /// The table holding the key, e.g. `prompts.q_face` or `words`.
        table: String,
        /// The offending key.
        key: String,
    },
    /// An id that is not lower-case ASCII letters, digits and `_` (ids become file names).
    #[error("catalogue: id `{id}` in [{table}] must be lower-case letters, digits and _")]
    BadId {
        /// The table holding the id.
        table: String,
        /// The offending id.
        id: String,
    },
    /// A `[words.<lang>]` id that does not start with `num_`.
    #[error("catalogue: word `{id}` in [words.{lang}] must start with num_")]
    BadWordId {
        /// The language table.
        lang: Language,
        /// The offending id.
        id: String,
    },
    /// A word id that is also a `[prompts.*]` id.
    #[error("catalogue: `{id}` is both a prompt and a {lang} word")]
    DuplicateId {
        /// The language table.
        lang: Language,
        /// The id listed twice.
        id: String,
    },
    /// An id the dialplans need that the catalogue does not list for a language.
    #[error("prompt `{id}` is required but not in the catalogue for {lang}")]
    NotInCatalogue {
        /// The language.
        lang: Language,
        /// The required id.
        id: String,
    },
    /// The folder of a language does not exist.
    #[error("prompts for {lang} missing: no folder {}", dir.display())]
    MissingLanguageDir {
        /// The language.
        lang: Language,
        /// The folder looked for.
        dir: PathBuf,
    },
    /// The folder of a language exists but cannot be listed.
    #[error("prompts for {lang}: cannot list {}: {source}", dir.display())]
    UnreadableDir {
        /// The language.
        lang: Language,
        /// The folder.
        dir: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// No audio file for a catalogue id in a language.
    #[error("prompt `{id}` missing in {lang}: no {}/{id}.{{wav,flac,mp3,ogg,oga}}", dir.display())]
    MissingFile {
        /// The language.
        lang: Language,
        /// The prompt id.
        id: String,
        /// The language folder searched.
        dir: PathBuf,
    },
    /// A prompt file exists but cannot be decoded.
    #[error("{}: {source}", path.display())]
    Undecodable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: DecodeError,
    },
}
