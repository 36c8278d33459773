//! Immediate alerts: when a stored report turns red, carecall POSTs it to the health centre's
//! webhook (`[alert] webhook_url`) so its own system can page someone (issue 6).
//!
//! Owns: the webhook URL check ([`WebhookUrl`]), the JSON body ([`body`]), the retry policy
//! ([`RetryPolicy`]: exponential backoff, capped, bounded attempts), the HTTP client and the
//! outbox worker ([`Alerts`]). Must not touch: SQL (the outbox lives in `crate::store`, so an
//! alert survives a restart and every attempt is recorded there), logging of personal data
//! (log lines carry alert and report ids, never the HER-SYS ID the body holds).
//!
//! # How it fits
//!
//! A call (or the staff API) stores answers as before, then calls [`Alerts::notify`] with the
//! report: the store enqueues it in one statement if its flag is red and it has no alert yet,
//! and the worker is woken. The worker claims due alerts with a lease (safe with several
//! nodes on PostgreSQL), posts each, and records the attempt: delivered on 2xx, otherwise
//! pending until the backoff's next time, or failed after `max_attempts`. Delivery is at least
//! once; receivers drop repeats by the `Idempotency-Key` header (the alert id).

pub mod body;
mod client;
mod retry;
mod url;
mod worker;

pub use client::{PostError, WebhookClient};
pub use retry::{RetryPolicy, MAX_DELAY};
pub use url::{WebhookUrl, WebhookUrlError};
pub use worker::{AlertCounters, Alerts, ALERT_COUNTERS};
