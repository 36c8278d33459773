//! Whole simulated calls, key by key, over the shipped dialplans and prompts.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::protocol::SimEvent;
use super::*;
use crate::config::Config;
use crate::rtp::Digit;

mod rules;

/// The shipped prompts and dialplans, loaded once for every test.
pub(super) fn ctx() -> Arc<SimContext> {
    static CTX: OnceLock<Arc<SimContext>> = OnceLock::new();
    CTX.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut config = Config::defaults();
        config.prompts_dir = root.join("prompts");
        config.dialplans_dir = root.join("dialplans");
        let assets = Assets::load(&config).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(SimContext::new(
            &assets,
            FlagRules::default(),
            "/sim/audio/",
        ))
    })
    .clone()
}

/// A simulated call and the events of its last input.
struct Sim {
    session: SimSession,
    events: Vec<SimEvent>,
    play: u64,
}

impl Sim {
    fn start(dialplan: &str, language: Language) -> Sim {
        let (session, events) = SimSession::start(ctx(), dialplan, language, Instant::now())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Sim {
            session,
            events: Vec::new(),
            play: 0,
        };
        sim.note(events);
        sim
    }

    fn note(&mut self, events: Vec<SimEvent>) -> &[SimEvent] {
        for e in &events {
            if let SimEvent::Play { play, .. } = e {
                self.play = *play;
            }
        }
        assert!(
            matches!(events.last(), Some(SimEvent::Status { .. })),
            "every batch ends with a status: {events:?}"
        );
        self.events = events;
        &self.events
    }

    fn send(&mut self, input: SimInput) -> &[SimEvent] {
        let events = self.session.handle(input);
        self.note(events)
    }

    /// The page heard every prompt queued so far.
    fn done(&mut self) -> &[SimEvent] {
        let play = self.play;
        self.send(SimInput::PlaybackDone { play })
    }

    fn timeout(&mut self) -> &[SimEvent] {
        self.send(SimInput::TimeoutElapsed)
    }

    /// Presses `keys`; returns the events of the last one and asserts the others only
    /// returned a status.
    fn keys(&mut self, keys: &str) -> &[SimEvent] {
        let n = keys.chars().count();
        for (i, c) in keys.chars().enumerate() {
            self.send(SimInput::Key(Digit::from_char(c).unwrap()));
            if i + 1 < n {
                assert_eq!(self.events.len(), 1, "key {i} of {n}: {:?}", self.events);
            }
        }
        &self.events
    }

    /// The prompt ids of the play events of the last batch, in order.
    fn played(&self) -> Vec<String> {
        played(&self.events)
    }

    /// The (question, value, flag) of the answer events of the last batch.
    fn answers(&self) -> Vec<(String, String, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SimEvent::Answer {
                    question,
                    value,
                    flag,
                    ..
                } => Some((question.clone(), value.clone(), flag.clone())),
                _ => None,
            })
            .collect()
    }

    fn status(&self) -> (bool, Option<u64>, bool) {
        match self.events.last() {
            Some(SimEvent::Status {
                playing,
                timeout_ms,
                ended,
                ..
            }) => (*playing, *timeout_ms, *ended),
            other => panic!("no status: {other:?}"),
        }
    }

    /// The outcome of the hangup event of the last batch.
    fn hangup(&self) -> Option<&'static str> {
        self.events.iter().find_map(|e| match e {
            SimEvent::Hangup { outcome } => Some(outcome.unwrap_or("none")),
            _ => None,
        })
    }
}

fn played(events: &[SimEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Play { prompts, .. } => Some(prompts.iter().map(|p| p.id.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The symptom fields, from the one list of report fields.
fn symptoms() -> Vec<&'static str> {
    use crate::domain::{FieldKind, ReportField};
    ReportField::ALL
        .into_iter()
        .filter(|f| f.kind() == FieldKind::Symptom)
        .map(ReportField::name)
        .collect()
}

/// Answers every question from the temperature prompt on (which must be playing): 38.4 °C
/// (red), SpO2 97, "no" to every symptom and to the callback.
fn answer_all_questions(sim: &mut Sim) {
    assert_eq!(sim.played(), ids(&["q_temperature"]));
    sim.done();
    sim.keys("384");
    let read_back = sim.played();
    assert_eq!(
        read_back.first().map(String::as_str),
        Some("confirm_temperature")
    );
    assert!(
        read_back.iter().any(|id| id.starts_with("num_")),
        "{read_back:?}"
    );
    assert_eq!(read_back.last().map(String::as_str), Some("confirm_keys"));
    sim.done();
    sim.keys("1");
    assert_eq!(
        sim.answers(),
        [("temperature".into(), "38.4".into(), "red".into())]
    );
    assert_eq!(sim.played(), ids(&["q_spo2"]));
    sim.done();
    sim.keys("97#");
    assert_eq!(
        sim.played().first().map(String::as_str),
        Some("confirm_spo2")
    );
    sim.done();
    sim.keys("1");
    assert_eq!(sim.answers(), [("spo2".into(), "97".into(), "red".into())]);
    for (i, field) in symptoms().into_iter().enumerate() {
        let prompt = format!("q_{field}");
        assert_eq!(sim.played(), ids(&[&prompt, "keys_yes_no_unknown"]));
        sim.done();
        assert!(sim.status().1.is_some(), "waiting for a key with a timer");
        sim.keys("2");
        assert_eq!(
            sim.answers(),
            [(field.to_string(), "no".into(), "red".into())],
            "{i}"
        );
    }
    assert_eq!(sim.played(), ids(&["q_callback", "keys_yes_no"]));
    sim.done();
    sim.keys("2");
    assert_eq!(
        sim.answers(),
        [("callback".into(), "no".into(), "red".into())]
    );
    assert!(sim.events.iter().any(|e| matches!(e,
        SimEvent::ReportComplete { flag, reasons } if flag == "red" && reasons == &["fever"])));
}

#[test]
fn a_whole_health_call_in_english_key_by_key() {
    let mut sim = Sim::start("health_call", Language::Ja);
    assert_eq!(sim.played(), ids(&["hc_welcome"]));
    assert_eq!(
        sim.status(),
        (true, None, false),
        "no timer while a prompt plays"
    );
    let SimEvent::Play { prompts, .. } = &sim.events[0] else {
        panic!("{:?}", sim.events)
    };
    assert_eq!(prompts[0].lang, Language::Ja);
    assert!(
        prompts[0].text.contains("健康コール"),
        "{}",
        prompts[0].text
    );
    assert_eq!(prompts[0].audio, "/sim/audio/ja/hc_welcome.wav");

    sim.done();
    let SimEvent::Play { prompts, .. } = &sim.events[0] else {
        panic!("{:?}", sim.events)
    };
    let menu: Vec<Language> = prompts.iter().map(|p| p.lang).collect();
    assert_eq!(
        menu,
        Language::ALL,
        "each language's entry in its own language"
    );
    assert!(prompts[1].text.contains("English"));
    sim.done();
    let (playing, timeout, _) = sim.status();
    assert!(
        !playing && timeout.is_some_and(|t| t > 0),
        "the menu waits for a key"
    );

    sim.keys("2");
    assert!(sim.events.contains(&SimEvent::Language {
        language: Language::En
    }));
    let SimEvent::Play { prompts, .. } = &sim.events[1] else {
        panic!("{:?}", sim.events)
    };
    assert_eq!(
        (prompts[0].id.as_str(), prompts[0].lang),
        ("hc_pulse_hint", Language::En)
    );
    assert!(prompts[0].text.contains("star key"), "{}", prompts[0].text);
    sim.done();
    assert_eq!(sim.played(), ids(&["hc_enter_id"]));
    sim.done();
    sim.keys("12345678#");
    assert_eq!(sim.played(), ids(&["hc_enter_birthday"]));
    sim.done();
    sim.keys("0415");
    assert_eq!(sim.events[0], SimEvent::Identified { confirmed: true });
    answer_all_questions(&mut sim);
    assert_eq!(sim.played(), ids(&["hc_recorded", "hc_another_person"]));
    sim.done();
    sim.timeout();
    assert_eq!(sim.played(), ids(&["closing"]), "no key: closing");
    sim.done();
    assert_eq!(sim.hangup(), Some("completed"));
    assert_eq!(sim.status(), (false, None, true));
    assert_eq!(
        sim.session.outcome(),
        Some(crate::ivr::CallOutcome::Completed)
    );
    assert_eq!(sim.keys("1").len(), 1, "nothing after the end");
}

#[test]
fn a_wrong_identity_is_not_confirmed_and_a_hangup_ends_the_call() {
    let mut sim = Sim::start("health_call", Language::Ja);
    sim.done();
    sim.done();
    sim.keys("1");
    sim.done();
    sim.done();
    sim.keys("12345678#");
    sim.done();
    sim.keys("0416");
    assert_eq!(sim.events[0], SimEvent::Identified { confirmed: false });
    assert!(
        sim.played().contains(&"hc_not_confirmed".to_string()),
        "{:?}",
        sim.played()
    );
    sim.send(SimInput::Hangup);
    assert!(sim.hangup().is_some());
    assert_eq!(sim.status(), (false, None, true));
}

#[test]
fn a_whole_automatic_call_in_korean_key_by_key() {
    let mut sim = Sim::start("automatic_call", Language::Ko);
    assert_eq!(sim.played(), ids(&["ac_greeting", "ac_start_keys"]));
    let SimEvent::Play { prompts, .. } = &sim.events[0] else {
        panic!("{:?}", sim.events)
    };
    assert!(prompts
        .iter()
        .all(|p| p.lang == Language::Ko && !p.text.is_empty()));
    sim.done();
    sim.keys("1");
    answer_all_questions(&mut sim);
    assert_eq!(sim.played(), ids(&["closing"]));
    sim.done();
    assert_eq!(sim.hangup(), Some("completed"));
}

#[test]
fn silence_repeats_the_greeting_then_ends_as_no_response() {
    let mut sim = Sim::start("automatic_call", Language::Ja);
    for _ in 0..2 {
        sim.done();
        sim.timeout();
        assert_eq!(sim.played(), ids(&["ac_greeting", "ac_start_keys"]));
    }
    sim.done();
    sim.timeout();
    assert_eq!(sim.played(), ids(&["goodbye"]));
    sim.done();
    assert_eq!(sim.hangup(), Some("no_response"));
}

#[test]
fn barge_in_stops_playback_and_a_stale_playback_done_is_ignored() {
    let mut sim = Sim::start("automatic_call", Language::Ja);
    let greeting = sim.play;
    sim.keys("9");
    assert_eq!(sim.events[0], SimEvent::StopPlayback);
    assert!(sim.events.contains(&SimEvent::WrongNumber));
    assert_eq!(sim.played(), ids(&["ac_wrong_number"]));
    sim.send(SimInput::PlaybackDone { play: greeting });
    assert_eq!(sim.events.len(), 1, "the stopped greeting's end is ignored");
    assert!(sim.status().0, "still playing");
    assert_eq!(sim.timeout().len(), 1, "no timer due: nothing happens");
    sim.done();
    assert_eq!(sim.hangup(), Some("wrong_number"));
}

#[test]
fn the_connection_answers_bad_messages_with_an_error() {
    let mut c = Connection::new(ctx());
    let now = Instant::now();
    let is_error = |events: &[SimEvent]| matches!(events, [SimEvent::Error { .. }]);
    assert!(
        is_error(&c.on_text("{\"type\":\"key\",\"key\":\"1\"}", now)),
        "no call yet"
    );
    assert!(is_error(&c.on_text("not json", now)));
    assert!(is_error(&c.on_text("{\"type\":\"dance\"}", now)));
    let unknown = c.on_text(
        "{\"type\":\"start\",\"dialplan\":\"nope\",\"language\":\"ja\"}",
        now,
    );
    assert!(is_error(&unknown));
    let bad_language = "{\"type\":\"start\",\"dialplan\":\"health_call\",\"language\":\"xx\"}";
    assert!(is_error(&c.on_text(bad_language, now)));
    let started = c.on_text(
        "{\"type\":\"start\",\"dialplan\":\"automatic_call\",\"language\":\"es\"}",
        now,
    );
    assert_eq!(played(&started), ids(&["ac_greeting", "ac_start_keys"]));
    for key in ["x", "12", "", "A"] {
        let msg = format!("{{\"type\":\"key\",\"key\":\"{key}\"}}");
        assert!(is_error(&c.on_text(&msg, now)), "{key:?}");
    }
    let json = serde_json::to_value(&started[0]).unwrap();
    assert_eq!(json["type"], "play");
    assert_eq!(json["prompts"][0]["audio"], "/sim/audio/es/ac_greeting.wav");
    let hello = serde_json::to_value(ctx().hello()).unwrap();
    assert_eq!(
        hello["dialplans"],
        serde_json::json!(["automatic_call", "health_call"])
    );
    assert_eq!(hello["languages"][2], "zh-CN");
    assert_eq!(hello["demo_identity"]["hersys_id"], "12345678");
}

#[test]
fn prompts_are_served_as_wav() {
    let wav = ctx().prompt_wav(Language::Yue, "q_temperature").unwrap();
    assert_eq!(&wav[0..4], b"RIFF");
    assert!(wav.len() > 44 + 8000, "at least half a second of audio");
    assert!(
        ctx().prompt_wav(Language::Ja, "num_7").is_some(),
        "number words too"
    );
    assert!(ctx().prompt_wav(Language::Ja, "nope").is_none());
}

#[test]
fn the_connection_survives_mutated_messages() {
    let valid = [
        "{\"type\":\"start\",\"dialplan\":\"health_call\",\"language\":\"ja\"}",
        "{\"type\":\"playback_done\",\"play\":1}",
        "{\"type\":\"key\",\"key\":\"#\"}",
        "{\"type\":\"timeout\"}",
        "{\"type\":\"hangup\"}",
    ];
    // xorshift64*: deterministic, so a failure reproduces.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut c = Connection::new(ctx());
    let now = Instant::now();
    for round in 0..3000 {
        let mut bytes = valid[round % valid.len()].as_bytes().to_vec();
        for _ in 0..=next() % 3 {
            let at = (next() as usize) % (bytes.len() + 1);
            match next() % 3 {
                0 if at < bytes.len() => bytes[at] = next() as u8,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, next() as u8),
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let events = c.on_text(&text, now);
        assert!(!events.is_empty(), "{text:?}");
        for e in &events {
            serde_json::to_string(e).unwrap();
        }
    }
}
