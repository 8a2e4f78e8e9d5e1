//! Quantized matrix multiplication on the CPU for the block formats real
//! GGUF files use most: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, and the K-quants
//! Q4_K, Q5_K and Q6_K (what Q4_K_M and Q5_K_M files are made of).
//!
//! Candle has no SIMD path for Q4_1, Q5_0 and Q5_1 (scalar loops), and
//! multiplies a prompt token by token; its Q8_0 has SIMD but pays a call per
//! row, which dominates for short rows (576 values in SmolLM2, 640 in
//! Gemma3's 262k-row output layer). [`QLinear`] replaces Candle's `QMatMul`
//! for these formats and keeps it for the rest (other K-quants, floats):
//! - activations are quantized once per call to 8-bit blocks (scale, and
//!   scale × sum for the formats with a minimum), as llama.cpp does;
//! - each weight block is unpacked once and multiplied against up to four
//!   tokens ([`TILE`]), so a prompt reads the weights once per four tokens;
//! - output rows are split across Candle's own thread pool (the one its
//!   other ops use, so the two never compete for cores);
//! - the inner product is AVX2/FMA, or AVX-512 VNNI where the CPU has it,
//!   chosen at run time, with a scalar fallback ([`scalar`]).
//!
//! `tests` check every format and path against Candle's reference
//! (dequantize, then an f32 matmul).

mod formats;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::sync::Arc;

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{Module, Result, Tensor};

pub use formats::Format;

/// Tokens multiplied against each unpacked weight block.
pub const TILE: usize = 4;
/// Output rows per unit of work handed to a thread.
const ROWS_PER_TASK: usize = 16;

/// Activations quantized to 8-bit blocks of 32: `qs` (m × k), and per block
/// its scale `d` and `s` = d × Σq (for the formats with a minimum).
pub struct Q8Rows {
    pub k: usize,
    pub qs: Vec<i8>,
    pub d: Vec<f32>,
    pub s: Vec<f32>,
}

impl Q8Rows {
    /// Quantizes `m` rows of `k` values (k a multiple of 32).
    pub fn quantize(x: &[f32], k: usize) -> Q8Rows {
        let nb_total = x.len() / 32;
        let mut qs = vec![0i8; x.len()];
        let mut d = Vec::with_capacity(nb_total);
        let mut s = Vec::with_capacity(nb_total);
        for (block, out) in x.chunks_exact(32).zip(qs.chunks_exact_mut(32)) {
            let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            let mut sum = 0i32;
            for (q, v) in out.iter_mut().zip(block) {
                *q = (v * inv).round() as i8;
                sum += *q as i32;
            }
            d.push(scale);
            s.push(scale * sum as f32);
        }
        Q8Rows { k, qs, d, s }
    }

    /// Quantizes `m` rows of `k` values (k a multiple of 256) as llama.cpp
    /// does for its K-quant dot products (Q8_K): one scale per 256 values,
    /// −127 at the value of largest magnitude, rounded half to even; each
    /// 32-value block then carries that scale. The same rounding as the
    /// peer keeps greedy answers equal to its own on K-quant files.
    pub fn quantize_k(x: &[f32], k: usize) -> Q8Rows {
        let mut qs = vec![0i8; x.len()];
        let mut d = Vec::with_capacity(x.len() / 32);
        let mut s = Vec::with_capacity(x.len() / 32);
        for (block, out) in x.chunks_exact(256).zip(qs.chunks_exact_mut(256)) {
            let max = block
                .iter()
                .fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
            let (scale, iscale) = if max == 0.0 {
                (0.0, 0.0)
            } else {
                let iscale = -127.0 / max;
                (1.0 / iscale, iscale)
            };
            for (q, v) in out.iter_mut().zip(block) {
                *q = (iscale * v).round_ties_even().min(127.0) as i8;
            }
            for sub in out.chunks_exact(32) {
                let sum: i32 = sub.iter().map(|&q| q as i32).sum();
                d.push(scale);
                s.push(scale * sum as f32);
            }
        }
        Q8Rows { k, qs, d, s }
    }

    pub fn rows(&self) -> usize {
        self.qs.len() / self.k
    }

    /// Row `t`: its quantized values, scales and scaled sums.
    pub fn row(&self, t: usize) -> (&[i8], &[f32], &[f32]) {
        let nb = self.k / 32;
        (
            &self.qs[t * self.k..(t + 1) * self.k],
            &self.d[t * nb..(t + 1) * nb],
            &self.s[t * nb..(t + 1) * nb],
        )
    }
}

/// Which code multiplies, for every [`QLinear`] in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ours for the formats they cover, on the best path the CPU has;
    /// Candle's for the rest (the default).
    Auto,
    /// Ours, on the scalar path.
    Scalar,
    /// Candle's for everything: the reference.
    Candle,
}

static MODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(u8::MAX);

impl Mode {
    /// The mode in force: [`set`](Mode::set)'s, else `JAN_KERNELS`
    /// (`auto`, `scalar`, `candle`), else `Auto`.
    pub fn get() -> Mode {
        let all = [Mode::Auto, Mode::Scalar, Mode::Candle];
        match MODE.load(std::sync::atomic::Ordering::Relaxed) {
            u8::MAX => {
                let m = match std::env::var("JAN_KERNELS").as_deref() {
                    Ok("scalar") => Mode::Scalar,
                    Ok("candle") => Mode::Candle,
                    _ => Mode::Auto,
                };
                m.set();
                m
            }
            i => all[i as usize],
        }
    }

    /// Switches every [`QLinear`] (benches and tests compare modes).
    pub fn set(self) {
        MODE.store(self as u8, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Which inner-product code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Scalar,
    Avx2,
    Vnni,
}

impl Path {
    /// The best the CPU supports (detected once).
    pub fn detect() -> Path {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512vnni")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
            {
                return Path::Vnni;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Path::Avx2;
            }
        }
        Path::Scalar
    }

    fn best() -> Path {
        static BEST: std::sync::OnceLock<Path> = std::sync::OnceLock::new();
        *BEST.get_or_init(Path::detect)
    }
}

/// Rows `rows` of the weights times every token of `acts`, into `out`,
/// [`TILE`] tokens per pass over the rows.
pub fn matmul_rows(
    path: Path,
    fmt: Format,
    weights: &[u8],
    acts: &Q8Rows,
    rows: std::ops::Range<usize>,
    out: &Out,
) {
    let row_bytes = acts.k / fmt.block_values() * fmt.block_bytes();
    assert!(weights.len() >= rows.end * row_bytes && out.n >= rows.end);
    let m = acts.rows();
    let mut t = 0;
    while t < m {
        let take = (m - t).min(TILE);
        match path {
            // SAFETY: the rows are whole (checked above), tokens t..t+take
            // exist, `out` holds m × n values, and `path` was detected.
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 | Path::Vnni => unsafe {
                x86::rows(path, fmt, weights, rows.clone(), acts, t, take, out)
            },
            _ => {
                for r in rows.clone() {
                    let w = &weights[r * row_bytes..(r + 1) * row_bytes];
                    for i in t..t + take {
                        // SAFETY: token i and row r are in range.
                        unsafe { out.write(i, r, scalar::dot(fmt, w, acts.row(i))) };
                    }
                }
            }
        }
        t += take;
    }
}

/// The output of a matmul, (tokens, n) row-major, that threads write
/// disjoint elements of.
pub struct Out {
    ptr: *mut f32,
    n: usize,
}

// SAFETY: writers own disjoint rows (see `QLinear::forward_with`).
unsafe impl Sync for Out {}
unsafe impl Send for Out {}

impl Out {
    /// # Safety
    /// `(t, r)` is inside the buffer and no other thread writes it.
    #[inline(always)]
    pub unsafe fn write(&self, t: usize, r: usize, v: f32) {
        unsafe { *self.ptr.add(t * self.n + r) = v }
    }
}

/// `x` (…, k) times the transposed weights (n, k): (…, n), with our
/// kernels when the format has them, else Candle's.
pub struct QLinear {
    weights: Arc<QTensor>,
    format: Option<Format>,
    /// Candle's matmul over the same weights (for quantized formats it
    /// only holds the `Arc`): the path for other formats and the reference.
    candle: QMatMul,
}

impl QLinear {
    pub fn new(weights: Arc<QTensor>) -> Result<QLinear> {
        let format = Format::of(weights.dtype()).filter(|f| {
            weights.device().is_cpu()
                && weights.rank() == 2
                && weights.shape().dims()[1].is_multiple_of(f.block_values())
        });
        let candle = QMatMul::from_arc(weights.clone())?;
        Ok(QLinear {
            weights,
            format,
            candle,
        })
    }

    pub fn from_qtensor(weights: QTensor) -> Result<QLinear> {
        Self::new(Arc::new(weights))
    }

    /// The block format our kernels run, if they do.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match (Mode::get(), self.format) {
            (_, None) | (Mode::Candle, _) => self.candle.forward(x),
            (Mode::Scalar, _) => self.forward_with(Path::Scalar, x),
            (Mode::Auto, _) => self.forward_with(Path::best(), x),
        }
    }

    /// Our kernels on a given path, for every format they cover (tests and
    /// benches compare paths); other formats go to Candle.
    pub fn forward_with(&self, path: Path, x: &Tensor) -> Result<Tensor> {
        let (n, k) = self.weights.shape().dims2()?;
        let dims = x.dims();
        let Some(fmt) = self.format else {
            return self.candle.forward(x);
        };
        if dims.last() != Some(&k) {
            candle_core::bail!("matmul: input {:?} does not end in {k}", dims);
        }
        let xs = x
            .to_dtype(candle_core::DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let m = xs.len() / k;
        let acts = if fmt.block_values() == 256 {
            Q8Rows::quantize_k(&xs, k)
        } else {
            Q8Rows::quantize(&xs, k)
        };
        let data = self.weights.data()?;
        let weights: &[u8] = &data;
        let mut out = vec![0f32; m * n];
        let target = Out {
            ptr: out.as_mut_ptr(),
            n,
        };
        let tasks = n.div_ceil(ROWS_PER_TASK);
        let work = |range: std::ops::Range<usize>| {
            for task in range {
                let rows = task * ROWS_PER_TASK..((task + 1) * ROWS_PER_TASK).min(n);
                matmul_rows(path, fmt, weights, &acts, rows, &target);
            }
        };
        if tasks > 1 {
            candle_core::utils::barrier_pool().execute_chunked(tasks, work);
        } else {
            work(0..tasks);
        }
        let mut shape = dims.to_vec();
        *shape.last_mut().unwrap_or(&mut 0) = n;
        Tensor::from_vec(out, shape, x.device())
    }
}

#[cfg(test)]
mod tests;
