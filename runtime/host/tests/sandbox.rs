//! The sandbox, tried as an attacker would: assistant code must not reach
//! the host's ops, read files outside its grants by any route, see or answer
//! another assistant's requests, or stall the others.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{EchoModels, ask, assistant, host};
use jan_events::{Bus, MAX_HOPS, Pattern};
use jan_host::Host;
use serde_json::{Value, json};

/// An assistant whose handler runs the JS in `body` (with `q`, the user's
/// text) and answers with what it returns, as JSON.
fn probe(root: &std::path::Path, name: &str, manifest: &str, body: &str) -> std::path::PathBuf {
    let code = format!(
        r#"import {{ events, assistant }} from "@janhq/core";
events.on("assistant:" + assistant.id, async (e) => {{
  const q = e.messages[e.messages.length - 1].content;
  const out = await (async () => {{ {body} }})();
  return JSON.stringify(out);
}});"#
    );
    assistant(
        root,
        name,
        &[("assistant.json", manifest), ("src/index.js", &code)],
    )
}

async fn ask_json(h: &Host, id: &str, q: &str) -> Value {
    let text = ask(h, id, q).await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn assistant_code_cannot_reach_the_ops() {
    let t = tempfile::tempdir().unwrap();
    let dir = probe(
        t.path(),
        "curious",
        "{}",
        r#"
  const found = [];
  const seen = new Set();
  // Everything reachable from the global object, two levels deep.
  const walk = (o, path, depth) => {
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o) || depth > 2) return;
    seen.add(o);
    for (const k of [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o)]) {
      let v; try { v = o[k]; } catch { continue; }
      const name = path + "." + String(k);
      if (typeof k === "string" && (k.startsWith("op_") || k === "ops" || k === "core")) found.push(name);
      walk(v, name, depth + 1);
    }
  };
  walk(globalThis, "globalThis", 0);
  const imports = [];
  for (const s of ["ext:core/ops", "ext:core/mod.js", "ext:jan_core/10_events.js", "ext:jan_core/99_main.js"]) {
    try { await import(s); imports.push(s + ": loaded"); } catch (e) { imports.push(s + ": refused"); }
  }
  return { deno: typeof Deno, found, imports };
"#,
    );
    let h = host();
    h.load(&dir).unwrap();
    let out = ask_json(&h, "curious", "x").await;
    assert_eq!(out["deno"], "undefined", "{out}");
    assert_eq!(out["found"], json!([]), "{out}");
    for line in out["imports"].as_array().unwrap() {
        assert!(line.as_str().unwrap().ends_with("refused"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn files_outside_the_folder_are_refused_through_every_route() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let secret = root.join("secret.js");
    std::fs::write(
        &secret,
        "export default 'TOP-SECRET'; module.exports = 'TOP-SECRET';",
    )
    .unwrap();
    std::fs::write(root.join("secret.json"), r#"{"s": "TOP-SECRET"}"#).unwrap();
    let dir = assistant(
        &root,
        "attacker",
        &[
            ("package.json", r#"{"type": "module"}"#),
            ("src/cjs.cjs", "module.exports = (p) => require(p);"),
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
import { createRequire } from "./req.js";
events.on("assistant:attacker", async (e) => {
  const spec = e.messages[0].content;
  const [how, target] = [spec.slice(0, spec.indexOf(" ")), spec.slice(spec.indexOf(" ") + 1)];
  try {
    let v;
    if (how === "import") v = await import(target);
    else if (how === "require") v = createRequire()(target);
    else if (how === "loader") v = globalThis[Symbol.for("jan.require")](target);
    return "LEAKED " + JSON.stringify(v);
  } catch (err) {
    return "refused: " + String(err.message ?? err);
  }
});"#,
            ),
            (
                "src/req.js",
                r#"import load from "./cjs.cjs"; export const createRequire = () => load;"#,
            ),
        ],
    );
    std::os::unix::fs::symlink(&secret, dir.join("src/link.js")).unwrap();
    std::os::unix::fs::symlink(&root, dir.join("src/up")).unwrap();
    let folder = dir.canonicalize().unwrap();
    let abs = secret.display().to_string();
    let dotted = format!("{}/src/../../secret.js", folder.display());
    let attempts = [
        "import ../../secret.js".to_string(),
        format!("import {abs}"),
        format!("import file://{abs}"),
        format!("import file://{dotted}"),
        format!("import file://{}/src/link.js", folder.display()),
        "import ./link.js".to_string(),
        "import ./up/secret.js".to_string(),
        "import ./up/secret.json".to_string(),
        "import file:///etc/passwd".to_string(),
        "import /proc/self/environ".to_string(),
        "require ../../secret.js".to_string(),
        format!("require {abs}"),
        "require ./link.js".to_string(),
        "require ./up/secret.json".to_string(),
        "require /etc/passwd".to_string(),
        format!("loader {dotted}"),
        format!("loader {abs}"),
        format!("loader {}/src/link.js", folder.display()),
        "loader /etc/passwd".to_string(),
        "loader /proc/self/environ".to_string(),
    ];
    let h = host();
    h.load(&dir).unwrap();
    for a in &attempts {
        let out = ask(&h, "attacker", a).await.unwrap();
        assert!(out.starts_with("refused: "), "{a}: {out}");
        assert!(
            !out.contains("TOP-SECRET") && !out.contains("root:"),
            "{a}: {out}"
        );
    }
    // The documented error names the grant.
    let out = ask(&h, "attacker", &format!("loader {abs}")).await.unwrap();
    assert!(out.contains("permissions.read"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_grant_lets_code_load_from_that_folder_only() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let shared = root.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("lib.js"), "export const answer = 42;").unwrap();
    std::fs::write(root.join("other.js"), "export const answer = 0;").unwrap();
    let manifest = json!({"permissions": {"read": [shared]}}).to_string();
    let dir = probe(
        &root,
        "granted",
        &manifest,
        r#"try { return (await import(q)).answer; } catch (e) { return String(e.message); }"#,
    );
    // A package linked into node_modules from the granted folder (pnpm,
    // workspaces) resolves to its real path there and loads.
    let pkg = shared.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        r#"{"name": "pkg", "main": "main.js"}"#,
    )
    .unwrap();
    std::fs::write(pkg.join("main.js"), "exports.answer = 7;").unwrap();
    std::fs::create_dir_all(dir.join("node_modules")).unwrap();
    std::os::unix::fs::symlink(&pkg, dir.join("node_modules/pkg")).unwrap();
    let h = host();
    h.load(&dir).unwrap();
    let ok = ask_json(
        &h,
        "granted",
        &format!("file://{}/lib.js", shared.display()),
    )
    .await;
    assert_eq!(ok, json!(42));
    let no = ask_json(
        &h,
        "granted",
        &format!("file://{}/other.js", root.display()),
    )
    .await;
    assert_eq!(ask_json(&h, "granted", "pkg").await, json!(7));
    assert!(no.as_str().unwrap().contains("not granted"), "{no}");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_private_and_only_their_assistant_answers() {
    let t = tempfile::tempdir().unwrap();
    let victim = assistant(
        t.path(),
        "victim",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
let requests = 0;
events.on("assistant:victim", async (e, meta) => {
  if (meta.source !== "host") return;
  requests++;
  await new Promise((r) => setTimeout(r, 200));
  return "real answer #" + requests + " to " + e.messages[0].content;
});"#,
        )],
    );
    let spy = probe(
        t.path(),
        "spy",
        "{}",
        r#"
  if (q === "listen") {
    globalThis.seen = [];
    events.on("*", (p, meta) => { globalThis.seen.push(meta.topic); });
    const refused = [];
    for (const p of ["assistant:victim", "assistant:*", "assistant:v*"]) {
      try { events.on(p, () => {}); refused.push(p + ": allowed"); } catch (e) { refused.push(e.message); }
    }
    return refused;
  }
  if (q === "forge") {
    // A fake request on the victim's topic: refused outright.
    try {
      events.emit("assistant:victim", { id: "req_forged", type: "message", messages: [{ role: "user", content: "forged" }] });
      return "sent";
    } catch (e) { return e.message; }
  }
  if (q === "many") {
    try { for (let i = 0; i < 2000; i++) events.on("t" + i, () => {}); return "all"; } catch (e) { return e.message; }
  }
  return globalThis.seen;
"#,
    );
    let h = host();
    h.load(&victim).unwrap();
    h.load(&spy).unwrap();
    let refused = ask_json(&h, "spy", "listen").await;
    for r in refused.as_array().unwrap() {
        let r = r.as_str().unwrap();
        assert!(
            r.contains("may not subscribe") && r.contains("assistant:<id>"),
            "{r}"
        );
    }
    let forged = ask_json(&h, "spy", "forge").await;
    assert!(
        forged
            .as_str()
            .unwrap()
            .contains("may not emit on 'assistant:victim'"),
        "{forged}"
    );
    let many = ask_json(&h, "spy", "many").await;
    assert!(
        many.as_str()
            .unwrap()
            .contains("more than 1024 topic patterns"),
        "{many}"
    );
    let answer = ask(&h, "victim", "the user's secret prompt").await.unwrap();
    assert_eq!(answer, "real answer #1 to the user's secret prompt");
    let seen = ask_json(&h, "spy", "report").await;
    assert!(
        !seen.to_string().contains("assistant:victim"),
        "the spy saw the victim's requests: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_grant_opens_another_assistants_topic() {
    let t = tempfile::tempdir().unwrap();
    let monitor = probe(
        t.path(),
        "monitor",
        r#"{"events": ["assistant:monitor", "assistant:worker"]}"#,
        r#"
  if (q === "watch") { globalThis.n = 0; events.on("assistant:worker", () => { globalThis.n++; }); return "ok"; }
  return globalThis.n;
"#,
    );
    let worker = assistant(
        t.path(),
        "worker",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("assistant:worker", () => "done");"#,
        )],
    );
    let h = host();
    h.load(&monitor).unwrap();
    h.load(&worker).unwrap();
    assert_eq!(ask_json(&h, "monitor", "watch").await, "ok");
    assert_eq!(ask(&h, "worker", "x").await.unwrap(), "done");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ask_json(&h, "monitor", "count").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_request_asks_another_assistant_and_loops_are_cut() {
    let t = tempfile::tempdir().unwrap();
    let doubler = assistant(
        t.path(),
        "doubler",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:doubler", (e) => String(Number(e.messages.at(-1).content) * 2));"#,
        )],
    );
    // No code: the default answer (the stand-in model echoes).
    let plain = assistant(t.path(), "plain", &[("assistant.json", "{}")]);
    let asker = probe(
        t.path(),
        "asker",
        "{}",
        r#"
  if (q === "double") return await events.request("assistant:doubler", "21");
  if (q === "plain") return await events.request("assistant:plain", { messages: [{ role: "user", content: "hi" }] });
  if (q === "self") {
    try { return await events.request("assistant:asker", "self"); } catch (e) { return e.message; }
  }
  if (q === "bad") {
    try { await events.request("thread.created", "x"); } catch (e) { return e.message; }
  }
  return "?";
"#,
    );
    let h = host();
    for d in [&doubler, &plain, &asker] {
        h.load(d).unwrap();
    }
    assert_eq!(ask_json(&h, "asker", "double").await, "42");
    let echoed = ask_json(&h, "asker", "plain").await;
    assert!(echoed.as_str().unwrap().starts_with("echo: hi"), "{echoed}");
    // The assistant asks itself, again and again: the chain is cut.
    let looped = ask_json(&h, "asker", "self").await;
    assert!(
        looped
            .as_str()
            .unwrap()
            .contains(&format!("more than {MAX_HOPS} requests")),
        "{looped}"
    );
    let bad = ask_json(&h, "asker", "bad").await;
    assert!(
        bad.as_str().unwrap().contains("not an assistant's topic"),
        "{bad}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_bouncing_between_assistants_die_out() {
    let t = tempfile::tempdir().unwrap();
    let ping = assistant(
        t.path(),
        "ping",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("ball.ping", (n) => events.emit("ball.pong", n + 1));"#,
        )],
    );
    let pong = assistant(
        t.path(),
        "pong",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("ball.pong", (n) => events.emit("ball.ping", n + 1));"#,
        )],
    );
    let h = host();
    h.load(&ping).unwrap();
    h.load(&pong).unwrap();
    // Both loaded and subscribed before the serve.
    let _ = ask(&h, "ping", "x").await;
    let _ = ask(&h, "pong", "x").await;
    let mut watch = h.bus().subscribe("test", Pattern::new("ball.*"));
    h.bus().emit("test-serve", "ball.ping", json!(0));
    let mut count = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(2), watch.recv()).await {
        count += 1;
        assert!(count <= MAX_HOPS as usize + 1, "the ball keeps bouncing");
    }
    assert!(count >= MAX_HOPS as usize - 1, "stopped early: {count}");

    // The count follows a handler through `await` and timers: an async
    // bounce dies out too.
    let slow = |name: &str, on: &str, to: &str| {
        let code = format!(
            r#"import {{ events }} from "@janhq/core"; events.on("{on}", async (n) => {{ await null; await new Promise((r) => setTimeout(r, 1)); events.emit("{to}", n + 1); }});"#
        );
        assistant(t.path(), name, &[("src/index.js", code.as_str())])
    };
    let (aping, apong) = (
        slow("aping", "aball.ping", "aball.pong"),
        slow("apong", "aball.pong", "aball.ping"),
    );
    h.load(&aping).unwrap();
    h.load(&apong).unwrap();
    let _ = ask(&h, "aping", "x").await;
    let _ = ask(&h, "apong", "x").await;
    let mut watch = h.bus().subscribe("test", Pattern::new("aball.*"));
    h.bus().emit("test-serve", "aball.ping", json!(0));
    let mut count = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(2), watch.recv()).await {
        count += 1;
        assert!(
            count <= MAX_HOPS as usize + 1,
            "the async ball keeps bouncing"
        );
    }
    assert!(count >= MAX_HOPS as usize - 1, "stopped early: {count}");

    // A request/reply loop written with `await` is not a bounce: it runs
    // far past the hop limit.
    let caller = assistant(
        t.path(),
        "caller",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
let waiting = null;
events.on("ball.ping", (n) => { if (waiting) { const w = waiting; waiting = null; w(n); } });
events.on("assistant:caller", async () => {
  let n = 0;
  for (let i = 0; i < 100; i++) {
    n = await new Promise((resolve) => { waiting = resolve; events.emit("ball.pong", i); });
  }
  return "rounds: 100, last: " + n;
});"#,
        )],
    );
    h.unload("ping");
    h.load(&caller).unwrap();
    assert_eq!(
        ask(&h, "caller", "go").await.unwrap(),
        "rounds: 100, last: 100"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_is_dropped_not_queued_and_the_flooded_assistant_recovers() {
    let t = tempfile::tempdir().unwrap();
    let flooder = assistant(
        t.path(),
        "flooder",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:flooder", () => { for (let i = 0; i < 20000; i++) events.emit("flood", { i, pad: "x".repeat(100) }); return "sent"; });"#,
        )],
    );
    let sink = assistant(
        t.path(),
        "sink",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
let got = 0;
events.on("flood", () => { got++; const end = Date.now() + 1; while (Date.now() < end) {} });
events.on("assistant:sink", () => "got " + got);"#,
        )],
    );
    let h = host();
    h.load(&flooder).unwrap();
    h.load(&sink).unwrap();
    let _ = ask(&h, "sink", "x").await.unwrap();
    assert_eq!(ask(&h, "flooder", "go").await.unwrap(), "sent");
    let dropped = h.bus().dropped("sink");
    assert!(dropped > 10_000, "dropped {dropped}");
    // Its queue drains; then it answers again, having seen what fit.
    let mut answer = Err(String::new());
    for _ in 0..50 {
        answer = ask(&h, "sink", "count?").await;
        if answer.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got: u64 = answer.unwrap()["got ".len()..].parse().unwrap();
    assert_eq!(got + dropped, 20_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_load_that_never_ends_is_stopped_and_holds_nobody_up() {
    let t = tempfile::tempdir().unwrap();
    let stuck = assistant(
        t.path(),
        "stuck",
        &[
            ("assistant.json", r#"{"limits": {"timeout_ms": 30000}}"#),
            ("src/index.js", "while (true) {}"),
        ],
    );
    let short = assistant(
        t.path(),
        "short",
        &[
            ("assistant.json", r#"{"limits": {"timeout_ms": 1000}}"#),
            ("src/index.js", "for (;;) {}"),
        ],
    );
    let fine = assistant(
        t.path(),
        "fine",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("assistant:fine", () => "fine");"#,
        )],
    );
    let h = host();
    h.load(&stuck).unwrap();
    h.load(&short).unwrap();
    h.load(&fine).unwrap();
    let started = Instant::now();
    assert_eq!(ask(&h, "fine", "x").await.unwrap(), "fine");
    // At most the start-up grace (3 s), not the stuck one's 30 s budget.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let err = ask(&h, "short", "x").await.unwrap_err();
    assert!(
        err.contains("did not finish loading its modules within its time budget of 1000 ms"),
        "{err}"
    );
    // It stays failed (no restart loop) and says so at once.
    let again = Instant::now();
    let err2 = ask(&h, "short", "x").await.unwrap_err();
    assert_eq!(err, err2);
    assert!(again.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn code_that_fails_to_load_fails_the_request_instead_of_the_default_answer() {
    let t = tempfile::tempdir().unwrap();
    let broken = assistant(
        t.path(),
        "broken",
        &[
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
events.on("assistant:broken", () => "never");
import "./dep.js";"#,
            ),
            (
                "src/dep.js",
                "throw new ReferenceError('Response is not defined');",
            ),
        ],
    );
    let h = host();
    h.load(&broken).unwrap();
    let err = ask(&h, "broken", "hi").await.unwrap_err();
    assert!(err.contains("Response is not defined"), "{err}");
    assert!(!err.contains("echo:"), "{err}");
}

/// A model that takes its time: a fault injected to tell the assistant's
/// own work from time spent waiting on a model.
struct SlowModels;

impl jan_host::ModelProvider for SlowModels {
    fn list(&self) -> Vec<Value> {
        vec![json!({"id": "slow", "object": "model"})]
    }
    fn check(&self, _: &Value) -> Result<(), jan_host::models::BadParam> {
        Ok(())
    }
    fn chat(&self, _: Value) -> jan_host::models::ChatStream {
        let (tx, stream) = jan_host::models::ChatStream::channel();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let done = jan_host::models::Completion::text("slow", "slow answer");
            tx.send(jan_host::models::ChatEvent::Done(done));
        });
        stream
    }
    fn embed(
        &self,
        _: String,
        _: Vec<String>,
    ) -> jan_host::models::BoxFuture<anyhow::Result<jan_host::models::Embeddings>> {
        Box::pin(async { anyhow::bail!("no embeddings") })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_time_budget_counts_the_code_not_the_model() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "patient",
        &[
            ("assistant.json", r#"{"limits": {"timeout_ms": 800}}"#),
            (
                "src/index.js",
                r#"import { events, models } from "@janhq/core";
events.on("assistant:patient", async (e) => {
  if (e.messages[0].content === "spin") { for (;;) {} }
  const r = await models[0].chat({ messages: e.messages });
  return r.choices[0].message.content;
});"#,
            ),
        ],
    );
    let h = Host::new(Bus::new(), Arc::new(SlowModels));
    h.load(&dir).unwrap();
    // 2.5 s waiting on the model, within an 800 ms budget of work.
    assert_eq!(ask(&h, "patient", "hi").await.unwrap(), "slow answer");
    // Its own loop still hits the budget.
    let err = ask(&h, "patient", "spin").await.unwrap_err();
    assert!(err.contains("time budget of 800 ms"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn process_env_holds_only_granted_variables() {
    let t = tempfile::tempdir().unwrap();
    let dir = probe(
        t.path(),
        "envy",
        r#"{"permissions": {"env": ["PATH", "JAN_SURELY_UNSET_VAR"]}}"#,
        "return process.env;",
    );
    let h = Host::new(Bus::new(), Arc::new(EchoModels));
    h.load(&dir).unwrap();
    let env = ask_json(&h, "envy", "x").await;
    let expected = json!({"PATH": std::env::var("PATH").unwrap()});
    assert_eq!(env, expected);
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn the_heap_limit_bounds_the_process_memory() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "hog",
        &[
            (
                "assistant.json",
                r#"{"limits": {"heap_mb": 64, "timeout_ms": 30000}}"#,
            ),
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
events.on("assistant:hog", (e) => {
  if (e.messages[0].content !== "eat") return "fine";
  const a = [];
  for (;;) a.push(new Array(1e5).fill("x" + a.length));
});"#,
            ),
        ],
    );
    let h = host();
    h.load(&dir).unwrap();
    let err = ask(&h, "hog", "eat").await.unwrap_err();
    assert!(err.contains("heap limit"), "{err}");
    // 64 MB of heap and a margin; the whole test process, other tests
    // included, stays far below what a doubling limit reached (2 GB).
    let peak = peak_rss_mb();
    assert!(peak < 700, "peak RSS {peak} MB");
    assert_eq!(ask(&h, "hog", "ok?").await.unwrap(), "fine");
}

/// node:fs goes through the same grants as `import`, for every op and
/// every path form: `..`, absolute paths, `file:` URLs, Buffers, links
/// into and out of the granted folder. Removing or renaming a link acts on
/// the link, never on what it points to.
#[tokio::test(flavor = "multi_thread")]
async fn node_fs_is_held_to_the_grants_through_every_op() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::write(root.join("secret.txt"), "TOP-SECRET").unwrap();
    let dir = probe(
        &root,
        "filer",
        r#"{"permissions": {"write": ["./state"]}}"#,
        r#"
  const fs = await import("node:fs");
  const { Buffer } = await import("node:buffer");
  const [op, ...args] = JSON.parse(q);
  const arg = (a) => (a && a.url ? new URL(a.url) : a && a.buf ? Buffer.from(a.buf) : a);
  try {
    const v = fs[op](...args.map(arg));
    return { ok: v === undefined ? null : typeof v === "string" || typeof v === "boolean" ? v : Buffer.isBuffer(v) ? v.toString() : Array.isArray(v) ? v.map(String) : "value" };
  } catch (e) {
    return { err: e.code ?? null, message: e.message };
  }
"#,
    );
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::write(dir.join("state/own.txt"), "mine").unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), dir.join("state/out-link")).unwrap();
    std::os::unix::fs::symlink(&root, dir.join("state/up")).unwrap();
    std::os::unix::fs::symlink(dir.join("state/own.txt"), dir.join("state/in-link")).unwrap();
    let folder = dir.canonicalize().unwrap();
    let secret = root.join("secret.txt").display().to_string();
    let h = host();
    h.load(&dir).unwrap();
    let call = |q: Value| {
        let h = &h;
        async move { ask_json(h, "filer", &q.to_string()).await }
    };

    let refused_reads = [
        json!(["readFileSync", "../secret.txt"]),
        json!(["readFileSync", secret]),
        json!(["readFileSync", {"url": format!("file://{secret}")}]),
        json!(["readFileSync", {"buf": "../secret.txt"}]),
        json!(["readFileSync", "state/out-link"]),
        json!(["readFileSync", "state/up/secret.txt"]),
        json!([
            "readFileSync",
            format!("{}/state/../../secret.txt", folder.display())
        ]),
        json!(["readFileSync", "/etc/passwd"]),
        json!(["readFileSync", "/proc/self/environ"]),
        json!(["readdirSync", ".."]),
        json!(["readdirSync", "state/up"]),
        json!(["statSync", secret]),
        json!(["existsSync", secret]),
        json!(["realpathSync", "state/up"]),
        json!(["copyFileSync", secret, "state/copy.txt"]),
        json!(["createReadStream", "../secret.txt"]),
    ];
    for q in refused_reads {
        let v = call(q.clone()).await;
        let text = v.to_string();
        assert!(!text.contains("TOP-SECRET"), "{q}: {text}");
        if q[0] == "existsSync" {
            assert_eq!(v["ok"], json!(false), "{q}: {v}");
        } else if q[0] != "createReadStream" {
            assert_eq!(v["err"], json!("ERR_ACCESS_DENIED"), "{q}: {v}");
            assert!(
                v["message"].as_str().unwrap().contains("is not granted"),
                "{q}: {v}"
            );
        }
    }
    // Writes need permissions.write: the assistant's own folder is only
    // readable, and nothing outside the grant can be changed.
    let refused_writes = [
        json!(["writeFileSync", "notes.txt", "x"]),
        json!(["writeFileSync", "../planted.txt", "x"]),
        json!(["writeFileSync", "state/out-link", "overwritten"]),
        json!(["writeFileSync", "state/up/planted.txt", "x"]),
        json!(["appendFileSync", secret, "x"]),
        json!(["mkdirSync", "../made"]),
        json!(["rmSync", "src", {"recursive": true}]),
        json!(["unlinkSync", secret]),
        json!(["renameSync", "state/own.txt", "../stolen.txt"]),
        json!(["renameSync", secret, "state/stolen.txt"]),
        json!(["rmSync", "state/up/secret.txt"]),
    ];
    for q in refused_writes {
        let v = call(q.clone()).await;
        assert_eq!(v["err"], json!("ERR_ACCESS_DENIED"), "{q}: {v}");
        assert!(
            v["message"].as_str().unwrap().contains("permissions.write"),
            "{q}: {v}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "TOP-SECRET"
    );
    assert!(!root.join("planted.txt").exists() && !root.join("stolen.txt").exists());
    assert!(dir.join("src/index.js").exists());

    // Inside the grant everything works, and a link is removed as a link.
    assert_eq!(
        call(json!(["readFileSync", "state/in-link", "utf8"])).await["ok"],
        json!("mine")
    );
    assert_eq!(
        call(json!(["writeFileSync", "state/new.txt", "hi"])).await["ok"],
        json!(null)
    );
    assert_eq!(
        call(json!(["unlinkSync", "state/out-link"])).await["ok"],
        json!(null)
    );
    assert!(!dir.join("state/out-link").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "TOP-SECRET"
    );
    assert_eq!(call(json!(["rmSync", "state/up"])).await["ok"], json!(null));
    assert!(root.join("secret.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("state/new.txt")).unwrap(),
        "hi"
    );
}

/// One assistant cannot pile up unanswered requests to another: at most 64
/// wait at once; the rest fail at once with a clear error.
#[tokio::test(flavor = "multi_thread")]
async fn open_requests_between_assistants_are_capped() {
    let t = tempfile::tempdir().unwrap();
    let silent = assistant(
        t.path(),
        "silent",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; events.on("assistant:silent", () => new Promise(() => {}));"#,
        )],
    );
    let asker = probe(
        t.path(),
        "asker",
        r#"{"events": ["assistant:asker", "assistant:silent"]}"#,
        r#"
  const all = await Promise.allSettled(Array.from({ length: 70 }, () => events.request("assistant:silent", "hi", { timeout: 1500 })));
  return all.map((r) => (r.status === "rejected" ? String(r.reason.message) : "answered"));
"#,
    );
    let h = host();
    h.load(&silent).unwrap();
    h.load(&asker).unwrap();
    let out = ask_json(&h, "asker", "go").await;
    let out: Vec<String> = serde_json::from_value(out).unwrap();
    let capped = out
        .iter()
        .filter(|m| m.contains("at most 64 requests"))
        .count();
    assert_eq!(capped, 6, "{out:?}");
    assert!(out.iter().all(|m| m != "answered"), "{out:?}");
}

/// The same through the real Candle provider (SmolLM2 from
/// tests/get-models.sh): a handler awaiting a generation far longer than
/// its 50 ms budget of JS work gets its answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_time_budget_counts_the_code_not_a_real_generation() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.is_file(),
        "{} is missing: run tests/get-models.sh",
        model.display()
    );
    let t = tempfile::tempdir().unwrap();
    let models = t.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    jan_models::folder::import(&models, &model, Some("smollm2"), true).unwrap();
    let engine = jan_models::Engine::new(models, Duration::from_secs(600));
    let dir = assistant(
        t.path(),
        "waiter",
        &[
            ("assistant.json", r#"{"limits": {"timeout_ms": 50}}"#),
            (
                "src/index.js",
                r#"import { events, models } from "@janhq/core";
events.on("assistant:waiter", async (e) => {
  const r = await models[0].chat({ messages: e.messages, max_tokens: 256, ignore_eos: true, temperature: 0 });
  return String(r.usage.completion_tokens);
});"#,
            ),
        ],
    );
    let h = Host::new(Bus::new(), Arc::new(jan_models::Provider(engine)));
    h.load(&dir).unwrap();
    // 256 tokens were generated while the handler waited (seconds on this
    // machine, against 50 ms of budget), and the answer came back.
    let answer = ask(&h, "waiter", "Count to a thousand.").await.unwrap();
    assert_eq!(answer, "256");
}
