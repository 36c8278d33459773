//! `prompts/catalogue.toml`: the list of prompt ids and each prompt's text in each language.
//!
//! `[prompts.<id>]` tables give one text per language (all eight required) plus optional
//! `zh-CN.pinyin` / `zh-TW.pinyin` synthesis hints; `[words.<lang>]` tables list that
//! language's number words (ids starting `num_`), used by `media::say`. Pinyin tables and keys
//! are synthesis hints only and are not kept.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::PromptProblem;
use crate::lang::Language;

/// The checked catalogue: for each language, every id to load and its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue {
    by_lang: [BTreeMap<String, String>; 8],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    prompts: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    words: BTreeMap<String, BTreeMap<String, String>>,
}

const PINYIN_KEYS: [&str; 2] = ["zh-CN.pinyin", "zh-TW.pinyin"];

impl Catalogue {
    /// Parses catalogue text.
    ///
    /// Returns `Err` only when the text is not TOML of the catalogue's shape (an unknown
    /// top-level table, a non-string text). Content problems (a missing language, a bad id,
    /// an unknown key) are returned beside the catalogue, all of them, and the catalogue
    /// still lists every well-formed id so the loader can check the files too. A prompt
    /// lacking one language's text is still listed in that language, with empty text.
    pub fn parse(text: &str) -> Result<(Catalogue, Vec<PromptProblem>), toml::de::Error> {
        let raw: RawCatalogue = toml::from_str(text)?;
        let mut catalogue = Catalogue::default();
        let mut problems = Vec::new();
        for (id, texts) in &raw.prompts {
            catalogue.add_prompt(id, texts, &mut problems);
        }
        for (key, words) in &raw.words {
            catalogue.add_words(key, words, &raw.prompts, &mut problems);
        }
        Ok((catalogue, problems))
    }

    /// Every id of `lang` (prompts and number words), in sorted order.
    pub fn ids(&self, lang: Language) -> impl Iterator<Item = &str> {
        self.by_lang[lang as usize].keys().map(String::as_str)
    }

    /// The text of `id` in `lang`; `None` when the catalogue does not list it.
    pub fn text(&self, lang: Language, id: &str) -> Option<&str> {
        self.by_lang[lang as usize].get(id).map(String::as_str)
    }

    fn add_prompt(
        &mut self,
        id: &str,
        texts: &BTreeMap<String, String>,
        problems: &mut Vec<PromptProblem>,
    ) {
        let table = format!("prompts.{id}");
        if !valid_id(id) {
            problems.push(PromptProblem::BadId {
                table: "prompts".into(),
                id: id.into(),
            });
            return;
        }
        for key in texts.keys() {
            if key.parse::<Language>().is_err() && !PINYIN_KEYS.contains(&key.as_str()) {
                problems.push(PromptProblem::UnknownKey {
                    table: table.clone(),
                    key: key.clone(),
                });
            }
        }
        for lang in Language::ALL {
            let text = texts
                .iter()
                .find(|(key, _)| key.parse::<Language>() == Ok(lang))
                .map(|(_, text)| text.trim())
                .unwrap_or_default();
            if text.is_empty() {
                problems.push(PromptProblem::MissingText {
                    id: id.into(),
                    lang,
                });
            }
            self.by_lang[lang as usize].insert(id.into(), text.into());
        }
    }

    fn add_words(
        &mut self,
        key: &str,
        words: &BTreeMap<String, String>,
        prompts: &BTreeMap<String, BTreeMap<String, String>>,
        problems: &mut Vec<PromptProblem>,
    ) {
        if PINYIN_KEYS.contains(&key) {
            return;
        }
        let Ok(lang) = key.parse::<Language>() else {
            problems.push(PromptProblem::UnknownKey {
                table: "words".into(),
                key: key.into(),
            });
            return;
        };
        for (id, text) in words {
            let problem = if !valid_id(id) {
                Some(PromptProblem::BadId {
                    table: format!("words.{lang}"),
                    id: id.clone(),
                })
            } else if !id.starts_with("num_") {
                Some(PromptProblem::BadWordId {
                    lang,
                    id: id.clone(),
                })
            } else if prompts.contains_key(id) {
                Some(PromptProblem::DuplicateId {
                    lang,
                    id: id.clone(),
                })
            } else {
                None
            };
            match problem {
                Some(problem) => problems.push(problem),
                None => {
                    self.by_lang[lang as usize].insert(id.clone(), text.trim().into());
                }
            }
        }
    }
}

/// Ids become file names: lower-case ASCII letters, digits and `_` only, not empty.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[prompts.goodbye]
ja = "さようなら。"
en = "Goodbye."
"zh-CN" = "再见。"
"zh-CN.pinyin" = "zai4 jian4."
yue = "再見。"
"zh-TW" = "再見。"
"zh-TW.pinyin" = "zai4 jian4."
ko = "안녕히 계세요."
es = "Adiós."
pt = "Tchau."

[words.ja]
num_1 = "いち"
[words."zh-CN"]
num_1 = "一"
[words."zh-CN.pinyin"]
num_1 = "yi1"
"#;

    #[test]
    fn a_complete_catalogue_lists_prompts_in_all_languages_and_words_in_theirs() {
        let (catalogue, problems) = Catalogue::parse(FULL).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        for lang in Language::ALL {
            assert!(catalogue.ids(lang).any(|id| id == "goodbye"), "{lang}");
        }
        assert_eq!(catalogue.text(Language::En, "goodbye"), Some("Goodbye."));
        assert_eq!(catalogue.text(Language::Ja, "num_1"), Some("いち"));
        assert_eq!(catalogue.text(Language::ZhCn, "num_1"), Some("一"));
        assert_eq!(catalogue.text(Language::En, "num_1"), None);
        assert_eq!(catalogue.ids(Language::Ko).count(), 1);
    }

    #[test]
    fn every_content_problem_is_reported_not_just_the_first() {
        let text = r#"
[prompts.hello]
ja = "こんにちは"
en = "Hello"
fr = "Bonjour"
[prompts."Bad-Id"]
ja = "x"
[words.en]
num_1 = "one"
one = "one"
hello = "x"
[words.xx]
num_1 = "?"
"#;
        let (catalogue, problems) = Catalogue::parse(text).unwrap();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |needle: &str| shown.iter().any(|s| s.contains(needle));
        // Six languages lack text for `hello`.
        let missing = problems
            .iter()
            .filter(|p| matches!(p, PromptProblem::MissingText { .. }))
            .count();
        assert_eq!(missing, 6, "{shown:#?}");
        assert!(has("prompt `hello` has no zh-CN text"));
        assert!(has("unknown key `fr` in [prompts.hello]"));
        assert!(has("id `Bad-Id`"));
        assert!(has("word `one` in [words.en] must start with num_"));
        assert!(has("unknown key `xx` in [words]"));
        // `hello` is a prompt id (bad word id, reported once as not starting with num_).
        assert!(has("word `hello`"));
        // The well-formed ids are still listed so the files can be checked too.
        assert!(catalogue.ids(Language::Pt).any(|id| id == "hello"));
        assert_eq!(catalogue.text(Language::Pt, "hello"), Some(""));
        assert_eq!(catalogue.text(Language::En, "num_1"), Some("one"));
    }

    #[test]
    fn a_word_that_is_also_a_prompt_is_a_duplicate() {
        let text = "[prompts.num_9]\nja = \"x\"\n[words.ja]\nnum_9 = \"きゅう\"\n";
        let (_, problems) = Catalogue::parse(text).unwrap();
        assert!(problems
            .iter()
            .any(|p| matches!(p, PromptProblem::DuplicateId { id, .. } if id == "num_9")));
    }

    #[test]
    fn shape_errors_fail_the_parse() {
        assert!(Catalogue::parse("[prompt.x]\nja = \"x\"\n").is_err());
        assert!(Catalogue::parse("[prompts.x]\nja = 3\n").is_err());
        assert!(Catalogue::parse("not toml =").is_err());
    }
}
