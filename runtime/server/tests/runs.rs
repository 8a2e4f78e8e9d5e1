//! Run lifecycle edges through the real router (no network, no model): an
//! assistant whose code streams slowly, so cancellation lands mid-stream.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::call;
use http_body_util::BodyExt;
use jan_assistant::DataDir;
use jan_events::Bus;
use jan_host::{Host, NoModels};
use jan_server::{AppState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn state(root: &std::path::Path) -> AppState {
    let data = DataDir::at(root);
    data.ensure().unwrap();
    let slow = data.assistants().join("slow");
    std::fs::create_dir_all(slow.join("src")).unwrap();
    std::fs::write(
        slow.join("src/index.js"),
        r#"import { events } from "@janhq/core";
async function* words(n) {
  for (let i = 0; i < n; i++) { await new Promise((r) => setTimeout(r, 40)); yield `w${i} `; }
}
events.on("assistant:slow", (e) => words(e.messages.at(-1).content === "short" ? 3 : 50));"#,
    )
    .unwrap();
    // Answers with more text than a message may hold, in pieces or whole.
    let flood = data.assistants().join("flood");
    std::fs::create_dir_all(flood.join("src")).unwrap();
    std::fs::write(
        flood.join("src/index.js"),
        r#"import { events } from "@janhq/core";
const big = "x".repeat(1 << 20);
async function* pieces() { for (let i = 0; i < 6; i++) yield big; }
events.on("assistant:flood", (e) => e.messages.at(-1).content === "whole" ? big.repeat(5) : pieces());"#,
    )
    .unwrap();
    let host = Host::new(Bus::new(), Arc::new(NoModels));
    host.load_all(&data);
    AppState {
        host,
        store: jan_store::Store::open(data.threads()).unwrap(),
        data,
        api_key: None,
        access: Default::default(),
        active: Default::default(),
        replays: Default::default(),
    }
}

async fn thread(s: &AppState, text: &str) -> String {
    let (st, t) = call(
        s,
        "POST",
        "/v1/threads",
        json!({"messages": [{"role": "user", "content": text}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    t["id"].as_str().unwrap().to_string()
}

/// Starts a run of the slow assistant on `thread`.
async fn start_run(s: &AppState, thread: &str) -> (StatusCode, Value) {
    call(
        s,
        "POST",
        &format!("/v1/threads/{thread}/runs"),
        json!({"assistant_id": "slow"}),
    )
    .await
}

async fn wait_terminal(s: &AppState, thread: &str, run: &str) -> Value {
    for _ in 0..200 {
        let (_, r) = call(
            s,
            "GET",
            &format!("/v1/threads/{thread}/runs/{run}"),
            Value::Null,
        )
        .await;
        if jan_store::is_terminal(r["status"].as_str().unwrap_or("")) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("run {run} did not finish");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_thread_refuses_a_second_run_and_cancel_ends_the_first() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let th = thread(&s, "long").await;
    let (st, run) = start_run(&s, &th).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let id = run["id"].as_str().unwrap();
    let (st, err) = start_run(&s, &th).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already has an active run"),
        "{err}"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (st, c) = call(
        &s,
        "POST",
        &format!("/v1/threads/{th}/runs/{id}/cancel"),
        Value::Null,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "cancelling");
    let done = wait_terminal(&s, &th, id).await;
    assert_eq!(done["status"], "cancelled");
    assert!(done["cancelled_at"].is_u64());
    let (_, msgs) = call(
        &s,
        "GET",
        &format!("/v1/threads/{th}/messages?run_id={id}"),
        Value::Null,
    )
    .await;
    let m = &msgs["data"][0];
    assert_eq!(m["status"], "incomplete");
    let text = m["content"][0]["text"]["value"].as_str().unwrap();
    assert!(text.starts_with("w0 ") && !text.contains("w49"), "{text}");
    // The thread is free again.
    let (st, _) = start_run(&s, &th).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_mid_stream_ends_the_stream_with_run_cancelled() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let th = thread(&s, "long").await;
    let req = Request::builder()
        .method("POST")
        .uri(format!("/v1/threads/{th}/runs"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"assistant_id": "slow", "stream": true}).to_string(),
        ))
        .unwrap();
    let resp = router(s.clone()).oneshot(req).await.unwrap();
    let mut body = resp.into_body();
    let mut text = String::new();
    let mut cancelled = false;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        if !cancelled && text.contains("thread.message.delta") {
            let run = text
                .split("\"id\":\"")
                .find_map(|p| p.strip_prefix("run_").map(|r| format!("run_{}", &r[..24])))
                .unwrap();
            let (st, _) = call(
                &s,
                "POST",
                &format!("/v1/threads/{th}/runs/{run}/cancel"),
                Value::Null,
            )
            .await;
            assert_eq!(st, StatusCode::OK);
            cancelled = true;
        }
    }
    assert!(cancelled);
    assert!(text.contains("event: thread.run.cancelled"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(!text.contains("event: thread.run.completed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_on_different_threads_both_complete() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let (a, b) = (thread(&s, "short").await, thread(&s, "short").await);
    let (_, ra) = start_run(&s, &a).await;
    let (_, rb) = start_run(&s, &b).await;
    let da = wait_terminal(&s, &a, ra["id"].as_str().unwrap()).await;
    let db = wait_terminal(&s, &b, rb["id"].as_str().unwrap()).await;
    assert_eq!(
        (da["status"].as_str(), db["status"].as_str()),
        (Some("completed"), Some("completed"))
    );
    let (_, msgs) = call(
        &s,
        "GET",
        &format!("/v1/threads/{a}/messages?order=desc&limit=1"),
        Value::Null,
    )
    .await;
    assert_eq!(msgs["data"][0]["content"][0]["text"]["value"], "w0 w1 w2 ");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_in_flight_at_a_crash_is_failed_after_restart() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let th = thread(&s, "long").await;
    let (_, run) = start_run(&s, &th).await;
    let id = run["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // "Crash": a new server over the same data folder while the run is in
    // progress on disk.
    let (_, before) = call(
        &s,
        "GET",
        &format!("/v1/threads/{th}/runs/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(before["status"], "in_progress");
    let restarted = AppState {
        store: jan_store::Store::open(s.data.threads()).unwrap(),
        ..s.clone()
    };
    let (_, after) = call(
        &restarted,
        "GET",
        &format!("/v1/threads/{th}/runs/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(after["status"], "failed");
    assert_eq!(after["last_error"]["code"], "server_error");
}

/// Every operation in `/openapi.json` is served (no "unknown endpoint", no
/// 405), and it documents OpenAI's error shape: the document and the
/// router come from the same annotations.
#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_what_is_served() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let (status, doc) = call(&s, "GET", "/openapi.json", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 18, "{:?}", paths.keys());
    let mut operations = 0;
    for (path, item) in paths {
        for method in ["get", "post", "delete"] {
            if item.get(method).is_none() || path == "/v1/events" {
                continue;
            }
            operations += 1;
            let uri = path
                .replace("{thread}", "thread_x")
                .replace("{run}", "run_x")
                .replace("{step}", "step_x")
                .replace("{item}", "item_x")
                .replace("{id}", "x_x");
            let (status, body) = call(&s, &method.to_uppercase(), &uri, json!({})).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            assert_ne!(
                body["error"]["message"], "Unknown endpoint.",
                "{method} {uri}"
            );
            if !status.is_success() {
                assert!(
                    body["error"]["message"].is_string(),
                    "{method} {uri}: {body}"
                );
            }
        }
        let op = item.as_object().unwrap().values().next().unwrap();
        assert!(op["responses"]["400"]["content"]["application/json"].is_object());
    }
    assert!(operations >= 27, "{operations} operations");
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["required"],
        json!(["message", "type"])
    );
    // The chat request is described field by field, not as `Object`.
    let body = &paths["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    let name = body["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    let chat = &doc["components"]["schemas"][name];
    assert_eq!(chat["required"], json!(["model", "messages"]), "{chat}");
    for field in [
        "tools",
        "tool_choice",
        "response_format",
        "logit_bias",
        "stream_options",
    ] {
        assert!(chat["properties"][field].is_object(), "{field}: {chat}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn assistants_show_their_grants_and_the_api_cannot_widen_them() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let granted = s.data.assistants().join("granted");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::write(
        granted.join("assistant.json"),
        r#"{"permissions": {"net": ["127.0.0.1:1337"], "env": ["MY_KEY"]}}"#,
    )
    .unwrap();
    let (status, a) = call(&s, "GET", "/v1/assistants/granted", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        a["permissions"],
        json!({"net": ["127.0.0.1:1337"], "read": [], "write": [], "env": ["MY_KEY"]})
    );
    for (k, v) in [
        ("permissions", json!({"read": ["/"]})),
        ("limits", json!({"timeout_ms": 1})),
    ] {
        let (status, e) = call(&s, "POST", "/v1/assistants/granted", json!({ k: v })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["error"]["param"], k, "{e}");
    }
    let (_, a) = call(&s, "GET", "/v1/assistants/granted", Value::Null).await;
    assert_eq!(a["permissions"]["read"], json!([]));
}

/// A client's metadata change while the run works survives the run's own
/// status writes (they merge under the thread's lock).
#[tokio::test(flavor = "multi_thread")]
async fn metadata_modified_during_a_run_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    let th = thread(&s, "long").await;
    let (st, run) = start_run(&s, &th).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let id = run["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (st, m) = call(
        &s,
        "POST",
        &format!("/v1/threads/{th}/runs/{id}"),
        json!({"metadata": {"tag": "kept"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let done = wait_terminal(&s, &th, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["metadata"], json!({"tag": "kept"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_too_large_to_store_fails_the_run_and_is_not_stored() {
    let t = tempfile::tempdir().unwrap();
    let s = state(t.path());
    for how in ["streamed", "whole"] {
        let th = thread(&s, how).await;
        let (st, run) = call(
            &s,
            "POST",
            &format!("/v1/threads/{th}/runs"),
            json!({"assistant_id": "flood"}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{run}");
        let r = wait_terminal(&s, &th, run["id"].as_str().unwrap()).await;
        assert_eq!(r["status"], "failed", "{how}: {r}");
        assert!(
            r["last_error"]["message"]
                .as_str()
                .unwrap()
                .contains("bytes"),
            "{r}"
        );
        let log = t.path().join("threads").join(&th).join("messages.jsonl");
        let size = std::fs::metadata(&log).unwrap().len();
        assert!(
            size <= jan_host::MAX_REPLY as u64 + 4096,
            "{how}: {size} bytes stored"
        );
    }
}
