//! A call driven by a dialplan: wraps the sans-IO [`Interpreter`] as a [`CallFlow`], expands
//! spoken numbers into prompt ids in the call language, and turns the interpreter's store and
//! identification requests into [`CallAction`]s the runtime carries out.

use std::sync::Arc;
use std::time::Instant;

use super::{CallAction, CallFlow, CallInput, PromptRef};
use crate::ivr::{Action, CallOutcome, Dialplan, Input, Interpreter, PlayItem, SpokenNumber};
use crate::lang::Language;
use crate::media::say::{self, Number, Unit};

/// One call's walk through a dialplan.
pub struct DialplanFlow {
    interp: Interpreter,
    plan: Arc<Dialplan>,
}

impl DialplanFlow {
    /// A flow for `plan`, starting in `language` (the patient's language on automatic calls,
    /// Japanese until the menu on Health Call).
    pub fn new(plan: Arc<Dialplan>, language: Language) -> Self {
        DialplanFlow {
            interp: Interpreter::new(plan.clone(), language),
            plan,
        }
    }

    fn translate(&mut self, actions: Vec<Action>) -> Vec<CallAction> {
        let mut out = Vec::with_capacity(actions.len());
        for action in actions {
            match action {
                Action::Play(items) => {
                    out.push(CallAction::Play(expand(&items, self.interp.language())))
                }
                Action::StopPlayback => out.push(CallAction::StopPlayback),
                Action::Hangup(_) => out.push(CallAction::Hangup),
                report => out.push(CallAction::Report(report)),
            }
        }
        out
    }
}

impl CallFlow for DialplanFlow {
    fn handle(&mut self, input: CallInput, now: Instant) -> Vec<CallAction> {
        let actions = match input {
            CallInput::Answered => self.interp.handle_input(Input::Started, now),
            CallInput::Digit(d) => self.interp.handle_input(Input::Digit(d.digit), now),
            CallInput::PlaybackDone => self.interp.handle_input(Input::PromptsDone, now),
            CallInput::Identified(result) => {
                self.interp.handle_input(Input::IdentifyResult(result), now)
            }
            CallInput::Timeout => self.interp.handle_timeout(now),
            CallInput::Hangup => self.interp.handle_input(Input::Hangup, now),
        };
        self.translate(actions)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.interp.poll_timeout()
    }

    fn outcome(&self) -> Option<CallOutcome> {
        self.interp.outcome()
    }

    fn position(&self) -> (String, u32, String) {
        (
            self.plan.id().to_owned(),
            self.plan.version(),
            self.interp.step_id().to_owned(),
        )
    }
}

/// Prompt references for play items in `lang`; a number followed by a unit prompt is spoken
/// with the unit where the language puts it (百分之九十七: the unit comes first).
fn expand(items: &[PlayItem], lang: Language) -> Vec<PromptRef> {
    let mut out = Vec::with_capacity(items.len() + 4);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            PlayItem::Prompt { id, language } => out.push(PromptRef {
                lang: language.unwrap_or(lang),
                id: id.as_str().to_owned(),
            }),
            PlayItem::Number(n) => {
                let number = match n {
                    SpokenNumber::Integer(v) => Number::Integer(*v),
                    SpokenNumber::Tenths(v) => Number::Tenths(*v),
                };
                let unit = match items.get(i + 1) {
                    Some(PlayItem::Prompt { id, .. })
                        if id.as_str() == Unit::Degrees.prompt_id() =>
                    {
                        Some(Unit::Degrees)
                    }
                    Some(PlayItem::Prompt { id, .. })
                        if id.as_str() == Unit::Percent.prompt_id() =>
                    {
                        Some(Unit::Percent)
                    }
                    _ => None,
                };
                let words = match unit {
                    Some(unit) => {
                        i += 1;
                        say::say_with_unit(lang, &number, unit)
                    }
                    None => say::say(lang, &number),
                };
                out.extend(words.into_iter().map(|id| PromptRef {
                    lang,
                    id: id.to_owned(),
                }));
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(refs: &[PromptRef]) -> Vec<&str> {
        refs.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn numbers_are_spoken_with_the_unit_where_the_language_puts_it() {
        let items = vec![
            PlayItem::prompt("confirm_spo2"),
            PlayItem::Number(SpokenNumber::Integer(97)),
            PlayItem::prompt("unit_percent"),
            PlayItem::prompt("confirm_keys"),
        ];
        let en = expand(&items, Language::En);
        assert_eq!(ids(&en).first(), Some(&"confirm_spo2"));
        assert_eq!(
            ids(&en)[ids(&en).len() - 2..],
            ["unit_percent", "confirm_keys"]
        );
        let zh = expand(&items, Language::ZhCn);
        assert_eq!(
            ids(&zh)[1],
            "unit_percent",
            "百分之 comes before the number: {:?}",
            ids(&zh)
        );
        assert_eq!(zh.iter().filter(|r| r.id == "unit_percent").count(), 1);
        assert!(zh.iter().all(|r| r.lang == Language::ZhCn));
    }

    #[test]
    fn language_overrides_are_kept_for_the_menu() {
        let items = vec![
            PlayItem::prompt_in("lang_select", Language::Ko),
            PlayItem::prompt("hc_welcome"),
        ];
        let refs = expand(&items, Language::Ja);
        assert_eq!(refs[0].lang, Language::Ko);
        assert_eq!(refs[1].lang, Language::Ja);
    }
}
