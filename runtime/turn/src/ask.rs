//! What a turn is asked, and how it becomes one chat request: the model
//! it runs on, the system message, the layered parameters, the tools.
//! These rules were written in four places before and had drifted apart
//! (`jan run` ignored assistant.json's `model`, runs and the default
//! answer picked models differently); they live here only.

use jan_assistant::Assistant;
use jan_provider::{AllowedModel, ModelProvider, apply_overrides};
use serde_json::{Map, Value, json};

use crate::event::ToolRun;
use crate::item::{Item, to_chat};

/// A user turn for an assistant.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub thread_id: Option<String>,
    /// The conversation so far.
    pub messages: Vec<Item>,
    /// Rounds of calls this turn already made, with their outputs (a run
    /// resumed after `submit_tool_outputs`); shown after `messages`, never
    /// cut by truncation.
    pub tool_rounds: Vec<Vec<ToolRun>>,
    /// How much of `messages` the model sees.
    pub truncation: Truncation,
    /// Replaces the assistant's instructions for this turn.
    pub instructions: Option<String>,
    pub model: Option<String>,
    /// Sampling and format parameters (`temperature`, `top_p`,
    /// `max_tokens`, `tool_choice`, `response_format`…); they win over the
    /// assistant's and the model's.
    pub parameters: Map<String, Value>,
    /// The tools the caller offers (OpenAI's `tools`); the assistant's
    /// registered tools are added to them.
    pub tools: Vec<Value>,
    /// How many events led to this request (another assistant's
    /// `events.request`); bounded by the bus's hop limit.
    pub hops: u32,
}

/// Which of a conversation's messages a turn sends to the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Truncation {
    /// All of them; the engine drops the oldest when `max_prompt_tokens`
    /// asks it to.
    #[default]
    Auto,
    /// The last N (a run's `truncation_strategy: last_messages`).
    LastMessages(usize),
}

impl Ask {
    /// The payload of `events.request`: a string (one user message) or
    /// `{ messages, model?, instructions? }`.
    pub fn from_request_payload(payload: Value) -> Result<Ask, String> {
        match payload {
            Value::String(text) => Ok(Ask {
                messages: vec![Item::user(text)],
                ..Ask::default()
            }),
            Value::Object(mut o) => {
                let messages = match o.remove("messages") {
                    Some(Value::Array(m)) => {
                        Item::from_chat_list(&m).map_err(|e| format!("events.request: {e}"))?
                    }
                    _ => {
                        return Err(
                            "events.request: the payload must be a string or { messages: [...] }"
                                .into(),
                        );
                    }
                };
                let text = |o: &mut Map<String, Value>, k: &str| match o.remove(k) {
                    Some(Value::String(s)) => Ok(Some(s)),
                    None | Some(Value::Null) => Ok(None),
                    Some(_) => Err(format!("events.request: `{k}` must be a string")),
                };
                let model = text(&mut o, "model")?;
                let instructions = text(&mut o, "instructions")?;
                if let Some(k) = o.keys().next() {
                    return Err(format!(
                        "events.request: unknown field `{k}` (expected messages, model, instructions)"
                    ));
                }
                Ok(Ask {
                    messages,
                    model,
                    instructions,
                    ..Ask::default()
                })
            }
            _ => Err("events.request: the payload must be a string or { messages: [...] }".into()),
        }
    }

    /// The items the turn shows (handlers and models alike): the
    /// conversation after truncation, then the turn's own tool rounds.
    pub fn conversation(&self) -> Vec<Item> {
        let mut keep = match self.truncation {
            Truncation::Auto => 0,
            Truncation::LastMessages(n) => self.messages.len().saturating_sub(n),
        };
        // The window never starts with a tool's output: its call would be
        // cut off (chat templates refuse a result without its call).
        while keep > 0 && matches!(self.messages.get(keep), Some(Item::ToolOutput { .. })) {
            keep += 1;
        }
        let mut out = self.messages[keep..].to_vec();
        for round in &self.tool_rounds {
            out.extend(Item::round("", round));
        }
        out
    }

    /// The system text: the turn's instructions, else the assistant's.
    pub fn instructions_for(&self, a: &Assistant) -> Option<String> {
        self.instructions
            .clone()
            .or_else(|| a.manifest.instructions.clone())
            .filter(|i| !i.is_empty())
    }
}

/// The models assistant `a` may use, with its parameter overrides for
/// each: its `models` list, or every installed model (chat models first,
/// so that `models[0]` can chat).
pub fn allowed_models(a: &Assistant, provider: &dyn ModelProvider) -> Vec<AllowedModel> {
    let installed = provider.list();
    match a.allowed_models() {
        None => {
            let (embed, chat): (Vec<Value>, Vec<Value>) = installed
                .into_iter()
                .partition(|d| d["type"] == "embedding");
            chat.into_iter().chain(embed).map(|d| (d, None)).collect()
        }
        Some(refs) => refs
            .iter()
            .filter_map(|r| {
                installed
                    .iter()
                    .find(|d| d.get("id").and_then(Value::as_str) == Some(r.id()))
                    .map(|d| (d.clone(), r.parameters().cloned()))
            })
            .collect(),
    }
}

/// Why no model can answer a turn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelChoiceError {
    #[error("assistant '{0}' has no model to answer with: {help}", help = jan_provider::NO_MODEL_HELP)]
    NoModel(String),
    #[error("model '{model}' is not available to assistant '{id}'; it may use: {available}")]
    UnknownModel {
        id: String,
        model: String,
        available: String,
    },
}

/// The model a turn of `a` runs on, the one rule for it: the one asked
/// for (it must be allowed), else assistant.json's `model` when allowed,
/// else its first allowed chat model.
pub fn choose_model(
    a: &Assistant,
    provider: &dyn ModelProvider,
    asked: Option<&str>,
) -> Result<AllowedModel, ModelChoiceError> {
    let allowed = allowed_models(a, provider);
    let is_chat = |d: &Value| d["type"] != "embedding";
    let named = |id: &str| {
        allowed
            .iter()
            .find(|(d, _)| d.get("id").and_then(Value::as_str) == Some(id))
    };
    let chosen = match asked {
        Some(m) => named(m),
        None => a
            .manifest
            .extra
            .get("model")
            .and_then(Value::as_str)
            .and_then(named)
            .filter(|(d, _)| is_chat(d))
            .or_else(|| allowed.iter().find(|(d, _)| is_chat(d))),
    };
    if let Some(c) = chosen {
        return Ok(c.clone());
    }
    let chat: Vec<&str> = allowed
        .iter()
        .filter(|(d, _)| is_chat(d))
        .filter_map(|(d, _)| d["id"].as_str())
        .collect();
    Err(match (asked, chat.is_empty()) {
        (Some(model), false) => ModelChoiceError::UnknownModel {
            id: a.id.clone(),
            model: model.to_string(),
            available: chat.join(", "),
        },
        _ => ModelChoiceError::NoModel(a.id.clone()),
    })
}

/// The sampling fields of assistant.json (OpenAI's assistant object) that
/// reach its turns, under the turn's own parameters.
const ASSISTANT_PARAMETERS: [&str; 3] = ["temperature", "top_p", "response_format"];

/// The chat request of a turn of `a` on `model`: the system message, the
/// conversation, the tools, then parameters layered from the most
/// specific: the turn's, else the assistant's overrides for that model
/// (`models[].parameters`), else assistant.json's, else (in the engine)
/// model.json's.
pub fn chat_request(a: &Assistant, ask: &Ask, model: &AllowedModel, tools: Vec<Value>) -> Value {
    let (descriptor, overrides) = model;
    let mut messages = Vec::new();
    if let Some(i) = ask.instructions_for(a) {
        messages.push(json!({"role": "system", "content": i}));
    }
    messages.extend(to_chat(&ask.conversation()));
    let mut request = json!({"model": descriptor["id"], "messages": messages, "stream": true});
    for (k, v) in ask.parameters.iter().filter(|(_, v)| !v.is_null()) {
        request[k] = v.clone();
    }
    if !tools.is_empty() {
        request["tools"] = Value::Array(tools);
    }
    let mut request = apply_overrides(request, overrides.as_ref());
    for k in ASSISTANT_PARAMETERS {
        match a.manifest.extra.get(k) {
            Some(v) if !v.is_null() && v != "auto" && request.get(k).is_none() => {
                request[k] = v.clone();
            }
            _ => {}
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use jan_provider::{BadParam, BoxFuture, ChatStream, Embeddings};

    struct Installed(Vec<Value>);

    impl ModelProvider for Installed {
        fn list(&self) -> Vec<Value> {
            self.0.clone()
        }
        fn check(&self, _: &Value) -> Result<(), BadParam> {
            Ok(())
        }
        fn chat(&self, _: Value) -> ChatStream {
            ChatStream::failed(anyhow::anyhow!("not here"))
        }
        fn embed(&self, _: String, _: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>> {
            Box::pin(async { Err(anyhow::anyhow!("not here")) })
        }
    }

    fn assistant(manifest: Value) -> (tempfile::TempDir, Assistant) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("assistant.json"), manifest.to_string()).unwrap();
        let a = Assistant::load(&folder).unwrap();
        (dir, a)
    }

    fn installed() -> Installed {
        Installed(vec![
            json!({"id": "minilm", "type": "embedding"}),
            json!({"id": "small"}),
            json!({"id": "big"}),
        ])
    }

    #[test]
    fn one_rule_picks_the_model() {
        let p = installed();
        let (_d, a) = assistant(json!({}));
        assert_eq!(choose_model(&a, &p, None).unwrap().0["id"], "small");
        assert_eq!(choose_model(&a, &p, Some("big")).unwrap().0["id"], "big");
        // assistant.json's `model` is its default.
        let (_d, a) = assistant(json!({"model": "big"}));
        assert_eq!(choose_model(&a, &p, None).unwrap().0["id"], "big");
        // Only allowed models, never an embedding model by default.
        let (_d, a) = assistant(json!({"models": ["minilm", "big"]}));
        assert_eq!(choose_model(&a, &p, None).unwrap().0["id"], "big");
        let e = choose_model(&a, &p, Some("small")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "model 'small' is not available to assistant 'a'; it may use: big"
        );
        let (_d, a) = assistant(json!({"models": ["minilm"]}));
        assert_eq!(
            choose_model(&a, &p, None).unwrap_err(),
            ModelChoiceError::NoModel("a".into())
        );
    }

    #[test]
    fn parameters_layer_turn_then_model_overrides_then_assistant() {
        let p = installed();
        let (_d, a) = assistant(json!({
            "instructions": "Be brief.", "temperature": 0.3, "top_p": 0.8,
            "models": [{"id": "small", "parameters": {"top_p": 0.1, "max_tokens": 7, "top_k": 3}}],
        }));
        let model = choose_model(&a, &p, None).unwrap();
        let ask = Ask {
            messages: vec![Item::user("1"), Item::user("2")],
            tool_rounds: vec![vec![ToolRun {
                call: jan_provider::ToolCall {
                    id: "c".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                },
                output: "x".into(),
            }]],
            truncation: Truncation::LastMessages(1),
            parameters: json!({"max_tokens": 9}).as_object().cloned().unwrap(),
            ..Ask::default()
        };
        let r = chat_request(&a, &ask, &model, vec![]);
        assert_eq!(r["model"], "small");
        assert_eq!(
            r["messages"],
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "2"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "x"},
            ])
        );
        assert_eq!(
            (
                r["max_tokens"].clone(),
                r["temperature"].clone(),
                r["top_p"].clone(),
                r["top_k"].clone()
            ),
            (json!(9), json!(0.3), json!(0.1), json!(3))
        );
        assert!(r.get("tools").is_none());
        // (top_p: the override for this model beats assistant.json.)
        // The turn's instructions replace the assistant's.
        let ask = Ask {
            instructions: Some("Be long.".into()),
            ..ask
        };
        assert_eq!(
            chat_request(&a, &ask, &model, vec![])["messages"][0]["content"],
            "Be long."
        );
    }
}
