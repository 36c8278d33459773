//! `carecall demo` in the browser test: started twice on a fresh store, its printed login
//! works in Chromium (`tests/browser/demo.mjs`), a Health Call made to it from SIPp is on
//! today's list, and a change staff made survives the restart.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{common, common_api, wait_for, write_config};

/// `carecall demo` on a fresh store prints a login that works in Chromium and shows the demo
/// patients; after a restart ("kept" the store), a change made on the page is still there.
pub(super) fn demo_first_login_survives_a_restart(root: &Path, dir: &Path, shots: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let (config, _, http, sip) = write_config(dir, root);
    for (run, mode) in [(1, "first"), (2, "again")] {
        let log_path = dir.join(format!("demo-{run}.log"));
        let mut demo = Command::new(env!("CARGO_BIN_EXE_carecall"))
            .args(["demo", "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let stdout = demo.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let login = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                break None;
            };
            printed.push(line.clone());
            if let Some(login) = demo_login(&line) {
                break Some(login);
            }
        };
        let ready = wait_for(&log_path, "carecall ready", Duration::from_secs(30));
        // Issue 11: a Health Call made today to the demo, as it prints, is on today's list.
        let called = match (&login, run == 1 && ready) {
            (Some((user, pass)), true) => Some(demo_call_listed(dir, sip, http, user, pass)),
            _ => None,
        };
        let out = login.filter(|_| ready).map(|(user, pass)| {
            Command::new("node")
                .arg(root.join("tests/browser/demo.mjs"))
                .arg(format!("http://127.0.0.1:{http}"))
                .args([&user, &pass])
                .arg(shots)
                .arg(mode)
                .output()
                .expect("node runs")
        });
        let _ = demo.kill();
        let _ = demo.wait();
        printed.extend(rx.try_iter());
        let printed = printed.join("\n");
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let Some(out) = out else {
            panic!("demo run {run}: no login line or not ready:\n{printed}\n{log}");
        };
        if let Some(Err(why)) = called {
            panic!("demo run {run}: {why}\n{log}");
        }
        assert!(
            printed.contains(&format!("Staff page: http://127.0.0.1:{http}/staff")),
            "the demo prints the staff page: {printed}"
        );
        assert!(
            printed.contains("(fictional demo account, demo only"),
            "stated as fictional: {printed}"
        );
        let kept = printed.contains("kept them");
        assert_eq!(
            kept,
            run == 2,
            "imported only into an empty store: {printed}"
        );
        assert!(
            out.status.success(),
            "demo browser run {run} failed:\n{}\n{}\n{printed}\n{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{}", String::from_utf8_lossy(&out.stdout));
    }
    for name in ["20-demo-login", "21-demo-restarted"] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap_or_default();
        assert!(png.starts_with(b"\x89PNG"), "screenshot {name}.png written");
    }
}

/// A Health Call from SIPp to the demo on `sip` as demo patient 12345678 (birthday 0415): its
/// report must be on today's list of the staff API on `http` (the demo's observation periods
/// cover today), complete and not marked outside the period.
fn demo_call_listed(dir: &Path, sip: u16, http: u16, user: &str, pass: &str) -> Result<(), String> {
    let answers = [
        "365", "1", "#", "2", "2", "2", "2", "2", "2", "2", "2", "2", "2",
    ];
    let schedule = common::schedule("1", "12345678", "0415", &answers);
    let target = std::net::SocketAddr::from(([127, 0, 0, 1], sip));
    common::rt().block_on(async {
        let limit = Duration::from_secs(120);
        let (ok, out) =
            common::health_call_rfc4733(target, dir, "demo-call", &schedule, 90_000, limit).await;
        if !ok {
            return Err(format!("the demo call failed:\n{out}"));
        }
        let api = common_api::Api::new(std::net::SocketAddr::from(([127, 0, 0, 1], http)));
        let token = api.token(user, pass).await;
        let today = api.get("/api/v1/reports/today", &token).await.json();
        let row = today["patients"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["hersys_id"] == "12345678"));
        match row {
            Some(r) if r["reported"] == true && r["outside_period"] == false => Ok(()),
            _ => Err(format!(
                "the demo call's report is not on today's list: {today}"
            )),
        }
    })
}

/// The `USER`, `PASS` of a line `… demo login: USER / PASS (…`.
fn demo_login(line: &str) -> Option<(String, String)> {
    let rest = line.split_once("demo login: ")?.1;
    let (user, rest) = rest.split_once(" / ")?;
    let pass = rest.split_once(" (")?.0;
    Some((user.to_string(), pass.to_string()))
}
