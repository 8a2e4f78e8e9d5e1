//! Writes a tiny GGUF with random weights and a small byte-level BPE
//! vocabulary, in the real file format: llama by default, or phi3 (fused
//! projections) and gemma3 (post-norms, GELU, sliding window) to reach those
//! code paths. Tests and benchmarks use it where a real model would be too
//! slow or is not at hand.

use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

pub const N_EMBD: usize = 64;
const N_HEAD: usize = 4;
const N_KV_HEAD: usize = 2;
const N_LAYER: usize = 2;
/// Gemma3 needs six layers for one global layer among local ones.
const N_LAYER_GEMMA: usize = 6;
/// The tiny Gemma3's sliding window, small enough for tests to pass it.
pub const WINDOW: usize = 8;
const N_FF: usize = 128;
pub const CONTEXT: usize = 512;

/// GPT-2's byte → printable character map, as byte-level BPE vocabularies
/// spell their tokens.
pub fn byte_chars() -> Vec<char> {
    let printable = |b: u32| {
        (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b)
    };
    let mut extra = 0;
    (0..256u32)
        .map(|b| {
            let code = if printable(b) {
                b
            } else {
                extra += 1;
                255 + extra
            };
            char::from_u32(code).unwrap_or('?')
        })
        .collect()
}

/// The vocabulary: 256 byte tokens, a few merges, and three control tokens.
pub fn vocab() -> (Vec<String>, Vec<String>, Vec<i32>) {
    let bytes = byte_chars();
    let mut tokens: Vec<String> = bytes.iter().map(|c| c.to_string()).collect();
    let sp = bytes[b' ' as usize];
    let merges: Vec<(String, String)> = vec![
        ("h".into(), "e".into()),
        ("l".into(), "l".into()),
        ("he".into(), "ll".into()),
        ("hell".into(), "o".into()),
        (sp.to_string(), "w".into()),
        ("o".into(), "r".into()),
    ];
    for (a, b) in &merges {
        tokens.push(format!("{a}{b}"));
    }
    let mut types = vec![1; tokens.len()];
    for special in ["<|im_start|>", "<|im_end|>", "<|endoftext|>"] {
        tokens.push(special.to_string());
        types.push(3);
    }
    let merges = merges
        .into_iter()
        .map(|(a, b)| format!("{a} {b}"))
        .collect();
    (tokens, merges, types)
}

/// A small deterministic pseudo-random generator (xorshift), so the same
/// seed always writes the same model.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn tensor(&mut self, rows: usize, cols: usize, scale: f32) -> candle_core::Result<Tensor> {
        let data: Vec<f32> = (0..rows * cols).map(|_| self.next() * scale).collect();
        Tensor::from_vec(data, (rows, cols), &Device::Cpu)
    }
}

/// Writes the llama model to `path`.
pub fn write(path: &Path, seed: u64) -> anyhow::Result<()> {
    write_arch(path, seed, "llama")
}

/// Writes a model of `arch` ("llama", "phi3" or "gemma3") to `path`.
pub fn write_arch(path: &Path, seed: u64, arch: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(arch, "llama" | "phi3" | "gemma3"),
        "tiny models come as llama, phi3 or gemma3"
    );
    let n_layer = if arch == "gemma3" {
        N_LAYER_GEMMA
    } else {
        N_LAYER
    };
    let (tokens, merges, types) = vocab();
    let n_vocab = tokens.len();
    let mut rng = Rng(seed.max(1));
    let q = |t: Tensor| QTensor::quantize(&t, GgmlDType::Q8_0);
    let f = |t: Tensor| QTensor::quantize(&t, GgmlDType::F32);
    let ones = |n: usize| Tensor::ones(n, candle_core::DType::F32, &Device::Cpu);
    let mut tensors: Vec<(String, QTensor)> = Vec::new();
    tensors.push((
        "token_embd.weight".into(),
        q(rng.tensor(n_vocab, N_EMBD, 1.0)?)?,
    ));
    // The output rows of control tokens are zero, so random weights never
    // end a reply early: tests decide the length.
    let mut out = rng.tensor(n_vocab, N_EMBD, 1.0)?.to_vec2::<f32>()?;
    for (row, t) in out.iter_mut().zip(&types) {
        if *t == 3 {
            row.iter_mut().for_each(|x| *x = 0.0);
        }
    }
    let out = Tensor::new(out, &Device::Cpu)?;
    tensors.push(("output.weight".into(), q(out)?));
    tensors.push(("output_norm.weight".into(), f(ones(N_EMBD)?)?));
    let head_dim = N_EMBD / N_HEAD;
    let kv = N_KV_HEAD * head_dim;
    for i in 0..n_layer {
        let p = |s: &str| format!("blk.{i}.{s}");
        tensors.push((p("attn_norm.weight"), f(ones(N_EMBD)?)?));
        tensors.push((p("ffn_norm.weight"), f(ones(N_EMBD)?)?));
        if arch == "phi3" {
            let qkv = rng.tensor(N_EMBD + 2 * kv, N_EMBD, 0.3)?;
            tensors.push((p("attn_qkv.weight"), q(qkv)?));
        } else {
            tensors.push((p("attn_q.weight"), q(rng.tensor(N_EMBD, N_EMBD, 0.3)?)?));
            tensors.push((p("attn_k.weight"), q(rng.tensor(kv, N_EMBD, 0.3)?)?));
            tensors.push((p("attn_v.weight"), q(rng.tensor(kv, N_EMBD, 0.3)?)?));
        }
        tensors.push((
            p("attn_output.weight"),
            q(rng.tensor(N_EMBD, N_EMBD, 0.3)?)?,
        ));
        if arch == "phi3" {
            let gate_up = rng.tensor(2 * N_FF, N_EMBD, 0.3)?;
            tensors.push((p("ffn_up.weight"), q(gate_up)?));
        } else {
            tensors.push((p("ffn_gate.weight"), q(rng.tensor(N_FF, N_EMBD, 0.3)?)?));
            tensors.push((p("ffn_up.weight"), q(rng.tensor(N_FF, N_EMBD, 0.3)?)?));
        }
        tensors.push((p("ffn_down.weight"), q(rng.tensor(N_EMBD, N_FF, 0.3)?)?));
        if arch == "gemma3" {
            for norm in ["attn_q_norm", "attn_k_norm"] {
                tensors.push((p(&format!("{norm}.weight")), f(ones(head_dim)?)?));
            }
            for norm in ["post_attention_norm", "post_ffw_norm"] {
                tensors.push((p(&format!("{norm}.weight")), f(ones(N_EMBD)?)?));
            }
        }
    }
    let u32v = |n: usize| Value::U32(n as u32);
    let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let id_of = |s: &str| tokens.iter().position(|t| t == s).unwrap_or(0);
    let template = crate::template::FALLBACK;
    let k = |s: &str| format!("{arch}.{s}");
    let mut metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(arch.into())),
        (
            "general.name".into(),
            Value::String(format!("Tiny Random {arch}")),
        ),
        (k("block_count"), u32v(n_layer)),
        (k("context_length"), u32v(CONTEXT)),
        (k("embedding_length"), u32v(N_EMBD)),
        (k("feed_forward_length"), u32v(N_FF)),
        (k("attention.head_count"), u32v(N_HEAD)),
        (k("attention.head_count_kv"), u32v(N_KV_HEAD)),
        (k("attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
        (k("rope.dimension_count"), u32v(head_dim)),
    ];
    if arch == "gemma3" {
        metadata.push((k("attention.sliding_window"), u32v(WINDOW)));
        // A global base unlike the local layers' 10000.
        metadata.push((k("rope.freq_base"), Value::F32(1_000_000.0)));
    } else {
        metadata.push((k("rope.freq_base"), Value::F32(10000.0)));
    }
    let vocab_md: Vec<(&str, Value)> = vec![
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", strings(&tokens)),
        ("tokenizer.ggml.merges", strings(&merges)),
        (
            "tokenizer.ggml.token_type",
            Value::Array(types.iter().map(|t| Value::I32(*t)).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", u32v(id_of("<|im_start|>"))),
        ("tokenizer.ggml.eos_token_id", u32v(id_of("<|im_end|>"))),
        ("tokenizer.chat_template", Value::String(template.into())),
    ];
    metadata.extend(vocab_md.into_iter().map(|(k, v)| (k.to_string(), v)));
    let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tmp = path.with_extension("gguf.tmp");
    let mut file = std::fs::File::create(&tmp)?;
    gguf_file::write(&mut file, &md, &ts)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
