//! `/v1/conversations`: the Responses API's conversations, which are the
//! Assistants API's threads. A conversation is a thread record and its
//! items are the entries of the thread's message log:
//!
//! - a user or assistant message is a `thread.message`, so a message
//!   written through either API is an item of the other;
//! - system and developer messages are `thread.message`s too, with that
//!   role; the threads API does not list them (its messages are the user's
//!   and the assistant's), but runs read them as they read the rest;
//! - function calls and their outputs are `conversation.item` entries in
//!   their Responses form; the threads API does not list them either, and
//!   runs read them as the calls and tool results they are.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page, list_object};
use crate::responses::request::{items, to_chat};
use crate::threads::metadata;
use crate::{AppState, Body};

/// A thread as a conversation object.
fn conversation(thread: &Value) -> Value {
    json!({
        "id": thread["id"], "object": "conversation",
        "created_at": thread["created_at"], "metadata": thread["metadata"],
    })
}

/// A message log entry as a conversation item.
pub(crate) fn item(m: &Value) -> Value {
    if m["object"] != "thread.message" {
        let mut item = m.clone();
        if let Some(o) = item.as_object_mut() {
            for k in ["object", "thread_id", "created_at"] {
                o.remove(k);
            }
        }
        return item;
    }
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

/// A checked item (see [`items`]; an output item too) as the entry of
/// `thread`'s message log that keeps it, under the item's id.
pub(crate) fn entry(thread: &str, item: &Value) -> Value {
    let t = jan_store::now();
    if item["type"] != "message" {
        let mut e = item.clone();
        e["object"] = "conversation.item".into();
        e["thread_id"] = thread.into();
        e["created_at"] = t.into();
        return e;
    }
    let content: Vec<Value> = item["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .map(|t| json!({"type": "text", "text": {"value": t, "annotations": []}}))
        .collect();
    json!({
        "id": item["id"], "object": "thread.message", "created_at": t, "thread_id": thread,
        "role": item["role"], "content": content, "assistant_id": null, "run_id": null,
        "attachments": [], "metadata": {},
        "status": "completed", "incomplete_details": null, "completed_at": t, "incomplete_at": null,
    })
}

/// The items in `body[key]` as log entries of `thread`, all checked before
/// any is written. References are for a response's input, where the items
/// they name are known.
fn entries_from(thread: &str, body: &Map<String, Value>, key: &str) -> ApiResult<Vec<Value>> {
    let list = match body.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= 20 => list,
        Some(Value::Array(_)) => {
            return Err(ApiError::invalid(Some(key), "at most 20 items at a time"));
        }
        Some(_) => return Err(ApiError::invalid(Some(key), "must be a list of items")),
    };
    let checked = items(list, key)?;
    if let Some(i) = checked.iter().position(|i| i["type"] == "item_reference") {
        return Err(ApiError::invalid(
            Some(&format!("{key}[{i}]")),
            "item references are resolved in a response's input; add the item itself",
        ));
    }
    Ok(checked.iter().map(|i| entry(thread, i)).collect())
}

/// The thread's items, as conversation items.
pub(crate) fn items_of(s: &AppState, id: &str) -> ApiResult<Vec<Value>> {
    Ok(s.store.messages(id)?.iter().map(item).collect())
}

/// The thread's items as chat messages (the context of a response or run).
pub(crate) fn chat_messages(s: &AppState, id: &str) -> ApiResult<Vec<Value>> {
    Ok(to_chat(&items_of(s, id)?))
}

#[utoipa::path(post, path = "/conversations", tag = "Conversations", summary = "Create a conversation", request_body(content = Object, description = "`items` (at most 20: messages of any role, `function_call`, `function_call_output`), `metadata`"), responses((status = 200, description = "The conversation (a thread: the threads API sees it too)", body = Object)))]
pub async fn create(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    check_keys(&body, &["items", "metadata"])?;
    let meta = metadata(&body)?.unwrap_or(Value::Null);
    // Checked before the thread exists: a bad item writes nothing.
    let added: Vec<Value> = entries_from("", &body, "items")?.iter().map(item).collect();
    crate::responses::answered_calls(&to_chat(&added), &[], &added, "items")?;
    let thread = s.store.create_thread(meta, Value::Null)?;
    let id = thread["id"].as_str().unwrap_or_default().to_string();
    let written = entries_from(&id, &body, "items")
        .and_then(|entries| Ok(s.store.put_messages(&id, &entries)?));
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
    // Pages order by position in the log: items added in one request share
    // a second, and their ids' prefixes (`msg_`, `fc_`…) do not sort by time.
    Ok(Json(crate::list::by_position(&page, items_of(&s, &id)?)))
}

#[utoipa::path(post, path = "/conversations/{id}/items", tag = "Conversations", summary = "Add items to a conversation", params(("id" = String, Path, description = "Conversation (thread) id")), request_body(content = Object, description = "`items` (at most 20: messages of any role, `function_call`, `function_call_output`)"), responses((status = 200, description = "`{object: list, data: [the new items]}`", body = Object)))]
pub async fn create_items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    check_keys(&body, &["items"])?;
    let added = s.store.with_lock(&id, || -> ApiResult<Vec<Value>> {
        s.store.thread(&id)?;
        let entries = entries_from(&id, &body, "items")?;
        // A function_call_output answers a call the conversation holds or
        // one added before it.
        let held = chat_messages(&s, &id)?;
        let added: Vec<Value> = entries.iter().map(item).collect();
        crate::responses::answered_calls(&to_chat(&added), &held, &added, "items")?;
        s.store.put_messages(&id, &entries)?;
        Ok(entries)
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
