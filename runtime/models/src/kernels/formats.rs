//! The GGML block layouts our kernels read. The classic formats' blocks
//! hold 32 weights; the K-quants' super-blocks hold 256, as 8 sub-blocks
//! of 32 with their own scales, which the kernels treat as 8 blocks.

use candle_core::quantized::GgmlDType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `d: f16, qs: [u8; 16]`; w = (nibble − 8) · d.
    Q4_0,
    /// `d: f16, m: f16, qs: [u8; 16]`; w = nibble · d + m.
    Q4_1,
    /// `d: f16, qh: [u8; 4], qs: [u8; 16]`; w = (nibble | high bit << 4 − 16) · d.
    Q5_0,
    /// `d: f16, m: f16, qh: [u8; 4], qs: [u8; 16]`; w = 5-bit value · d + m.
    Q5_1,
    /// `d: f16, qs: [i8; 32]`; w = q · d.
    Q8_0,
    /// 256 weights: `d, dmin: f16, scales: [u8; 12]` (6-bit scale and min
    /// per sub-block), `qs: [u8; 128]`; w = nibble · d·sc − dmin·m.
    Q4K,
    /// As Q4K with `qh: [u8; 32]` (a fifth bit) before `qs`.
    Q5K,
    /// 256 weights: `ql: [u8; 128], qh: [u8; 64], scales: [i8; 16], d: f16`;
    /// w = (6-bit value − 32) · d · scale, a scale per 16 weights.
    Q6K,
}

impl Format {
    pub fn of(dtype: GgmlDType) -> Option<Format> {
        Some(match dtype {
            GgmlDType::Q4_0 => Format::Q4_0,
            GgmlDType::Q4_1 => Format::Q4_1,
            GgmlDType::Q5_0 => Format::Q5_0,
            GgmlDType::Q5_1 => Format::Q5_1,
            GgmlDType::Q8_0 => Format::Q8_0,
            GgmlDType::Q4K => Format::Q4K,
            GgmlDType::Q5K => Format::Q5K,
            GgmlDType::Q6K => Format::Q6K,
            _ => return None,
        })
    }

    pub fn block_bytes(self) -> usize {
        match self {
            Format::Q4_0 => 18,
            Format::Q4_1 => 20,
            Format::Q5_0 => 22,
            Format::Q5_1 => 24,
            Format::Q8_0 => 34,
            Format::Q4K => 144,
            Format::Q5K => 176,
            Format::Q6K => 210,
        }
    }

    /// Weights per block (or super-block).
    pub fn block_values(self) -> usize {
        match self {
            Format::Q4K | Format::Q5K | Format::Q6K => 256,
            _ => 32,
        }
    }

    /// Where the 4-bit (or 8-bit) values start in a block.
    pub fn qs_offset(self) -> usize {
        match self {
            Format::Q4_0 | Format::Q8_0 => 2,
            Format::Q4_1 => 4,
            Format::Q5_0 => 6,
            Format::Q5_1 | Format::Q6K => 8,
            Format::Q4K => 16,
            Format::Q5K => 48,
        }
    }

    /// Where the 32 high bits start (5-bit formats).
    pub fn qh_offset(self) -> usize {
        match self {
            Format::Q5_0 => 2,
            _ => 4,
        }
    }
}

#[inline(always)]
pub fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// A block's scale `d` and `m_eff`, the per-block term that multiplies the
/// activation block's scaled sum: w = u · d + m_eff for the unsigned values
/// `u` of the 4- and 5-bit formats (0 for Q8_0).
#[inline(always)]
pub fn scales(fmt: Format, b: &[u8]) -> (f32, f32) {
    let d = f16_at(b, 0);
    let m = match fmt {
        Format::Q4_0 => -8.0 * d,
        Format::Q5_0 => -16.0 * d,
        Format::Q4_1 | Format::Q5_1 => f16_at(b, 2),
        _ => 0.0,
    };
    (d, m)
}

/// Sub-block `j`'s 6-bit scale and min in a Q4K/Q5K `scales` array.
#[inline(always)]
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// A K-quant super-block's scales as integers: `d`, `dmin` (0 for Q6K) and
/// for each of the 8 sub-blocks the integer scale of its first and of its
/// last 16 weights and its integer minimum (w = v · d·scale − dmin·min).
#[inline(always)]
pub fn k_int_scales(fmt: Format, sb: &[u8]) -> (f32, f32, [(i16, i16, i16); 8]) {
    match fmt {
        Format::Q6K => (
            f16_at(sb, 208),
            0.0,
            std::array::from_fn(|s| {
                let at = 192 + 8 * (s / 4) + 2 * (s % 4);
                (sb[at] as i8 as i16, sb[at + 1] as i8 as i16, 0)
            }),
        ),
        _ => (
            f16_at(sb, 0),
            f16_at(sb, 2),
            std::array::from_fn(|s| {
                let (sc, m) = scale_min_k4(s, &sb[4..16]);
                (sc as i16, sc as i16, m as i16)
            }),
        ),
    }
}

/// A K-quant super-block's 8 sub-blocks: for each, the scale of its first
/// and of its last 16 weights, and `m`, the term that multiplies the
/// activation block's scaled sum (w = v · scale + m, with `v` as
/// [`super::scalar::k_values`] gives them).
#[inline(always)]
pub fn k_scales(fmt: Format, sb: &[u8]) -> [(f32, f32, f32); 8] {
    let (d, dmin, ints) = k_int_scales(fmt, sb);
    ints.map(|(lo, hi, m)| (d * lo as f32, d * hi as f32, -dmin * m as f32))
}
