//! The loop of one answered call: SIP signals, media events and the flow's timer in, the
//! flow's actions out (media, SIP, the report store), until either side hangs up.

use std::collections::VecDeque;

use super::live::LiveEntry;
use super::media::{MediaEvent, MediaSession};
use super::reports::CallReports;
use super::{CallEvent, Shared};
use crate::call::{CallAction, CallFlow, CallInput};
use crate::rtp::amd::AmdResult;
use crate::rtp::{DigitEvent, DigitMethod};
use crate::sip::outcome::Disposition;
use crate::sip::sdp::{self, LocalMedia, SdpError};
use crate::sip::{CallSignal, EndReason, SipCall};

/// The longest carecall listens for an answering machine before the flow starts anyway.
pub(super) const AMD_LIMIT: std::time::Duration = std::time::Duration::from_secs(6);

/// How the call loop ended.
pub(super) struct Ended {
    /// The leg's disposition.
    pub disposition: Disposition,
}

/// What one answered call needs while it runs.
pub(super) struct LiveCall<'a> {
    pub shared: &'a Shared,
    pub call: u64,
    pub sip: SipCall,
    pub media: MediaSession,
    pub flow: Box<dyn CallFlow>,
    pub entry: LiveEntry,
    pub local: LocalMedia,
    pub reports: &'a mut CallReports,
}

impl LiveCall<'_> {
    /// Runs the call to its end. `answered` is true for outbound calls (the 200 OK came);
    /// with `detect_machine` the flow starts only once the media has told a person from an
    /// answering machine (at most [`AMD_LIMIT`] later).
    pub(super) async fn run(mut self, answered: bool, detect_machine: bool) -> Ended {
        let mut stop = self.shared.stop.subscribe();
        let mut answered = answered;
        let mut amd_deadline = None;
        if answered {
            self.reports.answered();
            self.entry.answered();
            self.emit(CallEvent::Answered { call: self.call });
            if detect_machine {
                amd_deadline = Some(tokio::time::Instant::now() + AMD_LIMIT);
            } else if self.feed(CallInput::Answered).await {
                return self.finish(Disposition::Answered, true);
            }
        }
        loop {
            let timeout = match amd_deadline {
                Some(d) => Some(d),
                None => self.flow.poll_timeout().map(tokio::time::Instant::from_std),
            };
            let input = tokio::select! {
                signal = self.sip.next_signal() => match signal {
                    Some(CallSignal::Confirmed) if !answered => {
                        answered = true;
                        self.reports.answered();
                        self.entry.answered();
                        self.emit(CallEvent::Answered { call: self.call });
                        Some(CallInput::Answered)
                    }
                    Some(CallSignal::Confirmed) => None,
                    Some(CallSignal::Info { content_type, body, reply }) => {
                        self.media.note_activity();
                        match crate::rtp::info::parse_info_body(&content_type, &body) {
                            Ok(digit) => {
                                reply.respond(200, None).await;
                                Some(self.digit(DigitEvent { digit, method: DigitMethod::SipInfo }))
                            }
                            Err(e) => {
                                tracing::info!(error = %e, "INFO without usable DTMF: 415");
                                reply.respond(415, None).await;
                                None
                            }
                        }
                    }
                    Some(CallSignal::ReInvite { offer, reply }) => {
                        self.media.note_activity();
                        reinvite(&self.media, &mut self.local, &offer, reply).await;
                        None
                    }
                    Some(CallSignal::Ended(reason)) => {
                        tracing::info!(reason = reason.label(), "dialog ended");
                        let disposition = ended_disposition(answered, reason);
                        return self.finish(disposition, answered);
                    }
                    None => return self.finish(ended_disposition(answered, EndReason::Other(0)), answered),
                },
                event = self.media.next_event() => match event {
                    Some(MediaEvent::Amd(AmdResult::Machine(reason))) if amd_deadline.is_some() => {
                        tracing::info!(reason = reason.label(), "answering machine: hanging up");
                        self.sip.hangup().await;
                        return self.finish(Disposition::AnsweringMachine, true);
                    }
                    Some(MediaEvent::Amd(result)) => {
                        tracing::info!(result = result.label(), "answered by a person");
                        amd_deadline.take().map(|_| CallInput::Answered)
                    }
                    Some(MediaEvent::Digit(digit)) => Some(self.digit(digit)),
                    Some(MediaEvent::PlaybackDone) => Some(CallInput::PlaybackDone),
                    Some(MediaEvent::MediaTimeout) | None => {
                        tracing::warn!("media timeout: BYE");
                        self.sip.hangup().await;
                        return self.finish(Disposition::Answered, answered);
                    }
                },
                _ = sleep_until_opt(timeout) => match amd_deadline.take() {
                    Some(_) => Some(CallInput::Answered),
                    None => Some(CallInput::Timeout),
                },
                _ = stop.changed() => {
                    tracing::info!("drain limit reached: BYE");
                    self.sip.hangup().await;
                    return self.finish(Disposition::Answered, answered);
                }
            };
            if let Some(input) = input {
                if self.feed(input).await {
                    return self.finish(Disposition::Answered, answered);
                }
            }
        }
    }

    fn emit(&self, event: CallEvent) {
        let _ = self.shared.events.send(event);
    }

    fn digit(&self, digit: DigitEvent) -> CallInput {
        tracing::debug!(method = digit.method.label(), "digit");
        self.emit(CallEvent::Digit {
            call: self.call,
            digit,
        });
        CallInput::Digit(digit)
    }

    /// Gives the flow one input and carries out its actions, and the inputs they produce, in
    /// order. Returns true when the flow hung up.
    async fn feed(&mut self, input: CallInput) -> bool {
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            let actions = self.flow.handle(input, crate::clock::now());
            for action in actions {
                match action {
                    CallAction::Play(prompts) => self.media.play(prompts),
                    CallAction::StopPlayback => self.media.stop(),
                    CallAction::Hangup => {
                        self.sip.hangup().await;
                        return true;
                    }
                    CallAction::Report(request) => {
                        if let Some(next) = self.reports.carry_out(request).await {
                            inputs.push_back(next);
                        }
                    }
                }
            }
        }
        self.note_step();
        false
    }

    /// Lists and logs the flow's step when it has changed.
    fn note_step(&self) {
        let (_, _, step) = self.flow.position();
        if !step.is_empty() && self.entry.step(&step) {
            tracing::info!(step = %step, "step");
        }
    }

    /// Tells the flow the call is over and records where it ended.
    fn finish(mut self, disposition: Disposition, answered: bool) -> Ended {
        let _ = self.flow.handle(CallInput::Hangup, crate::clock::now());
        self.reports.note_position(self.flow.as_ref());
        tracing::debug!(answered, "call loop finished");
        Ended { disposition }
    }
}

async fn reinvite(
    media: &MediaSession,
    local: &mut LocalMedia,
    offer: &str,
    reply: crate::sip::Responder,
) {
    if offer.trim().is_empty() {
        // An offerless re-INVITE: our 200 carries an offer; the ACK's answer keeps G.711.
        reply.respond(200, Some(sdp::offer(*local))).await;
        local.version += 1;
        return;
    }
    match sdp::answer(offer, *local) {
        Ok((negotiated, answer)) => {
            tracing::info!(hold = negotiated.on_hold(), "re-INVITE answered");
            media.update(negotiated);
            reply.respond(200, Some(answer)).await;
            local.version += 1;
        }
        Err(SdpError::NoCommonCodec) => reply.respond(488, None).await,
        Err(_) => reply.respond(400, None).await,
    }
}

/// The disposition of a call that ended from the SIP side.
pub(super) fn ended_disposition(answered: bool, reason: EndReason) -> Disposition {
    match (answered, reason) {
        (_, EndReason::Cancelled) => Disposition::Cancelled,
        (true, _) => Disposition::Answered,
        (false, EndReason::Timeout) => Disposition::NoAnswer,
        (false, _) => Disposition::Failed,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
