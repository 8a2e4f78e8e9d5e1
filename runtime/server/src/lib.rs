//! The OpenAI-compatible HTTP API: one router, handlers as plain async
//! functions, errors as one type ([`error::ApiError`]).

mod assistants;
mod chat;
pub mod error;
mod list;
mod runs;
mod threads;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jan_assistant::DataDir;
use jan_host::Host;
use jan_models::Engine;
use serde_json::Value;
use subtle::ConstantTimeEq;
use tower_http::cors::{Any, CorsLayer};

use error::{ApiError, ApiResult};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 8 << 20;

#[derive(Clone)]
pub struct AppState {
    pub host: Host,
    pub engine: Arc<Engine>,
    pub data: DataDir,
    pub store: jan_store::Store,
    pub api_key: Option<Arc<str>>,
    /// Runs in progress: their cancel switches.
    pub active:
        Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::sync::watch::Sender<bool>>>>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/models", get(chat::list_models))
        .route("/models/{id}", get(chat::get_model))
        .route("/chat/completions", post(chat::completions))
        .route("/embeddings", post(chat::embeddings))
        .route(
            "/assistants",
            get(assistants::list).post(assistants::create),
        )
        .route(
            "/assistants/{id}",
            get(assistants::retrieve)
                .post(assistants::modify)
                .delete(assistants::delete),
        )
        .route("/events", get(threads::events))
        .route("/threads", post(threads::create))
        .route("/threads/runs", post(runs::create_thread_and_run))
        .route(
            "/threads/{thread}",
            get(threads::retrieve)
                .post(threads::modify)
                .delete(threads::delete),
        )
        .route(
            "/threads/{thread}/messages",
            get(threads::list_messages).post(threads::create_message),
        )
        .route(
            "/threads/{thread}/messages/{id}",
            get(threads::retrieve_message)
                .post(threads::modify_message)
                .delete(threads::delete_message),
        )
        .route("/threads/{thread}/runs", get(runs::list).post(runs::create))
        .route(
            "/threads/{thread}/runs/{id}",
            get(runs::retrieve).post(runs::modify),
        )
        .route("/threads/{thread}/runs/{id}/cancel", post(runs::cancel))
        .route(
            "/threads/{thread}/runs/{id}/submit_tool_outputs",
            post(runs::submit_tool_outputs),
        )
        .route("/threads/{thread}/runs/{run}/steps", get(runs::list_steps))
        .route(
            "/threads/{thread}/runs/{run}/steps/{step}",
            get(runs::retrieve_step),
        );
    Router::new()
        .nest("/v1", v1)
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
    // Liveness checks need no key, as with llama.cpp's server.
    if let (Some(key), false) = (&state.api_key, req.uri().path() == "/health") {
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
