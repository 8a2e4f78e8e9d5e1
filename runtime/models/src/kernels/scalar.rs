//! The portable inner product: what the SIMD paths must agree with.

use super::formats::{Format, k_scales, scales};

/// A block's 32 values: unsigned (with offset, see [`scales`]) for the 4-
/// and 5-bit formats, signed for Q8_0.
pub fn values(fmt: Format, b: &[u8]) -> [i32; 32] {
    let mut v = [0i32; 32];
    let qs = &b[fmt.qs_offset()..];
    match fmt {
        Format::Q8_0 => {
            for (o, q) in v.iter_mut().zip(qs.iter().take(32)) {
                *o = *q as i8 as i32;
            }
        }
        _ => {
            for j in 0..16 {
                v[j] = (qs[j] & 0x0F) as i32;
                v[j + 16] = (qs[j] >> 4) as i32;
            }
            if matches!(fmt, Format::Q5_0 | Format::Q5_1) {
                let at = fmt.qh_offset();
                let qh = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
                for (j, o) in v.iter_mut().enumerate() {
                    *o |= (((qh >> j) & 1) << 4) as i32;
                }
            }
        }
    }
    v
}

/// Sub-block `s` (0..8) of a K-quant super-block: unsigned 4- and 5-bit
/// values for Q4K and Q5K (their minimum is in [`k_scales`]), signed
/// (6-bit − 32) for Q6K.
pub fn k_values(fmt: Format, sb: &[u8], s: usize) -> [i32; 32] {
    let mut v = [0i32; 32];
    match fmt {
        Format::Q6K => {
            let (n, kind) = (s / 4, s % 4);
            let ql = &sb[64 * n + 32 * (kind % 2)..];
            let qh = &sb[128 + 32 * n..];
            for (l, o) in v.iter_mut().enumerate() {
                let lo = if kind < 2 { ql[l] & 0x0F } else { ql[l] >> 4 };
                let hi = (qh[l] >> (2 * kind)) & 3;
                *o = (lo | hi << 4) as i32 - 32;
            }
        }
        _ => {
            let qs = &sb[fmt.qs_offset() + 32 * (s / 2)..];
            for (l, o) in v.iter_mut().enumerate() {
                *o = if s.is_multiple_of(2) {
                    qs[l] & 0x0F
                } else {
                    qs[l] >> 4
                } as i32;
                if fmt == Format::Q5K {
                    *o |= (((sb[16 + l] >> s) & 1) << 4) as i32;
                }
            }
        }
    }
    v
}

/// One weight row · one quantized activation row.
pub fn dot(fmt: Format, w: &[u8], acts: (&[i8], &[f32], &[f32])) -> f32 {
    if fmt.block_values() == 256 {
        return k_dot(fmt, w, acts);
    }
    let (qs, d, s) = acts;
    let bytes = fmt.block_bytes();
    let mut sum = 0f32;
    for (b, block) in w.chunks_exact(bytes).enumerate() {
        let (dw, m) = scales(fmt, block);
        let v = values(fmt, block);
        let q = &qs[b * 32..(b + 1) * 32];
        let dot: i32 = v.iter().zip(q).map(|(a, b)| a * *b as i32).sum();
        sum += dw * d[b] * dot as f32 + m * s[b];
    }
    sum
}

/// [`dot`] for the K-quants: each 32-weight sub-block against its
/// activation block, a scale per 16 weights.
fn k_dot(fmt: Format, w: &[u8], (qs, d, s): (&[i8], &[f32], &[f32])) -> f32 {
    let mut sum = 0f32;
    for (i, sb) in w.chunks_exact(fmt.block_bytes()).enumerate() {
        for (j, (lo, hi, m)) in k_scales(fmt, sb).into_iter().enumerate() {
            let b = i * 8 + j;
            let v = k_values(fmt, sb, j);
            let q = &qs[b * 32..(b + 1) * 32];
            let half =
                |h: usize| -> i32 { (16 * h..16 * h + 16).map(|l| v[l] * q[l] as i32).sum() };
            sum += d[b] * (lo * half(0) as f32 + hi * half(1) as f32) + m * s[b];
        }
    }
    sum
}
