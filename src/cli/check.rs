//! `carecall check`: validate configuration, dialplans and prompts, naming every problem.

use carecall::config::Config;
use carecall::runtime::Assets;

use super::CliError;

/// Prints every problem found and fails if there is any. (A configuration error has already
/// failed earlier, with its file, line and field.)
pub fn run(config: Config) -> Result<(), CliError> {
    match Assets::load(&config) {
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
            for p in &problems.0 {
                println!("{p}");
            }
            Err(CliError::Problems(problems.0.len()))
        }
    }
}
