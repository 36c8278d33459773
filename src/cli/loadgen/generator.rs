//! The load generator's phones: one SIP socket for every call, one RTP socket per call (ports
//! 20000–29999, outside the kernel's ephemeral range), paced from a single 1 ms slot timer
//! like the engine. Each call sends 20 ms PCMU frames and its keys as RFC 4733 events (100 ms,
//! the end packet three times); a scripted call hangs up with BYE at its end and is replaced
//! by a new one, so the number of calls up stays constant. A slot's frames go out, and its
//! sockets are read, through the engine's own batched I/O (`io_uring` where the kernel allows
//! it): the generator shares the machine with the engine it measures.

use std::collections::{HashMap, VecDeque};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carecall::runtime::media::Ring;

/// What every generated call does once answered.
#[derive(Clone)]
pub enum Script {
    /// A key every interval (0–9 in turn), never hanging up (the media benchmark).
    KeyEvery(Duration),
    /// The keys of call `n` at offsets after the answer, then BYE after `length`.
    Calls {
        /// The keys of call `n`: (offset after the answer, key).
        keys: Arc<dyn Fn(u64) -> Vec<(Duration, char)> + Send + Sync>,
        /// When the caller hangs up, after the answer.
        length: Duration,
    },
}

/// Counters the generator keeps while it runs.
#[derive(Default)]
pub struct Totals {
    pub digits_sent: AtomicU64,
    pub packets_received: AtomicU64,
    pub invites: AtomicU64,
    pub answered: AtomicU64,
    pub refused: AtomicU64,
    pub hung_up: AtomicU64,
    pub ended_by_engine: AtomicU64,
}

const FIRST_PORT: u16 = 20000;
const LAST_PORT: u16 = 29999;
const SLOTS: usize = 20;
/// The most datagrams read from one socket in a drain.
const DRAIN_LIMIT: usize = 64;
/// An RTP header and 20 ms of PCMU.
const FRAME: usize = 12 + 160;

/// A frame due out: from its call's socket, to the engine.
struct Outgoing {
    socket: Arc<UdpSocket>,
    frame: [u8; FRAME],
    len: usize,
    to: SocketAddr,
}

struct Leg {
    rtp: Arc<UdpSocket>,
    remote: Option<SocketAddr>,
    slot: usize,
    seq: u16,
    ts: u32,
    keys: VecDeque<(Instant, u8)>,
    /// The RFC 4733 event being sent: its code and the frames left (7 → 1).
    event: Option<(u8, u32)>,
    hang_up_at: Option<Instant>,
    /// With [`Script::KeyEvery`]: the next key follows each one after this long.
    repeat: Option<Duration>,
    /// The To header of the 200 OK (with the engine's tag), for the BYE.
    to: String,
    from_tag: String,
    ending: bool,
}

/// The generator thread's state.
pub struct Generator {
    sip: UdpSocket,
    target: SocketAddr,
    totals: Arc<Totals>,
    script: Script,
    legs: HashMap<String, Leg>,
    slots: Vec<Vec<String>>,
    next_call: u64,
    next_port: u16,
    digit_cycle: u8,
    io_uring: bool,
}

impl Generator {
    /// A generator calling `target`, its media batched through `io_uring` when `io_uring`
    /// and the kernel allows it.
    pub fn new(
        target: SocketAddr,
        totals: Arc<Totals>,
        script: Script,
        io_uring: bool,
    ) -> std::io::Result<Self> {
        let sip = UdpSocket::bind("127.0.0.1:0")?;
        sip.set_nonblocking(true)?;
        Ok(Generator {
            sip,
            target,
            totals,
            script,
            legs: HashMap::new(),
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            next_call: 0,
            next_port: FIRST_PORT,
            digit_cycle: 0,
            io_uring,
        })
    }

    /// Ramps up to `calls` at `rate` a second and keeps them up until `stop`; then hangs up
    /// every answered call and waits (at most 3 s) for the engine's answers.
    pub fn run(mut self, calls: usize, rate: u64, stop: &AtomicBool) {
        let start = Instant::now();
        let mut tick: u64 = 0;
        let mut buf = vec![0u8; 4096];
        // The ring is this thread's own.
        let mut ring = Ring::new(self.io_uring);
        let mut out: Vec<Outgoing> = Vec::new();
        let mut sockets: Vec<Arc<UdpSocket>> = Vec::new();
        let mut wanted: Vec<bool> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let due = start + Duration::from_millis(tick);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let up = ((tick * rate) / 1000).min(calls as u64) as usize;
            // Ramp at `rate`; afterwards an ended call is replaced at once.
            while self.legs.len() < up {
                if !self.invite() {
                    break;
                }
            }
            self.read_sip(&mut buf);
            let slot = (tick % SLOTS as u64) as usize;
            // The engine's audio is only counted: read every fifth period, until empty.
            let read = (tick / SLOTS as u64).is_multiple_of(5);
            let ids = std::mem::take(&mut self.slots[slot]);
            let now = Instant::now();
            for id in &ids {
                self.media(id, now, &mut out);
            }
            let mut batch = ring.batch();
            for frame in &out {
                batch.push(&frame.socket, &frame.frame[..frame.len], frame.to);
            }
            batch.flush();
            out.clear();
            if read {
                sockets.extend(
                    ids.iter()
                        .filter_map(|id| Some(self.legs.get(id)?.rtp.clone())),
                );
                self.drain(&mut ring, &sockets, &mut wanted);
                sockets.clear();
            }
            // media() never ends a leg (a BYE's leg ends on its 200, in read_sip), so every
            // id taken out is still a call; none joins meanwhile, but keep any that did.
            let joined = std::mem::replace(&mut self.slots[slot], ids);
            self.slots[slot].extend(joined);
            tick += 1;
        }
        let ids: Vec<String> = self.legs.keys().cloned().collect();
        for id in ids {
            self.hang_up(&id);
        }
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until && self.legs.values().any(|l| l.ending) {
            self.read_sip(&mut buf);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Reads the slot's sockets until empty (the engine's audio is only counted).
    fn drain(&self, ring: &mut Ring, sockets: &[Arc<UdpSocket>], wanted: &mut Vec<bool>) {
        let mut items: Vec<&UdpSocket> = sockets.iter().map(|s| &**s).collect();
        wanted.clear();
        wanted.resize(items.len(), true);
        let mut got = 0;
        for _ in 0..DRAIN_LIMIT {
            let read = ring.receive(&mut items, wanted, |s| s, |_, _, _| {});
            if read == 0 {
                break;
            }
            got += read as u64;
        }
        self.totals
            .packets_received
            .fetch_add(got, Ordering::Relaxed);
    }

    fn bind_rtp(&mut self) -> Option<Arc<UdpSocket>> {
        for _ in 0..200 {
            let port = self.next_port;
            self.next_port = if port >= LAST_PORT {
                FIRST_PORT
            } else {
                port + 1
            };
            if let Ok(s) = UdpSocket::bind(("127.0.0.1", port)) {
                let _ = s.set_nonblocking(true);
                return Some(Arc::new(s));
            }
        }
        None
    }

    fn invite(&mut self) -> bool {
        let Some(rtp) = self.bind_rtp() else {
            return false;
        };
        let n = self.next_call;
        self.next_call += 1;
        let port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        let id = format!("loadgen-{n}-{}", std::process::id());
        let local = self.sip.local_addr().unwrap_or(self.target);
        let sdp = format!("v=0\r\no=lg {n} 1 IN IP4 127.0.0.1\r\ns=lg\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n");
        let msg = format!(
            "INVITE sip:healthcall@{t} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{id}\r\nFrom: <sip:0{:09}@{local}>;tag={id}\r\nTo: <sip:healthcall@{t}>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\nContact: <sip:lg@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            n % 1_000_000_000,
            sdp.len(),
            t = self.target
        );
        let _ = self.sip.send_to(msg.as_bytes(), self.target);
        self.totals.invites.fetch_add(1, Ordering::Relaxed);
        let slot = (n as usize * 7) % SLOTS;
        let leg = Leg {
            rtp,
            remote: None,
            slot,
            seq: 0,
            ts: 0,
            keys: VecDeque::new(),
            event: None,
            hang_up_at: None,
            repeat: None,
            to: String::new(),
            from_tag: id.clone(),
            ending: false,
        };
        self.legs.insert(id.clone(), leg);
        self.slots[slot].push(id);
        true
    }

    /// Schedules an answered call's keys and hang-up.
    fn answered(&mut self, id: &str, n: u64, now: Instant) {
        let script = self.script.clone();
        let Some(leg) = self.legs.get_mut(id) else {
            return;
        };
        match script {
            Script::KeyEvery(every) => {
                let stagger = Duration::from_millis((n * 37) % every.as_millis().max(1) as u64);
                leg.keys
                    .push_back((now + Duration::from_secs(2) + stagger, self.digit_cycle));
                leg.repeat = Some(every);
                self.digit_cycle = (self.digit_cycle + 1) % 10;
            }
            Script::Calls { keys, length } => {
                for (offset, key) in keys(n) {
                    if let Some(code) = event_code(key) {
                        leg.keys.push_back((now + offset, code));
                    }
                }
                leg.hang_up_at = Some(now + length);
            }
        }
    }

    fn end(&mut self, id: &str) {
        if let Some(leg) = self.legs.remove(id) {
            self.slots[leg.slot].retain(|l| l != id);
        }
    }

    fn hang_up(&mut self, id: &str) {
        let local = self.sip.local_addr().unwrap_or(self.target);
        let Some(leg) = self.legs.get_mut(id) else {
            return;
        };
        if leg.to.is_empty() || leg.ending {
            return;
        }
        leg.ending = true;
        leg.keys.clear();
        let bye = format!(
            "BYE sip:healthcall@{t} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKbye{id}\r\nFrom: <sip:lg@{local}>;tag={tag}\r\nTo: {to}\r\nCall-ID: {id}\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            t = self.target,
            tag = leg.from_tag,
            to = leg.to,
        );
        let _ = self.sip.send_to(bye.as_bytes(), self.target);
        self.totals.hung_up.fetch_add(1, Ordering::Relaxed);
    }

    fn read_sip(&mut self, buf: &mut [u8]) {
        while let Ok((n, from)) = self.sip.recv_from(buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let header = |name: &str| header(&text, name);
            let Some(call_id) = header("Call-ID") else {
                continue;
            };
            let cseq = header("CSeq").unwrap_or_default();
            if text.starts_with("SIP/2.0 ") && cseq.ends_with("INVITE") {
                let status: u16 = text[8..].get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
                if status < 200 {
                    continue;
                }
                let to = header("To").unwrap_or_default();
                self.ack(&call_id, &to, from, status);
                if (200..300).contains(&status) {
                    self.invite_answered(&call_id, &text, to);
                } else if self.legs.contains_key(&call_id) {
                    self.totals.refused.fetch_add(1, Ordering::Relaxed);
                    self.end(&call_id);
                }
            } else if text.starts_with("SIP/2.0 ") && cseq.ends_with("BYE") {
                self.end(&call_id);
            } else if text.starts_with("BYE ") {
                let reply = format!(
                    "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n",
                    header("Via").unwrap_or_default(),
                    header("From").unwrap_or_default(),
                    header("To").unwrap_or_default(),
                );
                let _ = self.sip.send_to(reply.as_bytes(), from);
                if self.legs.contains_key(&call_id) {
                    self.totals.ended_by_engine.fetch_add(1, Ordering::Relaxed);
                }
                self.end(&call_id);
            }
        }
    }

    fn invite_answered(&mut self, call_id: &str, text: &str, to: String) {
        let remote_port = text
            .lines()
            .find(|l| l.starts_with("m=audio "))
            .and_then(|l| l.split(' ').nth(1)?.parse::<u16>().ok());
        let Some(leg) = self.legs.get_mut(call_id) else {
            return;
        };
        if !leg.to.is_empty() {
            return; // a retransmitted 200 OK: ACKed again, nothing else
        }
        leg.to = to;
        leg.remote = remote_port.map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
        self.totals.answered.fetch_add(1, Ordering::Relaxed);
        let n = call_id
            .split('-')
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        self.answered(call_id, n, Instant::now());
    }

    fn ack(&self, call_id: &str, to: &str, from: SocketAddr, status: u16) {
        let local = self.sip.local_addr().unwrap_or(from);
        // A 2xx is ACKed in a new transaction; a failure's ACK belongs to the INVITE's.
        let branch = if status < 300 {
            format!("z9hG4bKack{call_id}")
        } else {
            format!("z9hG4bK{call_id}")
        };
        let ack = format!(
            "ACK sip:healthcall@{from} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch}\r\nFrom: <sip:lg@{local}>;tag={call_id}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = self.sip.send_to(ack.as_bytes(), from);
    }

    /// The call's frame due now, if any, onto `out`; its keys and its hang-up.
    fn media(&mut self, id: &str, now: Instant, out: &mut Vec<Outgoing>) {
        let Some(leg) = self.legs.get_mut(id) else {
            return;
        };
        if leg.hang_up_at.is_some_and(|t| now >= t) && leg.event.is_none() {
            leg.hang_up_at = None;
            self.hang_up(id);
            return;
        }
        if leg.ending {
            return;
        }
        let Some(remote) = leg.remote else { return };
        if leg.event.is_none() && leg.keys.front().is_some_and(|(at, _)| now >= *at) {
            if let Some((at, code)) = leg.keys.pop_front() {
                if let Some(every) = leg.repeat {
                    leg.keys.push_back((at + every, (code + 1) % 10));
                }
                leg.event = Some((code, 7));
                self.totals.digits_sent.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut pkt = [0u8; FRAME];
        let ts = leg.ts;
        let (pt, len, marker) = match leg.event {
            Some((code, frames)) => {
                // RFC 4733: 5 frames of a 100 ms event, the last (end) sent 3 times.
                let step = 8 - frames; // 1..=7
                let end = step >= 5;
                let duration = (160 * step.min(5)) as u16;
                pkt[12] = code;
                pkt[13] = if end { 0x80 | 10 } else { 10 };
                pkt[14..16].copy_from_slice(&duration.to_be_bytes());
                leg.event = (frames > 1).then_some((code, frames - 1));
                if leg.event.is_none() {
                    leg.ts = leg.ts.wrapping_add(160 * 5);
                }
                (101u8, 16, step == 1)
            }
            None => {
                pkt[12..].fill(0xFF);
                leg.ts = leg.ts.wrapping_add(160);
                (0u8, FRAME, false)
            }
        };
        pkt[0] = 0x80;
        pkt[1] = pt | if marker { 0x80 } else { 0 };
        pkt[2..4].copy_from_slice(&leg.seq.to_be_bytes());
        pkt[4..8].copy_from_slice(&ts.to_be_bytes());
        pkt[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        leg.seq = leg.seq.wrapping_add(1);
        out.push(Outgoing {
            socket: leg.rtp.clone(),
            frame: pkt,
            len,
            to: remote,
        });
    }
}

/// A header's value (first occurrence, name case-insensitive).
fn header(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

/// The RFC 4733 event code of a key.
fn event_code(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        _ => None,
    }
}
