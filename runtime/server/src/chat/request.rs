//! The body of `POST /v1/chat/completions`, typed: read once, with every
//! field OpenAI defines either supported or refused by name, and unknown
//! fields refused (OpenAI's "Unrecognized request argument"). The types
//! also describe the body in `/openapi.json`.
//!
//! The engine reads the sampling fields from the same body (its own checks
//! name the parameter too), so not every field here is read in Rust.
#![allow(dead_code)]

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// A chat model's id, from `GET /v1/models`.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Send the answer as server-sent `chat.completion.chunk` events.
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    /// 0 to 2; 0 is greedy.
    pub temperature: Option<f64>,
    /// 0 to 1.
    pub top_p: Option<f64>,
    /// llama.cpp's: sample among the k likeliest tokens (0: all of them).
    pub top_k: Option<u32>,
    pub seed: Option<i64>,
    pub max_tokens: Option<u32>,
    pub max_completion_tokens: Option<u32>,
    pub stop: Option<Stop>,
    /// Only 1.
    pub n: Option<u32>,
    /// -2 to 2.
    pub frequency_penalty: Option<f64>,
    /// -2 to 2.
    pub presence_penalty: Option<f64>,
    /// llama.cpp's multiplicative penalty on recent tokens (1: off).
    pub repeat_penalty: Option<f64>,
    /// llama.cpp's: keep generating past end-of-turn.
    pub ignore_eos: Option<bool>,
    pub logprobs: Option<bool>,
    /// 0 to 20; needs `logprobs`.
    pub top_logprobs: Option<u32>,
    /// Token id (as a string) to a bias from -100 to 100.
    pub logit_bias: Option<HashMap<String, f64>>,
    pub tools: Option<Vec<Tool>>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// Accepted; identifies the end user, with no effect here.
    pub user: Option<String>,
    /// Accepted; identifies the end user, with no effect here.
    pub safety_identifier: Option<String>,
    /// Accepted; the KV cache is reused by prefix without a key.
    pub prompt_cache_key: Option<String>,
    /// `auto` or `default` (one tier here).
    pub service_tier: Option<String>,
    /// Only `false`: chat completions are not stored.
    pub store: Option<bool>,
    /// Refused: it goes with `store`.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Only `["text"]`.
    pub modalities: Option<Vec<String>>,
    /// Refused: the models here do not reason.
    #[schema(value_type = Option<Object>)]
    pub reasoning_effort: Option<Value>,
    /// Refused.
    #[schema(value_type = Option<Object>)]
    pub verbosity: Option<Value>,
    /// Refused: text only.
    #[schema(value_type = Option<Object>)]
    pub audio: Option<Value>,
    /// Refused.
    #[schema(value_type = Option<Object>)]
    pub prediction: Option<Value>,
    /// Refused: no web search.
    #[schema(value_type = Option<Object>)]
    pub web_search_options: Option<Value>,
    /// Refused: the deprecated function-calling API; use `tools`.
    #[schema(value_type = Option<Object>)]
    pub functions: Option<Value>,
    /// Refused: the deprecated function-calling API; use `tool_choice`.
    #[schema(value_type = Option<Object>)]
    pub function_call: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` (and empty `choices`).
    pub include_usage: Option<bool>,
    /// Accepted; chunks are not padded.
    pub include_obfuscation: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    /// At most 4.
    Many(Vec<String>),
}

/// A message; `name` is accepted, and has no effect (chat templates have
/// no place for it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "lowercase", deny_unknown_fields)]
// Read once per request: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Message {
    System {
        content: Content,
        name: Option<String>,
    },
    /// OpenAI's newer name for `system`.
    Developer {
        content: Content,
        name: Option<String>,
    },
    User {
        content: Content,
        name: Option<String>,
    },
    Assistant {
        content: Option<Content>,
        name: Option<String>,
        tool_calls: Option<Vec<ToolCall>>,
        refusal: Option<String>,
        /// Only null (a message sent back as the SDK returned it).
        #[schema(value_type = Option<Object>)]
        function_call: Option<Value>,
        /// Only null.
        #[schema(value_type = Option<Object>)]
        audio: Option<Value>,
        /// Accepted: the answer's own citations.
        #[schema(value_type = Option<Object>)]
        annotations: Option<Value>,
    },
    Tool {
        content: Content,
        tool_call_id: String,
        /// Accepted (LangChain sends the tool's name); no effect.
        name: Option<String>,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// A content part. The models here read text only: other parts are
/// refused, naming the part.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    ImageUrl {
        #[schema(value_type = Object)]
        image_url: Value,
    },
    InputAudio {
        #[schema(value_type = Object)]
        input_audio: Value,
    },
    File {
        #[schema(value_type = Object)]
        file: Value,
    },
    Refusal {
        refusal: String,
    },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: FunctionType,
    pub function: CalledFunction,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FunctionType {
    Function,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalledFunction {
    pub name: String,
    /// The arguments object as JSON text.
    pub arguments: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: FunctionType,
    pub function: FunctionDef,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionDef {
    pub name: String,
    pub description: Option<String>,
    /// A JSON schema of the arguments object.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// Enforced where the call is forced (`required`, a named function).
    pub strict: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `none`, `auto` or `required`.
    Mode(ToolChoiceMode),
    Named(NamedToolChoice),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceMode {
    None,
    Auto,
    Required,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: FunctionType,
    pub function: FunctionName,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionName {
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
    pub strict: Option<bool>,
}

/// Reads `body` as a [`ChatRequest`]; a field of the wrong shape is a 400
/// naming its path, an unknown field a 400 naming it.
pub fn parse(body: &Map<String, Value>) -> ApiResult<ChatRequest> {
    crate::typed(body)
}

impl ChatRequest {
    /// Refuses what is well-formed but not supported, naming the field.
    pub fn check(&self) -> ApiResult<()> {
        let refuse = |param: &str, why: &str| Err(ApiError::invalid(Some(param), why.to_string()));
        if self.messages.is_empty() {
            return refuse("messages", "'messages' must not be empty");
        }
        crate::error::refuse_set(&[
            (
                "functions",
                self.functions.is_some(),
                "'functions' (the deprecated function-calling API) is not supported; use 'tools'",
            ),
            (
                "function_call",
                self.function_call.is_some(),
                "'function_call' (the deprecated function-calling API) is not supported; use 'tool_choice'",
            ),
            (
                "reasoning_effort",
                self.reasoning_effort.is_some(),
                "'reasoning_effort' is not supported with this model: the local models here do not reason",
            ),
            (
                "verbosity",
                self.verbosity.is_some(),
                "'verbosity' is not supported with this model",
            ),
            (
                "audio",
                self.audio.is_some(),
                "'audio' is not supported: the models here produce text only",
            ),
            (
                "prediction",
                self.prediction.is_some(),
                "'prediction' (predicted outputs) is not supported",
            ),
            (
                "web_search_options",
                self.web_search_options.is_some(),
                "'web_search_options' is not supported: there is no web search",
            ),
            (
                "metadata",
                self.metadata.is_some(),
                "'metadata' is not supported: chat completions are not stored",
            ),
            (
                "store",
                self.store == Some(true),
                "'store': true is not supported: chat completions are not stored",
            ),
        ])?;
        if self.stream_options.is_some() && !self.streams() {
            return refuse(
                "stream_options",
                "'stream_options' is only allowed when 'stream' is enabled",
            );
        }
        let no_tools = self.tools.as_ref().is_none_or(Vec::is_empty);
        if no_tools && self.tool_choice.is_some() {
            return refuse(
                "tool_choice",
                "'tool_choice' is only allowed when 'tools' are specified",
            );
        }
        if no_tools && self.parallel_tool_calls.is_some() {
            return refuse(
                "parallel_tool_calls",
                "'parallel_tool_calls' is only allowed when 'tools' are specified",
            );
        }
        if self.n.is_some_and(|n| n != 1) {
            return refuse("n", "only n=1 is supported");
        }
        if let Some(m) = &self.modalities
            && m.iter().any(|m| m != "text")
        {
            return refuse("modalities", "only [\"text\"] is supported");
        }
        if let Some(t) = &self.service_tier
            && !matches!(t.as_str(), "auto" | "default")
        {
            return refuse(
                "service_tier",
                "only 'auto' and 'default' (there is one tier here)",
            );
        }
        for (i, m) in self.messages.iter().enumerate() {
            if let Message::Assistant {
                function_call,
                audio,
                ..
            } = m
            {
                for (k, v) in [("function_call", function_call), ("audio", audio)] {
                    if v.as_ref().is_some_and(|v| !v.is_null()) {
                        return refuse(
                            &format!("messages[{i}].{k}"),
                            "only null is supported here (use 'tool_calls'; text only)",
                        );
                    }
                }
            }
            let content = match m {
                Message::System { content, .. }
                | Message::Developer { content, .. }
                | Message::User { content, .. }
                | Message::Tool { content, .. } => Some(content),
                Message::Assistant { content, .. } => content.as_ref(),
            };
            if let Some(Content::Parts(parts)) = content
                && let Some((j, p)) = parts
                    .iter()
                    .enumerate()
                    .find(|(_, p)| !matches!(p, Part::Text { .. }))
            {
                let kind = match p {
                    Part::ImageUrl { .. } => "image_url",
                    Part::InputAudio { .. } => "input_audio",
                    Part::File { .. } => "file",
                    _ => "refusal",
                };
                return Err(ApiError::invalid(
                    Some(&format!("messages[{i}].content[{j}]")),
                    format!("only text content parts are supported by these models, got '{kind}'"),
                ));
            }
        }
        Ok(())
    }

    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}
