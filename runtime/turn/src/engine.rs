//! The turn loop: model → tool calls → the tools the turn runs itself →
//! model again.

use std::sync::Arc;

use jan_provider::{BoxFuture, ChatEvent, ModelProvider, ToolCall, Usage};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::event::{ToolRun, TurnError, TurnEvent};
use crate::item::{Item, to_chat};

/// Model rounds in one turn: a model that keeps calling tools without
/// answering fails the turn after this many.
pub const MAX_ROUNDS: usize = 8;

/// The most a tool's output may hold (bytes); a larger one fails the turn
/// (it would go to the model and to the thread's log).
pub const MAX_TOOL_OUTPUT: usize = 1 << 20;

/// Runs the tools a turn runs itself (an assistant's registered tools).
/// Calls to other tools end the turn as [`TurnEvent::ToolCalls`], for the
/// caller to run.
pub trait ToolRunner: Send + Sync + 'static {
    /// Whether this runner runs the function `name`.
    fn runs(&self, name: &str) -> bool;
    /// Runs `call`; a failure is an output too (`{"error": "…"}`), which
    /// the model reads.
    fn run(&self, call: ToolCall) -> BoxFuture<String>;
}

/// No tools of the turn's own: every call goes back to the caller (chat
/// completions, responses without an assistant).
pub struct NoTools;

impl ToolRunner for NoTools {
    fn runs(&self, _: &str) -> bool {
        false
    }

    fn run(&self, _: ToolCall) -> BoxFuture<String> {
        Box::pin(async { String::new() })
    }
}

/// Starts a turn on its own task; its events arrive on the receiver.
/// Dropping the receiver stops the turn (and generation).
pub fn start(
    provider: Arc<dyn ModelProvider>,
    request: Value,
    tools: impl ToolRunner,
) -> mpsc::UnboundedReceiver<TurnEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(provider, request, tools, tx));
    rx
}

/// Runs `request` (a chat request, tools offered) to the end of the turn,
/// sending what happens to `tx`. Returns early, stopping generation, once
/// nobody listens.
pub async fn run(
    provider: Arc<dyn ModelProvider>,
    mut request: Value,
    tools: impl ToolRunner,
    tx: mpsc::UnboundedSender<TurnEvent>,
) {
    let mut usage = Usage::default();
    // The text of every round, as streamed: the turn's whole answer.
    let mut said = String::new();
    let fail = |e: TurnError| {
        let _ = tx.send(TurnEvent::Error(e));
    };
    // `max_tool_calls` (the Responses API's): how many calls of the
    // assistant's own tools may run in this turn. Calls past it are not
    // run (the model is told so), and once it is spent those tools are no
    // longer offered, so the model answers. The caller's functions are not
    // counted: they leave the turn.
    let mut budget = request
        .as_object_mut()
        .and_then(|o| o.remove("max_tool_calls"))
        .and_then(|v| v.as_u64())
        .map(|n| n as usize);
    if budget == Some(0) {
        withdraw_own_tools(&mut request, &tools);
    }
    for round in 0..MAX_ROUNDS {
        let mut chat = provider.chat(request.clone());
        let result = loop {
            tokio::select! {
                event = chat.next() => match event {
                    Some(Ok(ChatEvent::Text(d))) => { let _ = tx.send(TurnEvent::Text(d)); }
                    Some(Ok(ChatEvent::Logprobs(l))) => { let _ = tx.send(TurnEvent::Logprobs(l)); }
                    Some(Ok(ChatEvent::ToolCallStart { index, id, name })) => {
                        let _ = tx.send(TurnEvent::ToolCallStart { index, id, name });
                    }
                    Some(Ok(ChatEvent::ToolCallArguments { index, delta })) => {
                        let _ = tx.send(TurnEvent::ToolCallArguments { index, delta });
                    }
                    Some(Ok(ChatEvent::Done(done))) => break Ok(done),
                    Some(Err(e)) => break Err(TurnError::engine(e)),
                    None => break Err(TurnError::new("the model engine stopped without an answer")),
                },
                // Nobody is listening any more (a cancelled run, a client
                // gone, an interrupted `jan run`): dropping the chat
                // stream stops generation.
                _ = tx.closed() => return,
            }
        };
        let mut done = match result {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        usage.add(&done.usage);
        done.usage = usage;
        said.push_str(&done.content);
        let (ours, theirs): (Vec<ToolCall>, Vec<ToolCall>) = done
            .tool_calls
            .iter()
            .cloned()
            .partition(|c| tools.runs(&c.name));
        let ran_any = !ours.is_empty();
        if ran_any {
            let mut ran = Vec::new();
            for call in ours {
                // Nobody waits for this turn any more: run nothing else.
                if tx.is_closed() {
                    return;
                }
                if budget == Some(0) {
                    let output =
                        json!({"error": "not run: this response's max_tool_calls is spent"});
                    ran.push(ToolRun {
                        call,
                        output: output.to_string(),
                    });
                    continue;
                }
                budget = budget.map(|b| b - 1);
                let output = tools.run(call.clone()).await;
                if output.len() > MAX_TOOL_OUTPUT {
                    return fail(TurnError::new(format!(
                        "tool '{}' returned {} bytes, more than a tool output may hold ({MAX_TOOL_OUTPUT})",
                        call.name,
                        output.len()
                    )));
                }
                ran.push(ToolRun { call, output });
            }
            if let Some(m) = request["messages"].as_array_mut() {
                m.extend(to_chat(&Item::round(&done.content, &ran)));
            }
            if tx.send(TurnEvent::ToolsRan(ran)).is_err() {
                return;
            }
        }
        if !theirs.is_empty() {
            let _ = tx.send(TurnEvent::ToolCalls(theirs));
        } else if ran_any {
            // A forced choice forced this round; the model may now answer.
            if let Some(o) = request.as_object_mut() {
                o.remove("tool_choice");
            }
            if budget == Some(0) {
                withdraw_own_tools(&mut request, &tools);
            }
            if round + 1 < MAX_ROUNDS {
                continue;
            }
            return fail(TurnError::new(format!(
                "the model called tools {MAX_ROUNDS} times without answering"
            )));
        }
        let _ = tx.send(TurnEvent::Finished(done));
        let _ = tx.send(TurnEvent::Done(said));
        return;
    }
}

/// Takes the tools `tools` runs out of `request` (the caller's stay); with
/// none left, no tool is offered at all.
fn withdraw_own_tools(request: &mut Value, tools: &impl ToolRunner) {
    let Some(o) = request.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(list)) = o.get_mut("tools") {
        list.retain(|t| !tools.runs(t["function"]["name"].as_str().unwrap_or_default()));
        if list.is_empty() {
            o.remove("tools");
            o.remove("tool_choice");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jan_provider::{BadParam, ChatStream, Completion, Embeddings, Finish};
    use serde_json::json;
    use std::sync::Mutex;

    /// A scripted model (fault injection and loop order; the real engine
    /// runs this loop in the host's and the API's tests).
    struct Script {
        answers: Mutex<Vec<Completion>>,
        requests: Mutex<Vec<Value>>,
    }

    impl ModelProvider for Script {
        fn list(&self) -> Vec<Value> {
            vec![]
        }
        fn check(&self, _: &Value) -> Result<(), BadParam> {
            Ok(())
        }
        fn chat(&self, request: Value) -> ChatStream {
            self.requests.lock().unwrap().push(request);
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                return ChatStream::failed(anyhow::anyhow!("out of answers"));
            }
            let done = answers.remove(0);
            let mut events = vec![ChatEvent::Text(done.content.clone())];
            events.push(ChatEvent::Done(done));
            ChatStream::of(events)
        }
        fn embed(&self, _: String, _: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>> {
            Box::pin(async { Err(anyhow::anyhow!("no")) })
        }
    }

    struct Adder;

    impl ToolRunner for Adder {
        fn runs(&self, name: &str) -> bool {
            name == "add"
        }
        fn run(&self, call: ToolCall) -> BoxFuture<String> {
            Box::pin(async move {
                let a: Value = serde_json::from_str(&call.arguments).unwrap_or_default();
                (a["a"].as_i64().unwrap_or(0) + a["b"].as_i64().unwrap_or(0)).to_string()
            })
        }
    }

    fn calling(calls: &[(&str, &str)]) -> Completion {
        let mut c = Completion::text("m", "");
        c.tool_calls = calls
            .iter()
            .map(|(n, a)| ToolCall::new(n, a.to_string()))
            .collect();
        c.finish = Finish::ToolCalls;
        c.usage.prompt_tokens = 10;
        c.usage.completion_tokens = 5;
        c
    }

    async fn events(script: Arc<Script>, request: Value) -> Vec<TurnEvent> {
        let mut rx = start(script, request, Adder);
        let mut out = Vec::new();
        while let Some(e) = rx.recv().await {
            out.push(e);
        }
        out
    }

    #[tokio::test]
    async fn own_tools_run_in_the_loop_and_the_model_answers_with_their_output() {
        let mut answer = Completion::text("m", "It is 3.");
        answer.usage.prompt_tokens = 20;
        answer.usage.completion_tokens = 4;
        let script = Arc::new(Script {
            answers: Mutex::new(vec![calling(&[("add", r#"{"a": 1, "b": 2}"#)]), answer]),
            requests: Mutex::new(vec![]),
        });
        let request =
            json!({"messages": [{"role": "user", "content": "1+2?"}], "tool_choice": "required"});
        let ev = events(script.clone(), request).await;
        let TurnEvent::ToolsRan(ran) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert_eq!(ran[0].output, "3");
        let TurnEvent::Finished(done) = &ev[ev.len() - 2] else {
            panic!("{ev:?}")
        };
        // Usage counts both rounds.
        assert_eq!(
            (done.usage.prompt_tokens, done.usage.completion_tokens),
            (30, 9)
        );
        assert_eq!(ev.last(), Some(&TurnEvent::Done("It is 3.".into())));
        // The second round saw the call and its output, and was not forced.
        let second = &script.requests.lock().unwrap()[1];
        assert_eq!(
            second["messages"][1]["tool_calls"][0]["function"]["name"],
            "add"
        );
        assert_eq!(second["messages"][2]["content"], "3");
        assert!(second.get("tool_choice").is_none());
    }

    #[tokio::test]
    async fn max_tool_calls_bounds_the_own_tools_that_run() {
        let script = Arc::new(Script {
            answers: Mutex::new(vec![
                calling(&[
                    ("add", r#"{"a": 1, "b": 1}"#),
                    ("add", r#"{"a": 2, "b": 2}"#),
                ]),
                Completion::text("m", "2, and the rest was not run."),
            ]),
            requests: Mutex::new(vec![]),
        });
        let tool = |n: &str| json!({"type": "function", "function": {"name": n}});
        let request = json!({"messages": [], "tools": [tool("add"), tool("get_weather")],
                             "max_tool_calls": 1});
        let ev = events(script.clone(), request).await;
        let TurnEvent::ToolsRan(ran) = &ev[1] else {
            panic!("{ev:?}")
        };
        assert_eq!(ran[0].output, "2");
        assert!(ran[1].output.contains("max_tool_calls"), "{ran:?}");
        let requests = script.requests.lock().unwrap().clone();
        // The engine never sees the parameter; once spent, only the
        // caller's function is offered.
        assert!(requests[0].get("max_tool_calls").is_none());
        assert_eq!(requests[1]["tools"], json!([tool("get_weather")]));
        // Zero: the own tools are never offered.
        let script = Arc::new(Script {
            answers: Mutex::new(vec![Completion::text("m", "no tools")]),
            requests: Mutex::new(vec![]),
        });
        let request = json!({"messages": [], "tools": [tool("add")], "tool_choice": "required", "max_tool_calls": 0});
        events(script.clone(), request).await;
        let first = &script.requests.lock().unwrap()[0];
        assert!(
            first.get("tools").is_none() && first.get("tool_choice").is_none(),
            "{first}"
        );
    }

    #[tokio::test]
    async fn calls_the_caller_must_run_end_the_turn() {
        let script = Arc::new(Script {
            answers: Mutex::new(vec![calling(&[
                ("add", r#"{"a": 2, "b": 2}"#),
                ("get_weather", "{}"),
            ])]),
            requests: Mutex::new(vec![]),
        });
        let ev = events(script, json!({"messages": []})).await;
        assert!(
            matches!(&ev[1], TurnEvent::ToolsRan(r) if r[0].output == "4"),
            "{ev:?}"
        );
        assert!(
            matches!(&ev[2], TurnEvent::ToolCalls(c) if c.len() == 1 && c[0].name == "get_weather"),
            "{ev:?}"
        );
        assert!(matches!(ev.last(), Some(TurnEvent::Done(_))));
    }

    #[tokio::test]
    async fn a_model_that_never_answers_fails_after_the_round_limit() {
        let script = Arc::new(Script {
            answers: Mutex::new(
                (0..MAX_ROUNDS + 2)
                    .map(|_| calling(&[("add", "{}")]))
                    .collect(),
            ),
            requests: Mutex::new(vec![]),
        });
        let ev = events(script.clone(), json!({"messages": []})).await;
        let Some(TurnEvent::Error(e)) = ev.last() else {
            panic!("{ev:?}")
        };
        assert!(e.message.contains("8 times"), "{e}");
        assert_eq!(script.requests.lock().unwrap().len(), MAX_ROUNDS);
        // An engine error keeps its cause for the server to classify.
        let script = Arc::new(Script {
            answers: Mutex::new(vec![]),
            requests: Mutex::new(vec![]),
        });
        let ev = events(script, json!({"messages": []})).await;
        let Some(TurnEvent::Error(e)) = ev.last() else {
            panic!("{ev:?}")
        };
        assert!(e.cause().is_some() && e.message == "out of answers");
    }
}
