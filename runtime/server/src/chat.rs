//! `/v1/models` and `/v1/chat/completions`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use jan_models::generate::{BadParam, ContextOverflow};
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
    let data: Vec<Value> = s
        .engine
        .entries()
        .into_iter()
        .filter_map(|(_, e)| e.ok())
        .map(|e| model_object(&e.json))
        .collect();
    Json(json!({"object": "list", "data": data}))
}

#[utoipa::path(get, path = "/models/{id}", tag = "Models", summary = "Retrieve a model", params(("id" = String, Path, description = "Model id")), responses((status = 200, description = "The model: OpenAI's fields and model.json's", body = Object)))]
pub async fn get_model(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let entry = s
        .engine
        .entry(&id)
        .map_err(|_| ApiError::not_found("model", &id))?;
    Ok(Json(model_object(&entry.json)))
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
    if let Some(b) = e.downcast_ref::<BadParam>() {
        return ApiError::invalid(Some(&b.param), b.to_string());
    }
    if e.downcast_ref::<ContextOverflow>().is_some() {
        return ApiError::invalid(Some("messages"), e.to_string())
            .with_code("context_length_exceeded");
    }
    ApiError::internal(format!("{e:#}"))
}

#[utoipa::path(post, path = "/chat/completions", tag = "Chat", summary = "Create a chat completion", request_body(content = Object, description = "`messages`, `model`, `temperature`, `top_p`, `top_k`, `max_tokens`/`max_completion_tokens`, `stop`, `seed`, `n` (1), `presence_penalty`, `frequency_penalty`, `user`, `tools`, `tool_choice`, `parallel_tool_calls`, `response_format` (`text`, `json_object`, `json_schema`: enforced by constrained decoding), `logprobs`/`top_logprobs` (not with `stream`), `stream`, `stream_options.include_usage`"), responses((status = 200, description = "A `chat.completion` with `usage` and `timings`", body = Object), (status = 200, description = "With `stream: true`: server-sent events", content_type = "text/event-stream")))]
pub async fn completions(State(s): State<AppState>, Body(body): Body) -> ApiResult<Response> {
    validate(&body)?;
    let model = opt_str(&body, "model")?.unwrap_or_default();
    s.engine.entry(&model).map_err(|e| {
        if e.to_string().contains("not found") {
            ApiError::not_found("model", &model).with_code("model_not_found")
        } else {
            ApiError::internal(format!("{e:#}"))
        }
    })?;
    // Validate sampling parameters up front, so a stream never starts with
    // a bad request.
    jan_models::generate::Params::from_layers(&[&Value::Object(body.clone())])
        .map_err(|b| ApiError::invalid(Some(&b.param), b.to_string()))?;
    crate::check_tools(Value::Object(body.clone())).await?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if stream && body.get("logprobs") == Some(&Value::Bool(true)) {
        return Err(ApiError::invalid(
            Some("logprobs"),
            "'logprobs' with 'stream' is not supported yet; ask without streaming",
        ));
    }
    let include_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let request = Value::Object(body);
    if !stream {
        let result = s.engine.chat(request, None).await.map_err(engine_error)?;
        return Ok(Json(result).into_response());
    }
    let (events, rx) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    let engine = s.engine.clone();
    tokio::spawn(async move {
        let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
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
        let (dtx, mut drx) = mpsc::unbounded_channel::<String>();
        let chat = engine.chat(request, Some(dtx));
        tokio::pin!(chat);
        let result = loop {
            tokio::select! {
                d = drx.recv() => if let Some(d) = d {
                    // The client went away: dropping `chat` cancels generation.
                    if !send(chunk(json!({"content": d}), Value::Null)) { return; }
                },
                r = &mut chat => break r,
                // The client went away while nothing was sent (a call or
                // JSON held back until complete): stop generating.
                _ = events.closed() => return,
            }
        };
        while let Ok(d) = drx.try_recv() {
            if !send(chunk(json!({"content": d}), Value::Null)) {
                return;
            }
        }
        match result {
            Ok(done) => {
                // Calls arrive whole at the end: each as a first delta
                // with its id and name, then one with its arguments.
                let calls = done["choices"][0]["message"]["tool_calls"]
                    .as_array()
                    .cloned();
                for (index, call) in calls.into_iter().flatten().enumerate() {
                    let head = json!({"tool_calls": [{"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}]});
                    let args = json!({"tool_calls": [{"index": index, "function": {"arguments": call["function"]["arguments"]}}]});
                    if !send(chunk(head, Value::Null)) || !send(chunk(args, Value::Null)) {
                        return;
                    }
                }
                let mut last = chunk(json!({}), done["choices"][0]["finish_reason"].clone());
                last["timings"] = done["timings"].clone();
                send(last);
                if include_usage {
                    let mut usage = chunk(json!({}), Value::Null);
                    usage["choices"] = json!([]);
                    usage["usage"] = done["usage"].clone();
                    send(usage);
                }
            }
            Err(e) => {
                send(engine_error(e).body());
            }
        }
        let _ = events.send(Ok(Event::default().data("[DONE]")));
    });
    Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response())
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
    let entry = s
        .engine
        .entry(&model)
        .map_err(|_| ApiError::not_found("model", &model).with_code("model_not_found"))?;
    if !entry.is_embedding() {
        return Err(ApiError::invalid(
            Some("model"),
            format!("'{model}' is not an embedding model"),
        ));
    }
    let (vectors, tokens) = s
        .engine
        .embed(&model, texts)
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
