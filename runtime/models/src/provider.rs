//! What the assistant host needs from a model engine: OpenAI-shaped JSON in
//! and out, and text deltas. [`crate::Engine`] implements it with Candle;
//! tests plug in stand-ins.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

/// A model an assistant may use: its descriptor and the assistant's
/// parameter overrides for it.
pub type AllowedModel = (Value, Option<Map<String, Value>>);

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A source of models.
pub trait ModelProvider: Send + Sync {
    /// The installed models' descriptors (model.json objects, `id` first).
    fn list(&self) -> Vec<Value>;

    /// Runs an OpenAI chat-completion request (`model` set) and resolves to
    /// a `chat.completion` object. When `deltas` is given, each piece of
    /// text is also sent there as it is produced. Dropping the future
    /// cancels generation.
    fn chat(
        &self,
        request: Value,
        deltas: Option<mpsc::UnboundedSender<String>>,
    ) -> BoxFuture<anyhow::Result<Value>>;

    /// One embedding per input text.
    fn embed(&self, model: String, input: Vec<String>) -> BoxFuture<anyhow::Result<Vec<Vec<f32>>>>;
}

/// The provider when no engine is wired in: lists nothing, and says how to
/// get a model.
pub struct NoModels;

pub const NO_MODEL_HELP: &str = "no model is installed. Install one with `jan models import <file.gguf>` (README.md names a small offline one)";

impl ModelProvider for NoModels {
    fn list(&self) -> Vec<Value> {
        Vec::new()
    }

    fn chat(
        &self,
        _: Value,
        _: Option<mpsc::UnboundedSender<String>>,
    ) -> BoxFuture<anyhow::Result<Value>> {
        Box::pin(async { Err(anyhow::anyhow!(NO_MODEL_HELP)) })
    }

    fn embed(&self, _: String, _: Vec<String>) -> BoxFuture<anyhow::Result<Vec<Vec<f32>>>> {
        Box::pin(async { Err(anyhow::anyhow!(NO_MODEL_HELP)) })
    }
}

/// Applies an assistant's per-model parameter overrides under a request:
/// request fields win, then the assistant's, then (in the engine)
/// model.json's.
pub fn apply_overrides(mut request: Value, overrides: Option<&Map<String, Value>>) -> Value {
    if let (Some(obj), Some(over)) = (request.as_object_mut(), overrides) {
        for (k, v) in over {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_beats_assistant_overrides() {
        let over = json!({"temperature": 0.2, "top_p": 0.5});
        let r = apply_overrides(json!({"temperature": 0.9}), over.as_object());
        assert_eq!(r, json!({"temperature": 0.9, "top_p": 0.5}));
    }
}
