//! Threads and messages: `/v1/threads…`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use jan_store::{StoreError, new_id, now};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page};
use crate::{AppState, Body, opt_str};

mod types;
pub use types::*;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what, id) => ApiError::not_found(what, &id),
            StoreError::Unreadable(e) => ApiError::unreadable(&e),
            StoreError::Io(e) => ApiError::storage(&e),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// `metadata`: at most 16 string values.
pub(crate) fn metadata(body: &Map<String, Value>) -> ApiResult<Option<Value>> {
    match body.get("metadata") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(json!({}))),
        Some(m) => {
            let ok = m.as_object().is_some_and(|o| {
                o.len() <= 16
                    && o.iter()
                        .all(|(k, v)| k.len() <= 64 && v.as_str().is_some_and(|s| s.len() <= 512))
            });
            if ok {
                Ok(Some(m.clone()))
            } else {
                Err(ApiError::invalid(
                    Some("metadata"),
                    "'metadata' must be an object of at most 16 string values",
                ))
            }
        }
    }
}

/// Message content as text parts; a plain string is accepted on input.
pub(crate) fn text_parts(content: &Value, param: &str) -> ApiResult<Value> {
    let part = |s: &str| json!({"type": "text", "text": {"value": s, "annotations": []}});
    match content {
        Value::String(s) => Ok(json!([part(s)])),
        Value::Array(items) => items
            .iter()
            .map(|p| match (p["type"].as_str(), &p["text"]) {
                (Some("text"), Value::String(s)) => Ok(part(s)),
                (Some("text"), t) if t["value"].is_string() => {
                    Ok(part(t["value"].as_str().unwrap_or("")))
                }
                _ => Err(ApiError::invalid(
                    Some(param),
                    format!("'{param}' parts must be text parts ({{type: \"text\", text}})"),
                )),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Value::Array),
        _ => Err(ApiError::invalid(
            Some(param),
            format!("'{param}' must be a string or a list of content parts"),
        )),
    }
}

/// Whether a message log entry is a message of the threads API: the
/// user's and the assistant's. The log also keeps conversation items the
/// Assistants API has no message for (system and developer messages,
/// function calls and outputs; see `conversations`).
pub(crate) fn is_thread_message(m: &Value) -> bool {
    m["object"] == "thread.message" && matches!(m["role"].as_str(), Some("user" | "assistant"))
}

/// A message of the threads API, by id (a conversation item that is not
/// one is not found).
fn thread_message(s: &AppState, thread: &str, id: &str) -> ApiResult<Value> {
    let m = s.store.message(thread, id)?;
    if !is_thread_message(&m) {
        return Err(StoreError::NotFound("message", id.to_string()).into());
    }
    Ok(m)
}

/// A new message object from a request body (`role`, `content`, …).
pub(crate) fn new_message(
    thread: &str,
    body: &Map<String, Value>,
    param: &str,
) -> ApiResult<Value> {
    let role = opt_str(body, "role")?.unwrap_or_default();
    if role != "user" && role != "assistant" {
        return Err(ApiError::invalid(
            Some(&format!("{param}role")),
            "'role' must be 'user' or 'assistant'",
        ));
    }
    let content = text_parts(
        body.get("content").unwrap_or(&Value::Null),
        &format!("{param}content"),
    )?;
    let t = now();
    Ok(json!({
        "id": new_id("msg"), "object": "thread.message", "created_at": t, "thread_id": thread,
        "role": role, "content": content, "assistant_id": null, "run_id": null,
        "attachments": body.get("attachments").filter(|a| !a.is_null()).cloned().unwrap_or(json!([])),
        "metadata": metadata(body)?.unwrap_or(json!({})),
        "status": "completed", "incomplete_details": null, "completed_at": t, "incomplete_at": null,
    }))
}

/// Creates a thread with initial `messages`.
pub(crate) fn create_thread_from(s: &AppState, body: &Map<String, Value>) -> ApiResult<Value> {
    let _: ThreadCreate = crate::typed(body)?;
    let meta = metadata(body)?.unwrap_or(Value::Null);
    let messages = match body.get("messages") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(m)) => m.clone(),
        Some(_) => {
            return Err(ApiError::invalid(
                Some("messages"),
                "'messages' must be a list",
            ));
        }
    };
    // Validate every message before anything is written.
    let probe: Vec<Map<String, Value>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.as_object().cloned().ok_or_else(|| {
                ApiError::invalid(
                    Some(&format!("messages[{i}]")),
                    "a message must be an object",
                )
            })
        })
        .collect::<ApiResult<_>>()?;
    for (i, m) in probe.iter().enumerate() {
        new_message("", m, &format!("messages[{i}]."))?;
    }
    let thread = s.store.create_thread(
        meta,
        body.get("tool_resources").cloned().unwrap_or(Value::Null),
    )?;
    let id = thread["id"].as_str().unwrap_or_default().to_string();
    let written = probe.iter().enumerate().try_for_each(|(i, m)| {
        let msg = new_message(&id, m, &format!("messages[{i}]."))?;
        Ok::<_, ApiError>(s.store.put_message(&id, &msg)?)
    });
    if let Err(e) = written {
        // A request that failed leaves no thread behind (a full disk).
        let _ = s.store.delete_thread(&id);
        return Err(e);
    }
    s.host.bus().emit("api", "thread.created", thread.clone());
    Ok(thread)
}

#[utoipa::path(post, path = "/threads", tag = "Threads", summary = "Create a thread", request_body = ThreadCreate, responses((status = 200, description = "The thread", body = Thread)))]
pub async fn create(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    Ok(Json(create_thread_from(&s, &body)?))
}

#[utoipa::path(get, path = "/threads/{thread}", tag = "Threads", summary = "Retrieve a thread", params(("thread" = String, Path, description = "Thread id (`thread_…`)")), responses((status = 200, description = "The thread", body = Thread)))]
pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(s.store.thread(&id)?))
}

#[utoipa::path(post, path = "/threads/{thread}", tag = "Threads", summary = "Modify a thread", params(("thread" = String, Path, description = "Thread id (`thread_…`)")), request_body = ThreadModify, responses((status = 200, description = "The thread", body = Thread)))]
pub async fn modify(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let _: ThreadModify = crate::typed(&body)?;
    s.store.with_lock(&id, || -> ApiResult<Json<Value>> {
        let mut thread = s.store.thread(&id)?;
        if let Some(m) = metadata(&body)? {
            thread["metadata"] = m;
        }
        if let Some(t) = body.get("tool_resources") {
            thread["tool_resources"] = t.clone();
        }
        s.store.put_thread(&thread)?;
        Ok(Json(thread))
    })
}

#[utoipa::path(delete, path = "/threads/{thread}", tag = "Threads", summary = "Delete a thread", params(("thread" = String, Path, description = "Thread id (`thread_…`)")), responses((status = 200, description = "`{id, object: thread.deleted, deleted: true}`", body = Object)))]
pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    s.store.with_lock(&id, || -> ApiResult<Json<Value>> {
        s.store.delete_thread(&id)?;
        s.host
            .bus()
            .emit("api", "thread.deleted", json!({"id": id}));
        Ok(Json(
            json!({"id": id, "object": "thread.deleted", "deleted": true}),
        ))
    })
}

#[utoipa::path(post, path = "/threads/{thread}/messages", tag = "Messages", summary = "Create a message", params(("thread" = String, Path, description = "Thread id (`thread_…`)")), request_body = MessageCreate, responses((status = 200, description = "The message", body = Message)))]
pub async fn create_message(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let _: MessageCreate = crate::typed(&body)?;
    s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
        s.store.thread(&thread)?;
        if let Some(active) = s
            .store
            .runs(&thread)?
            .into_iter()
            .find(|r| !jan_store::is_terminal(r["status"].as_str().unwrap_or("failed")))
        {
            return Err(ApiError::invalid(
                None,
                format!(
                    "Can't add messages to {thread} while a run {} is active.",
                    active["id"].as_str().unwrap_or_default()
                ),
            ));
        }
        let msg = new_message(&thread, &body, "")?;
        s.store.put_message(&thread, &msg)?;
        s.host.bus().emit("api", "message.created", msg.clone());
        Ok(Json(msg))
    })
}

#[utoipa::path(get, path = "/threads/{thread}/messages", tag = "Messages", summary = "List messages", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("run_id" = Option<String>, Query, description = "Only the messages of this run"), ListParams), responses((status = 200, description = "A page of messages", body = Object)))]
pub async fn list_messages(
    State(s): State<AppState>,
    Path(thread): Path<String>,
    Query(q): Query<ListParams>,
    Query(filter): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    let mut items = s.store.messages(&thread)?;
    items.retain(is_thread_message);
    if let Some(run) = filter.get("run_id") {
        items.retain(|m| m["run_id"] == run.as_str());
    }
    Ok(Json(page.apply(items)))
}

#[utoipa::path(get, path = "/threads/{thread}/messages/{id}", tag = "Messages", summary = "Retrieve a message", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Message id (`msg_…`)")), responses((status = 200, description = "The message", body = Message)))]
pub async fn retrieve_message(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(thread_message(&s, &thread, &id)?))
}

#[utoipa::path(post, path = "/threads/{thread}/messages/{id}", tag = "Messages", summary = "Modify a message", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Message id (`msg_…`)")), request_body = MessageModify, responses((status = 200, description = "The message", body = Message)))]
pub async fn modify_message(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let _: MessageModify = crate::typed(&body)?;
    s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
        let mut m = thread_message(&s, &thread, &id)?;
        if let Some(meta) = metadata(&body)? {
            m["metadata"] = meta;
        }
        s.store.put_message(&thread, &m)?;
        Ok(Json(m))
    })
}

#[utoipa::path(delete, path = "/threads/{thread}/messages/{id}", tag = "Messages", summary = "Delete a message", params(("thread" = String, Path, description = "Thread id (`thread_…`)"), ("id" = String, Path, description = "Message id (`msg_…`)")), responses((status = 200, description = "`{id, object: thread.message.deleted, deleted: true}`", body = Object)))]
pub async fn delete_message(
    State(s): State<AppState>,
    Path((thread, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    s.store.with_lock(&thread, || -> ApiResult<Json<Value>> {
        thread_message(&s, &thread, &id)?;
        s.store.delete_message(&thread, &id)?;
        Ok(Json(
            json!({"id": id, "object": "thread.message.deleted", "deleted": true}),
        ))
    })
}

/// `GET /v1/events?topics=a,b*`: the bus as server-sent events, one event
/// per bus event (`event:` the topic, `data:` `{topic, payload, source}`).
/// Without `topics`, everything.
#[utoipa::path(get, path = "/events", tag = "Events", summary = "Stream the event bus", params(("topics" = Option<String>, Query, description = "Comma-separated topics; a trailing `*` matches a prefix. Default: all")), responses((status = 200, description = "Server-sent events: `event:` the topic, `data:` `{topic, payload, source}`", content_type = "text/event-stream")))]
pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Sse<
    impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let topics: Vec<String> = q
        .get("topics")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .filter(|t: &Vec<String>| !t.is_empty())
        .unwrap_or_else(|| vec!["*".into()]);
    let (tx, rx) = jan_events::queue();
    let owner = format!("sse:{}", jan_store::new_id("watch"));
    for t in &topics {
        s.host
            .bus()
            .subscribe_with(&owner, jan_events::Pattern::new(t.clone()), tx.clone());
    }
    // The subscriptions end when the client goes away: the bus drops
    // subscribers whose receiver is gone on its next emit. A client that
    // reads too slowly loses events (the bus's bounded queues).
    let stream = futures_util::StreamExt::map(
        tokio_stream::wrappers::ReceiverStream::new(rx),
        |e: std::sync::Arc<jan_events::Event>| {
            Ok(Event::default()
                .event(e.topic.clone())
                .data(serde_json::to_string(&*e).unwrap_or_default()))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
