//! One call's whole behaviour, sans-IO: [`Session`] takes SIP, media and store events plus
//! `now` and hands out SIP actions, media actions, store requests, journal appends and call
//! events, with every timer of the call in one table ([`timers`]). Inside it a [`CallFlow`]
//! (the dialplan interpreter as [`DialplanFlow`], or the [`ProbeFlow`]) decides what is said
//! between answer and hang-up. The driver in `runtime/` carries the outputs out.
//!
//! Owns: call set-up and tear-down (SDP offer/answer, ring, CANCEL, answering machine, media
//! timeout, the closing prompt's tail), in-dialog requests, the report store's requests and
//! their journal fallback, the call record. Must not touch: sockets, tasks, the clock, the
//! SIP library's types, SQL.

use std::time::Instant;

use crate::ivr::{CallOutcome, Identification};
use crate::lang::Language;
use crate::rtp::DigitEvent;

mod dialplan_flow;
pub mod io;
mod probe;
mod record;
mod report;
mod session;
mod signalling;
mod talking;
pub mod timers;

#[cfg(test)]
mod tests;

pub use dialplan_flow::DialplanFlow;
pub use io::{
    Input, MediaAction, MediaEvent, Output, SessionEvent, SipAction, SipEvent, SipRequestId,
    StoreCall, StoreRequestId, StoreValue,
};
pub use probe::ProbeFlow;
pub use record::{ended_disposition, Leg};
pub use session::{Session, SessionSetup};

pub use crate::domain::Direction;

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
    /// The answer to [`CallAction::Identify`].
    Identified(Identification),
    /// The call is over (either side hung up); no action that follows is carried out.
    Hangup,
}

/// What the flow wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    /// Queue these prompts after whatever is playing.
    Play(Vec<PromptRef>),
    /// Stop playback now and drop the queue (barge-in).
    StopPlayback,
    /// A request for the report store (identify, store an answer, complete the report, new
    /// report, wrong number, language chosen), carried out before the next action.
    Report(crate::ivr::Action),
    /// End the call.
    Hangup,
}

/// A call's logic. Implementations are deterministic: same inputs and times, same actions.
pub trait CallFlow: Send {
    /// Handles one input at `now` and returns the actions to carry out, in order.
    fn handle(&mut self, input: CallInput, now: Instant) -> Vec<CallAction>;

    /// The next deadline, if the flow waits for one. A spurious `Timeout` input is harmless.
    fn poll_timeout(&self) -> Option<Instant>;

    /// How the call ended as far as the flow knows, once it has ended.
    fn outcome(&self) -> Option<CallOutcome> {
        None
    }

    /// Dialplan id, version and current step, for the call record.
    fn position(&self) -> (String, u32, String) {
        (String::new(), 0, String::new())
    }
}
