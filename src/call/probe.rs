//! The built-in probe flow: proves the telephony layer without a dialplan. It plays a prompt
//! when the call is answered, replays it when it ends, and leaves digits to the runtime's
//! observers; it hangs up after `max_duration`.

use std::time::{Duration, Instant};

use super::{CallAction, CallFlow, CallInput, PromptRef};

/// Answer, play prompts in a loop, report digits (the runtime publishes them), hang up after
/// a limit.
pub struct ProbeFlow {
    prompts: Vec<PromptRef>,
    max_duration: Duration,
    deadline: Option<Instant>,
}

impl ProbeFlow {
    /// A probe that loops `prompts` and hangs up `max_duration` after the answer.
    pub fn new(prompts: Vec<PromptRef>, max_duration: Duration) -> Self {
        ProbeFlow {
            prompts,
            max_duration,
            deadline: None,
        }
    }
}

impl CallFlow for ProbeFlow {
    fn handle(&mut self, input: CallInput, now: Instant) -> Vec<CallAction> {
        match input {
            CallInput::Answered => {
                self.deadline = Some(now + self.max_duration);
                vec![CallAction::Play(self.prompts.clone())]
            }
            CallInput::PlaybackDone => vec![CallAction::Play(self.prompts.clone())],
            CallInput::Digit(_) | CallInput::Identified(_) | CallInput::Hangup => vec![],
            CallInput::Timeout => match self.deadline {
                Some(d) if now >= d => vec![CallAction::Hangup],
                _ => vec![],
            },
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Language;

    #[test]
    fn plays_on_answer_loops_and_hangs_up_at_the_limit() {
        let p = PromptRef {
            lang: Language::Ja,
            id: "hc_welcome".into(),
        };
        let mut flow = ProbeFlow::new(vec![p.clone()], Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(flow.poll_timeout(), None);
        assert_eq!(
            flow.handle(CallInput::Answered, t0),
            vec![CallAction::Play(vec![p.clone()])]
        );
        assert_eq!(flow.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(
            flow.handle(CallInput::PlaybackDone, t1),
            vec![CallAction::Play(vec![p])]
        );
        assert!(
            flow.handle(CallInput::Timeout, t1).is_empty(),
            "spurious timeout is harmless"
        );
        let t2 = t0 + Duration::from_secs(10);
        assert_eq!(
            flow.handle(CallInput::Timeout, t2),
            vec![CallAction::Hangup]
        );
    }
}
