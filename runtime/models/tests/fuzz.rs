//! Bounded fuzzing (proptest) of what the engine reads from untrusted
//! files: a downloaded GGUF's header (metadata, tensor index, vocabulary)
//! and its chat template. Corrupted and forged files must end in an error,
//! never a panic, a huge allocation or a hang; every case goes through the
//! real load and one generation. `JAN_FUZZ_CASES` and `JAN_FUZZ_SEED` pick
//! other runs; `JAN_FUZZ_TRACE=1` prints each case.

mod common;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jan_models::template::{ChatTemplate, MAX_OUTPUT};
use jan_models::{Engine, gguf, tiny};
use proptest::prelude::*;
use serde_json::json;

/// The runs are repeatable: a fixed seed (`JAN_FUZZ_SEED` picks another)
/// and a bounded number of cases (`JAN_FUZZ_CASES`).
fn config(cases: u32) -> ProptestConfig {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: env("JAN_FUZZ_CASES").map_or(cases, |n: u64| n as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("JAN_FUZZ_SEED").unwrap_or(20261129)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The tiny model's bytes, and where its tensor data starts.
static TINY: LazyLock<(Vec<u8>, usize)> = LazyLock::new(|| {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("tiny.gguf");
    tiny::write(&p, 3).unwrap();
    let (content, _) = gguf::read_header(&p).unwrap();
    (
        std::fs::read(&p).unwrap(),
        content.tensor_data_offset as usize,
    )
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Runtime::new().unwrap());

#[derive(Debug, Clone)]
enum Mutation {
    /// A byte of the header replaced.
    Flip(usize, u8),
    /// A length, count, type or offset forged: 8 bytes of the header.
    Forge(usize, u64),
    /// The file cut short.
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let forged = prop_oneof![
        Just(0u64),
        Just(1),
        Just(u32::MAX as u64),
        Just(u64::MAX),
        Just(1 << 40),
        Just(1 << 62),
        any::<u64>(),
    ];
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i.index(TINY.1), b)),
        4 => (any::<prop::sample::Index>(), forged).prop_map(|(i, v)| Mutation::Forge(i.index(TINY.1 - 8), v)),
        1 => any::<prop::sample::Index>().prop_map(|i| Mutation::Truncate(i.index(TINY.0.len()))),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match *m {
            Mutation::Flip(at, b) if at < bytes.len() => bytes[at] = b,
            Mutation::Forge(at, v) if at + 8 <= bytes.len() => {
                bytes[at..at + 8].copy_from_slice(&v.to_le_bytes())
            }
            Mutation::Truncate(len) => bytes.truncate(len),
            _ => {}
        }
    }
    bytes
}

/// Installs `bytes` as model `id` and asks it for a few tokens.
fn load_and_chat(models: &Path, id: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let dir: PathBuf = models.join(id);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("model.gguf"), bytes)?;
    let engine = Engine::new(models.to_path_buf(), Duration::from_secs(600));
    let request = json!({
        "model": id,
        "messages": [{"role": "user", "content": "hello world"}],
        "max_tokens": 3,
        "temperature": 0,
    });
    RUNTIME.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(60),
            common::chat(&engine, request, None),
        )
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 60 s"))?
        .map(|_| ())
    })
}

/// How the GGUF cases ended: answered, refused.
static ANSWERED: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

#[test]
fn corrupted_and_forged_gguf_files_are_errors() {
    let config = config(200);
    let n = config.cases;
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = prop::collection::vec(mutation(), 1..6);
    let outcome = runner.run(&strategy, |muts| {
        let t = tempfile::tempdir().unwrap();
        let bytes = apply(TINY.0.clone(), &muts);
        if std::env::var_os("JAN_FUZZ_TRACE").is_some() {
            eprintln!("CASE {muts:?}");
        }
        let result = std::panic::catch_unwind(|| load_and_chat(t.path(), "m", &bytes));
        prop_assert!(result.is_ok(), "panicked on {muts:?}");
        match result.unwrap() {
            Ok(()) => ANSWERED.fetch_add(1, Ordering::SeqCst),
            Err(e) => {
                let e = format!("{e:#}");
                // A panic on the engine's task drops the answer: that and a
                // hang are the failures.
                prop_assert!(
                    !e.contains("stopped without an answer") && !e.contains("no answer within"),
                    "{muts:?}: {e}"
                );
                REFUSED.fetch_add(1, Ordering::SeqCst)
            }
        };
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (ok, refused) = (
        ANSWERED.load(Ordering::SeqCst),
        REFUSED.load(Ordering::SeqCst),
    );
    eprintln!("{n} forged files: {ok} still answered, {refused} refused with an error");
    // Both paths were exercised: the parser's refusals and full loads with
    // forged metadata that still parses.
    assert!(ok > 0 && refused > 0, "{ok} answered, {refused} refused");
}

/// Expressions real and hostile templates use.
const EXPRS: &[&str] = &[
    "{{ message.content }}",
    "{{ message['content'] | trim }}",
    "{{ message.role }}",
    "{{ messages | tojson }}",
    "{{ tools | tojson(indent=4) }}",
    "{{ 'ab' * 99999999999 }}",
    "{{ range(99999999999) | length }}",
    "{{ raise_exception('bad') }}",
    "{{ strftime_now('%d %B %Y') }}",
    "{{ message.content.split(' ') | join('|') }}",
    "{{ bos_token }}",
    "{{ 1 / 0 }}",
    "{{ undefined_thing.attr.attr }}",
    "{{ messages[99999] }}",
    "{{ m(n + 1) }}",
    "{{ loop.index }}",
    "{% set ns.sys = ns.sys + message.content %}",
    "{% break %}",
    "{% continue %}",
    "<|im_start|>",
    "\n",
];

const LOOPS: &[&str] = &[
    "{% for message in messages %}",
    "{% for i in range(100000) %}",
    "{% for x in [[1], [2]] recursive %}{{ loop(x) }}",
    "{% for t in tools %}",
];

const CONDS: &[&str] = &[
    "{% if message.role == 'user' %}",
    "{% if loop.last %}",
    "{% if tools %}",
    "{% if n > 3 %}",
];

/// Balanced templates (so most compile and render) from the pieces above,
/// with loops, conditions and recursive macros nested; a few unbalanced
/// ones test the parser.
fn template() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        8 => prop::sample::select(EXPRS).prop_map(String::from),
        1 => "[ -~]{0,12}",
    ];
    let tree = leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| v.concat()),
            (prop::sample::select(LOOPS), inner.clone())
                .prop_map(|(head, body)| format!("{head}{body}{{% endfor %}}")),
            (prop::sample::select(CONDS), inner.clone(), inner.clone())
                .prop_map(|(head, a, b)| format!("{head}{a}{{% else %}}{b}{{% endif %}}")),
            inner
                .clone()
                .prop_map(|body| format!("{{% macro m(n) %}}{body}{{% endmacro %}}{{{{ m(0) }}}}")),
        ]
    });
    // Output: the prompt cap. (Inside a macro or a `{% set %}` block the
    // same loop would grow a captured string without bound: minijinja has
    // no hook for it; README lists it as missing.)
    let bomb = "{% for i in range(100000) %}{{ 'x' * 1000000 }}{% endfor %}";
    prop_oneof![
        8 => tree.clone().prop_map(|t| format!("{{% set ns = namespace(sys='') %}}{{% set n = 0 %}}{t}")),
        1 => tree.prop_map(move |t| format!("{t}{bomb}")),
        1 => prop::collection::vec(prop::sample::select(EXPRS).prop_map(String::from), 0..8)
            .prop_map(|v| v.concat() + "{% for x in y %}{{"),
    ]
}

#[test]
fn hostile_templates_are_bounded() {
    // Strings grown in memory (self-concatenation, repetition inside a
    // captured block) are left out: minijinja has no hook to bound them
    // (see template.rs).
    let config = config(2000);
    let n = config.cases;
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let (rendered, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let messages = vec![json!({"role": "user", "content": "hi there"}); 3];
    let tools =
        json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    runner
        .run(&template(), |src| {
            let result = std::panic::catch_unwind(|| {
                ChatTemplate::new(&src)
                    .and_then(|t| t.render(&messages, Some(&tools), Some("<s>"), None))
            });
            prop_assert!(result.is_ok(), "panicked on {src:?}");
            match result.unwrap() {
                Ok(out) => {
                    prop_assert!(out.len() <= MAX_OUTPUT);
                    rendered.fetch_add(1, Ordering::SeqCst)
                }
                Err(_) => refused.fetch_add(1, Ordering::SeqCst),
            };
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, no) = (rendered.into_inner(), refused.into_inner());
    eprintln!("{n} templates: {ok} rendered, {no} refused with an error");
    assert!(
        ok > n as usize / 10 && no > 0,
        "{ok} rendered, {no} refused"
    );
}

#[test]
fn a_forged_alignment_of_zero_is_an_error() {
    // `general.alignment` divides the header's end: zero must not panic.
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("a.gguf");
    let mut f = std::fs::File::create(&p).unwrap();
    let value = candle_core::quantized::gguf_file::Value::U32(0);
    candle_core::quantized::gguf_file::write(&mut f, &[("general.alignment", &value)], &[])
        .unwrap();
    drop(f);
    let models = t.path().join("models");
    let bytes = std::fs::read(&p).unwrap();
    let r = std::panic::catch_unwind(|| load_and_chat(&models, "a", &bytes));
    let err = format!("{:#}", r.unwrap().unwrap_err());
    assert!(err.contains("not a valid GGUF file"), "{err}");
}
