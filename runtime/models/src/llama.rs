//! The llama family of decoders (llama, qwen2, qwen3, phi3, gemma3) from
//! GGUF, with a KV cache that can be cut back to a shared prefix, so a
//! follow-up turn only pays for its new tokens.
//!
//! Written here rather than taken from candle-transformers because Candle's
//! quantized models keep their cache private (no prefix reuse), size their
//! rotary tables to a fixed 4096 or 131072 positions, and its Gemma3 uses
//! SiLU where Gemma uses GELU and has no sliding window when decoding.
//!
//! Gemma3 differs from llama in a handful of places, each a field of
//! [`Config`] or an optional tensor: embeddings scaled by √n_embd, GELU,
//! norms after attention and after the MLP, and five of every six layers
//! attending to a sliding window with their own rotary base.

use candle_core::quantized::{QTensor, gguf_file};
use candle_core::{D, DType, Device, Result, Tensor};
use std::sync::Arc;

use crate::gguf::Meta;
use crate::kernels::QLinear;

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
    /// Positions are divided by this (linear rope scaling) in global layers.
    pub rope_scale: f32,
    /// Scale applied to attention scores.
    pub attn_scale: f64,
    /// Gemma: embeddings times √n_embd, GELU in the MLP.
    pub gemma: bool,
    /// Local attention: (window, every how many layers one is global,
    /// rotary base of the local layers).
    pub sliding: Option<(usize, usize, f32)>,
}

impl Config {
    pub fn from_meta(meta: &Meta) -> anyhow::Result<Config> {
        let arch = meta.arch()?;
        if !matches!(
            arch.as_str(),
            "llama" | "qwen2" | "qwen3" | "phi3" | "gemma3"
        ) {
            anyhow::bail!(
                "unsupported model architecture '{arch}' (supported: llama, qwen2, qwen3, phi3, gemma3)"
            );
        }
        let k = |s: &str| format!("{arch}.{s}");
        let n_embd = meta.usize(&k("embedding_length"))?;
        let n_head = meta.usize(&k("attention.head_count"))?;
        let head_dim = meta
            .usize(&k("attention.key_length"))
            .unwrap_or(n_embd / n_head.max(1));
        let n_layer = meta.usize(&k("block_count"))?;
        let gemma = arch == "gemma3";
        // llama.cpp's values: Gemma3 27B scales queries by the model width
        // per head, the others by the head size; local layers use base
        // 10000, and one layer in six is global.
        let attn_scale = if gemma && n_layer == 62 {
            1.0 / ((n_embd / n_head) as f64).sqrt()
        } else {
            1.0 / (head_dim as f64).sqrt()
        };
        let sliding = match meta.usize(&k("attention.sliding_window")) {
            Ok(w) if gemma => Some((w, 6, 10_000.0)),
            _ => None,
        };
        let n_kv_head = meta.usize(&k("attention.head_count_kv")).unwrap_or(n_head);
        let rope_dim = meta.usize(&k("rope.dimension_count")).unwrap_or(head_dim);
        // A downloaded file's numbers size allocations and loops: refuse
        // what no model has before anything is read.
        anyhow::ensure!(
            n_head >= 1
                && n_kv_head >= 1
                && n_head.is_multiple_of(n_kv_head)
                && (1..=1024).contains(&n_layer)
                && (1..=1 << 20).contains(&n_embd)
                && (2..=1 << 16).contains(&head_dim)
                && rope_dim <= head_dim
                && rope_dim.is_multiple_of(2),
            "unusable model shape: {n_layer} layers, width {n_embd}, {n_head} heads ({n_kv_head} for keys and values) of {head_dim}, rotary dimension {rope_dim}"
        );
        let rope_scale = match meta.str(&k("rope.scaling.type")) {
            Ok("linear") => meta.f32(&k("rope.scaling.factor")).unwrap_or(1.0),
            _ => 1.0,
        };
        Ok(Config {
            n_layer,
            n_head,
            n_kv_head,
            n_embd,
            head_dim,
            rope_dim,
            rope_base: meta.f32(&k("rope.freq_base")).unwrap_or(10_000.0),
            // llama.cpp's rope type: qwen and phi3 rotate halves (NEOX),
            // llama rotates interleaved pairs.
            rope_neox: arch != "llama",
            eps: meta
                .f32(&k("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5) as f64,
            context_length: meta.usize(&k("context_length")).unwrap_or(2048),
            rope_scale,
            attn_scale,
            gemma,
            sliding,
            arch,
        })
    }
}

struct RmsNorm {
    weight: Vec<f32>,
    eps: f32,
}

impl RmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        crate::ops::rms_norm(x, &self.weight, self.eps)
    }
}

/// Query, key and value projections: three matrices, or one fused (phi3).
enum Qkv {
    Separate(QLinear, QLinear, QLinear),
    Fused(QLinear),
}

/// The gate and up projections of the MLP: two matrices, or one fused (phi3).
enum GateUp {
    Separate(QLinear, QLinear),
    Fused(QLinear),
}

struct Layer {
    attn_norm: RmsNorm,
    qkv: Qkv,
    bq: Option<Tensor>,
    bk: Option<Tensor>,
    bv: Option<Tensor>,
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    wo: QLinear,
    /// Gemma: norms of the attention and MLP outputs.
    post_attn_norm: Option<RmsNorm>,
    post_ffn_norm: Option<RmsNorm>,
    /// Attends to the sliding window only.
    local: bool,
    ffn_norm: RmsNorm,
    ffn: GateUp,
    down: QLinear,
    /// Keys and values of the positions seen so far.
    keys: KvBuffer,
    values: KvBuffer,
}

/// Rotary tables: cos and sin, (positions, rope_dim / 2).
struct Rope {
    cos: Tensor,
    sin: Tensor,
}

pub struct Model {
    pub config: Config,
    /// Token embeddings, kept quantized: rows are dequantized on lookup
    /// (Gemma3's table would be 670 MB as f32).
    embed: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: QLinear,
    rope: Rope,
    /// The local layers' tables, when their base differs.
    rope_local: Option<Rope>,
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
        check_shapes(&config, content)?;
        let mut w = Weights {
            content,
            reader,
            device,
        };
        let norm = |q: QTensor, eps: f64| -> Result<RmsNorm> {
            Ok(RmsNorm {
                weight: q.dequantize(device)?.flatten_all()?.to_vec1()?,
                eps: eps as f32,
            })
        };
        let embed = Arc::new(w.get("token_embd.weight")?);
        let output = match w.opt("output.weight") {
            Some(o) => QLinear::from_qtensor(o)?,
            // Tied embeddings.
            None => QLinear::new(embed.clone())?,
        };
        let final_norm = norm(w.get("output_norm.weight")?, config.eps)?;
        let mut layers = Vec::new();
        for i in 0..config.n_layer {
            let p = |s: &str| format!("blk.{i}.{s}");
            let dq = |q: QTensor| q.dequantize(device);
            layers.push(Layer {
                attn_norm: norm(w.get(&p("attn_norm.weight"))?, config.eps)?,
                qkv: match w.opt(&p("attn_qkv.weight")) {
                    Some(fused) => Qkv::Fused(QLinear::from_qtensor(fused)?),
                    None => Qkv::Separate(
                        QLinear::from_qtensor(w.get(&p("attn_q.weight"))?)?,
                        QLinear::from_qtensor(w.get(&p("attn_k.weight"))?)?,
                        QLinear::from_qtensor(w.get(&p("attn_v.weight"))?)?,
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
                wo: QLinear::from_qtensor(w.get(&p("attn_output.weight"))?)?,
                post_attn_norm: w
                    .opt(&p("post_attention_norm.weight"))
                    .map(|q| norm(q, config.eps))
                    .transpose()?,
                post_ffn_norm: w
                    .opt(&p("post_ffw_norm.weight"))
                    .map(|q| norm(q, config.eps))
                    .transpose()?,
                local: config
                    .sliding
                    .is_some_and(|(_, every, _)| (i + 1) % every != 0),
                ffn_norm: norm(w.get(&p("ffn_norm.weight"))?, config.eps)?,
                ffn: match w.opt(&p("ffn_gate.weight")) {
                    Some(gate) => GateUp::Separate(
                        QLinear::from_qtensor(gate)?,
                        QLinear::from_qtensor(w.get(&p("ffn_up.weight"))?)?,
                    ),
                    None => GateUp::Fused(QLinear::from_qtensor(w.get(&p("ffn_up.weight"))?)?),
                },
                down: QLinear::from_qtensor(w.get(&p("ffn_down.weight"))?)?,
                keys: KvBuffer::default(),
                values: KvBuffer::default(),
            });
        }
        let rope = rope_tables(
            config.rope_dim,
            config.rope_base,
            config.rope_scale,
            max_positions,
            device,
        )?;
        let rope_local = config
            .sliding
            .map(|(_, _, base)| rope_tables(config.rope_dim, base, 1.0, max_positions, device))
            .transpose()?;
        Ok(Model {
            config,
            embed,
            layers,
            norm: final_norm,
            output,
            rope,
            rope_local,
            device: device.clone(),
            cached: 0,
        })
    }

    /// Positions the rotary tables cover.
    pub fn max_positions(&self) -> usize {
        self.rope.cos.dim(0).unwrap_or(0)
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
            layer.keys.truncate(len);
            layer.values.truncate(len);
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
        let mut x = self.embed.embedding(&input)?;
        let c = &self.config;
        if c.gemma {
            x = (x * (c.n_embd as f64).sqrt())?;
        }
        let causal = mask(seq, pos, None, &self.device)?;
        let window = c.sliding.map(|(w, _, _)| w);
        let local_mask = match window {
            Some(_) => mask(seq, pos, window, &self.device)?,
            None => causal.clone(),
        };
        let narrow = |r: &Rope| -> Result<(Tensor, Tensor)> {
            Ok((r.cos.narrow(0, pos, seq)?, r.sin.narrow(0, pos, seq)?))
        };
        let global = narrow(&self.rope)?;
        let max_positions = self.max_positions();
        let local = self.rope_local.as_ref().map(narrow).transpose()?;
        for layer in &mut self.layers {
            let residual = x.clone();
            let h = layer.attn_norm.forward(&x)?;
            let (m, (cos, sin)) = match (layer.local, &local) {
                (true, Some(l)) => (local_mask.as_ref(), l),
                (true, None) => (local_mask.as_ref(), &global),
                (false, _) => (causal.as_ref(), &global),
            };
            let h = attention(layer, c, &h, m, cos, sin, max_positions)?;
            let h = match &layer.post_attn_norm {
                Some(n) => n.forward(&h)?,
                None => h,
            };
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
            let h = layer
                .down
                .forward(&crate::ops::gated(&gate, &up, c.gemma)?)?;
            let h = match &layer.post_ffn_norm {
                Some(n) => n.forward(&h)?,
                None => h,
            };
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
    max_positions: usize,
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
    let q = crate::ops::rope(&q, cos, sin, c.rope_neox)?;
    let k = crate::ops::rope(&k, cos, sin, c.rope_neox)?;
    let k = layer.keys.append(&k, max_positions)?;
    let v = layer.values.append(&v, max_positions)?;
    // Grouped-query attention without copying keys and values per head:
    // the query heads that share a key/value head are stacked along the
    // sequence axis, (1, n_kv_head, rep × seq, head_dim).
    let rep = c.n_head / c.n_kv_head;
    let len = k.dim(2)?;
    let q = q.reshape((b, c.n_kv_head, rep * seq, c.head_dim))?;
    let att = (q.matmul(&k.t()?)? * c.attn_scale)?;
    let att = match mask {
        Some(m) => att
            .reshape((b, c.n_kv_head, rep, seq, len))?
            .broadcast_add(m)?
            .reshape((b, c.n_kv_head, rep * seq, len))?,
        None => att,
    };
    let att = crate::ops::softmax_last_dim(&att)?;
    let y = att.matmul(&v)?;
    let y = y
        .reshape((b, c.n_head, seq, c.head_dim))?
        .transpose(1, 2)?
        .reshape((b, seq, c.n_head * c.head_dim))?;
    layer.wo.forward(&y)
}

/// Checks the tensors the model uses against the shapes its config
/// implies, before any is read: a forged file is refused here instead of
/// indexing out of bounds in a kernel.
fn check_shapes(c: &Config, content: &gguf_file::Content) -> anyhow::Result<()> {
    let dims = |name: &str| content.tensor_infos.get(name).map(|t| t.shape.dims());
    let want = |name: &str, expect: &[Option<usize>], required: bool| {
        let Some(d) = dims(name) else {
            anyhow::ensure!(!required, "tensor '{name}' is missing");
            return Ok(None);
        };
        let fits =
            d.len() == expect.len() && d.iter().zip(expect).all(|(a, e)| e.is_none_or(|e| *a == e));
        anyhow::ensure!(
            fits,
            "tensor '{name}' has the shape {d:?}, the model needs {expect:?}"
        );
        Ok(Some(d.to_vec()))
    };
    let e = Some(c.n_embd);
    let q = Some(c.n_head * c.head_dim);
    let kv = c.n_kv_head * c.head_dim;
    want("token_embd.weight", &[None, e], true)?;
    want("output.weight", &[None, e], false)?;
    want("output_norm.weight", &[e], true)?;
    for i in 0..c.n_layer {
        let p = |s: &str| format!("blk.{i}.{s}");
        for norm in [
            "attn_norm",
            "ffn_norm",
            "post_attention_norm",
            "post_ffw_norm",
        ] {
            want(
                &p(&format!("{norm}.weight")),
                &[e],
                !norm.starts_with("post"),
            )?;
        }
        if dims(&p("attn_qkv.weight")).is_some() {
            want(&p("attn_qkv.weight"), &[q.map(|q| q + 2 * kv), e], true)?;
        } else {
            want(&p("attn_q.weight"), &[q, e], true)?;
            want(&p("attn_k.weight"), &[Some(kv), e], true)?;
            want(&p("attn_v.weight"), &[Some(kv), e], true)?;
        }
        want(&p("attn_q.bias"), &[q], false)?;
        want(&p("attn_k.bias"), &[Some(kv)], false)?;
        want(&p("attn_v.bias"), &[Some(kv)], false)?;
        want(&p("attn_q_norm.weight"), &[Some(c.head_dim)], false)?;
        want(&p("attn_k_norm.weight"), &[Some(c.head_dim)], false)?;
        want(&p("attn_output.weight"), &[e, q], true)?;
        let ff = match want(&p("ffn_gate.weight"), &[None, e], false)? {
            Some(gate) => {
                want(&p("ffn_up.weight"), &[Some(gate[0]), e], true)?;
                gate[0]
            }
            None => {
                let up = want(&p("ffn_up.weight"), &[None, e], true)?.unwrap_or_default();
                anyhow::ensure!(
                    up[0].is_multiple_of(2),
                    "tensor '{}' has an odd width",
                    p("ffn_up.weight")
                );
                up[0] / 2
            }
        };
        want(&p("ffn_down.weight"), &[e, Some(ff)], true)?;
    }
    Ok(())
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

/// Keys or values of the positions seen so far, (1, n_kv_head, len,
/// head_dim), in a buffer whose capacity doubles as needed (up to the
/// context): appending a token writes one position instead of copying the
/// whole history, and cutting back to a shared prefix is free.
#[derive(Default)]
struct KvBuffer {
    buf: Option<Tensor>,
    len: usize,
}

impl KvBuffer {
    /// Appends `x` (1, heads, seq, head_dim) and returns all positions.
    fn append(&mut self, x: &Tensor, max_positions: usize) -> Result<Tensor> {
        let (b, h, seq, d) = x.dims4()?;
        let need = self.len + seq;
        let capacity = self.buf.as_ref().map_or(0, |t| t.dim(2).unwrap_or(0));
        if need > capacity {
            let grown = need.next_power_of_two().clamp(256, max_positions.max(need));
            let buf = Tensor::zeros((b, h, grown, d), x.dtype(), x.device())?;
            if let (Some(old), true) = (&self.buf, self.len > 0) {
                buf.slice_set(&old.narrow(2, 0, self.len)?.contiguous()?, 2, 0)?;
            }
            self.buf = Some(buf);
        }
        let Some(buf) = &self.buf else {
            candle_core::bail!("KV buffer missing");
        };
        buf.slice_set(&x.contiguous()?, 2, self.len)?;
        self.len = need;
        buf.narrow(2, 0, need)
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

/// Additive mask for `seq` new tokens after `pos` cached ones: 0 where a
/// token may look, -inf where it may not (the future, and with a `window`,
/// positions that far back or further). None when nothing is masked.
fn mask(seq: usize, pos: usize, window: Option<usize>, device: &Device) -> Result<Option<Tensor>> {
    let total = pos + seq;
    let window = window.unwrap_or(usize::MAX);
    if seq == 1 && total <= window {
        return Ok(None);
    }
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| {
            (0..total).map(move |j| {
                let q = pos + i;
                if j > q || q - j >= window {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
        })
        .collect();
    Tensor::from_slice(&mask, (seq, total), device).map(Some)
}

fn rope_tables(
    dim: usize,
    base: f32,
    scale: f32,
    positions: usize,
    device: &Device,
) -> Result<Rope> {
    let inv: Vec<f32> = (0..dim)
        .step_by(2)
        .map(|i| 1.0 / base.powf(i as f32 / dim as f32))
        .collect();
    let inv = Tensor::from_vec(inv, (1, dim / 2), device)?;
    let t = Tensor::arange(0u32, positions as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((positions, 1))?;
    let t = (t / scale as f64)?;
    let freqs = t.matmul(&inv)?;
    Ok(Rope {
        cos: freqs.cos()?,
        sin: freqs.sin()?,
    })
}

/// The index of the largest logit.
pub fn argmax(logits: &Tensor) -> Result<u32> {
    logits.argmax(D::Minus1)?.to_scalar::<u32>()
}
