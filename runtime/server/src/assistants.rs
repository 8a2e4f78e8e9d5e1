//! `/v1/assistants`: the assistant folders of the data folder, in OpenAI's
//! shape. Create writes `<data>/assistants/asst_…/assistant.json`, modify
//! rewrites it atomically (unknown fields kept), delete removes the folder.

use axum::Json;
use axum::extract::{Path, Query, State};
use jan_assistant::{Assistant, UnreadableRecord, valid_id, write_manifest};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page};
use crate::{AppState, Body, opt_str};

/// OpenAI's fields that assistant.json keeps as they are.
const OPENAI_FIELDS: &[&str] = &[
    "model",
    "tools",
    "tool_resources",
    "temperature",
    "top_p",
    "response_format",
];

/// An assistant as the API shows it: assistant.json with its defaults
/// (unknown fields kept beside these).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AssistantObject {
    pub id: String,
    /// `assistant`.
    pub object: String,
    pub name: String,
    pub version: u64,
    pub created_at: u64,
    pub description: Option<String>,
    pub avatar: Option<String>,
    /// The model its turns use by default: assistant.json's `model`, else
    /// the turn engine's choice (empty when no model can answer).
    pub model: String,
    pub instructions: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
    #[schema(value_type = Object)]
    pub tool_resources: Value,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// `auto` or a format object.
    pub response_format: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// jan's: `"*"` or the models it may use.
    pub models: Value,
    /// jan's: `"*"` or the event topics its code may use.
    pub events: Value,
    /// jan's: what its code may reach (set in assistant.json only).
    #[schema(value_type = Object)]
    pub permissions: Value,
    /// jan's: time and heap limits of its code.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<Value>,
}

/// An assistant as the API shows it ([`AssistantObject`]).
fn object(s: &AppState, a: &Assistant) -> Value {
    let mut v = a.resolved();
    let model = v
        .get("model")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| {
            jan_turn::choose_model(a, s.models().as_ref(), None)
                .ok()
                .and_then(|(d, _)| d["id"].as_str().map(String::from))
        })
        .unwrap_or_default();
    v["model"] = model.into();
    for (k, d) in [
        ("tools", json!([])),
        ("tool_resources", json!({})),
        ("temperature", Value::Null),
        ("top_p", Value::Null),
        ("response_format", json!("auto")),
    ] {
        if v.get(k).is_none_or(Value::is_null) {
            v[k] = d;
        }
    }
    v
}

pub(crate) fn load(s: &AppState, id: &str) -> ApiResult<Assistant> {
    if !valid_id(id) {
        return Err(ApiError::not_found("assistant", id));
    }
    // Assistants added by hand on disk are found too. A folder of that
    // name that does not load is the assistant asked for: its error is the
    // answer.
    if s.host.assistant(id).is_err()
        && let Some(bad) = load_all(s)
            .into_iter()
            .find(|e| e.path.file_name().is_some_and(|n| n == id))
    {
        return Err(ApiError::unreadable(&bad));
    }
    s.host
        .assistant(id)
        .map_err(|_| ApiError::not_found("assistant", id))
}

/// Loads the assistants added on disk; those that do not load are logged
/// with their folder, left out, and returned.
fn load_all(s: &AppState) -> Vec<UnreadableRecord> {
    let failed = s.host.load_all(&s.data).into_iter();
    failed
        .map(|(dir, e)| UnreadableRecord::new(dir, e))
        .inspect(UnreadableRecord::warn_skipped)
        .collect()
}

#[utoipa::path(get, path = "/assistants", tag = "Assistants", summary = "List assistants", params(ListParams), responses((status = 200, description = "A page of assistants", body = Object)))]
pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    load_all(&s);
    let items: Vec<Value> = s
        .data
        .list_assistants()
        .into_iter()
        .filter_map(|(_, a)| a.ok())
        .map(|a| object(&s, &a))
        .collect();
    Ok(Json(page.apply(items)))
}

#[utoipa::path(get, path = "/assistants/{id}", tag = "Assistants", summary = "Retrieve an assistant", params(("id" = String, Path, description = "Assistant id")), responses((status = 200, description = "The assistant", body = AssistantObject)))]
pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = load(&s, &id)?;
    let mut v = object(&s, &a);
    // The tools its code registered, after assistant.json's (the same list
    // the model is offered on its turns).
    let registered = s.host.registered_tools(&a.id).await;
    if !registered.is_empty() {
        let mut listed = v["tools"].as_array().cloned().unwrap_or_default();
        listed.retain(|t| {
            !registered
                .iter()
                .any(|r| r["function"]["name"] == t["function"]["name"])
        });
        listed.extend(registered);
        v["tools"] = Value::Array(listed);
    }
    Ok(Json(v))
}

/// `POST /v1/assistants` and `POST /v1/assistants/{id}` (where every field
/// is optional): OpenAI's fields and jan's own. Unknown fields are refused
/// by name, not dropped.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AssistantBody {
    /// The default model of its turns (required on create).
    pub model: Option<String>,
    /// At most 256 characters.
    pub name: Option<String>,
    pub description: Option<String>,
    /// The system message of its turns.
    pub instructions: Option<String>,
    /// Function tools offered on its runs.
    #[schema(value_type = Option<Vec<Object>>)]
    pub tools: Option<Vec<Value>>,
    /// Kept as given (no file search or code interpreter here yet).
    #[schema(value_type = Option<Object>)]
    pub tool_resources: Option<serde_json::Map<String, Value>>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// 0 to 1.
    pub top_p: Option<f64>,
    /// `auto`, or a `response_format` as for chat completions.
    #[schema(value_type = Option<Object>)]
    pub response_format: Option<Value>,
    /// Up to 16 string values.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Refused: the local models here do not reason.
    #[schema(value_type = Option<Object>)]
    pub reasoning_effort: Option<Value>,
    /// jan's: the models it may use (`"*"`, or ids, each with parameter
    /// overrides).
    #[schema(value_type = Option<Object>)]
    pub models: Option<Value>,
    /// jan's: the event topics its code may use.
    #[schema(value_type = Option<Object>)]
    pub events: Option<Value>,
    /// jan's.
    pub avatar: Option<String>,
    /// Refused: set in assistant.json on disk only.
    #[schema(value_type = Option<Object>)]
    pub permissions: Option<Value>,
    /// Refused: set in assistant.json on disk only.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<Value>,
}

/// Checks the fields of a create or modify body.
fn check(body: &Map<String, Value>) -> ApiResult<()> {
    let typed: AssistantBody = crate::typed(body)?;
    crate::error::refuse_set(&[(
        "reasoning_effort",
        typed.reasoning_effort.is_some(),
        "'reasoning_effort' is not supported: the local models here do not reason",
    )])?;
    // Grants widen what an assistant's code may reach: they are the user's
    // to write in assistant.json, not an API client's.
    for k in ["permissions", "limits"] {
        if body.contains_key(k) {
            return Err(ApiError::invalid(
                Some(k),
                format!(
                    "'{k}' is set in the assistant's assistant.json on disk, not through the API"
                ),
            ));
        }
    }
    for k in ["name", "description", "instructions", "model"] {
        opt_str(body, k)?;
    }
    if let Some(name) = opt_str(body, "name")?
        && name.chars().count() > 256
    {
        return Err(ApiError::invalid(
            Some("name"),
            "'name' is longer than 256 characters",
        ));
    }
    crate::threads::metadata(body)?;
    for (k, lo, hi) in [("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)] {
        if let Some(v) = body.get(k).filter(|v| !v.is_null())
            && !v.as_f64().is_some_and(|x| (lo..=hi).contains(&x))
        {
            return Err(ApiError::invalid(
                Some(k),
                format!("'{k}' must be a number from {lo} to {hi}"),
            ));
        }
    }
    if let Some(t) = body.get("tools").filter(|v| !v.is_null())
        && !t.is_array()
    {
        return Err(ApiError::invalid(Some("tools"), "'tools' must be an array"));
    }
    Ok(())
}

/// Writes the body's fields into a manifest.
fn apply(m: &mut jan_assistant::Manifest, body: &Map<String, Value>) -> ApiResult<()> {
    if body.contains_key("name") {
        m.name = opt_str(body, "name")?;
    }
    if body.contains_key("description") {
        m.description = opt_str(body, "description")?;
    }
    if body.contains_key("instructions") {
        m.instructions = opt_str(body, "instructions")?;
    }
    if let Some(md) = body.get("metadata") {
        m.metadata = md.as_object().cloned();
    }
    for k in OPENAI_FIELDS {
        match body.get(*k) {
            // null: back to the default.
            Some(Value::Null) => {
                m.extra.remove(*k);
            }
            Some(v) => {
                m.extra.insert(k.to_string(), v.clone());
            }
            None => {}
        }
    }
    // jan's own fields, for clients that know them.
    for k in ["models", "events", "avatar"] {
        if let Some(v) = body.get(k) {
            let mut probe =
                serde_json::to_value(&*m).map_err(|e| ApiError::internal(e.to_string()))?;
            probe[k] = v.clone();
            *m = serde_json::from_value(probe)
                .map_err(|e| ApiError::invalid(Some(k), format!("'{k}': {e}")))?;
        }
    }
    Ok(())
}

/// Function tools and `response_format` are checked as runs check them.
async fn check_tools(s: &AppState, body: &Map<String, Value>) -> ApiResult<()> {
    let mut request = json!({});
    if let Some(Value::Array(tools)) = body.get("tools") {
        let functions: Vec<&Value> = tools.iter().filter(|t| t["type"] == "function").collect();
        if functions.len() == tools.len() {
            request["tools"] = json!(functions);
        } else {
            // Indices in errors must be the client's: check each function
            // tool alone.
            for (i, t) in tools
                .iter()
                .enumerate()
                .filter(|(_, t)| t["type"] == "function")
            {
                crate::check_request(s, json!({"tools": [t]}))
                    .await
                    .map_err(|e| e.renamed_param("tools[0]", &format!("tools[{i}]")))?;
            }
        }
    } else if let Some(t) = body.get("tools").filter(|t| !t.is_null()) {
        return Err(ApiError::invalid(
            Some("tools"),
            format!("'tools' must be a list, got {t}"),
        ));
    }
    if let Some(f) = body
        .get("response_format")
        .filter(|f| !f.is_null() && *f != "auto")
    {
        request["response_format"] = f.clone();
    }
    crate::check_request(s, request).await
}

#[utoipa::path(post, path = "/assistants", tag = "Assistants", summary = "Create an assistant", request_body = AssistantBody, responses((status = 200, description = "The assistant, written to `assistants/asst_…/assistant.json`", body = AssistantObject)))]
pub async fn create(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    check(&body)?;
    check_tools(&s, &body).await?;
    if opt_str(&body, "model")?.is_none() {
        return Err(ApiError::invalid(Some("model"), "'model' is required"));
    }
    let id = jan_store::new_id("asst");
    let mut manifest = jan_assistant::parse_manifest(std::path::Path::new("assistant.json"), "{}")
        .map_err(|e| ApiError::internal(e.to_string()))?;
    manifest.created_at = Some(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    );
    apply(&mut manifest, &body)?;
    let dir = s.data.assistants().join(&id);
    let written = std::fs::create_dir_all(&dir).and_then(|()| write_manifest(&dir, &manifest));
    if let Err(e) = written {
        // A full disk: leave no half-made assistant behind.
        let _ = std::fs::remove_dir_all(&dir);
        return Err(ApiError::storage(&e));
    }
    let a = s
        .host
        .load(&dir)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let v = object(&s, &a);
    s.host.bus().emit("api", "assistant.created", v.clone());
    Ok(Json(v))
}

#[utoipa::path(post, path = "/assistants/{id}", tag = "Assistants", summary = "Modify an assistant", params(("id" = String, Path, description = "Assistant id")), request_body(content = AssistantBody, description = "Fields to change, as for create"), responses((status = 200, description = "The assistant", body = AssistantObject)))]
pub async fn modify(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let a = load(&s, &id)?;
    check(&body)?;
    check_tools(&s, &body).await?;
    let mut manifest = a.manifest.clone();
    apply(&mut manifest, &body)?;
    write_manifest(&a.dir, &manifest).map_err(|e| ApiError::storage(&e))?;
    let a = s
        .host
        .load(&a.dir)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let v = object(&s, &a);
    s.host.bus().emit("api", "assistant.modified", v.clone());
    Ok(Json(v))
}

#[utoipa::path(delete, path = "/assistants/{id}", tag = "Assistants", summary = "Delete an assistant (not `jan`)", params(("id" = String, Path, description = "Assistant id")), responses((status = 200, description = "`{id, object: assistant.deleted, deleted: true}`", body = Object)))]
pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let a = load(&s, &id)?;
    if a.id == "jan" {
        return Err(ApiError::invalid(
            None,
            "The default assistant 'jan' cannot be deleted.",
        ));
    }
    s.host.unload(&a.id);
    // Rename first, so a half-removed folder never lists as an assistant.
    let trash = s.data.assistants().join(format!(
        ".deleted-{}-{}",
        a.id,
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::rename(&a.dir, &trash).map_err(|e| ApiError::storage(&e))?;
    let _ = std::fs::remove_dir_all(&trash);
    s.host
        .bus()
        .emit("api", "assistant.deleted", json!({"id": a.id}));
    Ok(Json(
        json!({"id": a.id, "object": "assistant.deleted", "deleted": true}),
    ))
}
