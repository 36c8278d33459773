//! Every parser that reads bytes from the network or a file, fed random and mutated inputs:
//! each returns a value or a typed error, never a panic. Deterministic (fixed seeds), so a
//! failure reproduces.

use std::path::Path;

use carecall::rtp::g711::Law;
use carecall::rtp::{parse_info_body, RtpHeader, RtpPacket, TelephoneEvents};

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Mutations of a valid input: flips, truncations, insertions, duplicated spans.
fn mutants(seed: u64, valid: &[u8], count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let mut v = valid.to_vec();
            for _ in 0..=rng.below(4) {
                if v.is_empty() {
                    v.push(rng.next() as u8);
                    continue;
                }
                let at = rng.below(v.len());
                match rng.below(5) {
                    0 => v[at] ^= 1 << rng.below(8),
                    1 => v.truncate(at),
                    2 => v.insert(at, rng.next() as u8),
                    3 => {
                        let end = (at + rng.below(16)).min(v.len());
                        let span = v[at..end].to_vec();
                        v.splice(at..at, span);
                    }
                    _ => v[at] = b"\r\n=: /;0-9"[rng.below(10)],
                }
            }
            v
        })
        .collect()
}

const OFFER: &str = "v=0\r\no=patient 1 1 IN IP4 127.0.0.1\r\ns=patient\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

#[test]
fn sdp_parser_survives_mutations() {
    for input in mutants(1, OFFER.as_bytes(), 20_000) {
        let text = String::from_utf8_lossy(&input);
        let _ = carecall::sip::sdp::parse(&text);
        let local = carecall::sip::sdp::LocalMedia {
            addr: "127.0.0.1:20000".parse().unwrap(),
            session_id: 1,
            version: 1,
        };
        let _ = carecall::sip::sdp::answer(&text, local);
    }
}

#[test]
fn rtp_and_telephone_event_parsers_survive_random_packets() {
    let mut valid = vec![0x80, 101, 0, 1, 0, 0, 0, 160, 0xDE, 0xAD, 0xBE, 0xEF];
    valid.extend_from_slice(&[5, 0x8A, 0x03, 0x20]);
    let mut rng = Rng(2);
    let mut events = TelephoneEvents::new(101);
    let mut inputs = mutants(3, &valid, 20_000);
    inputs.extend((0..5_000).map(|_| rng.bytes(64)));
    for input in inputs {
        if let Ok(pkt) = RtpPacket::parse(&input) {
            let header: RtpHeader = pkt.header;
            for _ in events.receive(&header, pkt.payload) {}
            let mut out = Vec::new();
            header.write(pkt.payload, &mut out);
            assert_eq!(
                RtpPacket::parse(&out).map(|p| p.header),
                Ok(header),
                "write/parse round trip"
            );
        }
    }
}

#[test]
fn sip_info_parser_survives_mutations() {
    for input in mutants(4, b"Signal=5\r\nDuration=160\r\n", 10_000) {
        let _ = parse_info_body("application/dtmf-relay", &input);
        let _ = parse_info_body("application/dtmf", &input);
        let _ = parse_info_body("Application/DTMF-Relay; charset=x", &input);
    }
}

#[test]
fn g711_decodes_any_byte() {
    for b in 0..=255u8 {
        for law in [Law::Pcmu, Law::Pcma] {
            let _ = law.encode(law.decode(b));
        }
    }
}

#[test]
fn configuration_parser_survives_mutations() {
    let sample = include_str!("../carecall.sample.toml");
    for input in mutants(5, sample.as_bytes(), 3_000) {
        let text = String::from_utf8_lossy(&input);
        let _ = carecall::config::Config::parse(&text, Path::new("fuzz.toml"));
    }
}

#[test]
fn dialplan_parser_survives_mutations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("dialplans/health_call.toml")).unwrap();
    let questions = std::fs::read_to_string(root.join("dialplans/questions.toml")).unwrap();
    let read = |p: &Path| -> std::io::Result<String> {
        if p.ends_with("questions.toml") {
            Ok(questions.clone())
        } else {
            Err(std::io::Error::other("no such file"))
        }
    };
    for input in mutants(6, source.as_bytes(), 2_000) {
        let text = String::from_utf8_lossy(&input);
        let _ = carecall::ivr::parse(
            Path::new("dialplans/health_call.toml"),
            &text,
            &read,
            &|_| true,
        );
    }
}

#[test]
fn prompt_catalogue_parser_survives_mutations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("prompts/catalogue.toml")).unwrap();
    // The catalogue is large: mutate a slice of it.
    let slice = &text.as_bytes()[..text.len().min(4000)];
    for input in mutants(7, slice, 2_000) {
        let _ = carecall::media::Catalogue::parse(&String::from_utf8_lossy(&input));
    }
}

#[test]
fn webhook_url_parser_survives_mutations() {
    let valid = b"http://10.0.0.5:9000/carecall/alerts?centre=minato";
    for input in mutants(7, valid, 5_000) {
        let text = String::from_utf8_lossy(&input);
        if let Ok(url) = carecall::alert::WebhookUrl::parse(&text) {
            assert_eq!(url.uri().scheme_str(), Some("http"), "{text:?}");
            assert!(!url.host_header().contains('@'), "{text:?}");
        }
    }
}
