//! One page's connection: parses each text message, starts sessions and routes inputs to the
//! current one. Sans IO: the WebSocket shell ([`super::ws`]) feeds text and sends the events.

use std::sync::Arc;
use std::time::Instant;

use super::protocol::{ClientMessage, SimEvent};
use super::session::{SimInput, SimSession};
use super::SimContext;
use crate::rtp::Digit;

/// The longest text message accepted from a page.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// A page's connection and its current simulated call, if any.
pub struct Connection {
    ctx: Arc<SimContext>,
    session: Option<SimSession>,
}

impl Connection {
    /// A new connection; send [`SimContext::hello`] first.
    pub fn new(ctx: Arc<SimContext>) -> Connection {
        Connection { ctx, session: None }
    }

    /// Handles one text message received at `now` (used only to start a session's clock);
    /// returns the events to send. A malformed message, an unknown dialplan or a key outside
    /// the keypad is answered with one `error` event and changes nothing.
    pub fn on_text(&mut self, text: &str, now: Instant) -> Vec<SimEvent> {
        let message: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return error(format!("bad message: {e}")),
        };
        let input = match message {
            ClientMessage::Start { dialplan, language } => {
                return match SimSession::start(self.ctx.clone(), &dialplan, language, now) {
                    Ok((session, events)) => {
                        self.session = Some(session);
                        events
                    }
                    Err(e) => error(e.to_string()),
                };
            }
            ClientMessage::Key { key } => {
                let mut chars = key.chars();
                match (chars.next().and_then(keypad), chars.next()) {
                    (Some(digit), None) => SimInput::Key(digit),
                    _ => return error("key must be one of 0-9, * and #".into()),
                }
            }
            ClientMessage::PlaybackDone { play } => SimInput::PlaybackDone { play },
            ClientMessage::Timeout => SimInput::TimeoutElapsed,
            ClientMessage::Hangup => SimInput::Hangup,
        };
        match &mut self.session {
            Some(session) => session.handle(input),
            None => error("no call: send start first".into()),
        }
    }
}

/// The 12 keys of a phone keypad.
fn keypad(c: char) -> Option<Digit> {
    matches!(c, '0'..='9' | '*' | '#')
        .then(|| Digit::from_char(c))
        .flatten()
}

fn error(message: String) -> Vec<SimEvent> {
    vec![SimEvent::Error { message }]
}
