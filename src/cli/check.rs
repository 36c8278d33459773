//! `carecall check [--json]`: validate configuration, dialplans and prompts, naming every
//! problem (each with its file, line and key), as text or as one JSON document.

use carecall::config::Config;
use carecall::runtime::Assets;

use super::CliError;

/// Prints every problem found and fails if there is any. `config` is the loaded configuration
/// or why it could not be loaded: its problems are listed like any other. With `json`, prints
/// `{"ok": bool, "problems": [{"file", "line", "field", "message"}…]}` instead.
pub fn run(config: Result<Config, CliError>, json: bool) -> Result<(), CliError> {
    let config = match config {
        Ok(config) => config,
        Err(CliError::Config(e)) => {
            let problems: Vec<serde_json::Value> =
                e.problems().iter().map(|p| p.to_json()).collect();
            if json {
                print_json(&problems);
            } else {
                for p in e.problems() {
                    println!("{p}");
                }
            }
            return Err(CliError::Problems(problems.len()));
        }
        Err(other) => return Err(other),
    };
    match Assets::load(&config) {
        Ok(_) if json => {
            print_json(&[]);
            Ok(())
        }
        Ok(assets) => {
            println!("configuration: ok");
            println!(
                "dialplans: {} ok ({})",
                assets.dialplans.len(),
                assets
                    .dialplans
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!(
                "prompts: {} recordings in 8 languages: ok",
                assets.prompts.len()
            );
            Ok(())
        }
        Err(problems) => {
            if json {
                let list: Vec<serde_json::Value> = problems
                    .0
                    .iter()
                    .map(|p| asset_problem(p.as_str()))
                    .collect();
                print_json(&list);
            } else {
                for p in &problems.0 {
                    println!("{p}");
                }
            }
            Err(CliError::Problems(problems.0.len()))
        }
    }
}

fn print_json(problems: &[serde_json::Value]) {
    let doc = serde_json::json!({ "ok": problems.is_empty(), "problems": problems });
    println!("{doc}");
}

/// A dialplan or prompt problem (`FILE:LINE: message` or `FILE: message`) as JSON.
fn asset_problem(text: &str) -> serde_json::Value {
    let (place, message) = text.split_once(": ").unwrap_or(("", text));
    let (file, line) = match place.rsplit_once(':') {
        Some((file, line)) if line.parse::<usize>().is_ok() => {
            (file, line.parse::<usize>().unwrap_or(0))
        }
        _ => (place, 0),
    };
    serde_json::json!({ "file": file, "line": line, "field": null, "message": message })
}
