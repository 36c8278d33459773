//! The flow simulator's server side (issue 6): staff (and a new user of the demo) try a
//! dialplan in the browser, hearing each prompt and pressing keypad buttons, without a phone.
//!
//! Owns: [`SimSession`], a sans-IO wrapper of the real call flow ([`crate::call::DialplanFlow`]
//! over the [`crate::ivr`] interpreter) driven by what the page reports (keys, end of playback,
//! timeouts) on a manual clock; the JSON protocol ([`protocol`]); the demo identities Health
//! Call's identification accepts ([`DemoIdentities`]); prompts as WAV ([`wav`]); and the
//! WebSocket and audio handlers ([`ws`], the only file here that names axum types).
//!
//! Must not touch: the report store (answers are shown as they would be stored, with the flag
//! the store would compute, and written nowhere), telephony, logging of keys or answers.
//!
//! The staff route table (`crate::http::routes`) mounts [`ws::socket_route`] (the WebSocket)
//! and [`ws::prompt_audio`] (`…/{lang}/{file}`, whose prefix is [`SimContext`]'s
//! `audio_base`), and serves `web/simulator.html`, `web/simulator.js` and `web/style.css`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ivr::Dialplan;
use crate::lang::Language;
use crate::media::PromptSet;
use crate::report::FlagRules;
use crate::runtime::Assets;

mod connection;
mod demo;
pub mod gate;
pub mod protocol;
mod session;
pub mod wav;
pub mod ws;

#[cfg(test)]
mod tests;

pub use connection::Connection;
pub use demo::DemoIdentities;
pub use protocol::{ClientMessage, SimEvent};
pub use session::{SimError, SimInput, SimSession};

/// Where the flag rules come from: asked as each session starts and for each `hello`.
type FlagRulesSource = Arc<dyn Fn() -> FlagRules + Send + Sync>;

/// What every simulated call shares: the loaded prompts and dialplans, the flag rules, the
/// demo identities and where prompt audio is served.
pub struct SimContext {
    prompts: PromptSet,
    dialplans: BTreeMap<String, Arc<Dialplan>>,
    flag_rules: FlagRulesSource,
    demo: DemoIdentities,
    audio_base: String,
    gate: Arc<gate::SimGate>,
    limits: crate::config::SimulatorLimits,
}

impl SimContext {
    /// A context over the engine's loaded `assets`, assessing answers with `flag_rules` (the
    /// configured ones, so the page shows the flag the store would). `audio_base` is the URL
    /// path where [`ws::prompt_audio`] is mounted (e.g. `/api/v1/simulator/audio`); prompt
    /// URLs are `{audio_base}/{lang}/{id}.wav`. Identification accepts the demo patients.
    pub fn new(assets: &Assets, flag_rules: FlagRules, audio_base: &str) -> SimContext {
        SimContext {
            prompts: assets.prompts.clone(),
            dialplans: assets
                .dialplans
                .iter()
                .map(|(id, plan)| (id.clone(), plan.clone()))
                .collect(),
            flag_rules: Arc::new(move || flag_rules.clone()),
            demo: DemoIdentities::builtin(),
            audio_base: audio_base.trim_end_matches('/').to_owned(),
            gate: Arc::default(),
            limits: crate::config::SimulatorLimits::default(),
        }
    }

    /// Replaces the allowed origins and connection limits of [`ws::socket_route`] (the
    /// defaults: the page's own origin, 64 connections, 8 per source).
    pub fn with_limits(mut self, limits: crate::config::SimulatorLimits) -> SimContext {
        self.limits = limits;
        self
    }

    /// Admits a WebSocket connection (see [`gate::SimGate::admit`]) under `limits`, counted
    /// with every other connection to this context.
    pub fn admit(
        &self,
        limits: &crate::config::SimulatorLimits,
        source: Option<std::net::IpAddr>,
        origin: Option<&str>,
        host: Option<&str>,
    ) -> Result<gate::Slot, gate::Refusal> {
        self.gate.admit(limits, source, origin, host)
    }

    /// Takes the flag rules from `source` instead of the fixed ones given to
    /// [`SimContext::new`]: asked as each session starts (a session keeps the rules it started
    /// with, as a call does) and for each `hello`. `carecall serve` passes the engine's
    /// [`crate::runtime::EngineView::flag_rules`], so a reload that passed changes the
    /// simulator's flags as it changes new calls'.
    pub fn with_flag_rules_from(
        mut self,
        source: impl Fn() -> FlagRules + Send + Sync + 'static,
    ) -> SimContext {
        self.flag_rules = Arc::new(source);
        self
    }

    /// The flag rules a session starting now assesses answers with.
    pub fn flag_rules(&self) -> FlagRules {
        (self.flag_rules)()
    }

    /// Replaces the identities Health Call's identification accepts.
    pub fn with_demo(mut self, demo: DemoIdentities) -> SimContext {
        self.demo = demo;
        self
    }

    /// The dialplan ids, sorted.
    pub fn dialplan_ids(&self) -> Vec<String> {
        self.dialplans.keys().cloned().collect()
    }

    /// The URL of prompt `id`'s audio in `lang`.
    pub fn audio_url(&self, lang: Language, id: &str) -> String {
        format!("{}/{}/{id}.wav", self.audio_base, lang.code())
    }

    /// Prompt `id` in `lang` as an 8 kHz WAV file; `None` when there is no such prompt.
    pub fn prompt_wav(&self, lang: Language, id: &str) -> Option<Vec<u8>> {
        self.prompts.audio(lang, id).map(wav::encode)
    }

    /// The `hello` event sent when a page connects.
    pub fn hello(&self) -> SimEvent {
        let rules = self.flag_rules();
        SimEvent::Hello {
            dialplans: self.dialplan_ids(),
            languages: Language::ALL.to_vec(),
            demo_identity: self
                .demo
                .hint()
                .map(|(id, birthday)| protocol::DemoIdentityView {
                    hersys_id: id.to_owned(),
                    birthday: birthday.to_owned(),
                }),
            thresholds: protocol::ThresholdsView {
                fever_tenths: rules.fever_tenths,
                spo2_at_or_below: rules.spo2_at_or_below,
                spo2_with_breathlessness_below: rules.spo2_with_breathlessness_below,
            },
        }
    }
}
