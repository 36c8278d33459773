//! One tokio task per call: SIP signals, media events and the flow's timer in one loop.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing::Instrument;

use super::media::{MediaEvent, MediaSession};
use super::{CallEvent, Shared};
use crate::call::{CallAction, CallFlow, CallInput, Direction};
use crate::config::TrunkConfig;
use crate::pii::Redacted;
use crate::rtp::{DigitEvent, DigitMethod};
use crate::sip::outcome::Disposition;
use crate::sip::sdp::{self, LocalMedia, SdpError};
use crate::sip::{
    CallSignal, DialRequest, EndReason, PendingInvite, Progress, Rejection, SipCall, SipEndpoint,
};

/// Releases the call's admission slot however the task ends.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn emit(shared: &Shared, event: CallEvent) {
    let _ = shared.events.send(event);
}

fn local_media(shared: &Shared, addr: SocketAddr) -> LocalMedia {
    LocalMedia {
        addr: SocketAddr::new(shared.config.sip.public_ip, addr.port()),
        session_id: rand::random::<u32>().into(),
        version: 1,
    }
}

/// Runs an inbound call from INVITE to hang-up. The caller has reserved an admission slot.
pub(super) async fn inbound(shared: Arc<Shared>, invite: PendingInvite, call: u64) {
    let _slot = Slot(shared.clone());
    let span =
        tracing::info_span!("call", call, sip_call_id = %invite.call_id(), direction = "inbound");
    async move {
        emit(
            &shared,
            CallEvent::Started {
                call,
                direction: Direction::Inbound,
            },
        );
        let port = match shared.media.reserve() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "no RTP port: 503");
                invite.reject(Rejection::NoMedia);
                return end(&shared, call, Disposition::Failed, 503);
            }
        };
        let mut local = local_media(&shared, port.local_addr());
        let (negotiated, answer) = match sdp::answer(&invite.offer(), local) {
            Ok(ok) => ok,
            Err(e) => {
                tracing::info!(error = %e, "offer not acceptable: 488");
                invite.reject(Rejection::NotAcceptable);
                return end(&shared, call, Disposition::Failed, 488);
            }
        };
        let sip = match invite.accept() {
            Ok(sip) => sip,
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept INVITE");
                return end(&shared, call, Disposition::Failed, 500);
            }
        };
        let mut sip = sip;
        sip.ringing();
        if !shared.config.calls.answer_delay.is_zero() {
            let ring = tokio::time::sleep(shared.config.calls.answer_delay);
            tokio::pin!(ring);
            loop {
                tokio::select! {
                    _ = &mut ring => break,
                    signal = sip.next_signal() => match signal {
                        Some(CallSignal::Ended(reason)) => {
                            tracing::info!(?reason, "caller gave up before the answer");
                            let disposition = ended_disposition(false, reason);
                            return end(&shared, call, disposition, 487);
                        }
                        None => return end(&shared, call, Disposition::Failed, 0),
                        Some(_) => {}
                    },
                }
            }
        }
        let media = shared.media.attach(port, negotiated);
        if let Err(e) = sip.answer(answer) {
            tracing::warn!(error = %e, "cannot send 200 OK");
            return end(&shared, call, Disposition::Failed, 500);
        }
        local.version += 1;
        let flow = (shared.flows)(Direction::Inbound);
        let outcome = run(&shared, call, sip, media, flow, local, false).await;
        end(&shared, call, outcome.0, outcome.1);
    }
    .instrument(span)
    .await
}

/// Places and runs an outbound call.
pub(super) async fn outbound(
    shared: Arc<Shared>,
    sip: SipEndpoint,
    trunk: TrunkConfig,
    number: Redacted<String>,
    call: u64,
) {
    shared.active.fetch_add(1, Ordering::SeqCst);
    let _slot = Slot(shared.clone());
    let span = tracing::info_span!("call", call, direction = "outbound", trunk = %trunk.name);
    async move {
        emit(&shared, CallEvent::Started { call, direction: Direction::Outbound });
        let port = match shared.media.reserve() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "no RTP port for outbound call");
                return end(&shared, call, Disposition::Failed, 0);
            }
        };
        let mut local = local_media(&shared, port.local_addr());
        let request = DialRequest {
            proxy: trunk.proxy,
            tcp: trunk.transport == crate::config::Transport::Tcp,
            number,
            caller_id: trunk.caller_id.clone(),
            credentials: trunk.credentials.clone(),
            offer: sdp::offer(local),
        };
        let mut out = match sip.dial(request) {
            Ok(out) => out,
            Err(e) => {
                tracing::warn!(error = %e, "INVITE not sent");
                return end(&shared, call, Disposition::Failed, 0);
            }
        };
        tracing::info!(sip_call_id = %out.call_id(), "INVITE sent");
        let ring_deadline = tokio::time::Instant::now() + shared.config.calls.ring_timeout;
        let mut cancelled = false;
        let answer = loop {
            tokio::select! {
                progress = out.progress() => match progress {
                    Progress::Ringing => tracing::info!("ringing"),
                    Progress::Answered { sdp } => break sdp,
                    Progress::Failed { status } => {
                        let disposition = Disposition::from_final_status(status, cancelled);
                        tracing::info!(status, disposition = disposition.label(), "call not answered");
                        return end(&shared, call, disposition, status);
                    }
                },
                _ = tokio::time::sleep_until(ring_deadline), if !cancelled => {
                    tracing::info!("ring timeout: CANCEL");
                    cancelled = true;
                    out.cancel().await;
                }
            }
        };
        let sip_call = out.into_call();
        let negotiated = match sdp::accept_answer(&answer) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "unusable SDP answer: BYE");
                sip_call.hangup().await;
                return end(&shared, call, Disposition::Failed, 200);
            }
        };
        let media = shared.media.attach(port, negotiated);
        local.version += 1;
        let flow = (shared.flows)(Direction::Outbound);
        let outcome = run(&shared, call, sip_call, media, flow, local, true).await;
        end(&shared, call, outcome.0, outcome.1);
    }
    .instrument(span)
    .await
}

fn end(shared: &Shared, call: u64, disposition: Disposition, sip_status: u16) {
    tracing::info!(disposition = disposition.label(), sip_status, "call ended");
    emit(
        shared,
        CallEvent::Ended {
            call,
            disposition,
            sip_status,
        },
    );
}

/// The call loop after the answer. Returns the disposition and the INVITE's final status.
async fn run(
    shared: &Shared,
    call: u64,
    mut sip: SipCall,
    mut media: MediaSession,
    mut flow: Box<dyn CallFlow>,
    mut local: LocalMedia,
    confirmed: bool,
) -> (Disposition, u16) {
    let mut stop = shared.stop.subscribe();
    let mut answered = confirmed;
    if answered {
        apply(
            shared,
            call,
            &sip,
            &media,
            flow.handle(CallInput::Answered, crate::clock::now()),
        )
        .await;
        emit(shared, CallEvent::Answered { call });
    }
    loop {
        let timeout = flow.poll_timeout().map(tokio::time::Instant::from_std);
        let input = tokio::select! {
            signal = sip.next_signal() => match signal {
                Some(CallSignal::Confirmed) if !answered => {
                    answered = true;
                    emit(shared, CallEvent::Answered { call });
                    Some(CallInput::Answered)
                }
                Some(CallSignal::Confirmed) => None,
                Some(CallSignal::Info { content_type, body, reply }) => {
                    match crate::rtp::info::parse_info_body(&content_type, &body) {
                        Ok(digit) => {
                            reply.respond(200, None).await;
                            Some(digit_input(shared, call, DigitEvent { digit, method: DigitMethod::SipInfo }))
                        }
                        Err(e) => {
                            tracing::info!(error = %e, "INFO without usable DTMF: 415");
                            reply.respond(415, None).await;
                            None
                        }
                    }
                }
                Some(CallSignal::ReInvite { offer, reply }) => {
                    reinvite(&media, &mut local, &offer, reply).await;
                    None
                }
                Some(CallSignal::Ended(reason)) => {
                    tracing::info!(?reason, "dialog ended");
                    return (ended_disposition(answered, reason), 200);
                }
                None => return (ended_disposition(answered, EndReason::Other(0)), 200),
            },
            event = media.next_event() => match event {
                Some(MediaEvent::Digit(digit)) => Some(digit_input(shared, call, digit)),
                Some(MediaEvent::PlaybackDone) => Some(CallInput::PlaybackDone),
                Some(MediaEvent::MediaTimeout) | None => {
                    tracing::warn!("media timeout: BYE");
                    sip.hangup().await;
                    return (Disposition::Answered, 200);
                }
            },
            _ = sleep_until_opt(timeout) => Some(CallInput::Timeout),
            _ = stop.changed() => {
                tracing::info!("drain limit reached: BYE");
                sip.hangup().await;
                return (Disposition::Answered, 200);
            }
        };
        if let Some(input) = input {
            let actions = flow.handle(input, crate::clock::now());
            if apply(shared, call, &sip, &media, actions).await {
                return (Disposition::Answered, 200);
            }
        }
    }
}

fn digit_input(shared: &Shared, call: u64, digit: DigitEvent) -> CallInput {
    tracing::debug!(method = digit.method.label(), "digit");
    emit(shared, CallEvent::Digit { call, digit });
    CallInput::Digit(digit)
}

/// Carries out actions; returns true when the call was hung up.
async fn apply(
    _shared: &Shared,
    _call: u64,
    sip: &SipCall,
    media: &MediaSession,
    actions: Vec<CallAction>,
) -> bool {
    for action in actions {
        match action {
            CallAction::Play(prompts) => media.play(prompts),
            CallAction::StopPlayback => media.stop(),
            CallAction::Hangup => {
                sip.hangup().await;
                return true;
            }
        }
    }
    false
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

fn ended_disposition(answered: bool, reason: EndReason) -> Disposition {
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
