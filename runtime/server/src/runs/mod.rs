//! Runs and run steps: `/v1/threads/{id}/runs…` and `/v1/threads/runs`.
//!
//! A run asks the assistant through the host's request/reply contract (its
//! handler, or the default model answer) with the thread's history, and
//! writes the answer as an assistant message. Status moves `queued` →
//! `in_progress` → `completed` (or `incomplete` at `max_completion_tokens`,
//! `failed` with `last_error`, `cancelling` → `cancelled`).

use std::collections::HashMap;
use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use jan_host::models::{Completion, Finish, Usage};
use jan_host::{Ask, Item, ToolCall, ToolRun, Truncation, TurnEvent};
use jan_store::{is_terminal, new_id, now};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page};
use crate::threads::{create_thread_from, metadata, new_message};
use crate::{AppState, Body};

mod types;
pub use types::*;

type Events = Option<mpsc::UnboundedSender<Result<Event, Infallible>>>;

fn send(events: &Events, name: &str, data: &Value) {
    if let Some(tx) = events {
        let _ = tx.send(Ok(Event::default().event(name).data(data.to_string())));
    }
}

/// A number from `lo` to `hi`, or a 400 naming `key`.
fn within<T: PartialOrd + std::fmt::Display + Copy>(
    v: Option<T>,
    key: &str,
    lo: T,
    hi: T,
) -> ApiResult<Option<T>> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(ApiError::invalid(
            Some(key),
            format!("'{key}' must be a number from {lo} to {hi}"),
        )),
        v => Ok(v),
    }
}

/// The thread a run goes on.
enum Target {
    Existing(String),
    /// `POST /v1/threads/runs`: made (from this spec) once the whole
    /// request checks out, so a refused request leaves no thread behind.
    New(Map<String, Value>),
}

/// Starts a run from a run-create body.
async fn start(s: AppState, target: Target, body: Map<String, Value>) -> ApiResult<Response> {
    let req: RunCreate = crate::typed(&body)?;
    crate::error::refuse_set(&[
        (
            "thread",
            req.thread.is_some(),
            "'thread' is only for POST /v1/threads/runs",
        ),
        (
            "reasoning_effort",
            req.reasoning_effort.is_some(),
            "'reasoning_effort' is not supported: the local models here do not reason",
        ),
        (
            "tool_resources",
            req.tool_resources.is_some(),
            "'tool_resources' is not supported yet (no file search or code interpreter)",
        ),
    ])?;
    let assistant_id = req.assistant_id.clone();
    let assistant = crate::assistants::load(&s, &assistant_id)?;
    let resolved = assistant.resolved();
    let model = assistant_model(&s, &assistant, req.model.clone());
    // Fixed at start, as the run's turns will use them (and the run shows
    // them).
    let temperature = sampling(
        &s,
        Some(&assistant),
        &model,
        "temperature",
        within(req.temperature, "temperature", 0.0, 2.0)?,
    );
    let top_p = sampling(
        &s,
        Some(&assistant),
        &model,
        "top_p",
        within(req.top_p, "top_p", 0.0, 1.0)?,
    );
    let max_completion = within(
        req.max_completion_tokens,
        "max_completion_tokens",
        1,
        1_000_000_000,
    )?;
    let max_prompt = within(req.max_prompt_tokens, "max_prompt_tokens", 1, 1_000_000_000)?;
    let truncation = match req.truncation_strategy.clone() {
        None => TruncationStrategy {
            kind: "auto".into(),
            last_messages: None,
        },
        Some(t) => match (t.kind.as_str(), t.last_messages) {
            ("auto", _) => TruncationStrategy {
                kind: "auto".into(),
                last_messages: None,
            },
            ("last_messages", Some(n)) if n >= 1 => t,
            _ => {
                return Err(ApiError::invalid(
                    Some("truncation_strategy"),
                    "'truncation_strategy' must be {type: 'auto'} or {type: 'last_messages', last_messages: N}",
                ));
            }
        },
    };
    // Tools: the run's own list replaces the assistant's; the choice, the
    // parallel flag and the answer format are checked as chat completions
    // check them, and reach the model through the turn.
    let tools: Vec<Value> = match req.tools.clone() {
        None => resolved["tools"].as_array().cloned().unwrap_or_default(),
        Some(t) => t,
    };
    let tool_choice = req
        .tool_choice
        .clone()
        .filter(|v| !v.is_null())
        .unwrap_or(json!("auto"));
    let parallel = req.parallel_tool_calls.unwrap_or(true);
    let response_format = req
        .response_format
        .clone()
        .filter(|v| !v.is_null())
        .or_else(|| {
            resolved
                .get("response_format")
                .filter(|v| !v.is_null())
                .cloned()
        })
        .unwrap_or(json!("auto"));
    let registered = s.host.registered_tools(&assistant.id).await;
    let mut check = json!({
        "tools": jan_host::tools::offered(&tools, &registered),
        "tool_choice": tool_choice, "parallel_tool_calls": parallel,
    });
    if response_format != "auto" {
        check["response_format"] = response_format.clone();
    }
    crate::check_request(&s, check).await?;
    let meta = metadata(&body)?.unwrap_or(json!({}));
    let stream = req.stream.unwrap_or(false);
    let mut instructions = req
        .instructions
        .clone()
        .or_else(|| resolved["instructions"].as_str().map(String::from))
        .unwrap_or_default();
    if let Some(extra) = &req.additional_instructions {
        if !instructions.is_empty() {
            instructions.push('\n');
        }
        instructions.push_str(extra);
    }
    let additional = req
        .additional_messages
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, m)| {
            let m = serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            new_message("", &m, &format!("additional_messages[{i}]."))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let new_thread = matches!(target, Target::New(_));
    let thread = match target {
        Target::Existing(id) => id,
        Target::New(spec) => create_thread_from(&s, &spec)?["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let additional: Vec<Value> = additional
        .into_iter()
        .map(|mut m| {
            m["thread_id"] = thread.clone().into();
            m
        })
        .collect();
    let run = s.store.with_lock(&thread, || -> ApiResult<Value> {
        s.store.thread(&thread)?;
        if let Some(active) = s
            .store
            .runs(&thread)?
            .into_iter()
            .find(|r| !is_terminal(r["status"].as_str().unwrap_or("failed")))
        {
            return Err(ApiError::invalid(
                None,
                format!(
                    "Thread {thread} already has an active run {}.",
                    active["id"].as_str().unwrap_or("")
                ),
            ));
        }
        // A run that cannot be saved (a full disk) takes its messages
        // back: the failed request leaves nothing.
        let mark = s.store.log_len(&thread)?;
        s.store.put_messages(&thread, &additional)?;
        let run = Run {
            id: new_id("run"),
            object: "thread.run".into(),
            created_at: now(),
            thread_id: thread.clone(),
            assistant_id: assistant.id.clone(),
            status: RunStatus::Queued,
            required_action: None,
            last_error: None,
            expires_at: None,
            started_at: None,
            cancelled_at: None,
            failed_at: None,
            completed_at: None,
            incomplete_details: None,
            model: model.clone(),
            instructions: instructions.clone(),
            tools: tools.clone(),
            metadata: meta.clone(),
            usage: None,
            temperature,
            top_p,
            max_prompt_tokens: max_prompt,
            max_completion_tokens: max_completion,
            truncation_strategy: truncation.clone(),
            response_format: response_format.clone(),
            tool_choice: tool_choice.clone(),
            parallel_tool_calls: parallel,
        };
        let run = serde_json::to_value(&run).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Err(e) = s.store.put_run(&thread, &run) {
            let _ = s.store.cut_log(&thread, mark);
            return Err(e.into());
        }
        Ok(run)
    });
    let run = match run {
        Ok(run) => run,
        Err(e) => {
            if new_thread {
                let _ = s.store.delete_thread(&thread);
            }
            return Err(e);
        }
    };
    let (cancel_tx, cancel_rx) = watch::channel(false);
    s.active.lock().unwrap_or_else(|e| e.into_inner()).insert(
        run["id"].as_str().unwrap_or_default().to_string(),
        cancel_tx,
    );
    s.host.bus().emit("api", "run.created", run.clone());
    if stream {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(execute(s, run, Some(tx), cancel_rx));
        return Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response());
    }
    tokio::spawn(execute(s, run.clone(), None, cancel_rx));
    Ok(Json(run).into_response())
}

/// The model a turn of `assistant` runs on ([`jan_turn::choose_model`]'s
/// rule); a model it may not use stays as asked, and the run fails with
/// the reason when it starts.
pub(crate) fn assistant_model(
    s: &AppState,
    assistant: &jan_assistant::Assistant,
    asked: Option<String>,
) -> String {
    match jan_turn::choose_model(assistant, s.models().as_ref(), asked.as_deref()) {
        Ok((descriptor, _)) => descriptor["id"].as_str().unwrap_or_default().to_string(),
        Err(_) => asked.unwrap_or_default(),
    }
}

/// A sampling setting (`temperature`, `top_p`) as a turn will use it, which
/// runs and responses fix at start and show: asked, else the assistant's
/// override for the model, else assistant.json's, else model.json's (the
/// turn's layering).
pub(crate) fn sampling(
    s: &AppState,
    assistant: Option<&jan_assistant::Assistant>,
    model: &str,
    key: &str,
    asked: Option<f64>,
) -> Option<f64> {
    let from_assistant = || {
        let a = assistant?;
        let overrides = jan_turn::choose_model(a, s.models().as_ref(), Some(model))
            .ok()
            .and_then(|(_, o)| o);
        overrides
            .and_then(|o| o.get(key).and_then(Value::as_f64))
            .or_else(|| a.resolved()[key].as_f64())
    };
    let from_model = || {
        s.models()
            .model(model)
            .ok()
            .and_then(|m| m["parameters"][key].as_f64())
    };
    asked.or_else(from_assistant).or_else(from_model)
}

/// Saves `run` with a new status, under the thread's lock, and tells the
/// stream and the bus. What clients may change while a run works is kept
/// from the stored copy: its `metadata` (modify), and `cancelling` (cancel)
/// until the run actually ends.
fn set_status(s: &AppState, run: &mut Value, status: &str, events: &Events) {
    let thread = run["thread_id"].as_str().unwrap_or_default().to_string();
    s.store
        .with_lock(&thread, || save_status(s, run, status, events));
}

/// [`set_status`] with the thread's lock already held.
fn save_status(s: &AppState, run: &mut Value, status: &str, events: &Events) {
    let thread = run["thread_id"].as_str().unwrap_or_default().to_string();
    let id = run["id"].as_str().unwrap_or_default().to_string();
    let mut status = status;
    let stored = s.store.run(&thread, &id);
    if let Err(jan_store::StoreError::Unreadable(e)) = &stored {
        // Never written over: the user decides what to keep.
        tracing::error!("run {id} stops without saving its status: {e}");
        return;
    }
    if let Ok(stored) = stored {
        run["metadata"] = stored["metadata"].clone();
        let was = stored["status"].as_str().unwrap_or_default();
        if is_terminal(was) && !is_terminal(status) {
            // Ended meanwhile (a cancel while it waited for outputs).
            *run = stored;
            return;
        }
        if was == "cancelling" && status == "requires_action" {
            // Cancelled as it stopped to wait: nothing is left to run.
            status = "cancelled";
            run["required_action"] = Value::Null;
            run["expires_at"] = Value::Null;
            run["cancelled_at"] = now().into();
            if let Ok(mut steps) = s.store.steps(&thread, &id) {
                for st in steps.iter_mut().filter(|st| st["status"] == "in_progress") {
                    st["status"] = "cancelled".into();
                    st["cancelled_at"] = now().into();
                }
                let _ = s.store.put_steps(&thread, &id, &steps);
            }
        } else if was == "cancelling" && !is_terminal(status) {
            status = "cancelling";
        }
    }
    run["status"] = status.into();
    let _ = s.store.put_run(&thread, run);
    send(events, &format!("thread.run.{status}"), run);
    if is_terminal(status) || status == "requires_action" {
        s.host
            .bus()
            .emit("api", &format!("run.{status}"), run.clone());
    }
}

/// The tool-call rounds of a run so far: each completed `tool_calls`
/// step's calls with their outputs. A step that does not read as a
/// [`RunStep`] is skipped and logged.
fn tool_rounds(steps: &[Value]) -> Vec<Vec<ToolRun>> {
    steps
        .iter()
        .filter_map(|v| match serde_json::from_value::<RunStep>(v.clone()) {
            Ok(step) => Some(step),
            Err(e) => {
                tracing::warn!("run step {} unreadable, skipped: {e}", v["id"]);
                None
            }
        })
        .filter(|step| step.status == StepStatus::Completed)
        .filter_map(|step| match step.step_details {
            StepDetails::ToolCalls { tool_calls } => Some(
                tool_calls
                    .into_iter()
                    .map(|c| ToolRun {
                        call: ToolCall {
                            id: c.id,
                            name: c.function.name,
                            arguments: c.function.arguments,
                        },
                        output: c.function.output.unwrap_or_default(),
                    })
                    .collect(),
            ),
            StepDetails::MessageCreation { .. } => None,
        })
        .collect()
}

/// The run's reply message and its `message_creation` step, created when
/// the first text arrives (a reply that only calls tools has none).
struct ReplyMessage<'a> {
    s: &'a AppState,
    events: &'a Events,
    run: &'a Value,
    open: Option<(Value, Value)>,
}

impl ReplyMessage<'_> {
    fn get(&mut self) -> &mut (Value, Value) {
        let (s, events, run) = (self.s, self.events, self.run);
        self.open.get_or_insert_with(|| {
            let thread = run["thread_id"].as_str().unwrap_or_default();
            let run_id = run["id"].as_str().unwrap_or_default();
            let message = json!({
                "id": new_id("msg"), "object": "thread.message", "created_at": now(),
                "thread_id": thread, "role": "assistant", "content": [],
                "assistant_id": run["assistant_id"], "run_id": run_id,
                "attachments": [], "metadata": {}, "status": "in_progress",
                "incomplete_details": null, "completed_at": null, "incomplete_at": null,
            });
            let step = new_step(
                run,
                json!({"type": "message_creation",
                "message_creation": {"message_id": message["id"]}}),
            );
            let _ = s.store.put_step(thread, run_id, &step);
            send(events, "thread.run.step.created", &step);
            send(events, "thread.run.step.in_progress", &step);
            let _ = s.store.put_message(thread, &message);
            send(events, "thread.message.created", &message);
            send(events, "thread.message.in_progress", &message);
            (message, step)
        })
    }

    fn delta(&mut self, text: &str) {
        let events = self.events;
        let (message, _) = self.get();
        send(
            events,
            "thread.message.delta",
            &json!({
                "id": message["id"], "object": "thread.message.delta",
                "delta": {"content": [{"index": 0, "type": "text", "text": {"value": text, "annotations": []}}]},
            }),
        );
    }
}

fn new_step(run: &Value, details: Value) -> Value {
    json!({
        "id": new_id("step"), "object": "thread.run.step", "created_at": now(),
        "run_id": run["id"], "assistant_id": run["assistant_id"], "thread_id": run["thread_id"],
        "type": details["type"], "status": "in_progress", "cancelled_at": null,
        "completed_at": null, "expired_at": null, "failed_at": null, "last_error": null,
        "step_details": details, "usage": null,
    })
}

/// A tool_calls step as its `created` event shows it: the calls come in
/// the delta after it (the SDKs add the delta's pieces to what they have).
fn without_calls(step: &Value) -> Value {
    let mut s = step.clone();
    s["step_details"]["tool_calls"] = json!([]);
    s
}

/// The `thread.run.step.delta` that streams a tool_calls step's calls
/// (the SDKs' `on_tool_call_created`/`on_tool_call_done` hang on it).
fn tool_calls_delta(step: &Value) -> Value {
    let calls: Vec<Value> = step["step_details"]["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, c)| {
            let mut c = c.clone();
            c["index"] = index.into();
            c
        })
        .collect();
    json!({
        "id": step["id"], "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": calls}},
    })
}

/// Adds one answer's token counts to the run's; returns the answer's.
fn add_usage(run: &mut Value, usage: Usage) -> Value {
    let answer = json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    });
    let mut total = json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0});
    for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        total[k] = (run["usage"][k].as_u64().unwrap_or(0) + answer[k].as_u64().unwrap_or(0)).into();
    }
    run["usage"] = total;
    answer
}

/// Executes a queued run: asks the assistant with the thread's history
/// (and the run's tool-call rounds so far, when it resumes after tool
/// outputs), and writes the reply message, or stops in `requires_action`
/// when the assistant calls tools.
async fn execute(s: AppState, mut run: Value, events: Events, mut cancel: watch::Receiver<bool>) {
    let thread = run["thread_id"].as_str().unwrap_or_default().to_string();
    let run_id = run["id"].as_str().unwrap_or_default().to_string();
    let assistant_id = run["assistant_id"].as_str().unwrap_or_default().to_string();
    // What the run reads: a steps file or message log it cannot read fails
    // the run, naming the file, instead of answering without them.
    let steps = s.store.steps(&thread, &run_id);
    let messages = s.store.messages(&thread);
    // The history the assistant sees: the thread's items (messages of
    // every role, and the function calls and outputs a conversation holds),
    // cut per the truncation strategy, then this run's tool calls and
    // their outputs.
    let history = match (&steps, &messages) {
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
        (Ok(_), Ok(entries)) => {
            let items: Vec<Value> = entries.iter().map(crate::conversations::item).collect();
            Item::from_chat_list(&crate::responses::request::to_chat(&items))
        }
    };
    let (history, unreadable) = match history {
        Ok(h) => (h, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let rounds = tool_rounds(steps.as_deref().unwrap_or_default());
    if rounds.is_empty() {
        send(&events, "thread.run.created", &run);
    }
    send(&events, "thread.run.queued", &run);
    if run["started_at"].is_null() {
        run["started_at"] = now().into();
    }
    set_status(&s, &mut run, "in_progress", &events);

    let truncation = match run["truncation_strategy"]["last_messages"].as_u64() {
        Some(n) => Truncation::LastMessages(n as usize),
        None => Truncation::Auto,
    };
    let rounds_done = !rounds.is_empty();

    let mut parameters = Map::new();
    for (k, v) in [
        ("temperature", &run["temperature"]),
        ("top_p", &run["top_p"]),
        ("max_tokens", &run["max_completion_tokens"]),
        ("max_prompt_tokens", &run["max_prompt_tokens"]),
        // A forced call forces the run's first turn; once outputs are in,
        // the model may answer (else `required` would loop for ever).
        (
            "tool_choice",
            if rounds_done {
                &Value::Null
            } else {
                &run["tool_choice"]
            },
        ),
        ("parallel_tool_calls", &run["parallel_tool_calls"]),
        ("response_format", &run["response_format"]),
    ] {
        if !v.is_null() && v != "auto" {
            parameters.insert(k.into(), v.clone());
        }
    }
    let ask = Ask {
        thread_id: Some(thread.clone()),
        messages: history,
        tool_rounds: rounds,
        truncation,
        instructions: run["instructions"]
            .as_str()
            .map(String::from)
            .filter(|i| !i.is_empty()),
        model: run["model"]
            .as_str()
            .map(String::from)
            .filter(|m| !m.is_empty()),
        parameters,
        tools: run["tools"].as_array().cloned().unwrap_or_default(),
        ..Ask::default()
    };
    let snapshot = run.clone();
    let mut reply = ReplyMessage {
        s: &s,
        events: &events,
        run: &snapshot,
        open: None,
    };
    let mut text = String::new();
    let mut meta: Option<Completion> = None;
    let mut calls: Vec<ToolCall> = Vec::new();
    let too_long = || {
        format!(
            "the assistant's reply is longer than {} bytes, the most a message may hold",
            jan_host::MAX_REPLY
        )
    };
    let outcome: Result<(), String> = async {
        if let Some(e) = unreadable {
            return Err(e);
        }
        let mut answer = s
            .host
            .ask(&assistant_id, ask)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                piece = answer.next() => match piece {
                    Some(TurnEvent::Text(d)) => {
                        if text.len() + d.len() > jan_host::MAX_REPLY {
                            return Err(too_long());
                        }
                        reply.delta(&d);
                        text.push_str(&d);
                    }
                    Some(TurnEvent::Finished(m)) => meta = Some(m),
                    Some(TurnEvent::ToolCalls(c)) => calls = c,
                    // Calls stream whole into their step when they end;
                    // runs carry no logprobs.
                    Some(
                        TurnEvent::ToolCallStart { .. }
                        | TurnEvent::ToolCallArguments { .. }
                        | TurnEvent::Logprobs(_),
                    ) => {}
                    // The assistant's own tools ran in the turn loop: a
                    // completed tool_calls step records calls and outputs.
                    Some(TurnEvent::ToolsRan(ran)) => {
                        let ran: Vec<Value> = ran.iter().map(ToolRun::to_json).collect();
                        let mut step = new_step(&snapshot, json!({"type": "tool_calls", "tool_calls": ran}));
                        send(&events, "thread.run.step.created", &without_calls(&step));
                        send(&events, "thread.run.step.delta", &tool_calls_delta(&step));
                        step["status"] = "completed".into();
                        step["completed_at"] = now().into();
                        let _ = s.store.put_step(&thread, &run_id, &step);
                        send(&events, "thread.run.step.completed", &step);
                    }
                    Some(TurnEvent::Done(full)) => {
                        if full.len() > jan_host::MAX_REPLY {
                            return Err(too_long());
                        }
                        if text.is_empty() && !full.is_empty() {
                            reply.delta(&full);
                        }
                        if !full.is_empty() { text = full; }
                        return Ok(());
                    }
                    Some(TurnEvent::Error(e)) => return Err(e.message),
                    None => return Err("the assistant stopped without answering".into()),
                },
                _ = cancel.changed() => return Err("\u{0}cancelled".into()),
            }
        }
    }
    .await;

    let t = now();
    let usage = add_usage(&mut run, meta.as_ref().map(|m| m.usage).unwrap_or_default());
    let status = match &outcome {
        Ok(()) if !calls.is_empty() => "requires_action",
        Ok(())
            if meta.as_ref().is_some_and(|m| m.finish == Finish::Length)
                && !run["max_completion_tokens"].is_null() =>
        {
            "incomplete"
        }
        Ok(()) => "completed",
        Err(e) if e == "\u{0}cancelled" => "cancelled",
        Err(_) => "failed",
    };
    // The reply message: always for a finished run; for one that calls
    // tools, only when it also wrote text.
    if status != "requires_action" || reply.open.is_some() {
        let (mut message, mut step) = reply.get().clone();
        let done = matches!(status, "completed" | "requires_action");
        message["content"] = json!([{"type": "text", "text": {"value": text, "annotations": []}}]);
        message["status"] = if done { "completed" } else { "incomplete" }.into();
        if done {
            message["completed_at"] = t.into();
        } else {
            message["incomplete_at"] = t.into();
            message["incomplete_details"] = json!({"reason": match status {
                "cancelled" => "run_cancelled",
                "incomplete" => "max_tokens",
                _ => "run_failed",
            }});
        }
        let _ = s.store.put_message(&thread, &message);
        send(
            &events,
            if done {
                "thread.message.completed"
            } else {
                "thread.message.incomplete"
            },
            &message,
        );
        let step_status = match status {
            "completed" | "incomplete" | "requires_action" => "completed",
            other => other,
        };
        step["status"] = step_status.into();
        step[format!("{step_status}_at")] = t.into();
        step["usage"] = usage.clone();
        let _ = s.store.put_step(&thread, &run_id, &step);
        send(&events, &format!("thread.run.step.{step_status}"), &step);
    }
    if status == "requires_action" {
        let calls: Vec<Value> = calls.iter().map(ToolCall::to_json).collect();
        let details: Vec<Value> = calls
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c["function"]["output"] = Value::Null;
                c
            })
            .collect();
        let step = new_step(&run, json!({"type": "tool_calls", "tool_calls": details}));
        let _ = s.store.put_step(&thread, &run_id, &step);
        let empty = without_calls(&step);
        send(&events, "thread.run.step.created", &empty);
        send(&events, "thread.run.step.in_progress", &empty);
        send(&events, "thread.run.step.delta", &tool_calls_delta(&step));
        run["required_action"] = json!({"type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": calls}});
        run["expires_at"] = (t + jan_store::TOOL_OUTPUTS_WAIT_SECS).into();
    }
    match (&outcome, status) {
        (_, "incomplete") => {
            run["incomplete_details"] = json!({"reason": "max_completion_tokens"});
            run["completed_at"] = t.into();
        }
        (_, "completed") => run["completed_at"] = t.into(),
        (_, "cancelled") => run["cancelled_at"] = t.into(),
        (Err(e), _) => {
            run["failed_at"] = t.into();
            run["last_error"] = json!({"code": "server_error", "message": e});
        }
        _ => {}
    }
    set_status(&s, &mut run, status, &events);
    if let (Err(e), "failed") = (&outcome, status) {
        send(
            &events,
            "error",
            &json!({"error": {"message": e, "type": "server_error", "param": null, "code": "server_error"}}),
        );
    }
    s.active
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&run_id);
    if let Some(tx) = &events {
        let _ = tx.send(Ok(Event::default().event("done").data("[DONE]")));
    }
}

#[utoipa::path(post, path = "/threads/{thread}/runs", tag = "Runs", summary = "Create a run", params(("thread" = String, Path, description = "Thread id (`thread_…`)")), request_body = RunCreate, responses((status = 200, description = "The run (`queued`); With `stream: true`: server-sent events", content((Run = "application/json"), (String = "text/event-stream")))))]
pub async fn create(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Body(body): Body,
) -> ApiResult<Response> {
    start(s, Target::Existing(thread), body).await
}

/// `POST /v1/threads/runs`: a new thread (from `thread`), then a run on it.
#[utoipa::path(post, path = "/threads/runs", tag = "Runs", summary = "Create a thread and run it", request_body(content = RunCreate, description = "`thread` (as for thread create) and the run's fields"), responses((status = 200, description = "The run (`queued`); With `stream: true`: server-sent events", content((Run = "application/json"), (String = "text/event-stream")))))]
pub async fn create_thread_and_run(
    State(s): State<AppState>,
    Body(mut body): Body,
) -> ApiResult<Response> {
    let spec = match body.get("thread").cloned() {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::invalid(
                Some("thread"),
                "'thread' must be an object",
            ));
        }
    };
    // Check the body and the assistant before creating anything.
    let req: RunCreate = crate::typed(&body)?;
    let assistant_id = req.assistant_id;
    crate::assistants::load(&s, &assistant_id)?;
    body.remove("thread");
    start(s, Target::New(spec), body).await
}

#[utoipa::path(get, path = "/threads/{thread}/runs", tag = "Runs", summary = "List runs", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ListParams), responses((status = 200, description = "A page of runs", body = Object)))]
pub async fn list(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    Ok(Json(page.apply(s.store.runs(&thread)?)))
}

#[utoipa::path(get, path = "/threads/{thread}/runs/{id}", tag = "Runs", summary = "Retrieve a run", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Run id (`run_…`)")), responses((status = 200, description = "The run", body = Run)))]
pub async fn retrieve(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.store.run(&thread, &id)?))
}

#[utoipa::path(post, path = "/threads/{thread}/runs/{id}", tag = "Runs", summary = "Modify a run", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Run id (`run_…`)")), request_body = RunModify, responses((status = 200, description = "The run", body = Run)))]
pub async fn modify(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let _: RunModify = crate::typed(&body)?;
    s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
        let mut run = s.store.run(&thread, &id)?;
        if let Some(m) = metadata(&body)? {
            run["metadata"] = m;
        }
        s.store.put_run(&thread, &run)?;
        Ok(Json(run))
    })
}

#[utoipa::path(post, path = "/threads/{thread}/runs/{id}/cancel", tag = "Runs", summary = "Cancel a run", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Run id (`run_…`)")), responses((status = 200, description = "The run (`cancelling`, or `cancelled` when it waited for tool outputs)", body = Run)))]
pub async fn cancel(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let run = s.store.run(&thread, &id)?;
    let status = run["status"].as_str().unwrap_or_default().to_string();
    if is_terminal(&status) || status == "cancelling" {
        return Err(ApiError::invalid(
            None,
            format!("Cannot cancel run with status '{status}'."),
        ));
    }
    if status == "requires_action" {
        // Nothing runs while the run waits for tool outputs: it ends now.
        return s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
            // Outputs may have been submitted since the read above.
            let mut run = s.store.run(&thread, &id)?;
            if run["status"] != "requires_action" {
                return Err(ApiError::invalid(
                    None,
                    format!(
                        "Cannot cancel run with status '{}'.",
                        run["status"].as_str().unwrap_or_default()
                    ),
                ));
            }
            let t = now();
            let mut steps = s.store.steps(&thread, &id)?;
            for st in steps.iter_mut().filter(|st| st["status"] == "in_progress") {
                st["status"] = "cancelled".into();
                st["cancelled_at"] = t.into();
            }
            s.store.put_steps(&thread, &id, &steps)?;
            run["required_action"] = Value::Null;
            run["cancelled_at"] = t.into();
            save_status(&s, &mut run, "cancelled", &None);
            Ok(Json(run))
        });
    }
    let run = s.store.with_lock(&thread, || -> ApiResult<Value> {
        let mut run = s.store.run(&thread, &id)?;
        if is_terminal(run["status"].as_str().unwrap_or_default()) {
            return Err(ApiError::invalid(
                None,
                format!(
                    "Cannot cancel run with status '{}'.",
                    run["status"].as_str().unwrap_or_default()
                ),
            ));
        }
        run["status"] = "cancelling".into();
        s.store.put_run(&thread, &run)?;
        Ok(run)
    })?;
    if let Some(tx) = s.active.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        let _ = tx.send(true);
    }
    Ok(Json(run))
}

/// `POST …/runs/{id}/submit_tool_outputs`: the outputs of every tool call
/// the run waits for; the run then resumes (streamed with `stream: true`).
#[utoipa::path(post, path = "/threads/{thread}/runs/{id}/submit_tool_outputs", tag = "Runs", summary = "Submit tool outputs to a run in `requires_action`", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Run id (`run_…`)")), request_body = SubmitToolOutputs, responses((status = 200, description = "The run (`queued`); With `stream: true`: server-sent events", content((Run = "application/json"), (String = "text/event-stream")))))]
pub async fn submit_tool_outputs(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
    Body(body): Body,
) -> ApiResult<Response> {
    let req: SubmitToolOutputs = crate::typed(&body)?;
    let stream = req.stream.unwrap_or(false);
    let run = s.store.with_lock(&thread, || -> ApiResult<Value> {
        let mut run = s.store.run(&thread, &id)?;
        if run["status"] != "requires_action" {
            return Err(ApiError::invalid(
                None,
                format!(
                    "Runs in status \"{}\" do not accept tool outputs.",
                    run["status"].as_str().unwrap_or("")
                ),
            ));
        }
        let mut given: HashMap<String, String> = HashMap::new();
        for (i, o) in req.tool_outputs.iter().enumerate() {
            let (call, output) = (&o.tool_call_id, &o.output);
            if output.len() > jan_host::MAX_TOOL_OUTPUT {
                return Err(ApiError::invalid(
                    Some(&format!("tool_outputs[{i}].output")),
                    format!(
                        "a tool output may hold at most {} bytes, got {}",
                        jan_host::MAX_TOOL_OUTPUT,
                        output.len()
                    ),
                ));
            }
            given.insert(call.to_string(), output.to_string());
        }
        let mut steps = s.store.steps(&thread, &id)?;
        let Some(step) = steps
            .iter_mut()
            .find(|st| st["type"] == "tool_calls" && st["status"] == "in_progress")
        else {
            return Err(ApiError::internal("the run's tool-call step is missing"));
        };
        let calls = step["step_details"]["tool_calls"]
            .as_array_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let mut filled = Vec::new();
        for mut call in calls {
            let call_id = call["id"].as_str().unwrap_or_default().to_string();
            let Some(output) = given.remove(&call_id) else {
                return Err(ApiError::invalid(
                    Some("tool_outputs"),
                    format!("Expected tool outputs for call ids: {call_id} (missing)."),
                ));
            };
            call["function"]["output"] = output.into();
            filled.push(call);
        }
        if let Some(extra) = given.keys().next() {
            return Err(ApiError::invalid(
                Some("tool_outputs"),
                format!("No tool call with id '{extra}' is waiting in this run."),
            ));
        }
        step["step_details"]["tool_calls"] = filled.into();
        step["status"] = "completed".into();
        step["completed_at"] = now().into();
        s.store.put_steps(&thread, &id, &steps)?;
        run["required_action"] = Value::Null;
        run["expires_at"] = Value::Null;
        run["status"] = "queued".into();
        s.store.put_run(&thread, &run)?;
        Ok(run)
    })?;
    let (cancel_tx, cancel_rx) = watch::channel(false);
    s.active
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, cancel_tx);
    if stream {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(step) = s
            .store
            .steps(&thread, run["id"].as_str().unwrap_or_default())?
            .into_iter()
            .rfind(|st| st["type"] == "tool_calls")
        {
            send(&Some(tx.clone()), "thread.run.step.completed", &step);
        }
        tokio::spawn(execute(s, run, Some(tx), cancel_rx));
        return Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response());
    }
    tokio::spawn(execute(s, run.clone(), None, cancel_rx));
    Ok(Json(run).into_response())
}

#[utoipa::path(get, path = "/threads/{thread}/runs/{run}/steps", tag = "Runs", summary = "List run steps", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("run" = String, Path, description = "Run id (`run_…`)"), ListParams), responses((status = 200, description = "A page of run steps", body = Object)))]
pub async fn list_steps(
    State(s): State<AppState>,
    Path((thread, run)): Path<(String, String)>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    Ok(Json(page.apply(s.store.steps(&thread, &run)?)))
}

#[utoipa::path(get, path = "/threads/{thread}/runs/{run}/steps/{step}", tag = "Runs", summary = "Retrieve a run step", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("run" = String, Path, description = "Run id (`run_…`)"), ("step" = String, Path, description = "Step id (`step_…`)")), responses((status = 200, description = "The run step", body = RunStep)))]
pub async fn retrieve_step(
    State(s): State<AppState>,
    Path((thread, run, step)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    s.store
        .steps(&thread, &run)?
        .into_iter()
        .find(|x| x["id"] == step.as_str())
        .map(Json)
        .ok_or_else(|| ApiError::not_found("run step", &step))
}
