//! The local control socket (`[calls] control_socket`, like Asterisk's `asterisk.ctl`): a
//! Unix domain socket, mode 0600, through which `carecall calls list` and `carecall reload`
//! reach the running engine on the same machine.
//!
//! The protocol is one request line (`calls` or `reload`) answered by one JSON document,
//! after which the engine closes the connection.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// What a client asks the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRequest {
    /// This node's live calls ([`super::LiveList`] as JSON).
    Calls,
    /// Reload dialplans and prompts ([`super::ReloadReport`] as JSON).
    Reload,
}

impl ControlRequest {
    /// The request line.
    pub fn line(self) -> &'static str {
        match self {
            ControlRequest::Calls => "calls",
            ControlRequest::Reload => "reload",
        }
    }

    fn parse(line: &str) -> Option<ControlRequest> {
        match line.trim() {
            "calls" => Some(ControlRequest::Calls),
            "reload" => Some(ControlRequest::Reload),
            _ => None,
        }
    }
}

/// Answers a request with a JSON document. It may block (a reload decodes every prompt): it
/// runs on a blocking thread.
pub type ControlHandler = Arc<dyn Fn(ControlRequest) -> String + Send + Sync>;

/// The control socket could not be served or reached.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Another engine answers on the socket already.
    #[error("control socket {}: another carecall engine is running there", .0.display())]
    InUse(PathBuf),
    /// The socket could not be created (folder missing or not writable).
    #[error("cannot create control socket {}: {source}", path.display())]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No engine answers on the socket.
    #[error(
        "cannot reach a running carecall engine at {} ({source}); is `carecall serve` running \
         with this configuration?",
        path.display()
    )]
    Unreachable {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The engine did not answer in time, or the answer was cut short.
    #[error("control socket {}: no complete answer from the engine ({source})", path.display())]
    NoAnswer {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// A served control socket; the file is removed when this is dropped.
pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl ControlServer {
    /// Binds `path` (mode 0600) and answers requests with `handler` until dropped. A stale
    /// socket file left by a crashed engine is replaced; one a live engine answers on is an
    /// error. Must be called inside a tokio runtime.
    pub fn start(path: &Path, handler: ControlHandler) -> Result<ControlServer, ControlError> {
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(ControlError::InUse(path.to_owned()));
            }
            let _ = std::fs::remove_file(path);
        }
        let bind = |source| ControlError::Bind {
            path: path.to_owned(),
            source,
        };
        let listener = UnixListener::bind(path).map_err(bind)?;
        set_owner_only(path).map_err(bind)?;
        let task = tokio::spawn(accept(listener, handler));
        tracing::info!(socket = %path.display(), "control socket listening");
        Ok(ControlServer {
            path: path.to_owned(),
            task,
        })
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

async fn accept(listener: UnixListener, handler: ControlHandler) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, handler.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "control socket: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer(stream: UnixStream, handler: ControlHandler) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut read = BufReader::new(read.take(256));
    let got = tokio::time::timeout(Duration::from_secs(5), read.read_line(&mut line)).await;
    let Ok(Ok(_)) = got else { return };
    let body = match ControlRequest::parse(&line) {
        Some(request) => {
            tracing::info!(request = request.line(), "control request");
            match tokio::task::spawn_blocking(move || handler(request)).await {
                Ok(body) => body,
                Err(_) => r#"{"error":"the request failed inside the engine"}"#.to_owned(),
            }
        }
        None => r#"{"error":"unknown request (calls, reload)"}"#.to_owned(),
    };
    let _ = write.write_all(body.as_bytes()).await;
    let _ = write.write_all(b"\n").await;
    let _ = write.shutdown().await;
}

/// Sends `request` to the engine serving `path` and returns its JSON answer. Blocking; waits
/// up to `limit` for the answer (a reload takes as long as loading the prompts).
pub fn request(
    path: &Path,
    request: ControlRequest,
    limit: Duration,
) -> Result<String, ControlError> {
    let unreachable = |source| ControlError::Unreachable {
        path: path.to_owned(),
        source,
    };
    let no_answer = |source| ControlError::NoAnswer {
        path: path.to_owned(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(unreachable)?;
    stream.set_read_timeout(Some(limit)).map_err(no_answer)?;
    stream
        .write_all(format!("{}\n", request.line()).as_bytes())
        .map_err(no_answer)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(no_answer)?;
    if answer.trim().is_empty() {
        return Err(no_answer(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_beside_the_journal_by_default() {
        let parse = |text: &str| crate::config::Config::parse(text, Path::new("c.toml")).unwrap();
        let socket = |text: &str| parse(text).calls.control_socket;
        assert_eq!(socket(""), PathBuf::from("carecall.db.ctl"));
        let abs = "[store]\nurl = \"sqlite:///var/lib/carecall/c.db?mode=rwc\"\n";
        assert_eq!(socket(abs), PathBuf::from("/var/lib/carecall/c.db.ctl"));
        let pg = "[store]\nurl = \"postgres://u@h/db\"\n";
        assert_eq!(socket(pg), PathBuf::from("carecall.ctl"));
        let own = "[store]\nurl = \"postgres://u@h/db\"\njournal = \"/var/lib/n2/n2.journal\"\n";
        assert_eq!(socket(own), PathBuf::from("/var/lib/n2/n2.ctl"));
        let set = "[calls]\ncontrol_socket = \"/run/carecall/ctl\"\n";
        assert_eq!(socket(set), PathBuf::from("/run/carecall/ctl"));
    }

    #[test]
    fn requests_are_answered_on_an_owner_only_socket_removed_at_the_end() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("carecall-ctl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("carecall.db.ctl");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let handler: ControlHandler = Arc::new(|r| format!("{{\"asked\":\"{}\"}}", r.line()));
        let server = rt.block_on(async { ControlServer::start(&path, handler.clone()) });
        let server = server.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let answer = request(&path, ControlRequest::Reload, Duration::from_secs(5)).unwrap();
        assert_eq!(answer.trim(), r#"{"asked":"reload"}"#);
        let again = rt.block_on(async { ControlServer::start(&path, handler.clone()) });
        assert!(matches!(again, Err(ControlError::InUse(_))));
        drop(server);
        assert!(!path.exists(), "the socket file is removed");
        let err = request(&path, ControlRequest::Calls, Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("carecall.db.ctl"), "{err}");
        drop(rt);
    }
}
