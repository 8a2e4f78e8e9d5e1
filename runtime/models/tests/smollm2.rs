//! End to end with the real SmolLM2-135M-Instruct (Q4_1 GGUF), which
//! `tests/get-models.sh` installs from its PyPI package.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jan_models::{Engine, folder};
use serde_json::json;
use tokio::sync::mpsc;

pub fn smollm2() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        p.is_file(),
        "{} is missing: run tests/get-models.sh",
        p.display()
    );
    p
}

fn engine() -> (tempfile::TempDir, Arc<Engine>) {
    let t = tempfile::tempdir().unwrap();
    folder::import(&t.path().join("models"), &smollm2(), Some("smollm2"), true).unwrap();
    let e = Engine::new(t.path().join("models"), Duration::from_secs(600));
    (t, e)
}

const QUESTION: &str = "What is the capital of France? Answer in one word.";

#[tokio::test(flavor = "multi_thread")]
async fn answers_paris_and_streams_the_same_text() {
    let (_t, engine) = engine();
    let request = json!({
        "model": "smollm2",
        "messages": [{"role": "user", "content": QUESTION}],
        "temperature": 0,
        "max_tokens": 24,
    });
    let plain = engine.chat(request.clone(), None).await.unwrap();
    let text = plain["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("Paris"), "{text:?}");
    assert_eq!(plain["choices"][0]["finish_reason"], "stop", "{plain}");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let streamed_reply = engine.chat(request, Some(tx)).await.unwrap();
    let mut streamed = String::new();
    while let Ok(d) = rx.try_recv() {
        streamed.push_str(&d);
    }
    assert_eq!(streamed, text);
    assert_eq!(
        streamed_reply["choices"][0]["message"]["content"],
        text.as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn model_json_defaults_come_from_the_gguf() {
    let (t, _e) = engine();
    let e = folder::load(&t.path().join("models/smollm2")).unwrap();
    assert_eq!(e.json["metadata"]["tags"], json!(["llama"]));
    let name = e.json["name"].as_str().unwrap().to_lowercase();
    assert!(name.contains("smollm2"), "{}", e.json);
    assert_eq!(e.json["metadata"]["author"], "HuggingFaceTB");
    assert_eq!(e.json["settings"]["ctx_len"], 4096);
}
