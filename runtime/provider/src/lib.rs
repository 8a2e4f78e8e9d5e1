//! What the assistant host and the HTTP API need from a model engine, and
//! nothing of any engine: the Candle engine (`jan-models`) implements
//! [`ModelProvider`]; a remote OpenAI-compatible engine can too.
//!
//! A chat is a [`ChatStream`] of typed [`ChatEvent`]s (text pieces,
//! tool-call pieces, then one [`Completion`]). Renderers (chat-completion
//! JSON and chunks, run steps, the terminal) turn those events into their
//! wire formats. Dropping the stream cancels generation.

mod stream;
mod types;

pub use stream::{ChatSender, ChatStream};
pub use types::*;

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A model an assistant may use: its descriptor and the assistant's
/// parameter overrides for it.
pub type AllowedModel = (Value, Option<Map<String, Value>>);

/// A source of models.
pub trait ModelProvider: Send + Sync {
    /// The installed models' descriptors (model.json objects, `id` first;
    /// `type: "embedding"` marks an embedding model).
    fn list(&self) -> Vec<Value>;

    /// Checks what a request asks for before anything runs (sampling
    /// parameters, tools, response formats), so that a stream never
    /// starts with a bad request. May be CPU work (compiling a client's
    /// schemas): call it off the async workers.
    fn check(&self, request: &Value) -> Result<(), BadParam>;

    /// Runs an OpenAI chat-completion request (`model` set). The stream
    /// ends with [`ChatEvent::Done`] or an error; dropping it cancels
    /// generation. Errors the request caused are [`BadParam`] or
    /// [`ContextOverflow`] (downcast them from the `anyhow::Error`).
    fn chat(&self, request: Value) -> ChatStream;

    /// Fails as [`ModelProvider::chat`] would before its first token: a
    /// [`BadParam`], or [`ContextOverflow`] when the prompt does not fit.
    /// Streams call it first, so such a request gets an error response
    /// instead of a stream that fails. An engine that cannot tell accepts.
    fn check_prompt(&self, request: Value) -> BoxFuture<anyhow::Result<()>> {
        let _ = request;
        Box::pin(async { Ok(()) })
    }

    /// How many tokens the prompt of a chat request is (its messages and
    /// tools as the model sees them).
    fn count_tokens(&self, request: Value) -> BoxFuture<anyhow::Result<usize>> {
        let _ = request;
        Box::pin(async { Err(anyhow::anyhow!("this model engine cannot count tokens")) })
    }

    /// One embedding per input text.
    fn embed(&self, model: String, input: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>>;

    /// The descriptor of model `id`: [`ModelNotFound`] when there is no
    /// such model, another error when its folder cannot be read.
    fn model(&self, id: &str) -> anyhow::Result<Value> {
        self.list()
            .into_iter()
            .find(|m| m["id"] == id)
            .ok_or_else(|| ModelNotFound(id.to_string()).into())
    }
}

/// The provider when no engine is wired in: lists nothing, and says how to
/// get a model.
pub struct NoModels;

pub const NO_MODEL_HELP: &str = "no model is installed. Install one with `jan models import <file.gguf>` (README.md names a small offline one)";

impl ModelProvider for NoModels {
    fn list(&self) -> Vec<Value> {
        Vec::new()
    }

    fn check(&self, _: &Value) -> Result<(), BadParam> {
        Ok(())
    }

    fn chat(&self, _: Value) -> ChatStream {
        ChatStream::failed(anyhow::anyhow!(NO_MODEL_HELP))
    }

    fn embed(&self, _: String, _: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>> {
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
