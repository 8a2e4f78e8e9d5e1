//! Runs through the real Candle provider (SmolLM2 from
//! tests/get-models.sh), where stand-in providers would hide defects:
//! cancelling a run that uses the default answer stops its generation.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::call;
use jan_assistant::DataDir;
use jan_events::Bus;
use jan_host::Host;
use jan_server::AppState;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_default_answer_run_stops_generation() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.is_file(),
        "{} is missing: run tests/get-models.sh",
        model.display()
    );
    let t = tempfile::tempdir().unwrap();
    let data = DataDir::at(t.path());
    data.ensure().unwrap();
    jan_models::folder::import(&data.models(), &model, Some("smollm2"), true).unwrap();
    let engine = jan_models::Engine::new(data.models(), Duration::from_secs(600));
    // An assistant without code whose model runs past end-of-turn: its
    // default answer generates for the whole context (thousands of tokens,
    // far longer than this test waits) unless the cancel reaches the
    // generation.
    let dir = data.assistants().join("counter");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("assistant.json"),
        json!({"models": [{"id": "smollm2", "parameters": {"ignore_eos": true}}]}).to_string(),
    )
    .unwrap();
    let host = Host::new(Bus::new(), Arc::new(jan_models::Provider(engine.clone())));
    host.load_all(&data);
    let s = AppState {
        host,
        store: jan_store::Store::open(data.threads()).unwrap(),
        data,
        api_key: None,
        access: Default::default(),
        active: Default::default(),
        replays: Default::default(),
    };
    let (_, th) = call(
        &s,
        "POST",
        "/v1/threads",
        json!({"messages": [{"role": "user", "content": "Count from 1 to 5000."}]}),
    )
    .await;
    let th = th["id"].as_str().unwrap().to_string();
    let (st, run) = call(
        &s,
        "POST",
        &format!("/v1/threads/{th}/runs"),
        json!({"assistant_id": "counter"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let id = run["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    while engine.generating() == 0 {
        assert!(Instant::now() < deadline, "generation never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (st, c) = call(
        &s,
        "POST",
        &format!("/v1/threads/{th}/runs/{id}/cancel"),
        Value::Null,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.generating() > 0 {
        assert!(
            Instant::now() < deadline,
            "generation went on after the run was cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, done) = call(
        &s,
        "GET",
        &format!("/v1/threads/{th}/runs/{id}"),
        Value::Null,
    )
    .await;
    assert_eq!(done["status"], "cancelled", "{done}");
}
