//! Sentence embeddings with BERT-family models in safetensors (for example
//! all-MiniLM-L6-v2): mean-pooled over the real tokens and L2-normalized.

use std::path::Path;

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Inputs longer than this many tokens are cut (MiniLM was trained on 256).
const MAX_TOKENS: usize = 256;

pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
}

/// Is `dir` an embedding model folder (config.json, tokenizer.json and
/// safetensors weights)?
pub fn is_embedding_dir(dir: &Path) -> bool {
    dir.join("config.json").is_file()
        && dir.join("tokenizer.json").is_file()
        && weights(dir).is_some()
}

pub fn weights(dir: &Path) -> Option<std::path::PathBuf> {
    let w = dir.join("model.safetensors");
    w.is_file().then_some(w)
}

impl Embedder {
    pub fn load(dir: &Path) -> anyhow::Result<Embedder> {
        let config: Config = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json")).context("config.json")?,
        )
        .context("config.json is not a BERT config")?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| anyhow::anyhow!("tokenizer.json: {e}"))?;
        // The shipped tokenizer pads every input to a fixed length; pad to
        // the longest in the batch instead, and pool with the mask.
        let pad = tokenizer.get_padding().cloned().unwrap_or_default();
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..pad
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        let file = weights(dir).context("no model.safetensors")?;
        // SAFETY: the file is mapped read-only and not modified while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[file], DType::F32, &Device::Cpu)? };
        let model = BertModel::load(vb, &config).context("cannot load the BERT weights")?;
        Ok(Embedder { model, tokenizer })
    }

    /// One normalized vector per text, and the number of tokens read.
    pub fn embed(&self, texts: &[String]) -> anyhow::Result<(Vec<Vec<f32>>, usize)> {
        if texts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<u32>| -> candle_core::Result<Tensor> {
            let v: Vec<Tensor> = enc
                .iter()
                .map(|e| Tensor::new(f(e).as_slice(), &Device::Cpu))
                .collect::<candle_core::Result<_>>()?;
            Tensor::stack(&v, 0)
        };
        let ids = rows(&|e| e.get_ids().to_vec())?;
        let types = rows(&|e| e.get_type_ids().to_vec())?;
        let mask = rows(&|e| e.get_attention_mask().to_vec())?;
        let tokens: usize = enc
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m == 1).count())
            .sum();
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over real tokens only.
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let normalized = mean.broadcast_div(&norm)?;
        Ok((normalized.to_vec2::<f32>()?, tokens))
    }
}
