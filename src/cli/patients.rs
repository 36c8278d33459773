//! `carecall patients import FILE.csv` and `carecall patients unlock HERSYS_ID`.

use std::path::Path;

use carecall::config::Config;
use carecall::pii::Redacted;

use super::{block_on, open_existing_store, CliError};

/// Upserts the patients of a CSV file in one transaction: a bad row is reported by line and
/// field and nothing from the file is written.
pub fn import(config: Config, file: &Path) -> Result<(), CliError> {
    let reader =
        std::fs::File::open(file).map_err(|e| CliError::File(file.display().to_string(), e))?;
    block_on(async {
        let store = open_existing_store(&config).await?;
        let summary = store
            .import_patients_csv(std::io::BufReader::new(reader))
            .await
            .map_err(|e| CliError::Import(file.display().to_string(), e))?;
        println!(
            "{}: {} inserted, {} updated",
            file.display(),
            summary.inserted,
            summary.updated
        );
        Ok(())
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
