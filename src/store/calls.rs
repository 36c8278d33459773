//! Call records (SPEC §13): one append-only row per call leg, written at hang-up.
//!
//! The table refuses `UPDATE` and `DELETE` by trigger. Caller and called numbers are stored
//! (staff and the toll-fraud audit need them) but travel in `Redacted` and are never logged.

use std::time::SystemTime;

use sqlx::Row;

use crate::domain::{Direction, Disposition};
use crate::pii::Redacted;
use crate::report::date::from_epoch_millis;
use crate::report::Slot;

use super::reports::{decode_slot, split_slot};
use super::{millis, Store, StoreError};

/// One call leg as it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// carecall's call id (unique across nodes and restarts).
    pub call_id: String,
    /// The SIP Call-ID of the leg.
    pub sip_call_id: String,
    /// Inbound (Health Call) or outbound (automatic call).
    pub direction: Direction,
    /// The trunk name, when the leg used one.
    pub trunk: Option<String>,
    /// The calling number or URI user part.
    pub caller: Redacted<String>,
    /// The called number or URI user part.
    pub called: Redacted<String>,
    /// When the INVITE was sent or received.
    pub started_at: SystemTime,
    /// When the call was answered, if it was.
    pub answered_at: Option<SystemTime>,
    /// When the leg ended.
    pub ended_at: SystemTime,
    /// How it ended.
    pub disposition: Disposition,
    /// The final SIP status of the INVITE; `None` when there was none (no response at all).
    pub sip_status: Option<u16>,
    /// The dialplan that ran, if any.
    pub dialplan_id: Option<String>,
    /// That dialplan's version.
    pub dialplan_version: Option<String>,
    /// The last dialplan step reached.
    pub last_step: Option<String>,
    /// The schedule slot of an automatic call.
    pub slot: Option<Slot>,
    /// The attempt number within the slot (1 = first).
    pub attempt: Option<u32>,
}

impl CallRecord {
    /// Milliseconds from start to end (0 if the end precedes the start).
    pub fn duration_ms(&self) -> i64 {
        self.ended_at
            .duration_since(self.started_at)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

impl Store {
    /// Appends a call record. An error means the record is NOT stored: the caller must count
    /// it (`carecall_store_errors_total`) and report it, never drop it silently.
    pub async fn insert_call_record(&self, record: &CallRecord) -> Result<(), StoreError> {
        let (slot_date, slot_time) = split_slot(record.slot);
        let answered_at = record.answered_at.map(millis).transpose()?;
        let (started_at, ended_at) = (millis(record.started_at)?, millis(record.ended_at)?);
        on_call_conn!(self, conn => {
            sqlx::query(
                "INSERT INTO call_records (call_id, sip_call_id, direction, trunk, caller, called, \
                 started_at, answered_at, ended_at, duration_ms, disposition, sip_status, \
                 dialplan_id, dialplan_version, last_step, slot_date, slot_time, attempt) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                 date($16), $17, $18)",
            )
            .bind(&record.call_id)
            .bind(&record.sip_call_id)
            .bind(record.direction.label())
            .bind(record.trunk.as_deref())
            .bind(record.caller.expose().as_str())
            .bind(record.called.expose().as_str())
            .bind(started_at)
            .bind(answered_at)
            .bind(ended_at)
            .bind(record.duration_ms())
            .bind(record.disposition.label())
            .bind(record.sip_status.map(i64::from))
            .bind(record.dialplan_id.as_deref())
            .bind(record.dialplan_version.as_deref())
            .bind(record.last_step.as_deref())
            .bind(slot_date)
            .bind(slot_time)
            .bind(record.attempt.map(i64::from))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Call records of legs started at or after `since`, oldest first.
    pub async fn call_records(&self, since: SystemTime) -> Result<Vec<CallRecord>, StoreError> {
        let since = millis(since)?;
        let mut records = Vec::new();
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT call_id, sip_call_id, direction, trunk, caller, called, started_at, \
                 answered_at, ended_at, disposition, sip_status, dialplan_id, dialplan_version, \
                 last_step, CAST(slot_date AS TEXT) AS slot_date, slot_time, attempt \
                 FROM call_records WHERE started_at >= $1 ORDER BY started_at, id",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            for row in rows {
                let direction: String = row.try_get("direction")?;
                let disposition: String = row.try_get("disposition")?;
                records.push(CallRecord {
                    call_id: row.try_get("call_id")?,
                    sip_call_id: row.try_get("sip_call_id")?,
                    direction: match direction.as_str() {
                        "inbound" => Direction::Inbound,
                        "outbound" => Direction::Outbound,
                        _ => return Err(corrupt("direction")),
                    },
                    trunk: row.try_get("trunk")?,
                    caller: Redacted::new(row.try_get("caller")?),
                    called: Redacted::new(row.try_get("called")?),
                    started_at: from_epoch_millis(row.try_get("started_at")?),
                    answered_at: row.try_get::<Option<i64>, _>("answered_at")?.map(from_epoch_millis),
                    ended_at: from_epoch_millis(row.try_get("ended_at")?),
                    disposition: Disposition::ALL
                        .into_iter()
                        .find(|d| d.label() == disposition)
                        .ok_or(corrupt("disposition"))?,
                    sip_status: narrow(row.try_get("sip_status")?, "sip_status")?,
                    dialplan_id: row.try_get("dialplan_id")?,
                    dialplan_version: row.try_get("dialplan_version")?,
                    last_step: row.try_get("last_step")?,
                    slot: decode_slot(row.try_get("slot_date")?, row.try_get("slot_time")?, "call_records")?,
                    attempt: narrow(row.try_get("attempt")?, "attempt")?,
                });
            }
        });
        Ok(records)
    }
}

fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt {
        table: "call_records",
        column,
    }
}

fn narrow<T: TryFrom<i64>>(n: Option<i64>, column: &'static str) -> Result<Option<T>, StoreError> {
    n.map(|n| T::try_from(n).map_err(|_| corrupt(column)))
        .transpose()
}
