//! A TCP relay to PostgreSQL owned by a test: it can cut every connection and refuse new ones
//! (a database outage as the engine sees it), and let them through again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The host and port of a `postgres://user@host:port/db…` URL.
pub fn pg_address(url: &str) -> SocketAddr {
    let after = url.split_once('@').map_or(url, |(_, rest)| rest);
    let hostport = after.split(['/', '?']).next().unwrap_or(after);
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport
        .parse()
        .unwrap_or_else(|e| panic!("{hostport}: {e}"))
}

/// A TCP relay to PostgreSQL that can cut every connection and refuse new ones.
pub struct Relay {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    /// Milliseconds each chunk from the server waits before it is passed on (0: none).
    delay_ms: Arc<AtomicU64>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    /// A relay to the server of `url`, and `url` rewritten to go through it.
    pub async fn for_url(url: &str) -> (Relay, String) {
        let upstream = pg_address(url);
        let relay = Relay::start(upstream).await;
        let via = url.replacen(&upstream.to_string(), &relay.addr.to_string(), 1);
        (relay, via)
    }

    pub async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (o, l, d) = (open.clone(), links.clone(), delay_ms.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let delay = Duration::from_millis(d.load(Ordering::SeqCst));
                let link = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if delay.is_zero() {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    } else {
                        slow_link(client, server, delay).await;
                    }
                });
                l.lock().unwrap().push(link);
            }
        });
        Relay {
            addr,
            open,
            delay_ms,
            links,
        }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.delay_ms.store(0, Ordering::SeqCst);
        self.open.store(true, Ordering::SeqCst);
    }

    /// Lets new connections through again, each of the server's answers held back by
    /// `delay` (a database slow to answer).
    pub fn restore_slowly(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::SeqCst);
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Relays `client` and `server`, each chunk from the server passed on `delay` late.
async fn slow_link(client: TcpStream, server: TcpStream, delay: Duration) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let up = tokio::io::copy(&mut client_rx, &mut server_tx);
    let down = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match server_rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            tokio::time::sleep(delay).await;
            if client_tx.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = up => {}
        () = down => {}
    }
}
