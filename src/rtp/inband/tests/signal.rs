//! Test signal generator: DTMF presses with chosen level, twist, frequency error and white
//! noise, rendered to 16-bit samples. Deterministic (seeded splitmix64).

use std::f64::consts::PI;

const FS: f64 = 8000.0;
/// Peak of a 0 dBm0 sine in 16-bit samples (G.711 digital milliwatt), as in the detector.
const DBM0_PEAK: f64 = 22_700.0;

/// One key press: tone for `on_ms`, then silence for `off_ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Press {
    key: char,
    on_ms: f64,
    off_ms: f64,
}

impl Press {
    pub(crate) fn new(key: char, on_ms: f64, off_ms: f64) -> Self {
        Press { key, on_ms, off_ms }
    }
}

/// A sequence of presses and the conditions they are sent under.
#[derive(Debug, Clone)]
pub(crate) struct Signal {
    presses: Vec<Press>,
    lead: usize,
    level_dbm0: f64,
    twist_db: f64,
    freq_error: (f64, f64),
    snr_db: Option<f64>,
    noise_dbm0: Option<f64>,
    seed: u64,
}

impl Signal {
    /// Presses at −10 dBm0 per tone, no twist, exact frequencies, no noise, 100 ms lead-in.
    pub(crate) fn new(presses: Vec<Press>) -> Self {
        Signal {
            presses,
            lead: 800,
            level_dbm0: -10.0,
            twist_db: 0.0,
            freq_error: (0.0, 0.0),
            snr_db: None,
            noise_dbm0: None,
            seed: 1,
        }
    }

    /// Silence before the first press, in samples (moves the tones against the blocks).
    pub(crate) fn lead_samples(mut self, n: usize) -> Self {
        self.lead = n;
        self
    }

    /// Level of the low-group tone; the high-group tone is this plus the twist.
    pub(crate) fn level_dbm0(mut self, level: f64) -> Self {
        self.level_dbm0 = level;
        self
    }

    /// High-group level minus low-group level, dB.
    pub(crate) fn twist_db(mut self, twist: f64) -> Self {
        self.twist_db = twist;
        self
    }

    /// Relative frequency errors of the low and high tone (0.015 = +1.5 %).
    pub(crate) fn freq_error(mut self, low: f64, high: f64) -> Self {
        self.freq_error = (low, high);
        self
    }

    /// White Gaussian noise over 0–4 kHz whose power is the two tones' total power minus
    /// `snr` dB, present throughout (pauses included).
    pub(crate) fn snr_db(mut self, snr: f64) -> Self {
        self.snr_db = Some(snr);
        self
    }

    /// White Gaussian noise of the given absolute power, present throughout.
    pub(crate) fn noise_dbm0(mut self, level: f64) -> Self {
        self.noise_dbm0 = Some(level);
        self
    }

    /// Seed for tone phases and noise.
    pub(crate) fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The signal as 16-bit samples (saturating), with 100 ms of silence at the end.
    pub(crate) fn render(&self) -> Vec<i16> {
        let mut rng = Rng(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let low_amp = DBM0_PEAK * 10f64.powf(self.level_dbm0 / 20.0);
        let high_amp = low_amp * 10f64.powf(self.twist_db / 20.0);
        let mut out = vec![0.0f64; self.lead];
        for p in &self.presses {
            let (fl, fh) = keypad(p.key);
            let (fl, fh) = (
                fl * (1.0 + self.freq_error.0),
                fh * (1.0 + self.freq_error.1),
            );
            let (ph_l, ph_h) = (rng.uniform() * 2.0 * PI, rng.uniform() * 2.0 * PI);
            let on = (p.on_ms * FS / 1000.0).round() as usize;
            for n in 0..on {
                let t = n as f64 / FS;
                out.push(
                    low_amp * (2.0 * PI * fl * t + ph_l).sin()
                        + high_amp * (2.0 * PI * fh * t + ph_h).sin(),
                );
            }
            out.extend(std::iter::repeat_n(
                0.0,
                (p.off_ms * FS / 1000.0).round() as usize,
            ));
        }
        out.extend(std::iter::repeat_n(0.0, 800));
        let tone_power = (low_amp * low_amp + high_amp * high_amp) / 2.0;
        let noise_power = match (self.snr_db, self.noise_dbm0) {
            (Some(snr), _) => tone_power / 10f64.powf(snr / 10.0),
            (None, Some(level)) => DBM0_PEAK * DBM0_PEAK / 2.0 * 10f64.powf(level / 10.0),
            (None, None) => 0.0,
        };
        let sigma = noise_power.sqrt();
        out.iter()
            .map(|&x| {
                (x + sigma * rng.gaussian())
                    .round()
                    .clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }
}

/// (low, high) frequencies of a key, from the standard keypad layout.
fn keypad(key: char) -> (f64, f64) {
    const LAYOUT: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    const LOW: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const HIGH: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    for (r, line) in LAYOUT.iter().enumerate() {
        if let Some(c) = line.find(key) {
            return (LOW[r], HIGH[c]);
        }
    }
    panic!("not a key: {key}")
}

/// splitmix64 with a Box–Muller Gaussian.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

#[test]
fn rendered_levels_match_the_request() {
    let s = Signal::new(vec![Press::new('5', 1000.0, 0.0)])
        .lead_samples(0)
        .level_dbm0(-10.0);
    let x = s.render();
    let tone = &x[..8000];
    let ms: f64 = tone.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / tone.len() as f64;
    let dbm0 = 10.0 * (ms / (DBM0_PEAK * DBM0_PEAK / 2.0)).log10();
    assert!((dbm0 - (-10.0 + 3.01)).abs() < 0.1, "{dbm0}"); // two tones: +3 dB
    let noisy = Signal::new(vec![])
        .lead_samples(80_000)
        .noise_dbm0(-20.0)
        .render();
    let ms: f64 = noisy.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / noisy.len() as f64;
    let dbm0 = 10.0 * (ms / (DBM0_PEAK * DBM0_PEAK / 2.0)).log10();
    assert!((dbm0 + 20.0).abs() < 0.1, "{dbm0}");
}
