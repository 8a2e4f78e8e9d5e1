//! The turn loop of the default answer: model → tool calls → the
//! assistant's registered tools → model again, until the model answers,
//! calls a tool only the caller can run (a run's `requires_action`), or
//! [`MAX_ROUNDS`] rounds pass.

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::models::{ChatEvent, Usage};
use crate::tools::Registered;
use crate::{Host, Reply};

/// Model rounds in one turn: a model that keeps calling tools without
/// answering fails the turn after this many.
pub const MAX_ROUNDS: usize = 8;

/// The most a tool's output may hold (bytes); a larger one fails the turn
/// (it would go to the model and to the thread's log).
pub const MAX_TOOL_OUTPUT: usize = 1 << 20;

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
        let mut usage = Usage::default();
        // The text of every round, as streamed: the turn's whole answer.
        let mut said = String::new();
        for round in 0..MAX_ROUNDS {
            let mut chat = provider.chat(request.clone());
            let result = loop {
                tokio::select! {
                    event = chat.next() => match event {
                        Some(Ok(ChatEvent::Text(d))) => { let _ = tx.send(Reply::Delta(d)); }
                        // Calls are acted on whole, from the completion.
                        Some(Ok(ChatEvent::ToolCallStart { .. } | ChatEvent::ToolCallArguments { .. })) => {}
                        Some(Ok(ChatEvent::Done(done))) => break Ok(done),
                        Some(Err(e)) => break Err(e),
                        None => break Err(anyhow::anyhow!("the model engine stopped without an answer")),
                    },
                    // Nobody is listening any more (a cancelled run, an
                    // interrupted `jan run`): dropping the chat stream
                    // stops generation.
                    _ = tx.closed() => return,
                }
            };
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
            usage.add(&done.usage);
            done.usage = usage;
            let text = done.content.clone();
            said.push_str(&text);
            let calls: Vec<Value> = done.tool_calls.iter().map(|c| c.to_json()).collect();
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
                    if output.len() > MAX_TOOL_OUTPUT {
                        let _ = tx.send(Reply::Error {
                            message: format!(
                                "tool '{}' returned {} bytes, more than a tool output may hold ({MAX_TOOL_OUTPUT})",
                                call["function"]["name"].as_str().unwrap_or("?"),
                                output.len()
                            ),
                            stack: String::new(),
                        });
                        return;
                    }
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
