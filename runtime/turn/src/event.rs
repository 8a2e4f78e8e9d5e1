//! What a turn says while it runs.

use std::sync::Arc;

use jan_provider::{BadParam, Completion, ContextOverflow, ModelNotFound, ToolCall};
use serde_json::Value;
#[cfg(test)]
use serde_json::json;

/// One event of a turn, in order. A turn ends with exactly one
/// [`TurnEvent::Done`] or [`TurnEvent::Error`].
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEvent {
    /// The log probabilities of the tokens of the `Text` that comes next
    /// (see [`ChatEvent::Logprobs`](jan_provider::ChatEvent::Logprobs)).
    Logprobs(Vec<jan_provider::TokenLogprob>),
    /// A streamed piece of the answer's text.
    Text(String),
    /// The model starts writing a call: its position among the round's
    /// calls, its id and the function's name (streamed calls; a call may
    /// also arrive only whole, in `ToolCalls` or `ToolsRan`).
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A piece of a started call's arguments (JSON text).
    ToolCallArguments { index: usize, delta: String },
    /// One round of calls the turn ran itself (an assistant's registered
    /// tools), each with its output.
    ToolsRan(Vec<ToolRun>),
    /// Calls only the caller can run (a client's functions); sent before
    /// `Finished`. The turn ends after them.
    ToolCalls(Vec<ToolCall>),
    /// The model's last completion (finish reason, timings, logprobs), its
    /// usage summed over all the turn's rounds; sent before `Done` when a
    /// model answered.
    Finished(Completion),
    /// The whole text of the turn; the last event of a turn that worked.
    Done(String),
    /// The turn failed; the last event.
    Error(TurnError),
}

/// A call the turn ran, with what the tool returned.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub call: ToolCall,
    pub output: String,
}

impl ToolRun {
    /// A run step's `tool_calls[i]`: OpenAI's call with `function.output`.
    pub fn to_json(&self) -> Value {
        let mut v = self.call.to_json();
        v["function"]["output"] = self.output.clone().into();
        v
    }
}

/// Why a turn failed: a message for people, the JS stack when assistant
/// code threw (source-mapped to TypeScript lines), and the engine's error
/// when a model failed (servers downcast it: a prompt over the context is
/// the request's fault).
#[derive(Debug, Clone, Default)]
pub struct TurnError {
    pub message: String,
    pub stack: String,
    pub cause: Option<Arc<anyhow::Error>>,
}

impl TurnError {
    pub fn new(message: impl Into<String>) -> TurnError {
        TurnError {
            message: message.into(),
            ..TurnError::default()
        }
    }

    /// A model engine's error, kept for downcasting.
    pub fn engine(e: anyhow::Error) -> TurnError {
        TurnError {
            message: format!("{e:#}"),
            stack: String::new(),
            cause: Some(Arc::new(e)),
        }
    }

    /// The engine's error, if a model failed.
    pub fn cause(&self) -> Option<&anyhow::Error> {
        self.cause.as_deref()
    }

    /// As an `anyhow::Error` that still downcasts to the provider's
    /// request errors ([`BadParam`], [`ContextOverflow`],
    /// [`ModelNotFound`]), for code that classifies errors by type.
    pub fn to_anyhow(&self) -> anyhow::Error {
        if let Some(c) = self.cause() {
            if let Some(e) = c.downcast_ref::<ContextOverflow>() {
                return e.clone().into();
            }
            if let Some(e) = c.downcast_ref::<BadParam>() {
                return e.clone().into();
            }
            if let Some(e) = c.downcast_ref::<ModelNotFound>() {
                return e.clone().into();
            }
        }
        anyhow::anyhow!(self.message.clone())
    }
}

impl PartialEq for TurnError {
    fn eq(&self, other: &TurnError) -> bool {
        self.message == other.message && self.stack == other.stack
    }
}

impl std::fmt::Display for TurnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads OpenAI `tool_calls` (`[{id, type: "function", function: {name,
/// arguments}}]`) that assistant code answered with. `arguments` may be a
/// JSON string or an object; a call without an id gets one.
pub fn calls_from_json(value: &Value) -> Result<Vec<ToolCall>, String> {
    let Some(list) = value.as_array() else {
        return Err(format!("tool_calls must be a list, got {value}"));
    };
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c["function"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("tool_calls[{i}].function.name must be a string"))?;
            let arguments = match &c["function"]["arguments"] {
                Value::String(s) => s.clone(),
                Value::Null => "{}".to_string(),
                v @ Value::Object(_) => v.to_string(),
                v => {
                    return Err(format!(
                        "tool_calls[{i}].function.arguments must be a JSON string or an object, got {v}"
                    ));
                }
            };
            let mut call = ToolCall::new(name, arguments);
            if let Some(id) = c["id"].as_str().filter(|id| !id.is_empty()) {
                call.id = id.to_string();
            }
            Ok(call)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_from_assistant_code_take_strings_or_objects() {
        let calls = calls_from_json(&json!([
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
            {"function": {"name": "g", "arguments": {"b": 2}}},
        ]))
        .unwrap();
        assert_eq!(calls[0].id, "call_1");
        assert_eq!(calls[0].arguments, "{\"a\":1}");
        assert!(calls[1].id.starts_with("call_"));
        assert_eq!(calls[1].arguments, "{\"b\":2}");
        let e = calls_from_json(&json!([{"function": {"arguments": "{}"}}])).unwrap_err();
        assert!(e.contains("tool_calls[0].function.name"), "{e}");
        assert!(calls_from_json(&json!({"name": "f"})).is_err());
    }

    #[test]
    fn a_round_feeds_calls_and_outputs_back_in_order() {
        let run = ToolRun {
            call: ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "{}".into(),
            },
            output: "42".into(),
        };
        let m = crate::item::to_chat(&crate::Item::round("", std::slice::from_ref(&run)));
        assert_eq!(m[0]["tool_calls"][0]["id"], "call_1");
        assert_eq!(
            m[1],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "42"})
        );
        assert_eq!(run.to_json()["function"]["output"], "42");
    }
}
