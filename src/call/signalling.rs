//! The SIP and media side of a [`Session`]: INVITE and offer/answer, ring and CANCEL, the
//! ACK, in-dialog INFO and re-INVITE, the answering-machine verdict, media timeout, drain.
//! In-dialog requests and SIP INFO digits count as media activity (a phone signalling by INFO
//! with silence suppression is there even when it sends no RTP).

use std::time::Instant;

use super::io::{MediaAction, MediaEvent, Output, SessionEvent, SipAction, SipEvent, SipRequestId};
use super::record::ended_disposition;
use super::session::{Phase, Session};
use super::timers::{Timer, AMD_LIMIT};
use super::CallInput;
use crate::domain::Disposition;
use crate::rtp::amd::AmdResult;
use crate::rtp::{DigitEvent, DigitMethod};
use crate::sip::sdp::{self, SdpError};
use crate::sip::{EndReason, Rejection};

impl Session {
    pub(super) fn on_sip(&mut self, event: SipEvent, now: Instant) {
        match event {
            SipEvent::Invite {
                sip_call_id,
                offer,
                local,
            } => {
                self.notes.sip_call_id = sip_call_id;
                self.on_invite(&offer, local, now);
            }
            SipEvent::Outgoing { local } => self.on_outgoing(local, now),
            SipEvent::InviteSent { sip_call_id } => self.notes.sip_call_id = sip_call_id,
            SipEvent::Ringing => {
                if let Phase::ExpectProgress { .. } = self.phase {
                    tracing::info!("ringing");
                }
            }
            SipEvent::Answered { sdp } => self.on_answered(&sdp, now),
            SipEvent::Failed { status } => {
                if let Phase::ExpectProgress { cancelled } = self.phase {
                    let disposition = Disposition::from_final_status(status, cancelled);
                    tracing::info!(
                        status,
                        disposition = disposition.label(),
                        "call not answered"
                    );
                    self.end(disposition, (status > 0).then_some(status), now);
                }
            }
            SipEvent::LocalError => match self.phase {
                Phase::ExpectProgress { .. } | Phase::ExpectPort => {
                    self.end(Disposition::Failed, None, now)
                }
                Phase::Ringing { .. } | Phase::ExpectAck => {
                    self.end(Disposition::Failed, Some(500), now)
                }
                _ => {}
            },
            SipEvent::Confirmed => {
                if let Phase::ExpectAck = self.phase {
                    self.mark_answered(now);
                    self.start_flow(now);
                }
            }
            SipEvent::Info {
                request,
                content_type,
                body,
            } => self.on_info(request, &content_type, body.expose(), now),
            SipEvent::ReInvite { request, offer } => self.on_reinvite(request, &offer),
            SipEvent::Ended(reason) => self.on_ended(reason, now),
            SipEvent::Gone => match self.phase {
                Phase::Ringing { .. } => self.end(Disposition::Failed, None, now),
                _ => self.on_ended(EndReason::Other(0), now),
            },
        }
    }

    fn on_invite(&mut self, offer: &str, local: Option<sdp::LocalMedia>, now: Instant) {
        if !matches!(self.phase, Phase::ExpectInvite) {
            return;
        }
        let Some(local) = local else {
            self.push_sip(SipAction::Reject(Rejection::NoMedia));
            return self.end(Disposition::Failed, Some(503), now);
        };
        match sdp::answer(offer, local) {
            Err(e) => {
                tracing::info!(error = %e, "offer not acceptable: 488");
                self.push_sip(SipAction::Reject(Rejection::NotAcceptable));
                self.end(Disposition::Failed, Some(488), now);
            }
            Ok((negotiated, answer)) => {
                self.local = Some(local);
                self.push_sip(SipAction::Ringing);
                self.phase = Phase::Ringing { negotiated, answer };
                if self.setup.answer_delay.is_zero() {
                    self.answer_now();
                } else {
                    self.timers
                        .set(Timer::AnswerDelay, now + self.setup.answer_delay);
                }
            }
        }
    }

    /// Inbound: media starts and the 200 OK goes out; the flow starts with the ACK.
    pub(super) fn answer_now(&mut self) {
        let Phase::Ringing { negotiated, answer } =
            std::mem::replace(&mut self.phase, Phase::ExpectAck)
        else {
            return;
        };
        self.attach(negotiated, false);
        self.push_sip(SipAction::Answer(answer));
        if let Some(local) = &mut self.local {
            local.version += 1;
        }
    }

    fn on_outgoing(&mut self, local: Option<sdp::LocalMedia>, now: Instant) {
        if !matches!(self.phase, Phase::ExpectPort) {
            return;
        }
        let Some(local) = local else {
            return self.end(Disposition::Failed, None, now);
        };
        self.local = Some(local);
        self.push_sip(SipAction::Dial(sdp::offer(local)));
        self.phase = Phase::ExpectProgress { cancelled: false };
        self.timers
            .set(Timer::RingTimeout, now + self.setup.ring_timeout);
    }

    fn on_answered(&mut self, answer: &str, now: Instant) {
        if !matches!(self.phase, Phase::ExpectProgress { .. }) {
            return;
        }
        self.timers.stop(Timer::RingTimeout);
        let negotiated = match sdp::accept_answer(answer) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "unusable SDP answer: BYE");
                self.push_sip(SipAction::Hangup);
                return self.end(Disposition::Failed, Some(200), now);
            }
        };
        let amd = self.setup.detect_machine;
        self.attach(negotiated, amd);
        if let Some(local) = &mut self.local {
            local.version += 1;
        }
        self.mark_answered(now);
        if amd {
            self.phase = Phase::ExpectVerdict;
            self.timers.set(Timer::AmdLimit, now + AMD_LIMIT);
        } else {
            self.start_flow(now);
        }
    }

    fn on_info(&mut self, request: SipRequestId, content_type: &str, body: &[u8], now: Instant) {
        self.push_media(MediaAction::NoteActivity);
        match crate::rtp::info::parse_info_body(content_type, body) {
            Ok(digit) => {
                self.respond(request, 200, None);
                let method = DigitMethod::SipInfo;
                self.on_digit(DigitEvent { digit, method }, now);
            }
            Err(e) => {
                tracing::info!(error = %e, "INFO without usable DTMF: 415");
                self.respond(request, 415, None);
            }
        }
    }

    fn on_reinvite(&mut self, request: SipRequestId, offer: &str) {
        self.push_media(MediaAction::NoteActivity);
        let Some(local) = self.local else {
            return self.respond(request, 400, None);
        };
        if offer.trim().is_empty() {
            // An offerless re-INVITE: our 200 carries an offer; the ACK's answer keeps G.711.
            self.respond(request, 200, Some(sdp::offer(local)));
            self.bump_version();
            return;
        }
        match sdp::answer(offer, local) {
            Ok((negotiated, answer)) => {
                tracing::info!(hold = negotiated.on_hold(), "re-INVITE answered");
                self.push_media(MediaAction::Update(negotiated));
                self.respond(request, 200, Some(answer));
                self.bump_version();
            }
            Err(SdpError::NoCommonCodec) => self.respond(request, 488, None),
            Err(_) => self.respond(request, 400, None),
        }
    }

    fn bump_version(&mut self) {
        if let Some(local) = &mut self.local {
            local.version += 1;
        }
    }

    fn respond(&mut self, request: SipRequestId, status: u16, sdp: Option<String>) {
        self.push_sip(SipAction::Respond {
            request,
            status,
            sdp,
        });
    }

    fn on_ended(&mut self, reason: EndReason, now: Instant) {
        match self.phase {
            Phase::Over => {}
            Phase::Ringing { .. } => {
                tracing::info!(reason = reason.label(), "caller gave up before the answer");
                self.end(ended_disposition(false, reason), Some(487), now);
            }
            Phase::ExpectInvite | Phase::ExpectPort | Phase::ExpectProgress { .. } => {
                self.end(ended_disposition(false, reason), None, now);
            }
            Phase::ExpectAck | Phase::ExpectVerdict | Phase::Talking | Phase::Closing { .. } => {
                tracing::info!(reason = reason.label(), "dialog ended");
                self.end(ended_disposition(self.answered, reason), Some(200), now);
            }
        }
    }

    fn is_live(&self) -> bool {
        matches!(
            self.phase,
            Phase::ExpectAck | Phase::ExpectVerdict | Phase::Talking | Phase::Closing { .. }
        )
    }

    pub(super) fn on_media(&mut self, event: MediaEvent, now: Instant) {
        match event {
            MediaEvent::Digit(digit) => self.on_digit(digit, now),
            MediaEvent::PlaybackDone => self.playback_done(now),
            MediaEvent::Timeout if self.is_live() => {
                tracing::warn!("media timeout: BYE");
                self.push_sip(SipAction::Hangup);
                self.end(Disposition::Answered, Some(200), now);
            }
            MediaEvent::Timeout => {}
            MediaEvent::Amd(AmdResult::Machine(reason))
                if matches!(self.phase, Phase::ExpectVerdict) =>
            {
                tracing::info!(reason = reason.label(), "answering machine: hanging up");
                self.push_sip(SipAction::Hangup);
                self.end(Disposition::AnsweringMachine, Some(200), now);
            }
            MediaEvent::Amd(result) if matches!(self.phase, Phase::ExpectVerdict) => {
                tracing::info!(result = result.label(), "answered by a person");
                self.start_flow(now);
            }
            MediaEvent::Amd(result) => {
                tracing::debug!(result = result.label(), "late answering-machine verdict");
            }
        }
    }

    fn on_digit(&mut self, digit: DigitEvent, now: Instant) {
        if !self.is_live() {
            return;
        }
        tracing::debug!(method = digit.method.label(), "digit");
        self.out
            .push_back(Output::Event(SessionEvent::Digit(digit)));
        if let Phase::Talking = self.phase {
            self.run_flow(CallInput::Digit(digit), now);
        }
    }

    pub(super) fn on_drain(&mut self, now: Instant) {
        match self.phase {
            Phase::ExpectProgress { cancelled: false } => {
                tracing::info!("drain limit reached: CANCEL");
                self.phase = Phase::ExpectProgress { cancelled: true };
                self.push_sip(SipAction::Cancel);
            }
            _ if self.is_live() => {
                tracing::info!("drain limit reached: BYE");
                self.push_sip(SipAction::Hangup);
                self.end(Disposition::Answered, Some(200), now);
            }
            _ => {}
        }
    }
}
