//! The real `carecall` binary as a child process: commands, and `carecall serve` waited on
//! until ready and killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_carecall")
}

/// A fresh temporary folder for one test.
pub fn temp_dir(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("carecall-{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `carecall ARGS… --config CONFIG`; (success, stdout + stderr).
pub fn carecall(config: &Path, args: &[&str]) -> (bool, String) {
    let (ok, stdout, stderr) = carecall_split(config, args);
    (ok, format!("{stdout}{stderr}"))
}

/// Runs `carecall ARGS… --config CONFIG`; (success, stdout, stderr).
pub fn carecall_split(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("carecall runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates the report store of CONFIG (with its schema) as `carecall serve` does at start,
/// so that commands which need an existing store (`patients import`, `staff add`…) can run
/// before the engine is started. Idempotent.
pub fn create_store(config: &Path) {
    let config = carecall::config::Config::load(config).expect("the test configuration loads");
    // On a thread of its own: callers may be inside a tokio runtime.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let url = config.store_connect_url();
                let store = carecall::store::Store::open(url.expose())
                    .await
                    .expect("the store opens");
                store.close().await;
            })
    })
    .join()
    .expect("the store is created");
}

/// `carecall staff add --username USERNAME --role ROLE [--centre CENTRE --create-centre]
/// --config CONFIG` (after [`create_store`]), the password given on standard input as an
/// operator would type it; panics with the command's error on failure.
pub fn staff_add(config: &Path, username: &str, role: &str, centre: Option<&str>, password: &str) {
    use std::io::Write as _;
    create_store(config);
    let mut add = Command::new(bin());
    add.args(["staff", "add", "--username", username, "--role", role]);
    if let Some(centre) = centre {
        add.args(["--centre", centre, "--create-centre"]);
    }
    let mut add = add
        .arg("--config")
        .arg(config)
        .env_remove("CARECALL_STAFF_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carecall runs");
    let mut stdin = add.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    let out = add.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "staff add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `carecall serve`, killed on drop.
pub struct Serve {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `carecall serve --config CONFIG` with logs (at `rust_log`) to `log`, and waits
    /// until it says it is ready.
    pub fn start(config: &Path, log: PathBuf, rust_log: &str) -> Serve {
        Serve::start_within(config, log, rust_log, Duration::from_secs(30))
    }

    /// As [`Serve::start`], waiting up to `limit` for it to be ready (several engines
    /// starting at once on a small machine).
    pub fn start_within(config: &Path, log: PathBuf, rust_log: &str, limit: Duration) -> Serve {
        let serve = Serve::spawn(config, log, rust_log);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if serve.log_text().contains("carecall ready") {
                return serve;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("engine did not start: {}", serve.log_text());
    }

    /// Starts `carecall serve --config CONFIG` with logs to `log`, without waiting for it.
    pub fn spawn(config: &Path, log: PathBuf, rust_log: &str) -> Serve {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("carecall serve starts");
        Serve { child, log }
    }

    /// What it has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (asynchronously) until the log contains `needle`; panics with the log after
    /// `limit`.
    pub async fn wait_log(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in the log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The log without the values the engine makes up itself (timestamps, call record and SIP
    /// Call-IDs): what a check for personal data reads, so that a secret such as `365` is not
    /// found in a timestamp's microseconds or a random id.
    pub fn log_values(&self) -> String {
        self.log_text()
            .lines()
            .map(
                |line| match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(mut value) => {
                        strip_generated(&mut value);
                        value.to_string()
                    }
                    Err(_) => line.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Kills it at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes the generated fields of one log line (recursively: spans carry them too).
fn strip_generated(value: &mut serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        for key in ["timestamp", "record", "sip_call_id", "call_id"] {
            object.remove(key);
        }
        object.values_mut().for_each(strip_generated);
    }
}
