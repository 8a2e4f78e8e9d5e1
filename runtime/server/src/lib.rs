//! The OpenAI-compatible HTTP API: one router, handlers as plain async
//! functions, errors as one type ([`error::ApiError`]).

mod assistants;
mod chat;
pub mod error;
mod list;
mod openapi;
mod runs;
mod threads;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jan_assistant::DataDir;
use jan_host::Host;
use serde_json::Value;
use subtle::ConstantTimeEq;
use tower_http::cors::{Any, CorsLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use error::{ApiError, ApiResult};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 8 << 20;

#[derive(Clone)]
pub struct AppState {
    pub host: Host,
    pub data: DataDir,
    pub store: jan_store::Store,
    pub api_key: Option<Arc<str>>,
    /// Runs in progress: their cancel switches.
    pub active:
        Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::sync::watch::Sender<bool>>>>,
}

/// The whole API.
///
/// Routes are registered with utoipa-axum's `routes!`, which takes each
/// handler's path and method from its `#[utoipa::path]`: the router and the
/// OpenAPI document served at `/openapi.json` come from the same
/// annotations, so they cannot drift apart.
pub fn router(state: AppState) -> Router {
    let v1 = OpenApiRouter::new()
        .routes(routes!(chat::list_models))
        .routes(routes!(chat::get_model))
        .routes(routes!(chat::completions))
        .routes(routes!(chat::embeddings))
        .routes(routes!(assistants::list, assistants::create))
        .routes(routes!(
            assistants::retrieve,
            assistants::modify,
            assistants::delete
        ))
        .routes(routes!(threads::events))
        .routes(routes!(threads::create))
        .routes(routes!(runs::create_thread_and_run))
        .routes(routes!(threads::retrieve, threads::modify, threads::delete))
        .routes(routes!(threads::list_messages, threads::create_message))
        .routes(routes!(
            threads::retrieve_message,
            threads::modify_message,
            threads::delete_message
        ))
        .routes(routes!(runs::list, runs::create))
        .routes(routes!(runs::retrieve, runs::modify))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::submit_tool_outputs))
        .routes(routes!(runs::list_steps))
        .routes(routes!(runs::retrieve_step));
    let (v1, api) = OpenApiRouter::with_openapi(openapi::base())
        .nest("/v1", v1)
        .split_for_parts();
    let api = Arc::new(openapi::finish(api));
    v1.route(
        "/openapi.json",
        get(move || {
            let api = api.clone();
            async move { Json(api) }
        }),
    )
    .route(
        "/health",
        get(|| async { Json(serde_json::json!({"status": "ok"})) }),
    )
    .fallback(|| async {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "Unknown endpoint.",
        )
    })
    .layer(middleware::from_fn_with_state(state.clone(), auth))
    // A bug in a handler answers 500 with the error JSON instead of
    // dropping the connection.
    .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
        ApiError::internal("internal error (a handler panicked; see the server log)")
            .into_response()
    }))
    .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
    // Browsers: any origin, and every header the SDKs send
    // (Authorization, X-Stainless-*).
    .layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods(Any)
            .allow_headers(Any)
            .expose_headers(Any),
    )
    .with_state(state)
}

/// With an API key set, every request needs `Authorization: Bearer KEY`.
/// Keys are compared in constant time.
async fn auth(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    // Liveness checks and the API's description need no key.
    let open = matches!(req.uri().path(), "/health" | "/openapi.json");
    if let (Some(key), false) = (&state.api_key, open) {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(key.as_bytes())) {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(req).await
}

/// A JSON object body. Unlike axum's `Json`, every failure (bad JSON, not an
/// object, too large) is an OpenAI error.
pub struct Body(pub serde_json::Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                let status = e.status();
                let mut err = ApiError::invalid(None, e.body_text());
                err.status = status;
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    err.message = format!("The request body is larger than {MAX_BODY} bytes.");
                }
                err
            })?;
        if bytes.is_empty() {
            return Ok(Body(Default::default()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(Body(m)),
            Ok(_) => Err(ApiError::invalid(
                None,
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(ApiError::invalid(
                None,
                format!("The request body is not valid JSON: {e}"),
            )),
        }
    }
}

/// Reads an optional string field.
pub(crate) fn opt_str(
    body: &serde_json::Map<String, Value>,
    key: &str,
) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(ApiError::invalid(
            Some(key),
            format!("'{key}' must be a string, got {v}"),
        )),
    }
}

/// Serves until `shutdown` resolves; requests in flight (streams included)
/// are finished first.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

impl AppState {
    /// The model provider (the host's: assistants and the API use the same).
    pub fn models(&self) -> &Arc<dyn jan_host::ModelProvider> {
        self.host.provider()
    }
}

/// Checks what a request asks of the model (sampling parameters, `tools`,
/// `tool_choice`, `parallel_tool_calls`, `response_format`, grammars
/// included) off the async workers: compiling a client's schemas is CPU
/// work.
pub(crate) async fn check_request(s: &AppState, request: Value) -> error::ApiResult<()> {
    let models = s.models().clone();
    tokio::task::spawn_blocking(move || models.check(&request))
        .await
        .map_err(|e| error::ApiError::internal(e.to_string()))?
        .map_err(|b| error::ApiError::invalid(Some(&b.param), b.to_string()))
}
