//! Every format and code path against Candle's reference: dequantize the
//! weights, then an f32 matmul. The kernels quantize activations to 8 bits
//! per block (as Candle's and llama.cpp's quantized matmuls do), so they
//! must agree with the reference within the error that rounding allows,
//! computed for each output from the data.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use proptest::prelude::*;

use super::{Path, QLinear};

const FORMATS: [GgmlDType; 8] = [
    GgmlDType::Q4_0,
    GgmlDType::Q4_1,
    GgmlDType::Q5_0,
    GgmlDType::Q5_1,
    GgmlDType::Q8_0,
    GgmlDType::Q4K,
    GgmlDType::Q5K,
    GgmlDType::Q6K,
];

fn paths() -> Vec<Path> {
    let mut p = vec![Path::Scalar];
    match Path::detect() {
        Path::Vnni => p.extend([Path::Avx2, Path::Vnni]),
        Path::Avx2 => p.push(Path::Avx2),
        Path::Scalar => {}
    }
    p
}

fn random(n: usize, seed: u64, scale: f32, offset: f32) -> Vec<f32> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale + offset
        })
        .collect()
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |a, x| a.max(x.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn kernels_match_candle(
        format in 0usize..8,
        m in 1usize..10,
        pairs in 1usize..7,
        n in 1usize..40,
        seed in 1u64..u64::MAX,
        // Weights with an offset exercise the formats' minimum terms.
        offset in -0.5f32..0.5,
    ) {
        // Candle's Q4_1 reference needs an even number of blocks; the
        // K-quants' rows are whole super-blocks of 256.
        let k = if format >= 5 { pairs * 256 } else { pairs * 64 };
        let dev = Device::Cpu;
        let w = Tensor::from_vec(random(n * k, seed, 1.0, offset), (n, k), &dev).unwrap();
        let x = Tensor::from_vec(random(m * k, seed ^ 0x9e37, 2.0, 0.0), (1, m, k), &dev).unwrap();
        let q = Arc::new(QTensor::quantize(&w, FORMATS[format]).unwrap());
        let deq = q.dequantize(&dev).unwrap();
        let reference = x
            .matmul(&deq.t().unwrap().unsqueeze(0).unwrap())
            .unwrap()
            .flatten_all().unwrap().to_vec1::<f32>().unwrap();
        // The error activation rounding allows: each value moves by at most
        // half its block's step (max|x| / 127), times |w|, summed; plus
        // float slack for the sums.
        let xs = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let ws = deq.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let mut bound = vec![0f32; m * n];
        // Activations share a scale per 32 values, or per 256 for the
        // K-quants (as llama.cpp's Q8_K).
        let group = if format >= 5 { 256 } else { 32 };
        for t in 0..m {
            for r in 0..n {
                let mut b = 0f32;
                let mut mag = 0f32;
                for blk in 0..k / 32 {
                    let xb = &xs[t * k + blk * 32..t * k + blk * 32 + 32];
                    let wb = &ws[r * k + blk * 32..r * k + blk * 32 + 32];
                    let g = t * k + blk * 32 / group * group;
                    let step = max_abs(&xs[g..g + group]) / 127.0;
                    b += step / 2.0 * wb.iter().map(|v| v.abs()).sum::<f32>();
                    mag += xb.iter().zip(wb).map(|(a, c)| (a * c).abs()).sum::<f32>();
                }
                bound[t * n + r] = b * 1.001 + 1e-5 * mag + 1e-6;
            }
        }
        let ours = QLinear::new(q).unwrap();
        prop_assert!(ours.format().is_some());
        for path in paths() {
            let y = ours.forward_with(path, &x).unwrap();
            prop_assert_eq!(y.dims(), &[1, m, n]);
            let y = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            for ((a, r), b) in y.iter().zip(&reference).zip(&bound) {
                prop_assert!((a - r).abs() <= *b,
                    "{path:?} {:?}: {a} vs reference {r}, allowed {b}", FORMATS[format]);
            }
            // A token's result does not depend on the tokens beside it
            // (prompt and decode paths agree, whether or not a turn reuses
            // the KV cache).
            for t in 0..m {
                let one = ours
                    .forward_with(path, &x.narrow(1, t, 1).unwrap())
                    .unwrap()
                    .flatten_all().unwrap().to_vec1::<f32>().unwrap();
                prop_assert_eq!(&one[..], &y[t * n..(t + 1) * n], "{:?} {:?} token {}", path, FORMATS[format], t);
            }
        }
    }
}

/// Formats without our kernels (Q2_K, Q3_K, floats) go through Candle's.
#[test]
fn other_formats_fall_back_to_candle() {
    let dev = Device::Cpu;
    let w = Tensor::from_vec(random(8 * 256, 3, 1.0, 0.0), (8, 256), &dev).unwrap();
    let x = Tensor::from_vec(random(256, 5, 1.0, 0.0), (1, 256), &dev).unwrap();
    for dtype in [GgmlDType::Q2K, GgmlDType::Q3K, GgmlDType::F32] {
        let q = Arc::new(QTensor::quantize(&w, dtype).unwrap());
        let expect = QMatMul::from_arc(q.clone()).unwrap().forward(&x).unwrap();
        let ours = QLinear::new(q).unwrap();
        assert!(ours.format().is_none());
        let got = ours.forward(&x).unwrap();
        let d = (got - expect).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    }
}
