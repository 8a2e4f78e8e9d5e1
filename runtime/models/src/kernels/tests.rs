//! Every format and code path against Candle's reference: dequantize the
//! weights, then an f32 matmul. The kernels quantize activations to 8 bits
//! per block (as Candle's and llama.cpp's quantized matmuls do), so they
//! agree with the f32 reference within that rounding, and with Candle's
//! own quantized matmul much more closely.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use proptest::prelude::*;

use super::{Path, QLinear};

const FORMATS: [GgmlDType; 5] = [
    GgmlDType::Q4_0,
    GgmlDType::Q4_1,
    GgmlDType::Q5_0,
    GgmlDType::Q5_1,
    GgmlDType::Q8_0,
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
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn kernels_match_candle(
        format in 0usize..5,
        m in 1usize..10,
        pairs in 1usize..7,
        n in 1usize..40,
        seed in 1u64..u64::MAX,
        // Weights with an offset exercise the formats' minimum terms.
        offset in -0.5f32..0.5,
    ) {
        // Candle's Q4_1 reference needs an even number of blocks.
        let k = pairs * 64;
        let dev = Device::Cpu;
        let w = Tensor::from_vec(random(n * k, seed, 1.0, offset), (n, k), &dev).unwrap();
        let x = Tensor::from_vec(random(m * k, seed ^ 0x9e37, 2.0, 0.0), (1, m, k), &dev).unwrap();
        let q = Arc::new(QTensor::quantize(&w, FORMATS[format]).unwrap());
        let reference = x
            .matmul(&q.dequantize(&dev).unwrap().t().unwrap().unsqueeze(0).unwrap())
            .unwrap()
            .flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let candle = QMatMul::from_arc(q.clone()).unwrap()
            .forward(&x).unwrap()
            .flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let ours = QLinear::new(q).unwrap();
        prop_assert!(ours.format().is_some());
        let rms = |v: &[f32]| -> f32 {
            (v.iter().zip(&reference).map(|(a, r)| (a - r) * (a - r)).sum::<f32>() / v.len() as f32).sqrt()
        };
        let candle_error = rms(&candle);
        for path in paths() {
            let y = ours.forward_with(path, &x).unwrap();
            prop_assert_eq!(y.dims(), &[1, m, n]);
            let y = y.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            for (a, r) in y.iter().zip(&reference) {
                // Activation rounding: at most half a step (max|x| / 254)
                // per element; |w| ≤ 1.5 over k elements bounds it.
                prop_assert!((a - r).abs() <= 2.0 / 254.0 * 1.5 * k as f32 * 0.25 + 1e-3,
                    "{path:?} {:?}: {a} vs reference {r}", FORMATS[format]);
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
            // As close to the reference as Candle's quantized matmul, which
            // rounds the activation scales to f16 where ours keep f32.
            let ours_error = rms(&y);
            prop_assert!(ours_error <= candle_error * 1.05 + 1e-4 * max_abs(&reference).max(1.0),
                "{path:?} {:?}: rms error {ours_error} vs candle's {candle_error}", FORMATS[format]);
        }
    }
}

/// Formats without our kernels (K-quants, floats) go through Candle's.
#[test]
fn other_formats_fall_back_to_candle() {
    let dev = Device::Cpu;
    let w = Tensor::from_vec(random(8 * 256, 3, 1.0, 0.0), (8, 256), &dev).unwrap();
    let x = Tensor::from_vec(random(256, 5, 1.0, 0.0), (1, 256), &dev).unwrap();
    for dtype in [GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::F32] {
        let q = Arc::new(QTensor::quantize(&w, dtype).unwrap());
        let expect = QMatMul::from_arc(q.clone()).unwrap().forward(&x).unwrap();
        let ours = QLinear::new(q).unwrap();
        assert!(ours.format().is_none());
        let got = ours.forward(&x).unwrap();
        let d = (got - expect).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
    }
}
