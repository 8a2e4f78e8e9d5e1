//! `jan new`: a new assistant folder that runs as it is and type-checks in
//! an editor.

use std::path::Path;

use anyhow::Context;
use jan_assistant::valid_id;

const TYPES: &str = include_str!("../../../js-prelude/janhq-core.d.ts");

const INDEX_TS: &str = r#"import { events, models, assistant } from "@janhq/core";
import type { RequestEvent } from "@janhq/core";

// Requests to this assistant arrive on `assistant:<id>`. Return a string,
// `{ content }`, or an async iterable of strings to stream.
events.on(`assistant:${assistant.id}`, async (event: RequestEvent) => {
  // The model the caller chose (`jan run --model`, a run's `model`), else
  // the first this assistant may use.
  const model = event.model ? models.get(event.model) : models[0];
  if (event.model && !model) {
    throw new Error(`model '${event.model}' is not available to ${assistant.id}`);
  }
  if (!model) {
    const last = event.messages[event.messages.length - 1];
    return `No model is installed yet. You said: ${last?.content ?? ""}`;
  }
  // The instructions (assistant.json's, or the run's) lead as the system
  // message.
  const messages = event.instructions
    ? [{ role: "system" as const, content: event.instructions }, ...event.messages]
    : event.messages;
  return model.stream({ messages });
});
"#;

pub fn new_assistant(folder: &Path) -> anyhow::Result<()> {
    let name = folder
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if !valid_id(&name) {
        anyhow::bail!("'{name}' is not a valid assistant id (1 to 64 of A-Z, a-z, 0-9, '_', '-')");
    }
    if folder.exists() {
        anyhow::bail!("{} already exists", folder.display());
    }
    let src = folder.join("src");
    std::fs::create_dir_all(&src).with_context(|| format!("cannot create {}", src.display()))?;
    let manifest = serde_json::json!({
        "name": name,
        "description": null,
        "models": "*",
        "instructions": "You are a helpful assistant.",
        "events": "*",
        "metadata": {},
    });
    let package = serde_json::json!({
        "name": name,
        "private": true,
        "type": "module",
        "dependencies": {},
    });
    let files: [(&str, String); 4] = [
        (
            "assistant.json",
            serde_json::to_string_pretty(&manifest)? + "\n",
        ),
        (
            "package.json",
            serde_json::to_string_pretty(&package)? + "\n",
        ),
        ("src/index.ts", INDEX_TS.to_string()),
        ("src/janhq-core.d.ts", TYPES.to_string()),
    ];
    for (rel, text) in files {
        let path = folder.join(rel);
        jan_assistant::atomic_write(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "Created {}. Run it with: jan run {}",
        folder.display(),
        folder.display()
    );
    Ok(())
}
