//! Prompts and speech: the prompt catalogue (decode, resample, encode once at start), saying
//! numbers in each language, and the player that turns prompt ids into G.711 frames.
//! No sockets, no clock: the runtime asks for the next frame.
pub mod say;
