//! The GGML block layouts our kernels read. Every block holds 32 weights.

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
}

impl Format {
    pub fn of(dtype: GgmlDType) -> Option<Format> {
        Some(match dtype {
            GgmlDType::Q4_0 => Format::Q4_0,
            GgmlDType::Q4_1 => Format::Q4_1,
            GgmlDType::Q5_0 => Format::Q5_0,
            GgmlDType::Q5_1 => Format::Q5_1,
            GgmlDType::Q8_0 => Format::Q8_0,
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
        }
    }

    /// Where the 4-bit (or 8-bit) values start in a block.
    pub fn qs_offset(self) -> usize {
        match self {
            Format::Q4_0 | Format::Q8_0 => 2,
            Format::Q4_1 => 4,
            Format::Q5_0 => 6,
            Format::Q5_1 => 8,
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
        Format::Q8_0 => 0.0,
    };
    (d, m)
}
