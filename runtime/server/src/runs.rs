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
use jan_host::{Ask, Reply};
use jan_store::{is_terminal, new_id, now};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::error::{ApiError, ApiResult};
use crate::list::Page;
use crate::threads::{create_thread_from, message_text, metadata, new_message};
use crate::{AppState, Body, opt_str};

type Events = Option<mpsc::UnboundedSender<Result<Event, Infallible>>>;

fn send(events: &Events, name: &str, data: &Value) {
    if let Some(tx) = events {
        let _ = tx.send(Ok(Event::default().event(name).data(data.to_string())));
    }
}

fn number(body: &Map<String, Value>, key: &str, lo: f64, hi: f64) -> ApiResult<Option<f64>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| (lo..=hi).contains(x))
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    Some(key),
                    format!("'{key}' must be a number from {lo} to {hi}"),
                )
            }),
    }
}

/// Starts a run on `thread` from a run-create body.
async fn start(s: AppState, thread: String, body: Map<String, Value>) -> ApiResult<Response> {
    let assistant_id = opt_str(&body, "assistant_id")?
        .ok_or_else(|| ApiError::invalid(Some("assistant_id"), "'assistant_id' is required"))?;
    if s.host.assistant(&assistant_id).is_err() {
        s.host.load_all(&s.data);
    }
    let assistant = s
        .host
        .assistant(&assistant_id)
        .map_err(|_| ApiError::not_found("assistant", &assistant_id))?;
    // The run's sampling settings, else the assistant's (OpenAI's fields in
    // assistant.json).
    let resolved = assistant.resolved();
    let temperature = number(&body, "temperature", 0.0, 2.0)?.or(resolved["temperature"].as_f64());
    let top_p = number(&body, "top_p", 0.0, 1.0)?.or(resolved["top_p"].as_f64());
    let max_completion = number(&body, "max_completion_tokens", 1.0, 1e9)?;
    let max_prompt = number(&body, "max_prompt_tokens", 1.0, 1e9)?;
    let truncation = match body.get("truncation_strategy") {
        None | Some(Value::Null) => json!({"type": "auto", "last_messages": null}),
        Some(t) => match (t["type"].as_str(), &t["last_messages"]) {
            (Some("auto"), _) => json!({"type": "auto", "last_messages": null}),
            (Some("last_messages"), n) if n.as_u64().is_some_and(|n| n >= 1) => t.clone(),
            _ => {
                return Err(ApiError::invalid(
                    Some("truncation_strategy"),
                    "'truncation_strategy' must be {type: 'auto'} or {type: 'last_messages', last_messages: N}",
                ));
            }
        },
    };
    let meta = metadata(&body)?.unwrap_or(json!({}));
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = opt_str(&body, "model")?
        .or_else(|| resolved["model"].as_str().map(String::from))
        .or_else(|| {
            assistant
                .allowed_models()
                .and_then(|m| m.first())
                .map(|m| m.id().to_string())
        })
        .or_else(|| {
            s.engine
                .entries()
                .into_iter()
                .filter_map(|(_, e)| e.ok())
                .find(|e| !e.is_embedding())
                .map(|e| e.id)
        })
        .unwrap_or_default();
    let mut instructions = opt_str(&body, "instructions")?
        .or_else(|| resolved["instructions"].as_str().map(String::from))
        .unwrap_or_default();
    if let Some(extra) = opt_str(&body, "additional_instructions")? {
        if !instructions.is_empty() {
            instructions.push('\n');
        }
        instructions.push_str(&extra);
    }
    let additional = match body.get("additional_messages") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let m = m.as_object().cloned().unwrap_or_default();
                new_message(&thread, &m, &format!("additional_messages[{i}]."))
            })
            .collect::<ApiResult<Vec<_>>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                Some("additional_messages"),
                "must be a list",
            ));
        }
    };
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
        for m in &additional {
            s.store.put_message(&thread, m)?;
        }
        let run = json!({
            "id": new_id("run"), "object": "thread.run", "created_at": now(),
            "thread_id": thread, "assistant_id": assistant.id, "status": "queued",
            "required_action": null, "last_error": null, "expires_at": null,
            "started_at": null, "cancelled_at": null, "failed_at": null, "completed_at": null,
            "incomplete_details": null, "model": model, "instructions": instructions,
            "tools": resolved.get("tools").cloned().unwrap_or(json!([])),
            "metadata": meta, "usage": null,
            "temperature": temperature, "top_p": top_p,
            "max_prompt_tokens": max_prompt.map(|x| x as u64),
            "max_completion_tokens": max_completion.map(|x| x as u64),
            "truncation_strategy": truncation, "response_format": "auto",
            "tool_choice": "auto", "parallel_tool_calls": true,
        });
        s.store.put_run(&thread, &run)?;
        Ok(run)
    })?;
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

/// Saves `run` with a new status and tells the stream and the bus.
fn set_status(s: &AppState, run: &mut Value, status: &str, events: &Events) {
    run["status"] = status.into();
    let thread = run["thread_id"].as_str().unwrap_or_default().to_string();
    let _ = s.store.put_run(&thread, run);
    send(events, &format!("thread.run.{status}"), run);
    if is_terminal(status) {
        s.host
            .bus()
            .emit("api", &format!("run.{status}"), run.clone());
    }
}

async fn execute(s: AppState, mut run: Value, events: Events, mut cancel: watch::Receiver<bool>) {
    let thread = run["thread_id"].as_str().unwrap_or_default().to_string();
    let run_id = run["id"].as_str().unwrap_or_default().to_string();
    let assistant_id = run["assistant_id"].as_str().unwrap_or_default().to_string();
    send(&events, "thread.run.created", &run);
    send(&events, "thread.run.queued", &run);
    run["started_at"] = now().into();
    set_status(&s, &mut run, "in_progress", &events);

    // The history the assistant sees: the thread's messages, cut per the
    // truncation strategy.
    let mut history: Vec<Value> = s
        .store
        .messages(&thread)
        .unwrap_or_default()
        .iter()
        .map(|m| json!({"role": m["role"], "content": message_text(m)}))
        .collect();
    if let Some(n) = run["truncation_strategy"]["last_messages"].as_u64() {
        let keep = history.len().saturating_sub(n as usize);
        history.drain(..keep);
    }
    let mut message = json!({
        "id": new_id("msg"), "object": "thread.message", "created_at": now(), "thread_id": thread,
        "role": "assistant", "content": [], "assistant_id": assistant_id, "run_id": run_id,
        "attachments": [], "metadata": {}, "status": "in_progress",
        "incomplete_details": null, "completed_at": null, "incomplete_at": null,
    });
    let mut step = json!({
        "id": new_id("step"), "object": "thread.run.step", "created_at": now(), "run_id": run_id,
        "assistant_id": assistant_id, "thread_id": thread, "type": "message_creation",
        "status": "in_progress", "cancelled_at": null, "completed_at": null, "expired_at": null,
        "failed_at": null, "last_error": null,
        "step_details": {"type": "message_creation", "message_creation": {"message_id": message["id"]}},
        "usage": null,
    });
    let _ = s
        .store
        .put_steps(&thread, &run_id, std::slice::from_ref(&step));
    send(&events, "thread.run.step.created", &step);
    send(&events, "thread.run.step.in_progress", &step);
    let _ = s.store.put_message(&thread, &message);
    send(&events, "thread.message.created", &message);
    send(&events, "thread.message.in_progress", &message);

    let mut parameters = Map::new();
    for (k, v) in [
        ("temperature", &run["temperature"]),
        ("top_p", &run["top_p"]),
        ("max_tokens", &run["max_completion_tokens"]),
        ("max_prompt_tokens", &run["max_prompt_tokens"]),
    ] {
        if !v.is_null() {
            parameters.insert(k.into(), v.clone());
        }
    }
    let ask = Ask {
        thread_id: Some(thread.clone()),
        messages: history,
        instructions: run["instructions"]
            .as_str()
            .map(String::from)
            .filter(|i| !i.is_empty()),
        model: run["model"]
            .as_str()
            .map(String::from)
            .filter(|m| !m.is_empty()),
        parameters,
    };
    let mut text = String::new();
    let mut meta = Value::Null;
    let outcome: Result<(), String> = async {
        let mut answer = s.host.ask(&assistant_id, ask).await.map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                piece = answer.next() => match piece {
                    Some(Reply::Delta(d)) => {
                        send(&events, "thread.message.delta", &json!({
                            "id": message["id"], "object": "thread.message.delta",
                            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": d, "annotations": []}}]},
                        }));
                        text.push_str(&d);
                    }
                    Some(Reply::Meta(m)) => meta = m,
                    Some(Reply::Done(full)) => {
                        if text.is_empty() && !full.is_empty() {
                            send(&events, "thread.message.delta", &json!({
                                "id": message["id"], "object": "thread.message.delta",
                                "delta": {"content": [{"index": 0, "type": "text", "text": {"value": full, "annotations": []}}]},
                            }));
                        }
                        if !full.is_empty() { text = full; }
                        return Ok(());
                    }
                    Some(Reply::Error { message, .. }) => return Err(message),
                    None => return Err("the assistant stopped without answering".into()),
                },
                _ = cancel.changed() => return Err("\u{0}cancelled".into()),
            }
        }
    }
    .await;

    let t = now();
    message["content"] = json!([{"type": "text", "text": {"value": text, "annotations": []}}]);
    let usage = {
        let u = &meta["usage"];
        json!({
            "prompt_tokens": u["prompt_tokens"].as_u64().unwrap_or(0),
            "completion_tokens": u["completion_tokens"].as_u64().unwrap_or(0),
            "total_tokens": u["total_tokens"].as_u64().unwrap_or(0),
        })
    };
    let status = match &outcome {
        Ok(())
            if meta["choices"][0]["finish_reason"] == "length"
                && !run["max_completion_tokens"].is_null() =>
        {
            "incomplete"
        }
        Ok(()) => "completed",
        Err(e) if e == "\u{0}cancelled" => "cancelled",
        Err(_) => "failed",
    };
    message["status"] = if status == "completed" {
        "completed"
    } else {
        "incomplete"
    }
    .into();
    if status == "completed" {
        message["completed_at"] = t.into();
    } else {
        message["incomplete_at"] = t.into();
        message["incomplete_details"] = json!({"reason": if status == "cancelled" { "run_cancelled" } else if status == "incomplete" { "max_tokens" } else { "run_failed" }});
    }
    let _ = s.store.put_message(&thread, &message);
    if status == "completed" {
        send(&events, "thread.message.completed", &message);
    } else {
        send(&events, "thread.message.incomplete", &message);
    }
    step["status"] = match status {
        "completed" | "incomplete" => "completed",
        other => other,
    }
    .into();
    step[format!(
        "{}_at",
        if status == "incomplete" {
            "completed"
        } else {
            status
        }
    )] = t.into();
    step["usage"] = usage.clone();
    let _ = s
        .store
        .put_steps(&thread, &run_id, std::slice::from_ref(&step));
    send(
        &events,
        &format!(
            "thread.run.step.{}",
            step["status"].as_str().unwrap_or("completed")
        ),
        &step,
    );
    run["usage"] = usage;
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

pub async fn create(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Body(body): Body,
) -> ApiResult<Response> {
    start(s, thread, body).await
}

/// `POST /v1/threads/runs`: a new thread (from `thread`), then a run on it.
pub async fn create_thread_and_run(
    State(s): State<AppState>,
    Body(mut body): Body,
) -> ApiResult<Response> {
    let spec = match body.remove("thread") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ApiError::invalid(
                Some("thread"),
                "'thread' must be an object",
            ));
        }
    };
    // Check the assistant before creating anything.
    let assistant_id = opt_str(&body, "assistant_id")?
        .ok_or_else(|| ApiError::invalid(Some("assistant_id"), "'assistant_id' is required"))?;
    if s.host.assistant(&assistant_id).is_err() {
        s.host.load_all(&s.data);
        s.host
            .assistant(&assistant_id)
            .map_err(|_| ApiError::not_found("assistant", &assistant_id))?;
    }
    let thread = create_thread_from(&s, &spec)?;
    start(
        s,
        thread["id"].as_str().unwrap_or_default().to_string(),
        body,
    )
    .await
}

pub async fn list(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    Ok(Json(page.apply(s.store.runs(&thread)?)))
}

pub async fn retrieve(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(s.store.run(&thread, &id)?))
}

pub async fn modify(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
        let mut run = s.store.run(&thread, &id)?;
        if let Some(m) = metadata(&body)? {
            run["metadata"] = m;
        }
        s.store.put_run(&thread, &run)?;
        Ok(Json(run))
    })
}

pub async fn cancel(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let mut run = s.store.run(&thread, &id)?;
    let status = run["status"].as_str().unwrap_or_default().to_string();
    if is_terminal(&status) || status == "cancelling" {
        return Err(ApiError::invalid(
            None,
            format!("Cannot cancel run with status '{status}'."),
        ));
    }
    run["status"] = "cancelling".into();
    s.store.put_run(&thread, &run)?;
    if let Some(tx) = s.active.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        let _ = tx.send(true);
    }
    Ok(Json(run))
}

pub async fn submit_tool_outputs(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let run = s.store.run(&thread, &id)?;
    Err(ApiError::invalid(
        None,
        format!(
            "Run {id} is not waiting for tool outputs (status '{}').",
            run["status"].as_str().unwrap_or("")
        ),
    ))
}

pub async fn list_steps(
    State(s): State<AppState>,
    Path((thread, run)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    Ok(Json(page.apply(s.store.steps(&thread, &run)?)))
}

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
