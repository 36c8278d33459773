//! `carecall patients import FILE.csv` and `carecall patients unlock HERSYS_ID`.

use std::path::Path;

use carecall::config::Config;
use carecall::pii::Redacted;
use carecall::store::ImportError;

use super::{block_on, open_existing_store, CliError};

/// Upserts the patients of a CSV file in one transaction. Every bad field of every bad row is
/// reported with its line and field (on standard error, or as JSON with `json`), and nothing
/// from the file is written. With `json`, prints `{"ok", "file", "inserted", "updated"}` or
/// `{"ok": false, "file", "problems": [{"line", "field", "message"}…]}`.
pub fn import(config: Config, file: &Path, json: bool) -> Result<(), CliError> {
    let reader =
        std::fs::File::open(file).map_err(|e| CliError::File(file.display().to_string(), e))?;
    let name = file.display().to_string();
    block_on(async {
        let store = open_existing_store(&config).await?;
        let result = store
            .import_patients_csv(std::io::BufReader::new(reader))
            .await;
        match result {
            Ok(summary) if json => {
                let doc = serde_json::json!({
                    "ok": true, "file": name,
                    "inserted": summary.inserted, "updated": summary.updated,
                });
                println!("{doc}");
                Ok(())
            }
            Ok(summary) => {
                println!(
                    "{name}: {} inserted, {} updated",
                    summary.inserted, summary.updated
                );
                Ok(())
            }
            Err(ImportError::Store(e)) => Err(CliError::Store(e)),
            Err(e) => {
                let problems = e.each();
                if json {
                    let list: Vec<serde_json::Value> = problems
                        .iter()
                        .map(|p| {
                            serde_json::json!({
                                "line": p.line(), "field": p.field(), "message": p.to_string(),
                            })
                        })
                        .collect();
                    let doc = serde_json::json!({ "ok": false, "file": name, "problems": list });
                    println!("{doc}");
                } else {
                    for p in &problems {
                        eprintln!("{name}: {p}");
                    }
                    eprintln!("{name}: nothing imported");
                }
                Err(CliError::Problems(problems.len()))
            }
        }
    })
}

/// Lifts a Health Call lock on a HER-SYS ID.
pub fn unlock(config: Config, hersys_id: String) -> Result<(), CliError> {
    let id = Redacted::new(hersys_id);
    block_on(async {
        let store = open_existing_store(&config).await?;
        if store.unlock(&id, carecall::clock::wall_now()).await? {
            println!("unlocked");
            Ok(())
        } else {
            Err(CliError::NotFound("no locked patient with that HER-SYS ID"))
        }
    })
}
