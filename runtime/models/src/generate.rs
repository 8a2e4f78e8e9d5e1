//! Generation: a small loop of forward → penalties → sample → decode, with
//! stop strings, streaming, cancellation, and KV-cache reuse across turns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use serde_json::Value;

use crate::constrain::Constraint;
use crate::llama::Model;
use crate::tokenizer::{Detok, Tok};

/// Sampling and stopping parameters (OpenAI names, plus llama.cpp's
/// `top_k`, `repeat_penalty`).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub temperature: f64,
    pub top_p: f64,
    pub top_k: usize,
    pub seed: u64,
    pub max_tokens: Option<usize>,
    pub stop: Vec<String>,
    /// Keep going past EOS and end-of-turn tokens (llama.cpp server's
    /// `ignore_eos`; benchmarks use it to decode a fixed count).
    pub ignore_eos: bool,
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    /// `logprobs: true`: record each token's log probability and this many
    /// alternatives (`top_logprobs`, 0–20).
    pub logprobs: Option<usize>,
    /// `logit_bias`: added to these tokens' logits before sampling (-100
    /// bans a token, 100 all but forces it).
    pub logit_bias: Vec<(u32, f32)>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            temperature: 0.7,
            top_p: 0.95,
            top_k: 40,
            seed: 299_792_458,
            max_tokens: None,
            stop: Vec::new(),
            ignore_eos: false,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            logprobs: None,
            logit_bias: Vec::new(),
        }
    }
}

pub use jan_provider::{BadParam, ContextOverflow};

pub(crate) fn bad(param: impl Into<String>, message: impl Into<String>) -> BadParam {
    BadParam::new(param, message)
}

impl Params {
    /// Reads parameters from `layers`, first match wins (the request, then
    /// model.json's `parameters`).
    pub fn from_layers(layers: &[&Value]) -> Result<Params, BadParam> {
        let get = |k: &str| {
            layers
                .iter()
                .find_map(|l| l.get(k).filter(|v| !v.is_null()))
        };
        let num = |k: &'static str| -> Result<Option<f64>, BadParam> {
            match get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_f64()
                    .map(Some)
                    .ok_or_else(|| bad(k, format!("must be a number, got {v}"))),
            }
        };
        let mut p = Params::default();
        if let Some(t) = num("temperature")? {
            if !(0.0..=2.0).contains(&t) {
                return Err(bad("temperature", "must be between 0 and 2"));
            }
            p.temperature = t;
        }
        if let Some(t) = num("top_p")? {
            if !(0.0..=1.0).contains(&t) {
                return Err(bad("top_p", "must be between 0 and 1"));
            }
            p.top_p = t;
        }
        if let Some(k) = num("top_k")? {
            p.top_k = k.max(0.0) as usize;
        }
        if let Some(s) = num("seed")? {
            p.seed = s as i64 as u64;
        }
        match get("ignore_eos") {
            None => {}
            Some(Value::Bool(b)) => p.ignore_eos = *b,
            Some(v) => return Err(bad("ignore_eos", format!("must be a boolean, got {v}"))),
        }
        let max = match num("max_completion_tokens")? {
            Some(m) => Some(m),
            None => num("max_tokens")?,
        };
        if let Some(m) = max {
            if m < 1.0 {
                return Err(bad("max_tokens", "must be at least 1"));
            }
            p.max_tokens = Some(m as usize);
        }
        for (k, slot) in [
            ("frequency_penalty", &mut p.frequency_penalty),
            ("presence_penalty", &mut p.presence_penalty),
        ] {
            if let Some(v) = num(k)? {
                if !(-2.0..=2.0).contains(&v) {
                    return Err(bad(
                        if k == "frequency_penalty" {
                            "frequency_penalty"
                        } else {
                            "presence_penalty"
                        },
                        "must be between -2 and 2",
                    ));
                }
                *slot = v as f32;
            }
        }
        if let Some(r) = num("repeat_penalty")? {
            if r <= 0.0 {
                return Err(bad("repeat_penalty", "must be positive"));
            }
            p.repeat_penalty = r as f32;
        }
        p.stop = match get("stop") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(String::from)
                        .ok_or_else(|| bad("stop", "must be a string or a list of strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("stop", "must be a string or a list of strings")),
        };
        let top = match num("top_logprobs")? {
            None => None,
            Some(n) if (0.0..=20.0).contains(&n) && n.fract() == 0.0 => Some(n as usize),
            Some(_) => return Err(bad("top_logprobs", "must be an integer from 0 to 20")),
        };
        match get("logprobs") {
            None | Some(Value::Bool(false)) => {
                if top.is_some() {
                    return Err(bad("top_logprobs", "needs 'logprobs': true"));
                }
            }
            Some(Value::Bool(true)) => p.logprobs = Some(top.unwrap_or(0)),
            Some(v) => return Err(bad("logprobs", format!("must be a boolean, got {v}"))),
        }
        if let Some(bias) = get("logit_bias") {
            let map = bias
                .as_object()
                .ok_or_else(|| bad("logit_bias", "must map token ids to numbers"))?;
            if map.len() > 300 {
                return Err(bad("logit_bias", "at most 300 tokens"));
            }
            for (k, v) in map {
                let id: u32 = k
                    .parse()
                    .map_err(|_| bad("logit_bias", format!("keys must be token ids, got '{k}'")))?;
                let b = v
                    .as_f64()
                    .filter(|b| (-100.0..=100.0).contains(b))
                    .ok_or_else(|| {
                        bad(
                            "logit_bias",
                            format!("'{k}' must be a number from -100 to 100, got {v}"),
                        )
                    })?;
                p.logit_bias.push((id, b as f32));
            }
        }
        if p.stop.len() > 4 {
            return Err(bad("stop", "at most 4 stop sequences"));
        }
        p.stop.retain(|s| !s.is_empty());
        Ok(p)
    }

    fn sampler(&self) -> Option<LogitsProcessor> {
        if self.temperature <= 0.0 {
            return None;
        }
        let t = self.temperature;
        let sampling = match (self.top_k, self.top_p < 1.0) {
            (0, false) => Sampling::All { temperature: t },
            (0, true) => Sampling::TopP {
                p: self.top_p,
                temperature: t,
            },
            (k, false) => Sampling::TopK { k, temperature: t },
            (k, true) => Sampling::TopKThenTopP {
                k,
                p: self.top_p,
                temperature: t,
            },
        };
        Some(LogitsProcessor::from_sampling(self.seed, sampling))
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// An end-of-turn token or a stop string.
    Stop,
    /// `max_tokens`, or the context is full.
    Length,
    /// The caller went away.
    Cancelled,
}

impl Finish {
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length | Finish::Cancelled => "length",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Generation {
    pub text: String,
    pub finish: Finish,
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV entries were reused from the previous request.
    pub cached_tokens: usize,
    /// Prompt tokens actually run through the model.
    pub processed_tokens: usize,
    pub completion_tokens: usize,
    pub prompt_ms: f64,
    pub predicted_ms: f64,
    /// With `logprobs`: one entry per generated token.
    pub logprobs: Vec<TokenLogprob>,
}

/// A generated token's log probability under the model (the log-softmax
/// of its logits, before penalties, temperature and grammar), and the most
/// likely alternatives at that position.
#[derive(Debug, Clone)]
pub struct TokenLogprob {
    pub id: u32,
    pub logprob: f32,
    pub top: Vec<(u32, f32)>,
}

/// Log-softmax of `logits` at `id`, and the `k` most likely tokens.
fn logprob_of(logits: &[f32], id: u32, k: usize) -> TokenLogprob {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + logits.iter().map(|l| (l - max).exp()).sum::<f32>().ln();
    let mut top: Vec<(u32, f32)> = Vec::new();
    if k > 0 && !logits.is_empty() {
        let mut idx: Vec<u32> = (0..logits.len() as u32).collect();
        let k = k.min(idx.len());
        idx.select_nth_unstable_by(k - 1, |a, b| {
            logits[*b as usize].total_cmp(&logits[*a as usize])
        });
        idx.truncate(k);
        idx.sort_by(|a, b| logits[*b as usize].total_cmp(&logits[*a as usize]));
        top = idx
            .into_iter()
            .map(|i| (i, logits[i as usize] - lse))
            .collect();
    }
    TokenLogprob {
        id,
        logprob: logits
            .get(id as usize)
            .map_or(f32::NEG_INFINITY, |l| l - lse),
        top,
    }
}

/// A loaded model with the token ids its KV cache currently holds.
pub struct Session {
    pub model: Model,
    pub tokens: Vec<u32>,
}

impl Session {
    pub fn new(model: Model) -> Self {
        Session {
            model,
            tokens: Vec::new(),
        }
    }

    /// Generates a reply to `prompt` (token ids). Each complete piece of
    /// text goes to `on_delta` as it is produced, with (`logprobs`) the
    /// tokens whose text starts in it.
    pub fn generate(
        &mut self,
        tok: &Tok,
        prompt: &[u32],
        params: &Params,
        cancel: &AtomicBool,
        mut constraint: Option<&mut Constraint>,
        on_delta: &mut dyn FnMut(&str, &[TokenLogprob]),
    ) -> anyhow::Result<Generation> {
        let context = self.model.max_positions();
        if prompt.is_empty() {
            anyhow::bail!("the prompt is empty");
        }
        if prompt.len() >= context {
            return Err(ContextOverflow {
                prompt: prompt.len(),
                context,
            }
            .into());
        }
        // Reuse the cache for the prefix this prompt shares with what the
        // cache holds; at least one token must run to get logits.
        let shared = self
            .tokens
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len() - 1);
        self.model.truncate_cache(shared)?;
        self.tokens.truncate(shared);

        let started = Instant::now();
        let mut logits = self.forward(&prompt[shared..])?;
        let prompt_ms = started.elapsed().as_secs_f64() * 1000.0;

        let mut sampler = params.sampler();
        let mut logprobs: Vec<(usize, TokenLogprob)> = Vec::new();
        // Sends text[from..to] with the tokens whose text starts before
        // `to` and that were not sent yet.
        let mut logprobs_sent = 0usize;
        let mut emit = |text: &str, from: usize, to: usize, logprobs: &[(usize, TokenLogprob)]| {
            let n = logprobs[logprobs_sent..]
                .iter()
                .take_while(|(start, _)| *start < to)
                .count();
            let tokens: Vec<TokenLogprob> = logprobs[logprobs_sent..logprobs_sent + n]
                .iter()
                .map(|(_, t)| t.clone())
                .collect();
            logprobs_sent += n;
            on_delta(&text[from..to], &tokens);
        };
        let mut generated: Vec<u32> = Vec::new();
        let mut detok = Detok::new(tok);
        let mut text = String::new();
        let mut sent = 0usize;
        let budget = params.max_tokens.unwrap_or(usize::MAX);
        let decode_started = Instant::now();
        let finish = loop {
            if cancel.load(Ordering::Relaxed) {
                break Finish::Cancelled;
            }
            let raw = params
                .logprobs
                .map(|_| logits.to_vec1::<f32>())
                .transpose()?;
            let mut penalized = self.penalize(logits, params, &generated)?;
            if let Some(c) = constraint.as_deref_mut() {
                let mut l = penalized.to_vec1::<f32>()?;
                c.mask(&mut l)?;
                penalized = Tensor::new(l, &Device::Cpu)?;
            }
            let next = match sampler.as_mut() {
                Some(s) => s.sample(&penalized)?,
                None => crate::llama::argmax(&penalized)?,
            };
            if tok.stop_ids.contains(&next) && !params.ignore_eos {
                break Finish::Stop;
            }
            generated.push(next);
            if let (Some(raw), Some(k)) = (&raw, params.logprobs) {
                logprobs.push((text.len(), logprob_of(raw, next, k)));
            }
            if let Some(c) = constraint.as_deref_mut() {
                c.accept(next)?;
            }
            if let Some(piece) = detok.push(next)? {
                text.push_str(&piece);
                if let Some(cut) = find_stop(&text, &params.stop) {
                    text.truncate(cut);
                    if text.len() > sent {
                        emit(&text, sent, text.len(), &logprobs);
                    }
                    sent = text.len();
                    break Finish::Stop;
                }
                let safe = text.len() - held_back(&text, &params.stop);
                if safe > sent && text.is_char_boundary(safe) {
                    emit(&text, sent, safe, &logprobs);
                    sent = safe;
                }
            }
            if constraint.as_deref().is_some_and(Constraint::finished) {
                break Finish::Stop;
            }
            if generated.len() >= budget || self.model.cached() + 1 >= context {
                break Finish::Length;
            }
            logits = self.forward(&[next])?;
        };
        // Flush what a possible stop-string match held back.
        if text.len() > sent {
            emit(&text, sent, text.len(), &logprobs);
        }
        // Tokens whose text a stop string cut off are not in the answer.
        let logprobs = logprobs
            .into_iter()
            .filter(|(start, _)| *start < text.len())
            .map(|(_, t)| t)
            .collect();
        Ok(Generation {
            text,
            finish,
            prompt_tokens: prompt.len(),
            cached_tokens: shared,
            processed_tokens: prompt.len() - shared,
            completion_tokens: generated.len(),
            prompt_ms,
            predicted_ms: decode_started.elapsed().as_secs_f64() * 1000.0,
            logprobs,
        })
    }

    fn forward(&mut self, tokens: &[u32]) -> anyhow::Result<Tensor> {
        let logits = self.model.forward(tokens)?;
        self.tokens.extend_from_slice(tokens);
        Ok(logits)
    }

    fn penalize(&self, logits: Tensor, p: &Params, generated: &[u32]) -> anyhow::Result<Tensor> {
        if p.repeat_penalty == 1.0
            && p.frequency_penalty == 0.0
            && p.presence_penalty == 0.0
            && p.logit_bias.is_empty()
        {
            return Ok(logits);
        }
        let mut l = logits.to_vec1::<f32>()?;
        for &(t, b) in &p.logit_bias {
            if let Some(x) = l.get_mut(t as usize) {
                *x += b;
            }
        }
        if p.repeat_penalty != 1.0 {
            let recent = &self.tokens[self.tokens.len().saturating_sub(p.repeat_last_n)..];
            let mut seen = std::collections::HashSet::new();
            for &t in recent.iter().chain(generated) {
                if seen.insert(t)
                    && let Some(x) = l.get_mut(t as usize)
                {
                    *x = if *x >= 0.0 {
                        *x / p.repeat_penalty
                    } else {
                        *x * p.repeat_penalty
                    };
                }
            }
        }
        if p.frequency_penalty != 0.0 || p.presence_penalty != 0.0 {
            let mut counts = std::collections::HashMap::<u32, f32>::new();
            for &t in generated {
                *counts.entry(t).or_default() += 1.0;
            }
            for (t, c) in counts {
                if let Some(x) = l.get_mut(t as usize) {
                    *x -= c * p.frequency_penalty + p.presence_penalty;
                }
            }
        }
        Ok(Tensor::new(l, &Device::Cpu)?)
    }
}

/// Where the earliest stop string starts in `text`.
fn find_stop(text: &str, stops: &[String]) -> Option<usize> {
    stops.iter().filter_map(|s| text.find(s.as_str())).min()
}

/// How many bytes at the end of `text` could be the start of a stop string,
/// and so must not be streamed yet.
fn held_back(text: &str, stops: &[String]) -> usize {
    stops
        .iter()
        .map(|s| {
            (1..s.len().min(text.len() + 1))
                .rev()
                .find(|&n| s.is_char_boundary(n) && text.ends_with(&s[..n]))
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_layer_and_validate() {
        let req = json!({"temperature": 0, "stop": "\n", "max_tokens": 5});
        let model = json!({"temperature": 0.9, "top_k": 7, "max_tokens": 100});
        let p = Params::from_layers(&[&req, &model]).unwrap();
        assert_eq!(p.temperature, 0.0);
        assert_eq!(p.top_k, 7);
        assert_eq!(p.max_tokens, Some(5));
        assert_eq!(p.stop, vec!["\n"]);
        let e = Params::from_layers(&[&json!({"temperature": 3})]).unwrap_err();
        assert_eq!(e.param, "temperature");
        let e = Params::from_layers(&[&json!({"stop": [1]})]).unwrap_err();
        assert_eq!(e.param, "stop");
        let p =
            Params::from_layers(&[&json!({"max_completion_tokens": 9, "max_tokens": 3})]).unwrap();
        assert_eq!(p.max_tokens, Some(9));
        assert!(!p.ignore_eos);
        assert!(
            Params::from_layers(&[&json!({"ignore_eos": true})])
                .unwrap()
                .ignore_eos
        );
        let e = Params::from_layers(&[&json!({"ignore_eos": "yes"})]).unwrap_err();
        assert_eq!(e.param, "ignore_eos");
        let p = Params::from_layers(&[&json!({"logprobs": true, "top_logprobs": 3})]).unwrap();
        assert_eq!(p.logprobs, Some(3));
        for bad in [
            json!({"top_logprobs": 2}),
            json!({"logprobs": true, "top_logprobs": 21}),
            json!({"logprobs": 1}),
        ] {
            assert!(Params::from_layers(&[&bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn logprobs_are_a_log_softmax_with_sorted_alternatives() {
        let t = logprob_of(&[1.0, 3.0, 2.0, 0.0], 2, 2);
        let lse = (1f32.exp() + 3f32.exp() + 2f32.exp() + 1.0).ln();
        assert!((t.logprob - (2.0 - lse)).abs() < 1e-5);
        assert_eq!(t.top.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2]);
        assert!(t.top[0].1 > t.top[1].1);
    }

    #[test]
    fn stop_strings_are_held_back_while_they_might_match() {
        let stops = vec!["END".to_string()];
        assert_eq!(held_back("abc E", &stops), 1);
        assert_eq!(held_back("abc EN", &stops), 2);
        assert_eq!(held_back("abc", &stops), 0);
        assert_eq!(find_stop("abcENDx", &stops), Some(3));
    }
}
