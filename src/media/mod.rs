//! Prompts and speech: the prompt catalogue (decode, resample, encode once at start), saying
//! numbers in each language, and the player that turns prompt ids into G.711 frames.
//! No sockets, no clock: the runtime asks for the next frame.
//!
//! Owns: `prompts/catalogue.toml` parsing ([`catalogue`]), audio file decoding and G.711
//! encoding ([`decode`], [`resample`]), the shared [`PromptSet`] and its loader
//! ([`prompts`], the only file reading in this module, done once at start on scoped
//! threads), and the per-call [`Player`] ([`player`], pure). Must not touch sockets, timers,
//! RTP headers or SIP: the runtime paces frames and `rtp` packs them.

pub mod bench;
pub mod catalogue;
pub mod decode;
pub mod error;
pub mod player;
pub mod prompts;
pub mod resample;
pub mod riff;
pub mod say;
#[cfg(test)]
mod testaudio;

pub use catalogue::Catalogue;
pub use decode::{DecodeError, EncodedPrompt};
pub use error::{Problems, PromptError, PromptProblem};
pub use player::{Frame, PlayError, PlayItem, Player, PlayerEvent, FRAME_SAMPLES};
pub use prompts::PromptSet;
