//! [`Session`]: one call from INVITE (or dial) to call record as one sans-IO state machine,
//! str0m style: [`Session::handle_input`] and [`Session::handle_timeout`] take `now`,
//! [`Session::poll_output`] hands out what to do, [`Session::poll_timeout`] says when to wake.
//!
//! The session owns the call's logic: SDP offer/answer, the inbound ring, the outbound ring
//! timeout and CANCEL, answering-machine detection, the flow (the dialplan interpreter),
//! in-dialog requests, media timeout, the closing prompt's tail before the BYE, the report
//! store's requests with their journal fallback, and the call record. It owns no socket, task
//! or clock; the driver in `runtime/` carries out its outputs and feeds back what happens.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use super::io::{Input, MediaAction, Output, SessionEvent, SipAction};
use super::record::{Leg, RecordNotes};
use super::report::{Cx, ReportDesk, ReportSetup};
use super::timers::{Timer, TimerTable};
use super::{CallFlow, CallInput};
use crate::domain::{Direction, Disposition};
use crate::ivr::{CallOutcome, Identification};
use crate::lang::Language;
use crate::report::Channel;
use crate::sip::sdp::{LocalMedia, Negotiated};
use crate::store::PatientId;

/// How a call is to be conducted, fixed when it starts.
#[derive(Debug, Clone)]
pub struct SessionSetup {
    /// Who the leg is with.
    pub leg: Leg,
    /// The language the flow starts in.
    pub language: Language,
    /// The patient of an automatic call.
    pub patient: Option<PatientId>,
    /// Inbound: how long to ring before the 200 OK.
    pub answer_delay: Duration,
    /// Outbound: how long to ring before CANCEL.
    pub ring_timeout: Duration,
    /// Outbound: tell a person from an answering machine before the flow starts.
    pub detect_machine: bool,
    /// Whether there is a report store.
    pub has_store: bool,
    /// Whether red alerts are enabled.
    pub alerts: bool,
    /// `[journal] write_timeout`: a store request unanswered by then goes to the journal.
    pub write_timeout: Duration,
    /// Seeds the reports' journal keys (random per call).
    pub key_seed: u128,
}

/// Where the call stands; each state names what it waits for.
#[derive(Debug)]
pub(super) enum Phase {
    /// Inbound: the INVITE's offer and our RTP address.
    ExpectInvite,
    /// Outbound: our RTP address, to dial.
    ExpectPort,
    /// Inbound: ringing until the answer delay passes.
    Ringing {
        negotiated: Negotiated,
        answer: String,
    },
    /// Inbound: 200 OK sent, the ACK next.
    ExpectAck,
    /// Outbound: INVITE sent, a final response next.
    ExpectProgress { cancelled: bool },
    /// Outbound: answered, the answering-machine verdict next.
    ExpectVerdict,
    /// The flow runs.
    Talking,
    /// The flow hung up: the closing prompt's end (`prompt_done`), then the tail, then BYE.
    Closing { prompt_done: bool },
    /// The SIP side is over; the store's requests drain, the call record last.
    Over,
}

/// One call's whole behaviour. See the module doc.
pub struct Session {
    pub(super) leg: Leg,
    pub(super) setup: SessionSetup,
    pub(super) flow: Box<dyn CallFlow>,
    pub(super) phase: Phase,
    pub(super) timers: TimerTable,
    pub(super) out: VecDeque<Output>,
    pub(super) desk: ReportDesk,
    anchor: (Instant, SystemTime),
    pub(super) notes: RecordNotes,
    pub(super) local: Option<LocalMedia>,
    pub(super) answered: bool,
    attached: bool,
    pub(super) playing: bool,
    pub(super) last_playback_done: Option<Instant>,
    pub(super) step: String,
    ended: Option<(Disposition, Option<u16>)>,
    flow_outcome: Option<CallOutcome>,
}

impl Session {
    /// A call starting at `now` (`wall` is the wall-clock time then; later wall times are
    /// derived from `now`, so the session never reads a clock). Feed it
    /// [`super::SipEvent::Invite`] (inbound) or [`super::SipEvent::Outgoing`] (outbound) next.
    pub fn new(
        setup: SessionSetup,
        flow: Box<dyn CallFlow>,
        now: Instant,
        wall: SystemTime,
    ) -> Self {
        let leg = setup.leg.clone();
        let report = ReportSetup {
            call_id: leg.call_id.clone(),
            caller: leg.caller.clone(),
            channel: match leg.direction {
                Direction::Inbound => Channel::HealthCall,
                Direction::Outbound => Channel::OutboundCall,
            },
            slot: leg.slot.map(|(s, _)| s),
            patient: setup.patient,
            key_seed: setup.key_seed,
            has_store: setup.has_store,
            alerts: setup.alerts,
            write_timeout: setup.write_timeout,
        };
        let phase = match leg.direction {
            Direction::Inbound => Phase::ExpectInvite,
            Direction::Outbound => Phase::ExpectPort,
        };
        Session {
            desk: ReportDesk::new(report),
            leg,
            setup,
            flow,
            phase,
            timers: TimerTable::default(),
            out: VecDeque::new(),
            anchor: (now, wall),
            notes: RecordNotes::new(wall),
            local: None,
            answered: false,
            attached: false,
            playing: false,
            last_playback_done: None,
            step: String::new(),
            ended: None,
            flow_outcome: None,
        }
    }

    /// Handles one input at `now`. Inputs that do not apply where the call stands (a digit
    /// before the answer, a verdict after the limit, a late store reply) are ignored.
    pub fn handle_input(&mut self, input: Input, now: Instant) {
        match input {
            Input::Sip(event) => self.on_sip(event, now),
            Input::Media(event) => self.on_media(event, now),
            Input::Store { id, reply } => {
                let result = self.with_desk(now, |desk, cx| desk.reply(id, reply, cx));
                self.identified(result, now);
            }
            Input::Drain => self.on_drain(now),
        }
        self.settle(now);
    }

    /// Fires every timer due at `now`. A spurious call (nothing due) changes nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_expired(now) {
            self.on_timer(timer, now);
        }
        self.settle(now);
    }

    /// The next thing to do, in order; `None` when there is nothing now.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next (the earliest of the call's
    /// timers); `None` when the call waits only for inputs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Whether the call is over and its last store request (the call record) has been
    /// answered or given up: the driver may stop.
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Over) && self.desk.is_idle() && self.out.is_empty()
    }

    /// How the call ended (disposition, final SIP status), once it has.
    pub fn ended(&self) -> Option<(Disposition, Option<u16>)> {
        self.ended
    }

    /// The dialplan's outcome, once the flow has ended.
    pub fn flow_outcome(&self) -> Option<CallOutcome> {
        self.flow_outcome
    }

    /// carecall's call id of this leg.
    pub fn call_id(&self) -> &str {
        &self.leg.call_id
    }

    /// The wall-clock time at `now`.
    pub(super) fn wall(&self, now: Instant) -> SystemTime {
        self.anchor.1 + now.saturating_duration_since(self.anchor.0)
    }

    pub(super) fn push_sip(&mut self, action: SipAction) {
        self.out.push_back(Output::Sip(action));
    }

    pub(super) fn push_media(&mut self, action: MediaAction) {
        self.out.push_back(Output::Media(action));
    }

    fn with_desk<R>(&mut self, now: Instant, f: impl FnOnce(&mut ReportDesk, &mut Cx) -> R) -> R {
        let wall = self.wall(now);
        let mut cx = Cx {
            out: &mut self.out,
            timers: &mut self.timers,
            now,
            wall,
        };
        f(&mut self.desk, &mut cx)
    }

    /// Starts queued store requests; keeps the flow's timer in the table.
    fn settle(&mut self, now: Instant) {
        // The flow may queue more requests while it hears an identification result.
        while let Some(result) = self.with_desk(now, |desk, cx| desk.pump(cx)) {
            self.identified(Some(result), now);
        }
        let flow_deadline = match self.phase {
            Phase::Talking => self.flow.poll_timeout(),
            _ => None,
        };
        self.timers.set_opt(Timer::Flow, flow_deadline);
    }

    fn identified(&mut self, result: Option<Identification>, now: Instant) {
        if let (Some(result), Phase::Talking) = (result, &self.phase) {
            self.run_flow(CallInput::Identified(result), now);
        }
    }

    fn on_timer(&mut self, timer: Timer, now: Instant) {
        match (timer, &mut self.phase) {
            (Timer::AnswerDelay, Phase::Ringing { .. }) => self.answer_now(),
            (Timer::RingTimeout, Phase::ExpectProgress { cancelled }) if !*cancelled => {
                tracing::info!("ring timeout: CANCEL");
                *cancelled = true;
                self.push_sip(SipAction::Cancel);
            }
            (Timer::AmdLimit, Phase::ExpectVerdict) => self.start_flow(now),
            (Timer::Flow, Phase::Talking) => self.run_flow(CallInput::Timeout, now),
            (Timer::HangupTail, Phase::Closing { prompt_done }) => {
                if !*prompt_done {
                    tracing::warn!("closing prompt did not end in time: BYE");
                }
                self.push_sip(SipAction::Hangup);
                self.end(Disposition::Answered, Some(200), now);
            }
            (Timer::StoreWrite | Timer::IdentifySlowdown, _) => {
                let result = self.with_desk(now, |desk, cx| desk.on_timer(timer, cx));
                self.identified(result, now);
            }
            _ => {}
        }
    }

    /// The call is answered (media flows both ways): note it for the record and observers.
    pub(super) fn mark_answered(&mut self, now: Instant) {
        if !self.answered {
            self.answered = true;
            self.notes.answered_at = Some(self.wall(now));
            self.out.push_back(Output::Event(SessionEvent::Answered));
        }
    }

    /// Starts media with what SDP agreed.
    pub(super) fn attach(&mut self, negotiated: Negotiated, amd: bool) {
        self.attached = true;
        self.push_media(MediaAction::Attach { negotiated, amd });
    }

    /// The call is over on the SIP side: the flow hears of it, media is released, the call
    /// record is queued after whatever the store still has to take.
    pub(super) fn end(&mut self, disposition: Disposition, sip_status: Option<u16>, now: Instant) {
        if matches!(self.phase, Phase::Over) {
            return;
        }
        self.phase = Phase::Over;
        self.timers.clear_call_timers();
        if self.attached {
            let _ = self.flow.handle(CallInput::Hangup, now);
            self.notes.position = self.flow.position();
            self.flow_outcome = self.flow.outcome();
            let outcome = match self.flow_outcome {
                Some(CallOutcome::Completed) => "completed",
                Some(CallOutcome::Incomplete) => "incomplete",
                Some(CallOutcome::NoResponse) => "no response",
                Some(CallOutcome::WrongNumber) => "wrong number",
                Some(CallOutcome::NotIdentified) => "not identified",
                Some(CallOutcome::Abandoned) => "abandoned",
                Some(CallOutcome::StoreUnavailable) => "store unavailable",
                None => "none",
            };
            tracing::info!(outcome, step = %self.notes.position.2, "flow finished");
            self.push_media(MediaAction::Release);
        }
        self.ended = Some((disposition, sip_status));
        self.out.push_back(Output::Event(SessionEvent::Ended {
            disposition,
            sip_status,
            flow: self.flow_outcome,
        }));
        if self.setup.has_store {
            let record = self
                .notes
                .record(&self.leg, self.wall(now), disposition, sip_status);
            self.desk.record(record);
        }
    }
}
