//! `/v1/models`, `/v1/chat/completions` and `/v1/embeddings`.

mod request;

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use jan_host::TurnEvent;
use jan_host::models::{
    BadParam, Completion, ContextOverflow, ModelNotFound, TokenLogprob, logprobs_json,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::error::{ApiError, ApiResult};
use crate::{AppState, Body, opt_str};

/// An OpenAI model object: model.json's fields (`name`, `format`,
/// `settings`, `parameters`, `metadata`, `type`…) are kept beside these.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ModelObject {
    /// The id requests name (`model`).
    pub id: String,
    /// `model`.
    pub object: String,
    pub created: u64,
    /// model.json's `metadata.author`, else `jan`.
    pub owned_by: String,
}

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

#[utoipa::path(get, path = "/models/{id}", tag = "Models", summary = "Retrieve a model", params(("id" = String, Path, description = "Model id")), responses((status = 200, description = "The model: OpenAI's fields and model.json's", body = ModelObject)))]
pub async fn get_model(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let model = s.models().model(&id).map_err(engine_error)?;
    Ok(Json(model_object(&model)))
}

/// Maps an engine error: bad parameters and an oversized prompt are the
/// request's fault (400); anything else is ours (500).
pub(crate) fn engine_error(e: anyhow::Error) -> ApiError {
    if let Some(ModelNotFound(id)) = e.downcast_ref::<ModelNotFound>() {
        return ApiError::not_found("model", id).with_code("model_not_found");
    }
    if let Some(u) = e.downcast_ref::<jan_assistant::UnreadableRecord>() {
        return ApiError::unreadable(u);
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

#[utoipa::path(post, path = "/chat/completions", tag = "Chat", summary = "Create a chat completion", request_body = request::ChatRequest, responses((status = 200, description = "A `chat.completion` with `usage` and `timings`; With `stream: true`: server-sent events", content((Object = "application/json"), (String = "text/event-stream")))))]
pub async fn completions(State(s): State<AppState>, Body(body): Body) -> ApiResult<Response> {
    let req = request::parse(&body)?;
    req.check()?;
    let model = req.model.clone();
    let descriptor = s.models().model(&model).map_err(engine_error)?;
    if descriptor["type"] == "embedding" {
        return Err(ApiError::invalid(
            Some("model"),
            format!("'{model}' is an embedding model; use it with /v1/embeddings"),
        ));
    }
    // Checked up front, so a stream never starts with a bad request.
    crate::check_request(&s, Value::Object(body.clone())).await?;
    let (stream, include_usage) = (req.streams(), req.include_usage());
    if stream {
        // A prompt over the context is an error response, not a stream
        // that fails at once.
        s.models()
            .check_prompt(Value::Object(body.clone()))
            .await
            .map_err(engine_error)?;
    }
    // A turn without tools of its own: every call goes back to the client.
    let turn = jan_turn::start(s.models().clone(), Value::Object(body), jan_turn::NoTools);
    if !stream {
        let done = completion(turn).await?;
        return Ok(Json(done.to_chat_completion()).into_response());
    }
    let (events, rx) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    tokio::spawn(stream_chunks(turn, model, include_usage, events));
    Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response())
}

/// Waits for a turn's last completion.
async fn completion(mut turn: Turn) -> ApiResult<Completion> {
    let mut done = None;
    while let Some(event) = turn.recv().await {
        match event {
            TurnEvent::Finished(c) => done = Some(c),
            TurnEvent::Error(e) => return Err(engine_error(e.to_anyhow())),
            TurnEvent::Done(_) => break,
            _ => {}
        }
    }
    done.ok_or_else(|| ApiError::internal("the model engine stopped without an answer"))
}

type Turn = mpsc::UnboundedReceiver<TurnEvent>;

/// Renders a turn's events as `chat.completion.chunk`s: a role chunk, text
/// and tool-call deltas as they come, logprobs, the finish reason (with
/// `timings`), usage when asked, then `[DONE]`. Stops generating when the
/// client goes away.
async fn stream_chunks(
    mut turn: Turn,
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
    // Logprobs for the next text chunk, and how many tokens' went out.
    let mut pending: Option<Vec<TokenLogprob>> = None;
    let mut streamed = 0usize;
    loop {
        let event = tokio::select! {
            e = turn.recv() => e,
            // The client went away while nothing was sent (a call or JSON
            // held back until complete): dropping the turn stops it.
            _ = events.closed() => return,
        };
        let delta = match event {
            Some(TurnEvent::Logprobs(l)) => {
                pending = Some(l);
                continue;
            }
            Some(TurnEvent::Text(d)) => {
                let mut c = chunk(json!({"content": d}), Value::Null);
                if let Some(l) = pending.take() {
                    streamed += l.len();
                    c["choices"][0]["logprobs"] = logprobs_json(&l);
                }
                if !send(c) {
                    return;
                }
                continue;
            }
            Some(TurnEvent::ToolCallStart { index, id, name }) => {
                json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]})
            }
            Some(TurnEvent::ToolCallArguments { index, delta }) => {
                json!({"tool_calls": [{"index": index, "function": {"arguments": delta}}]})
            }
            Some(TurnEvent::Finished(done)) => {
                // Logprobs came with their text; those that could not (an
                // answer with tools offered) come in one chunk before the
                // last.
                if let Some(rest) = done.logprobs.as_ref().and_then(|l| l.get(streamed..))
                    && !rest.is_empty()
                {
                    let mut c = chunk(json!({}), Value::Null);
                    c["choices"][0]["logprobs"] = logprobs_json(rest);
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
            Some(TurnEvent::Error(e)) => {
                send(engine_error(e.to_anyhow()).body());
                break;
            }
            // The calls were streamed piece by piece already.
            Some(TurnEvent::ToolCalls(_) | TurnEvent::ToolsRan(_) | TurnEvent::Done(_)) => continue,
            None => {
                send(ApiError::internal("the model engine stopped without an answer").body());
                break;
            }
        };
        // The client went away: dropping the turn cancels generation.
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
    let descriptor = s.models().model(&model).map_err(engine_error)?;
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
