//! The llama family of decoders (llama, qwen2, qwen3, phi3) from GGUF, with a KV
//! cache that can be cut back to a shared prefix, so a follow-up turn only
//! pays for its new tokens.
//!
//! Written here rather than taken from candle-transformers because Candle's
//! quantized models keep their cache private (no prefix reuse) and size
//! their rotary tables to a fixed 4096 or 131072 positions.

use candle_core::quantized::{QMatMul, QTensor, gguf_file};
use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::Embedding;

use crate::gguf::Meta;

/// The shape of one model, read from GGUF metadata.
#[derive(Debug, Clone)]
pub struct Config {
    pub arch: String,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub n_embd: usize,
    pub head_dim: usize,
    pub rope_dim: usize,
    pub rope_base: f32,
    pub rope_neox: bool,
    pub eps: f64,
    pub context_length: usize,
}

impl Config {
    pub fn from_meta(meta: &Meta) -> anyhow::Result<Config> {
        let arch = meta.arch()?;
        if !matches!(arch.as_str(), "llama" | "qwen2" | "qwen3" | "phi3") {
            anyhow::bail!(
                "unsupported model architecture '{arch}' (supported: llama, qwen2, qwen3, phi3)"
            );
        }
        let k = |s: &str| format!("{arch}.{s}");
        let n_embd = meta.usize(&k("embedding_length"))?;
        let n_head = meta.usize(&k("attention.head_count"))?;
        let head_dim = meta
            .usize(&k("attention.key_length"))
            .unwrap_or(n_embd / n_head);
        Ok(Config {
            n_layer: meta.usize(&k("block_count"))?,
            n_head,
            n_kv_head: meta.usize(&k("attention.head_count_kv")).unwrap_or(n_head),
            n_embd,
            head_dim,
            rope_dim: meta.usize(&k("rope.dimension_count")).unwrap_or(head_dim),
            rope_base: meta.f32(&k("rope.freq_base")).unwrap_or(10_000.0),
            // llama.cpp's rope type: qwen and phi3 rotate halves (NEOX),
            // llama rotates interleaved pairs.
            rope_neox: arch != "llama",
            eps: meta
                .f32(&k("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5) as f64,
            context_length: meta.usize(&k("context_length")).unwrap_or(2048),
            arch,
        })
    }
}

struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        candle_nn::ops::rms_norm(x, &self.weight, self.eps)
    }
}

/// Query, key and value projections: three matrices, or one fused (phi3).
enum Qkv {
    Separate(QMatMul, QMatMul, QMatMul),
    Fused(QMatMul),
}

/// The gate and up projections of the MLP: two matrices, or one fused (phi3).
enum GateUp {
    Separate(QMatMul, QMatMul),
    Fused(QMatMul),
}

struct Layer {
    attn_norm: RmsNorm,
    qkv: Qkv,
    bq: Option<Tensor>,
    bk: Option<Tensor>,
    bv: Option<Tensor>,
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    wo: QMatMul,
    ffn_norm: RmsNorm,
    ffn: GateUp,
    down: QMatMul,
    /// Keys and values of the positions seen so far: (1, n_kv_head, len, head_dim).
    cache: Option<(Tensor, Tensor)>,
}

pub struct Model {
    pub config: Config,
    embed: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: QMatMul,
    cos: Tensor,
    sin: Tensor,
    device: Device,
    /// How many positions the KV cache holds.
    cached: usize,
}

impl Model {
    /// Loads the weights. `max_positions` sizes the rotary tables: the
    /// context actually used, not the model's maximum.
    pub fn load<R: std::io::Read + std::io::Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
        config: Config,
        max_positions: usize,
        device: &Device,
    ) -> anyhow::Result<Model> {
        let mut w = Weights {
            content,
            reader,
            device,
        };
        let norm = |q: QTensor, eps: f64| -> Result<RmsNorm> {
            Ok(RmsNorm {
                weight: q.dequantize(device)?,
                eps: eps as f32,
            })
        };
        let embd_q = w.get("token_embd.weight")?;
        let embed = Embedding::new(embd_q.dequantize(device)?, config.n_embd);
        let output = match w.opt("output.weight") {
            Some(o) => QMatMul::from_qtensor(o)?,
            // Tied embeddings.
            None => QMatMul::from_qtensor(embd_q)?,
        };
        let final_norm = norm(w.get("output_norm.weight")?, config.eps)?;
        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let p = |s: &str| format!("blk.{i}.{s}");
            let dq = |q: QTensor| q.dequantize(device);
            layers.push(Layer {
                attn_norm: norm(w.get(&p("attn_norm.weight"))?, config.eps)?,
                qkv: match w.opt(&p("attn_qkv.weight")) {
                    Some(fused) => Qkv::Fused(QMatMul::from_qtensor(fused)?),
                    None => Qkv::Separate(
                        QMatMul::from_qtensor(w.get(&p("attn_q.weight"))?)?,
                        QMatMul::from_qtensor(w.get(&p("attn_k.weight"))?)?,
                        QMatMul::from_qtensor(w.get(&p("attn_v.weight"))?)?,
                    ),
                },
                bq: w.opt(&p("attn_q.bias")).map(dq).transpose()?,
                bk: w.opt(&p("attn_k.bias")).map(dq).transpose()?,
                bv: w.opt(&p("attn_v.bias")).map(dq).transpose()?,
                q_norm: w
                    .opt(&p("attn_q_norm.weight"))
                    .map(|q| norm(q, config.eps))
                    .transpose()?,
                k_norm: w
                    .opt(&p("attn_k_norm.weight"))
                    .map(|q| norm(q, config.eps))
                    .transpose()?,
                wo: QMatMul::from_qtensor(w.get(&p("attn_output.weight"))?)?,
                ffn_norm: norm(w.get(&p("ffn_norm.weight"))?, config.eps)?,
                ffn: match w.opt(&p("ffn_gate.weight")) {
                    Some(gate) => GateUp::Separate(
                        QMatMul::from_qtensor(gate)?,
                        QMatMul::from_qtensor(w.get(&p("ffn_up.weight"))?)?,
                    ),
                    None => GateUp::Fused(QMatMul::from_qtensor(w.get(&p("ffn_up.weight"))?)?),
                },
                down: QMatMul::from_qtensor(w.get(&p("ffn_down.weight"))?)?,
                cache: None,
            });
        }
        let (cos, sin) = rope_tables(config.rope_dim, config.rope_base, max_positions, device)?;
        Ok(Model {
            config,
            embed,
            layers,
            norm: final_norm,
            output,
            cos,
            sin,
            device: device.clone(),
            cached: 0,
        })
    }

    /// Positions the rotary tables cover.
    pub fn max_positions(&self) -> usize {
        self.cos.dim(0).unwrap_or(0)
    }

    /// How many positions the KV cache holds.
    pub fn cached(&self) -> usize {
        self.cached
    }

    /// Forgets cached positions from `len` on (keeps the prefix).
    pub fn truncate_cache(&mut self, len: usize) -> Result<()> {
        if len >= self.cached {
            return Ok(());
        }
        for layer in &mut self.layers {
            layer.cache = match (&layer.cache, len) {
                (_, 0) | (None, _) => None,
                (Some((k, v)), n) => Some((k.narrow(2, 0, n)?, v.narrow(2, 0, n)?)),
            };
        }
        self.cached = len;
        Ok(())
    }

    /// Runs `tokens` at positions `cached()..`, appends them to the cache,
    /// and returns the logits of the last one.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let seq = tokens.len();
        let pos = self.cached;
        if pos + seq > self.max_positions() {
            candle_core::bail!(
                "position {} is past the context of {} tokens",
                pos + seq,
                self.max_positions()
            );
        }
        let input = Tensor::new(tokens, &self.device)?.unsqueeze(0)?;
        let mut x = self.embed.forward(&input)?;
        let mask = if seq > 1 {
            Some(causal_mask(seq, pos, &self.device)?)
        } else {
            None
        };
        let cos = self.cos.narrow(0, pos, seq)?;
        let sin = self.sin.narrow(0, pos, seq)?;
        let c = &self.config;
        for layer in &mut self.layers {
            let residual = x.clone();
            let h = layer.attn_norm.forward(&x)?;
            let h = attention(layer, c, &h, mask.as_ref(), &cos, &sin)?;
            let x1 = (h + residual)?;
            let h = layer.ffn_norm.forward(&x1)?;
            let (gate, up) = match &layer.ffn {
                GateUp::Separate(g, u) => (g.forward(&h)?, u.forward(&h)?),
                GateUp::Fused(gu) => {
                    let y = gu.forward(&h)?;
                    let n = y.dim(D::Minus1)? / 2;
                    (y.narrow(D::Minus1, 0, n)?, y.narrow(D::Minus1, n, n)?)
                }
            };
            let h = layer.down.forward(&(candle_nn::ops::silu(&gate)? * up)?)?;
            x = (h + x1)?;
        }
        self.cached = pos + seq;
        let last = x.narrow(1, seq - 1, 1)?;
        let last = self.norm.forward(&last)?;
        self.output
            .forward(&last)?
            .squeeze(0)?
            .squeeze(0)?
            .to_dtype(DType::F32)
    }
}

fn attention(
    layer: &mut Layer,
    c: &Config,
    x: &Tensor,
    mask: Option<&Tensor>,
    cos: &Tensor,
    sin: &Tensor,
) -> Result<Tensor> {
    let (b, seq, _) = x.dims3()?;
    let with_bias = |y: Tensor, bias: &Option<Tensor>| -> Result<Tensor> {
        match bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    };
    let (q, k, v) = match &layer.qkv {
        Qkv::Separate(wq, wk, wv) => (wq.forward(x)?, wk.forward(x)?, wv.forward(x)?),
        Qkv::Fused(w) => {
            let y = w.forward(x)?;
            let (nq, nkv) = (c.n_head * c.head_dim, c.n_kv_head * c.head_dim);
            (
                y.narrow(D::Minus1, 0, nq)?,
                y.narrow(D::Minus1, nq, nkv)?,
                y.narrow(D::Minus1, nq + nkv, nkv)?,
            )
        }
    };
    let q = with_bias(q, &layer.bq)?.reshape((b, seq, c.n_head, c.head_dim))?;
    let k = with_bias(k, &layer.bk)?.reshape((b, seq, c.n_kv_head, c.head_dim))?;
    let v = with_bias(v, &layer.bv)?.reshape((b, seq, c.n_kv_head, c.head_dim))?;
    // qwen3 normalizes each head before the rotation.
    let q = match &layer.q_norm {
        Some(n) => n.forward(&q.contiguous()?)?,
        None => q,
    };
    let k = match &layer.k_norm {
        Some(n) => n.forward(&k.contiguous()?)?,
        None => k,
    };
    let q = q.transpose(1, 2)?.contiguous()?;
    let k = k.transpose(1, 2)?.contiguous()?;
    let v = v.transpose(1, 2)?.contiguous()?;
    let rope = |t: &Tensor| -> Result<Tensor> {
        if c.rope_neox {
            candle_nn::rotary_emb::rope(t, cos, sin)
        } else {
            candle_nn::rotary_emb::rope_i(t, cos, sin)
        }
    };
    let q = rope(&q)?;
    let k = rope(&k)?;
    let (k, v) = match &layer.cache {
        None => (k, v),
        Some((kc, vc)) => (Tensor::cat(&[kc, &k], 2)?, Tensor::cat(&[vc, &v], 2)?),
    };
    layer.cache = Some((k.clone(), v.clone()));
    let rep = c.n_head / c.n_kv_head;
    let k = repeat_kv(k, rep)?;
    let v = repeat_kv(v, rep)?;
    let scale = 1.0 / (c.head_dim as f64).sqrt();
    let att = (q.matmul(&k.t()?)? * scale)?;
    let att = match mask {
        Some(m) => att.broadcast_add(m)?,
        None => att,
    };
    let att = candle_nn::ops::softmax_last_dim(&att)?;
    let y = att.matmul(&v.contiguous()?)?;
    let y = y
        .transpose(1, 2)?
        .reshape((b, seq, c.n_head * c.head_dim))?;
    layer.wo.forward(&y)
}

struct Weights<'a, R> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
    device: &'a Device,
}

impl<R: std::io::Read + std::io::Seek> Weights<'_, R> {
    fn get(&mut self, name: &str) -> Result<QTensor> {
        self.content.tensor(self.reader, name, self.device)
    }

    fn opt(&mut self, name: &str) -> Option<QTensor> {
        if self.content.tensor_infos.contains_key(name) {
            self.get(name).ok()
        } else {
            None
        }
    }
}

fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, h, s, d) = x.dims4()?;
    Tensor::cat(&vec![&x; n], 2)?.reshape((b, h * n, s, d))
}

/// Additive mask for `seq` new tokens after `pos` cached ones: 0 where a
/// token may look, -inf where it may not (the future).
fn causal_mask(seq: usize, pos: usize, device: &Device) -> Result<Tensor> {
    let total = pos + seq;
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..total).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_slice(&mask, (seq, total), device)
}

fn rope_tables(
    dim: usize,
    base: f32,
    positions: usize,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let inv: Vec<f32> = (0..dim)
        .step_by(2)
        .map(|i| 1.0 / base.powf(i as f32 / dim as f32))
        .collect();
    let inv = Tensor::from_vec(inv, (1, dim / 2), device)?;
    let t = Tensor::arange(0u32, positions as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((positions, 1))?;
    let freqs = t.matmul(&inv)?;
    Ok((freqs.cos()?, freqs.sin()?))
}

/// The index of the largest logit.
pub fn argmax(logits: &Tensor) -> Result<u32> {
    logits.argmax(D::Minus1)?.to_scalar::<u32>()
}
