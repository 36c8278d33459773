//! Where a key is written: a line index of a TOML file by section, `[[array]]` index and key.
//!
//! The TOML parser gives values without places once parsed, so the file's lines are scanned
//! once: `[section]` and `[[section]]` headers, and `key = …` lines under them. Good enough
//! for a configuration file (the first line naming a key wins).

use std::collections::HashMap;

/// Lines of section headers and keys of one file.
pub(super) struct Lines {
    headers: HashMap<(String, Option<usize>), usize>,
    keys: HashMap<(String, Option<usize>, String), usize>,
}

impl Lines {
    /// Scans `text`.
    pub fn new(text: &str) -> Lines {
        let mut lines = Lines {
            headers: HashMap::new(),
            keys: HashMap::new(),
        };
        let mut arrays: HashMap<String, usize> = HashMap::new();
        let mut current: (String, Option<usize>) = (String::new(), None);
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if let Some(name) = trimmed
                .strip_prefix("[[")
                .and_then(|r| r.split_once("]]"))
                .map(|(name, _)| name.trim().to_owned())
            {
                let seen = arrays.entry(name.clone()).or_insert(0);
                current = (name, Some(*seen));
                *seen += 1;
                lines.headers.entry(current.clone()).or_insert(n + 1);
            } else if let Some(name) = trimmed
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(name, _)| name.trim().to_owned())
            {
                current = (name, None);
                lines.headers.entry(current.clone()).or_insert(n + 1);
            } else if let Some((key, _)) = trimmed.split_once('=') {
                let key = key.trim().trim_matches('"').to_owned();
                if !key.is_empty() && !key.starts_with('#') {
                    let at = (current.0.clone(), current.1, key);
                    lines.keys.entry(at).or_insert(n + 1);
                }
            }
        }
        lines
    }

    /// The line of `key` (its first segment: `slots` for `slots[1]`) in the section, else the
    /// section's header, else 0.
    pub fn of(&self, section: &str, index: Option<usize>, key: &str) -> usize {
        let first = key.split(['[', '.']).next().unwrap_or(key);
        self.keys
            .get(&(section.to_owned(), index, first.to_owned()))
            .or_else(|| self.headers.get(&(section.to_owned(), index)))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_headers_and_array_tables_have_their_lines() {
        let text = "top = 1\n[sip]\nlisten = \"x\"\n\n[[trunk]]\nname = \"a\"\n[[trunk]]\nname = \"b\"\n[schedule]\nslots = [\n  \"09:00\",\n]\n";
        let l = Lines::new(text);
        assert_eq!(l.of("", None, "top"), 1);
        assert_eq!(l.of("sip", None, "listen"), 3);
        assert_eq!(l.of("sip", None, "public_address"), 2);
        assert_eq!(l.of("trunk", Some(1), "name"), 8);
        assert_eq!(l.of("trunk", Some(0), "proxy"), 5);
        assert_eq!(l.of("schedule", None, "slots[0]"), 10);
        assert_eq!(l.of("rtp", None, "port_min"), 0);
    }
}
