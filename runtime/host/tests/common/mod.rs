//! Shared test helpers: assistant folders written on the fly, and a model
//! stand-in (the Candle engine is a separate issue).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jan_events::Bus;
use jan_host::models::{BadParam, BoxFuture, ChatEvent, ChatStream, Completion, Embeddings, Usage};
use jan_host::{Ask, Host, ModelProvider};
use serde_json::{Value, json};

/// Answers "echo: <last user message>", streaming it word by word, and
/// reports what it was asked (system prompt included) so tests can check
/// instructions and parameter precedence.
pub struct EchoModels;

impl ModelProvider for EchoModels {
    fn list(&self) -> Vec<Value> {
        vec![
            // Listed first, but never the default chat model.
            json!({"id": "embed-1", "name": "Embeddings", "object": "model", "type": "embedding"}),
            json!({"id": "echo-1", "name": "Echo One", "object": "model"}),
            json!({"id": "echo-2", "name": "Echo Two", "object": "model"}),
        ]
    }

    /// The Candle engine's own checks: they need no model.
    fn check(&self, request: &Value) -> Result<(), BadParam> {
        jan_models::check(request)
    }

    fn chat(&self, request: Value) -> ChatStream {
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        let last = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string();
        let system = messages
            .iter()
            .find(|m| m["role"] == "system")
            .and_then(|m| m["content"].as_str())
            .map(|s| format!(" [system: {s}]"))
            .unwrap_or_default();
        let temp = request
            .get("temperature")
            .map(|t| format!(" [temperature: {t}]"))
            .unwrap_or_default();
        let model = request["model"].as_str().unwrap_or("?");
        let text = format!("echo: {last}{system}{temp} [model: {model}]");
        let mut events: Vec<ChatEvent> = text
            .split(' ')
            .enumerate()
            .map(|(i, word)| {
                ChatEvent::Text(if i == 0 {
                    word.to_string()
                } else {
                    format!(" {word}")
                })
            })
            .collect();
        let mut done = Completion::text(model, &text);
        done.usage = Usage {
            prompt_tokens: 1,
            completion_tokens: 1,
            cached_tokens: 0,
        };
        events.push(ChatEvent::Done(done));
        ChatStream::of(events)
    }

    fn embed(&self, _model: String, input: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>> {
        Box::pin(async move {
            Ok(Embeddings {
                vectors: input.iter().map(|t| vec![t.len() as f32, 1.0]).collect(),
                tokens: 0,
            })
        })
    }
}

pub fn host() -> Host {
    // JAN_LOG=debug shows the assistants' console output while debugging.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("JAN_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
    Host::new(Bus::new(), Arc::new(EchoModels))
}

/// Writes `files` (path, text) under `root/name` and returns the folder.
pub fn assistant(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn user(text: &str) -> Ask {
    Ask {
        messages: vec![jan_host::Item::user(text)],
        ..Ask::default()
    }
}

/// Asks and waits for the whole answer.
pub async fn ask(host: &Host, id: &str, text: &str) -> Result<String, String> {
    match host.ask(id, user(text)).await {
        Ok(a) => a.text().await,
        Err(e) => Err(e.to_string()),
    }
}
