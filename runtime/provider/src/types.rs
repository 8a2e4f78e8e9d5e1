//! What flows out of a model: events while it generates, then one
//! [`Completion`]; and the errors a request can cause.

use serde_json::{Value, json};

/// One piece of a generation, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// The log probabilities (`logprobs` asked) of the tokens whose text
    /// starts in the [`ChatEvent::Text`] that comes next. Sent only when
    /// no tools are offered (text may then still turn into a call); the
    /// completion's `logprobs` hold every token either way.
    Logprobs(Vec<TokenLogprob>),
    /// Answer text. Text that turns out to be a tool call is never sent
    /// as text.
    Text(String),
    /// A tool call starts: its position among this answer's calls, its id
    /// and the function's name.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A piece of a started call's arguments (JSON text); the pieces of a
    /// call concatenate to its final `arguments`.
    ToolCallArguments { index: usize, delta: String },
    /// The end: the whole answer. Nothing follows it.
    Done(Completion),
}

impl ChatEvent {
    /// A call sent whole: its start, then all its arguments in one piece.
    pub fn whole_call(index: usize, call: &ToolCall) -> [ChatEvent; 2] {
        [
            ChatEvent::ToolCallStart {
                index,
                id: call.id.clone(),
                name: call.name.clone(),
            },
            ChatEvent::ToolCallArguments {
                index,
                delta: call.arguments.clone(),
            },
        ]
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// An end-of-turn token or a stop string.
    Stop,
    /// `max_tokens`, or the context is full.
    Length,
    /// The answer is one or more tool calls.
    ToolCalls,
}

impl Finish {
    /// OpenAI's `finish_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Finish::Stop => "stop",
            Finish::Length => "length",
            Finish::ToolCalls => "tool_calls",
        }
    }
}

/// A call the model made.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments object as JSON text (OpenAI's shape).
    pub arguments: String,
}

impl ToolCall {
    /// A call with a fresh id (`call_` and 24 hex digits, as OpenAI's).
    pub fn new(name: &str, arguments: String) -> ToolCall {
        ToolCall {
            id: new_call_id(),
            name: name.to_string(),
            arguments,
        }
    }

    /// The OpenAI `tool_calls[i]` object.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}})
    }
}

/// A fresh tool-call id.
pub fn new_call_id() -> String {
    format!("call_{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
}

/// Token counts of one generation (or, summed, of a turn's rounds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Prompt tokens whose KV entries were reused from an earlier request.
    pub cached_tokens: usize,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cached_tokens += other.cached_tokens;
    }

    /// OpenAI's `usage` object.
    pub fn to_json(&self) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        })
    }
}

/// Where the time went (llama.cpp's `timings`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Prompt tokens actually run through the model.
    pub processed_tokens: usize,
    pub prompt_ms: f64,
    pub predicted_ms: f64,
    /// Time spent computing grammar masks (part of `predicted_ms`).
    pub grammar_ms: f64,
}

/// A generated token's log probability, and the likeliest alternatives.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLogprob {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
    pub top: Vec<TokenLogprob>,
}

impl TokenLogprob {
    /// OpenAI's `logprobs.content[i]` entry.
    pub fn to_json(&self) -> Value {
        let mut v = self.alternative();
        v["top_logprobs"] = self.top.iter().map(Self::alternative).collect();
        v
    }

    fn alternative(&self) -> Value {
        json!({"token": self.token, "logprob": self.logprob, "bytes": self.bytes})
    }
}

/// A whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// `chatcmpl-…`.
    pub id: String,
    pub model: String,
    /// Text beside the calls (empty when the answer is only calls).
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish: Finish,
    pub usage: Usage,
    pub timings: Timings,
    /// With `logprobs: true`: one entry per token of `content`.
    pub logprobs: Option<Vec<TokenLogprob>>,
}

impl Completion {
    /// A completion of `text` and nothing else (stand-ins, tests).
    pub fn text(model: &str, text: &str) -> Completion {
        Completion {
            id: new_completion_id(),
            model: model.to_string(),
            content: text.to_string(),
            tool_calls: Vec::new(),
            finish: Finish::Stop,
            usage: Usage::default(),
            timings: Timings::default(),
            logprobs: None,
        }
    }

    /// The assistant message: `content` (null when only calls) and
    /// `tool_calls` when there are any.
    pub fn message(&self) -> Value {
        let mut m = json!({"role": "assistant", "content": self.content});
        if !self.tool_calls.is_empty() {
            if self.content.is_empty() {
                m["content"] = Value::Null;
            }
            m["tool_calls"] = self.tool_calls.iter().map(ToolCall::to_json).collect();
        }
        m
    }

    /// `choices[0].logprobs`: null, or `{content: [...], refusal: null}`.
    pub fn logprobs_json(&self) -> Value {
        match &self.logprobs {
            None => Value::Null,
            Some(l) => logprobs_json(l),
        }
    }

    /// The `chat.completion` object, with llama.cpp-style `timings`.
    pub fn to_chat_completion(&self) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": unix_now(),
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": self.message(),
                "logprobs": self.logprobs_json(),
                "finish_reason": self.finish.as_str(),
            }],
            "usage": self.usage.to_json(),
            "timings": self.timings_json(),
        })
    }

    /// llama.cpp's `timings` object.
    pub fn timings_json(&self) -> Value {
        let t = &self.timings;
        let per_s = |n: usize, ms: f64| {
            if ms > 0.0 {
                n as f64 * 1000.0 / ms
            } else {
                0.0
            }
        };
        json!({
            "cache_n": self.usage.cached_tokens,
            "prompt_n": t.processed_tokens,
            "prompt_ms": t.prompt_ms,
            "prompt_per_second": per_s(t.processed_tokens, t.prompt_ms),
            "predicted_n": self.usage.completion_tokens,
            "predicted_ms": t.predicted_ms,
            "predicted_per_second": per_s(self.usage.completion_tokens, t.predicted_ms),
            "grammar_ms": t.grammar_ms,
        })
    }
}

/// `{content: [...], refusal: null}` for these tokens.
pub fn logprobs_json(tokens: &[TokenLogprob]) -> Value {
    let content: Vec<Value> = tokens.iter().map(TokenLogprob::to_json).collect();
    json!({"content": content, "refusal": null})
}

/// A fresh `chatcmpl-` id.
pub fn new_completion_id() -> String {
    format!("chatcmpl-{}", uuid::Uuid::new_v4().simple())
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Embeddings of some texts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    /// One normalized vector per text.
    pub vectors: Vec<Vec<f32>>,
    /// Tokens read.
    pub tokens: usize,
}

/// A parameter with a bad value; the message names it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct BadParam {
    pub param: String,
    pub message: String,
}

impl BadParam {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> BadParam {
        BadParam {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// The context is too small for the prompt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the prompt has {prompt} tokens, which does not fit the model's context of {context} tokens"
)]
pub struct ContextOverflow {
    pub prompt: usize,
    pub context: usize,
}

/// The request names a model that is not installed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("model '{0}' not found")]
pub struct ModelNotFound(pub String);
