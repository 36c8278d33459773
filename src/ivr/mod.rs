//! Dialplans as data and their sans-IO interpreter: collect digits, validate, confirm, branch.
//!
//! Owns: the dialplan file format (`dialplans/*.toml`, see `dialplans/README.md`), its loader
//! and checks, the answer value types, and [`Interpreter`], which turns call inputs plus `now`
//! into actions (play, identify, store an answer, hang up) and a next deadline.
//!
//! Must not touch: sockets, the clock, the store, the prompt audio. The call layer plays the
//! prompts, runs the timers, identifies callers and stores answers; prompt existence comes in
//! as a predicate at load.

mod answer;
mod check;
mod convert;
mod convert_question;
mod convert_step;
mod entry;
mod error;
mod event;
mod expect;
mod expect_digits;
mod interp;
mod load;
mod model;
mod question;
mod raw;
mod timer;

pub use answer::{AnswerValue, Choice, FieldKind, QuestionId, Symptom, FIELDS};
pub use error::{DialplanErrors, Place, Problem, ProblemKind};
pub use event::{
    Action, CallOutcome, Identification, Input, Mmdd, PlayItem, PromptId, SpokenNumber,
};
pub use interp::Interpreter;
pub use load::{load_dir, load_file, parse};
pub use model::Dialplan;

#[cfg(test)]
mod tests;
