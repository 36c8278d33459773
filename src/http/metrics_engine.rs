//! The engine's and the process's families of `/metrics`: SIP responses by method and class,
//! RTP packets and late frames, reloads, and Prometheus' standard `process_*` figures. Every
//! labelled series is written from the start, at zero until something is counted.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::runtime::media::LATENESS_BOUNDS_US;
use crate::runtime::EngineView;
use crate::sip::counters::{self, CLASSES, METHODS};

/// Appends the families to `out`; without an engine the RTP figures are zero.
pub(super) fn render(engine: Option<&EngineView>, out: &mut String) {
    family(
        out,
        "carecall_sip_responses_total",
        "counter",
        "SIP responses sent and received, by the request's method and status class.",
    );
    for (m, method) in METHODS.iter().enumerate() {
        for (c, class) in CLASSES.iter().enumerate() {
            let n = counters::responses(m, c);
            let _ = writeln!(
                out,
                "carecall_sip_responses_total{{method=\"{method}\",class=\"{class}\"}} {n}"
            );
        }
    }
    let media = engine.map(EngineView::media_stats).unwrap_or_default();
    family(
        out,
        "carecall_rtp_packets_total",
        "counter",
        "RTP packets received (in) and sent (out).",
    );
    let _ = writeln!(
        out,
        "carecall_rtp_packets_total{{direction=\"in\"}} {}\ncarecall_rtp_packets_total{{direction=\"out\"}} {}",
        media.packets_received, media.frames_sent
    );
    family(
        out,
        "carecall_rtp_late_frames_total",
        "counter",
        "RTP frames sent a whole frame (20 ms) or more after their due time.",
    );
    // The last lateness bucket is everything at or beyond the last bound (20 ms).
    let late = media
        .lateness
        .get(LATENESS_BOUNDS_US.len())
        .copied()
        .unwrap_or(0);
    let _ = writeln!(out, "carecall_rtp_late_frames_total {late}");
    family(
        out,
        "carecall_reloads_total",
        "counter",
        "Reloads of dialplans and prompts (SIGHUP, carecall reload), by result.",
    );
    for (result, counter) in [
        ("ok", &crate::runtime::RELOADS_OK),
        ("failed", &crate::runtime::RELOADS_FAILED),
    ] {
        let n = counter.load(Ordering::Relaxed);
        let _ = writeln!(out, "carecall_reloads_total{{result=\"{result}\"}} {n}");
    }
    process(out);
}

fn process(out: &mut String) {
    let Some(p) = crate::runtime::process::read() else {
        return;
    };
    for (name, kind, help, value) in [
        (
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, seconds.",
            p.cpu_seconds,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size, bytes.",
            p.resident_bytes as f64,
        ),
        (
            "process_open_fds",
            "gauge",
            "Open file descriptors.",
            p.open_fds as f64,
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, seconds.",
            p.start_time_seconds,
        ),
    ] {
        family(out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}
