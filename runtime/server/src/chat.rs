//! `/v1/models` and `/v1/chat/completions`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use jan_host::models::{BadParam, ChatEvent, ContextOverflow, ModelNotFound};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::error::{ApiError, ApiResult};
use crate::{AppState, Body, opt_str};

/// model.json as an OpenAI model object (jan's own fields kept beside).
fn model_object(json: &Value) -> Value {
    let mut m = json.clone();
    m["object"] = "model".into();
    m["created"] = json["created"].as_u64().unwrap_or(0).into();
    let owner = json["metadata"]["author"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("jan");
    m["owned_by"] = owner.into();
    m
}

#[utoipa::path(get, path = "/models", tag = "Models", summary = "List the installed models", responses((status = 200, description = "`{object: list, data: [model]}`", body = Object)))]
pub async fn list_models(State(s): State<AppState>) -> Json<Value> {
    let data: Vec<Value> = s.models().list().iter().map(model_object).collect();
    Json(json!({"object": "list", "data": data}))
}

#[utoipa::path(get, path = "/models/{id}", tag = "Models", summary = "Retrieve a model", params(("id" = String, Path, description = "Model id")), responses((status = 200, description = "The model: OpenAI's fields and model.json's", body = Object)))]
pub async fn get_model(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let model = s
        .models()
        .model(&id)
        .ok_or_else(|| ApiError::not_found("model", &id))?;
    Ok(Json(model_object(&model)))
}

const ROLES: &[&str] = &["system", "developer", "user", "assistant", "tool"];

fn validate(body: &Map<String, Value>) -> ApiResult<()> {
    match body.get("model") {
        Some(Value::String(_)) => {}
        None => return Err(ApiError::invalid(Some("model"), "'model' is required")),
        Some(v) => {
            return Err(ApiError::invalid(
                Some("model"),
                format!("'model' must be a string, got {v}"),
            ));
        }
    }
    let messages = match body.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => {
            return Err(ApiError::invalid(
                Some("messages"),
                "'messages' must not be empty",
            ));
        }
        None => {
            return Err(ApiError::invalid(
                Some("messages"),
                "'messages' is required",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                Some("messages"),
                "'messages' must be an array",
            ));
        }
    };
    for (i, m) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        if !ROLES.contains(&role) {
            return Err(ApiError::invalid(
                Some(&format!("{param}.role")),
                format!("'{param}.role' must be one of {ROLES:?}"),
            ));
        }
        if let Some(calls) = m.get("tool_calls").filter(|c| !c.is_null()) {
            let ok = role == "assistant"
                && calls.as_array().is_some_and(|a| {
                    a.iter().all(|c| {
                        c["id"].is_string()
                            && c["function"]["name"].is_string()
                            && c["function"]["arguments"].is_string()
                    })
                });
            if !ok {
                return Err(ApiError::invalid(
                    Some(&format!("{param}.tool_calls")),
                    format!(
                        "'{param}.tool_calls' must be an assistant message's list of {{id, type: 'function', function: {{name, arguments}}}} with 'arguments' a JSON string"
                    ),
                ));
            }
        }
        if role == "tool" && !m["tool_call_id"].is_string() {
            return Err(ApiError::invalid(
                Some(&format!("{param}.tool_call_id")),
                format!("'{param}.tool_call_id' is required for a tool message"),
            ));
        }
        if let Some(parts) = m.get("content").and_then(Value::as_array)
            && let Some((j, p)) = parts
                .iter()
                .enumerate()
                .find(|(_, p)| p["type"] != "text" || !p["text"].is_string())
        {
            return Err(ApiError::invalid(
                Some(&format!("{param}.content[{j}]")),
                format!(
                    "only text content parts are supported by these models, got {}",
                    p["type"]
                ),
            ));
        }
        match m.get("content") {
            Some(Value::String(_)) | Some(Value::Array(_)) => {}
            None | Some(Value::Null) if role == "assistant" => {}
            _ => {
                return Err(ApiError::invalid(
                    Some(&format!("{param}.content")),
                    format!("'{param}.content' must be a string or an array of content parts"),
                ));
            }
        }
    }
    for k in ["stream", "parallel_tool_calls"] {
        if let Some(v) = body.get(k).filter(|v| !v.is_null() && !v.is_boolean()) {
            return Err(ApiError::invalid(
                Some(k),
                format!("'{k}' must be a boolean, got {v}"),
            ));
        }
    }
    for k in ["functions", "function_call"] {
        if body.get(k).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::invalid(
                Some(k),
                format!(
                    "'{k}' (the deprecated function-calling API) is not supported; use 'tools' and 'tool_choice'"
                ),
            ));
        }
    }
    if let Some(n) = body.get("n").filter(|v| !v.is_null())
        && n.as_u64() != Some(1)
    {
        return Err(ApiError::invalid(Some("n"), "only n=1 is supported"));
    }
    Ok(())
}

/// Maps an engine error: bad parameters and an oversized prompt are the
/// request's fault (400); anything else is ours (500).
fn engine_error(e: anyhow::Error) -> ApiError {
    if let Some(ModelNotFound(id)) = e.downcast_ref::<ModelNotFound>() {
        return ApiError::not_found("model", id).with_code("model_not_found");
    }
    if let Some(b) = e.downcast_ref::<BadParam>() {
        return ApiError::invalid(Some(&b.param), b.to_string());
    }
    if e.downcast_ref::<ContextOverflow>().is_some() {
        return ApiError::invalid(Some("messages"), e.to_string())
            .with_code("context_length_exceeded");
    }
    ApiError::internal(format!("{e:#}"))
}

#[utoipa::path(post, path = "/chat/completions", tag = "Chat", summary = "Create a chat completion", request_body(content = Object, description = "`messages`, `model`, `temperature`, `top_p`, `top_k`, `max_tokens`/`max_completion_tokens`, `stop`, `seed`, `n` (1), `presence_penalty`, `frequency_penalty`, `user`, `tools`, `tool_choice`, `parallel_tool_calls`, `response_format` (`text`, `json_object`, `json_schema`: enforced by constrained decoding), `logprobs`/`top_logprobs` (with `stream`: in one chunk before the last), `stream`, `stream_options.include_usage`"), responses((status = 200, description = "A `chat.completion` with `usage` and `timings`", body = Object), (status = 200, description = "With `stream: true`: server-sent events", content_type = "text/event-stream")))]
pub async fn completions(State(s): State<AppState>, Body(body): Body) -> ApiResult<Response> {
    validate(&body)?;
    let model = opt_str(&body, "model")?.unwrap_or_default();
    let descriptor = s
        .models()
        .model(&model)
        .ok_or_else(|| ApiError::not_found("model", &model).with_code("model_not_found"))?;
    if descriptor["type"] == "embedding" {
        return Err(ApiError::invalid(
            Some("model"),
            format!("'{model}' is an embedding model; use it with /v1/embeddings"),
        ));
    }
    // Checked up front, so a stream never starts with a bad request.
    crate::check_request(&s, Value::Object(body.clone())).await?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let include_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let chat = s.models().chat(Value::Object(body));
    if !stream {
        let done = chat.completion().await.map_err(engine_error)?;
        return Ok(Json(done.to_chat_completion()).into_response());
    }
    let (events, rx) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    tokio::spawn(stream_chunks(chat, model, include_usage, events));
    Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response())
}

/// Renders a chat's events as `chat.completion.chunk`s: a role chunk, text
/// and tool-call deltas as they come, logprobs, the finish reason (with
/// `timings`), usage when asked, then `[DONE]`. Stops generating when the
/// client goes away.
async fn stream_chunks(
    mut chat: jan_host::models::ChatStream,
    model: String,
    include_usage: bool,
    events: mpsc::UnboundedSender<Result<Event, Infallible>>,
) {
    let id = jan_host::models::new_completion_id();
    let created = jan_host::models::unix_now();
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
    };
    let send = |v: Value| {
        events
            .send(Ok(Event::default().data(v.to_string())))
            .is_ok()
    };
    if !send(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )) {
        return;
    }
    loop {
        let event = tokio::select! {
            e = chat.next() => e,
            // The client went away while nothing was sent (a call or JSON
            // held back until complete): dropping `chat` stops generating.
            _ = events.closed() => return,
        };
        let delta = match event {
            Some(Ok(ChatEvent::Text(d))) => json!({"content": d}),
            Some(Ok(ChatEvent::ToolCallStart { index, id, name })) => {
                json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]})
            }
            Some(Ok(ChatEvent::ToolCallArguments { index, delta })) => {
                json!({"tool_calls": [{"index": index, "function": {"arguments": delta}}]})
            }
            Some(Ok(ChatEvent::Done(done))) => {
                // Logprobs come whole, in one chunk before the last.
                if done.logprobs.is_some() {
                    let mut c = chunk(json!({}), Value::Null);
                    c["choices"][0]["logprobs"] = done.logprobs_json();
                    if !send(c) {
                        return;
                    }
                }
                let mut last = chunk(json!({}), done.finish.as_str().into());
                last["timings"] = done.timings_json();
                send(last);
                if include_usage {
                    let mut usage = chunk(json!({}), Value::Null);
                    usage["choices"] = json!([]);
                    usage["usage"] = done.usage.to_json();
                    send(usage);
                }
                break;
            }
            Some(Err(e)) => {
                send(engine_error(e).body());
                break;
            }
            None => {
                send(ApiError::internal("the model engine stopped without an answer").body());
                break;
            }
        };
        // The client went away: dropping `chat` cancels generation.
        if !send(chunk(delta, Value::Null)) {
            return;
        }
    }
    let _ = events.send(Ok(Event::default().data("[DONE]")));
}

/// `POST /v1/embeddings`: `input` is a string or a list of strings;
/// `encoding_format` is `float` (default) or `base64` (little-endian f32).
#[utoipa::path(post, path = "/embeddings", tag = "Embeddings", summary = "Create embeddings", request_body(content = Object, description = "`model`, `input` (a string or a list of strings), `encoding_format` (`float` or `base64`)"), responses((status = 200, description = "`{object: list, data: [{embedding}], usage}`", body = Object)))]
pub async fn embeddings(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    let model = opt_str(&body, "model")?
        .ok_or_else(|| ApiError::invalid(Some("model"), "'model' is required"))?;
    let texts: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str().map(String::from).ok_or_else(|| {
                    ApiError::invalid(Some("input"), "'input' must be a string or a list of strings (token arrays are not supported)")
                })
            })
            .collect::<ApiResult<_>>()?,
        _ => {
            return Err(ApiError::invalid(
                Some("input"),
                "'input' must be a non-empty string or list of strings",
            ));
        }
    };
    let base64 = match opt_str(&body, "encoding_format")?.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                Some("encoding_format"),
                format!("'encoding_format' must be 'float' or 'base64', got '{other}'"),
            ));
        }
    };
    let descriptor = s
        .models()
        .model(&model)
        .ok_or_else(|| ApiError::not_found("model", &model).with_code("model_not_found"))?;
    if descriptor["type"] != "embedding" {
        return Err(ApiError::invalid(
            Some("model"),
            format!("'{model}' is not an embedding model"),
        ));
    }
    let jan_host::models::Embeddings { vectors, tokens } = s
        .models()
        .embed(model.clone(), texts)
        .await
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let embedding = if base64 {
                use base64::Engine as _;
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })))
}
