//! The OpenAI-compatible HTTP API: one router, handlers as plain async
//! functions, errors as one type ([`error::ApiError`]).

mod access;
mod assistants;
mod chat;
mod conversations;
pub mod error;
mod list;
mod openapi;
mod responses;
mod runs;
mod threads;
mod wire;

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
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, Any, CorsLayer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use access::Access;
use error::{ApiError, ApiResult};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 8 << 20;

#[derive(Clone)]
pub struct AppState {
    pub host: Host,
    pub data: DataDir,
    pub store: jan_store::Store,
    pub api_key: Option<Arc<str>>,
    /// Which hosts and web origins may call the API.
    pub access: Arc<Access>,
    /// Runs in progress: their cancel switches.
    pub active:
        Arc<std::sync::Mutex<std::collections::HashMap<String, tokio::sync::watch::Sender<bool>>>>,
    /// Background responses in progress: the events they have sent so far,
    /// for `GET /v1/responses/{id}?stream=true`.
    pub replays: responses::Replays,
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
        .routes(routes!(runs::retrieve_step))
        .routes(routes!(responses::create))
        .routes(routes!(responses::input_tokens))
        .routes(routes!(responses::retrieve, responses::delete))
        .routes(routes!(responses::cancel))
        .routes(routes!(responses::input_items))
        .routes(routes!(conversations::create))
        .routes(routes!(
            conversations::retrieve,
            conversations::update,
            conversations::delete
        ))
        .routes(routes!(
            conversations::list_items,
            conversations::create_items
        ))
        .routes(routes!(
            conversations::retrieve_item,
            conversations::delete_item
        ));
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
    // Errors made outside the handlers (axum's 405, a path that is not
    // UTF-8, a bad query string) leave as OpenAI's error JSON too.
    .layer(middleware::map_response(error::as_json))
    // Browsers: the allowed origins (see access.rs), and every header the
    // SDKs send (Authorization, X-Stainless-*).
    .layer({
        let access = state.access.clone();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origin.to_str().is_ok_and(|o| access.origin_allowed(o))
            }))
            // Mirrored, not `*`: a wildcard never covers Authorization,
            // which the SDKs always send.
            .allow_methods(AllowMethods::mirror_request())
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers(Any)
    })
    // Outermost: a foreign Host or Origin is refused before anything runs.
    .layer(middleware::from_fn_with_state(state.clone(), access::guard))
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
            // The scheme is case-insensitive (RFC 9110).
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
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

/// Whether a body failed because no data came for the body timeout.
fn stalled(e: &axum::extract::rejection::BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = err.source();
    }
    false
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if stalled(&e) {
                    let mut err = ApiError::invalid(
                        None,
                        "The request body stopped arriving before it was complete.",
                    );
                    err.status = StatusCode::REQUEST_TIMEOUT;
                    return err;
                }
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

/// Reads a JSON body as a typed request; a field of the wrong shape is a
/// 400 naming its path, an unknown field a 400 naming it (OpenAI's
/// "Unrecognized request argument").
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    body: &serde_json::Map<String, Value>,
) -> ApiResult<T> {
    let value = Value::Object(body.clone());
    serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = |prefix: &str| {
            let field = inner.strip_prefix(prefix)?.split('`').next()?;
            // The path may or may not end with the field already.
            Some(if path == "." || path.is_empty() {
                field.to_string()
            } else if path == field || path.ends_with(&format!(".{field}")) {
                path.clone()
            } else {
                format!("{path}.{field}")
            })
        };
        if let Some(param) = field("unknown field `") {
            return ApiError::invalid(
                Some(&param),
                format!("Unrecognized request argument supplied: {param}"),
            );
        }
        if let Some(param) = field("missing field `") {
            return ApiError::invalid(
                Some(&param),
                format!("Missing required parameter: '{param}'."),
            );
        }
        let param = if path == "." {
            None
        } else {
            Some(path.as_str())
        };
        let at = param.map(|p| format!("'{p}': ")).unwrap_or_default();
        ApiError::invalid(param, format!("{at}{inner}"))
    })
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

/// What one client may hold of the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once; more are closed as they are accepted.
    /// The default (512) is below the usual 1,024 open-file limit, so idle
    /// sockets cannot starve the process of descriptors.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long
    /// a kept-alive connection may sit idle between requests (15 s).
    pub header_timeout: std::time::Duration,
    /// How long a request body may stop arriving (no data) before the
    /// request fails with 408 (30 s); a body that trickles is cut by the
    /// 8 MiB cap.
    pub body_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: std::time::Duration::from_secs(15),
            body_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Serves until `shutdown` resolves; requests in flight (streams included)
/// are finished first. HTTP/1.1, with a header timeout and a connection cap
/// (slow or idle clients cannot hold the server; see [`Limits`]), and
/// accept errors (out of file descriptors) waited out instead of ending
/// the loop.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(state, listener, Limits::default(), shutdown).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = router(state).layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept error: {e}; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Tokens go out as they come, not held back for a fuller packet.
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                "refusing a connection from {peer}: {} are open",
                limits.max_connections
            );
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let io = wire::JsonErrors::new(TokioIo::new(stream));
        let conn = http.serve_connection(io, service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer}: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Endless streams (`/v1/events`) would hold shutdown for ever.
    if tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("closing connections still open after 10 s");
    }
    Ok(())
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
