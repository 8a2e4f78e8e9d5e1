//! Bounded fuzzing (proptest) of assistant.json: any text, and objects of
//! the known fields with values of any type, load without a panic; what
//! loads writes back and loads again the same; `permissions.net` entries
//! of any text parse or are refused. Shared assistants come from strangers.

use jan_assistant::{Assistant, NetGrant, write_manifest};
use proptest::prelude::*;
use serde_json::{Map, Value};

const FIELDS: &[&str] = &[
    "id",
    "name",
    "object",
    "version",
    "models",
    "model",
    "events",
    "metadata",
    "instructions",
    "description",
    "tools",
    "permissions",
    "timeout_ms",
    "heap_mb",
    "response_format",
    "temperature",
    "top_p",
    "created_at",
    "background",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Numbers as people write them: serde_json (without its
        // float_roundtrip feature) reads more than 15 significant digits
        // only to within one unit in the last place.
        (-1e9..1e9f64).prop_map(|x| Value::from((x * 1e3).round() / 1e3)),
        prop_oneof![
            Just("*".to_string()),
            Just("..".to_string()),
            Just("/etc".to_string()),
            Just("example.com:443".to_string()),
            Just("jan".to_string()),
            Just("host".to_string()),
            ".{0,12}"
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(FIELDS).prop_map(String::from),
                    Just("net".to_string()),
                    Just("read".to_string()),
                    Just("write".to_string()),
                    Just("env".to_string()),
                    Just("parameters".to_string()),
                    "[a-z_]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn manifest() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::btree_map(prop::sample::select(FIELDS), json(), 0..8).prop_map(|m| {
            let obj: Map<String, Value> = m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            Value::Object(obj).to_string()
        }),
        1 => ".{0,64}",
        1 => (json(), any::<prop::sample::Index>()).prop_map(|(v, i)| {
            // Cut short, as a torn write would leave it.
            let s = v.to_string();
            let mut end = i.index(s.len() + 1).min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_string()
        }),
    ]
}

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

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn any_assistant_json_loads_or_is_refused_and_round_trips(text in manifest()) {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("assistant.json"), &text).unwrap();
        match Assistant::load(&dir) {
            Err(e) => prop_assert!(e.to_string().contains("assistant.json") || e.to_string().contains(&*dir.to_string_lossy()), "{e}"),
            Ok(a) => {
                prop_assert!(jan_assistant::valid_id(&a.id));
                write_manifest(&a.dir, &a.manifest).unwrap();
                let again = Assistant::load(&dir).unwrap();
                prop_assert_eq!(again.resolved(), a.resolved());
            }
        }
    }

    #[test]
    fn any_net_grant_parses_or_is_refused(s in ".{0,40}") {
        if let Some(g) = NetGrant::parse(&s) {
            prop_assert!(!g.host.is_empty());
            prop_assert!(!g.host.contains('/') && !g.host.contains(' '), "{s:?} -> {g:?}");
        }
    }
}
