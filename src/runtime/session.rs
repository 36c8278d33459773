//! One tokio task per call: sets the call up (SDP, RTP port, answer or dial), runs it, and
//! writes its call record however it ends.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::Instrument;

use super::call_loop::{ended_disposition, LiveCall};
use super::live::LiveEntry;
use super::media::MediaSession;
use super::reports::{CallReports, Leg};
use super::{CallEvent, Shared};
use crate::call::{CallFlow, Direction};
use crate::config::TrunkConfig;
use crate::ivr::CallOutcome;
use crate::lang::Language;
use crate::media::PromptSet;
use crate::pii::Redacted;
use crate::report::Slot;
use crate::sip::outcome::Disposition;
use crate::sip::sdp::{self, LocalMedia};
use crate::sip::{
    CallSignal, DialRequest, PendingInvite, Progress, Rejection, SipCall, SipEndpoint,
};
use crate::store::PatientId;

/// Releases the call's admission slot however the task ends.
struct Admission(Arc<Shared>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// carecall's call id: unique across nodes and restarts (time, then randomness).
fn call_id() -> String {
    let ms = crate::clock::wall_now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}-{:08x}", rand::random::<u32>())
}

fn local_media(shared: &Shared, addr: SocketAddr) -> LocalMedia {
    LocalMedia {
        addr: SocketAddr::new(shared.config.sip.public_ip, addr.port()),
        session_id: rand::random::<u32>().into(),
        version: 1,
    }
}

/// What a call follows from its start to its end: the flow and prompts of the set in use when
/// it started (a reload does not change them), and its place among the live calls.
struct Conduct {
    flow: Box<dyn CallFlow>,
    prompts: PromptSet,
    /// The store with the set's flag rules.
    store: Option<crate::store::Store>,
    live: LiveEntry,
}

impl Conduct {
    /// Takes the current set for call `call`, lists the call as live and logs its start.
    fn start(shared: &Shared, call: u64, leg: &Leg, language: Language) -> Conduct {
        let set = shared.current_set();
        let flow = (set.flows)(leg.direction, language);
        let (dialplan, _, _) = flow.position();
        let trunk = leg.trunk.as_deref();
        tracing::info!(
            direction = leg.direction.label(),
            trunk = trunk.unwrap_or("none"),
            dialplan = %dialplan,
            record = %leg.call_id,
            "call started"
        );
        let live = shared.live.enter(call, leg.direction, &dialplan, trunk);
        Conduct {
            flow,
            prompts: set.prompts.clone(),
            store: set.store.clone(),
            live,
        }
    }
}

/// How a call attempt ended before or after the answer.
struct Outcome(Disposition, Option<u16>);

/// Runs an inbound call from INVITE to hang-up. The caller has reserved an admission slot.
pub(super) async fn inbound(shared: Arc<Shared>, invite: PendingInvite, call: u64) {
    let _admission = Admission(shared.clone());
    let leg = Leg {
        call_id: call_id(),
        direction: Direction::Inbound,
        trunk: shared
            .config
            .trunk_for_source(invite.source)
            .map(|t| t.name.clone()),
        caller: invite.caller(),
        called: Redacted::new(invite.called()),
        slot: None,
    };
    let span = tracing::info_span!("call", call, sip_call_id = %invite.call_id());
    async move {
        let conduct = Conduct::start(&shared, call, &leg, Language::Ja);
        let _ = shared.events.send(CallEvent::Started {
            call,
            direction: Direction::Inbound,
        });
        let mut reports = CallReports::new(conduct.store.clone(), leg, Language::Ja, None);
        reports.attach(&shared);
        reports.set_sip_call_id(invite.call_id());
        let Outcome(disposition, status) =
            answer_and_run(&shared, call, invite, conduct, &mut reports).await;
        finish(&shared, call, reports, disposition, status).await;
    }
    .instrument(span)
    .await
}

async fn answer_and_run(
    shared: &Shared,
    call: u64,
    invite: PendingInvite,
    conduct: Conduct,
    reports: &mut CallReports,
) -> Outcome {
    let port = match shared.media.reserve() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "no RTP port: 503");
            invite.reject(Rejection::NoMedia);
            return Outcome(Disposition::Failed, Some(503));
        }
    };
    let mut local = local_media(shared, port.local_addr());
    let (negotiated, answer) = match sdp::answer(&invite.offer(), local) {
        Ok(ok) => ok,
        Err(e) => {
            tracing::info!(error = %e, "offer not acceptable: 488");
            invite.reject(Rejection::NotAcceptable);
            return Outcome(Disposition::Failed, Some(488));
        }
    };
    let mut sip = match invite.accept() {
        Ok(sip) => sip,
        Err(e) => {
            tracing::warn!(error = %e, "cannot accept INVITE");
            return Outcome(Disposition::Failed, Some(500));
        }
    };
    sip.ringing();
    if let Some(outcome) = ring(shared, &mut sip).await {
        return outcome;
    }
    let media = shared
        .media
        .attach(port, negotiated, false, &conduct.prompts);
    if let Err(e) = sip.answer(answer) {
        tracing::warn!(error = %e, "cannot send 200 OK");
        return Outcome(Disposition::Failed, Some(500));
    }
    local.version += 1;
    let disposition = converse(shared, call, (sip, media, local), conduct, reports).await;
    Outcome(disposition, Some(200))
}

/// Lets an inbound call ring for the configured answer delay; `Some` if the caller gave up.
async fn ring(shared: &Shared, sip: &mut SipCall) -> Option<Outcome> {
    if shared.config.calls.answer_delay.is_zero() {
        return None;
    }
    let ring = tokio::time::sleep(shared.config.calls.answer_delay);
    tokio::pin!(ring);
    loop {
        tokio::select! {
            _ = &mut ring => return None,
            signal = sip.next_signal() => match signal {
                Some(CallSignal::Ended(reason)) => {
                    tracing::info!(reason = reason.label(), "caller gave up before the answer");
                    return Some(Outcome(ended_disposition(false, reason), Some(487)));
                }
                None => return Some(Outcome(Disposition::Failed, None)),
                Some(_) => {}
            },
        }
    }
}

/// Who an outbound call is for, and where its result goes.
pub(crate) struct Target {
    /// The number to dial (a patient's registered number).
    pub number: Redacted<String>,
    /// The language the call is conducted in.
    pub language: Language,
    /// The patient, for automatic calls: answers go to their report.
    pub patient: Option<PatientId>,
    /// The slot and attempt number, for the call record and the report.
    pub slot: Option<(Slot, u32)>,
    /// Receives how the call ended.
    pub done: Option<oneshot::Sender<CallResult>>,
}

/// How an outbound call ended, for the scheduler.
#[derive(Debug, Clone)]
pub(crate) struct CallResult {
    /// carecall's call id.
    pub call_id: String,
    /// The leg's disposition.
    pub disposition: Disposition,
    /// The dialplan's outcome, once the call was answered.
    pub flow: Option<CallOutcome>,
}

/// Places and runs an outbound call to the target.
pub(super) async fn outbound(
    shared: Arc<Shared>,
    sip: SipEndpoint,
    trunk: TrunkConfig,
    target: Target,
    call: u64,
) {
    shared.active.fetch_add(1, Ordering::SeqCst);
    let _admission = Admission(shared.clone());
    let Target {
        number,
        language,
        patient,
        slot,
        done,
    } = target;
    let leg = Leg {
        call_id: call_id(),
        direction: Direction::Outbound,
        trunk: Some(trunk.name.clone()),
        caller: Redacted::new(trunk.caller_id.clone()),
        called: number.clone(),
        slot,
    };
    let span = tracing::info_span!("call", call, sip_call_id = tracing::field::Empty);
    async move {
        let conduct = Conduct::start(&shared, call, &leg, language);
        let _ = shared.events.send(CallEvent::Started {
            call,
            direction: Direction::Outbound,
        });
        let mut reports = CallReports::new(conduct.store.clone(), leg, language, patient);
        reports.attach(&shared);
        let Outcome(disposition, status) =
            dial_and_run(&shared, &sip, &trunk, (number, call, conduct), &mut reports).await;
        let result = CallResult {
            call_id: reports.call_id().to_owned(),
            disposition,
            flow: reports.flow_outcome(),
        };
        finish(&shared, call, reports, disposition, status).await;
        if let Some(done) = done {
            let _ = done.send(result);
        }
    }
    .instrument(span)
    .await
}

async fn dial_and_run(
    shared: &Shared,
    sip: &SipEndpoint,
    trunk: &TrunkConfig,
    (number, call, conduct): (Redacted<String>, u64, Conduct),
    reports: &mut CallReports,
) -> Outcome {
    let port = match shared.media.reserve() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "no RTP port for outbound call");
            return Outcome(Disposition::Failed, None);
        }
    };
    let mut local = local_media(shared, port.local_addr());
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
            return Outcome(Disposition::Failed, None);
        }
    };
    reports.set_sip_call_id(out.call_id());
    tracing::Span::current().record("sip_call_id", out.call_id());
    tracing::info!("INVITE sent");
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
                    return Outcome(disposition, (status > 0).then_some(status));
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
            return Outcome(Disposition::Failed, Some(200));
        }
    };
    let amd = shared.config.calls.answering_machine_detection;
    let media = shared.media.attach(port, negotiated, amd, &conduct.prompts);
    local.version += 1;
    let disposition = converse(shared, call, (sip_call, media, local), conduct, reports).await;
    Outcome(disposition, Some(200))
}

/// Runs an answered call with its flow; outbound calls are answered when this starts,
/// inbound ones when the ACK arrives.
async fn converse(
    shared: &Shared,
    call: u64,
    (sip, media, local): (SipCall, MediaSession, LocalMedia),
    conduct: Conduct,
    reports: &mut CallReports,
) -> Disposition {
    let direction = reports.direction();
    let live = LiveCall {
        shared,
        call,
        sip,
        media,
        flow: conduct.flow,
        entry: conduct.live,
        local,
        reports,
    };
    let outbound = direction == Direction::Outbound;
    let detect_machine = outbound && shared.config.calls.answering_machine_detection;
    live.run(outbound, detect_machine).await.disposition
}

async fn finish(
    shared: &Shared,
    call: u64,
    reports: CallReports,
    disposition: Disposition,
    status: Option<u16>,
) {
    tracing::info!(
        disposition = disposition.label(),
        sip_status = status.unwrap_or(0),
        "call ended"
    );
    reports.close(disposition, status).await;
    let _ = shared.events.send(CallEvent::Ended {
        call,
        disposition,
        sip_status: status.unwrap_or(0),
    });
}
