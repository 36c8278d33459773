//! `carecall calls list` and `carecall reload`: asking the running engine on this machine,
//! through its control socket (`[calls] control_socket`).

use std::time::Duration;

use carecall::config::Config;
use carecall::runtime::control::request;
use carecall::runtime::{ControlRequest, LiveList, ReloadReport};

use super::CliError;

/// `carecall calls list [--json]`: this node's live calls, as a table or as JSON.
pub fn list(config: Config, json: bool) -> Result<(), CliError> {
    let path = &config.calls.control_socket;
    let answer = request(path, ControlRequest::Calls, Duration::from_secs(10))?;
    let list: LiveList = serde_json::from_str(&answer).map_err(CliError::ControlAnswer)?;
    if json {
        let text = serde_json::to_string_pretty(&list).map_err(CliError::ControlAnswer)?;
        println!("{text}");
        return Ok(());
    }
    print!("{}", table(&list));
    Ok(())
}

/// `carecall reload`: the engine loads dialplans and prompts again; prints the outcome, and
/// every problem when the new set was refused (the running one stays).
pub fn reload(config: Config) -> Result<(), CliError> {
    let path = &config.calls.control_socket;
    let answer = request(path, ControlRequest::Reload, Duration::from_secs(300))?;
    let report: ReloadReport = serde_json::from_str(&answer).map_err(CliError::ControlAnswer)?;
    if report.ok {
        println!(
            "reloaded: {} dialplans, {} prompts; calls in progress keep the set they started with",
            report.dialplans, report.prompts
        );
        return Ok(());
    }
    println!("reload refused; the running dialplans and prompts stay:");
    for problem in &report.problems {
        println!("  {problem}");
    }
    Err(CliError::Problems(report.problems.len()))
}

fn table(list: &LiveList) -> String {
    let mut out = format!(
        "{:<6} {:<9} {:<16} {:<20} {:>8} {}\n",
        "ID", "DIRECTION", "DIALPLAN", "STEP", "DURATION", "TRUNK"
    );
    for c in &list.calls {
        let step = match (&c.step, c.answered) {
            (Some(step), _) => step.as_str(),
            (None, false) => "(ringing)",
            (None, true) => "(answered)",
        };
        let d = c.duration_s;
        out.push_str(&format!(
            "{:<6} {:<9} {:<16} {:<20} {:>8} {}\n",
            c.id,
            c.direction,
            c.dialplan,
            step,
            format!("{}:{:02}:{:02}", d / 3600, d / 60 % 60, d % 60),
            c.trunk.as_deref().unwrap_or("-"),
        ));
    }
    out.push_str(&format!(
        "{} active call(s) on {}\n",
        list.calls.len(),
        list.node_id
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use carecall::runtime::LiveCall;

    #[test]
    fn the_table_shows_step_duration_and_trunk() {
        let list = LiveList {
            node_id: "node-1".into(),
            calls: vec![LiveCall {
                id: 17,
                direction: "outbound".into(),
                dialplan: "automatic_call".into(),
                step: None,
                trunk: Some("carrier".into()),
                answered: false,
                started_at: "2026-12-03T07:00:00Z".into(),
                duration_s: 3725,
            }],
        };
        let text = table(&list);
        assert!(
            text.contains("(ringing)") && text.contains("1:02:05"),
            "{text}"
        );
        assert!(text.contains("carrier") && text.contains("1 active call(s) on node-1"));
    }
}
