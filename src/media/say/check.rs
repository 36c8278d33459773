//! Test-only checks that `say`, the catalogue (`prompts/catalogue.toml`) and the recordings
//! (`prompts/<lang>/<id>.wav`) agree, and the helper the per-language tests use to turn ids
//! back into catalogue text.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::{say, say_with_unit, words, Number, Unit};
use crate::lang::Language;

/// The prompt ids of the shared contract (common brief) other than the questions' (one per
/// report field, [`crate::domain::ReportField::prompt_id`]), in all eight languages.
const FIXED_PROMPT_IDS: [&str; 25] = [
    "lang_select",
    "hc_welcome",
    "hc_pulse_hint",
    "hc_enter_id",
    "hc_enter_birthday",
    "hc_not_confirmed",
    "hc_contact_centre",
    "service_busy",
    "hc_recorded",
    "hc_another_person",
    "ac_greeting",
    "ac_start_keys",
    "ac_wrong_number",
    "keys_yes_no_unknown",
    "keys_yes_no",
    "confirm_temperature",
    "confirm_spo2",
    "unit_degrees",
    "unit_percent",
    "confirm_keys",
    "no_input",
    "invalid_input",
    "skip_item",
    "closing",
    "goodbye",
];

/// Every prompt id of the shared contract: the fixed ones and one question prompt per field.
fn prompt_ids() -> Vec<String> {
    let questions = crate::domain::ReportField::ALL.map(|f| f.prompt_id());
    FIXED_PROMPT_IDS
        .iter()
        .map(|id| id.to_string())
        .chain(questions)
        .collect()
}

/// The catalogue text of the ids `say` returns for `n`, joined the way the language writes
/// numbers: without spaces in Japanese, Chinese, Cantonese and Korean, with spaces otherwise.
pub(super) fn spoken(lang: Language, n: &Number) -> String {
    let table = word_table(lang);
    let separator = match lang {
        Language::En | Language::Es | Language::Pt => " ",
        _ => "",
    };
    let texts: Vec<&str> = say(lang, n)
        .into_iter()
        .map(|id| table[id].as_str().unwrap())
        .collect();
    texts.join(separator)
}

fn catalogue() -> &'static toml::Table {
    static CATALOGUE: OnceLock<toml::Table> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let text = std::fs::read_to_string(prompts_dir().join("catalogue.toml")).unwrap();
        text.parse().unwrap()
    })
}

fn prompts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("prompts")
}

fn word_table(lang: Language) -> &'static toml::Table {
    catalogue()["words"][lang.code()].as_table().unwrap()
}

/// Every key a `[prompts.*]` entry must have: the eight languages and the two pinyin hints.
fn prompt_keys() -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = Language::ALL.iter().map(|l| l.code().to_owned()).collect();
    keys.insert("zh-CN.pinyin".into());
    keys.insert("zh-TW.pinyin".into());
    keys
}

/// Everything `say` emits for integers 0–150, tenths 0.0–101.0 and every digit.
fn emitted(lang: Language) -> BTreeSet<&'static str> {
    let mut inputs: Vec<Number> = (0..=150).map(Number::Integer).collect();
    inputs.extend((0..=1010).map(Number::Tenths));
    inputs.push(Number::Digits("0123456789".into()));
    inputs.iter().flat_map(|n| say(lang, n)).collect()
}

/// (audio format, channels, sample rate, bits per sample, data bytes) of a RIFF WAVE file.
fn wav_format(bytes: &[u8]) -> Option<(u16, u16, u32, u16, usize)> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let (mut pos, mut fmt, mut data) = (12, None, None);
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
        let body = bytes.get(pos + 8..pos + 8 + len)?;
        match &header[0..4] {
            b"fmt " => {
                let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                let rate = u32::from_le_bytes(body.get(4..8)?.try_into().ok()?);
                fmt = Some((u16_at(0), u16_at(2), rate, u16_at(14)));
            }
            b"data" => data = Some(len),
            _ => {}
        }
        pos += 8 + len + len % 2;
    }
    let (format, channels, rate, bits) = fmt?;
    Some((format, channels, rate, bits, data?))
}

/// Fails unless `prompts/<lang>/<id>.wav` is 8 kHz mono 16-bit PCM of a sane length.
fn assert_recording(lang: Language, id: &str, max_seconds: usize) {
    let path = prompts_dir().join(lang.code()).join(format!("{id}.wav"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (format, channels, rate, bits, data) =
        wav_format(&bytes).unwrap_or_else(|| panic!("{}: not a WAV file", path.display()));
    assert_eq!(
        (format, channels, rate, bits),
        (1, 1, 8000, 16),
        "{}",
        path.display()
    );
    let seconds = data as f64 / 16_000.0;
    assert!(
        (0.15..=max_seconds as f64).contains(&seconds),
        "{}: {seconds} s",
        path.display()
    );
}

#[test]
fn every_prompt_has_all_eight_languages_and_nothing_else() {
    let prompts = catalogue()["prompts"].as_table().unwrap();
    let ids: BTreeSet<&str> = prompts.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        prompt_ids().iter().map(String::as_str).collect(),
        "catalogue ids differ from the contract"
    );
    for (id, entry) in prompts {
        let entry = entry
            .as_table()
            .unwrap_or_else(|| panic!("[prompts.{id}] is not a table"));
        let keys: BTreeSet<String> = entry.keys().cloned().collect();
        assert_eq!(keys, prompt_keys(), "[prompts.{id}] languages");
        for (key, text) in entry {
            let text = text
                .as_str()
                .unwrap_or_else(|| panic!("{id}.{key} is not a string"));
            assert!(!text.trim().is_empty(), "{id}.{key} is empty");
        }
    }
}

#[test]
fn every_prompt_has_a_recording_in_every_language() {
    for lang in Language::ALL {
        for id in prompt_ids() {
            assert_recording(lang, &id, 20);
        }
    }
}

#[test]
fn every_number_word_has_text_hints_and_a_recording() {
    for lang in Language::ALL {
        let table = word_table(lang);
        let listed: BTreeSet<&str> = words(lang).iter().copied().collect();
        let in_catalogue: BTreeSet<&str> = table.keys().map(String::as_str).collect();
        assert_eq!(
            in_catalogue, listed,
            "[words.{lang}] and say::words({lang}) differ"
        );
        for id in words(lang) {
            assert!(id.starts_with("num_"), "{lang}: {id} is not a num_ id");
            assert!(
                !table[*id].as_str().unwrap().trim().is_empty(),
                "{lang}: {id} is empty"
            );
            assert_recording(lang, id, 3);
        }
    }
    for table in ["zh-CN.pinyin", "zh-TW.pinyin"] {
        let lang: Language = table.trim_end_matches(".pinyin").parse().unwrap();
        let hints = catalogue()["words"][table].as_table().unwrap();
        let keys: BTreeSet<&str> = hints.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            words(lang).iter().copied().collect(),
            "[words.\"{table}\"]"
        );
    }
}

#[test]
fn say_emits_exactly_the_listed_words() {
    for lang in Language::ALL {
        let listed: BTreeSet<&str> = words(lang).iter().copied().collect();
        assert_eq!(
            listed.len(),
            words(lang).len(),
            "{lang}: duplicate in words()"
        );
        assert_eq!(emitted(lang), listed, "{lang}: say() and words() differ");
    }
}

#[test]
fn no_recording_lacks_a_catalogue_entry() {
    for lang in Language::ALL {
        let known: BTreeSet<String> = prompt_ids()
            .into_iter()
            .chain(words(lang).iter().map(|id| id.to_string()))
            .map(|id| format!("{id}.wav"))
            .collect();
        for entry in std::fs::read_dir(prompts_dir().join(lang.code())).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                known.contains(&name),
                "prompts/{lang}/{name} is not in the catalogue"
            );
        }
    }
}

#[test]
fn units_go_where_each_language_says_them() {
    let spo2 = Number::Integer(97);
    assert_eq!(
        say_with_unit(Language::ZhCn, &spo2, Unit::Percent),
        ["unit_percent", "num_90", "num_7"]
    );
    assert_eq!(
        say_with_unit(Language::Yue, &spo2, Unit::Percent)[0],
        "unit_percent"
    );
    assert_eq!(
        say_with_unit(Language::ZhTw, &spo2, Unit::Percent)[0],
        "unit_percent"
    );
    assert_eq!(
        say_with_unit(Language::En, &spo2, Unit::Percent),
        ["num_90", "num_7", "unit_percent"]
    );
    let temperature = Number::Tenths(365);
    for lang in Language::ALL {
        assert_eq!(
            say_with_unit(lang, &temperature, Unit::Degrees).last(),
            Some(&"unit_degrees")
        );
    }
}

#[test]
fn debug_never_prints_the_value() {
    let shown = format!(
        "{:?}",
        [Number::Integer(97), Number::Digits("12345678".into())]
    );
    assert_eq!(shown, "[Integer([redacted]), Digits([redacted])]");
    assert!(say(Language::En, &Number::Digits("*#".into())).is_empty());
}
