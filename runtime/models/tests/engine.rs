//! The engine on a tiny random model written by the test itself: loading,
//! tokenizer, template, sampling, stop strings, streaming, cancellation,
//! usage counts, KV reuse.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jan_models::{Engine, folder, tiny};
use serde_json::{Value, json};
use tokio::sync::mpsc;

fn setup() -> (tempfile::TempDir, Arc<Engine>) {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("tiny.gguf");
    tiny::write(&file, 7).unwrap();
    let models = t.path().join("models");
    folder::import(&models, &file, Some("tiny"), false).unwrap();
    let engine = Engine::new(models, Duration::from_secs(600));
    (t, engine)
}

fn request(extra: Value) -> Value {
    let mut r = json!({
        "model": "tiny",
        "messages": [{"role": "user", "content": "hello world"}],
        "temperature": 0,
        "max_tokens": 12,
    });
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

fn text(r: &Value) -> String {
    r["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_writes_model_json_with_gguf_defaults() {
    let (t, _engine) = setup();
    let e = folder::load(&t.path().join("models/tiny")).unwrap();
    assert_eq!(e.json["name"], "Tiny Random llama");
    assert_eq!(e.json["format"], "gguf");
    assert_eq!(e.json["engine"], "candle");
    assert_eq!(e.json["settings"]["ctx_len"], tiny::CONTEXT);
    assert_eq!(e.json["metadata"]["tags"], json!(["llama"]));
    // Importing the same file again is a no-op; another file under the
    // same id is refused, and nothing is overwritten.
    let models = t.path().join("models");
    let again = folder::import(&models, &t.path().join("tiny.gguf"), Some("tiny"), false).unwrap();
    assert_eq!(again.id, "tiny");
    let other = t.path().join("other.gguf");
    tiny::write(&other, 8).unwrap();
    let err = folder::import(&models, &other, Some("tiny"), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_models_are_reported_and_the_others_still_list() {
    let (t, engine) = setup();
    let models = t.path().join("models");
    std::fs::create_dir_all(models.join("broken")).unwrap();
    std::fs::write(models.join("broken/model.json"), "{ nope").unwrap();
    std::fs::create_dir_all(models.join("corrupt")).unwrap();
    std::fs::write(models.join("corrupt/x.gguf"), b"not a gguf file at all").unwrap();
    let list = engine.entries();
    let ok: Vec<_> = list
        .iter()
        .filter_map(|(_, e)| e.as_ref().ok())
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(ok, vec!["tiny"]);
    let errors: Vec<String> = list
        .iter()
        .filter_map(|(_, e)| e.as_ref().err())
        .map(|e| format!("{e:#}"))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("model.json:1:") && e.contains("invalid JSON")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("not a valid GGUF")),
        "{errors:?}"
    );
    let err = common::chat(&engine, json!({"model": "corrupt", "messages": []}), None)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("not a valid GGUF"), "{err:#}");
    let err = common::chat(&engine, json!({"model": "nope", "messages": []}), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("model 'nope' not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn greedy_is_deterministic_and_usage_is_counted() {
    let (_t, engine) = setup();
    let a = common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
    let b = common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
    assert_eq!(text(&a), text(&b));
    assert!(!text(&a).is_empty());
    assert_eq!(a["usage"]["completion_tokens"], 12);
    assert_eq!(a["choices"][0]["finish_reason"], "length");
    // The prompt is the ChatML rendering of one user message.
    let prompt = "<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n";
    let tok = tokenizer();
    assert_eq!(
        a["usage"]["prompt_tokens"],
        tok.encode(prompt).unwrap().len()
    );
    assert_eq!(
        a["usage"]["total_tokens"],
        a["usage"]["prompt_tokens"].as_u64().unwrap() + 12
    );
    assert!(a["timings"]["predicted_per_second"].as_f64().unwrap() > 0.0);
    assert!(a["timings"]["prompt_per_second"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_sampling_repeats_and_different_seeds_differ() {
    let (_t, engine) = setup();
    let sampled = |seed: u64| {
        request(
            json!({"temperature": 1.5, "top_p": 1.0, "top_k": 0, "seed": seed, "max_tokens": 24}),
        )
    };
    let a = text(&common::chat(&engine, sampled(1), None).await.unwrap());
    let b = text(&common::chat(&engine, sampled(1), None).await.unwrap());
    let c = text(&common::chat(&engine, sampled(2), None).await.unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_strings_cut_the_reply() {
    let (_t, engine) = setup();
    let full = text(
        &common::chat(&engine, request(json!({"max_tokens": 30})), None)
            .await
            .unwrap(),
    );
    // Stop at a piece from the middle of what the model says.
    let chars: Vec<char> = full.chars().collect();
    assert!(chars.len() > 6, "{full:?}");
    let start = chars.len() / 2;
    let stop: String = chars[start..start + 2].iter().collect();
    let cut = full.find(&stop).unwrap();
    let r = common::chat(
        &engine,
        request(json!({"max_tokens": 30, "stop": [stop]})),
        None,
    )
    .await
    .unwrap();
    assert_eq!(text(&r), full[..cut]);
    assert_eq!(r["choices"][0]["finish_reason"], "stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_equals_the_whole_text() {
    let (_t, engine) = setup();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let r = common::chat(&engine, request(json!({"max_tokens": 20})), Some(tx))
        .await
        .unwrap();
    let mut streamed = String::new();
    let mut pieces = 0;
    while let Ok(d) = rx.try_recv() {
        streamed.push_str(&d);
        pieces += 1;
    }
    assert!(pieces > 1);
    assert_eq!(streamed, text(&r));
    let plain = common::chat(&engine, request(json!({"max_tokens": 20})), None)
        .await
        .unwrap();
    assert_eq!(text(&plain), streamed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follow_up_turn_reuses_the_shared_prefix() {
    let (_t, engine) = setup();
    let first = common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
    let history = json!([
        {"role": "user", "content": "hello world"},
        {"role": "assistant", "content": text(&first)},
        {"role": "user", "content": "and more"},
    ]);
    let second = common::chat(&engine, request(json!({"messages": history})), None)
        .await
        .unwrap();
    let prompt = second["usage"]["prompt_tokens"].as_u64().unwrap();
    let cached = second["timings"]["cache_n"].as_u64().unwrap();
    let processed = second["timings"]["prompt_n"].as_u64().unwrap();
    // The whole first prompt (and the start of the reply, where it
    // re-tokenizes the same) is reused; only the tokens after it run.
    let first_prompt = first["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(cached >= first_prompt, "{second}");
    assert_eq!(processed, prompt - cached, "{second}");
    // Reuse does not change the answer: a fresh engine computes it all.
    let (_t2, fresh) = setup();
    let again = common::chat(&fresh, request(json!({"messages": history})), None)
        .await
        .unwrap();
    assert_eq!(again["timings"]["cache_n"], 0);
    assert_eq!(again["timings"]["prompt_n"], prompt);
    assert_eq!(text(&again), text(&second));
}

#[tokio::test(flavor = "multi_thread")]
async fn context_overflow_is_a_clear_error() {
    let (_t, engine) = setup();
    let long = "hello ".repeat(tiny::CONTEXT);
    let err = common::chat(
        &engine,
        request(json!({"messages": [{"role": "user", "content": long}]})),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("does not fit the model's context"),
        "{err}"
    );
    // Still serves afterwards.
    common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_are_refused() {
    let (_t, engine) = setup();
    let err = common::chat(&engine, request(json!({"temperature": 5})), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("temperature"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_models_are_unloaded() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("tiny.gguf");
    tiny::write(&file, 7).unwrap();
    folder::import(&t.path().join("models"), &file, Some("tiny"), true).unwrap();
    let engine = Engine::new(t.path().join("models"), Duration::from_millis(300));
    common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
    assert!(engine.is_loaded("tiny"));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(!engine.is_loaded("tiny"));
    common::chat(&engine, request(json!({})), None)
        .await
        .unwrap();
}

#[test]
fn the_tokenizer_round_trips_any_text() {
    let tok = tokenizer();
    for s in [
        "hello world",
        "café naïve",
        "日本語のテキスト",
        "emoji 🦀🎉",
        "digits 12345",
        "it's, don't",
        "<|im_start|>user\nhi<|im_end|>",
    ] {
        let ids = tok.encode(s).unwrap();
        let back = tok.decode(&ids).unwrap();
        if s.contains("<|") {
            // Control tokens are single ids and are left out of decoded text.
            assert_eq!(
                ids.iter().filter(|&&i| tok.stop_ids.contains(&i)).count(),
                1
            );
            assert_eq!(back, "user\nhi");
        } else {
            assert_eq!(back, s);
        }
    }
    // Merges apply: "hello" is one token.
    assert_eq!(tok.encode("hello").unwrap().len(), 1);
}

fn tokenizer() -> jan_models::tokenizer::Tok {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("tiny.gguf");
    tiny::write(&file, 7).unwrap();
    let (content, _) = jan_models::gguf::read_header(&file).unwrap();
    jan_models::tokenizer::Tok::load(&jan_models::gguf::Meta(content.metadata), Path::new(&file))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn max_prompt_tokens_drops_the_oldest_turns() {
    let (_t, engine) = setup();
    let history = json!([
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hello world ".repeat(20)},
        {"role": "assistant", "content": "hello ".repeat(20)},
        {"role": "user", "content": "last"},
    ]);
    let full = common::chat(&engine, request(json!({"messages": history})), None)
        .await
        .unwrap();
    let full_tokens = full["usage"]["prompt_tokens"].as_u64().unwrap();
    let cut = common::chat(
        &engine,
        request(json!({"messages": history, "max_prompt_tokens": 40})),
        None,
    )
    .await
    .unwrap();
    let cut_tokens = cut["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(cut_tokens <= 40, "{cut_tokens}");
    assert!(cut_tokens < full_tokens);
}

/// Logits of the last token of `ids`: one pass over all of them, or the
/// first `split` in one pass and the rest one at a time through the cache.
/// `window: false` turns Gemma3's sliding window off.
fn last_logits(path: &std::path::Path, ids: &[u32], split: usize, window: bool) -> Vec<f32> {
    let (content, mut file) = jan_models::gguf::read_header(path).unwrap();
    let meta = jan_models::gguf::Meta(content.metadata.clone());
    let mut config = jan_models::llama::Config::from_meta(&meta).unwrap();
    if !window {
        config.sliding = None;
    }
    let mut model =
        jan_models::llama::Model::load(&content, &mut file, config, 256, &candle_core::Device::Cpu)
            .unwrap();
    let mut logits = model.forward(&ids[..split]).unwrap();
    for id in &ids[split..] {
        logits = model.forward(&[*id]).unwrap();
    }
    logits.to_vec1().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every architecture's decode path (one token against the cache) agrees
/// with its prompt path (all tokens at once), also past Gemma3's sliding
/// window, where Candle's own Gemma3 goes wrong.
#[test]
fn decoding_through_the_cache_equals_one_pass_for_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<u32> = (0..5 * tiny::WINDOW as u32)
        .map(|i| (i * 37) % 256)
        .collect();
    for arch in ["llama", "phi3", "gemma3"] {
        let path = dir.path().join(format!("{arch}.gguf"));
        tiny::write_arch(&path, 11, arch).unwrap();
        let whole = last_logits(&path, &ids, ids.len(), true);
        let stepped = last_logits(&path, &ids, 3, true);
        assert!(whole.iter().all(|x| x.is_finite()), "{arch}");
        // Activations are quantized to 8 bits per block before each
        // matmul: a last-digit difference between the two paths' attention
        // sums can round one value to its neighbour, so the paths agree to
        // rounding, not bit for bit. A wrong mask or position is far off.
        let scale = whole.iter().fold(0f32, |a, x| a.max(x.abs()));
        let d = max_diff(&whole, &stepped);
        eprintln!("{arch}: largest logit {scale}, paths differ by {d}");
        assert!(
            d < 0.02 * scale,
            "{arch}: prompt and decode paths differ by {d}"
        );
    }
    // The window is applied on both paths: without it, the logits change.
    let path = dir.path().join("gemma3.gguf");
    for split in [ids.len(), 3] {
        let with = last_logits(&path, &ids, split, true);
        let scale = with.iter().fold(0f32, |a, x| a.max(x.abs()));
        let d = max_diff(&with, &last_logits(&path, &ids, split, false));
        eprintln!("split {split}: the window changes logits by {d}");
        assert!(
            d > 0.1 * scale,
            "the window changed little (split {split}): {d}"
        );
    }
}
