//! The shipped prompts and dialplans fit together: every prompt id a dialplan uses is in the
//! catalogue in all eight languages, every catalogue id has a recording in every language,
//! and both required dialplans load.

use std::path::Path;

use carecall::config::Config;
use carecall::lang::Language;
use carecall::runtime::{Assets, REQUIRED_DIALPLANS};

#[test]
fn shipped_dialplans_use_only_catalogued_prompts_recorded_in_every_language() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = Config::parse("", &root.join("carecall.toml")).unwrap();
    let assets = Assets::load(&config).unwrap_or_else(|e| panic!("{e}"));
    for id in REQUIRED_DIALPLANS {
        assert!(assets.dialplans.contains_key(id), "{id}");
    }
    for lang in Language::ALL {
        for id in [
            "hc_welcome",
            "lang_select",
            "q_temperature",
            "closing",
            "ac_greeting",
        ] {
            assert!(assets.prompts.has(lang, id), "{lang} {id}");
        }
    }
}

#[test]
fn a_dialplan_naming_an_uncatalogued_prompt_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("carecall-assets-{}", std::process::id()));
    let plans = dir.join("dialplans");
    std::fs::create_dir_all(&plans).unwrap();
    for f in ["questions.toml", "automatic_call.toml", "health_call.toml"] {
        let text = std::fs::read_to_string(root.join("dialplans").join(f)).unwrap();
        let text = text.replace("\"closing\"", "\"closing_words\"");
        std::fs::write(plans.join(f), text).unwrap();
    }
    let toml = format!("[prompts]\ndir = \"{}/prompts\"\n", root.display());
    let config = Config::parse(&toml, &dir.join("carecall.toml")).unwrap();
    let problems = Assets::load(&config).err().expect("refused").0;
    assert!(
        problems.iter().any(|p| p.contains("closing_words")),
        "{problems:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
