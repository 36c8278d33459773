//! One configuration problem with its place (file, line, section, key), and the list of all
//! of a file's problems, which is how `Config::parse` fails.

use std::fmt;
use std::path::PathBuf;

/// One problem of a configuration file: an unknown key or section, a value of the wrong type,
/// or a value that parses but makes no sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line of the key (or of its section's header when the key is not written;
    /// 0 when neither is, and a default is at fault).
    pub line: usize,
    /// The section (`sip`, `trunk`…; empty for a key outside every section).
    pub section: String,
    /// For `[[trunk]]`: which one (0-based).
    pub index: Option<usize>,
    /// The key within the section (may carry a sub-path, `slots[1]`, `quiet_hours.start`);
    /// empty when the section itself is at fault.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigProblem {
    /// The dotted field name: `sip.listen`, `trunk[1].proxy`, `schedule.slots[1]`.
    pub fn field(&self) -> String {
        let section = match self.index {
            Some(i) => format!("{}[{i}]", self.section),
            None => self.section.clone(),
        };
        match (section.is_empty(), self.key.is_empty()) {
            (true, _) => self.key.clone(),
            (false, true) => section,
            (false, false) => format!("{section}.{}", self.key),
        }
    }

    /// The problem as one JSON object: `file`, `line`, `field`, `section`, `key`, `message`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.path.display().to_string(),
            "line": self.line,
            "field": self.field(),
            "section": self.section,
            "key": self.key,
            "message": self.message,
        })
    }
}

/// `carecall.toml:12: [sip] listn: unknown key`; `…:30: [[trunk]] #2 proxy: …` (1-based).
impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        match (self.section.as_str(), self.index) {
            ("", _) => {}
            (s, Some(i)) => write!(f, "[[{s}]] #{} ", i + 1)?,
            (s, None) => write!(f, "[{s}] ")?,
        }
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// Every problem of one file, in line order (at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

/// One problem per line.
impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, p) in self.0.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A problem before it knows its file and line: section, index, key and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub section: String,
    pub index: Option<usize>,
    pub key: String,
    pub reason: String,
}

impl Problem {
    pub fn new(section: &str, index: Option<usize>, key: &str, reason: impl Into<String>) -> Self {
        Problem {
            section: section.into(),
            index,
            key: key.into(),
            reason: reason.into(),
        }
    }
}
