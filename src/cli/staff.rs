//! `carecall staff add`: creates a staff account (the first admin, typically). The password
//! comes from `CARECALL_STAFF_PASSWORD` or the first line of standard input, never from the
//! command line (where `ps` and shell history would show it).

use std::io::BufRead;

use carecall::config::Config;
use carecall::http::secret::hash_password;
use carecall::store::{NewStaff, Role};

use super::{block_on, open_existing_store, CliError};

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "CARECALL_STAFF_PASSWORD";

/// Creates the account in `centre`, which must exist unless `create_centre` is set (then it
/// is created); a centre not found is [`CliError::NoCentre`], naming the existing ones.
pub fn add(
    config: Config,
    username: String,
    role: String,
    centre: Option<String>,
    create_centre: bool,
) -> Result<(), CliError> {
    let role = Role::from_label(&role).ok_or(CliError::Usage("--role must be staff or admin"))?;
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("password (one line on standard input):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let password_hash = hash_password(&password).map_err(|e| CliError::Staff(e.to_string()))?;
    block_on(async {
        let store = open_existing_store(&config).await?;
        let centre = match centre.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(match store.centre_named(name).await? {
                Some(c) => c.id,
                None if create_centre => {
                    let centre = store
                        .create_centre(name)
                        .await
                        .map_err(|e| CliError::Staff(e.to_string()))?;
                    println!("created health centre {}", centre.name);
                    centre.id
                }
                None => {
                    let known: Vec<String> =
                        store.centres().await?.into_iter().map(|c| c.name).collect();
                    return Err(CliError::NoCentre {
                        name: name.to_owned(),
                        known,
                    });
                }
            }),
        };
        let new = NewStaff {
            username: username.trim().to_string(),
            password_hash,
            role,
            centre,
        };
        let account = store
            .create_staff(&new, carecall::clock::wall_now())
            .await
            .map_err(|e| CliError::Staff(e.to_string()))?;
        println!(
            "created {} account {} (id {})",
            account.role.label(),
            account.username,
            account.id.0
        );
        Ok(())
    })
}
