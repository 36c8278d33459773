//! Signal analysis for the in-band detector: the cheap test of one 105-sample window
//! ([`classify`], eight Goertzel filters) and the precise check of a candidate key on the last
//! 192 samples ([`confirm`]: measured tone frequencies, a least-squares fit of the two tones,
//! the residual and the second harmonics).

use std::sync::LazyLock;

use crate::rtp::Digit;

/// Sample rate of the audio analysed.
pub(super) const FS: f64 = 8000.0;
/// Length of one Goertzel window (13.1 ms; bins 76 Hz wide, enough to part adjacent rows).
pub(super) const WINDOW: usize = 105;
/// Length of the confirmation analysis (24 ms).
pub(super) const CONFIRM_LEN: usize = 192;
/// Low-group (row) frequencies, Hz.
pub(super) const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) frequencies, Hz.
pub(super) const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Mean square of a 0 dBm0 sine in 16-bit linear samples: the G.711 digital milliwatt
/// decodes to a sine of peak ≈ 22 700.
pub(super) const DBM0_MEAN_SQUARE: f64 = 22_700.0 * 22_700.0 / 2.0;
/// Weakest tone accepted, per frequency (the accepted range is documented in `mod.rs`).
pub(super) const MIN_TONE_DBM0: f64 = -38.0;
/// Largest frequency error accepted, as a fraction of the nominal frequency: between the
/// ±1.5 % that must be accepted and the ±3.5 % that must be rejected.
const MAX_FREQ_ERROR: f64 = 0.025;
/// Twist limits, high-group level minus low-group level in dB: between the −8/+4 dB that
/// must be accepted and ±12 dB.
const MIN_TWIST_DB: f64 = -10.0;
const MAX_TWIST_DB: f64 = 8.0;
/// Largest share of the energy left when the two tones are removed (about −8 dB).
const MAX_RESIDUAL: f64 = 0.16;
/// Largest second harmonic relative to its fundamental (−16 dB; Q.23 keys keep < −20 dB).
const MAX_HARMONIC_DB: f64 = -16.0;

/// A key as (row index, column index). No `Debug`: it is a keyed digit.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key {
    row: usize,
    col: usize,
}

impl Key {
    /// The keypad digit.
    pub(super) fn digit(self) -> Option<Digit> {
        Digit::from_char(KEYS[self.row][self.col])
    }
}

/// Thresholds of the window test; [`SCREEN`] is looser than [`STRICT`] on every criterion.
#[derive(Debug, Clone, Copy)]
pub(super) struct WindowTest {
    /// Share of the window energy the two strongest tones must hold.
    min_tone_share: f32,
    /// Power ratio the strongest tone of each group must keep over the others of its group.
    min_peak_ratio: f32,
}

/// The test every block passes before closer analysis starts.
pub(super) const SCREEN: WindowTest = WindowTest {
    min_tone_share: 0.45,
    min_peak_ratio: 1.6, // 2 dB
};
/// The test each window of a key press must pass. A tone share of 0.65 also means the
/// window is at least ~65 % filled by the tone, which is what makes press length measurable.
pub(super) const STRICT: WindowTest = WindowTest {
    min_tone_share: 0.65,
    min_peak_ratio: 2.0, // 3 dB
};

/// Window-level twist sanity bounds (the precise limits are applied in [`confirm`]), as
/// high/low power ratios: −16 dB and +14 dB.
const WINDOW_TWIST_MIN: f32 = 0.025;
const WINDOW_TWIST_MAX: f32 = 25.0;

/// 2·cos(2πf/FS) for the eight DTMF frequencies, rows first.
static COEFFS: LazyLock<[f32; 8]> = LazyLock::new(|| {
    let mut c = [0f32; 8];
    for (i, f) in ROWS.iter().chain(COLS.iter()).enumerate() {
        c[i] = (2.0 * (2.0 * std::f64::consts::PI * f / FS).cos()) as f32;
    }
    c
});

/// Relative offset of the probe frequencies either side of each nominal frequency.
const PROBE_OFFSET: f64 = 0.015;

/// Goertzel coefficients at (1 − [`PROBE_OFFSET`])·f and (1 + [`PROBE_OFFSET`])·f.
static PROBE_COEFFS: LazyLock<[[f32; 2]; 8]> = LazyLock::new(|| {
    let mut c = [[0f32; 2]; 8];
    for (i, f) in ROWS.iter().chain(COLS.iter()).enumerate() {
        for (j, sign) in [-1.0, 1.0].into_iter().enumerate() {
            let probe = f * (1.0 + sign * PROBE_OFFSET);
            c[i][j] = (2.0 * (2.0 * std::f64::consts::PI * probe / FS).cos()) as f32;
        }
    }
    c
});

/// Tests one window of [`WINDOW`] samples. Returns the key whose two tones dominate it.
pub(super) fn classify(window: &[f32], test: &WindowTest) -> Option<Key> {
    let (power, energy) = goertzel8(window);
    if energy <= 0.0 {
        return None;
    }
    let (row, p_row) = strongest(&power[..4]);
    let (col, p_col) = strongest(&power[4..]);
    let n = WINDOW as f32;
    let min_power = (DBM0_MEAN_SQUARE * 10f64.powf(MIN_TONE_DBM0 / 10.0)) as f32 * n * n / 2.0;
    if p_row < min_power || p_col < min_power {
        return None;
    }
    let twist = p_col / p_row;
    if !(WINDOW_TWIST_MIN..=WINDOW_TWIST_MAX).contains(&twist) {
        return None;
    }
    let dominant = |group: &[f32], best: usize, p: f32| {
        group
            .iter()
            .enumerate()
            .all(|(i, &q)| i == best || p >= test.min_peak_ratio * q)
    };
    if !dominant(&power[..4], row, p_row) || !dominant(&power[4..], col, p_col) {
        return None;
    }
    let share = |p_row: f32, p_col: f32| 2.0 * (p_row + p_col) / (n * energy);
    let key = Key { row, col };
    if share(p_row, p_col) >= test.min_tone_share {
        return Some(key);
    }
    // A tone off its nominal frequency loses up to ~5 dB in a 76 Hz bin; measure the two
    // chosen tones again at ±1.5 % before giving up (rare: only windows that passed the rest).
    let (q_row, q_col) = (
        probe_max(window, row, p_row),
        probe_max(window, 4 + col, p_col),
    );
    (share(q_row, q_col) >= test.min_tone_share).then_some(key)
}

/// The largest of `nominal` and the Goertzel powers at ±1.5 % of frequency `index`.
fn probe_max(window: &[f32], index: usize, nominal: f32) -> f32 {
    PROBE_COEFFS[index]
        .iter()
        .map(|&c| goertzel_power(window, c))
        .fold(nominal, f32::max)
}

fn goertzel_power(window: &[f32], c: f32) -> f32 {
    let (mut s1, mut s2) = (0f32, 0f32);
    for &x in window {
        let s0 = x + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

/// Goertzel power |X(f)|² at the eight frequencies, and the window energy Σx².
fn goertzel8(window: &[f32]) -> ([f32; 8], f32) {
    let c = &*COEFFS;
    let mut s1 = [0f32; 8];
    let mut s2 = [0f32; 8];
    let mut energy = 0f32;
    for &x in window {
        energy += x * x;
        for k in 0..8 {
            let s0 = x + c[k] * s1[k] - s2[k];
            s2[k] = s1[k];
            s1[k] = s0;
        }
    }
    let mut power = [0f32; 8];
    for k in 0..8 {
        power[k] = s1[k] * s1[k] + s2[k] * s2[k] - c[k] * s1[k] * s2[k];
    }
    (power, energy)
}

fn strongest(group: &[f32]) -> (usize, f32) {
    group.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

/// Checks a candidate key on the last [`CONFIRM_LEN`] samples: both tone frequencies within
/// ±2.5 %, both tones at least [`MIN_TONE_DBM0`], twist within −10…+8 dB, the two tones
/// holding at least 84 % of the energy, and each second harmonic at least 16 dB down.
pub(super) fn confirm(samples: &[f32], key: Key) -> bool {
    let Some(x) = samples.get(samples.len().saturating_sub(CONFIRM_LEN)..) else {
        return false;
    };
    if x.len() < CONFIRM_LEN {
        return false;
    }
    let (f_row, f_col) = (ROWS[key.row], COLS[key.col]);
    let (Some(row_hz), Some(col_hz)) = (measure_frequency(x, f_row), measure_frequency(x, f_col))
    else {
        return false;
    };
    if (row_hz - f_row).abs() > MAX_FREQ_ERROR * f_row
        || (col_hz - f_col).abs() > MAX_FREQ_ERROR * f_col
    {
        return false;
    }
    let Some(fit) = super::fit::fit_two_tones(x, row_hz, col_hz) else {
        return false;
    };
    let row_ms = fit.row_amplitude.powi(2) / 2.0;
    let col_ms = fit.col_amplitude.powi(2) / 2.0;
    let min_ms = DBM0_MEAN_SQUARE * 10f64.powf(MIN_TONE_DBM0 / 10.0);
    let twist_db = 10.0 * (col_ms / row_ms).log10();
    row_ms >= min_ms
        && col_ms >= min_ms
        && (MIN_TWIST_DB..=MAX_TWIST_DB).contains(&twist_db)
        && fit.residual_share <= MAX_RESIDUAL
        && 10.0 * (fit.row_harmonic_ms / row_ms).log10() <= MAX_HARMONIC_DB
        && 10.0 * (fit.col_harmonic_ms / col_ms).log10() <= MAX_HARMONIC_DB
}

/// The frequency of the tone near `nominal`, from the phase advance of its Hann-windowed DFT
/// between two 128-sample windows 64 samples apart (unambiguous within ±62.5 Hz).
fn measure_frequency(x: &[f32], nominal: f64) -> Option<f64> {
    const LEN: usize = 128;
    const LAG: usize = 64;
    let first = super::fit::hann_dft(x.get(..LEN)?, nominal);
    let second = super::fit::hann_dft(x.get(LAG..LAG + LEN)?, nominal);
    let (re, im) = (
        second.0 * first.0 + second.1 * first.1,
        second.1 * first.0 - second.0 * first.1,
    );
    if re == 0.0 && im == 0.0 {
        return None;
    }
    let omega = 2.0 * std::f64::consts::PI * nominal / FS;
    let advance = im.atan2(re) - omega * LAG as f64;
    let wrapped =
        advance - (2.0 * std::f64::consts::PI) * (advance / (2.0 * std::f64::consts::PI)).round();
    Some(nominal + wrapped * FS / (2.0 * std::f64::consts::PI * LAG as f64))
}
