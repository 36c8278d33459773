//! The answered call: the flow's inputs and actions (prompts, store requests, hang-up), and
//! the closing prompt's end plus [`HANGUP_TAIL`] before the BYE, so the peer hears it whole
//! (a BYE right after the last frame was queued cut ~100 ms off at baresip).

use std::time::Instant;

use super::io::{MediaAction, Output, SessionEvent, SipAction};
use super::session::{Phase, Session};
use super::timers::{Timer, CLOSING_LIMIT, HANGUP_TAIL};
use super::{CallAction, CallInput};
use crate::domain::Disposition;

impl Session {
    /// The flow starts.
    pub(super) fn start_flow(&mut self, now: Instant) {
        self.timers.stop(Timer::AmdLimit);
        self.phase = Phase::Talking;
        self.run_flow(CallInput::Answered, now);
    }

    /// Gives the flow one input and carries out its actions in order.
    pub(super) fn run_flow(&mut self, input: CallInput, now: Instant) {
        for action in self.flow.handle(input, now) {
            match action {
                CallAction::Play(prompts) => {
                    self.playing = true;
                    self.push_media(MediaAction::Play(prompts));
                }
                CallAction::StopPlayback => {
                    self.playing = false;
                    self.push_media(MediaAction::Stop);
                }
                CallAction::Report(request) => self.report(request, now),
                CallAction::Hangup => {
                    self.note_step();
                    return self.begin_closing(now);
                }
            }
        }
        self.note_step();
    }

    pub(super) fn report(&mut self, request: crate::ivr::Action, now: Instant) {
        use crate::ivr::Action;
        let wall = self.wall(now);
        match request {
            Action::Identify {
                hersys_id,
                birthday,
            } => {
                let b = birthday.expose();
                let mmdd = crate::pii::Redacted::new(format!("{:02}{:02}", b.month(), b.day()));
                self.desk.identify(hersys_id, mmdd);
            }
            Action::StoreAnswer { question, value } => self.desk.answer(question, value, wall),
            Action::ReportComplete => self.desk.complete(wall),
            Action::NewReport => self.desk.new_report(),
            Action::WrongNumber => tracing::info!("wrong number reported by the person called"),
            Action::SetLanguage(_) | Action::Play(_) | Action::StopPlayback | Action::Hangup(_) => {
            }
        }
    }

    pub(super) fn note_step(&mut self) {
        let (_, _, step) = self.flow.position();
        if !step.is_empty() && step != self.step {
            self.step = step.clone();
            self.out.push_back(Output::Event(SessionEvent::Step(step)));
        }
    }

    /// The playback queue ran empty.
    pub(super) fn playback_done(&mut self, now: Instant) {
        self.playing = false;
        self.last_playback_done = Some(now);
        match self.phase {
            Phase::Talking => self.run_flow(CallInput::PlaybackDone, now),
            Phase::Closing { .. } => {
                self.phase = Phase::Closing { prompt_done: true };
                self.timers.set(Timer::HangupTail, now + HANGUP_TAIL);
            }
            _ => {}
        }
    }

    /// The flow hung up: the BYE waits for a queued prompt to end, then [`HANGUP_TAIL`] after
    /// the last prompt's end, so the peer hears it whole.
    pub(super) fn begin_closing(&mut self, now: Instant) {
        self.timers.stop(Timer::Flow);
        if self.playing {
            self.phase = Phase::Closing { prompt_done: false };
            self.timers.set(Timer::HangupTail, now + CLOSING_LIMIT);
            return;
        }
        match self.last_playback_done.map(|at| at + HANGUP_TAIL) {
            Some(bye_at) if bye_at > now => {
                self.phase = Phase::Closing { prompt_done: true };
                self.timers.set(Timer::HangupTail, bye_at);
            }
            _ => {
                self.push_sip(SipAction::Hangup);
                self.end(Disposition::Answered, Some(200), now);
            }
        }
    }
}
