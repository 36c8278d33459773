//! Rebuild when a migration changes (`sqlx::migrate!` embeds them at compile time), and
//! record the git revision for `carecall_build_info` (`unknown` outside a git checkout).
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // HEAD, and the branch it points at (a worktree's HEAD lives outside `.git/`).
    let head = git(&["rev-parse", "--git-path", "HEAD"]);
    let branch = git(&["rev-parse", "--symbolic-full-name", "HEAD"])
        .and_then(|r| git(&["rev-parse", "--git-path", &r]));
    for path in [head, branch].into_iter().flatten() {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let revision = git(&["rev-parse", "--short", "HEAD"])
        .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CARECALL_GIT_REVISION={revision}");
}

/// `git ARGS…`'s first line of output, if git runs and succeeds.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().next()?.trim().to_owned();
    (out.status.success() && !line.is_empty()).then_some(line)
}
