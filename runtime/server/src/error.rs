//! The one error type of the API. Every failure leaves as OpenAI's error
//! JSON: `{"error": {"message", "type", "param", "code"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Refuses the first field that is set, `(param, set, why)` in order: for
/// fields a request may carry but this server does not support (refused by
/// name, never ignored).
pub fn refuse_set(fields: &[(&str, bool, &str)]) -> ApiResult<()> {
    match fields.iter().find(|(_, set, _)| *set) {
        Some((param, _, why)) => Err(ApiError::invalid(Some(param), *why)),
        None => Ok(()),
    }
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            param: None,
            code: None,
        }
    }

    /// 400: the request is malformed or a value is out of range.
    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            param: param.map(String::from),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// The same error with `from` at the start of its param (and message)
    /// replaced by `to`: a check made on part of a request names the
    /// client's own path.
    pub fn renamed_param(mut self, from: &str, to: &str) -> Self {
        if let Some(p) = self.param.as_mut().filter(|p| p.starts_with(from)) {
            *p = format!("{to}{}", &p[from.len()..]);
        }
        self.message = self.message.replacen(from, to, 1);
        self
    }

    /// 404: no such object. Ids that are not well-formed are simply not
    /// found.
    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError {
            code: Some("not_found"),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!("No {what} found with id '{id}'."),
            )
        }
    }

    pub fn unauthorized() -> Self {
        ApiError {
            code: Some("invalid_api_key"),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "Incorrect API key provided. Send it as `Authorization: Bearer KEY`.",
            )
        }
    }

    /// 500: our fault, not the request's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    /// A failure to read or write the data folder: a full disk (or quota)
    /// is 507 `insufficient_storage`, which a client may retry once space
    /// is freed; anything else is a 500.
    pub fn storage(e: &std::io::Error) -> Self {
        use std::io::ErrorKind::{
            FileTooLarge, NotFound, QuotaExceeded, ReadOnlyFilesystem, StorageFull,
        };
        match e.kind() {
            // Deleted by another request while this one read it.
            NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "Not found: it was deleted meanwhile.",
            )
            .with_code("not_found"),
            StorageFull | QuotaExceeded | FileTooLarge => ApiError {
                code: Some("insufficient_storage"),
                ..Self::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "server_error",
                    format!("The data folder's disk is full ({e}); free some space and retry."),
                )
            },
            ReadOnlyFilesystem => Self::internal(format!("The data folder is read-only ({e})."))
                .with_code("read_only"),
            _ => Self::internal(format!("storage error: {e}")),
        }
    }

    /// 500 `unreadable_record`: a record of the data folder is there but
    /// cannot be read; the message names the file.
    pub fn unreadable(e: &jan_assistant::UnreadableRecord) -> Self {
        Self::internal(e.to_string()).with_code("unreadable_record")
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn body(&self) -> serde_json::Value {
        json!(ErrorBody {
            error: ErrorDetail {
                message: self.message.clone(),
                kind: self.kind.to_string(),
                param: self.param.clone(),
                code: self.code.map(String::from),
            }
        })
    }
}

/// OpenAI's error JSON, as every failure is sent.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub message: String,
    /// `invalid_request_error` or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request field at fault, if one is.
    pub param: Option<String>,
    /// A machine-readable code (`not_found`, `invalid_api_key`…), if any.
    pub code: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!("{}", self.message);
        }
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Rewrites an error response that is not JSON (axum's own 405, a path or
/// query its extractors could not read) as OpenAI's error JSON, keeping
/// the status and the text.
pub async fn as_json(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let kind = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request_error"
    };
    let mut out = ApiError::new(status, kind, text).into_response();
    // Keep what the original said beyond its body (`Allow` on a 405).
    for (k, v) in parts.headers.iter() {
        if k != axum::http::header::CONTENT_TYPE && k != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().append(k.clone(), v.clone());
        }
    }
    out
}
