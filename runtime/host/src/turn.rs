//! The turn loop of the default answer: model → tool calls → the
//! assistant's registered tools → model again, until the model answers,
//! calls a tool only the caller can run (a run's `requires_action`), or
//! [`MAX_ROUNDS`] rounds pass.

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::tools::Registered;
use crate::{Host, Reply};

/// Model rounds in one turn: a model that keeps calling tools without
/// answering fails the turn after this many.
pub const MAX_ROUNDS: usize = 8;

pub(crate) struct Turn {
    pub host: Host,
    pub assistant: String,
    pub registered: Registered,
    pub thread_id: Option<String>,
    pub hops: u32,
}

impl Turn {
    /// Runs `request` (a chat request, `tools` offered) to the end of the
    /// turn, sending text, the tools it ran, the caller's calls, usage and
    /// the final text to `tx`.
    pub async fn run(self, mut request: Value, tx: mpsc::UnboundedSender<Reply>) {
        let provider = self.host.provider().clone();
        let mut usage = [0u64; 2];
        // The text of every round, as streamed: the turn's whole answer.
        let mut said = String::new();
        for round in 0..MAX_ROUNDS {
            let (dtx, mut drx) = mpsc::unbounded_channel::<String>();
            let chat = provider.chat(request.clone(), Some(dtx));
            tokio::pin!(chat);
            let result = loop {
                tokio::select! {
                    d = drx.recv() => if let Some(d) = d { let _ = tx.send(Reply::Delta(d)); },
                    r = &mut chat => break r,
                    // Nobody is listening any more (a cancelled run, an
                    // interrupted `jan run`): dropping the chat future
                    // stops generation.
                    _ = tx.closed() => return,
                }
            };
            while let Ok(d) = drx.try_recv() {
                let _ = tx.send(Reply::Delta(d));
            }
            let mut done = match result {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx.send(Reply::Error {
                        message: format!("{e:#}"),
                        stack: String::new(),
                    });
                    return;
                }
            };
            for (i, k) in ["prompt_tokens", "completion_tokens"].iter().enumerate() {
                usage[i] += done["usage"][k].as_u64().unwrap_or(0);
            }
            done["usage"]["prompt_tokens"] = usage[0].into();
            done["usage"]["completion_tokens"] = usage[1].into();
            done["usage"]["total_tokens"] = (usage[0] + usage[1]).into();
            let message = done["choices"][0]["message"].clone();
            let text = message["content"].as_str().unwrap_or_default().to_string();
            said.push_str(&text);
            let calls = message["tool_calls"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let (ours, theirs): (Vec<Value>, Vec<Value>) = calls.into_iter().partition(|c| {
                self.registered
                    .has(c["function"]["name"].as_str().unwrap_or(""))
            });
            if !ours.is_empty() {
                let mut ran = Vec::new();
                let mut outputs = Vec::new();
                for call in &ours {
                    // Nobody waits for this turn any more: run nothing else.
                    if tx.is_closed() {
                        return;
                    }
                    let output = self
                        .host
                        .call_tool(&self.assistant, call, self.thread_id.as_deref(), self.hops)
                        .await;
                    let mut c = call.clone();
                    c["function"]["output"] = output.clone().into();
                    ran.push(c);
                    outputs.push(
                        json!({"role": "tool", "tool_call_id": call["id"], "content": output}),
                    );
                }
                if tx.send(Reply::ToolsRan(ran)).is_err() {
                    return;
                }
                if let Some(m) = request["messages"].as_array_mut() {
                    m.push(json!({"role": "assistant", "content": text, "tool_calls": ours}));
                    m.extend(outputs);
                }
            }
            if !theirs.is_empty() {
                let _ = tx.send(Reply::ToolCalls(theirs));
            } else if !ours.is_empty() {
                // A forced choice forced this round; the model may now answer.
                if let Some(o) = request.as_object_mut() {
                    o.remove("tool_choice");
                }
                if round + 1 < MAX_ROUNDS {
                    continue;
                }
                let _ = tx.send(Reply::Error {
                    message: format!("the model called tools {MAX_ROUNDS} times without answering"),
                    stack: String::new(),
                });
                return;
            }
            let _ = tx.send(Reply::Meta(done));
            let _ = tx.send(Reply::Done(said));
            return;
        }
    }
}
