//! Loading and checking configuration files.
use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/carecall/carecall.toml"))
}

#[test]
fn defaults_match_the_spec() {
    let c = Config::defaults();
    assert_eq!(c.sip.listen, "127.0.0.1:5060".parse().unwrap());
    assert_eq!(c.http_listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.store_url, "sqlite://carecall.db");
    assert_eq!(c.rtp.media_timeout, Duration::from_secs(30));
    assert!(c.trunk_for_source("127.0.0.1".parse().unwrap()).is_some());
    assert!(c.trunk_for_source("192.0.2.1".parse().unwrap()).is_none());
}

#[test]
fn the_sample_configuration_parses_to_the_defaults() {
    let sample = include_str!("../../carecall.sample.toml");
    let c = parse(sample).unwrap();
    let d = Config::defaults();
    assert_eq!(format!("{:?}", c.sip), format!("{:?}", d.sip));
    assert_eq!(format!("{:?}", c.rtp), format!("{:?}", d.rtp));
    assert_eq!(format!("{:?}", c.calls), format!("{:?}", d.calls));
    assert_eq!(c.store_url, d.store_url);
    assert_eq!(c.http_listen, d.http_listen);
    assert_eq!(format!("{:?}", c.schedule), format!("{:?}", d.schedule));
    assert_eq!(c.trunks.len(), 1);
    assert_eq!(format!("{:?}", c.alert), format!("{:?}", d.alert));
    // The commented-out webhook URL is valid.
    let alert = sample
        .lines()
        .skip_while(|l| !l.starts_with("[alert]"))
        .take_while(|l| !l.starts_with("[prompts]"))
        .map(|l| {
            l.strip_prefix("# webhook_url")
                .map_or(l.to_owned(), |r| format!("webhook_url{r}"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = parse(&alert).unwrap();
    assert!(c.alert.webhook.is_some(), "{alert}");
    // Every commented-out trunk key is a real key.
    let trunk: String = sample
        .lines()
        .skip_while(|l| !l.starts_with("# [[trunk]]"))
        .map(|l| l.trim_start_matches("# ").trim_start_matches('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let trunk = trunk.replace(
        "password_env = \"CARECALL_TRUNK_A_PASSWORD\"",
        "password = \"x\"",
    );
    parse(&trunk).unwrap();
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let err = parse("[sip]\nlisten = \"127.0.0.1:5060\"\nlistne = \"x\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("carecall.toml"), "{msg}");
    assert!(msg.contains(":3: [sip] listne: unknown key"), "{msg}");
    assert!(msg.contains("listne"), "{msg}");
}

#[test]
fn semantic_errors_name_file_line_and_field() {
    let text = "[rtp]\nport_min = 30000\nport_max = 20000\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(
        msg.starts_with("/etc/carecall/carecall.toml:2: [rtp] port_min"),
        "{msg}"
    );

    let text = "[[trunk]]\nname = \"a\"\nproxy = \"127.0.0.1:5070\"\n\n[[trunk]]\nname = \"a\"\nproxy = \"127.0.0.1:5071\"\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(msg.contains(":6: [[trunk]] #2 name"), "{msg}");
    assert!(msg.contains("duplicate"), "{msg}");
}

#[test]
fn the_journal_has_defaults_and_its_errors_name_line_and_field() {
    let c = Config::defaults();
    assert_eq!(
        c.journal.path,
        std::path::PathBuf::from("carecall.db.journal")
    );
    let pg = parse("[store]\nurl = \"postgres://u@h/db\"\n").unwrap();
    assert_eq!(
        pg.journal.path,
        std::path::PathBuf::from("carecall.journal")
    );
    let abs = parse("[store]\nurl = \"sqlite:///var/lib/carecall/c.db?mode=rwc\"\n").unwrap();
    assert_eq!(
        abs.journal.path,
        std::path::PathBuf::from("/var/lib/carecall/c.db.journal")
    );
    assert_eq!(c.journal.write_timeout, Duration::from_secs(2));
    assert_eq!(c.journal.retry, Duration::from_secs(5));
    let text = "[store]\nurl = \"sqlite://x.db\"\nwrite_timeout_ms = 0\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(msg.contains(":3: [store] write_timeout_ms"), "{msg}");
    let c = parse("[store]\njournal = \"/var/lib/carecall/j\"\njournal_retry_ms = 250\n").unwrap();
    assert_eq!(
        c.journal.path,
        std::path::PathBuf::from("/var/lib/carecall/j")
    );
    assert_eq!(c.journal.retry, Duration::from_millis(250));
}

#[test]
fn schedule_errors_name_line_and_field() {
    let text = "[store]\nurl = \"sqlite://x.db\"\n[schedule]\ntime_zone = \"Asia/Tokyo\"\nslots = [\"09:00\", \"25:00\"]\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(msg.contains(":5: [schedule] slots[1]"), "{msg}");
    let text = "[schedule]\nretry_offsets_minutes = [0, 40, 20]\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(
        msg.contains(":2: [schedule] retry_offsets_minutes[2]"),
        "{msg}"
    );
    let text = "[schedule]\nquiet_hours = { start = \"7:00\", end = \"08:00\" }\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(msg.contains(":2: [schedule] quiet_hours.start"), "{msg}");
    let text = "[schedule]\nwindow_minutes = 60\nminute_seconds = 2\n";
    let c = parse(text).unwrap();
    assert_eq!(c.schedule.window(), Duration::from_secs(120));
    assert_eq!(c.schedule.attempt_offsets()[2], Duration::from_secs(80));
    let msg = parse("[calls]\nattempt_lease_s = 1\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":2: [calls] attempt_lease_s"), "{msg}");
}

#[test]
fn bad_address_is_a_syntax_error_naming_the_key() {
    let msg = parse("[sip]\nlisten = \"nowhere\"\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("listen"), "{msg}");
    assert!(msg.contains(":2: [sip] listen"), "{msg}");
}

#[test]
fn flag_thresholds_and_lockout_reach_the_store_options() {
    let c = parse("[flags]\nfever_celsius = 38.0\nspo2_at_or_below = 90\n[health_call]\nlock_after_failed_calls = 3\n").unwrap();
    assert_eq!(c.store_options.flag_rules.fever_tenths, 380);
    assert_eq!(c.store_options.flag_rules.spo2_at_or_below, 90);
    assert_eq!(
        c.store_options.flag_rules.spo2_with_breathlessness_below,
        96
    );
    assert_eq!(c.store_options.lock_after_failed_calls, 3);
    let msg = parse("[flags]\nfever_celsius = 45.0\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":2: [flags] fever_celsius"), "{msg}");
}

#[test]
fn alert_section_is_checked_at_load() {
    let d = Config::defaults().alert;
    assert!(
        d.webhook.is_none(),
        "no alerts unless a webhook is configured"
    );
    assert_eq!((d.timeout, d.max_attempts), (Duration::from_secs(5), 12));
    let c = parse("[alert]\nwebhook_url = \"http://127.0.0.1:9000/hook\"\ntimeout_ms = 800\nmax_attempts = 3\nfirst_retry_ms = 50\n").unwrap();
    let a = c.alert;
    assert_eq!(a.webhook.unwrap().to_string(), "http://127.0.0.1:9000/hook");
    assert_eq!((a.timeout, a.max_attempts), (Duration::from_millis(800), 3));
    assert_eq!(a.first_retry, Duration::from_millis(50));
    let msg = parse("[alert]\n\nwebhook_url = \"https://pager.example/\"\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":3: [alert] webhook_url"), "{msg}");
    assert!(msg.contains("https"), "{msg}");
    let msg = parse("[alert]\nmax_attempts = 0\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":2: [alert] max_attempts"), "{msg}");
    let msg = parse("[alert]\ntimeout_ms = 0\n").unwrap_err().to_string();
    assert!(msg.contains(":2: [alert] timeout_ms"), "{msg}");
    let msg = parse("[alert]\ntoken_env = \"CARECALL_TEST_ALERT_TOKEN_UNSET\"\n")
        .unwrap_err()
        .to_string();
    assert!(msg.contains(":2: [alert] token_env"), "{msg}");
    assert!(msg.contains("CARECALL_TEST_ALERT_TOKEN_UNSET"), "{msg}");
    let path = std::env::var("PATH").unwrap();
    let c = parse("[alert]\ntoken_env = \"PATH\"\n").unwrap();
    assert_eq!(c.alert.token.as_ref().map(|t| t.expose()), Some(&path));
    assert!(
        !format!("{:?}", c.alert).contains("/usr"),
        "the token is not printed"
    );
    let msg = parse("[alert]\nwebhook = \"x\"\n").unwrap_err().to_string();
    assert!(msg.contains(":2: [alert] webhook: unknown key"), "{msg}");
}

#[test]
fn networks_match_addresses() {
    let net = IpNet::parse("10.1.0.0/16").unwrap();
    assert!(net.contains("10.1.200.3".parse().unwrap()));
    assert!(!net.contains("10.2.0.1".parse().unwrap()));
    assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
    assert!(IpNet::parse("0.0.0.0/0")
        .unwrap()
        .contains("8.8.8.8".parse().unwrap()));
    assert!(IpNet::parse("::1")
        .unwrap()
        .contains("::1".parse().unwrap()));
    assert!(IpNet::parse("10.0.0.0/33").is_none());
    assert!(IpNet::parse("example.org").is_none());
}

#[test]
fn trunk_password_may_come_from_the_environment() {
    let text = "[[trunk]]\nname = \"t\"\nproxy = \"127.0.0.1:5070\"\nusername = \"u\"\npassword_env = \"CARECALL_TEST_TRUNK_PW_UNSET\"\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(msg.contains("[[trunk]] #1 password_env"), "{msg}");
    assert!(msg.contains("CARECALL_TEST_TRUNK_PW_UNSET"), "{msg}");
}

#[test]
fn every_problem_of_a_file_is_named_in_one_run() {
    let text = "top = 1\n[sip]\nlistn = \"x\"\n[calls]\nmax_concurrent = 0\nring_timeout_ms = \"long\"\n[rtp]\nport_mni = 1\nmedia_timeout_ms = 10\nworker_nice = -30\n[sipp]\n[[trunk]]\nname = \"a\"\nchanels = 2\n";
    let Err(ConfigError::Invalid(problems)) = parse(text) else {
        panic!("refused")
    };
    let got: Vec<(usize, String, &str)> = problems
        .0
        .iter()
        .map(|p| (p.line, p.field(), p.message.as_str()))
        .collect();
    let want = [
        (1, "top", "unknown key"),
        (3, "sip.listn", "unknown key"),
        (5, "calls.max_concurrent", "expected a positive integer"),
        (
            6,
            "calls.ring_timeout_ms",
            "expected a non-negative integer, found a string",
        ),
        (8, "rtp.port_mni", "unknown key"),
        (9, "rtp.media_timeout_ms", "must be at least 1000"),
        (10, "rtp.worker_nice", "must be a nice value from -20 to 19"),
        (11, "sipp", "unknown section"),
        (
            12,
            "trunk[0].proxy",
            "required: the outbound proxy as host:port",
        ),
        (14, "trunk[0].chanels", "unknown key"),
    ];
    let want: Vec<(usize, String, &str)> = want
        .iter()
        .map(|(l, f, m)| (*l, f.to_string(), *m))
        .collect();
    assert_eq!(got, want);
    let text = problems.to_string();
    assert!(
        text.contains("/etc/carecall/carecall.toml:3: [sip] listn: unknown key\n"),
        "{text}"
    );
    assert!(
        text.contains(":14: [[trunk]] #1 chanels: unknown key"),
        "{text}"
    );
}

#[test]
fn the_database_password_comes_from_the_environment_or_a_file() {
    let c = parse("[store]\nurl = \"postgres://carecall@db.example:5432/carecall?sslmode=disable\"\npassword_env = \"CARECALL_TEST_DB_PW_SET\"\n");
    // Set by no one: an error naming the variable.
    let msg = c.unwrap_err().to_string();
    assert!(
        msg.contains(
            ":3: [store] password_env: environment variable CARECALL_TEST_DB_PW_SET is not set"
        ),
        "{msg}"
    );
    let dir = std::env::temp_dir().join(format!("carecall-config-pw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("db-password");
    std::fs::write(&file, "s3cret/p@ss word\n").unwrap();
    let text = format!(
        "[store]\nurl = \"postgres://carecall@db.example:5432/carecall?sslmode=disable\"\npassword_file = \"{}\"\n",
        file.display()
    );
    let c = parse(&text).unwrap();
    assert_eq!(
        c.store_connect_url().expose(),
        "postgres://carecall:s3cret%2Fp%40ss%20word@db.example:5432/carecall?sslmode=disable"
    );
    assert!(
        !format!("{c:?}").contains("s3cret"),
        "the password is not printed"
    );
    assert_eq!(
        c.store_url,
        "postgres://carecall@db.example:5432/carecall?sslmode=disable"
    );
    // PATH is always set: a value from the environment reaches the URL too.
    let path = std::env::var("PATH").unwrap();
    let c = parse("[store]\nurl = \"postgresql://h/db\"\npassword_env = \"PATH\"\n").unwrap();
    assert!(c
        .store_connect_url()
        .expose()
        .starts_with("postgresql://postgres:"));
    assert!(c.store_connect_url().expose().ends_with("@h/db"));
    assert!(c.store_connect_url().expose().len() > path.len());
    let msg = parse("[store]\npassword_env = \"PATH\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("[store] password_env: a password is only used with postgres"),
        "{msg}"
    );
    let missing = dir.join("absent");
    let msg = parse(&format!(
        "[store]\nurl = \"postgres://h/db\"\npassword_file = \"{}\"\n",
        missing.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains(":3: [store] password_file:") && msg.contains("cannot read"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_call_runtime_has_one_thread_unless_told_and_rtp_ports_stay_below_the_ephemeral_range() {
    let c = parse("").unwrap();
    assert_eq!(c.calls.threads, 1);
    assert!(c.rtp.port_max < 32768, "{}", c.rtp.port_max);
    assert_eq!(parse("[calls]\nthreads = 3\n").unwrap().calls.threads, 3);
    assert!(parse("[calls]\nthreads = 0\n").unwrap().calls.threads >= 1);
}

#[test]
fn an_id_is_locked_after_failures_within_two_weeks_by_default() {
    // Longer than an observation period: at most 13 guesses of a birthday per ID, not 12 a day.
    let c = parse("").unwrap();
    assert_eq!(
        c.store_options.lock_window,
        Duration::from_secs(14 * 24 * 3600)
    );
    assert_eq!(c.store_options.lock_after_failed_calls, 5);
}
