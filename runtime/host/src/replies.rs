//! Where answers to requests go: the host registers a channel per request,
//! the assistant's isolate sends into it through `op_jan_reply`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

/// One piece of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A streamed piece of text.
    Delta(String),
    /// The model's last answer of the turn (finish reason, timings), with
    /// the usage of all the turn's rounds; sent before `Done` by the
    /// default answer.
    Meta(jan_provider::Completion),
    /// The assistant asks the caller to run functions (OpenAI's
    /// `tool_calls`: `{id, type: "function", function: {name, arguments}}`,
    /// `arguments` a JSON string), sent before `Done`.
    ToolCalls(Vec<serde_json::Value>),
    /// Calls to the assistant's registered tools that the host ran in the
    /// turn loop, each with `function.output` filled in (one model round).
    ToolsRan(Vec<serde_json::Value>),
    /// The whole text; the last message of a successful answer.
    Done(String),
    /// The request failed; the last message. `stack` is the JS stack trace,
    /// source-mapped to TypeScript lines.
    Error { message: String, stack: String },
}

struct Pending {
    owner: String,
    generation: u64,
    tx: mpsc::UnboundedSender<Reply>,
}

#[derive(Clone, Default)]
pub struct Replies(Arc<Mutex<HashMap<String, Pending>>>);

impl Replies {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(
        &self,
        id: &str,
        owner: &str,
        generation: u64,
    ) -> mpsc::UnboundedReceiver<Reply> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert(
            id.to_string(),
            Pending {
                owner: owner.to_string(),
                generation,
                tx,
            },
        );
        rx
    }

    /// Delivers a piece; a final piece closes the request. Answers to
    /// unknown (finished, timed out) requests are dropped.
    pub fn send(&self, id: &str, reply: Reply) {
        let mut map = self.lock();
        let last = matches!(reply, Reply::Done(_) | Reply::Error { .. });
        if let Some(p) = map.get(id) {
            let _ = p.tx.send(reply);
        }
        if last {
            map.remove(id);
        }
    }

    /// Fails every open request of one isolate generation (it stopped).
    pub fn fail_generation(&self, owner: &str, generation: u64, message: &str) {
        let mut map = self.lock();
        map.retain(|_, p| {
            if p.owner == owner && p.generation == generation {
                let _ = p.tx.send(Reply::Error {
                    message: message.to_string(),
                    stack: String::new(),
                });
                false
            } else {
                true
            }
        });
    }

    /// Was request `id` made to this owner's isolate of this generation?
    pub fn owned_by(&self, id: &str, owner: &str, generation: u64) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|p| p.owner == owner && p.generation == generation)
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}
