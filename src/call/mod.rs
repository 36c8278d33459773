//! One call's session logic, sans-IO: a [`CallFlow`] takes call inputs plus `now` and returns
//! actions; the runtime carries them out (SIP, media) and feeds the results back.
//!
//! Owns: what a call does between answer and hang-up. Must not touch: sockets, the clock,
//! the SIP library. The dialplan interpreter plugs in here; until then [`ProbeFlow`] answers,
//! plays a prompt and reports every digit.

use std::time::Instant;

use crate::lang::Language;
use crate::rtp::DigitEvent;

mod probe;

pub use probe::ProbeFlow;

/// Whether carecall or the patient placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The patient called carecall (Health Call).
    Inbound,
    /// carecall called the patient (automatic call).
    Outbound,
}

impl Direction {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A prompt to play: an id in a language's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRef {
    /// The language folder.
    pub lang: Language,
    /// The prompt id.
    pub id: String,
}

/// What happened to the call, for the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallInput {
    /// Media is up both ways.
    Answered,
    /// The caller pressed a key (any transport).
    Digit(DigitEvent),
    /// Everything queued for playback has been played.
    PlaybackDone,
    /// The deadline from [`CallFlow::poll_timeout`] passed.
    Timeout,
}

/// What the flow wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    /// Queue these prompts after whatever is playing.
    Play(Vec<PromptRef>),
    /// Stop playback now and drop the queue (barge-in).
    StopPlayback,
    /// End the call.
    Hangup,
}

/// A call's logic. Implementations are deterministic: same inputs and times, same actions.
pub trait CallFlow: Send {
    /// Handles one input at `now` and returns the actions to carry out, in order.
    fn handle(&mut self, input: CallInput, now: Instant) -> Vec<CallAction>;

    /// The next deadline, if the flow waits for one. A spurious `Timeout` input is harmless.
    fn poll_timeout(&self) -> Option<Instant>;
}
