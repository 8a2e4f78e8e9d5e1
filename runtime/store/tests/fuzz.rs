//! Bounded fuzzing (proptest) of the message log reader: whatever bytes a
//! crash, a full disk or a careless editor leaves in `messages.jsonl`, the
//! thread still reads (whole lines that are messages are served, the rest
//! skipped) and the next append is not lost.

use jan_store::Store;
use proptest::prelude::*;
use serde_json::{Value, json};

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

/// Lines of a log: real messages, deletions, replacements, other JSON,
/// garbage, torn lines, odd bytes.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (0..6u8, ".{0,20}").prop_map(|(id, text)| {
            json!({"id": format!("msg_{id}"), "content": text}).to_string().into_bytes()
        }),
        1 => (0..6u8).prop_map(|id| json!({"id": format!("msg_{id}"), "deleted": true}).to_string().into_bytes()),
        1 => prop_oneof![
            Just(b"[]".to_vec()),
            Just(b"null".to_vec()),
            Just(b"{\"id\": 5}".to_vec()),
            Just(b"{\"id\": null, \"deleted\": true}".to_vec()),
            Just(b"\"msg_1\"".to_vec()),
            Just(b"{\"id\": \"msg_1\", \"deleted\": \"yes\"}".to_vec()),
        ],
        1 => prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn any_log_reads_and_the_next_append_is_kept(
        lines in prop::collection::vec(line(), 0..12),
        newline_at_end in any::<bool>(),
    ) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let id = s.create_thread(Value::Null, Value::Null).unwrap()["id"].as_str().unwrap().to_string();
        let mut bytes = lines.join(&b'\n');
        if newline_at_end {
            bytes.push(b'\n');
        }
        std::fs::write(root.join(&id).join("messages.jsonl"), &bytes).unwrap();

        let read = s.messages(&id).unwrap();
        for m in &read {
            prop_assert!(m["id"].is_string(), "{m}");
            prop_assert!(m["deleted"] != true);
        }
        let ids: Vec<&Value> = read.iter().map(|m| &m["id"]).collect();
        let mut unique = ids.clone();
        unique.dedup();
        prop_assert_eq!(ids.len(), unique.len());

        s.put_message(&id, &json!({"id": "msg_new", "content": "kept"})).unwrap();
        let again = Store::open(&root).unwrap().messages(&id).unwrap();
        prop_assert_eq!(&again.last().unwrap()["content"], "kept");
        // What was served before is served after: an append never
        // swallows a readable line, nor revives a garbage one.
        let before: Vec<&Value> = read.iter().collect();
        let after: Vec<&Value> = again[..again.len() - 1].iter().collect();
        prop_assert_eq!(before, after);
    }
}
