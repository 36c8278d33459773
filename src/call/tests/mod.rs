//! Whole calls through [`Session`] on a manual clock, with the shipped dialplans and the real
//! interpreter: no sockets, no sleeping. A [`Call`] plays the driver: it answers store
//! requests (or holds them back), plays prompts out when told, and keeps every output.

mod inbound;
mod outbound;
mod store;
mod store_unavailable;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::io::{
    Input, MediaAction, MediaEvent, Output, SessionEvent, SipAction, SipEvent, SipRequestId,
    StoreCall, StoreRequestId, StoreValue,
};
use super::{CallFlow, DialplanFlow, Leg, Session, SessionSetup};
use crate::domain::{Direction, Disposition};
use crate::lang::Language;
use crate::pii::Redacted;
use crate::report::{Assessment, Flag};
use crate::rtp::{Digit, DigitEvent, DigitMethod};
use crate::sip::sdp::LocalMedia;
use crate::store::{Identification, JournalEntry, PatientId, PatientRef, ReportId};

/// Time between two keys.
pub(super) const KEY_GAP: Duration = Duration::from_millis(300);
/// The journal write timeout in these calls.
pub(super) const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A shipped dialplan (prompt existence is the media catalogue's business, not checked here).
fn shipped(name: &str) -> Arc<crate::ivr::Dialplan> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("dialplans")
        .join(name);
    match crate::ivr::load_file(&path, &|_| true) {
        Ok(plan) => Arc::new(plan),
        Err(e) => panic!("{e}"),
    }
}

/// Our RTP side.
pub(super) fn local() -> LocalMedia {
    LocalMedia {
        addr: "192.0.2.10:40000".parse().unwrap(),
        session_id: 42,
        version: 1,
    }
}

/// A peer's SDP (offer or answer) on `port`, PCMU and telephone-event, with `direction`.
pub(super) fn peer_sdp(port: u16, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
    )
}

/// How the test store answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoreMode {
    /// Every request is answered at once, well.
    Answer,
    /// Requests are held back until the test answers or lets them time out.
    Hold,
}

/// One call on a manual clock.
pub(super) struct Call {
    pub session: Session,
    pub now: Instant,
    pub mode: StoreMode,
    /// Every output so far, in order.
    pub log: Vec<Output>,
    /// Store requests not answered yet (in [`StoreMode::Hold`]).
    pub held: Vec<(StoreRequestId, StoreCall)>,
    /// Whether the media leg has prompts queued.
    pub playing: bool,
    /// When each BYE, Answer and PlaybackDone happened.
    pub times: Vec<(&'static str, Instant)>,
    next_request: u64,
}

impl Call {
    /// A call of `direction` running `flow`, not started yet.
    pub fn new(
        direction: Direction,
        flow: Box<dyn CallFlow>,
        setup: impl FnOnce(&mut SessionSetup),
    ) -> Call {
        let language = Language::Ja;
        let leg = Leg {
            call_id: "test-call".into(),
            direction,
            trunk: Some("trunk".into()),
            caller: Redacted::new("0312345678".into()),
            called: Redacted::new("0398765432".into()),
            slot: None,
        };
        let mut s = SessionSetup {
            leg,
            language,
            patient: (direction == Direction::Outbound).then_some(PatientId(5)),
            answer_delay: Duration::from_secs(1),
            ring_timeout: Duration::from_secs(30),
            detect_machine: false,
            has_store: true,
            alerts: true,
            write_timeout: WRITE_TIMEOUT,
            key_seed: 0xabc,
        };
        setup(&mut s);
        let now = Instant::now();
        Call {
            session: Session::new(s, flow, now, SystemTime::UNIX_EPOCH),
            now,
            mode: StoreMode::Answer,
            log: Vec::new(),
            held: Vec::new(),
            playing: false,
            times: Vec::new(),
            next_request: 1,
        }
    }

    /// An inbound Health Call, INVITE received (rings for the answer delay).
    pub fn inbound(setup: impl FnOnce(&mut SessionSetup)) -> Call {
        let flow = Box::new(DialplanFlow::new(shipped("health_call.toml"), Language::Ja));
        let mut call = Call::new(Direction::Inbound, flow, setup);
        call.invite();
        call
    }

    /// The INVITE arrives.
    pub fn invite(&mut self) {
        self.sip(SipEvent::Invite {
            sip_call_id: "abc@peer".into(),
            offer: peer_sdp(6000, "sendrecv"),
            local: Some(local()),
        });
    }

    /// An outbound automatic call, its INVITE sent.
    pub fn outbound(setup: impl FnOnce(&mut SessionSetup)) -> Call {
        let flow = Box::new(DialplanFlow::new(
            shipped("automatic_call.toml"),
            Language::Ja,
        ));
        let mut call = Call::new(Direction::Outbound, flow, setup);
        call.sip(SipEvent::Outgoing {
            local: Some(local()),
        });
        call.sip(SipEvent::InviteSent {
            sip_call_id: "out@carecall".into(),
        });
        call
    }

    /// Feeds an input now and carries out what follows.
    pub fn input(&mut self, input: Input) {
        self.session.handle_input(input, self.now);
        self.drain();
    }

    pub fn sip(&mut self, event: SipEvent) {
        self.input(Input::Sip(event));
    }

    pub fn media(&mut self, event: MediaEvent) {
        self.input(Input::Media(event));
    }

    /// Takes the session's outputs, answering store requests in [`StoreMode::Answer`].
    fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match &output {
                Output::Media(MediaAction::Play(_)) => self.playing = true,
                Output::Media(MediaAction::Stop) => self.playing = false,
                Output::Sip(SipAction::Hangup) => self.times.push(("bye", self.now)),
                Output::Sip(SipAction::Answer(_)) => self.times.push(("200", self.now)),
                _ => {}
            }
            if let Output::Store { id, call } = &output {
                self.held.push((*id, call.clone()));
            }
            self.log.push(output);
            if self.mode == StoreMode::Answer {
                for (id, call) in std::mem::take(&mut self.held) {
                    let reply = Ok(good_reply(&call));
                    self.session
                        .handle_input(Input::Store { id, reply }, self.now);
                }
            }
        }
    }

    /// Lets `d` pass, firing every timer at its own deadline as the driver would.
    pub fn wait(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(at) = self.session.poll_timeout().filter(|at| *at <= end) {
            self.now = at;
            self.session.handle_timeout(at);
            self.drain();
        }
        self.now = end;
    }

    /// The media leg played everything queued.
    pub fn play_out(&mut self) {
        assert!(self.playing, "nothing is playing");
        self.playing = false;
        self.times.push(("played", self.now));
        self.media(MediaEvent::PlaybackDone);
    }

    /// Plays prompts out until the flow waits for a key (nothing queued any more).
    pub fn play_all(&mut self) {
        while self.playing {
            self.wait(Duration::from_millis(500));
            self.play_out();
        }
    }

    /// Presses `keys` [`KEY_GAP`] apart by `method`.
    pub fn keys(&mut self, keys: &str, method: DigitMethod) {
        for c in keys.chars() {
            self.wait(KEY_GAP);
            let digit = Digit::from_char(c).unwrap();
            match method {
                DigitMethod::SipInfo => {
                    let request = SipRequestId(self.next_request);
                    self.next_request += 1;
                    self.sip(SipEvent::Info {
                        request,
                        content_type: "application/dtmf-relay".into(),
                        body: Redacted::new(format!("Signal={c}\r\nDuration=160\r\n").into_bytes()),
                    });
                }
                method => self.media(MediaEvent::Digit(DigitEvent { digit, method })),
            }
        }
    }

    /// The prompt ids of every `Play` so far.
    pub fn played(&self) -> Vec<String> {
        let plays = self.log.iter().filter_map(|o| match o {
            Output::Media(MediaAction::Play(p)) => Some(p),
            _ => None,
        });
        plays.flatten().map(|p| p.id.clone()).collect()
    }

    /// Every SIP action so far.
    pub fn sip_actions(&self) -> Vec<&SipAction> {
        let actions = self.log.iter().filter_map(|o| match o {
            Output::Sip(a) => Some(a),
            _ => None,
        });
        actions.collect()
    }

    /// Every store call so far.
    pub fn store_calls(&self) -> Vec<&StoreCall> {
        let calls = self.log.iter().filter_map(|o| match o {
            Output::Store { call, .. } => Some(call),
            _ => None,
        });
        calls.collect()
    }

    /// Every journal entry so far.
    pub fn journal(&self) -> Vec<&JournalEntry> {
        let entries = self.log.iter().filter_map(|o| match o {
            Output::Journal(e) => Some(e),
            _ => None,
        });
        entries.collect()
    }

    /// Every call event so far.
    pub fn events(&self) -> Vec<&SessionEvent> {
        let events = self.log.iter().filter_map(|o| match o {
            Output::Event(e) => Some(e),
            _ => None,
        });
        events.collect()
    }

    /// The `Ended` event's disposition and status.
    pub fn ended(&self) -> Option<(Disposition, Option<u16>)> {
        self.events().into_iter().find_map(|e| match e {
            SessionEvent::Ended {
                disposition,
                sip_status,
                ..
            } => Some((*disposition, *sip_status)),
            _ => None,
        })
    }

    /// When `what` ("bye", "200", "played") last happened.
    pub fn last(&self, what: &str) -> Option<Instant> {
        self.times
            .iter()
            .rev()
            .find(|(w, _)| *w == what)
            .map(|(_, t)| *t)
    }

    /// Answers the oldest held store request with `reply`; returns what it asked.
    pub fn reply_held(&mut self, reply: Result<StoreValue, crate::store::StoreError>) -> StoreCall {
        let (id, call) = self.held.remove(0);
        self.input(Input::Store { id, reply });
        call
    }
}

/// What a healthy store says to `call`: patient 5, report 7, nothing red, no failures.
pub(super) fn good_reply(call: &StoreCall) -> StoreValue {
    match call {
        StoreCall::CountCallerFailures { .. } | StoreCall::CancelAttempts { .. } => {
            StoreValue::Count(0)
        }
        StoreCall::Identify { .. } => StoreValue::Identified(Identification::Patient(PatientRef {
            id: PatientId(5),
            language: Language::Ja,
        })),
        StoreCall::StartReport { .. } => StoreValue::Report(ReportId(7)),
        StoreCall::StoreAnswer { .. } => StoreValue::Assessed(Assessment {
            flag: Flag::None,
            reasons: Vec::new(),
        }),
        StoreCall::CompleteReport { .. } | StoreCall::Alert { .. } | StoreCall::CallRecord(_) => {
            StoreValue::Done
        }
    }
}

/// Questions answered with `method`: 36.5, 1 to confirm, SpO2 97#, 1, "no" to nine symptoms,
/// no callback. Starts with the temperature prompt playing.
pub(super) fn answer_questions(call: &mut Call, method: DigitMethod) {
    for keys in [
        "365", "1", "97#", "1", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
    ] {
        call.play_all();
        call.keys(keys, method);
    }
}

/// The questions' answers stored, in order.
pub(super) fn stored_questions(call: &Call) -> Vec<String> {
    let answers = call.store_calls().into_iter().filter_map(|c| match c {
        StoreCall::StoreAnswer { question, .. } => Some(question.as_str().to_owned()),
        _ => None,
    });
    answers.collect()
}

/// Rings out the answer delay, sends 200, gets the ACK.
pub(super) fn answer(call: &mut Call) {
    assert_eq!(call.sip_actions(), [&SipAction::Ringing]);
    call.wait(Duration::from_millis(999));
    assert_eq!(
        call.sip_actions().len(),
        1,
        "no 200 before the answer delay"
    );
    call.wait(Duration::from_millis(1));
    assert!(
        matches!(call.sip_actions()[1], SipAction::Answer(sdp) if sdp.contains("m=audio 40000"))
    );
    assert!(call.played().is_empty(), "nothing plays before the ACK");
    call.sip(SipEvent::Confirmed);
    assert_eq!(call.events()[0], &SessionEvent::Answered);
    assert_eq!(call.played(), ["hc_welcome"]);
}

/// From the welcome to the first question: menu key, ID and birthday by the given methods.
pub(super) fn identify(call: &mut Call, menu: DigitMethod, id: DigitMethod, birthday: DigitMethod) {
    key_identity(call, menu, id, birthday);
    assert_eq!(
        call.played().last().map(String::as_str),
        Some("q_temperature")
    );
}

/// Menu key, ID and birthday.
pub(super) fn key_identity(
    call: &mut Call,
    menu: DigitMethod,
    id: DigitMethod,
    birthday: DigitMethod,
) {
    call.play_all();
    call.keys("1", menu);
    call.play_all();
    call.keys("12345678#", id);
    call.play_all();
    call.keys("0415", birthday);
}

/// "Recorded", no key for another person, the closing prompt, then BYE.
pub(super) fn close(call: &mut Call) {
    call.play_all();
    call.wait(Duration::from_secs(8));
    assert_eq!(call.played().last().map(String::as_str), Some("closing"));
    assert!(call.last("bye").is_none());
    call.wait(Duration::from_secs(2));
    assert!(
        call.last("bye").is_none(),
        "no BYE while the closing prompt plays"
    );
    call.play_out();
    call.wait(Duration::from_secs(1));
}
