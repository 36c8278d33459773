//! The torture test's engines: `carecall serve` started on free ports, and the check that one
//! is still alive and holds no call.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::process::{carecall_split, create_store, temp_dir, Serve};
use crate::common::{free_port, root, rt};
use crate::common_api::{Api, Cred};
use crate::peer::{status, Peer, Transport};
use crate::QUIET;

pub struct Node {
    pub serve: Serve,
    pub config: PathBuf,
    pub sip: u16,
    pub api: Api,
}

/// An engine for one transport's run; `rtp` is its RTP port range.
pub fn start(name: &str, rtp: (u16, u16)) -> Node {
    let dir = temp_dir("torture", name);
    let (sip, http) = (free_port(), free_port());
    let config = dir.join("carecall.toml");
    let root = root();
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:{sip}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n[rtp]\nport_min = {rtp_min}\nport_max = {rtp_max}\nmedia_timeout_ms = 3000\n[calls]\nautomatic_calls = false\nnode_id = \"torture\"\n[store]\nurl = \"sqlite://{db}\"\n[prompts]\ndir = \"{r}/prompts\"\n[dialplans]\ndir = \"{r}/dialplans\"\n",
        db = dir.join("carecall.db").display(),
        r = root.display(),
        rtp_min = rtp.0,
        rtp_max = rtp.1,
    );
    std::fs::write(&config, text).unwrap();
    create_store(&config);
    let serve = Serve::start(&config, dir.join("engine.log"), "info");
    let api = Api::new(SocketAddr::from(([127, 0, 0, 1], http)));
    Node {
        serve,
        config,
        sip,
        api,
    }
}

fn options(target: SocketAddr) -> Option<u16> {
    let mut peer = Peer::open(Transport::Udp, target);
    let port = peer.local_port();
    peer.send(format!("OPTIONS sip:carecall@{target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKtortureopt{port}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p{port}\r\nTo: <sip:carecall@{target}>\r\nCall-ID: torture-options-{port}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").as_bytes());
    peer.recv(QUIET).and_then(|m| status(&m))
}

/// The engine of `node` lives on with its first pid, answers OPTIONS, and holds no call: the
/// live list empties and the gauge returns to zero.
pub fn assert_alive_and_idle(node: &mut Node, pid: u32, table: &str) {
    let target = SocketAddr::from(([127, 0, 0, 1], node.sip));
    assert!(
        node.serve.child.try_wait().unwrap().is_none(),
        "the engine died: {}",
        node.serve.log_text()
    );
    assert_eq!(node.serve.child.id(), pid);
    assert_eq!(options(target), Some(200), "OPTIONS after the suite");
    rt().block_on(async {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let config = node.config.clone();
            let (ok, out, err) = tokio::task::spawn_blocking(move || {
                carecall_split(&config, &["calls", "list", "--json"])
            })
            .await
            .unwrap();
            assert!(ok, "calls list: {err}");
            let list: serde_json::Value = serde_json::from_str(&out).unwrap();
            let metrics = node.api.get("/metrics", &Cred::None).await.text();
            let active: Option<f64> = metrics
                .lines()
                .filter(|l| l.starts_with("carecall_calls_active{"))
                .map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
                .sum();
            let empty = list.as_array().is_some_and(|a| a.is_empty())
                || list
                    .get("calls")
                    .and_then(|c| c.as_array())
                    .is_some_and(|a| a.is_empty());
            if empty && active == Some(0.0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "calls left behind: {out}\nactive: {active:?}\n{table}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
}
