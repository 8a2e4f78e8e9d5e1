//! Tokenizers built from GGUF metadata (`tokenizer.ggml.*`), or from a
//! `tokenizer.json` beside the weights.
//!
//! Byte-level BPE vocabularies (GPT-2 style: SmolLM2, Llama 3, Qwen) are
//! rebuilt with the pre-tokenizer llama.cpp uses for the file's
//! `tokenizer.ggml.pre`, and no prefix space: Candle's own GGUF builder adds
//! one and gets SmolLM2's ids wrong.

use std::path::Path;

use anyhow::Context;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

use crate::gguf::Meta;

/// Token texts that end a turn in common chat formats.
const END_OF_TURN: &[&str] = &[
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
    "<|return|>",
];

/// llama.cpp's pre-tokenizer regex for Llama 3 / Qwen style vocabularies.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

pub struct Tok {
    inner: Tokenizer,
    pub bos: Option<String>,
    pub eos: Option<String>,
    /// Ids that end generation: EOS and end-of-turn tokens.
    pub stop_ids: Vec<u32>,
}

impl Tok {
    /// From the GGUF metadata, unless `tokenizer.json` sits beside the file.
    pub fn load(meta: &Meta, weights: &Path) -> anyhow::Result<Tok> {
        let beside = weights.with_file_name("tokenizer.json");
        let inner = if beside.is_file() {
            Tokenizer::from_file(&beside)
                .map_err(|e| anyhow::anyhow!("{}: {e}", beside.display()))?
        } else {
            from_gguf(meta)?
        };
        let tokens = meta.strings("tokenizer.ggml.tokens").unwrap_or_default();
        let name = |key: &str| meta.usize(key).ok().and_then(|i| tokens.get(i).cloned());
        let bos = name("tokenizer.ggml.bos_token_id");
        let eos = name("tokenizer.ggml.eos_token_id");
        let mut stop_ids: Vec<u32> = Vec::new();
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"] {
            if let Ok(id) = meta.usize(key) {
                stop_ids.push(id as u32);
            }
        }
        for t in END_OF_TURN {
            if let Some(id) = inner.token_to_id(t) {
                stop_ids.push(id);
            }
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();
        Ok(Tok {
            inner,
            bos,
            eos,
            stop_ids,
        })
    }

    /// Token ids of `text`. Special tokens written in the text (the chat
    /// template's `<|im_start|>`) become their single ids.
    pub fn encode(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?
            .get_ids()
            .to_vec())
    }

    /// Text of `ids`, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))
    }
}

fn from_gguf(meta: &Meta) -> anyhow::Result<Tokenizer> {
    let model = meta.str("tokenizer.ggml.model").unwrap_or("gpt2");
    if model != "gpt2" {
        anyhow::bail!(
            "tokenizer model '{model}' is not supported yet (byte-level BPE 'gpt2' is); put a tokenizer.json beside the weights"
        );
    }
    let tokens = meta.strings("tokenizer.ggml.tokens")?;
    let merges = meta.strings("tokenizer.ggml.merges")?;
    let types = meta.ints("tokenizer.ggml.token_type").unwrap_or_default();
    let vocab: tokenizers::models::bpe::Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let merges = merges
        .iter()
        .map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .with_context(|| format!("bad merge {m:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let mut tok = Tokenizer::new(bpe);
    let byte_level = ByteLevel::new(false, true, true);
    let pre: PreTokenizerWrapper = match meta.str("tokenizer.ggml.pre").unwrap_or("default") {
        "llama-bpe" | "llama3" | "qwen2" | "deepseek-r1-qwen" | "smaug-bpe" => {
            let split = Split::new(
                SplitPattern::Regex(LLAMA3_SPLIT.into()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
            Sequence::new(vec![
                split.into(),
                ByteLevel::new(false, true, false).into(),
            ])
            .into()
        }
        _ => byte_level.into(),
    };
    tok.with_pre_tokenizer(Some(pre));
    tok.with_decoder(Some(ByteLevelDecoder::default()));
    // Control (3) and user-defined (4) tokens are matched whole in text.
    let specials: Vec<AddedToken> = tokens
        .iter()
        .zip(types.iter())
        .filter(|(_, t)| **t == 3 || **t == 4)
        .map(|(s, t)| AddedToken::from(s.clone(), *t == 3))
        .collect();
    tok.add_special_tokens(specials)
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    Ok(tok)
}

/// Turns a growing list of generated ids into text deltas, holding back
/// bytes of a character that is split across tokens.
pub struct Detok<'a> {
    tok: &'a Tok,
    ids: Vec<u32>,
    emitted: String,
}

impl<'a> Detok<'a> {
    pub fn new(tok: &'a Tok) -> Self {
        Detok {
            tok,
            ids: Vec::new(),
            emitted: String::new(),
        }
    }

    /// Adds a token; returns the new text, if any is complete.
    pub fn push(&mut self, id: u32) -> anyhow::Result<Option<String>> {
        self.ids.push(id);
        let text = self.tok.decode(&self.ids)?;
        if text.ends_with('\u{FFFD}') || text.len() <= self.emitted.len() {
            return Ok(None);
        }
        match text.get(self.emitted.len()..) {
            Some(delta) if text.starts_with(&self.emitted) => {
                let delta = delta.to_string();
                self.emitted = text;
                Ok(Some(delta))
            }
            _ => Ok(None),
        }
    }
}
