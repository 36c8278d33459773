//! `carecall loadgen`: a light load generator for the media benchmark (SIPp saturates near
//! 1,000 calls on this machine). It starts an engine in this process (probe flow, loopback),
//! places `--calls` concurrent calls with its own minimal SIP UAC over UDP, sends 20 ms PCMU
//! frames and an RFC 4733 digit every `--digit-every` seconds on each call, receives the
//! engine's audio, then compares digits sent with digits the engine reported and prints
//! pacing lateness, CPU and memory of the engine's threads.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use carecall::call::{CallFlow, ProbeFlow, PromptRef};
use carecall::config::Config;
use carecall::lang::Language;
use carecall::media::PromptSet;
use carecall::runtime::{CallEvent, Engine};

use super::CliError;

/// Load generator options.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Concurrent calls.
    #[arg(long, default_value_t = 500)]
    calls: usize,
    /// Seconds each call stays up after the last call is set up.
    #[arg(long, default_value_t = 30)]
    hold: u64,
    /// New calls per second while ramping up.
    #[arg(long, default_value_t = 200)]
    rate: u64,
    /// Seconds between digits on each call.
    #[arg(long, default_value_t = 3)]
    digit_every: u64,
    /// Engine media worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The prompts folder (real prompts make the engine do real work).
    #[arg(long, default_value = "prompts")]
    prompts: std::path::PathBuf,
}

/// Runs the benchmark and prints its figures.
pub fn run(args: Args) -> Result<(), CliError> {
    if args.calls == 0 || args.rate == 0 {
        return Err(CliError::Usage("--calls and --rate must be at least 1"));
    }
    let text = format!(
        "[sip]\nlisten = \"127.0.0.1:0\"\n[rtp]\nport_min = 20000\nport_max = 60000\nworkers = {}\n[calls]\nmax_concurrent = {}\n",
        args.workers,
        args.calls + 10
    );
    let config = Config::parse(&text, std::path::Path::new("<loadgen>"))?;
    let prompts = PromptSet::load(&args.prompts, &[] as &[&str])?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("carecall")
        .enable_all()
        .build()?;
    runtime.block_on(bench(args, config, prompts))
}

async fn bench(args: Args, config: Config, prompts: PromptSet) -> Result<(), CliError> {
    let flows = Arc::new(|_, _| {
        let p = PromptRef {
            lang: Language::Ja,
            id: "closing".into(),
        };
        Box::new(ProbeFlow::new(vec![p], Duration::from_secs(3600))) as Box<dyn CallFlow>
    });
    let engine = Engine::start(config, prompts, flows, None).await?;
    let mut events = engine.subscribe();
    let digits_seen = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    {
        let (digits_seen, answered) = (digits_seen.clone(), answered.clone());
        tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                match e {
                    CallEvent::Digit { .. } => digits_seen.fetch_add(1, Ordering::Relaxed),
                    CallEvent::Answered { .. } => answered.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
            }
        });
    }
    let target = engine.sip_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Totals::default());
    let hold = Duration::from_secs(args.hold);
    let ramp = Duration::from_millis(1000 * args.calls as u64 / args.rate);
    let ua = {
        let (stop, totals) = (stop.clone(), totals.clone());
        let calls = args.calls;
        let rate = args.rate;
        let digit_every = Duration::from_secs(args.digit_every.max(1));
        std::thread::Builder::new()
            .name("loadgen".into())
            .spawn(move || Generator::new(target, totals, digit_every).run(calls, rate, &stop))?
    };
    tokio::time::sleep(ramp + Duration::from_secs(2)).await;
    let before = ThreadCpu::sample();
    let stats_before = engine.media_stats();
    let measured_from = Instant::now();
    tokio::time::sleep(hold).await;
    let after = ThreadCpu::sample();
    let stats = engine.media_stats();
    let wall = measured_from.elapsed();
    let up = answered.load(Ordering::Relaxed);
    stop.store(true, Ordering::SeqCst);
    let _ = ua.join();
    tokio::time::sleep(Duration::from_secs(1)).await;
    report(
        &args,
        up,
        wall,
        &before,
        &after,
        &stats_before,
        &stats,
        &totals,
        &digits_seen,
        &engine,
    );
    engine.shutdown().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &Args,
    answered: u64,
    wall: Duration,
    before: &ThreadCpu,
    after: &ThreadCpu,
    s0: &carecall::runtime::MediaStats,
    s1: &carecall::runtime::MediaStats,
    totals: &Totals,
    digits_seen: &AtomicU64,
    engine: &Engine,
) {
    let engine_cpu = after.engine - before.engine;
    let gen_cpu = after.other - before.other;
    let frames = s1.frames_sent - s0.frames_sent;
    let mut window = s1.clone();
    for (w, b) in window.lateness.iter_mut().zip(&s0.lateness) {
        *w -= b;
    }
    let sent = totals.digits_sent.load(Ordering::Relaxed);
    let seen = digits_seen.load(Ordering::Relaxed);
    println!(
        "carecall loadgen: {} calls requested, {answered} answered, active {}",
        args.calls,
        engine.active_calls()
    );
    println!(
        "measured over {:.1} s with all calls up",
        wall.as_secs_f64()
    );
    println!(
        "engine frames sent: {frames} ({:.1} per call per second)",
        frames as f64 / wall.as_secs_f64() / answered.max(1) as f64
    );
    println!(
        "send lateness: p50 < {} us, p99 < {} us, max {} us (over the whole run)",
        window.lateness_quantile_us(0.50),
        window.lateness_quantile_us(0.99),
        s1.max_lateness_us
    );
    println!(
        "engine CPU: {:.1} % of one core ({:.3} ms CPU per call per second)",
        100.0 * engine_cpu / wall.as_secs_f64(),
        1000.0 * engine_cpu / wall.as_secs_f64() / answered.max(1) as f64
    );
    println!(
        "generator CPU: {:.1} % of one core",
        100.0 * gen_cpu / wall.as_secs_f64()
    );
    println!("process RSS: {} MiB", rss_kib() / 1024);
    println!(
        "RTP received by the generator: {}",
        totals.packets_received.load(Ordering::Relaxed)
    );
    println!(
        "digits: sent {sent}, reported by the engine {seen}, lost {}",
        sent.saturating_sub(seen)
    );
}

#[derive(Default)]
struct Totals {
    digits_sent: AtomicU64,
    packets_received: AtomicU64,
}

/// CPU seconds of the engine's threads (`carecall*`) and of the others, from /proc.
struct ThreadCpu {
    engine: f64,
    other: f64,
}

impl ThreadCpu {
    fn sample() -> ThreadCpu {
        let mut cpu = ThreadCpu {
            engine: 0.0,
            other: 0.0,
        };
        let tick = 100.0; // USER_HZ on Linux
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        for task in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
                continue;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                continue;
            };
            let name = &stat[open + 1..close];
            let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
            let utime: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let stime: f64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let secs = (utime + stime) / tick;
            if name.starts_with("carecall") {
                cpu.engine += secs;
            } else {
                cpu.other += secs;
            }
        }
        cpu
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One generated call's media leg.
struct Leg {
    rtp: UdpSocket,
    remote: Option<SocketAddr>,
    seq: u16,
    ts: u32,
    next_digit: Instant,
    digit: u8,
    event_frames: u32,
}

/// The generator: one SIP socket for all calls, one RTP socket per call, paced like the
/// engine from a single 1 ms slot timer.
struct Generator {
    sip: UdpSocket,
    target: SocketAddr,
    totals: Arc<Totals>,
    digit_every: Duration,
    legs: HashMap<String, Leg>,
    order: Vec<String>,
}

impl Generator {
    fn new(target: SocketAddr, totals: Arc<Totals>, digit_every: Duration) -> Generator {
        let sip =
            UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("loadgen SIP socket: {e}"));
        let _ = sip.set_nonblocking(true);
        Generator {
            sip,
            target,
            totals,
            digit_every,
            legs: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn run(mut self, calls: usize, rate: u64, stop: &AtomicBool) {
        let start = Instant::now();
        let mut tick: u64 = 0;
        let mut buf = vec![0u8; 4096];
        while !stop.load(Ordering::Relaxed) {
            let due = start + Duration::from_millis(tick);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let wanted = ((tick * rate) / 1000).min(calls as u64) as usize;
            while self.order.len() < wanted {
                self.invite(self.order.len());
            }
            self.read_sip(&mut buf);
            let slot = (tick % 20) as usize;
            for i in (slot..self.order.len()).step_by(20) {
                let id = self.order[i].clone();
                self.media(&id, &mut buf);
            }
            tick += 1;
        }
    }

    fn invite(&mut self, n: usize) {
        let Ok(rtp) = UdpSocket::bind("127.0.0.1:0") else {
            return;
        };
        let _ = rtp.set_nonblocking(true);
        let port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        let id = format!("loadgen-{n}-{}", std::process::id());
        let local = self.sip.local_addr().unwrap_or(self.target);
        let sdp = format!("v=0\r\no=lg {n} 1 IN IP4 127.0.0.1\r\ns=lg\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n");
        let msg = format!(
            "INVITE sip:healthcall@{t} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK{id}\r\nFrom: <sip:lg@{local}>;tag={id}\r\nTo: <sip:healthcall@{t}>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\nContact: <sip:lg@{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            t = self.target
        );
        let _ = self.sip.send_to(msg.as_bytes(), self.target);
        let stagger =
            Duration::from_millis((n as u64 * 37) % self.digit_every.as_millis().max(1) as u64);
        self.legs.insert(
            id.clone(),
            Leg {
                rtp,
                remote: None,
                seq: 0,
                ts: 0,
                next_digit: Instant::now() + Duration::from_secs(2) + stagger,
                digit: (n % 10) as u8,
                event_frames: 0,
            },
        );
        self.order.push(id);
    }

    fn read_sip(&mut self, buf: &mut [u8]) {
        while let Ok((n, from)) = self.sip.recv_from(buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            let header = |name: &str| {
                text.lines()
                    .find(|l| {
                        l.to_ascii_lowercase()
                            .starts_with(&format!("{}:", name.to_ascii_lowercase()))
                    })
                    .map(|l| l[name.len() + 1..].trim().to_owned())
            };
            let Some(call_id) = header("Call-ID") else {
                continue;
            };
            if text.starts_with("SIP/2.0 200")
                && header("CSeq").is_some_and(|c| c.ends_with("INVITE"))
            {
                let to = header("To").unwrap_or_default();
                let remote_port = text
                    .lines()
                    .find(|l| l.starts_with("m=audio "))
                    .and_then(|l| l.split(' ').nth(1)?.parse::<u16>().ok());
                if let (Some(leg), Some(port)) = (self.legs.get_mut(&call_id), remote_port) {
                    leg.remote = Some(SocketAddr::from(([127, 0, 0, 1], port)));
                }
                let local = self.sip.local_addr().unwrap_or(from);
                let ack = format!(
                    "ACK sip:healthcall@{from} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bKack{call_id}\r\nFrom: <sip:lg@{local}>;tag={call_id}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                );
                let _ = self.sip.send_to(ack.as_bytes(), from);
            } else if text.starts_with("BYE ") {
                let reply = format!(
                    "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
                    header("Via").unwrap_or_default(),
                    header("From").unwrap_or_default(),
                    header("To").unwrap_or_default(),
                    header("CSeq").unwrap_or_default()
                );
                let _ = self.sip.send_to(reply.as_bytes(), from);
                self.legs.remove(&call_id);
            }
        }
    }

    fn media(&mut self, id: &str, buf: &mut [u8]) {
        let digit_every = self.digit_every;
        let Some(leg) = self.legs.get_mut(id) else {
            return;
        };
        while let Ok((_, _)) = leg.rtp.recv_from(buf) {
            self.totals.packets_received.fetch_add(1, Ordering::Relaxed);
        }
        let Some(remote) = leg.remote else { return };
        let mut pkt = [0u8; 12 + 160];
        let now = Instant::now();
        let ts = leg.ts;
        let (pt, len, marker) = if leg.event_frames > 0 || now >= leg.next_digit {
            // RFC 4733: 5 frames of a 100 ms event, the last (end) sent 3 times.
            if leg.event_frames == 0 {
                leg.event_frames = 7;
                leg.next_digit = now + digit_every;
                self.totals.digits_sent.fetch_add(1, Ordering::Relaxed);
            }
            let step = 8 - leg.event_frames; // 1..=7
            let end = step >= 5;
            let duration = (160 * step.min(5)) as u16;
            pkt[12] = leg.digit;
            pkt[13] = if end { 0x80 | 10 } else { 10 };
            pkt[14..16].copy_from_slice(&duration.to_be_bytes());
            leg.event_frames -= 1;
            if leg.event_frames == 0 {
                leg.digit = (leg.digit + 1) % 10;
                leg.ts = leg.ts.wrapping_add(160 * 5);
            }
            (101u8, 16, step == 1)
        } else {
            pkt[12..].fill(0xFF);
            leg.ts = leg.ts.wrapping_add(160);
            (0u8, 12 + 160, false)
        };
        pkt[0] = 0x80;
        pkt[1] = pt | if marker { 0x80 } else { 0 };
        pkt[2..4].copy_from_slice(&leg.seq.to_be_bytes());
        pkt[4..8].copy_from_slice(&ts.to_be_bytes());
        pkt[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        leg.seq = leg.seq.wrapping_add(1);
        let _ = leg.rtp.send_to(&pkt[..len], remote);
    }
}
