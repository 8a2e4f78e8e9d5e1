//! Constrained decoding with llguidance: a grammar (a JSON schema, or a Lark
//! grammar that embeds schemas) decides, before each token is sampled,
//! which tokens may come next. The same engine that llama.cpp, vLLM and
//! SGLang use; a home-made grammar engine would be slower and wronger.
//!
//! Two vocabularies: a model's (to mask its logits while generating), and a
//! 256-token byte vocabulary, which checks grammars before a model is
//! involved (a bad schema is the request's fault, answered before any
//! stream starts) and checks whether a finished text matches a grammar.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};

use crate::tokenizer::Tok;

/// Text to token ids.
type Encode = Box<dyn Fn(&str) -> Vec<TokenId> + Send + Sync>;

/// The vocabulary llguidance sees: every token's bytes, and a way to
/// tokenize text (used when a grammar names literal strings).
struct Env {
    trie: TokTrie,
    encode: Encode,
}

impl TokenizerEnv for Env {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.trie
            .tokenize_with_greedy_fallback(s, |text| (self.encode)(text))
    }
}

/// Builds parsers for one vocabulary.
pub struct Grammars {
    factory: ParserFactory,
}

impl Grammars {
    /// For a model: `n_vocab` is the width of its logits, which may exceed
    /// the tokenizer's vocabulary (padding rows never get sampled).
    pub fn for_model(tok: &Tok, n_vocab: usize) -> anyhow::Result<Grammars> {
        let mut words = tok.token_bytes();
        while words.len() < n_vocab {
            let mut pad = format!(".<[{}]>", words.len()).into_bytes();
            pad[0] = TokTrie::SPECIAL_TOKEN_MARKER;
            words.push(pad);
        }
        let eos = *tok
            .stop_ids
            .first()
            .context("the vocabulary has no EOS token")?;
        let info = TokRxInfo::new(words.len() as u32, eos);
        let trie = TokTrie::from(&info, &words).with_eos_tokens(&tok.stop_ids);
        let inner = tok.shared();
        let env = Env {
            trie,
            encode: Box::new(move |text| {
                inner
                    .encode(text, false)
                    .map(|e| e.get_ids().to_vec())
                    .unwrap_or_default()
            }),
        };
        Grammars::new(Arc::new(env))
    }

    fn new(env: TokEnv) -> anyhow::Result<Grammars> {
        let mut factory = ParserFactory::new_simple(&env)?;
        factory.quiet();
        Ok(Grammars { factory })
    }

    /// The byte vocabulary: token `b` is byte `b`, token 256 ends.
    fn bytes() -> &'static Grammars {
        static BYTES: OnceLock<Grammars> = OnceLock::new();
        BYTES.get_or_init(|| {
            let mut words: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
            words.push(vec![TokTrie::SPECIAL_TOKEN_MARKER, b'<', b'/', b's', b'>']);
            let info = TokRxInfo::new(words.len() as u32, 256);
            let env = Env {
                trie: TokTrie::from(&info, &words),
                encode: Box::new(|text| text.bytes().map(TokenId::from).collect()),
            };
            Grammars::new(Arc::new(env)).expect("the byte vocabulary builds")
        })
    }

    /// A matcher for `grammar`, or the reason the grammar is refused (an
    /// unsupported schema keyword, a bad Lark rule).
    pub fn matcher(&self, grammar: &TopLevelGrammar) -> Result<Matcher, String> {
        let parser = self
            .factory
            .create_parser(grammar.clone())
            .map_err(|e| e.to_string())?;
        let m = Matcher::new(Ok(parser));
        match m.get_error() {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }
}

/// Checks that llguidance takes `grammar`, without a model.
pub fn check(grammar: &TopLevelGrammar) -> Result<(), String> {
    Grammars::bytes().matcher(grammar).map(|_| ())
}

/// Does `text` match `grammar` in full?
pub fn accepts(grammar: &TopLevelGrammar, text: &str) -> bool {
    let Ok(mut m) = Grammars::bytes().matcher(grammar) else {
        return false;
    };
    let bytes: Vec<TokenId> = text.bytes().map(TokenId::from).collect();
    m.consume_tokens(&bytes).is_ok() && m.is_accepting().unwrap_or(false)
}

/// One generation's constraint: masks logits, follows sampled tokens.
pub struct Constraint {
    matcher: Matcher,
    /// Time spent computing masks, for the timings.
    pub mask_ms: f64,
}

impl Constraint {
    pub fn new(matcher: Matcher) -> Constraint {
        Constraint {
            matcher,
            mask_ms: 0.0,
        }
    }

    /// Sets every token the grammar does not allow next to -inf.
    pub fn mask(&mut self, logits: &mut [f32]) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let allowed = self
            .matcher
            .compute_mask_or_eos()
            .map_err(|e| anyhow::anyhow!("constrained decoding: {e}"))?;
        for (i, l) in logits.iter_mut().enumerate() {
            if !allowed.is_allowed(i as TokenId) {
                *l = f32::NEG_INFINITY;
            }
        }
        self.mask_ms += started.elapsed().as_secs_f64() * 1000.0;
        Ok(())
    }

    /// Follows a sampled token.
    pub fn accept(&mut self, token: u32) -> anyhow::Result<()> {
        self.matcher
            .consume_token(token)
            .map_err(|e| anyhow::anyhow!("constrained decoding: {e}"))
    }

    /// Has the grammar ended (nothing more may follow)?
    pub fn finished(&self) -> bool {
        self.matcher.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_check_and_match_without_a_model() {
        let g = TopLevelGrammar::from_json_schema(json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": false,
        }));
        assert!(check(&g).is_ok());
        assert!(accepts(&g, r#"{"city":"Paris","unit":"c"}"#));
        assert!(accepts(&g, r#"{"city": "Paris", "unit": "f"}"#));
        assert!(!accepts(&g, r#"{"city":"Paris","unit":"k"}"#));
        assert!(!accepts(&g, r#"{"city":"Paris"}"#));
        assert!(!accepts(&g, r#"{"city":"Paris","unit":"c""#));
        let bad = TopLevelGrammar::from_json_schema(json!({"type": "object", "if": {}}));
        assert!(check(&bad).is_err());
    }
}
