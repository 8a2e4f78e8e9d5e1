//! Module loading (npm packages, CommonJS, TypeScript, JSON) and the web
//! globals that npm packages expect.

mod common;

use common::{ask, assistant, host};
use serde_json::{Value, json};

/// An assistant with three small npm packages installed: ESM-only, CommonJS,
/// and one with conditional `exports`.
fn npm_assistant(root: &std::path::Path) -> std::path::PathBuf {
    assistant(
        root,
        "npm",
        &[
            ("package.json", r#"{"name": "npm-test", "type": "module"}"#),
            // ESM only.
            (
                "node_modules/esm-only/package.json",
                r#"{"name": "esm-only", "type": "module", "exports": "./index.js"}"#,
            ),
            (
                "node_modules/esm-only/index.js",
                r#"export const shout = (s) => s.toUpperCase() + "!"; export default "esm default";"#,
            ),
            // CommonJS, no "type", with a nested require and a JSON file.
            (
                "node_modules/cjs-pkg/package.json",
                r#"{"name": "cjs-pkg", "main": "lib/main.js", "version": "1.2.3"}"#,
            ),
            (
                "node_modules/cjs-pkg/lib/main.js",
                r#"const helper = require("./helper");
const pkg = require("../package.json");
exports.add = (a, b) => helper.twice(a) / 2 + b;
exports.version = pkg.version;
module.exports.where = __filename.endsWith("lib/main.js");"#,
            ),
            (
                "node_modules/cjs-pkg/lib/helper.js",
                "module.exports = { twice: (x) => x * 2 };",
            ),
            // Whole-object CommonJS export, default-imported.
            (
                "node_modules/cjs-default/index.js",
                "module.exports = function greet(n) { return 'hello ' + n; };",
            ),
            // Conditional exports with a subpath.
            (
                "node_modules/@scope/cond/package.json",
                r#"{"name": "@scope/cond", "exports": {
            ".": {"import": "./esm.mjs", "require": "./cjs.cjs"},
            "./extra": {"default": "./extra.js"}}}"#,
            ),
            (
                "node_modules/@scope/cond/esm.mjs",
                r#"export const flavor = "import";"#,
            ),
            (
                "node_modules/@scope/cond/cjs.cjs",
                r#"exports.flavor = "require";"#,
            ),
            (
                "node_modules/@scope/cond/extra.js",
                r#"export const extra = 42;"#,
            ),
            // A CommonJS package that requires the conditional one.
            (
                "node_modules/uses-cond/index.js",
                r#"module.exports = require("@scope/cond").flavor;"#,
            ),
            ("src/data.json", r#"{"answer": 7}"#),
            (
                "src/util.ts",
                "export function tag(s: string): string { return `<${s}>`; }",
            ),
            (
                "src/index.ts",
                r#"import { events } from "@janhq/core";
import esmDefault, { shout } from "esm-only";
import { add, version, where } from "cjs-pkg";
import cjsWhole from "cjs-pkg";
import greet from "cjs-default";
import { flavor } from "@scope/cond";
import { extra } from "@scope/cond/extra";
import viaRequire from "uses-cond";
import data from "./data.json" with { type: "json" };
import { tag } from "./util";
events.on("assistant:npm", () => JSON.stringify({
  esmDefault, shout: shout("hey"), add: add(2, 3), version, where,
  whole: typeof cjsWhole.add, greet: greet("jan"), flavor, extra, viaRequire,
  data: data.answer, tag: tag("x"),
}));
"#,
            ),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn npm_packages_esm_cjs_and_conditional_exports() {
    let t = tempfile::tempdir().unwrap();
    let dir = npm_assistant(t.path());
    let h = host();
    h.load(&dir).unwrap();
    let v: Value = serde_json::from_str(&ask(&h, "npm", "x").await.unwrap()).unwrap();
    assert_eq!(
        v,
        json!({
            "esmDefault": "esm default", "shout": "HEY!", "add": 5, "version": "1.2.3", "where": true,
            "whole": "function", "greet": "hello jan", "flavor": "import", "extra": 42,
            "viaRequire": "require", "data": 7, "tag": "<x>",
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_package_names_the_package_the_importer_and_the_fix() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "missing",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core"; import pad from "left-pad"; events.on("assistant:missing", () => pad);"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let err = ask(&h, "missing", "x").await.unwrap_err();
    assert!(err.contains("'left-pad'"), "{err}");
    assert!(err.contains("index.js"), "{err}");
    assert!(err.contains("npm install"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_builtins_and_files_outside_the_folder_are_refused() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("secret.js"), "export const s = 1;").unwrap();
    let dir = assistant(
        t.path(),
        "sandbox",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:sandbox", async (e) => {
  try { await import(e.messages[0].content); return "loaded"; } catch (err) { return String(err.message ?? err); }
});"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    // Node's built-ins load; one jan does not have is refused by name.
    assert_eq!(ask(&h, "sandbox", "node:fs").await.unwrap(), "loaded");
    let wasi = ask(&h, "sandbox", "node:wasi").await.unwrap();
    assert!(
        wasi.contains("'wasi' is not available in jan assistants"),
        "{wasi}"
    );
    let outside = ask(&h, "sandbox", "../../secret.js").await.unwrap();
    assert!(
        outside.contains("outside the assistant folder"),
        "{outside}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn web_globals_work() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "globals",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:globals", async () => {
  const out = {};
  const u = new URL("../b?x=1&y=two#frag", "https://example.com:8080/a/c");
  u.searchParams.append("z", "3 4");
  out.url = [u.href, u.host, u.pathname, u.search, u.hash, u.origin];
  out.invalidUrl = URL.canParse("not a url");
  out.params = new URLSearchParams({ a: "1", b: "x y" }).toString();
  out.encoded = Array.from(new TextEncoder().encode("h\u00e9"));
  const dec = new TextDecoder();
  const bytes = new TextEncoder().encode("\u20ac");
  out.decodedStream = dec.decode(bytes.subarray(0, 2), { stream: true }) + dec.decode(bytes.subarray(2));
  out.b64 = [btoa("hello"), atob("aGVsbG8=")];
  const rnd = crypto.getRandomValues(new Uint8Array(16));
  out.random = rnd.length === 16 && rnd.some((b) => b !== 0);
  out.uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID());
  const original = { a: [1, { b: 2 }], d: new Date(0) };
  const clone = structuredClone(original);
  out.clone = clone.a[1].b === 2 && clone !== original && clone.a !== original.a;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 20));
  out.waited = performance.now() - t0 >= 15;
  let ticks = 0;
  await new Promise((r) => { const id = setInterval(() => { if (++ticks === 3) { clearInterval(id); r(); } }, 1); });
  out.ticks = ticks;
  let cleared = true;
  clearTimeout(setTimeout(() => { cleared = false; }, 1));
  await new Promise((r) => setTimeout(r, 10));
  out.cleared = cleared;
  const order = [];
  queueMicrotask(() => order.push("micro"));
  order.push("sync");
  await null;
  out.micro = order.join(",");
  const ac = new AbortController();
  let aborted = null;
  ac.signal.addEventListener("abort", () => { aborted = ac.signal.reason.name; });
  ac.abort();
  out.abort = [ac.signal.aborted, aborted];
  const target = new EventTarget();
  let got = null;
  target.addEventListener("ping", (e) => { got = e.type; });
  target.dispatchEvent(new Event("ping"));
  out.eventTarget = got;
  console.log("console works", { nested: [1, 2] });
  return JSON.stringify(out);
});"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let v: Value = serde_json::from_str(&ask(&h, "globals", "x").await.unwrap()).unwrap();
    assert_eq!(
        v["url"],
        json!([
            "https://example.com:8080/b?x=1&y=two&z=3+4#frag",
            "example.com:8080",
            "/b",
            "?x=1&y=two&z=3+4",
            "#frag",
            "https://example.com:8080"
        ])
    );
    assert_eq!(v["invalidUrl"], false);
    assert_eq!(v["params"], "a=1&b=x+y");
    assert_eq!(v["encoded"], json!([104, 195, 169]));
    assert_eq!(v["decodedStream"], "\u{20ac}");
    assert_eq!(v["b64"], json!(["aGVsbG8=", "hello"]));
    assert_eq!(v["random"], true);
    assert_eq!(v["uuid"], true);
    assert_eq!(v["clone"], true);
    assert_eq!(v["waited"], true);
    assert_eq!(v["ticks"], 3);
    assert_eq!(v["cleared"], true);
    assert_eq!(v["micro"], "sync,micro");
    assert_eq!(v["abort"], json!([true, "AbortError"]));
    assert_eq!(v["eventTarget"], "ping");
}

#[tokio::test(flavor = "multi_thread")]
async fn process_and_socket_builtins_import_but_throw_when_used() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "uses-net",
        &[
            ("package.json", r#"{"type": "module"}"#),
            (
                "src/old.cjs",
                r#"const { Worker } = require("worker_threads"); const cp = require("node:child_process");
module.exports = { Worker, cp };"#,
            ),
            (
                "src/index.js",
                r#"import { events } from "@janhq/core";
import net from "node:net";
import { spawn } from "child_process";
import tls from "tls";
import old from "./old.cjs";
events.on("assistant:uses-net", () => {
  const out = [];
  for (const f of [() => spawn("ls"), () => new net.Socket(), () => tls.connect(443), () => new old.Worker("x.js"), () => old.cp.execSync("id")]) {
    try { f(); out.push("ran"); } catch (e) { out.push(e.message); }
  }
  return JSON.stringify(out);
});"#,
            ),
        ],
    );
    let h = host();
    h.load(&dir).unwrap();
    let out: Vec<String> = serde_json::from_str(&ask(&h, "uses-net", "x").await.unwrap()).unwrap();
    assert_eq!(out.len(), 5);
    for (m, what) in out.iter().zip([
        "node:child_process",
        "node:net",
        "node:tls",
        "node:worker_threads",
        "node:child_process",
    ]) {
        assert!(
            m.starts_with(what) && m.contains("is not available in jan assistants"),
            "{m}"
        );
    }
}

/// Intl formats with each locale's CLDR data (the engine alone formats
/// every locale like "en"), and refuses what it cannot do by name.
#[tokio::test(flavor = "multi_thread")]
async fn intl_honours_locales() {
    let t = tempfile::tempdir().unwrap();
    let dir = assistant(
        t.path(),
        "intl",
        &[(
            "src/index.js",
            r#"import { events } from "@janhq/core";
events.on("assistant:intl", () => {
  const when = new Date(Date.UTC(2020, 5, 26, 9, 5));
  let refused = null;
  try { new Intl.DateTimeFormat("en", { timeZone: "America/New_York" }); } catch (e) { refused = e.message; }
  return JSON.stringify({
    de: Intl.NumberFormat("de-DE").format(1234.5),
    eur: new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(1234.5),
    date: when.toLocaleDateString("de-DE", { weekday: "long", year: "numeric", month: "long", day: "numeric", timeZone: "UTC" }),
    sorted: ["b", "\u00e4", "a"].sort(new Intl.Collator("de").compare),
    plural: new Intl.PluralRules("pl").select(5),
    words: [...new Intl.Segmenter("en", { granularity: "word" }).segment("to be, or")].filter((s) => s.isWordLike).length,
    refused,
  });
});"#,
        )],
    );
    let h = host();
    h.load(&dir).unwrap();
    let v: serde_json::Value = serde_json::from_str(&ask(&h, "intl", "x").await.unwrap()).unwrap();
    assert_eq!(v["de"], "1.234,5");
    assert_eq!(v["eur"], "1.234,50\u{a0}€");
    assert_eq!(v["date"], "Freitag, 26. Juni 2020");
    assert_eq!(v["sorted"], serde_json::json!(["a", "ä", "b"]));
    assert_eq!(v["plural"], "many");
    assert_eq!(v["words"], 3);
    assert!(
        v["refused"].as_str().unwrap().contains("America/New_York"),
        "{v}"
    );
}
