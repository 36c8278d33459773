//! The driver of one call: a `select!` over SIP signals, media events, store replies, the
//! session's timer and the stop signal, feeding each to the [`Session`] and carrying out what
//! it asks (SIP, media, store calls as spawned futures, journal appends). It owns no call
//! logic; it keeps the shell's bookkeeping: the live-call list, call events, metrics.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use super::live::LiveEntry;
use super::media::{MediaEvent as WorkerEvent, MediaSession, ReservedPort};
use super::reports::{self, STORE_ERRORS};
use super::{CallEvent, Shared};
use crate::call::{
    Input, MediaAction, MediaEvent, Output, Session, SessionEvent as Note, SipAction, SipEvent,
    SipRequestId, StoreRequestId, StoreValue,
};
use crate::config::TrunkConfig;
use crate::domain::Disposition;
use crate::ivr::CallOutcome;
use crate::media::PromptSet;
use crate::pii::Redacted;
use crate::sip::{
    CallSignal, DialRequest, OutboundCall, PendingInvite, Progress, Responder, SipCall, SipEndpoint,
};
use crate::store::StoreError;

/// Where the call's SIP side stands.
pub(super) enum SipLeg {
    /// Inbound, not yet accepted.
    Pending(Box<PendingInvite>),
    /// Outbound, not yet dialled: what to dial with.
    ToDial(Box<(SipEndpoint, TrunkConfig, Redacted<String>)>),
    /// Outbound INVITE sent.
    Dialling(OutboundCall),
    /// An accepted or answered dialog.
    Call(SipCall),
    /// Nothing (refused, failed, or handed over).
    Idle,
}

/// How the call ended, for the caller of [`Driver::run`].
pub(super) struct Finished {
    pub disposition: Disposition,
    pub flow: Option<CallOutcome>,
}

type StoreReply = (StoreRequestId, Result<StoreValue, StoreError>);

/// What one call's driver holds.
pub(super) struct Driver<'a> {
    pub shared: &'a Shared,
    pub call: u64,
    pub session: Session,
    pub sip: SipLeg,
    pub port: Option<ReservedPort>,
    pub prompts: PromptSet,
    pub store: Option<crate::store::Store>,
    pub entry: LiveEntry,
}

/// What woke the driver.
enum Woke {
    Signal(Option<CallSignal>),
    Progress(Progress),
    Media(Option<WorkerEvent>),
    Store(StoreReply),
    Timer,
    Stop,
}

impl Driver<'_> {
    /// Feeds `first` to the session and runs the call until the session is done.
    pub(super) async fn run(mut self, first: Input) -> Finished {
        let mut stop = self.shared.stop.subscribe();
        let mut stopped = false;
        let (replies_tx, mut replies) = mpsc::unbounded_channel::<StoreReply>();
        let mut media: Option<MediaSession> = None;
        let mut responders: HashMap<u64, Responder> = HashMap::new();
        let mut next_request = 1u64;
        let mut finished = Finished {
            disposition: Disposition::Failed,
            flow: None,
        };
        self.session.handle_input(first, crate::clock::now());
        loop {
            self.carry_out(&mut media, &mut responders, &replies_tx, &mut finished)
                .await;
            if self.session.is_done() {
                break;
            }
            let deadline = self
                .session
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let woke = tokio::select! {
                signal = next_signal(&mut self.sip) => signal,
                event = next_media(&mut media) => Woke::Media(event),
                Some(reply) = replies.recv() => Woke::Store(reply),
                _ = sleep_until_opt(deadline) => Woke::Timer,
                _ = stop.changed(), if !stopped => Woke::Stop,
            };
            let now = crate::clock::now();
            let input = match woke {
                Woke::Timer => {
                    self.session.handle_timeout(now);
                    continue;
                }
                Woke::Stop => {
                    stopped = true;
                    Input::Drain
                }
                Woke::Store((id, reply)) => Input::Store { id, reply },
                Woke::Media(event) => {
                    if event.is_none() {
                        // The worker has gone: no more events from it.
                        media = None;
                    }
                    Input::Media(media_event(event))
                }
                Woke::Progress(progress) => Input::Sip(self.progress(progress)),
                Woke::Signal(signal) => {
                    if matches!(signal, None | Some(CallSignal::Ended(_))) {
                        // The dialog is over: nothing more comes from it. What the caller
                        // keyed before hanging up is heard first (the worker hands events
                        // on once a period; a flush hands them on now).
                        self.sip = SipLeg::Idle;
                        if let Some(m) = media.as_mut() {
                            for event in m.flush().await {
                                let input = Input::Media(media_event(Some(event)));
                                self.session.handle_input(input, now);
                            }
                        }
                    }
                    Input::Sip(signal_event(signal, &mut responders, &mut next_request))
                }
            };
            self.session.handle_input(input, now);
        }
        let _ = self.shared.events.send(CallEvent::Ended {
            call: self.call,
            disposition: finished.disposition,
            sip_status: self.session.ended().and_then(|(_, s)| s).unwrap_or(0),
        });
        finished
    }

    fn progress(&mut self, progress: Progress) -> SipEvent {
        match progress {
            Progress::Ringing => SipEvent::Ringing,
            Progress::Failed { status } => {
                self.sip = SipLeg::Idle;
                SipEvent::Failed { status }
            }
            Progress::Answered { sdp } => {
                if let SipLeg::Dialling(out) = std::mem::replace(&mut self.sip, SipLeg::Idle) {
                    self.sip = SipLeg::Call(out.into_call());
                }
                SipEvent::Answered { sdp }
            }
        }
    }

    /// Carries out every output the session has now (feeding back local failures).
    async fn carry_out(
        &mut self,
        media: &mut Option<MediaSession>,
        responders: &mut HashMap<u64, Responder>,
        replies: &mpsc::UnboundedSender<StoreReply>,
        finished: &mut Finished,
    ) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Sip(action) => {
                    if let Some(event) = self.sip_action(action, responders).await {
                        self.session
                            .handle_input(Input::Sip(event), crate::clock::now());
                    }
                }
                Output::Media(action) => self.media_action(action, media),
                Output::Store { id, call } => {
                    let (Some(store), replies) = (self.store.clone(), replies.clone()) else {
                        continue;
                    };
                    let alerts = self.shared.alerts.clone();
                    tokio::spawn(async move {
                        let _ = replies.send((id, reports::run(store, alerts, call).await));
                    });
                }
                Output::Journal(entry) => {
                    reports::append_journal(self.shared.journal.clone(), entry).await
                }
                Output::Event(note) => self.note(note, finished),
            }
        }
    }

    async fn sip_action(
        &mut self,
        action: SipAction,
        responders: &mut HashMap<u64, Responder>,
    ) -> Option<SipEvent> {
        match (action, std::mem::replace(&mut self.sip, SipLeg::Idle)) {
            (SipAction::Ringing, SipLeg::Pending(invite)) => match invite.accept() {
                Ok(call) => {
                    call.ringing();
                    self.sip = SipLeg::Call(call);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept INVITE");
                    return Some(SipEvent::LocalError);
                }
            },
            (SipAction::Reject(why), SipLeg::Pending(invite)) => invite.reject(why),
            (SipAction::Reject(why), SipLeg::Call(call)) => call.reject(why),
            (SipAction::Answer(sdp), SipLeg::Call(call)) => {
                let sent = call.answer(sdp);
                self.sip = SipLeg::Call(call);
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "cannot send 200 OK");
                    return Some(SipEvent::LocalError);
                }
            }
            (SipAction::Dial(offer), SipLeg::ToDial(to_dial)) => {
                let (sip, trunk, number) = *to_dial;
                let request = DialRequest {
                    proxy: trunk.proxy,
                    tcp: trunk.transport == crate::config::Transport::Tcp,
                    number,
                    caller_id: trunk.caller_id.clone(),
                    credentials: trunk.credentials.clone(),
                    offer,
                };
                match sip.dial(request) {
                    Ok(out) => {
                        let sip_call_id = out.call_id();
                        tracing::Span::current().record("sip_call_id", sip_call_id.as_str());
                        tracing::info!("INVITE sent");
                        self.sip = SipLeg::Dialling(out);
                        return Some(SipEvent::InviteSent { sip_call_id });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "INVITE not sent");
                        return Some(SipEvent::LocalError);
                    }
                }
            }
            (SipAction::Cancel, SipLeg::Dialling(out)) => {
                out.cancel().await;
                self.sip = SipLeg::Dialling(out);
            }
            (SipAction::Hangup, SipLeg::Call(call)) => {
                call.hangup().await;
                self.sip = SipLeg::Call(call);
            }
            (
                SipAction::Respond {
                    request,
                    status,
                    sdp,
                },
                leg,
            ) => {
                self.sip = leg;
                if let Some(reply) = responders.remove(&request.0) {
                    reply.respond(status, sdp).await;
                }
            }
            (action, leg) => {
                tracing::debug!(?action, "SIP action not applicable now");
                self.sip = leg;
            }
        }
        None
    }

    fn media_action(&mut self, action: MediaAction, media: &mut Option<MediaSession>) {
        match (action, media.as_ref()) {
            (MediaAction::Attach { negotiated, amd }, _) => {
                if let Some(port) = self.port.take() {
                    let attached = self
                        .shared
                        .media
                        .attach(port, negotiated, amd, &self.prompts);
                    *media = Some(attached);
                }
            }
            (MediaAction::Play(prompts), Some(m)) => m.play(prompts),
            (MediaAction::Stop, Some(m)) => m.stop(),
            (MediaAction::Update(negotiated), Some(m)) => m.update(negotiated),
            (MediaAction::NoteActivity, Some(m)) => m.note_activity(),
            (MediaAction::Release, _) => *media = None,
            (_, None) => {}
        }
    }

    fn note(&self, note: Note, finished: &mut Finished) {
        match note {
            Note::Answered => {
                self.entry.answered();
                let _ = self
                    .shared
                    .events
                    .send(CallEvent::Answered { call: self.call });
            }
            Note::Digit(digit) => {
                let _ = self.shared.events.send(CallEvent::Digit {
                    call: self.call,
                    digit,
                });
            }
            Note::Step(step) => {
                if self.entry.step(&step) {
                    tracing::info!(step = %step, "step");
                }
            }
            Note::StoreError => {
                STORE_ERRORS.fetch_add(1, Ordering::Relaxed);
            }
            Note::Ended {
                disposition,
                sip_status,
                flow,
            } => {
                tracing::info!(
                    disposition = disposition.label(),
                    sip_status = sip_status.unwrap_or(0),
                    "call ended"
                );
                *finished = Finished { disposition, flow };
            }
        }
    }
}

/// The next SIP happening, for the legs that have one.
async fn next_signal(sip: &mut SipLeg) -> Woke {
    match sip {
        SipLeg::Call(call) => Woke::Signal(call.next_signal().await),
        SipLeg::Dialling(out) => Woke::Progress(out.progress().await),
        _ => std::future::pending().await,
    }
}

/// A worker's event as a session input (`None`: the worker has gone, as a media time-out).
fn media_event(event: Option<WorkerEvent>) -> MediaEvent {
    match event {
        None | Some(WorkerEvent::MediaTimeout) => MediaEvent::Timeout,
        Some(WorkerEvent::Digit(d)) => MediaEvent::Digit(d),
        Some(WorkerEvent::PlaybackDone) => MediaEvent::PlaybackDone,
        Some(WorkerEvent::Amd(result)) => MediaEvent::Amd(result),
    }
}

async fn next_media(media: &mut Option<MediaSession>) -> Option<WorkerEvent> {
    match media {
        Some(m) => m.next_event().await,
        None => std::future::pending().await,
    }
}

/// A SIP signal as a session input; in-dialog requests keep their responder under an id.
fn signal_event(
    signal: Option<CallSignal>,
    responders: &mut HashMap<u64, Responder>,
    next: &mut u64,
) -> SipEvent {
    let mut keep = |reply: Responder| {
        let id = *next;
        *next += 1;
        responders.insert(id, reply);
        SipRequestId(id)
    };
    match signal {
        Some(CallSignal::Confirmed) => SipEvent::Confirmed,
        Some(CallSignal::Info {
            content_type,
            body,
            reply,
        }) => SipEvent::Info {
            request: keep(reply),
            content_type,
            body: Redacted::new(body),
        },
        Some(CallSignal::ReInvite { offer, reply }) => SipEvent::ReInvite {
            request: keep(reply),
            offer,
        },
        Some(CallSignal::Ended(reason)) => SipEvent::Ended(reason),
        None => SipEvent::Gone,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
