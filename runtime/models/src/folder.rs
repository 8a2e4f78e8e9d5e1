//! The models folder, in Jan's layout: `<data>/models/<id>/model.json` beside
//! the weights. Fields missing from model.json take defaults read from the
//! GGUF metadata, so a bare `.gguf` in a folder is a usable model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jan_assistant::{atomic_write, valid_id};
use serde_json::{Map, Value, json};

use crate::gguf::{Meta, read_header};

/// The largest context a model gets by default: bigger contexts cost memory
/// for rotary tables and the KV cache. `settings.ctx_len` overrides it.
pub const DEFAULT_MAX_CTX: usize = 4096;

/// One model folder, loaded and resolved.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub dir: PathBuf,
    pub weights: PathBuf,
    /// model.json with every default filled in.
    pub json: Value,
}

impl Entry {
    pub fn ctx_len(&self) -> usize {
        self.json["settings"]["ctx_len"]
            .as_u64()
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_MAX_CTX)
    }

    /// A template from model.json, when the GGUF has none.
    pub fn prompt_template(&self) -> Option<&str> {
        self.json["settings"]["prompt_template"].as_str()
    }

    pub fn parameters(&self) -> &Value {
        &self.json["parameters"]
    }

    /// Does this model produce embeddings rather than text?
    pub fn is_embedding(&self) -> bool {
        self.json["type"] == "embedding"
    }
}

/// Every model folder, each loaded on its own: one broken model does not
/// hide the others. Sorted by id.
pub fn list(models: &Path) -> Vec<(PathBuf, anyhow::Result<Entry>)> {
    let dirs = jan_assistant::subfolders(models);
    dirs.into_iter()
        .map(|d| {
            let e = load(&d);
            (d, e)
        })
        .collect()
}

/// Loads one model folder.
pub fn load(dir: &Path) -> anyhow::Result<Entry> {
    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = dir.join("model.json");
    let stored: Map<String, Value> = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => anyhow::bail!("{}: expected a JSON object", path.display()),
            Err(e) => anyhow::bail!(
                "{}:{}:{}: invalid JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(e) => anyhow::bail!("{}: cannot read: {e}", path.display()),
    };
    let id = match stored.get("id") {
        None => folder.clone(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => anyhow::bail!("{}: field `id` must be a string, got {v}", path.display()),
    };
    if !valid_id(&id) {
        anyhow::bail!("{}: field `id`: {id:?} is not a valid id", path.display());
    }
    if find_weights(dir, &stored).is_none() && crate::embed::is_embedding_dir(dir) {
        return embedding_entry(id, dir, stored);
    }
    let weights = find_weights(dir, &stored).with_context(|| {
        format!(
            "model '{id}': no .gguf weights (nor config.json, tokenizer.json and model.safetensors) in {}",
            dir.display()
        )
    })?;
    let defaults = gguf_defaults(&id, &weights)?;
    Ok(Entry {
        id,
        dir: dir.to_path_buf(),
        weights,
        json: merge(defaults, Value::Object(stored)),
    })
}

/// The defaults a GGUF file gives its model.json, remembered per file
/// (path, size and modification time): reading a header parses the whole
/// vocabulary, tens of milliseconds, and the API lists models on requests
/// that name none.
fn gguf_defaults(id: &str, weights: &Path) -> anyhow::Result<Value> {
    type Key = (String, PathBuf, u64, Option<std::time::SystemTime>);
    static CACHE: std::sync::LazyLock<std::sync::Mutex<HashMap<Key, Value>>> =
        std::sync::LazyLock::new(Default::default);
    let stat = std::fs::metadata(weights).with_context(|| format!("model '{id}'"))?;
    let key: Key = (
        id.to_string(),
        weights.to_path_buf(),
        stat.len(),
        stat.modified().ok(),
    );
    if let Some(v) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(v.clone());
    }
    let (content, _) = read_header(weights).with_context(|| format!("model '{id}'"))?;
    let meta = Meta(content.metadata);
    let v = defaults(id, weights, &meta, stat.len());
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, v.clone());
    Ok(v)
}

fn find_weights(dir: &Path, stored: &Map<String, Value>) -> Option<PathBuf> {
    let named = stored
        .get("sources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("filename").and_then(Value::as_str))
        .map(|f| dir.join(f))
        .find(|p| p.is_file() && p.starts_with(dir) && p.extension().is_some_and(|e| e == "gguf"));
    named.or_else(|| {
        let mut ggufs: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
            .collect();
        ggufs.sort();
        ggufs.into_iter().next()
    })
}

/// An embedding model: BERT-family safetensors with its tokenizer.json.
fn embedding_entry(id: String, dir: &Path, stored: Map<String, Value>) -> anyhow::Result<Entry> {
    let weights = crate::embed::weights(dir).context("no model.safetensors")?;
    let size = std::fs::metadata(&weights).map(|m| m.len()).unwrap_or(0);
    let arch = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|c| c["model_type"].as_str().map(String::from))
        .unwrap_or_else(|| "bert".into());
    let defaults = json!({
        "id": id,
        "object": "model",
        "name": id,
        "version": "1.0",
        "description": "",
        "format": "safetensors",
        "type": "embedding",
        "sources": [{"filename": "model.safetensors", "url": format!("file://{}", weights.display())}],
        "settings": {},
        "parameters": {},
        "metadata": {"author": "", "tags": [arch], "size": size},
        "engine": "candle",
        "created": std::fs::metadata(&weights).and_then(|m| m.modified()).ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs()).unwrap_or(0),
    });
    Ok(Entry {
        id,
        dir: dir.to_path_buf(),
        weights,
        json: merge(defaults, Value::Object(stored)),
    })
}

/// model.json as the GGUF metadata describes it.
fn defaults(id: &str, weights: &Path, meta: &Meta, size: u64) -> Value {
    let arch = meta.arch().unwrap_or_default();
    let ctx = meta
        .usize(&format!("{arch}.context_length"))
        .unwrap_or(2048)
        .min(DEFAULT_MAX_CTX);
    let filename = weights
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    json!({
        "id": id,
        "object": "model",
        "name": meta.str("general.name").map(str::to_string).unwrap_or_else(|_| id.to_string()),
        "version": "1.0",
        "description": meta.str("general.description").unwrap_or_default(),
        "format": "gguf",
        "sources": [{"filename": filename, "url": format!("file://{}", weights.display())}],
        "settings": {"ctx_len": ctx, "prompt_template": null},
        "parameters": {
            "temperature": 0.7, "top_p": 0.95, "top_k": 40, "max_tokens": 1024, "stop": [],
            "frequency_penalty": 0, "presence_penalty": 0,
        },
        "metadata": {
            "author": meta.str("general.organization").or_else(|_| meta.str("general.author")).unwrap_or_default(),
            "tags": [arch],
            "size": size,
        },
        "engine": "candle",
        "created": std::fs::metadata(weights).and_then(|m| m.modified()).ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs()).unwrap_or(0),
    })
}

/// `over` on top of `base`, objects merged key by key.
fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (_, over) => over,
    }
}

/// `jan models import`: copies (or links) a GGUF file into
/// `<models>/<id>/` and writes its model.json.
pub fn import(models: &Path, file: &Path, id: Option<&str>, link: bool) -> anyhow::Result<Entry> {
    let file = file
        .canonicalize()
        .with_context(|| format!("cannot read {}", file.display()))?;
    // Check it is a model before copying anything.
    let files: Vec<PathBuf> = if file.is_dir() {
        if !crate::embed::is_embedding_dir(&file) {
            anyhow::bail!(
                "{} is not a model folder (config.json, tokenizer.json, model.safetensors)",
                file.display()
            );
        }
        ["config.json", "tokenizer.json", "model.safetensors"]
            .iter()
            .map(|f| file.join(f))
            .collect()
    } else {
        let (content, _) = read_header(&file)?;
        let meta = Meta(content.metadata);
        crate::llama::Config::from_meta(&meta)?;
        vec![file.clone()]
    };
    let id = match id {
        Some(i) => i.to_string(),
        None => default_id(&file),
    };
    if !valid_id(&id) {
        anyhow::bail!(
            "{id:?} is not a valid model id (1 to 64 of A-Z, a-z, 0-9, '_', '-'); choose one with --id"
        );
    }
    let dir = models.join(&id);
    if dir.exists() {
        // Importing the same file again is a no-op, so scripts can repeat it.
        if let Ok(existing) = load(&dir) {
            let main = if file.is_dir() {
                file.join("model.safetensors")
            } else {
                file.clone()
            };
            let same = existing.weights.canonicalize().ok().as_deref() == Some(main.as_path())
                || existing.json["sources"][0]["url"] == format!("file://{}", main.display());
            if same {
                return Ok(existing);
            }
        }
        anyhow::bail!(
            "a model with id '{id}' already exists in {}",
            models.display()
        );
    }
    std::fs::create_dir_all(models)?;
    // Build the folder beside, then rename, so a failed copy leaves nothing.
    let tmp = models.join(format!(".import-{id}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let result = (|| -> anyhow::Result<()> {
        for f in &files {
            let target = tmp.join(f.file_name().context("no file name")?);
            if link {
                std::os::unix::fs::symlink(f, &target)?;
            } else {
                std::fs::copy(f, &target)?;
            }
        }
        let main = files.last().context("no files")?;
        let name = main.file_name().context("no file name")?;
        let manifest = json!({
            "id": id,
            "sources": [{"filename": name.to_string_lossy(), "url": format!("file://{}", main.display())}],
        });
        atomic_write(
            &tmp.join("model.json"),
            (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
        )?;
        std::fs::rename(&tmp, &dir)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    load(&dir)
}

/// A model id from a file name: `SmolLM2-135M-Instruct.Q4_1.gguf` →
/// `SmolLM2-135M-Instruct-Q4_1`.
fn default_id(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if id.is_empty() { "model".into() } else { id }
}

/// `jan models rm`.
pub fn remove(models: &Path, id: &str) -> anyhow::Result<()> {
    if !valid_id(id) {
        anyhow::bail!("no model '{id}'");
    }
    let dir = models.join(id);
    if !dir.is_dir() {
        anyhow::bail!("no model '{id}'");
    }
    // Rename first so a half-deleted folder is never seen as a model.
    let trash = models.join(format!(".rm-{id}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::rename(&dir, &trash)?;
    std::fs::remove_dir_all(&trash)?;
    Ok(())
}

/// `jan models pull`: downloads `file` from the Hugging Face repository
/// `repo` (with a progress bar) into `<models>/.downloads`, then installs it
/// like `import --link`. Needs a network; tests never call it.
pub fn pull(models: &Path, repo: &str, file: &str, id: Option<&str>) -> anyhow::Result<Entry> {
    let cache = models.join(".downloads");
    std::fs::create_dir_all(&cache)?;
    let api = hf_hub::api::sync::ApiBuilder::new()
        .with_cache_dir(cache)
        .with_progress(true)
        .build()
        .context("cannot start the Hugging Face client")?;
    let path = api
        .model(repo.to_string())
        .get(file)
        .with_context(|| format!("cannot download {file} from {repo}"))?;
    import(models, &path, id, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_file_names() {
        assert_eq!(
            default_id(Path::new("/x/SmolLM2-135M-Instruct.Q4_1.gguf")),
            "SmolLM2-135M-Instruct-Q4_1"
        );
    }

    #[test]
    fn merge_keeps_defaults_under_stored_fields() {
        let m = merge(
            json!({"a": 1, "s": {"x": 1, "y": 2}}),
            json!({"s": {"y": 3}, "b": 2}),
        );
        assert_eq!(m, json!({"a": 1, "s": {"x": 1, "y": 3}, "b": 2}));
    }
}
