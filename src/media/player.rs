//! The player of one call: a queue of prompts turned into 20 ms G.711 frames on demand.
//!
//! Sans-IO: the runtime calls [`Player::next_frame`] every 20 ms and sends what it gets;
//! the player owns no socket and reads no clock. Frames borrow the shared prompt bytes (or a
//! 160-byte buffer inside the player for the padded last frame), so playing allocates nothing.

use std::collections::VecDeque;
use std::sync::Arc;

use super::prompts::PromptSet;
use crate::lang::Language;
use crate::rtp::g711::Law;

/// Samples (and G.711 bytes) in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// One thing to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayItem<'a> {
    /// A prompt id in the call's current language.
    Prompt(&'a str),
    /// A prompt id in a given language (the language menu plays each language's own line).
    PromptIn(Language, &'a str),
    /// This many frames (20 ms each) of silence, e.g. a pause between read-back numbers.
    Silence(u32),
}

/// One 20 ms frame of the negotiated law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The 160 G.711 bytes.
    pub payload: &'a [u8; FRAME_SAMPLES],
    /// True on the first frame of each prompt: the RTP marker bit.
    pub starts_prompt: bool,
}

/// What the player reports besides frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerEvent {
    /// The last queued frame has been handed out: the IVR may start its input timer.
    Finished,
}

/// A prompt that cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlayError {
    /// The prompt set has no prompt with this id in this language.
    #[error("prompt `{id}` does not exist in {lang}")]
    UnknownPrompt {
        /// The language asked for.
        lang: Language,
        /// The id asked for.
        id: String,
    },
}

/// The audio source of a queued item.
#[derive(Debug, Clone)]
enum Source {
    Prompt(Arc<[u8]>),
    Silence(usize),
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::Prompt(bytes) => bytes.len(),
            Source::Silence(frames) => frames.saturating_mul(FRAME_SAMPLES),
        }
    }
}

#[derive(Debug)]
struct Playing {
    source: Source,
    pos: usize,
}

/// Plays queued prompts of one call as G.711 frames of one law.
#[derive(Debug)]
pub struct Player {
    prompts: PromptSet,
    lang: Language,
    law: Law,
    queue: VecDeque<Source>,
    playing: Option<Playing>,
    finished: bool,
    pad: [u8; FRAME_SAMPLES],
    silence: [u8; FRAME_SAMPLES],
}

impl Player {
    /// An idle player for a call in `lang` whose negotiated codec is `law`.
    pub fn new(prompts: PromptSet, lang: Language, law: Law) -> Player {
        Player {
            prompts,
            lang,
            law,
            queue: VecDeque::new(),
            playing: None,
            finished: false,
            pad: [law.silence(); FRAME_SAMPLES],
            silence: [law.silence(); FRAME_SAMPLES],
        }
    }

    /// The language [`PlayItem::Prompt`] ids are looked up in.
    pub fn language(&self) -> Language {
        self.lang
    }

    /// Changes the language for items enqueued from now on (after the language menu).
    /// Items already queued keep the language they were enqueued in.
    pub fn set_language(&mut self, lang: Language) {
        self.lang = lang;
    }

    /// Appends `items` to the queue, after anything queued or playing.
    ///
    /// All or nothing: if any prompt id is unknown in its language, nothing is queued and the
    /// first unknown one is returned. Empty items (zero-length audio, `Silence(0)`) are
    /// skipped; if an idle player is given only empty items, [`PlayerEvent::Finished`] is
    /// reported at once so the IVR never waits for a prompt that has nothing to play.
    pub fn enqueue(&mut self, items: &[PlayItem<'_>]) -> Result<(), PlayError> {
        let mut resolved = Vec::with_capacity(items.len());
        for item in items {
            let source = match *item {
                PlayItem::Prompt(id) => self.resolve(self.lang, id)?,
                PlayItem::PromptIn(lang, id) => self.resolve(lang, id)?,
                PlayItem::Silence(frames) => Source::Silence(frames as usize),
            };
            if source.len() > 0 {
                resolved.push(source);
            }
        }
        if resolved.is_empty() && !items.is_empty() && self.is_idle() {
            self.finished = true;
        }
        self.queue.extend(resolved);
        Ok(())
    }

    fn resolve(&self, lang: Language, id: &str) -> Result<Source, PlayError> {
        let audio = self
            .prompts
            .audio(lang, id)
            .ok_or_else(|| PlayError::UnknownPrompt {
                lang,
                id: id.to_owned(),
            })?;
        let bytes = match self.law {
            Law::Pcmu => &audio.pcmu,
            Law::Pcma => &audio.pcma,
        };
        Ok(Source::Prompt(Arc::clone(bytes)))
    }

    /// Barge-in: drops the prompt being played and the whole queue at once. The next call to
    /// [`Player::next_frame`] returns `None`; no [`PlayerEvent::Finished`] is reported for
    /// the dropped queue (the IVR stopped it and knows).
    pub fn stop(&mut self) {
        self.queue.clear();
        self.playing = None;
        self.finished = false;
    }

    /// True when there is nothing left to play.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
            && self
                .playing
                .as_ref()
                .is_none_or(|p| p.pos >= p.source.len())
    }

    /// The next 20 ms frame, or `None` when idle. Call once per 20 ms while sending.
    ///
    /// The last frame of a prompt whose length is not a multiple of 160 samples is padded
    /// with the law's silence code. When the last frame of the queue is returned,
    /// [`PlayerEvent::Finished`] becomes pending for [`Player::poll_event`].
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if !self.advance() {
            return None;
        }
        let Player {
            queue,
            playing,
            finished,
            pad,
            silence,
            law,
            ..
        } = self;
        let playing = playing.as_mut()?;
        let start = playing.pos;
        playing.pos = (start + FRAME_SAMPLES).min(playing.source.len());
        if playing.pos >= playing.source.len() && queue.is_empty() {
            *finished = true;
        }
        let payload: &[u8; FRAME_SAMPLES] = match &playing.source {
            Source::Silence(_) => silence,
            Source::Prompt(bytes) => {
                let rest = bytes.get(start..).unwrap_or_default();
                match rest.first_chunk::<FRAME_SAMPLES>() {
                    Some(frame) => frame,
                    None => {
                        pad[..rest.len()].copy_from_slice(rest);
                        pad[rest.len()..].fill(law.silence());
                        pad
                    }
                }
            }
        };
        Some(Frame {
            payload,
            starts_prompt: start == 0 && matches!(playing.source, Source::Prompt(_)),
        })
    }

    /// Makes `playing` an item with frames left, taking from the queue; false when idle.
    fn advance(&mut self) -> bool {
        loop {
            if let Some(p) = &self.playing {
                if p.pos < p.source.len() {
                    return true;
                }
            }
            match self.queue.pop_front() {
                Some(source) => self.playing = Some(Playing { source, pos: 0 }),
                None => {
                    self.playing = None;
                    return false;
                }
            }
        }
    }

    /// The next pending event, once each; `None` when there is none.
    pub fn poll_event(&mut self) -> Option<PlayerEvent> {
        std::mem::take(&mut self.finished).then_some(PlayerEvent::Finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::g711::{alaw_encode, ulaw_encode};

    /// `a`: 400 samples (2½ frames) of 1000; `b`: 320 samples (2 frames) of −2000;
    /// `lang_select` in Korean only.
    fn set() -> PromptSet {
        PromptSet::from_linear([
            (Language::En, "a", vec![1000i16; 400]),
            (Language::En, "b", vec![-2000i16; 320]),
            (Language::Ko, "lang_select", vec![3000i16; 160]),
        ])
    }

    fn drain(player: &mut Player) -> Vec<(Vec<u8>, bool)> {
        std::iter::from_fn(|| {
            player
                .next_frame()
                .map(|f| (f.payload.to_vec(), f.starts_prompt))
        })
        .collect()
    }

    #[test]
    fn frames_are_160_bytes_with_a_marker_on_each_prompt_and_a_padded_tail() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        player
            .enqueue(&[PlayItem::Prompt("a"), PlayItem::Prompt("b")])
            .unwrap();
        let frames = drain(&mut player);
        assert_eq!(frames.len(), 5);
        let markers: Vec<bool> = frames.iter().map(|f| f.1).collect();
        assert_eq!(markers, [true, false, false, true, false]);
        let (a, b) = (ulaw_encode(1000), ulaw_encode(-2000));
        assert!(frames[1].0.iter().all(|&c| c == a));
        // The third frame holds the last 80 samples of `a`, then μ-law silence.
        assert!(frames[2].0[..80].iter().all(|&c| c == a));
        assert!(frames[2].0[80..].iter().all(|&c| c == 0xFF));
        assert!(frames[3].0.iter().all(|&c| c == b));
        assert!(player.is_idle());
    }

    #[test]
    fn frames_borrow_the_shared_prompt_bytes() {
        let prompts = set();
        let shared = prompts.audio(Language::En, "b").unwrap().pcma.as_ptr();
        let mut player = Player::new(prompts, Language::En, Law::Pcma);
        player.enqueue(&[PlayItem::Prompt("b")]).unwrap();
        let first = player.next_frame().unwrap();
        assert_eq!(first.payload.as_ptr(), shared);
        assert!(first.payload.iter().all(|&c| c == alaw_encode(-2000)));
    }

    #[test]
    fn a_law_tail_is_padded_with_a_law_silence() {
        let mut player = Player::new(set(), Language::En, Law::Pcma);
        player.enqueue(&[PlayItem::Prompt("a")]).unwrap();
        let frames = drain(&mut player);
        assert!(frames[2].0[80..].iter().all(|&c| c == 0xD5));
    }

    #[test]
    fn finished_is_reported_once_after_the_last_frame_only() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        player.enqueue(&[PlayItem::Prompt("b")]).unwrap();
        assert!(!player.is_idle());
        assert!(player.next_frame().is_some());
        assert_eq!(player.poll_event(), None);
        assert!(player.next_frame().is_some());
        assert_eq!(player.poll_event(), Some(PlayerEvent::Finished));
        assert_eq!(player.poll_event(), None);
        assert!(player.next_frame().is_none());
        assert_eq!(player.poll_event(), None);
    }

    #[test]
    fn items_enqueued_while_playing_are_appended_and_delay_finished() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        player.enqueue(&[PlayItem::Prompt("b")]).unwrap();
        player.next_frame();
        player.enqueue(&[PlayItem::Prompt("a")]).unwrap();
        player.next_frame();
        assert_eq!(player.poll_event(), None);
        let rest = drain(&mut player);
        assert_eq!(rest.len(), 3);
        assert!(rest[0].1);
        assert_eq!(player.poll_event(), Some(PlayerEvent::Finished));
    }

    #[test]
    fn barge_in_stops_at_once_without_a_finished_event() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        player
            .enqueue(&[PlayItem::Prompt("a"), PlayItem::Prompt("b")])
            .unwrap();
        assert!(player.next_frame().is_some());
        player.stop();
        assert!(player.is_idle());
        assert!(player.next_frame().is_none());
        assert_eq!(player.poll_event(), None);
        // The player is usable again after a barge-in, and starts with a marker.
        player.enqueue(&[PlayItem::Prompt("b")]).unwrap();
        assert!(player.next_frame().unwrap().starts_prompt);
    }

    #[test]
    fn an_unknown_id_is_an_error_and_queues_nothing() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        let err = player
            .enqueue(&[PlayItem::Prompt("a"), PlayItem::Prompt("lang_select")])
            .unwrap_err();
        assert_eq!(
            err,
            PlayError::UnknownPrompt {
                lang: Language::En,
                id: "lang_select".into()
            }
        );
        assert_eq!(err.to_string(), "prompt `lang_select` does not exist in en");
        assert!(player.is_idle());
        assert!(player.next_frame().is_none());
    }

    #[test]
    fn prompts_in_other_languages_and_silence_can_be_queued() {
        let mut player = Player::new(set(), Language::En, Law::Pcmu);
        player
            .enqueue(&[
                PlayItem::PromptIn(Language::Ko, "lang_select"),
                PlayItem::Silence(2),
                PlayItem::Prompt("b"),
            ])
            .unwrap();
        let frames = drain(&mut player);
        let markers: Vec<bool> = frames.iter().map(|f| f.1).collect();
        assert_eq!(markers, [true, false, false, true, false]);
        assert!(frames[0].0.iter().all(|&c| c == ulaw_encode(3000)));
        assert!(frames[1].0.iter().all(|&c| c == 0xFF));
        player.set_language(Language::Ko);
        assert_eq!(player.language(), Language::Ko);
        assert!(player.enqueue(&[PlayItem::Prompt("lang_select")]).is_ok());
        assert!(player.enqueue(&[PlayItem::Prompt("a")]).is_err());
    }

    #[test]
    fn an_idle_player_given_nothing_to_play_finishes_at_once() {
        let prompts = PromptSet::from_linear([(Language::Ja, "empty", Vec::new())]);
        let mut player = Player::new(prompts, Language::Ja, Law::Pcmu);
        player
            .enqueue(&[PlayItem::Prompt("empty"), PlayItem::Silence(0)])
            .unwrap();
        assert!(player.is_idle());
        assert!(player.next_frame().is_none());
        assert_eq!(player.poll_event(), Some(PlayerEvent::Finished));
        player.enqueue(&[]).unwrap();
        assert_eq!(player.poll_event(), None);
    }
}
