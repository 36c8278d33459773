//! The webhook's JSON body: what a health centre's system needs to page someone, and no more.
//!
//! ```json
//! {"type": "carecall.report.red", "alert_id": 7, "report_id": 42, "hersys_id": "12345678",
//!  "health_center": "Minato", "channel": "health_call", "flag": "red",
//!  "flag_reasons": ["fever", "symptom:breath"], "complete": false,
//!  "red_at": "2025-05-01T09:00:20.000Z", "attempt": 1}
//! ```
//!
//! `alert_id` is also sent as the `Idempotency-Key` header: delivery is at least once (a lost
//! 2xx answer or a node dying mid-delivery repeats it), so a receiver drops repeats by it.
//! The patient's name, birthday, phone and answer values are not sent: the HER-SYS ID finds the
//! patient in the centre's own records, and the staff page shows the report.

use serde::Serialize;

use crate::report::date::{epoch_millis, rfc3339_utc};
use crate::store::DueAlert;

/// The `type` of every alert body.
pub const EVENT_TYPE: &str = "carecall.report.red";

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    alert_id: i64,
    report_id: i64,
    hersys_id: &'a str,
    health_center: &'a str,
    channel: &'static str,
    flag: &'static str,
    flag_reasons: &'a [String],
    complete: bool,
    red_at: String,
    attempt: u32,
}

/// The JSON body for `alert`. The result holds the HER-SYS ID: send it, never log it.
pub fn json(alert: &DueAlert) -> Vec<u8> {
    let body = Body {
        kind: EVENT_TYPE,
        alert_id: alert.id.0,
        report_id: alert.report.0,
        hersys_id: alert.hersys_id.expose(),
        health_center: &alert.health_center,
        channel: alert.channel.label(),
        flag: alert.flag.label(),
        flag_reasons: &alert.flag_reasons,
        complete: alert.complete,
        red_at: rfc3339_utc(epoch_millis(alert.created_at).unwrap_or(0)),
        attempt: alert.attempt,
    };
    // Serialising a struct of strings, numbers and bools cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::pii::Redacted;
    use crate::report::{Channel, Flag};
    use crate::store::{AlertId, ReportId};

    #[test]
    fn body_carries_the_report_and_the_patient_id_only() {
        let alert = DueAlert {
            id: AlertId(7),
            report: ReportId(42),
            attempt: 2,
            created_at: UNIX_EPOCH + Duration::from_millis(1_746_090_020_000),
            hersys_id: Redacted::new("12345678".into()),
            health_center: "Minato".into(),
            channel: Channel::HealthCall,
            flag: Flag::Red,
            flag_reasons: vec!["fever".into(), "symptom:breath".into()],
            complete: false,
        };
        let v: serde_json::Value = serde_json::from_slice(&json(&alert)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "carecall.report.red", "alert_id": 7, "report_id": 42,
                "hersys_id": "12345678", "health_center": "Minato", "channel": "health_call",
                "flag": "red", "flag_reasons": ["fever", "symptom:breath"], "complete": false,
                "red_at": "2025-05-01T09:00:20.000Z", "attempt": 2
            })
        );
    }
}
