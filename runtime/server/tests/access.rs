//! Browsers and hostile requests through the real router: foreign hosts
//! (DNS rebinding) and foreign pages (cross-site requests) are refused
//! before anything runs; every error, even those made outside the
//! handlers, is OpenAI's error JSON.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::send;
use jan_assistant::DataDir;
use jan_events::Bus;
use jan_host::{Host, NoModels};
use jan_server::{Access, AppState};
use serde_json::json;

fn state(root: &std::path::Path, access: Access, key: Option<&str>) -> AppState {
    let data = DataDir::at(root);
    data.ensure().unwrap();
    AppState {
        host: Host::new(Bus::new(), Arc::new(NoModels)),
        store: jan_store::Store::open(data.threads()).unwrap(),
        data,
        api_key: key.map(Into::into),
        access: Arc::new(access),
        active: Default::default(),
        replays: Default::default(),
    }
}

fn req(
    method: &str,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
    body: &str,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(k, *v);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

/// Threads on disk.
fn thread_count(s: &AppState) -> usize {
    std::fs::read_dir(s.data.threads()).map_or(0, |d| d.count())
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_hosts_and_pages_are_refused_before_anything_runs() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path(), Access::default(), None);
    // DNS rebinding: a page at evil.com whose name now points at 127.0.0.1
    // reads the live event stream and the threads under its own name.
    for uri in ["/v1/events", "/v1/assistants", "/v1/models", "/health"] {
        let (st, _, body) = send(&s, req("GET", uri, &[(header::HOST, "evil.com:1337")], "")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{uri}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allowed-hosts"),
            "{body}"
        );
    }
    // A page on another site posts a "simple" request (no preflight): it
    // is refused, and nothing is written.
    let before = thread_count(&s);
    let forged = req(
        "POST",
        "/v1/threads",
        &[
            (header::HOST, "127.0.0.1:1337"),
            (header::ORIGIN, "https://evil.com"),
            (header::CONTENT_TYPE, "text/plain"),
        ],
        r#"{"messages": [{"role": "user", "content": "pwned"}]}"#,
    );
    let (st, headers, body) = send(&s, forged).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert_eq!(thread_count(&s), before);
    // Its preflight is refused too.
    let preflight = req(
        "OPTIONS",
        "/v1/threads",
        &[
            (header::ORIGIN, "https://evil.com"),
            (header::ACCESS_CONTROL_REQUEST_METHOD, "POST"),
        ],
        "",
    );
    assert_eq!(send(&s, preflight).await.0, StatusCode::FORBIDDEN);
    // A page served from this machine may call it with the SDK's headers
    // (a `*` would not cover Authorization), and read the answer.
    let preflight = req(
        "OPTIONS",
        "/v1/chat/completions",
        &[
            (header::ORIGIN, "http://localhost:3000"),
            (header::ACCESS_CONTROL_REQUEST_METHOD, "POST"),
            (
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            ),
        ],
        "",
    );
    let (st, headers, _) = send(&s, preflight).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_METHODS], "POST");
    let local = req(
        "POST",
        "/v1/threads",
        &[
            (header::HOST, "localhost:1337"),
            (header::ORIGIN, "http://localhost:5173"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        "{}",
    );
    let (st, headers, _) = send(&s, local).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:5173"
    );
    // --allowed-hosts and --cors-origins widen the lists.
    let s = state(
        t.path(),
        Access::new(&["box.lan".into()], &["https://app.example.com".into()]),
        None,
    );
    let ok = req(
        "GET",
        "/v1/models",
        &[
            (header::HOST, "box.lan:1337"),
            (header::ORIGIN, "https://app.example.com"),
        ],
        "",
    );
    let (st, headers, _) = send(&s, ok).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_made_outside_the_handlers_are_openai_errors_too() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path(), Access::default(), Some("sk-local"));
    let auth = (header::AUTHORIZATION, "Bearer sk-local");
    for (method, uri, status) in [
        ("PUT", "/v1/models", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/v1/threads/%FF%FE", StatusCode::BAD_REQUEST),
        (
            "GET",
            "/v1/assistants?limit=1&limit=2",
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/v1/assistants?limit=abc", StatusCode::BAD_REQUEST),
    ] {
        let (st, headers, body) = send(&s, req(method, uri, std::slice::from_ref(&auth), "")).await;
        assert_eq!(st, status, "{method} {uri}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {uri}: {body}"
        );
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/json",
            "{method} {uri}"
        );
    }
    // The auth scheme is case-insensitive; a wrong key is still refused.
    let (st, _, _) = send(
        &s,
        req(
            "GET",
            "/v1/models",
            &[(header::AUTHORIZATION, "bearer sk-local")],
            "",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _, body) = send(
        &s,
        req(
            "GET",
            "/v1/models",
            &[(header::AUTHORIZATION, "bearer sk-other")],
            "",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], json!("invalid_api_key"));
}
