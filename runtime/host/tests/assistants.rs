//! The assistant runtime end to end: real isolates, real module loading.

mod common;

use std::time::{Duration, Instant};

use common::{ask, assistant, host, user};
use jan_events::Pattern;
use jan_host::TurnEvent;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_answers_with_its_return_value() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "echo",
        &[(
            "src/index.js",
            r#"import { events, assistant } from "@janhq/core";
events.on(`assistant:${assistant.id}`, (e) => "you said " + e.messages.at(-1).content);"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    assert_eq!(ask(&h, "echo", "hi").await.unwrap(), "you said hi");
    assert_eq!(ask(&h, "echo", "again").await.unwrap(), "you said again");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_example_works_as_written() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "seed",
        &[
            (
                "assistant.json",
                r#"{"id": "asst_abc123", "instructions": "Be brief."}"#,
            ),
            (
                "src/index.js",
                r#"import {events, models} from "@janhq/core"
events.on('assistant:asst_abc123', async (event) => {
    const result = await models[0].process(event)
    events.emit("assistant:asst_abc123", result)
})
"#,
            ),
        ],
    );
    let h = host();
    // Someone else on the bus sees the answer too.
    let mut watcher = h
        .bus()
        .subscribe("watcher", Pattern::new("assistant:asst_abc123"));
    h.load(&dir).unwrap();
    let answer = ask(&h, "asst_abc123", "hello").await.unwrap();
    assert_eq!(answer, "echo: hello [system: Be brief.] [model: echo-1]");
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), watcher.recv()).await {
        seen.push(e);
    }
    assert!(
        seen.iter()
            .any(|e| e.source == "host" && e.payload["type"] == "message")
    );
    assert!(
        seen.iter()
            .any(|e| e.source == "asst_abc123" && e.payload == json!(answer))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assistant_without_code_answers_with_its_first_model() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "plain",
        &[(
            "assistant.json",
            r#"{"instructions": "Speak softly.", "models": [{"id": "echo-2", "parameters": {"temperature": 0.25}}]}"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let answer = ask(&h, "plain", "hi").await.unwrap();
    assert_eq!(
        answer,
        "echo: hi [system: Speak softly.] [temperature: 0.25] [model: echo-2]"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn streaming_replies_arrive_in_pieces() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "streamer",
        &[(
            "src/index.ts",
            r#"import { events, models } from "@janhq/core";
async function* count(n: number): AsyncGenerator<string> {
  for (let i = 1; i <= n; i++) { await new Promise((r) => setTimeout(r, 5)); yield `${i} `; }
}
events.on("assistant:streamer", (e: { messages: { content: string }[] }) =>
  e.messages[0].content === "model" ? models[0].stream({ messages: e.messages }) : count(3));
"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let mut a = h.ask("streamer", user("count")).await.unwrap();
    let mut pieces = Vec::new();
    while let Some(r) = a.next().await {
        pieces.push(r);
    }
    assert_eq!(
        pieces,
        vec![
            TurnEvent::Text("1 ".into()),
            TurnEvent::Text("2 ".into()),
            TurnEvent::Text("3 ".into()),
            TurnEvent::Done("1 2 3 ".into()),
        ]
    );
    let mut a = h.ask("streamer", user("model")).await.unwrap();
    let mut deltas = 0;
    let mut done = String::new();
    while let Some(r) = a.next().await {
        match r {
            TurnEvent::Text(_) => deltas += 1,
            TurnEvent::Done(t) => done = t,
            TurnEvent::Error(e) => panic!("{e}"),
            _ => {}
        }
    }
    assert!(deltas > 1);
    assert_eq!(done, "echo: model [model: echo-1]");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_assistants_talk_over_the_bus() {
    let t = tempfile::tempdir().unwrap();
    let b = assistant(
        t.path(),
        "b",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("questions.for.b", (q) => events.emit("answers.from.b", { n: q.n * 2 }));"#,
        )],
    );
    let a = assistant(
        t.path(),
        "a",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:a", async (e) => {
  const answer = events.once("answers.from.b");
  events.emit("questions.for.b", { n: Number(e.messages[0].content) });
  return "b says " + (await answer).n;
});"#,
        )],
    );
    let h = host();
    h.load(&b).unwrap();
    h.load(&a).unwrap();
    assert_eq!(ask(&h, "a", "21").await.unwrap(), "b says 42");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_is_terminated_while_others_keep_answering() {
    let t = tempfile::tempdir().unwrap();
    let looping = assistant(
        t.path(),
        "looping",
        &[
            ("assistant.json", r#"{"limits": {"timeout_ms": 1500}}"#),
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
events.on("assistant:looping", (e) => { if (e.messages[0].content === "spin") { for (;;) {} } return "fine"; });"#,
            ),
        ],
    );
    let other = assistant(
        t.path(),
        "other",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("assistant:other", () => "still here");"#,
        )],
    );
    let h = host();
    h.load(&looping).unwrap();
    h.load(&other).unwrap();
    let started = Instant::now();
    let spinning = tokio::spawn({
        let h = h.clone();
        async move { ask(&h, "looping", "spin").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ask(&h, "other", "x").await.unwrap(), "still here");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the other assistant was blocked"
    );
    let err = spinning.await.unwrap().unwrap_err();
    assert!(err.contains("time budget of 1500 ms"), "{err}");
    // Restarted: it answers again.
    assert_eq!(ask(&h, "looping", "ok?").await.unwrap(), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exception_becomes_an_error_reply_with_a_typescript_stack() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "thrower",
        &[(
            "src/index.ts",
            "import { events } from \"@janhq/core\";\n\
interface Turn {\n  messages: { content: string }[];\n}\n\
type Unused = { a: number };\n\
function explode(turn: Turn): never {\n  throw new Error(`bad input: ${turn.messages[0].content}`);\n}\n\
events.on(\"assistant:thrower\", (e: Turn) => {\n  if (e.messages[0].content === \"ok\") return \"fine\";\n  explode(e);\n});\n",
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let mut a = h.ask("thrower", user("boom")).await.unwrap();
    let Some(TurnEvent::Error(jan_host::TurnError { message, stack, .. })) = a.next().await else {
        panic!("expected an error")
    };
    assert_eq!(message, "bad input: boom");
    // `throw` is on line 7 of index.ts; the emitted JS has no types, so an
    // unmapped trace would name another line.
    assert!(stack.contains("index.ts:7:"), "{stack}");
    // The runtime survives.
    assert_eq!(ask(&h, "thrower", "ok").await.unwrap(), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn hot_reload_uses_the_new_code_on_the_next_request() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "hot",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("assistant:hot", () => "v1");"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    assert_eq!(ask(&h, "hot", "x").await.unwrap(), "v1");
    std::fs::write(
        dir.join("src/index.js"),
        r#"import { events } from "@janhq/core"; events.on("assistant:hot", () => "version two");"#,
    )
    .unwrap();
    assert_eq!(ask(&h, "hot", "x").await.unwrap(), "version two");
    std::fs::write(dir.join("assistant.json"), r#"{"name": "Renamed"}"#).unwrap();
    assert_eq!(h.assistant("hot").unwrap().name, "Renamed");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_outside_the_grant_throw_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "limited",
        &[
            (
                "assistant.json",
                r#"{"events": ["assistant:limited", "allowed.*"]}"#,
            ),
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
events.on("allowed.x", () => {});
events.on("assistant:limited", (e) => {
  const what = e.messages[0].content;
  try {
    if (what === "emit") events.emit("secret.topic", 1);
    else events.on("secret.*", () => {});
    return "no error";
  } catch (err) { return err.message; }
});"#,
            ),
        ],
    );
    let h = host();
    h.load(&dir).unwrap();
    let e = ask(&h, "limited", "emit").await.unwrap();
    assert!(e.contains("may not emit on 'secret.topic'"), "{e}");
    let e = ask(&h, "limited", "on").await.unwrap();
    assert!(e.contains("may not subscribe to 'secret.*'"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn models_in_js_list_chat_stream_and_embed() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "m",
        &[
            (
                "assistant.json",
                r#"{"models": ["echo-2", {"id": "echo-1", "parameters": {"temperature": 0.5}}]}"#,
            ),
            (
                "src/index.js",
                r#"import { events, models } from "@janhq/core";
events.on("assistant:m", async () => {
  const chat = await models.get("echo-1").chat({ messages: [{ role: "user", content: "q" }] });
  const overridden = await models.get("echo-1").chat({ messages: [{ role: "user", content: "q" }], temperature: 0.9 });
  let streamed = "";
  for await (const d of models[0].stream({ messages: [{ role: "user", content: "s" }] })) streamed += d;
  const emb = await models[0].embed(["abc", "de"]);
  let missing;
  try { await models[0].chat({ messages: [], model: "x" }); } catch (e) { missing = e.message; }
  return JSON.stringify({
    ids: models.list().map((m) => m.id),
    chat: chat.choices[0].message.content,
    overridden: overridden.choices[0].message.content,
    streamed, emb, unknown: models.get("nope") === undefined,
  });
});"#,
            ),
        ],
    );
    let h = host();
    h.load(&dir).unwrap();
    let v: serde_json::Value = serde_json::from_str(&ask(&h, "m", "go").await.unwrap()).unwrap();
    // In the order assistant.json lists them.
    assert_eq!(v["ids"], json!(["echo-2", "echo-1"]));
    assert_eq!(v["chat"], "echo: q [temperature: 0.5] [model: echo-1]");
    assert_eq!(
        v["overridden"],
        "echo: q [temperature: 0.9] [model: echo-1]"
    );
    assert_eq!(v["streamed"], "echo: s [model: echo-2]");
    assert_eq!(v["emb"], json!([[3, 1], [2, 1]]));
    assert_eq!(v["unknown"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_background_module_runs_beside_the_handlers() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "bg",
        &[
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
export let ticks = 0;
events.on("bg.tick", () => { ticks++; });
events.on("assistant:bg", () => "index loaded");"#,
            ),
            (
                "src/process.js",
                r#"import { events } from "@janhq/core";
let n = 0;
const timer = setInterval(() => { events.emit("bg.heartbeat", { n: ++n }); if (n === 3) clearInterval(timer); }, 10);"#,
            ),
        ],
    );
    let h = host();
    let mut beats = h.bus().subscribe("test", Pattern::new("bg.heartbeat"));
    h.load(&dir).unwrap();
    for n in 1..=3 {
        let e = tokio::time::timeout(Duration::from_secs(5), beats.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.payload, json!({ "n": n }));
    }
    assert_eq!(ask(&h, "bg", "x").await.unwrap(), "index loaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn load_errors_name_the_file() {
    let t = tempfile::tempdir().unwrap();
    let bad = assistant(t.path(), "bad", &[("assistant.json", "{\"name\": 3}")]);
    let err = host().load(&bad).unwrap_err().to_string();
    assert!(
        err.contains("assistant.json:1:") && err.contains("field `name`"),
        "{err}"
    );
    let bad_id = assistant(
        t.path(),
        "badid",
        &[("assistant.json", r#"{"id": "../../etc"}"#)],
    );
    let err = host().load(&bad_id).unwrap_err().to_string();
    assert!(err.contains("not a valid id"), "{err}");
    let syntax = assistant(t.path(), "syntax", &[("src/index.js", "export const = ;")]);
    let h = host();
    h.load(&syntax).unwrap();
    let err = ask(&h, "syntax", "x").await.unwrap_err();
    assert!(
        err.contains("failed to start") && err.contains("index.js"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_answer_skips_embedding_models() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(t.path(), "bare", &[]);
    let h = host();
    h.load(&dir).unwrap();
    // All models are allowed; the first installed one is an embedding model.
    let answer = ask(&h, "bare", "hi").await.unwrap();
    assert_eq!(answer, "echo: hi [model: echo-1]");
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_register_checks_names_and_schemas_and_unregisters() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "toolbox",
        &[(
            "src/index.js",
            r#"import { events, tools } from "@janhq/core";
const errors = [];
for (const [name, spec, fn] of [
  ["bad name", {}, () => 1],
  ["ok", { parameters: "not a schema" }, () => 1],
  ["ok", { description: 7 }, () => 1],
  ["ok", {}, "not a function"],
]) {
  try { tools.register(name, spec, fn); } catch (e) { errors.push(e.constructor.name + ": " + e.message); }
}
const off = tools.register("add", { description: "Adds", parameters: { type: "object", properties: { a: { type: "number" } } } }, ({ a }) => a + 1);
tools.register("keep", {}, () => "kept");
off();
events.on("assistant:toolbox", () => JSON.stringify({ errors, names: tools.list() }));"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&ask(&h, "toolbox", "x").await.unwrap()).unwrap();
    let errors: Vec<&str> = got["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(
        errors[0].starts_with("TypeError") && errors[0].contains("name"),
        "{errors:?}"
    );
    assert!(errors[1].contains("parameters"), "{errors:?}");
    assert!(errors[2].contains("description"), "{errors:?}");
    assert!(errors[3].contains("fn must be a function"), "{errors:?}");
    assert_eq!(got["names"], json!(["keep"]));
    let listed = h.registered_tools("toolbox").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["function"]["name"], "keep");
}

/// A model that calls the first offered tool, every time (fault injection
/// for the turn loop: the real-model path is in tests/api/test_tools.py).
struct AlwaysCalls;

impl jan_host::ModelProvider for AlwaysCalls {
    fn list(&self) -> Vec<serde_json::Value> {
        vec![json!({"id": "caller", "object": "model"})]
    }

    fn check(&self, _: &serde_json::Value) -> Result<(), jan_host::models::BadParam> {
        Ok(())
    }

    fn chat(&self, request: serde_json::Value) -> jan_host::models::ChatStream {
        use jan_host::models::{ChatEvent, ChatStream, Completion, Finish, ToolCall, Usage};
        let name = request["tools"][0]["function"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let seen = request["messages"].as_array().map_or(0, Vec::len);
        let mut done = Completion::text("caller", "");
        done.tool_calls = vec![ToolCall {
            id: format!("call_{seen}"),
            name,
            arguments: "{\"n\": 1}".into(),
        }];
        done.finish = Finish::ToolCalls;
        done.usage = Usage {
            prompt_tokens: 1,
            completion_tokens: 1,
            cached_tokens: 0,
        };
        ChatStream::of(vec![ChatEvent::Done(done)])
    }

    fn embed(
        &self,
        _: String,
        _: Vec<String>,
    ) -> jan_host::models::BoxFuture<anyhow::Result<jan_host::models::Embeddings>> {
        Box::pin(async { Ok(Default::default()) })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_turn_loop_runs_registered_tools_privately_and_stops_after_its_round_limit() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "looper",
        &[(
            "src/index.js",
            r#"import { tools } from "@janhq/core";
let calls = 0;
tools.register("ping", { parameters: { type: "object", properties: { n: { type: "number" } } } }, ({ n }) => ({ calls: (calls += n) }));"#,
        )],
    );
    let h = jan_host::Host::new(jan_events::Bus::new(), std::sync::Arc::new(AlwaysCalls));
    let mut watcher = h.bus().subscribe("watcher", Pattern::new("*"));
    h.load(&dir).unwrap();
    let mut answer = h.ask("looper", user("go")).await.unwrap();
    let mut outputs = Vec::new();
    let error = loop {
        match answer.next().await.unwrap() {
            TurnEvent::ToolsRan(ran) => outputs.push(ran[0].output.clone()),
            TurnEvent::Error(e) => break e.message,
            TurnEvent::Done(t) => panic!("answered {t:?}"),
            _ => {}
        }
    };
    assert!(error.contains("called tools 8 times"), "{error}");
    assert_eq!(outputs.len(), 8);
    assert_eq!(outputs[7], "{\"calls\":8}");
    // The calls went to the isolate directly: nothing about them is on
    // the bus for others to see.
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), watcher.recv()).await {
        assert_ne!(e.payload["type"], "tool_call", "{:?}", e.payload);
    }
}
