//! The eight call languages.

use std::fmt;
use std::str::FromStr;

/// A call language. The code is the BCP 47 tag used in config, CSV files and `prompts/<lang>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// Japanese, `ja`.
    Ja,
    /// English, `en`.
    En,
    /// Mandarin (Beijing), simplified characters, `zh-CN`.
    ZhCn,
    /// Cantonese, `yue`.
    Yue,
    /// Taiwanese Mandarin, traditional characters, `zh-TW`.
    ZhTw,
    /// Korean, `ko`.
    Ko,
    /// Spanish (Latin American), `es`.
    Es,
    /// Portuguese (Brazilian), `pt`.
    Pt,
}

impl Language {
    /// All languages in the order of the Health Call language menu (key 1 to 8).
    pub const ALL: [Language; 8] = [
        Language::Ja,
        Language::En,
        Language::ZhCn,
        Language::Yue,
        Language::ZhTw,
        Language::Ko,
        Language::Es,
        Language::Pt,
    ];

    /// The code used in files and config (`ja`, `en`, `zh-CN`, `yue`, `zh-TW`, `ko`, `es`, `pt`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
            Language::ZhCn => "zh-CN",
            Language::Yue => "yue",
            Language::ZhTw => "zh-TW",
            Language::Ko => "ko",
            Language::Es => "es",
            Language::Pt => "pt",
        }
    }

    /// The language chosen by key `n` (1–8) of the language menu.
    pub fn from_menu_key(n: u8) -> Option<Language> {
        Language::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// A language code that is not one of the eight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language code {0:?} (expected one of ja, en, zh-CN, yue, zh-TW, ko, es, pt)")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLanguage(s.to_owned()))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_menu_keys_follow_the_spec() {
        for l in Language::ALL {
            assert_eq!(l.code().parse::<Language>(), Ok(l));
        }
        assert_eq!(Language::from_menu_key(1), Some(Language::Ja));
        assert_eq!(Language::from_menu_key(8), Some(Language::Pt));
        assert_eq!(Language::from_menu_key(0), None);
        assert_eq!(Language::from_menu_key(9), None);
        assert!("fr".parse::<Language>().is_err());
    }
}
