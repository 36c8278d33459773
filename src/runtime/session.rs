//! One tokio task per call: takes the call set in use, lists the call as live, reserves its
//! RTP port and hands a [`Session`] to its [`Driver`]; the admission slot is released however
//! the task ends. What the call does is the session's.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::Instrument;

use super::driver::{Driver, SipLeg};
use super::live::LiveEntry;
use super::media::ReservedPort;
use super::{CallEvent, Shared};
use crate::call::{CallFlow, Direction, Input, Leg, Session, SessionSetup, SipEvent};
use crate::config::TrunkConfig;
use crate::ivr::CallOutcome;
use crate::lang::Language;
use crate::media::PromptSet;
use crate::pii::Redacted;
use crate::report::Slot;
use crate::sip::outcome::Disposition;
use crate::sip::sdp::LocalMedia;
use crate::sip::{PendingInvite, SipEndpoint};
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

    /// The driver that runs this call's session.
    fn driver(
        self,
        shared: &Shared,
        call: u64,
        setup: SessionSetup,
        sip: SipLeg,
        port: Option<ReservedPort>,
    ) -> Driver<'_> {
        let session = Session::new(
            setup,
            self.flow,
            crate::clock::now(),
            crate::clock::wall_now(),
        );
        Driver {
            shared,
            call,
            session,
            sip,
            port,
            prompts: self.prompts,
            store: self.store,
            entry: self.live,
        }
    }
}

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
        let port = match shared.media.reserve() {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "no RTP port: 503");
                None
            }
        };
        let first = Input::Sip(SipEvent::Invite {
            sip_call_id: invite.call_id(),
            offer: invite.offer(),
            local: port.as_ref().map(|p| local_media(&shared, p.local_addr())),
        });
        let setup = setup(&shared, leg, Language::Ja, None, &conduct);
        let driver = conduct.driver(
            &shared,
            call,
            setup,
            SipLeg::Pending(Box::new(invite)),
            port,
        );
        driver.run(first).await;
    }
    .instrument(span)
    .await
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
        let port = match shared.media.reserve() {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "no RTP port for outbound call");
                None
            }
        };
        let first = Input::Sip(SipEvent::Outgoing {
            local: port.as_ref().map(|p| local_media(&shared, p.local_addr())),
        });
        let setup = setup(&shared, leg, language, patient, &conduct);
        let call_id = setup.leg.call_id.clone();
        let to_dial = SipLeg::ToDial(Box::new((sip, trunk, number)));
        let driver = conduct.driver(&shared, call, setup, to_dial, port);
        let finished = driver.run(first).await;
        if let Some(done) = done {
            let _ = done.send(CallResult {
                call_id,
                disposition: finished.disposition,
                flow: finished.flow,
            });
        }
    }
    .instrument(span)
    .await
}

/// How the session conducts a call, from the engine's configuration.
fn setup(
    shared: &Shared,
    leg: Leg,
    language: Language,
    patient: Option<PatientId>,
    conduct: &Conduct,
) -> SessionSetup {
    let calls = &shared.config.calls;
    SessionSetup {
        detect_machine: leg.direction == Direction::Outbound && calls.answering_machine_detection,
        leg,
        language,
        patient,
        answer_delay: calls.answer_delay,
        ring_timeout: calls.ring_timeout,
        has_store: conduct.store.is_some(),
        alerts: shared.alerts.is_enabled(),
        write_timeout: shared.config.journal.write_timeout,
        key_seed: rand::random(),
    }
}
