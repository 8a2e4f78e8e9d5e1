//! The portable inner product: what the SIMD paths must agree with.

use super::formats::{Format, scales};

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

/// One weight row · one quantized activation row.
pub fn dot(fmt: Format, w: &[u8], (qs, d, s): (&[i8], &[f32], &[f32])) -> f32 {
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
