//! Shared test helpers.

#![allow(dead_code)]

use std::sync::Arc;

use jan_models::Engine;
use jan_provider::ChatEvent;
use serde_json::Value;
use tokio::sync::mpsc;

/// Runs `request` to the end and renders it as a `chat.completion`, sending
/// the text pieces to `deltas` when given.
pub async fn chat(
    engine: &Arc<Engine>,
    request: Value,
    deltas: Option<mpsc::UnboundedSender<String>>,
) -> anyhow::Result<Value> {
    let mut stream = engine.chat(request);
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::Text(d) => {
                if let Some(tx) = &deltas {
                    let _ = tx.send(d);
                }
            }
            ChatEvent::Done(done) => return Ok(done.to_chat_completion()),
            _ => {}
        }
    }
    anyhow::bail!("the engine stopped without an answer")
}
