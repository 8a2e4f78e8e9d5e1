//! `/v1/conversations`: the Responses API's conversations, which are the
//! Assistants API's threads. A conversation is a thread record; its items
//! are the thread's messages, so a message written through either API is
//! an item of the other. Items are messages (user and assistant, text);
//! function calls and their outputs are not kept in conversations yet.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page, list_object};
use crate::threads::{message_text, metadata, new_message};
use crate::{AppState, Body};

/// A thread as a conversation object.
fn conversation(thread: &Value) -> Value {
    json!({
        "id": thread["id"], "object": "conversation",
        "created_at": thread["created_at"], "metadata": thread["metadata"],
    })
}

/// A thread message as a conversation item.
pub(crate) fn item(m: &Value) -> Value {
    let assistant = m["role"] == "assistant";
    let content: Vec<Value> = m["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"]["value"].as_str())
        .map(|t| {
            if assistant {
                json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []})
            } else {
                json!({"type": "input_text", "text": t})
            }
        })
        .collect();
    json!({
        "id": m["id"], "type": "message", "role": m["role"],
        "status": if m["status"] == "in_progress" { "in_progress" } else { "completed" },
        "content": content,
    })
}

/// A conversation item (a message) as a new thread message; `param` names
/// the item in errors.
pub(crate) fn message(thread: &str, item: &Value, param: &str) -> ApiResult<Value> {
    let kind = item["type"].as_str().unwrap_or("message");
    if kind != "message" {
        return Err(ApiError::invalid(
            Some(&format!("{param}.type")),
            format!("conversations keep messages only for now, got a '{kind}' item"),
        ));
    }
    let text = match &item["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            let mut text = String::new();
            for (j, p) in parts.iter().enumerate() {
                match (p["type"].as_str(), p["text"].as_str()) {
                    (Some("input_text" | "output_text" | "text"), Some(t)) => text.push_str(t),
                    _ => {
                        return Err(ApiError::invalid(
                            Some(&format!("{param}.content[{j}]")),
                            "only text parts are supported",
                        ));
                    }
                }
            }
            text
        }
        _ => {
            return Err(ApiError::invalid(
                Some(&format!("{param}.content")),
                "must be a string or a list of text parts",
            ));
        }
    };
    let mut body = Map::new();
    body.insert("role".into(), item["role"].clone());
    body.insert("content".into(), text.into());
    new_message(thread, &body, &format!("{param}."))
}

/// The items in `body[key]` as messages of `thread`, all checked before any
/// is written.
fn messages_from(thread: &str, body: &Map<String, Value>, key: &str) -> ApiResult<Vec<Value>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= 20 => items
            .iter()
            .enumerate()
            .map(|(i, it)| message(thread, it, &format!("{key}[{i}]")))
            .collect(),
        Some(Value::Array(_)) => Err(ApiError::invalid(Some(key), "at most 20 items at a time")),
        Some(_) => Err(ApiError::invalid(Some(key), "must be a list of items")),
    }
}

/// The thread's messages as chat messages (the context of a response).
pub(crate) fn chat_messages(s: &AppState, id: &str) -> ApiResult<Vec<Value>> {
    Ok(s.store
        .messages(id)?
        .iter()
        .map(|m| json!({"role": m["role"], "content": message_text(m)}))
        .collect())
}

#[utoipa::path(post, path = "/conversations", tag = "Conversations", summary = "Create a conversation", request_body(content = Object, description = "`items` (messages, at most 20), `metadata`"), responses((status = 200, description = "The conversation (a thread: the threads API sees it too)", body = Object)))]
pub async fn create(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    check_keys(&body, &["items", "metadata"])?;
    let meta = metadata(&body)?.unwrap_or(Value::Null);
    // Checked before the thread exists: a bad item writes nothing.
    messages_from("", &body, "items")?;
    let thread = s.store.create_thread(meta, Value::Null)?;
    let id = thread["id"].as_str().unwrap_or_default().to_string();
    let written = messages_from(&id, &body, "items").and_then(|items| {
        items
            .iter()
            .try_for_each(|m| Ok::<_, ApiError>(s.store.put_message(&id, m)?))
    });
    if let Err(e) = written {
        // A request that failed (a full disk) leaves no conversation.
        let _ = s.store.delete_thread(&id);
        return Err(e);
    }
    s.host.bus().emit("api", "thread.created", thread.clone());
    Ok(Json(conversation(&thread)))
}

#[utoipa::path(get, path = "/conversations/{id}", tag = "Conversations", summary = "Retrieve a conversation", params(("id" = String, Path, description = "Conversation (thread) id")), responses((status = 200, description = "The conversation", body = Object)))]
pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(conversation(&s.store.thread(&id)?)))
}

#[utoipa::path(post, path = "/conversations/{id}", tag = "Conversations", summary = "Update a conversation's metadata", params(("id" = String, Path, description = "Conversation (thread) id")), request_body(content = Object, description = "`metadata`"), responses((status = 200, description = "The conversation", body = Object)))]
pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    check_keys(&body, &["metadata"])?;
    let meta = metadata(&body)?;
    let thread = s.store.with_lock(&id, || -> ApiResult<Value> {
        let mut t = s.store.thread(&id)?;
        if let Some(m) = meta {
            t["metadata"] = m;
        }
        s.store.put_thread(&t)?;
        Ok(t)
    })?;
    Ok(Json(conversation(&thread)))
}

#[utoipa::path(delete, path = "/conversations/{id}", tag = "Conversations", summary = "Delete a conversation", params(("id" = String, Path, description = "Conversation (thread) id")), responses((status = 200, description = "`{id, object: conversation.deleted, deleted: true}`", body = Object)))]
pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    s.store.with_lock(&id, || s.store.delete_thread(&id))?;
    Ok(Json(
        json!({"id": id, "object": "conversation.deleted", "deleted": true}),
    ))
}

#[utoipa::path(get, path = "/conversations/{id}/items", tag = "Conversations", summary = "List a conversation's items", params(("id" = String, Path, description = "Conversation (thread) id"), ListParams), responses((status = 200, description = "A page of items, newest first by default", body = Object)))]
pub async fn list_items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    let mut out = page.apply(s.store.messages(&id)?);
    if let Some(data) = out["data"].as_array_mut() {
        for m in data.iter_mut() {
            *m = item(m);
        }
    }
    Ok(Json(out))
}

#[utoipa::path(post, path = "/conversations/{id}/items", tag = "Conversations", summary = "Add items to a conversation", params(("id" = String, Path, description = "Conversation (thread) id")), request_body(content = Object, description = "`items` (messages, at most 20)"), responses((status = 200, description = "`{object: list, data: [the new items]}`", body = Object)))]
pub async fn create_items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    check_keys(&body, &["items"])?;
    let added = s.store.with_lock(&id, || -> ApiResult<Vec<Value>> {
        s.store.thread(&id)?;
        let messages = messages_from(&id, &body, "items")?;
        s.store.put_messages(&id, &messages)?;
        Ok(messages)
    })?;
    Ok(Json(list_object(added.iter().map(item).collect(), false)))
}

#[utoipa::path(get, path = "/conversations/{id}/items/{item}", tag = "Conversations", summary = "Retrieve a conversation item", params(("id" = String, Path, description = "Conversation (thread) id"), ("item" = String, Path, description = "Item (message) id")), responses((status = 200, description = "The item", body = Object)))]
pub async fn retrieve_item(
    State(s): State<AppState>,
    Path((id, item_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(item(&s.store.message(&id, &item_id)?)))
}

#[utoipa::path(delete, path = "/conversations/{id}/items/{item}", tag = "Conversations", summary = "Delete a conversation item", params(("id" = String, Path, description = "Conversation (thread) id"), ("item" = String, Path, description = "Item (message) id")), responses((status = 200, description = "The conversation", body = Object)))]
pub async fn delete_item(
    State(s): State<AppState>,
    Path((id, item_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let thread = s.store.with_lock(&id, || -> ApiResult<Value> {
        s.store.delete_message(&id, &item_id)?;
        Ok(s.store.thread(&id)?)
    })?;
    Ok(Json(conversation(&thread)))
}

/// Refuses fields the endpoint does not take.
fn check_keys(body: &Map<String, Value>, allowed: &[&str]) -> ApiResult<()> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::invalid(
            Some(k),
            format!("Unrecognized request argument supplied: {k}"),
        )),
        None => Ok(()),
    }
}
