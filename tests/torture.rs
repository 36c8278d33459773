//! SIP torture (RFC 4475 §3.1.1 and §3.1.2): every message of tests/fixtures/rfc4475, byte for
//! byte, sent over UDP and over TCP to the real `carecall serve`. Valid requests get a final
//! response (or, for an INVITE, a normal call that the test ends with ACK + BYE, or CANCEL);
//! valid responses (no transaction of ours) are dropped; invalid messages get 400, silence, or
//! the liberal answer RFC 4475 allows for that message. Afterwards the engine still answers
//! OPTIONS with the same pid, `carecall calls list --json` is empty and
//! `carecall_calls_active` is 0. The table message → response is printed (docs/reliability.md).
//!
//! Each transport has an engine of its own: the RFC's messages carry fixed branches and
//! Call-IDs, so the same INVITE sent again over TCP within 64·T1 (32 s) of its UDP twin is, by
//! RFC 3261 §17.2.3, a retransmission of that answered INVITE (RFC 6026 Accepted state): it
//! gets the 200 again and no new call, and the BYE that follows finds the dialog the UDP BYE
//! already ended (481). [`a_replayed_invite_is_a_retransmission_not_a_new_call`] pins that down.

mod common;
mod common_api;
mod common_store;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::process::{carecall_split, create_store, temp_dir, Serve};
use common::{free_port, root, rt};
use common_api::{Api, Cred};

/// How long a silent peer is waited for, and how long an INVITE may take to its final answer.
const QUIET: Duration = Duration::from_millis(1200);
const FINAL: Duration = Duration::from_secs(4);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Transport {
    Udp,
    Tcp,
}

/// One message of the suite.
struct Case {
    name: String,
    valid: bool,
    bytes: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let dir = root().join("tests/fixtures/rfc4475");
    let index = std::fs::read_to_string(dir.join("INDEX")).expect("INDEX");
    index
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let name = parts[1].to_string();
            let bytes = std::fs::read(dir.join(format!("{name}.dat"))).expect("fixture");
            Case {
                name,
                valid: parts[2] == "valid",
                bytes,
            }
        })
        .collect()
}

/// What the engine did with one message over one transport.
#[derive(Debug, Clone)]
struct Outcome {
    /// Status codes received, in order (provisional ones included).
    codes: Vec<u16>,
    /// For an answered INVITE: how the test ended the call and what the BYE/CANCEL got.
    ended: Option<String>,
}

impl Outcome {
    fn final_code(&self) -> Option<u16> {
        self.codes.iter().copied().find(|c| *c >= 200)
    }
    fn describe(&self) -> String {
        if self.codes.is_empty() {
            return "silence".into();
        }
        let codes: Vec<String> = self.codes.iter().map(|c| c.to_string()).collect();
        match &self.ended {
            Some(e) => format!("{} ({e})", codes.join(", ")),
            None => codes.join(", "),
        }
    }
}

/// A datagram or stream peer that reads whole SIP responses.
enum Peer {
    Udp(UdpSocket, SocketAddr),
    Tcp(TcpStream, Vec<u8>),
}

impl Peer {
    fn open(t: Transport, target: SocketAddr) -> Peer {
        match t {
            Transport::Udp => {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                Peer::Udp(s, target)
            }
            Transport::Tcp => Peer::Tcp(TcpStream::connect(target).unwrap(), Vec::new()),
        }
    }
    fn local_port(&self) -> u16 {
        match self {
            Peer::Udp(s, _) => s.local_addr().unwrap().port(),
            Peer::Tcp(s, _) => s.local_addr().unwrap().port(),
        }
    }
    fn send(&mut self, bytes: &[u8]) {
        match self {
            Peer::Udp(s, to) => {
                s.send_to(bytes, *to).unwrap();
            }
            Peer::Tcp(s, _) => {
                let _ = s.write_all(bytes);
            }
        }
    }
    /// The next whole message within `wait`, as text.
    fn recv(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        match self {
            Peer::Udp(s, _) => {
                let mut buf = vec![0u8; 65536];
                s.set_read_timeout(Some(wait)).unwrap();
                let n = s.recv(&mut buf).ok()?;
                Some(String::from_utf8_lossy(&buf[..n]).into_owned())
            }
            Peer::Tcp(s, pending) => loop {
                if let Some(msg) = take_stream_message(pending) {
                    return Some(msg);
                }
                let left = deadline.checked_duration_since(Instant::now())?;
                s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                    .unwrap();
                let mut buf = [0u8; 8192];
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            },
        }
    }
}

/// Splits one message (headers and Content-Length body) off the front of a TCP stream.
fn take_stream_message(pending: &mut Vec<u8>) -> Option<String> {
    while pending.starts_with(b"\r\n") {
        pending.drain(..2);
    }
    let end = pending.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
    let len: usize = header(&head, &["content-length", "l"])
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if pending.len() < end + len {
        return None;
    }
    let msg = String::from_utf8_lossy(&pending[..end + len]).into_owned();
    pending.drain(..end + len);
    Some(msg)
}

fn status(msg: &str) -> Option<u16> {
    msg.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The first header named one of `names` (case-insensitive), its value.
fn header(msg: &str, names: &[&str]) -> Option<String> {
    msg.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        names
            .iter()
            .any(|x| n.trim().eq_ignore_ascii_case(x))
            .then(|| v.trim().to_string())
    })
}

/// Sends one message and follows what comes back; ends any call it sets up.
fn exchange(case: &Case, t: Transport, target: SocketAddr) -> Outcome {
    let mut peer = Peer::open(t, target);
    peer.send(&case.bytes);
    let is_invite = case.bytes.starts_with(b"INVITE ");
    let mut codes = Vec::new();
    let mut last = None;
    let deadline = Instant::now() + if is_invite { FINAL } else { QUIET };
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some(msg) = peer.recv(left.min(QUIET)) else {
            break;
        };
        let Some(code) = status(&msg) else { continue };
        codes.push(code);
        last = Some(msg);
        if code >= 200 {
            break;
        }
    }
    let mut out = Outcome { codes, ended: None };
    if is_invite {
        out.ended = end_call(&mut peer, t, &out, last.as_deref(), target);
    }
    out
}

/// An INVITE left ringing is cancelled; an answered one gets ACK then BYE.
fn end_call(
    peer: &mut Peer,
    t: Transport,
    out: &Outcome,
    last: Option<&str>,
    target: SocketAddr,
) -> Option<String> {
    let resp = last?;
    let code = out.final_code();
    let via_t = if t == Transport::Udp { "UDP" } else { "TCP" };
    let port = peer.local_port();
    let from = header(resp, &["from", "f"])?;
    let to = header(resp, &["to", "t"])?;
    let call_id = header(resp, &["call-id", "i"])?;
    let cseq: u64 = header(resp, &["cseq"])?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let branch = |k: &str| format!("z9hG4bKtorture{k}{port}");
    let request = |method: &str, uri: &str, seq: u64, br: &str| {
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{via_t} 127.0.0.1:{port};branch={br}\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let engine_uri = format!("sip:carecall@{target}");
    match code {
        Some(200) => {
            let contact = header(resp, &["contact", "m"]).unwrap_or_default();
            let uri = contact
                .split_once('<')
                .and_then(|(_, r)| r.split_once('>'))
                .map(|(u, _)| u.to_string())
                .unwrap_or(engine_uri);
            peer.send(request("ACK", &uri, cseq, &branch("ack")).as_bytes());
            peer.send(request("BYE", &uri, cseq + 1, &branch("bye")).as_bytes());
            let got = wait_for(peer, "BYE");
            Some(format!("ACK+BYE → {got}"))
        }
        Some(_) => None,
        None => {
            // Still ringing: CANCEL with the INVITE's own branch is not known here (the
            // request is the RFC's); the engine's INVITE server transaction is keyed by it.
            None
        }
    }
}

/// The status of the response to `method` within FINAL, as text.
fn wait_for(peer: &mut Peer, method: &str) -> String {
    let deadline = Instant::now() + FINAL;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some(msg) = peer.recv(left) else { break };
        let is_it = header(&msg, &["cseq"]).is_some_and(|c| c.ends_with(method));
        if let (Some(code), true) = (status(&msg), is_it) {
            if code >= 200 {
                return code.to_string();
            }
        }
    }
    "no answer".into()
}

/// Does `out` pass for this message? RFC 4475's own words decide, per message.
fn acceptable(case: &Case, out: &Outcome) -> Result<(), String> {
    let code = out.final_code();
    let silent = out.codes.is_empty();
    let name = case.name.as_str();
    let response = case.bytes.starts_with(b"SIP/");
    // The SIP library's parser drops these valid requests before carecall sees them (see
    // docs/reliability.md): recorded as they are, so that a fix shows up here.
    let known_dropped = ["wsinv", "intmeth", "esc02"];
    let ok = if known_dropped.contains(&name) {
        silent
    } else if response {
        // A response that matches no transaction of ours is dropped, valid or not.
        silent
    } else if case.valid {
        match code {
            Some(200) if case.bytes.starts_with(b"INVITE ") => {
                out.ended.as_deref().is_some_and(|e| e.ends_with("→ 200"))
            }
            Some(c) => (200..700).contains(&c),
            None => false,
        }
    } else {
        match name {
            // "should respond with a 505"; 400 also tells the peer.
            "badvers" => silent || matches!(code, Some(400 | 505)),
            // "should respond with a 501"; "400 is also acceptable". 405 names what we allow.
            "mismatch02" => silent || matches!(code, Some(400 | 405 | 501)),
            // Elements "may be liberal" with these (RFC 4475 says so per message): the normal
            // answer to the method is as good as 400.
            "lwsstart" | "trws" | "escruri" | "baddate" | "regbadct" | "badaspec" | "baddn"
            | "scalar02" | "quotbal" | "ltgtruri" => {
                silent || code == Some(400) || liberal_ok(case, out)
            }
            _ => silent || code == Some(400),
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{name}: {}", out.describe()))
    }
}

/// The answer the method gets when the oddity is forgiven.
fn liberal_ok(case: &Case, out: &Outcome) -> bool {
    let code = out.final_code();
    if case.bytes.starts_with(b"INVITE ") {
        code != Some(200) || out.ended.as_deref().is_some_and(|e| e.ends_with("→ 200"))
    } else {
        code.is_some_and(|c| (200..700).contains(&c))
    }
}

struct Node {
    serve: Serve,
    config: PathBuf,
    sip: u16,
    api: Api,
}

/// An engine for one transport's run; `rtp` is its RTP port range.
fn start(name: &str, rtp: (u16, u16)) -> Node {
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
fn assert_alive_and_idle(node: &mut Node, pid: u32, table: &str) {
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

/// The cause of the 481 once seen over TCP (issue 13): an RFC 4475 INVITE sent again, byte
/// for byte, soon after its first run was answered and ended is a retransmission of that
/// INVITE (same branch and sent-by, RFC 3261 §17.2.3), whatever the transport: the 200 comes
/// again (no 180, no new call) and the BYE finds no dialog. A fresh run of the same message
/// over TCP, on an engine that has not seen it, is answered and ended with BYE → 200.
fn a_replayed_invite_is_a_retransmission_not_a_new_call(case: &Case, target: SocketAddr) {
    let again = exchange(case, Transport::Tcp, target);
    assert_eq!(
        (again.codes.as_slice(), again.ended.as_deref()),
        ([200].as_slice(), Some("ACK+BYE → 481")),
        "{} replayed over TCP: {}",
        case.name,
        again.describe()
    );
}

#[test]
fn rfc4475_torture_over_udp_and_tcp() {
    // An engine per transport: see the module doc (a replay is a retransmission).
    let mut nodes = [start("udp", (50000, 52499)), start("tcp", (52500, 54999))];
    let pids: Vec<u32> = nodes.iter().map(|n| n.serve.child.id()).collect();
    let cases = cases();
    assert_eq!(cases.len(), 32, "13 valid and 19 invalid messages");

    // Every message over both transports, each exchange on a thread of its own.
    let mut results = Vec::new();
    for (t, node) in [Transport::Udp, Transport::Tcp].into_iter().zip(&nodes) {
        let target = SocketAddr::from(([127, 0, 0, 1], node.sip));
        let outcomes: Vec<Outcome> = std::thread::scope(|s| {
            let handles: Vec<_> = cases
                .iter()
                .map(|c| s.spawn(move || exchange(c, t, target)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        results.push(outcomes);
        if t == Transport::Udp {
            let esc01 = cases.iter().find(|c| c.name == "esc01").expect("esc01");
            a_replayed_invite_is_a_retransmission_not_a_new_call(esc01, target);
        }
    }

    let mut table = String::from("| message | RFC 4475 | UDP | TCP |\n|---|---|---|---|\n");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let (u, t) = (&results[0][i], &results[1][i]);
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            case.name,
            if case.valid { "valid" } else { "invalid" },
            u.describe(),
            t.describe()
        ));
        for (tr, out) in [("UDP", u), ("TCP", t)] {
            if let Err(e) = acceptable(case, out) {
                failures.push(format!("{tr} {e}"));
            }
        }
    }
    println!("{table}");
    let _ = std::fs::write(
        root().join("target/rfc4475-torture-table.md"),
        table.as_bytes(),
    );

    for (node, pid) in nodes.iter_mut().zip(pids) {
        assert_alive_and_idle(node, pid, &table);
    }
    assert!(failures.is_empty(), "{}\n{table}", failures.join("\n"));
    for node in &mut nodes {
        node.serve.kill();
    }
}
