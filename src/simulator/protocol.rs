//! The WebSocket messages, as JSON text frames. One object per frame, tagged by `type`.
//!
//! Page → server ([`ClientMessage`]):
//!
//! ```json
//! {"type": "start", "dialplan": "health_call", "language": "ja"}
//! {"type": "key", "key": "5"}                 // 0-9, *, #
//! {"type": "playback_done", "play": 3}        // every prompt of play 3 (and earlier) ended
//! {"type": "timeout"}                         // status.timeout_ms has elapsed
//! {"type": "hangup"}
//! ```
//!
//! Server → page ([`SimEvent`]): `hello` on connect, then after each message the events it
//! caused, always ending with one `status`:
//!
//! ```json
//! {"type": "hello", "dialplans": ["automatic_call", "health_call"], "languages": ["ja", …],
//!  "demo_identity": {"hersys_id": "12345678", "birthday": "0415"},
//!  "thresholds": {"fever_tenths": 375, "spo2_at_or_below": 93,
//!                 "spo2_with_breathlessness_below": 96}}
//! {"type": "play", "play": 3, "prompts": [{"id": "q_temperature", "lang": "ja",
//!   "text": "体温を…", "audio": "/sim/audio/ja/q_temperature.wav"}]}
//! {"type": "stop_playback"}
//! {"type": "language", "language": "en"}
//! {"type": "identified", "confirmed": true}
//! {"type": "answer", "question": "temperature", "kind": "temperature", "value": "38.4",
//!  "flag": "red", "reasons": ["fever"]}
//! {"type": "report_complete", "flag": "red", "reasons": ["fever"]}
//! {"type": "new_report"}  {"type": "wrong_number"}
//! {"type": "hangup", "outcome": "completed"}
//! {"type": "status", "dialplan": "health_call", "step": "temperature", "language": "ja",
//!  "playing": true, "timeout_ms": null, "ended": false}
//! {"type": "error", "message": "…"}
//! ```
//!
//! A `play` is queued after what is playing; the page sends `playback_done` with the number of
//! the last play once its queue is empty. A `playback_done` for an older play (one stopped by
//! `stop_playback`, or overtaken by a newer one) is ignored, so a late message cannot skip a
//! prompt. Answers are shown as they would be stored; nothing reaches the report store.

use serde::{Deserialize, Serialize};

use crate::ivr::CallOutcome;
use crate::lang::Language;

/// A message from the page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Start (or restart) a simulated call.
    Start {
        /// A dialplan id from `hello`.
        dialplan: String,
        /// The call language (the patient's language; Health Call's menu can change it).
        language: Language,
    },
    /// A keypad key: `0`–`9`, `*` or `#`.
    Key {
        /// The key.
        key: String,
    },
    /// Everything queued up to play `play` has been heard.
    PlaybackDone {
        /// The number of the last `play` event received.
        play: u64,
    },
    /// The `timeout_ms` of the last `status` has elapsed without a key.
    Timeout,
    /// The caller hangs up.
    Hangup,
}

/// One prompt of a `play` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptView {
    /// The prompt id.
    pub id: String,
    /// The language it is played in.
    pub lang: Language,
    /// Its catalogue text in that language.
    pub text: String,
    /// Where the page fetches its audio (WAV).
    pub audio: String,
}

/// Something the page shows or does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SimEvent {
    /// Sent once on connect: what can be simulated.
    Hello {
        /// Dialplan ids, sorted.
        dialplans: Vec<String>,
        /// Language codes in menu order.
        languages: Vec<Language>,
        /// A demo patient to identify as on Health Call.
        demo_identity: Option<DemoIdentityView>,
        /// The flag thresholds, for the words of the flag reasons.
        thresholds: ThresholdsView,
    },
    /// Queue these prompts after whatever is playing.
    Play {
        /// The play's number (increasing within a session).
        play: u64,
        /// The prompts in order.
        prompts: Vec<PromptView>,
    },
    /// Stop playback and drop the queue (barge-in).
    StopPlayback,
    /// The call language changed.
    Language {
        /// The new language.
        language: Language,
    },
    /// The result of Health Call identification (against the demo patients).
    Identified {
        /// Whether the ID and birthday were a demo patient's.
        confirmed: bool,
    },
    /// An answer as it would be stored, and the report's flag after it.
    Answer {
        /// The question (report field).
        question: String,
        /// `temperature`, `spo2`, `symptom`, `yes_no` or `unanswered`.
        kind: String,
        /// The value as staff would read it (`38.4`, `97`, `not measured`, `yes`…).
        value: String,
        /// The report's flag now.
        flag: String,
        /// The reason codes behind it.
        reasons: Vec<String>,
    },
    /// The report is complete.
    ReportComplete {
        /// Its flag.
        flag: String,
        /// The reason codes behind it.
        reasons: Vec<String>,
    },
    /// The next identification starts another person's report.
    NewReport,
    /// The person called said it is the wrong number.
    WrongNumber,
    /// The call is over.
    Hangup {
        /// How it ended (`completed`, `incomplete`, `no_response`, `wrong_number`,
        /// `not_identified`, `abandoned`, `store_unavailable`).
        outcome: Option<&'static str>,
    },
    /// Where the call stands; ends every batch.
    Status {
        /// The dialplan.
        dialplan: String,
        /// The current step id.
        step: String,
        /// The call language.
        language: Language,
        /// Whether prompts are playing (the page should send `playback_done`).
        playing: bool,
        /// Send `timeout` after this many milliseconds without a key; `null` when no timer
        /// runs (playing, or ended).
        timeout_ms: Option<u64>,
        /// Whether the call is over.
        ended: bool,
    },
    /// A message the server could not act on.
    Error {
        /// What was wrong.
        message: String,
    },
}

/// The configured flag thresholds (the page words a reason such as `fever` with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ThresholdsView {
    /// Red at or above this temperature, in tenths of °C.
    pub fever_tenths: u16,
    /// Red when SpO2 is at or below this.
    pub spo2_at_or_below: u8,
    /// Red when SpO2 is below this with breathlessness.
    pub spo2_with_breathlessness_below: u8,
}

/// The demo identity shown on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoIdentityView {
    /// A demo patient's HER-SYS ID (fictional).
    pub hersys_id: String,
    /// Their birthday as keyed, `MMDD`.
    pub birthday: String,
}

/// The snake_case name of an outcome.
pub fn outcome_label(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::Completed => "completed",
        CallOutcome::Incomplete => "incomplete",
        CallOutcome::NoResponse => "no_response",
        CallOutcome::WrongNumber => "wrong_number",
        CallOutcome::NotIdentified => "not_identified",
        CallOutcome::Abandoned => "abandoned",
        CallOutcome::StoreUnavailable => "store_unavailable",
    }
}
