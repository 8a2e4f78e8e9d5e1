//! Assistant folders and the data folder.
//!
//! An assistant is a folder with an optional `assistant.json` (every field
//! optional) and optional code in `src/index.{js,mjs,ts,mts}`. This crate
//! reads and validates `assistant.json`, fills in the defaults, keeps unknown
//! fields when it rewrites the file, and lays out the data folder
//! (`models/`, `threads/`, `assistants/`).

mod data;
mod fsutil;
mod record;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use data::{DataDir, subfolders};
pub use fsutil::atomic_write;
pub use record::{ReadError, UnreadableRecord, read_json, read_json_object, warn_once};

/// The default time budget for one request to an assistant's code.
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// The default heap limit of one assistant's isolate.
pub const DEFAULT_HEAP_MB: u64 = 256;

/// Why an assistant could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a `#[source]`: the message already says it, and a chain would
    /// print the OS error twice.
    #[error("{path}: {}", io_message(.error))]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot read: {e}"),
    }
}

/// Is `id` a valid assistant (or model, thread…) id? `[A-Za-z0-9_-]{1,64}`:
/// ids become folder names, so anything that could escape a folder is refused.
/// Event sources that are jan itself: no assistant may take these ids (an
/// assistant's events carry its id as their source, and the host's
/// requests and tool calls are told apart by theirs).
pub const RESERVED_IDS: &[&str] = &["host", "api", "cli"];

pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `"*"` or an explicit list.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AllOr<T> {
    #[default]
    All,
    List(Vec<T>),
}

impl<T: Serialize> Serialize for AllOr<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AllOr::All => s.serialize_str("*"),
            AllOr::List(list) => list.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for AllOr<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = AllOr<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"*\" or a list")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v == "*" {
                    Ok(AllOr::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(AllOr::List)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// One entry of `models`: a model id, or an id with parameter overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModelRef {
    Id(String),
    WithParameters {
        id: String,
        #[serde(default)]
        parameters: Map<String, Value>,
    },
}

impl ModelRef {
    pub fn id(&self) -> &str {
        match self {
            ModelRef::Id(id) | ModelRef::WithParameters { id, .. } => id,
        }
    }

    pub fn parameters(&self) -> Option<&Map<String, Value>> {
        match self {
            ModelRef::Id(_) => None,
            ModelRef::WithParameters { parameters, .. } => Some(parameters),
        }
    }
}

/// `limits` in assistant.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heap_mb: Option<u64>,
}

/// `permissions` in assistant.json: what the assistant's code may reach
/// besides reading its own folder. Nothing else is allowed (Deno's model:
/// deny by default). The host enforces them; this is the file's view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Permissions {
    /// Hosts (`api.example.com`, `127.0.0.1:1337`, `[::1]:8080`) that
    /// `fetch` and the like may connect to. Without a port, any port.
    #[serde(default)]
    pub net: Vec<String>,
    /// Files and folders it may read, relative to the assistant folder
    /// unless absolute.
    #[serde(default)]
    pub read: Vec<String>,
    /// Files and folders it may write (and read), likewise.
    #[serde(default)]
    pub write: Vec<String>,
    /// Environment variables it may see in `process.env`.
    #[serde(default)]
    pub env: Vec<String>,
}

impl Permissions {
    /// A grant that can never match anything is a mistake worth reporting.
    fn validate(&self) -> Result<(), String> {
        for (field, list) in [
            ("net", &self.net),
            ("read", &self.read),
            ("write", &self.write),
            ("env", &self.env),
        ] {
            if list.iter().any(|e| e.trim().is_empty()) {
                return Err(format!("field `permissions.{field}`: an entry is empty"));
            }
        }
        for n in &self.net {
            if NetGrant::parse(n).is_none() {
                return Err(format!(
                    "field `permissions.net`: {n:?} is not a host or host:port (no scheme, no path)"
                ));
            }
        }
        Ok(())
    }

    /// `read` (or `write`) grants as absolute paths; relative ones are
    /// taken from `dir`. Not resolved: links are followed at each check.
    pub fn paths(&self, dir: &Path, write: bool) -> Vec<PathBuf> {
        let list = if write { &self.write } else { &self.read };
        list.iter().map(|p| dir.join(p)).collect()
    }

    pub fn net_grants(&self) -> Vec<NetGrant> {
        self.net.iter().filter_map(|n| NetGrant::parse(n)).collect()
    }
}

/// One `permissions.net` entry: a host name or address, and maybe a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    /// Lowercase; IPv6 addresses without brackets.
    pub host: String,
    pub port: Option<u16>,
}

impl NetGrant {
    pub fn parse(s: &str) -> Option<NetGrant> {
        let s = s.trim();
        if s.contains("://") || s.contains('/') || s.contains('@') || s.is_empty() {
            return None;
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']')?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':')?.parse().ok()?),
            };
            (h.to_string(), port)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p.parse().ok()?)),
                Some(_) => (s.to_string(), None), // a bare IPv6 address
                None => (s.to_string(), None),
            }
        };
        // A name (letters, digits, `-`, `_`, `.`) or an address: anything
        // else could never match a connection.
        let name = |h: &str| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if host.is_empty() || !(name(&host) || host.parse::<std::net::IpAddr>().is_ok()) {
            return None;
        }
        Some(NetGrant {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Does this grant cover a connection to `host:port`?
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.host.eq_ignore_ascii_case(host) && self.port.is_none_or(|p| p == port)
    }
}

/// The typed view of assistant.json. Fields not named here stay in `extra`
/// and are written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub created_at: Option<u64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub models: Option<AllOr<ModelRef>>,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub events: Option<AllOr<String>>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A loaded assistant: its folder and its resolved manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Assistant {
    pub dir: PathBuf,
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub manifest: Manifest,
}

impl Assistant {
    /// Loads the assistant in `dir`. A missing assistant.json is an
    /// assistant made only of defaults.
    pub fn load(dir: &Path) -> Result<Assistant, LoadError> {
        let dir = dir.canonicalize().map_err(|error| LoadError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        if !dir.is_dir() {
            return Err(LoadError::Invalid {
                path: dir,
                message: "not a folder (an assistant is a folder with an assistant.json)".into(),
            });
        }
        let path = dir.join("assistant.json");
        let manifest = match std::fs::read_to_string(&path) {
            Ok(text) => parse_manifest(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => parse_manifest(&path, "{}")?,
            Err(error) => return Err(LoadError::Io { path, error }),
        };
        let folder = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let id = manifest.id.clone().unwrap_or_else(|| folder.clone());
        if !valid_id(&id) {
            return Err(LoadError::Invalid {
                path,
                message: format!(
                    "field `id`: {id:?} is not a valid id (1 to 64 of A-Z, a-z, 0-9, '_', '-')"
                ),
            });
        }
        if RESERVED_IDS.contains(&id.as_str()) {
            return Err(LoadError::Invalid {
                path,
                message: format!(
                    "field `id`: {id:?} is reserved (events from {RESERVED_IDS:?} come from jan itself); rename the folder or set another `id`"
                ),
            });
        }
        if let Some(AllOr::List(events)) = &manifest.events
            && events.iter().any(|e| e.is_empty())
        {
            return Err(LoadError::Invalid {
                path,
                message: "field `events`: a topic pattern is empty".into(),
            });
        }
        if manifest
            .extra
            .get("model")
            .is_some_and(|m| !m.is_null() && !m.is_string())
        {
            return Err(LoadError::Invalid {
                path,
                message: "field `model`: expected a model id (a string)".into(),
            });
        }
        if let Some(p) = &manifest.permissions {
            p.validate().map_err(|message| LoadError::Invalid {
                path: path.clone(),
                message,
            })?;
        }
        let name = manifest.name.clone().unwrap_or_else(|| folder.clone());
        let mut manifest = manifest;
        let created_at = match manifest.created_at {
            Some(t) => t,
            None => {
                // Set once and kept: record it in the file when we can,
                // touching nothing else the user wrote. A read-only folder
                // still loads, with the folder's own time.
                let t = folder_time(&dir);
                let _ = record_created_at(&path, t);
                // Kept, so a rewrite of the file keeps it too (the folder's
                // time changes with every write in it).
                manifest.created_at = Some(t);
                t
            }
        };
        Ok(Assistant {
            dir,
            id,
            name,
            created_at,
            manifest,
        })
    }

    /// assistant.json with every default filled in: what the JS side sees as
    /// `assistant` and what the API returns.
    pub fn resolved(&self) -> Value {
        let m = &self.manifest;
        let mut out = Map::new();
        out.insert("id".into(), Value::String(self.id.clone()));
        out.insert(
            "object".into(),
            Value::String(m.object.clone().unwrap_or_else(|| "assistant".into())),
        );
        out.insert("name".into(), Value::String(self.name.clone()));
        out.insert("version".into(), Value::from(m.version.unwrap_or(1)));
        out.insert("created_at".into(), Value::from(self.created_at));
        out.insert("description".into(), opt_string(&m.description));
        out.insert("avatar".into(), opt_string(&m.avatar));
        out.insert(
            "models".into(),
            serde_json::to_value(m.models.clone().unwrap_or_default()).unwrap_or(Value::Null),
        );
        out.insert("instructions".into(), opt_string(&m.instructions));
        out.insert(
            "events".into(),
            serde_json::to_value(m.events.clone().unwrap_or_default()).unwrap_or(Value::Null),
        );
        out.insert(
            "metadata".into(),
            Value::Object(m.metadata.clone().unwrap_or_default()),
        );
        if let Some(limits) = &m.limits {
            out.insert(
                "limits".into(),
                serde_json::to_value(limits).unwrap_or(Value::Null),
            );
        }
        out.insert(
            "permissions".into(),
            serde_json::to_value(m.permissions.clone().unwrap_or_default()).unwrap_or(Value::Null),
        );
        for (k, v) in &m.extra {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(out)
    }

    /// The file of the assistant's code, if it has any.
    pub fn entry_point(&self) -> Option<PathBuf> {
        ["index.js", "index.mjs", "index.ts", "index.mts"]
            .iter()
            .map(|f| self.dir.join("src").join(f))
            .find(|p| p.is_file())
    }

    /// `src/process.{js,mjs,ts,mts}`: the long-lived background module.
    pub fn background_module(&self) -> Option<PathBuf> {
        ["process.js", "process.mjs", "process.ts", "process.mts"]
            .iter()
            .map(|f| self.dir.join("src").join(f))
            .find(|p| p.is_file())
    }

    pub fn timeout_ms(&self) -> u64 {
        self.manifest
            .limits
            .as_ref()
            .and_then(|l| l.timeout_ms)
            .unwrap_or(DEFAULT_TIMEOUT_MS)
    }

    pub fn heap_mb(&self) -> u64 {
        self.manifest
            .limits
            .as_ref()
            .and_then(|l| l.heap_mb)
            .unwrap_or(DEFAULT_HEAP_MB)
    }

    /// The models this assistant may use: `None` means all installed.
    pub fn allowed_models(&self) -> Option<&[ModelRef]> {
        match &self.manifest.models {
            Some(AllOr::List(list)) => Some(list),
            _ => None,
        }
    }

    /// The topic patterns this assistant may subscribe to and emit on:
    /// `None` means all.
    pub fn allowed_events(&self) -> Option<&[String]> {
        match &self.manifest.events {
            Some(AllOr::List(list)) => Some(list),
            _ => None,
        }
    }

    /// The grants in assistant.json's `permissions` (none when absent).
    pub fn permissions(&self) -> Permissions {
        self.manifest.permissions.clone().unwrap_or_default()
    }

    /// The bus topic requests to this assistant arrive on.
    pub fn topic(&self) -> String {
        format!("assistant:{}", self.id)
    }
}

fn opt_string(s: &Option<String>) -> Value {
    s.clone().map(Value::String).unwrap_or(Value::Null)
}

fn folder_time(dir: &Path) -> u64 {
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Adds `created_at` to an existing assistant.json, keeping every other
/// field as the user wrote it (and in the same order).
fn record_created_at(path: &Path, t: u64) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(&text) else {
        return Ok(());
    };
    obj.insert("created_at".into(), Value::from(t));
    let mut out = serde_json::to_string_pretty(&obj).map_err(std::io::Error::other)?;
    out.push('\n');
    atomic_write(path, out.as_bytes())
}

/// Parses assistant.json text. Errors name the file, line, column and, for a
/// wrong type, the field.
pub fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, LoadError> {
    let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: format!("invalid JSON: {e}"),
    })?;
    if !value.is_object() {
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            message: "expected a JSON object".into(),
        });
    }
    // Deserialize again from the text so errors carry positions, and through
    // serde_path_to_error so they carry the field's name.
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, Manifest>(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        LoadError::Parse {
            path: path.to_path_buf(),
            line: inner.line(),
            column: inner.column(),
            message: format!("field `{field}`: {}", strip_position(&inner.to_string())),
        }
    })
}

fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Writes `manifest` to `<dir>/assistant.json` atomically, unknown fields
/// included.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
    text.push('\n');
    atomic_write(&dir.join("assistant.json"), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, json: Option<&str>) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(j) = json {
            std::fs::write(dir.join("assistant.json"), j).unwrap();
        }
        (tmp, dir)
    }

    #[test]
    fn defaults_come_from_the_folder_name() {
        let (_t, dir) = folder("helper", None);
        let a = Assistant::load(&dir).unwrap();
        let r = a.resolved();
        assert_eq!(r["id"], "helper");
        assert_eq!(r["name"], "helper");
        assert_eq!(r["object"], "assistant");
        assert_eq!(r["version"], 1);
        assert_eq!(r["models"], "*");
        assert_eq!(r["events"], "*");
        assert_eq!(r["metadata"], serde_json::json!({}));
        assert_eq!(r["instructions"], Value::Null);
        assert_eq!(r["description"], Value::Null);
        assert_eq!(a.timeout_ms(), DEFAULT_TIMEOUT_MS);
    }

    #[test]
    fn created_at_is_set_once_and_unknown_fields_are_kept() {
        let (_t, dir) = folder("a1", Some(r#"{"name":"A","x_custom":{"k":[1,2]}}"#));
        let first = Assistant::load(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join("assistant.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["created_at"], first.created_at);
        assert_eq!(v["x_custom"]["k"][1], 2);
        assert_eq!(v["name"], "A");
        let second = Assistant::load(&dir).unwrap();
        assert_eq!(first.created_at, second.created_at);
        assert_eq!(second.resolved()["x_custom"]["k"][0], 1);
    }

    #[test]
    fn created_at_is_the_only_field_written_back() {
        let (_t, dir) = folder("plain", Some(r#"{"name": "Plain", "zeta": 1, "alpha": 2}"#));
        Assistant::load(&dir).unwrap();
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("assistant.json")).unwrap())
                .unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "zeta", "alpha", "created_at"]);
    }

    #[test]
    fn permissions_are_validated_and_shown() {
        let (_t, dir) = folder(
            "p",
            Some(
                r#"{"permissions": {"net": ["api.example.com", "127.0.0.1:1337", "[::1]:8080"], "read": ["./data"], "env": ["MY_KEY"]}}"#,
            ),
        );
        let a = Assistant::load(&dir).unwrap();
        let r = a.resolved();
        assert_eq!(r["permissions"]["net"][1], "127.0.0.1:1337");
        assert_eq!(r["permissions"]["write"], serde_json::json!([]));
        let grants = a.permissions().net_grants();
        assert!(grants[0].allows("API.example.com", 443));
        assert!(grants[1].allows("127.0.0.1", 1337));
        assert!(!grants[1].allows("127.0.0.1", 1338));
        assert!(grants[2].allows("[::1]", 8080));
        for bad in [
            r#"{"permissions": {"net": ["https://x.com"]}}"#,
            r#"{"permissions": {"net": ["x.com:port"]}}"#,
            r#"{"permissions": {"read": [""]}}"#,
            r#"{"permissions": {"nett": []}}"#,
        ] {
            let (_t, dir) = folder("bad", Some(bad));
            let err = Assistant::load(&dir).unwrap_err().to_string();
            assert!(err.contains("permissions"), "{bad}: {err}");
        }
        let (_t, dir) = folder("none", None);
        assert_eq!(
            Assistant::load(&dir).unwrap().resolved()["permissions"],
            serde_json::json!({"net": [], "read": [], "write": [], "env": []})
        );
    }

    #[test]
    fn models_accept_ids_and_overrides() {
        let (_t, dir) = folder(
            "m",
            Some(r#"{"models":["a", {"id":"b","parameters":{"temperature":0.2}}]}"#),
        );
        let a = Assistant::load(&dir).unwrap();
        let models = a.allowed_models().unwrap();
        assert_eq!(models[0].id(), "a");
        assert_eq!(models[1].id(), "b");
        assert_eq!(models[1].parameters().unwrap()["temperature"], 0.2);
    }

    #[test]
    fn invalid_json_names_file_line_and_column() {
        let (_t, dir) = folder("bad", Some("{\n  \"name\": \"x\",\n  oops\n}"));
        let err = Assistant::load(&dir).unwrap_err().to_string();
        assert!(err.contains("assistant.json:3:"), "{err}");
        assert!(err.contains("invalid JSON"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let (_t, dir) = folder("bad", Some("{\n  \"version\": \"two\"\n}"));
        let err = Assistant::load(&dir).unwrap_err().to_string();
        assert!(err.contains("assistant.json:2:"), "{err}");
        assert!(err.contains("field `version`"), "{err}");
        let (_t, dir) = folder("bad2", Some(r#"{"models": "all"}"#));
        let err = Assistant::load(&dir).unwrap_err().to_string();
        assert!(err.contains("field `models`"), "{err}");
    }

    #[test]
    fn bad_ids_are_refused() {
        for id in ["../x", "a/b", "..", "", "with space", &"x".repeat(65)] {
            let json = serde_json::json!({ "id": id }).to_string();
            let (_t, dir) = folder("ok", Some(&json));
            let err = Assistant::load(&dir).unwrap_err().to_string();
            assert!(err.contains("field `id`"), "{id}: {err}");
        }
        assert!(valid_id("asst_abc-123"));
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("host");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("assistant.json"), "{}").unwrap();
        let err = Assistant::load(&dir).unwrap_err().to_string();
        assert!(err.contains("reserved"), "{err}");
    }
}
