//! Small element-wise ops of the decoder.
//!
//! Candle's versions (rotary embeddings, SiLU, GELU, softmax, RMS norm)
//! hand even a single token's few thousand values to its rayon pool; with
//! one token per step the wake-ups and context switches cost more than the
//! arithmetic (measured at about a tenth of decode time with perf). Here a
//! token's values stay on the calling thread, and a prompt's many rows are
//! split over Candle's barrier pool, the threads the matmuls use.

use candle_core::{D, Result, Tensor};

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// Below this many values, threads cost more than they save.
const PARALLEL_FROM: usize = 1 << 15;

/// Runs `f(row index, row)` on every `width`-long row of `data`, over the
/// barrier pool when there is enough work.
pub fn for_rows(data: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if width == 0 {
        return;
    }
    let rows = data.len() / width;
    if data.len() < PARALLEL_FROM || rows < 2 {
        for (i, row) in data.chunks_exact_mut(width).enumerate() {
            f(i, row);
        }
        return;
    }
    struct Rows(*mut f32);
    // SAFETY: each task touches only its own rows.
    unsafe impl Sync for Rows {}
    let base = Rows(data.as_mut_ptr());
    candle_core::utils::barrier_pool().execute_chunked(rows, |range| {
        let base = &base;
        for i in range {
            // SAFETY: row i lies inside `data`, and only this task has it.
            let row = unsafe { std::slice::from_raw_parts_mut(base.0.add(i * width), width) };
            f(i, row);
        }
    });
}

/// Rotary embedding of `x` (batch, heads, seq, head_dim) with tables
/// (seq, head_dim / 2): halves rotated together (`neox`, as Candle's
/// `rope`) or interleaved pairs (as `rope_i`).
pub fn rope(x: &Tensor, cos: &Tensor, sin: &Tensor, neox: bool) -> Result<Tensor> {
    let (b, h, seq, d) = x.dims4()?;
    let half = d / 2;
    if cos.dims2()? != (seq, half) || sin.dims2()? != (seq, half) {
        candle_core::bail!("rope: tables {:?} for {seq} positions of {d}", cos.dims());
    }
    let mut v = values(x)?;
    let (cos, sin) = (values(cos)?, values(sin)?);
    for_rows(&mut v, d, |row_index, row| {
        let p = row_index % seq;
        let (c, s) = (
            &cos[p * half..(p + 1) * half],
            &sin[p * half..(p + 1) * half],
        );
        for i in 0..half {
            let (a, b) = if neox {
                (i, i + half)
            } else {
                (2 * i, 2 * i + 1)
            };
            let (x0, x1) = (row[a], row[b]);
            row[a] = x0 * c[i] - x1 * s[i];
            row[b] = x0 * s[i] + x1 * c[i];
        }
    });
    Tensor::from_vec(v, (b, h, seq, d), x.device())
}

/// `act(gate) * up`: SiLU (llama, qwen, phi3) or GELU with the tanh
/// approximation (gemma, as llama.cpp's `ggml_gelu`).
pub fn gated(gate: &Tensor, up: &Tensor, gelu: bool) -> Result<Tensor> {
    let mut g = values(gate)?;
    let u = values(up)?;
    if g.len() != u.len() {
        candle_core::bail!("gated: {:?} and {:?}", gate.dims(), up.dims());
    }
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    let width = gate.dim(D::Minus1)?;
    for_rows(&mut g, width, |i, row| {
        for (g, u) in row.iter_mut().zip(&u[i * width..(i + 1) * width]) {
            let x = *g;
            let act = if gelu {
                // The same expression as ggml's and Candle's.
                0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x)).tanh())
            } else {
                x / (1.0 + (-x).exp())
            };
            *g = act * u;
        }
    });
    Tensor::from_vec(g, gate.dims(), gate.device())
}

/// Softmax over the last dimension.
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    let n = x.dim(D::Minus1)?;
    let mut v = values(x)?;
    for_rows(&mut v, n, |_, row| {
        let max = row.iter().fold(f32::NEG_INFINITY, |a, b| a.max(*b));
        let mut sum = 0f32;
        for e in row.iter_mut() {
            *e = (*e - max).exp();
            sum += *e;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|e| *e *= inv);
    });
    Tensor::from_vec(v, x.dims(), x.device())
}

/// RMS norm over the last dimension, times `weight`.
pub fn rms_norm(x: &Tensor, weight: &[f32], eps: f32) -> Result<Tensor> {
    let n = weight.len();
    if x.dim(D::Minus1)? != n {
        candle_core::bail!("rms_norm: {:?} against {n} weights", x.dims());
    }
    let mut v = values(x)?;
    for_rows(&mut v, n, |_, row| {
        let mean = row.iter().map(|e| e * e).sum::<f32>() / n as f32;
        let scale = 1.0 / (mean + eps).sqrt();
        for (e, w) in row.iter_mut().zip(weight) {
            *e *= scale * w;
        }
    });
    Tensor::from_vec(v, x.dims(), x.device())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn t(dims: &[usize], seed: f32) -> Tensor {
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|i| ((i as f32 + seed) * 0.37).sin()).collect();
        Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap()
    }

    // Each op at a size for one thread and one for the barrier pool.

    #[test]
    fn rope_matches_candle() {
        for (heads, seq) in [(3, 5), (8, 700)] {
            let x = t(&[1, heads, seq, 8], 0.0);
            let (cos, sin) = (t(&[seq, 4], 1.0), t(&[seq, 4], 2.0));
            let ours = rope(&x, &cos, &sin, true).unwrap();
            let theirs = candle_nn::rotary_emb::rope(&x, &cos, &sin).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-6);
            let ours = rope(&x, &cos, &sin, false).unwrap();
            let theirs = candle_nn::rotary_emb::rope_i(&x, &cos, &sin).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-6);
        }
    }

    #[test]
    fn softmax_and_rms_norm_match_candle() {
        for rows in [3, 5000] {
            let x = t(&[2, rows, 9], 0.5);
            let theirs = candle_nn::ops::softmax_last_dim(&x).unwrap();
            assert!(max_diff(&softmax_last_dim(&x).unwrap(), &theirs) < 1e-6);
            let w = t(&[9], 4.0);
            let theirs = candle_nn::ops::rms_norm(&x, &w, 1e-5).unwrap();
            let ours = rms_norm(&x, &w.to_vec1().unwrap(), 1e-5).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-5);
        }
    }

    #[test]
    fn gated_matches_candle() {
        for rows in [2, 9000] {
            let (g, u) = (t(&[rows, 7], 0.0), t(&[rows, 7], 3.0));
            let silu = (candle_nn::ops::silu(&g).unwrap() * &u).unwrap();
            assert!(max_diff(&gated(&g, &u, false).unwrap(), &silu) < 1e-6);
            let gelu = (g.gelu().unwrap() * &u).unwrap();
            assert!(max_diff(&gated(&g, &u, true).unwrap(), &gelu) < 1e-5);
        }
    }
}
