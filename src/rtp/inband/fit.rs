//! Numerical helpers of the confirmation step: a Hann-windowed single-bin DFT and the
//! least-squares fit of two sinusoids of known frequency, with what is left over.
//! Only run when a key is about to be reported, so precision wins over speed here.

use std::f64::consts::PI;

use super::analysis::FS;

/// The result of fitting two tones to a stretch of audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TwoToneFit {
    /// Peak amplitude of the low-group tone, in sample units.
    pub row_amplitude: f64,
    /// Peak amplitude of the high-group tone, in sample units.
    pub col_amplitude: f64,
    /// Energy not explained by the two tones, as a share of the total (0–1).
    pub residual_share: f64,
    /// Mean-square level of the residual at twice the low-group frequency.
    pub row_harmonic_ms: f64,
    /// Mean-square level of the residual at twice the high-group frequency.
    pub col_harmonic_ms: f64,
}

/// Σ x[n]·w[n]·e^(−jωn) with a Hann window w, as (re, im).
pub(super) fn hann_dft(x: &[f32], freq: f64) -> (f64, f64) {
    let len = x.len() as f64;
    let omega = 2.0 * PI * freq / FS;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &s) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * n as f64 / len).cos();
        let (sin, cos) = (omega * n as f64).sin_cos();
        re += f64::from(s) * w * cos;
        im -= f64::from(s) * w * sin;
    }
    (re, im)
}

/// Fits a·cos(ω₁n) + b·sin(ω₁n) + c·cos(ω₂n) + d·sin(ω₂n) to `x` by least squares.
/// `None` if `x` is silent or the system is degenerate.
pub(super) fn fit_two_tones(x: &[f32], row_hz: f64, col_hz: f64) -> Option<TwoToneFit> {
    const MAX_LEN: usize = super::analysis::CONFIRM_LEN;
    let x = x.get(..MAX_LEN.min(x.len()))?;
    let basis = |n: usize| -> [f64; 4] {
        let (s1, c1) = (2.0 * PI * row_hz / FS * n as f64).sin_cos();
        let (s2, c2) = (2.0 * PI * col_hz / FS * n as f64).sin_cos();
        [c1, s1, c2, s2]
    };
    let mut gram = [[0f64; 4]; 4];
    let mut rhs = [0f64; 4];
    let mut total = 0.0;
    for (n, &s) in x.iter().enumerate() {
        let b = basis(n);
        let s = f64::from(s);
        total += s * s;
        for i in 0..4 {
            rhs[i] += b[i] * s;
            for j in 0..4 {
                gram[i][j] += b[i] * b[j];
            }
        }
    }
    if total <= 0.0 {
        return None;
    }
    let coef = solve4(gram, rhs)?;
    let mut residual = [0f64; MAX_LEN];
    let mut residual_energy = 0.0;
    for (n, &s) in x.iter().enumerate() {
        let b = basis(n);
        let fitted: f64 = (0..4).map(|i| coef[i] * b[i]).sum();
        residual[n] = f64::from(s) - fitted;
        residual_energy += residual[n] * residual[n];
    }
    let residual = &residual[..x.len()];
    Some(TwoToneFit {
        row_amplitude: coef[0].hypot(coef[1]),
        col_amplitude: coef[2].hypot(coef[3]),
        residual_share: residual_energy / total,
        row_harmonic_ms: tone_mean_square(residual, 2.0 * row_hz),
        col_harmonic_ms: tone_mean_square(residual, 2.0 * col_hz),
    })
}

/// Mean-square level of a sinusoid at `freq` in `x`, estimated by one DFT bin.
fn tone_mean_square(x: &[f64], freq: f64) -> f64 {
    let omega = 2.0 * PI * freq / FS;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &s) in x.iter().enumerate() {
        let (sin, cos) = (omega * n as f64).sin_cos();
        re += s * cos;
        im -= s * sin;
    }
    let len = x.len() as f64;
    2.0 * (re * re + im * im) / (len * len)
}

/// Solves the 4×4 system by Gaussian elimination with partial pivoting.
fn solve4(mut a: [[f64; 4]; 4], mut b: [f64; 4]) -> Option<[f64; 4]> {
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col];
        for row in col + 1..4 {
            let factor = a[row][col] / pivot_row[col];
            for (v, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *v -= factor * p;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0f64; 4];
    for row in (0..4).rev() {
        let tail: f64 = (row + 1..4).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tones(a: f64, f1: f64, b: f64, f2: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| {
                let t = n as f64 / FS;
                (a * (2.0 * PI * f1 * t + 0.3).sin() + b * (2.0 * PI * f2 * t + 1.1).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn fit_recovers_amplitudes_and_leaves_nothing() {
        let x = tones(3000.0, 700.0, 1200.0, 1340.0, 192);
        let fit = fit_two_tones(&x, 700.0, 1340.0).unwrap();
        assert!((fit.row_amplitude - 3000.0).abs() < 1.0, "{fit:?}");
        assert!((fit.col_amplitude - 1200.0).abs() < 1.0, "{fit:?}");
        assert!(fit.residual_share < 1e-6);
        assert!(fit.row_harmonic_ms < 1e-3);
    }

    #[test]
    fn fit_reports_a_second_harmonic_left_in_the_residual() {
        let mut x = tones(3000.0, 770.0, 3000.0, 1336.0, 192);
        for (n, s) in x.iter_mut().enumerate() {
            *s += (300.0 * (2.0 * PI * 1540.0 * n as f64 / FS).cos()) as f32;
        }
        let fit = fit_two_tones(&x, 770.0, 1336.0).unwrap();
        let db = 10.0 * (fit.row_harmonic_ms / (3000f64.powi(2) / 2.0)).log10();
        assert!((db + 20.0).abs() < 1.5, "{db}");
    }

    #[test]
    fn silence_and_degenerate_input_fit_nothing() {
        assert_eq!(fit_two_tones(&[0.0; 192], 697.0, 1209.0), None);
        assert_eq!(fit_two_tones(&[1.0; 3], 697.0, 1209.0), None);
    }

    #[test]
    fn hann_dft_peaks_at_the_tone() {
        let x = tones(1000.0, 941.0, 0.0, 1.0, 128);
        let at = |f| {
            let (re, im): (f64, f64) = hann_dft(&x, f);
            re.hypot(im)
        };
        assert!(at(941.0) > 10.0 * at(1209.0));
    }
}
