//! What a conversation holds, as a turn reads it: messages, the calls an
//! assistant made and the tools' outputs. Callers hand OpenAI chat
//! messages in (the HTTP API, assistant code's `events.request`) and they
//! are read once, here; the model engine and assistant code get OpenAI
//! chat messages back out ([`to_chat`]).

use jan_provider::ToolCall;
use serde_json::{Map, Value, json};

use crate::event::{ToolRun, calls_from_json};

/// One entry of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Message {
        role: Role,
        content: Content,
        /// OpenAI's optional participant name.
        name: Option<String>,
    },
    /// An assistant's turn that called tools, with the text it wrote
    /// beside the calls.
    ToolCalls { text: String, calls: Vec<ToolCall> },
    /// What a tool returned for call `call_id`.
    ToolOutput { call_id: String, output: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    /// OpenAI's newer name for system instructions; templates get it as
    /// `system`.
    Developer,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// A message's content: text, or OpenAI content parts as sent (images,
/// files: the engine reads them, or refuses those its model cannot take,
/// naming the part; room for citations later).
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    Parts(Vec<Value>),
}

impl Content {
    /// The text of the content (text parts joined).
    pub fn text(&self) -> String {
        match self {
            Content::Text(t) => t.clone(),
            Content::Parts(parts) => parts
                .iter()
                .filter_map(|p| p["text"].as_str().or_else(|| p["text"]["value"].as_str()))
                .collect(),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Content::Text(t) => t.clone().into(),
            Content::Parts(p) => Value::Array(p.clone()),
        }
    }

    fn from_json(v: &Value, at: &str) -> Result<Content, String> {
        match v {
            Value::String(s) => Ok(Content::Text(s.clone())),
            Value::Null => Ok(Content::Text(String::new())),
            Value::Array(parts) => Ok(Content::Parts(parts.clone())),
            other => Err(format!(
                "{at}.content must be a string or a list of content parts, got {other}"
            )),
        }
    }
}

impl Item {
    /// A user's text.
    pub fn user(text: impl Into<String>) -> Item {
        Item::Message {
            role: Role::User,
            content: Content::Text(text.into()),
            name: None,
        }
    }

    /// An assistant's text.
    pub fn assistant(text: impl Into<String>) -> Item {
        Item::Message {
            role: Role::Assistant,
            content: Content::Text(text.into()),
            name: None,
        }
    }

    /// The items of one round of tools a turn ran (or a run resumed with):
    /// the calls, then each output.
    pub fn round(text: &str, runs: &[ToolRun]) -> Vec<Item> {
        let mut out = vec![Item::ToolCalls {
            text: text.to_string(),
            calls: runs.iter().map(|r| r.call.clone()).collect(),
        }];
        out.extend(runs.iter().map(|r| Item::ToolOutput {
            call_id: r.call.id.clone(),
            output: r.output.clone(),
        }));
        out
    }

    /// Reads one OpenAI chat message; `at` names it in errors
    /// (`messages[2]`).
    pub fn from_chat(m: &Value, at: &str) -> Result<Item, String> {
        let Some(o) = m.as_object() else {
            return Err(format!("{at} must be an object with a role"));
        };
        let role = o.get("role").and_then(Value::as_str).unwrap_or_default();
        let content = || Content::from_json(o.get("content").unwrap_or(&Value::Null), at);
        let name = o.get("name").and_then(Value::as_str).map(String::from);
        let message = |role| {
            Ok(Item::Message {
                role,
                content: content()?,
                name: name.clone(),
            })
        };
        match role {
            "system" => message(Role::System),
            "developer" => message(Role::Developer),
            "user" => message(Role::User),
            "assistant" => match o.get("tool_calls") {
                Some(calls @ Value::Array(list)) if !list.is_empty() => Ok(Item::ToolCalls {
                    text: content()?.text(),
                    calls: calls_from_json(calls).map_err(|e| format!("{at}.{e}"))?,
                }),
                _ => message(Role::Assistant),
            },
            "tool" => Ok(Item::ToolOutput {
                call_id: o
                    .get("tool_call_id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{at}.tool_call_id is required for a tool message"))?
                    .to_string(),
                output: content()?.text(),
            }),
            "" => Err(format!("{at}.role is required")),
            other => Err(format!(
                "{at}.role must be system, developer, user, assistant or tool, got '{other}'"
            )),
        }
    }

    /// Reads a list of OpenAI chat messages.
    pub fn from_chat_list(messages: &[Value]) -> Result<Vec<Item>, String> {
        messages
            .iter()
            .enumerate()
            .map(|(i, m)| Item::from_chat(m, &format!("messages[{i}]")))
            .collect()
    }

    /// The OpenAI chat message of this item.
    pub fn to_chat(&self) -> Value {
        match self {
            Item::Message {
                role,
                content,
                name,
            } => {
                let mut m = Map::new();
                m.insert("role".into(), role.as_str().into());
                m.insert("content".into(), content.to_json());
                if let Some(n) = name {
                    m.insert("name".into(), n.clone().into());
                }
                Value::Object(m)
            }
            Item::ToolCalls { text, calls } => {
                let calls: Vec<Value> = calls.iter().map(ToolCall::to_json).collect();
                json!({"role": "assistant", "content": text, "tool_calls": calls})
            }
            Item::ToolOutput { call_id, output } => {
                json!({"role": "tool", "tool_call_id": call_id, "content": output})
            }
        }
    }
}

/// Items as OpenAI chat messages.
pub fn to_chat(items: &[Item]) -> Vec<Value> {
    items.iter().map(Item::to_chat).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_messages_read_once_and_render_back_the_same() {
        let messages = vec![
            json!({"role": "developer", "content": "Be brief."}),
            json!({"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {"url": "data:,"}}], "name": "ada"}),
            json!({"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "42"}),
            json!({"role": "assistant", "content": "It is 42."}),
        ];
        let items = Item::from_chat_list(&messages).unwrap();
        assert!(matches!(&items[2], Item::ToolCalls { calls, .. } if calls[0].id == "call_1"));
        assert_eq!(to_chat(&items), messages);
        // Content parts are kept for the engine (which refuses an image
        // for a text-only model, naming the part).
        assert!(
            matches!(&items[1], Item::Message { content: Content::Parts(p), .. } if p.len() == 2)
        );
    }

    #[test]
    fn bad_messages_are_named() {
        for (m, want) in [
            (
                json!({"role": "robot", "content": "x"}),
                "messages[0].role must be",
            ),
            (json!({"content": "x"}), "messages[0].role is required"),
            (
                json!({"role": "tool", "content": "x"}),
                "messages[0].tool_call_id",
            ),
            (
                json!({"role": "user", "content": 3}),
                "messages[0].content must be",
            ),
            (json!("hi"), "messages[0] must be an object"),
            (
                json!({"role": "assistant", "tool_calls": [{"function": {}}]}),
                "messages[0].tool_calls[0].function.name",
            ),
        ] {
            let e = Item::from_chat_list(&[m]).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
    }
}
