//! carecall: a SIP/RTP IVR engine for the daily health observation of people recovering at
//! home (the telephone side of Japan's HER-SYS health observation).
//!
//! # Architecture
//!
//! Protocol cores are deterministic; I/O is a thin shell.
//!
//! - Cores take an input plus `now` and return outputs (packets, events, the next deadline).
//!   They own no socket, task, lock or clock: [`call`] (one call's whole life as a session),
//!   [`rtp`], [`media`], [`ivr`], [`schedule`] and the SDP/trunk policy parts of [`sip`].
//! - [`domain`] holds the shared value types (ids, direction, disposition, the report fields,
//!   a patient's call settings, an automatic-call attempt and its state) and imports only
//!   value types (`report` dates and slots, `lang`, `pii`); `store/` maps rows to them.
//! - [`clock`] is the only module that reads the system clock.
//! - The shell is [`runtime`] (sockets, tasks, timers, shutdown), [`store`] (SQL) and
//!   [`http`] (staff API). Nothing else does I/O.
//! - [`alert`] posts red reports to the health centre's webhook from a store-backed outbox.
//! - [`simulator`] runs the real dialplan interpreter for the browser's flow simulator.
//! - [`sip`] wraps the SIP library; no other module names its types.
//! - Personal data travels in [`pii::Redacted`], which never prints its contents.

pub mod alert;
pub mod call;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod ivr;
pub mod lang;
pub mod media;
pub mod pii;
pub mod report;
pub mod rtp;
pub mod runtime;
pub mod schedule;
pub mod simulator;
pub mod sip;
pub mod store;
