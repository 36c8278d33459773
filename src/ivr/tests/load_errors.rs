//! The dialplan checker on the shipped dialplans and on broken fixtures
//! (`tests/fixtures/dialplans/`): every problem, with file, line, step and field.

use std::path::{Path, PathBuf};

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dialplans")
}

/// The problems of a fixture, one message each, with the fixture folder left out of paths.
fn problems(name: &str) -> Vec<String> {
    let dir = fixtures();
    match crate::ivr::load_file(&dir.join(name), &known) {
        Ok(_) => panic!("{name} loaded"),
        Err(e) => {
            let prefix = format!("{}/", dir.display());
            e.0.iter()
                .map(|p| p.to_string().replace(&prefix, ""))
                .collect()
        }
    }
}

#[test]
fn misspelt_keys_are_all_named() {
    assert_eq!(
        problems("typos.toml"),
        [
            "typos.toml:6: [dialplan], field `includes`: unknown key; expected one of id, version, start, include",
            "typos.toml:9: [defaults], field `first_digit_timeout`: unknown key; expected one of first_digit_timeout_ms, inter_digit_timeout_ms, terminator, attempts, barge_in, no_input, invalid_input, skipped",
            "typos.toml:10: [defaults], field `attempts`: 0 is outside 1..=9",
            "typos.toml:14: step `hello`, field `promts`: unknown key; expected one of prompts, next, barge_in",
            "typos.toml:18: step `bye`, field `outcome`: missing",
            "typos.toml:21: step `bye`, field `outcom`: unknown key; expected one of prompts, outcome",
            "typos.toml:24: step `later`, field `type`: unknown step type `wait`; expected one of play, language_menu, menu, collect, identify, questions, hangup",
            "typos.toml:27: field `step`: unknown key; expected one of dialplan, defaults, steps, questions",
        ]
    );
}

#[test]
fn missing_targets_and_unreachable_steps() {
    assert_eq!(
        problems("targets.toml"),
        [
            "targets.toml:10: step `greeting`, field `options`: no step `wrong_numbr`",
            "targets.toml:23: step `orphan`: unreachable from the start step",
            "targets.toml:28: step `also_orphan`: unreachable from the start step",
        ]
    );
}

#[test]
fn ranges_fields_and_choices_in_an_included_fragment() {
    assert_eq!(
        problems("ranges.toml"),
        [
            "ranges_questions.toml:7: question `temperature`, field `min`: min 430 is above max 340",
            "ranges_questions.toml:9: question `temperature`, field `hash_alone`: only spo2 can be stored as not measured",
            "ranges_questions.toml:17: question `spo2`, field `max`: 1000 cannot be keyed with 3 digits",
            "ranges_questions.toml:17: question `spo2`, field `max`: 1000 does not fit field `spo2` (at most 255)",
            "ranges_questions.toml:21: question `cough`, field `type`: field `cough` cannot be answered by a number question",
            "ranges_questions.toml:28: question `pulse`, field `id`: no report field `pulse`; expected one of temperature, spo2, face, cough, breath, fatigue, nausea, diarrhea, conscious, eating, urine, callback",
            "ranges_questions.toml:30: question `pulse`, field `prompts`: unknown prompt `q_pulse`",
            "ranges_questions.toml:37: question `callback`, field `keys`: key `10` is not a single digit 0-9",
            "ranges_questions.toml:37: question `callback`, field `keys`: `unknown` cannot be stored in field `callback`",
            "ranges_questions.toml:40: question `callback`, field `id`: question `callback` is asked twice",
        ]
    );
}

#[test]
fn prompts_missing_from_the_catalogue() {
    assert_eq!(
        problems("prompts.toml"),
        [
            "prompts.toml:8: [defaults], field `no_input`: unknown prompt `no_imput`",
            "prompts.toml:13: step `enter_birthday`, field `prompts`: unknown prompt `hc_enter_birthdate`",
            "prompts.toml:14: step `enter_birthday`, field `digits`: a birthday is keyed as exactly 4 digits (digits = 4)",
            "prompts.toml:20: step `bye`, field `prompts`: unknown prompt `good_bye`",
        ]
    );
}

#[test]
fn syntax_errors_and_missing_includes() {
    assert_eq!(
        problems("syntax.toml"),
        ["syntax.toml:5: not valid TOML: invalid basic string, expected `\"`"]
    );
    assert_eq!(
        problems("missing_include.toml"),
        [
            "missing_include.toml:6: [dialplan], field `include`: cannot read no_such_questions.toml: entity not found",
            "missing_include.toml:8: step `questions`: no questions to ask: include a question fragment",
        ]
    );
}

#[test]
fn the_shipped_dialplans_load_and_ask_the_same_questions() {
    let plans = match crate::ivr::load_dir(&dialplans_dir(), &known) {
        Ok(plans) => plans,
        Err(e) => panic!("{e}"),
    };
    let ids: Vec<&str> = plans.iter().map(|p| p.id()).collect();
    assert_eq!(ids, ["automatic_call", "health_call"]);
    let asked = |p: &Dialplan| p.question_ids().map(|q| q.as_str()).collect::<Vec<_>>();
    let expected = [
        "temperature",
        "spo2",
        "face",
        "cough",
        "breath",
        "fatigue",
        "nausea",
        "diarrhea",
        "conscious",
        "eating",
        "urine",
        "callback",
    ];
    assert_eq!(asked(&plans[0]), expected);
    assert_eq!(asked(&plans[1]), expected);
}

#[test]
fn the_prompt_check_is_the_callers() {
    let without_spo2 = |id: &str| id != "q_spo2" && known(id);
    let path = dialplans_dir().join("automatic_call.toml");
    let e = crate::ivr::load_file(&path, &without_spo2).unwrap_err();
    let messages: Vec<String> = e.0.iter().map(ToString::to_string).collect();
    let fragment = dialplans_dir().join("questions.toml");
    let line = std::fs::read_to_string(&fragment)
        .unwrap()
        .lines()
        .position(|l| l.contains("\"q_spo2\""))
        .unwrap()
        + 1;
    let expected = format!(
        "{}:{line}: question `spo2`, field `prompts`: unknown prompt `q_spo2`",
        fragment.display()
    );
    assert_eq!(messages, [expected]);
}

#[test]
fn parse_reads_includes_through_the_given_reader() {
    let main = "[dialplan]\nid = \"x\"\nversion = 2\nstart = \"q\"\ninclude = [\"q.toml\"]\n\
                [steps.q]\ntype = \"questions\"\nnext = \"end\"\n\
                [steps.end]\ntype = \"hangup\"\noutcome = \"completed\"\n";
    let fragment = "[[questions]]\nid = \"callback\"\ntype = \"choice\"\n\
                    prompts = [\"q_callback\"]\nkeys = { 1 = \"yes\", 2 = \"no\" }\n";
    let read = |p: &Path| {
        assert_eq!(p, Path::new("plans/q.toml"));
        Ok(fragment.to_owned())
    };
    let plan = crate::ivr::parse(Path::new("plans/x.toml"), main, &read, &known).unwrap();
    assert_eq!((plan.id(), plan.version()), ("x", 2));
    assert_eq!(plan.step_ids().collect::<Vec<_>>(), ["q", "end"]);
    let asked: Vec<_> = plan.question_ids().map(|q| q.as_str()).collect();
    assert_eq!(asked, ["callback"]);
}

#[test]
fn an_identify_step_cannot_give_up_to_itself() {
    let main = "[dialplan]\nid = \"x\"\nversion = 1\nstart = \"id\"\n\
                [steps.id]\ntype = \"identify\"\non_confirmed = \"end\"\n\
                on_not_confirmed = \"id\"\nnot_confirmed_prompt = \"hc_not_confirmed\"\n\
                max_failures = 3\non_too_many_failures = \"id\"\non_unavailable = \"end\"\n\
                [steps.end]\ntype = \"hangup\"\noutcome = \"completed\"\n";
    let read = |_: &Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
    let e = crate::ivr::parse(Path::new("x.toml"), main, &read, &known).unwrap_err();
    let messages: Vec<String> = e.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["x.toml:5: step `id`, field `on_too_many_failures`: must lead to a step that is not an identify step"]
    );
}
