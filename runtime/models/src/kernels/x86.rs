//! AVX2/FMA and AVX-512 VNNI inner products, after llama.cpp's: the 4- and
//! 5-bit values are unpacked to 32 unsigned bytes per block and multiplied
//! with the signed 8-bit activations (`maddubs`, or VNNI's `dpbusd`); Q8_0
//! moves the weights' signs onto the activations first.

use std::arch::x86_64::*;

use super::formats::{Format, k_int_scales, scales};
use super::{Out, Path, Q8Rows};

const Q4_0: u8 = 0;
const Q4_1: u8 = 1;
const Q5_0: u8 = 2;
const Q5_1: u8 = 3;
const Q8_0: u8 = 4;
const Q4K: u8 = 5;
const Q5K: u8 = 6;
const Q6K: u8 = 7;

const fn format(f: u8) -> Format {
    match f {
        Q4_0 => Format::Q4_0,
        Q4_1 => Format::Q4_1,
        Q5_0 => Format::Q5_0,
        Q5_1 => Format::Q5_1,
        Q4K => Format::Q4K,
        Q5K => Format::Q5K,
        Q6K => Format::Q6K,
        _ => Format::Q8_0,
    }
}

/// Sub-block `s` (0..8) of a K-quant super-block: 32 unsigned values for
/// Q4K and Q5K, signed (value − 32) for Q6K, as `scalar::k_values`.
///
/// # Safety
/// `sb` points at a whole super-block of format `F`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn unpack_k<const F: u8>(sb: *const u8, s: usize) -> __m256i {
    let low = _mm256_set1_epi8(0x0F);
    unsafe {
        if F == Q6K {
            let (n, kind) = (s / 4, s % 4);
            let ql = _mm256_loadu_si256(sb.add(64 * n + 32 * (kind % 2)) as *const __m256i);
            let lo = if kind < 2 {
                _mm256_and_si256(ql, low)
            } else {
                _mm256_and_si256(_mm256_srli_epi16(ql, 4), low)
            };
            let qh = _mm256_loadu_si256(sb.add(128 + 32 * n) as *const __m256i);
            let shift = _mm_cvtsi32_si128(2 * kind as i32);
            let hi = _mm256_and_si256(_mm256_srl_epi16(qh, shift), _mm256_set1_epi8(3));
            let v = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
            return _mm256_sub_epi8(v, _mm256_set1_epi8(32));
        }
        let fmt = format(F);
        let raw = _mm256_loadu_si256(sb.add(fmt.qs_offset() + 32 * (s / 2)) as *const __m256i);
        let v = if s.is_multiple_of(2) {
            _mm256_and_si256(raw, low)
        } else {
            _mm256_and_si256(_mm256_srli_epi16(raw, 4), low)
        };
        if F == Q5K {
            let qh = _mm256_loadu_si256(sb.add(16) as *const __m256i);
            let bit = _mm256_set1_epi8((1u8 << s) as i8);
            let set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
            return _mm256_or_si256(v, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
        }
        v
    }
}

/// Byte j is 0xFF where bit j of `x` is set.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn bytes_from_bits(x: u32) -> __m256i {
    let shuffle = _mm256_set_epi64x(
        0x0303_0303_0303_0303,
        0x0202_0202_0202_0202,
        0x0101_0101_0101_0101,
        0,
    );
    let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(x as i32), shuffle);
    let bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe_u64 as i64));
    _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1))
}

/// A block's 32 values: unsigned for the 4- and 5-bit formats, signed for
/// Q8_0.
///
/// # Safety
/// `b` points at a whole block of format `F`.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn unpack<const F: u8>(b: *const u8) -> __m256i {
    let fmt = format(F);
    unsafe {
        if F == Q8_0 {
            return _mm256_loadu_si256(b.add(2) as *const __m256i);
        }
        let raw = _mm_loadu_si128(b.add(fmt.qs_offset()) as *const __m128i);
        let low = _mm_set1_epi8(0x0F);
        let lo = _mm_and_si128(raw, low);
        let hi = _mm_and_si128(_mm_srli_epi16(raw, 4), low);
        let v = _mm256_set_m128i(hi, lo);
        if F == Q5_0 || F == Q5_1 {
            let qh = (b.add(fmt.qh_offset()) as *const u32).read_unaligned();
            let high = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10));
            return _mm256_or_si256(v, high);
        }
        v
    }
}

/// Eight partial sums of `v · q` (i32).
#[target_feature(enable = "avx2,fma")]
#[inline]
fn products_avx2<const F: u8>(v: __m256i, q: __m256i) -> __m256i {
    let (a, b) = if F == Q8_0 {
        (_mm256_sign_epi8(v, v), _mm256_sign_epi8(q, v))
    } else {
        (v, q)
    };
    _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
}

#[target_feature(enable = "avx2,fma,avx512vnni,avx512vl")]
#[inline]
fn products_vnni<const F: u8>(v: __m256i, q: __m256i) -> __m256i {
    let (a, b) = if F == Q8_0 {
        (_mm256_sign_epi8(v, v), _mm256_sign_epi8(q, v))
    } else {
        (v, q)
    };
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b)
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    _mm_cvtss_f32(s)
}

/// Weight rows against `N` tokens: each block is unpacked once per row and
/// multiplied with every token.
macro_rules! kernel {
    ($name:ident, $features:literal, $products:ident) => {
        /// # Safety
        /// `weights` holds the rows `rows` of format `F` for rows of
        /// `acts.k` values, tokens `t0..t0 + N` exist in `acts`, and `out`
        /// has room for every (token, row).
        #[target_feature(enable = $features)]
        unsafe fn $name<const F: u8, const N: usize>(
            weights: &[u8],
            rows: std::ops::Range<usize>,
            acts: &Q8Rows,
            t0: usize,
            out: &Out,
        ) {
            let fmt = format(F);
            let bytes = fmt.block_bytes();
            let nb = acts.k / 32;
            let row_bytes = nb * bytes;
            debug_assert!(weights.len() >= rows.end * row_bytes && t0 + N <= acts.rows());
            let toks: [(&[i8], &[f32], &[f32]); N] = std::array::from_fn(|i| acts.row(t0 + i));
            for r in rows {
                let w = unsafe { weights.as_ptr().add(r * row_bytes) };
                let mut acc = [_mm256_setzero_ps(); N];
                let mut acc_m = [0f32; N];
                for b in 0..nb {
                    // SAFETY: block b of row r lies inside `weights`.
                    let block = unsafe { std::slice::from_raw_parts(w.add(b * bytes), bytes) };
                    let v = unsafe { unpack::<F>(block.as_ptr()) };
                    let (d, m) = scales(fmt, block);
                    for t in 0..N {
                        let (qs, ds, ss) = toks[t];
                        // SAFETY: block b of a row of k values exists in
                        // each token's rows (k / 32 blocks).
                        let (q, da, sa) = unsafe {
                            (
                                _mm256_loadu_si256(qs.as_ptr().add(b * 32) as *const __m256i),
                                *ds.get_unchecked(b),
                                *ss.get_unchecked(b),
                            )
                        };
                        let p = $products::<F>(v, q);
                        acc[t] =
                            _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d * da), acc[t]);
                        if F != Q8_0 {
                            acc_m[t] += m * sa;
                        }
                    }
                }
                for t in 0..N {
                    unsafe { out.write(t0 + t, r, hsum(acc[t]) + acc_m[t]) };
                }
            }
        }
    };
}

kernel!(kernel_avx2, "avx2,fma", products_avx2);
kernel!(kernel_vnni, "avx2,fma,avx512vnni,avx512vl", products_vnni);

/// The K-quants: as [`kernel!`], with the activations' one scale per
/// super-block (Q8_K, see `Q8Rows::quantize_k`), so that a super-block's
/// 8 sub-blocks sum in integers, each product scaled by its sub-block's
/// integer scale in the same `madd` that pairs it (a scale per 16 weights:
/// the low lanes hold the first 16, the high lanes the last 16), and only
/// the super-block's total goes through floats, as llama.cpp does.
macro_rules! k_kernel {
    ($name:ident, $features:literal) => {
        /// # Safety
        /// As for the other kernels, with super-blocks of format `F`, and
        /// activations that share one scale per 256 values.
        #[target_feature(enable = $features)]
        unsafe fn $name<const F: u8, const N: usize>(
            weights: &[u8],
            rows: std::ops::Range<usize>,
            acts: &Q8Rows,
            t0: usize,
            out: &Out,
        ) {
            let fmt = format(F);
            let bytes = fmt.block_bytes();
            let nsb = acts.k / 256;
            let row_bytes = nsb * bytes;
            debug_assert!(weights.len() >= rows.end * row_bytes && t0 + N <= acts.rows());
            let toks: [(&[i8], &[f32], &[f32]); N] = std::array::from_fn(|i| acts.row(t0 + i));
            for r in rows {
                let w = unsafe { weights.as_ptr().add(r * row_bytes) };
                let mut acc = [_mm256_setzero_ps(); N];
                let mut acc_m = [0f32; N];
                for i in 0..nsb {
                    // SAFETY: super-block i of row r lies inside `weights`.
                    let sb = unsafe { std::slice::from_raw_parts(w.add(i * bytes), bytes) };
                    let (dw, dmin, scales) = k_int_scales(fmt, sb);
                    let mut isum = [_mm256_setzero_si256(); N];
                    let mut msum = [0f32; N];
                    for (s, &(lo, hi, m)) in scales.iter().enumerate() {
                        let b = i * 8 + s;
                        let v = unsafe { unpack_k::<F>(sb.as_ptr(), s) };
                        let scale = _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo));
                        // Q6K's values are signed: their signs move onto
                        // the activations (`maddubs` takes unsigned × signed).
                        let a = if F == Q6K { _mm256_sign_epi8(v, v) } else { v };
                        for t in 0..N {
                            let (qs, _, ss) = toks[t];
                            // SAFETY: block b of a row of k values exists
                            // in each token's rows (k / 32 blocks).
                            let q = unsafe {
                                _mm256_loadu_si256(qs.as_ptr().add(b * 32) as *const __m256i)
                            };
                            let q = if F == Q6K { _mm256_sign_epi8(q, v) } else { q };
                            let p = _mm256_madd_epi16(_mm256_maddubs_epi16(a, q), scale);
                            isum[t] = _mm256_add_epi32(isum[t], p);
                            if F != Q6K {
                                msum[t] += m as f32 * unsafe { *ss.get_unchecked(b) };
                            }
                        }
                    }
                    for t in 0..N {
                        // SAFETY: super-block i's first block exists.
                        let da = unsafe { *toks[t].1.get_unchecked(i * 8) };
                        acc[t] = _mm256_fmadd_ps(
                            _mm256_cvtepi32_ps(isum[t]),
                            _mm256_set1_ps(dw * da),
                            acc[t],
                        );
                        acc_m[t] -= dmin * msum[t];
                    }
                }
                for t in 0..N {
                    unsafe { out.write(t0 + t, r, hsum(acc[t]) + acc_m[t]) };
                }
            }
        }
    };
}

k_kernel!(k_kernel_avx2, "avx2,fma");
k_kernel!(k_kernel_vnni, "avx2,fma,avx512vnni,avx512vl");

/// Rows `rows` of `weights` times tokens `t0..t0 + take` (1 to
/// [`TILE`](super::TILE)),
/// into `out`.
///
/// # Safety
/// As for the kernels: whole rows, existing tokens, room in `out`; and
/// `path` is one the CPU supports.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rows(
    path: Path,
    fmt: Format,
    weights: &[u8],
    rows: std::ops::Range<usize>,
    acts: &Q8Rows,
    t0: usize,
    take: usize,
    out: &Out,
) {
    // One kernel instance per format, path and token count.
    macro_rules! dispatch {
        ($vnni:ident, $avx2:ident, $f:expr) => {
            unsafe {
                match (path, take) {
                    (Path::Vnni, 1) => $vnni::<{ $f }, 1>(weights, rows, acts, t0, out),
                    (Path::Vnni, 2) => $vnni::<{ $f }, 2>(weights, rows, acts, t0, out),
                    (Path::Vnni, 3) => $vnni::<{ $f }, 3>(weights, rows, acts, t0, out),
                    (Path::Vnni, _) => $vnni::<{ $f }, 4>(weights, rows, acts, t0, out),
                    (_, 1) => $avx2::<{ $f }, 1>(weights, rows, acts, t0, out),
                    (_, 2) => $avx2::<{ $f }, 2>(weights, rows, acts, t0, out),
                    (_, 3) => $avx2::<{ $f }, 3>(weights, rows, acts, t0, out),
                    (_, _) => $avx2::<{ $f }, 4>(weights, rows, acts, t0, out),
                }
            }
        };
    }
    macro_rules! run {
        ($f:expr) => {
            dispatch!(kernel_vnni, kernel_avx2, $f)
        };
    }
    macro_rules! run_k {
        ($f:expr) => {
            dispatch!(k_kernel_vnni, k_kernel_avx2, $f)
        };
    }
    match fmt {
        Format::Q4_0 => run!(Q4_0),
        Format::Q4_1 => run!(Q4_1),
        Format::Q5_0 => run!(Q5_0),
        Format::Q5_1 => run!(Q5_1),
        Format::Q8_0 => run!(Q8_0),
        Format::Q4K => run_k!(Q4K),
        Format::Q5K => run_k!(Q5K),
        Format::Q6K => run_k!(Q6K),
    }
}
