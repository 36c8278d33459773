//! One simulated call, sans IO: the real dialplan interpreter behind [`DialplanFlow`], fed key
//! presses, "playback finished" and "timeout elapsed" from the page, on a manual clock.
//!
//! Time only moves when the page says a timer ran out: the session then jumps its clock to the
//! interpreter's deadline, exactly as the runtime's timer would have fired. A key press or the
//! end of playback happens "now" on that clock. So a whole call is deterministic, whatever the
//! page's pace, and a spurious `timeout` (nothing due) does nothing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::call::{CallAction, CallFlow, CallInput, DialplanFlow, PromptRef};
use crate::ivr::{Action, AnswerValue, CallOutcome, Identification};
use crate::lang::Language;
use crate::report::{Assessment, FlagRules};
use crate::rtp::{Digit, DigitEvent, DigitMethod};

use super::protocol::{outcome_label, PromptView, SimEvent};
use super::SimContext;

/// What the page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimInput {
    /// A keypad key.
    Key(Digit),
    /// Playback up to play number `play` ended.
    PlaybackDone {
        /// The last play the page received.
        play: u64,
    },
    /// The announced timeout elapsed.
    TimeoutElapsed,
    /// The caller hung up.
    Hangup,
}

/// A session could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No dialplan with this id is loaded.
    #[error("no dialplan {0:?}")]
    UnknownDialplan(String),
}

/// One simulated call.
pub struct SimSession {
    ctx: Arc<SimContext>,
    dialplan: String,
    flow: DialplanFlow,
    now: Instant,
    language: Language,
    play: u64,
    playing: bool,
    answers: Vec<(String, AnswerValue)>,
    /// The context's flag rules when the session started, kept to its end.
    flag_rules: FlagRules,
    ended: bool,
}

impl SimSession {
    /// Starts `dialplan` in `language` at `now` (the session's clock from then on) and returns
    /// the first events (the greeting). Answers are assessed with the context's flag rules
    /// of this moment until the session ends.
    pub fn start(
        ctx: Arc<SimContext>,
        dialplan: &str,
        language: Language,
        now: Instant,
    ) -> Result<(SimSession, Vec<SimEvent>), SimError> {
        let plan = ctx
            .dialplans
            .get(dialplan)
            .cloned()
            .ok_or_else(|| SimError::UnknownDialplan(dialplan.to_owned()))?;
        let flag_rules = ctx.flag_rules();
        let mut session = SimSession {
            ctx,
            dialplan: dialplan.to_owned(),
            flow: DialplanFlow::new(plan, language),
            now,
            language,
            play: 0,
            playing: false,
            answers: Vec::new(),
            flag_rules,
            ended: false,
        };
        let events = session.run(CallInput::Answered);
        Ok((session, events))
    }

    /// Handles one input from the page; returns the events to send, ending with a `status`.
    /// Inputs after the end, a stale `playback_done` and a `timeout` with no timer due only
    /// return the status.
    pub fn handle(&mut self, input: SimInput) -> Vec<SimEvent> {
        if self.ended {
            return vec![self.status()];
        }
        match input {
            SimInput::Key(digit) => self.run(CallInput::Digit(DigitEvent {
                digit,
                method: DigitMethod::Rfc4733,
            })),
            SimInput::PlaybackDone { play } if self.playing && play == self.play => {
                self.playing = false;
                self.run(CallInput::PlaybackDone)
            }
            SimInput::PlaybackDone { .. } => vec![self.status()],
            SimInput::TimeoutElapsed => match self.flow.poll_timeout() {
                Some(deadline) => {
                    self.now = self.now.max(deadline);
                    self.run(CallInput::Timeout)
                }
                None => vec![self.status()],
            },
            SimInput::Hangup => {
                // No action follows a hang-up.
                let _ = self.flow.handle(CallInput::Hangup, self.now);
                self.ended = true;
                self.playing = false;
                vec![self.hangup_event(), self.status()]
            }
        }
    }

    /// How the call ended, once it has.
    pub fn outcome(&self) -> Option<CallOutcome> {
        self.flow.outcome()
    }

    /// Whether the call is over.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The interpreter's next deadline, in milliseconds from the session's now.
    pub fn timeout_ms(&self) -> Option<u64> {
        let deadline = self.flow.poll_timeout()?;
        let ms = deadline.saturating_duration_since(self.now).as_millis();
        Some(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// Feeds `input` and every input the actions produce (identification results).
    fn run(&mut self, input: CallInput) -> Vec<SimEvent> {
        let mut events = Vec::new();
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            for action in self.flow.handle(input, self.now) {
                if self.ended {
                    break;
                }
                if let Some(next) = self.act(action, &mut events) {
                    inputs.push_back(next);
                }
            }
        }
        events.push(self.status());
        events
    }

    fn act(&mut self, action: CallAction, events: &mut Vec<SimEvent>) -> Option<CallInput> {
        match action {
            CallAction::Play(refs) => {
                self.play += 1;
                self.playing = true;
                let prompts = refs.iter().map(|r| self.view(r)).collect();
                events.push(SimEvent::Play {
                    play: self.play,
                    prompts,
                });
            }
            CallAction::StopPlayback => {
                self.playing = false;
                events.push(SimEvent::StopPlayback);
            }
            CallAction::Hangup => {
                self.ended = true;
                self.playing = false;
                events.push(self.hangup_event());
            }
            CallAction::Report(report) => return self.report(report, events),
        }
        None
    }

    /// The store-side actions, carried out on the session's own report (never the store).
    fn report(&mut self, action: Action, events: &mut Vec<SimEvent>) -> Option<CallInput> {
        match action {
            Action::SetLanguage(language) => {
                self.language = language;
                events.push(SimEvent::Language { language });
            }
            Action::Identify {
                hersys_id,
                birthday,
            } => {
                let confirmed = self.ctx.demo.confirms(&hersys_id, &birthday);
                events.push(SimEvent::Identified { confirmed });
                let result = match confirmed {
                    true => Identification::Confirmed,
                    false => Identification::NotConfirmed,
                };
                return Some(CallInput::Identified(result));
            }
            Action::StoreAnswer { question, value } => {
                let question = question.as_str().to_owned();
                self.answers.retain(|(q, _)| *q != question);
                self.answers.push((question.clone(), value));
                let (flag, reasons) = labels(&self.flag_rules.assess(&self.answers));
                events.push(SimEvent::Answer {
                    question,
                    kind: value.kind().to_owned(),
                    value: shown(value),
                    flag,
                    reasons,
                });
            }
            Action::ReportComplete => {
                let (flag, reasons) = labels(&self.flag_rules.assess(&self.answers));
                events.push(SimEvent::ReportComplete { flag, reasons });
            }
            Action::NewReport => {
                self.answers.clear();
                events.push(SimEvent::NewReport);
            }
            Action::WrongNumber => events.push(SimEvent::WrongNumber),
            Action::Play(_) | Action::StopPlayback | Action::Hangup(_) => {}
        }
        None
    }

    fn view(&self, r: &PromptRef) -> PromptView {
        PromptView {
            id: r.id.clone(),
            lang: r.lang,
            text: self
                .ctx
                .prompts
                .text(r.lang, &r.id)
                .unwrap_or_default()
                .to_owned(),
            audio: self.ctx.audio_url(r.lang, &r.id),
        }
    }

    fn hangup_event(&self) -> SimEvent {
        SimEvent::Hangup {
            outcome: self.flow.outcome().map(outcome_label),
        }
    }

    fn status(&self) -> SimEvent {
        SimEvent::Status {
            dialplan: self.dialplan.clone(),
            step: self.flow.position().2,
            language: self.language,
            playing: self.playing,
            timeout_ms: if self.ended { None } else { self.timeout_ms() },
            ended: self.ended,
        }
    }
}

fn labels(a: &Assessment) -> (String, Vec<String>) {
    (
        a.flag.label().to_owned(),
        a.reasons.iter().map(|r| r.code()).collect(),
    )
}

/// An answer as staff would read it.
fn shown(value: AnswerValue) -> String {
    match value {
        AnswerValue::TemperatureTenths(t) => format!("{}.{}", t / 10, t % 10),
        AnswerValue::Spo2(Some(s)) => s.to_string(),
        AnswerValue::Spo2(None) => "not measured".into(),
        AnswerValue::Symptom(s) => s.label().into(),
        AnswerValue::YesNo(true) => "yes".into(),
        AnswerValue::YesNo(false) => "no".into(),
        AnswerValue::Unanswered => "unanswered".into(),
    }
}
