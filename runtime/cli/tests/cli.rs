//! Drives the real `jan` binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::json;

fn jan(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jan"));
    cmd.args(args)
        .env("JAN_DATA_FOLDER", data)
        .env_remove("JAN_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn echo_example() -> String {
    repo()
        .join("assistants/examples/echo")
        .display()
        .to_string()
}

#[test]
fn run_with_a_prompt_prints_the_reply() {
    let data = tempfile::tempdir().unwrap();
    let out = jan(
        data.path(),
        &["run", &echo_example(), "--prompt", "hello there"],
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "echo: hello there\n",
        "{}",
        text(&out.stderr)
    );
    assert!(out.status.success());
    // The data folder was prepared, with the bundled assistant.
    assert!(data.path().join("assistants/jan/assistant.json").is_file());
}

#[test]
fn run_reads_one_turn_from_piped_stdin() {
    let data = tempfile::tempdir().unwrap();
    let out = jan(
        data.path(),
        &["run", &echo_example()],
        Some("from a pipe\n"),
    );
    assert_eq!(
        text(&out.stdout),
        "echo: from a pipe\n",
        "{}",
        text(&out.stderr)
    );
    assert!(out.status.success());
}

#[test]
fn errors_are_one_line_on_stderr_with_a_failing_exit() {
    let data = tempfile::tempdir().unwrap();
    let missing = jan(
        data.path(),
        &["run", "/no/such/assistant", "--prompt", "x"],
        None,
    );
    assert!(!missing.status.success());
    let err = text(&missing.stderr);
    assert!(
        err.starts_with("jan: ") && err.contains("/no/such/assistant"),
        "{err}"
    );
    assert!(err.contains("no such file or folder"), "{err}");
    assert!(!err.contains("os error"), "said twice: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let bad = data.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("assistant.json"), "{\n  \"models\": 5\n}").unwrap();
    let out = jan(
        data.path(),
        &["run", bad.to_str().unwrap(), "--prompt", "x"],
        None,
    );
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("assistant.json:2:") && err.contains("field `models`"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn run_reaches_the_data_folders_assistants_on_request() {
    let data = tempfile::tempdir().unwrap();
    let helper = data.path().join("assistants/helper/src");
    std::fs::create_dir_all(&helper).unwrap();
    std::fs::write(
        helper.join("index.js"),
        r#"import { events } from "@janhq/core";
events.on("assistant:helper", (e) => "helper heard: " + e.messages[0].content);"#,
    )
    .unwrap();
    let asker = data.path().join("asker");
    std::fs::create_dir_all(asker.join("src")).unwrap();
    std::fs::write(
        asker.join("src/index.js"),
        r#"import { events } from "@janhq/core";
events.on("assistant:asker", async (e) => "asker got: " + await events.request("assistant:helper", e.messages[0].content, { timeout: 20000 }));"#,
    )
    .unwrap();
    let out = jan(
        data.path(),
        &["run", asker.to_str().unwrap(), "--prompt", "hello"],
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "asker got: helper heard: hello\n",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_default_assistant_says_how_to_get_a_model() {
    let data = tempfile::tempdir().unwrap();
    let jan_dir = repo().join("assistants/jan");
    let out = jan(
        data.path(),
        &["run", jan_dir.to_str().unwrap(), "--prompt", "hi"],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no model is installed") && err.contains("jan models import"),
        "{err}"
    );
}

#[test]
fn new_scaffolds_an_assistant_that_runs_and_lists() {
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().join("assistants/helper");
    let out = jan(data.path(), &["new", folder.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in [
        "assistant.json",
        "package.json",
        "src/index.ts",
        "src/janhq-core.d.ts",
    ] {
        assert!(folder.join(f).is_file(), "{f}");
    }
    let out = jan(
        data.path(),
        &["run", folder.to_str().unwrap(), "--prompt", "ping"],
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "No model is installed yet. You said: ping\n",
        "{}",
        text(&out.stderr)
    );
    let again = jan(data.path(), &["new", folder.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    let out = jan(data.path(), &["assistants", "list", "--json"], None);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, vec!["helper", "jan"]);
    let out = jan(data.path(), &["assistants", "list"], None);
    let table = text(&out.stdout);
    assert!(table.contains("Jan"), "{table}");
    // The grants are shown; a new assistant has none.
    assert!(
        table.lines().next().unwrap().ends_with("PERMISSIONS"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("helper") && l.ends_with("none")),
        "{table}"
    );
    let granted = json!({"permissions": {"net": ["api.example.com"], "env": ["MY_KEY"]}});
    std::fs::write(folder.join("assistant.json"), granted.to_string()).unwrap();
    let out = jan(data.path(), &["assistants", "list"], None);
    let table = text(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("helper") && l.ends_with("net=api.example.com env=MY_KEY")),
        "{table}"
    );
}

#[test]
fn console_output_goes_to_stderr_tagged_with_the_assistant() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("talker");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/index.js"),
        r#"import { events } from "@janhq/core";
console.log("loaded", { ok: true });
events.on("assistant:talker", () => "reply");"#,
    )
    .unwrap();
    let out = jan(
        data.path(),
        &["run", dir.to_str().unwrap(), "--prompt", "x"],
        None,
    );
    assert_eq!(text(&out.stdout), "reply\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("talker") && err.contains("loaded { ok: true }"),
        "{err}"
    );
}

#[test]
fn models_import_list_rm_and_the_default_assistant_answers_with_smollm2() {
    let model = repo().join(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.is_file(),
        "{} is missing: run tests/get-models.sh",
        model.display()
    );
    let data = tempfile::tempdir().unwrap();
    let out = jan(
        data.path(),
        &["models", "import", model.to_str().unwrap(), "--link"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("SmolLM2-135M-Instruct-Q4_1"));
    let out = jan(data.path(), &["models", "list"], None);
    assert!(
        text(&out.stdout).contains("SmolLM2-135M-Instruct-Q4_1"),
        "{}",
        text(&out.stdout)
    );

    // The bundled assistant, set to greedy decoding through its per-model
    // parameter overrides so the answer is reproducible.
    let jan_dir = data.path().join("assistants/jan");
    let manifest = json!({
        "name": "Jan",
        "instructions": "You are Jan, a helpful assistant running locally on the user's computer. Answer concisely.",
        "models": [{"id": "SmolLM2-135M-Instruct-Q4_1", "parameters": {"temperature": 0}}],
    });
    std::fs::write(jan_dir.join("assistant.json"), manifest.to_string()).unwrap();
    let out = jan(
        data.path(),
        &[
            "run",
            jan_dir.to_str().unwrap(),
            "--prompt",
            "What is the capital of France? Answer in one word.",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Paris"), "{}", text(&out.stdout));

    // A mistyped --model names the models that are there.
    let out = jan(
        data.path(),
        &[
            "run",
            jan_dir.to_str().unwrap(),
            "--model",
            "typo",
            "--prompt",
            "hi",
        ],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("model 'typo' is not available") && err.contains("SmolLM2-135M-Instruct-Q4_1"),
        "{err}"
    );

    // `jan new`'s template uses the chosen model and the instructions.
    let helper = data.path().join("helper");
    assert!(
        jan(data.path(), &["new", helper.to_str().unwrap()], None)
            .status
            .success()
    );
    let manifest = json!({"instructions": "Answer with the single word: Paris."});
    std::fs::write(helper.join("assistant.json"), manifest.to_string()).unwrap();
    let out = jan(
        data.path(),
        &[
            "run",
            helper.to_str().unwrap(),
            "--model",
            "SmolLM2-135M-Instruct-Q4_1",
            "--prompt",
            "Which word were you told to answer with?",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).trim().is_empty());
    let out = jan(
        data.path(),
        &[
            "run",
            helper.to_str().unwrap(),
            "--model",
            "typo",
            "--prompt",
            "hi",
        ],
        None,
    );
    assert!(
        text(&out.stderr).contains("model 'typo' is not available"),
        "{}",
        text(&out.stderr)
    );

    let out = jan(
        data.path(),
        &["models", "rm", "SmolLM2-135M-Instruct-Q4_1"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = jan(
        data.path(),
        &["models", "rm", "SmolLM2-135M-Instruct-Q4_1"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no model"));
    // The linked source file is untouched.
    assert!(model.is_file());
}

/// Assistant code reaches the real models: embeddings from MiniLM, and a
/// JSON answer constrained by a schema from Qwen, through `models[i]`.
#[test]
fn assistant_code_embeds_and_gets_structured_answers_from_real_models() {
    let cache = repo().join(".cache/models");
    let data = tempfile::tempdir().unwrap();
    for m in [
        "all-MiniLM-L6-v2",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ] {
        let path = cache.join(m);
        assert!(
            path.exists(),
            "{} is missing: run tests/get-models.sh",
            path.display()
        );
        let out = jan(
            data.path(),
            &["models", "import", path.to_str().unwrap(), "--link"],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let dir = data.path().join("assistants/probe");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/index.js"),
        r#"import { events, models } from "@janhq/core";
events.on("assistant:probe", async () => {
  const [a, b, c] = await models.get("all-MiniLM-L6-v2").embed(["a cat sat on the mat", "a kitten sat on the rug", "stock markets fell today"]);
  const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0);
  const r = await models.get("qwen2-5-coder-0-5b-instruct-q4_k_m").chat({
    messages: [{ role: "user", content: "The capital of France, as JSON." }],
    temperature: 0, max_tokens: 40,
    response_format: { type: "json_schema", json_schema: { name: "city", schema: {
      type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false } } },
  });
  const city = JSON.parse(r.choices[0].message.content).city;
  return JSON.stringify({ dims: a.length, closer: dot(a, b) > dot(a, c), city });
});"#,
    )
    .unwrap();
    let out = jan(
        data.path(),
        &["run", dir.to_str().unwrap(), "--prompt", "go"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(got["dims"], 384);
    assert_eq!(got["closer"], true);
    assert!(got["city"].as_str().unwrap().contains("Paris"), "{got}");
}

/// `jan run` on an assistant whose code registers tools: the model calls
/// one, the host runs it, and the answer uses its result.
#[test]
fn run_uses_tools_registered_in_assistant_code() {
    let qwen = repo().join(".cache/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    assert!(
        qwen.is_file(),
        "{} is missing: run tests/get-models.sh",
        qwen.display()
    );
    let data = tempfile::tempdir().unwrap();
    let out = jan(
        data.path(),
        &["models", "import", qwen.to_str().unwrap(), "--link"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = repo().join("tests/assistants/weather-tools");
    let out = jan(
        data.path(),
        &[
            "run",
            dir.to_str().unwrap(),
            "--prompt",
            "What is the weather in Paris?",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("[tool get_weather(") && err.contains("\"temperature_c\":14"),
        "{err}"
    );
    assert!(text(&out.stdout).contains("14"), "{}", text(&out.stdout));
}
