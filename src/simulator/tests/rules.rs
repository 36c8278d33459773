//! The flag rules of a simulated call come from the context's source (a running engine's
//! current set, reloads included), asked as each session starts and for each `hello`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::Config;
use crate::lang::Language;
use crate::report::FlagRules;
use crate::rtp::Digit;
use crate::runtime::Assets;
use crate::simulator::protocol::SimEvent;
use crate::simulator::{SimContext, SimInput, SimSession};

/// A context over the shipped prompts and dialplans whose flag rules are `rules`' value at
/// each ask (the fixed rules given to `new`, a fever line of 40.0 °C, must not be used).
fn ctx(rules: Arc<Mutex<FlagRules>>) -> Arc<SimContext> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut config = Config::defaults();
    config.prompts_dir = root.join("prompts");
    config.dialplans_dir = root.join("dialplans");
    let assets = Assets::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let fixed = FlagRules {
        fever_tenths: 400,
        ..FlagRules::default()
    };
    let ctx = SimContext::new(&assets, fixed, "/sim/audio")
        .with_flag_rules_from(move || rules.lock().unwrap_or_else(|e| e.into_inner()).clone());
    Arc::new(ctx)
}

fn start(ctx: &Arc<SimContext>) -> (SimSession, Vec<SimEvent>) {
    SimSession::start(ctx.clone(), "automatic_call", Language::Ja, Instant::now())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Drives an automatic call from its first events (1 to start, 37.8 °C, confirmed) and
/// returns the flag shown with the temperature answer.
fn temperature_flag(session: &mut SimSession, mut events: Vec<SimEvent>) -> String {
    let mut keys = "13781".chars();
    let mut play = 0;
    for _ in 0..50 {
        for e in &events {
            match e {
                SimEvent::Play { play: p, .. } => play = *p,
                SimEvent::Answer { question, flag, .. } if question == "temperature" => {
                    return flag.clone();
                }
                _ => {}
            }
        }
        let input = match events.last() {
            Some(SimEvent::Status { playing: true, .. }) => SimInput::PlaybackDone { play },
            Some(SimEvent::Status { .. }) => {
                let key = keys
                    .next()
                    .expect("the call asks for no more keys than scripted");
                SimInput::Key(Digit::from_char(key).expect("a keypad key"))
            }
            other => panic!("every batch ends with a status: {other:?}"),
        };
        events = session.handle(input);
    }
    panic!("no temperature answer");
}

fn hello_fever(ctx: &SimContext) -> u16 {
    match ctx.hello() {
        SimEvent::Hello { thresholds, .. } => thresholds.fever_tenths,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_session_is_assessed_with_the_sources_rules_of_its_start() {
    let rules = Arc::new(Mutex::new(FlagRules::default()));
    let ctx = ctx(rules.clone());
    assert_eq!(hello_fever(&ctx), 375);
    let (mut session, events) = start(&ctx);
    assert_eq!(
        temperature_flag(&mut session, events),
        "red",
        "37.8 °C is a fever with the line at 37.5"
    );

    // A session started before the rules change keeps its own; one started after gets the new.
    let (mut before, before_events) = start(&ctx);
    rules.lock().unwrap().fever_tenths = 380;
    assert_eq!(hello_fever(&ctx), 380, "hello shows the rules in use now");
    let (mut after, after_events) = start(&ctx);
    assert_eq!(
        temperature_flag(&mut after, after_events),
        "none",
        "37.8 °C is no fever with the line at 38.0"
    );
    assert_eq!(
        temperature_flag(&mut before, before_events),
        "red",
        "a session in progress keeps the rules it started with"
    );
}
