//! Tokenizers built from GGUF metadata (`tokenizer.ggml.*`), or from a
//! `tokenizer.json` beside the weights.
//!
//! Byte-level BPE vocabularies (GPT-2 style: SmolLM2, Llama 3, Qwen) are
//! rebuilt with the pre-tokenizer llama.cpp uses for the file's
//! `tokenizer.ggml.pre`, and no prefix space: Candle's own GGUF builder adds
//! one and gets SmolLM2's ids wrong.
//!
//! SentencePiece vocabularies (`tokenizer.ggml.model` "llama": Gemma,
//! TinyLlama, Mistral) carry scores instead of merges. llama.cpp merges the
//! adjacent pair whose joined text is the highest-scoring token, then falls
//! back to `<0xNN>` byte tokens for what is left; a BPE whose merges are every
//! split of every token, ranked by that token's score, with byte fallback,
//! does the same.

use std::path::Path;

use anyhow::Context;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Prepend, Replace};
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
    inner: std::sync::Arc<Tokenizer>,
    /// Ids of control tokens (`<|im_start|>`): never text.
    control: std::collections::HashSet<u32>,
    /// Byte-level BPE (token text is bytes mapped to printable characters)
    /// rather than SentencePiece (`▁` for space, `<0xNN>` byte tokens).
    byte_level: bool,
    pub bos: Option<String>,
    pub eos: Option<String>,
    /// Whether a prompt starts with BOS (`tokenizer.ggml.add_bos_token`;
    /// llama.cpp's default: yes for SentencePiece, no for byte-level BPE).
    pub add_bos: Option<u32>,
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
        let types = meta.ints("tokenizer.ggml.token_type").unwrap_or_default();
        let mut control: std::collections::HashSet<u32> = types
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                **t == CONTROL
                    && !tokens
                        .get(*i)
                        .is_some_and(|s| TOOL_MARKERS.contains(&s.as_str()))
            })
            .map(|(i, _)| i as u32)
            .collect();
        control.extend(
            inner
                .get_added_tokens_decoder()
                .into_iter()
                .filter(|(_, t)| t.special)
                .map(|(id, _)| id),
        );
        let byte_level = match inner.get_decoder() {
            Some(d) => matches!(d, tokenizers::DecoderWrapper::ByteLevel(_)),
            None => meta.str("tokenizer.ggml.model").unwrap_or("gpt2") == "gpt2",
        };
        let name = |key: &str| meta.usize(key).ok().and_then(|i| tokens.get(i).cloned());
        let bos = name("tokenizer.ggml.bos_token_id");
        let spm = meta.str("tokenizer.ggml.model").ok() == Some("llama");
        let add_bos = meta
            .bool("tokenizer.ggml.add_bos_token")
            .unwrap_or(spm)
            .then(|| meta.usize("tokenizer.ggml.bos_token_id").ok())
            .flatten()
            .map(|id| id as u32);
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
            inner: std::sync::Arc::new(inner),
            control,
            byte_level,
            bos,
            eos,
            add_bos,
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

    /// Whether the vocabulary has this token.
    pub fn has_token(&self, text: &str) -> bool {
        self.inner.token_to_id(text).is_some()
    }

    /// Token ids of a rendered prompt: BOS first when the vocabulary asks
    /// for it and the template did not already write it.
    pub fn encode_prompt(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let mut ids = self.encode(text)?;
        if let Some(bos) = self.add_bos
            && ids.first() != Some(&bos)
        {
            ids.insert(0, bos);
        }
        Ok(ids)
    }

    /// The tokenizer itself, for a constraint engine that tokenizes
    /// grammar literals.
    pub fn shared(&self) -> std::sync::Arc<Tokenizer> {
        self.inner.clone()
    }

    /// Each token's bytes as they appear in text; a control token is
    /// toktrie's special marker (0xFF) and its name, so it never matches
    /// text.
    pub fn token_bytes(&self) -> Vec<Vec<u8>> {
        let chars = if self.byte_level {
            byte_level_chars()
        } else {
            std::collections::HashMap::new()
        };
        (0..self.inner.get_vocab_size(true) as u32)
            .map(|id| {
                let Some(piece) = self.inner.id_to_token(id) else {
                    return Vec::new();
                };
                if self.control.contains(&id) {
                    let mut b = vec![0xFF];
                    b.extend_from_slice(piece.as_bytes());
                    return b;
                }
                if self.byte_level {
                    // Added (user-defined) tokens are plain text.
                    match piece.chars().map(|c| chars.get(&c).copied()).collect() {
                        Some(bytes) => bytes,
                        None => piece.into_bytes(),
                    }
                } else if piece.len() == 6 && piece.starts_with("<0x") && piece.ends_with('>') {
                    u8::from_str_radix(&piece[3..5], 16)
                        .map(|b| vec![b])
                        .unwrap_or_else(|_| piece.into_bytes())
                } else {
                    piece.replace('\u{2581}', " ").into_bytes()
                }
            })
            .collect()
    }

    /// Text of `ids`, control tokens left out.
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))
    }
}

fn from_gguf(meta: &Meta) -> anyhow::Result<Tokenizer> {
    let tokens = meta.strings("tokenizer.ggml.tokens")?;
    let types = meta.ints("tokenizer.ggml.token_type").unwrap_or_default();
    let mut tok = match meta.str("tokenizer.ggml.model").unwrap_or("gpt2") {
        "gpt2" => byte_level_bpe(meta, &tokens)?,
        "llama" => sentencepiece(meta, &tokens, &types)?,
        model => anyhow::bail!(
            "tokenizer model '{model}' is not supported (byte-level BPE 'gpt2' and SentencePiece 'llama' are); put a tokenizer.json beside the weights"
        ),
    };
    // Control (3) and user-defined (4) tokens are matched whole in text;
    // user-defined ones (Qwen's `<tool_call>`) are text when decoded.
    // Tool-call markers stay in the text even where the vocabulary marks
    // them as control tokens (Llama 3.1's `<|python_tag|>`, Mistral's
    // `[TOOL_CALLS]`): the call parser reads them.
    let added = |kind: i64| -> Vec<AddedToken> {
        tokens
            .iter()
            .zip(types.iter())
            .filter(|(s, t)| {
                let marker = TOOL_MARKERS.contains(&s.as_str());
                match kind {
                    CONTROL => **t == CONTROL && !marker,
                    _ => **t == USER_DEFINED || (**t == CONTROL && marker),
                }
            })
            .map(|(s, _)| AddedToken::from(s.clone(), kind == CONTROL))
            .collect()
    };
    tok.add_special_tokens(added(CONTROL))
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    tok.add_tokens(added(USER_DEFINED))
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    Ok(tok)
}

/// llama.cpp's token types.
const NORMAL: i64 = 1;
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

/// Tokens that open or delimit tool calls in common chat formats.
const TOOL_MARKERS: &[&str] = &[
    "<tool_call>",
    "</tool_call>",
    "<|python_tag|>",
    "[TOOL_CALLS]",
    "[ARGS]",
    "[CALL_ID]",
];

/// GPT-2's byte-level alphabet: the printable character each byte is
/// written as in a byte-level BPE vocabulary.
fn byte_level_chars() -> std::collections::HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut next = 0x100u32;
    (0..=255u8)
        .map(|b| {
            if printable(b) {
                (b as char, b)
            } else {
                next += 1;
                (char::from_u32(next - 1).unwrap_or('\0'), b)
            }
        })
        .collect()
}

fn sentencepiece(meta: &Meta, tokens: &[String], types: &[i64]) -> anyhow::Result<Tokenizer> {
    let scores = meta.floats("tokenizer.ggml.scores")?;
    anyhow::ensure!(
        scores.len() == tokens.len(),
        "tokenizer.ggml.scores has {} entries for {} tokens",
        scores.len(),
        tokens.len()
    );
    let vocab: tokenizers::models::bpe::Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    // Every way to build a normal token from two tokens is a merge, ranked
    // by the joined token's score (higher first; ties by id).
    let mut ranked: Vec<(f32, u32, &str, &str)> = Vec::new();
    for (id, text) in tokens.iter().enumerate() {
        if types.get(id).is_some_and(|t| *t != NORMAL) {
            continue;
        }
        for (cut, _) in text.char_indices().skip(1) {
            let (a, b) = text.split_at(cut);
            if vocab.contains_key(a) && vocab.contains_key(b) {
                ranked.push((scores[id], id as u32, a, b));
            }
        }
    }
    ranked.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let merges = ranked
        .into_iter()
        .map(|(_, _, a, b)| (a.to_string(), b.to_string()))
        .collect();
    let unk = meta
        .usize("tokenizer.ggml.unknown_token_id")
        .ok()
        .and_then(|i| tokens.get(i).cloned());
    let mut bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .byte_fallback(true)
        .fuse_unk(true);
    if let Some(unk) = unk {
        bpe = bpe.unk_token(unk);
    }
    let bpe = bpe.build().map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let mut tok = Tokenizer::new(bpe);
    let space_prefix = meta.bool("tokenizer.ggml.add_space_prefix").unwrap_or(true);
    let replace = Replace::new(" ", "\u{2581}").map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    let mut decoders = vec![
        Replace::new("\u{2581}", " ")
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?
            .into(),
        ByteFallback::default().into(),
        Fuse::default().into(),
    ];
    if space_prefix {
        tok.with_normalizer(Some(tokenizers::normalizers::Sequence::new(vec![
            Prepend::new("\u{2581}".into()).into(),
            replace.into(),
        ])))
        .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
        decoders.push(Strip::new(' ', 1, 0).into());
    } else {
        tok.with_normalizer(Some(replace))
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?;
    }
    tok.with_decoder(Some(DecoderSequence::new(decoders)));
    Ok(tok)
}

fn byte_level_bpe(meta: &Meta, tokens: &[String]) -> anyhow::Result<Tokenizer> {
    let merges = meta.strings("tokenizer.ggml.merges")?;
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
