//! One tokio task per call: SIP signals, media events and the flow's timer in one loop.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing::Instrument;

use super::call_loop::{ended_disposition, LiveCall};
use super::reports::CallReports;
use super::{CallEvent, Shared};
use crate::call::Direction;
use crate::config::TrunkConfig;
use crate::pii::Redacted;
use crate::sip::outcome::Disposition;
use crate::sip::sdp::{self, LocalMedia};
use crate::sip::{CallSignal, DialRequest, PendingInvite, Progress, Rejection, SipEndpoint};

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
        let language = crate::lang::Language::Ja;
        let disposition = converse(
            &shared,
            call,
            (sip, media, local),
            Direction::Inbound,
            language,
        )
        .await;
        end(&shared, call, disposition, 200);
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
    language: crate::lang::Language,
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
        let legs = (sip_call, media, local);
        let disposition = converse(&shared, call, legs, Direction::Outbound, language).await;
        end(&shared, call, disposition, 200);
    }
    .instrument(span)
    .await
}

/// Runs an answered call with its flow; outbound calls are answered when this starts,
/// inbound ones when the ACK arrives.
async fn converse(
    shared: &Shared,
    call: u64,
    (sip, media, local): (crate::sip::SipCall, super::media::MediaSession, LocalMedia),
    direction: Direction,
    language: crate::lang::Language,
) -> Disposition {
    let mut reports = CallReports::new(direction, language);
    let live = LiveCall {
        shared,
        call,
        sip,
        media,
        flow: (shared.flows)(direction, language),
        local,
        reports: &mut reports,
    };
    live.run(direction == Direction::Outbound).await.disposition
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
