//! Threads, messages, runs and run steps, kept in the data folder:
//!
//! ```text
//! threads/<thread_id>/thread.json       the thread (atomic rewrites)
//! threads/<thread_id>/messages.jsonl    messages, append-only
//! threads/<thread_id>/runs/<run_id>.json       a run (atomic rewrites)
//! threads/<thread_id>/runs/<run_id>.steps.json its steps
//! ```
//!
//! `messages.jsonl` is a log: each line is a whole message, a later line
//! with the same id replaces it, and `{"id": .., "deleted": true}` removes
//! it. A line cut short by a crash is ignored on read, and cut off before
//! the next append (which so always starts on a fresh line). Writers to one
//! thread hold that thread's lock, so concurrent requests never interleave.
//!
//! A record that is there but cannot be read (a garbage `thread.json`, run
//! or steps file, response) is left as it is: lists skip it and log its
//! path, and a request for it fails with
//! [`UnreadableRecord`](jan_assistant::UnreadableRecord), which names the
//! file. A garbage line of a message log is skipped and logged with its
//! path and line number.
//!
//! What a crash can leave behind (`.tmp-*` files of unfinished atomic
//! writes, `.deleted-*` folders, a thread folder whose `thread.json` was
//! never written) is removed when the store is opened.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod responses;

use jan_assistant::{UnreadableRecord, atomic_write, valid_id, warn_once};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("No {0} found with id '{1}'.")]
    NotFound(&'static str, String),
    /// The record is there but cannot be read: the error names the file.
    #[error(transparent)]
    Unreadable(#[from] UnreadableRecord),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage error: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<jan_assistant::ReadError> for StoreError {
    fn from(e: jan_assistant::ReadError) -> Self {
        match e {
            jan_assistant::ReadError::Unreadable(u) => StoreError::Unreadable(u),
            jan_assistant::ReadError::Io(e) => StoreError::Io(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A new id with OpenAI's prefix (`asst_…`, `thread_…`, `msg_…`, `run_…`,
/// `step_…`): 16 hex digits of the creation time in nanoseconds, then 8
/// random ones, so ids sort in creation order even within one second.
pub fn new_id(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let random = &uuid::Uuid::new_v4().simple().to_string()[..8];
    format!("{prefix}_{nanos:016x}{random}")
}

/// Run statuses from which a run never moves again.
pub const TERMINAL: &[&str] = &["cancelled", "failed", "completed", "incomplete", "expired"];

pub fn is_terminal(status: &str) -> bool {
    TERMINAL.contains(&status)
}

/// How long a run waits in `requires_action` for tool outputs before it
/// expires (OpenAI: ten minutes).
pub const TOOL_OUTPUTS_WAIT_SECS: u64 = 600;

/// Marks a run `expired` when it waited for tool outputs past its
/// `expires_at`; its waiting tool-call steps expire with it. Returns whether
/// it changed.
fn expire_if_due(run: &mut Value, steps: &mut [Value]) -> bool {
    let due = run["status"] == "requires_action"
        && run["expires_at"].as_u64().is_some_and(|t| now() >= t);
    if due {
        run["status"] = "expired".into();
        run["required_action"] = Value::Null;
        for step in steps.iter_mut().filter(|s| s["status"] == "in_progress") {
            step["status"] = "expired".into();
            step["expired_at"] = now().into();
        }
    }
    due
}

#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    /// `responses/`, beside the threads folder (see [`Store::put_response`]).
    responses: PathBuf,
    locks: Arc<Mutex<HashMap<String, Arc<Mutex<()>>>>>,
    /// Held while a message is appended.
    appending: Arc<Mutex<()>>,
}

impl Store {
    /// Opens the threads folder. Runs left unfinished by a crash are marked
    /// `failed`: nothing is left `in_progress` forever. Runs waiting for
    /// tool outputs keep waiting (the client holds the work) until they
    /// expire.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root: PathBuf = root.into();
        let responses = root
            .parent()
            .map_or_else(|| root.join("responses"), |p| p.join("responses"));
        let store = Store {
            root,
            responses,
            locks: Arc::default(),
            appending: Arc::default(),
        };
        std::fs::create_dir_all(&store.root)?;
        store.clean_leftovers();
        store.open_responses()?;
        for thread in store.thread_ids() {
            let runs = match store.runs(&thread) {
                Ok(runs) => runs,
                Err(StoreError::Unreadable(e)) => {
                    e.warn_skipped();
                    continue;
                }
                Err(_) => continue,
            };
            for mut run in runs {
                let status = run["status"].as_str().unwrap_or("failed");
                if !is_terminal(status) && status != "requires_action" {
                    run["status"] = "failed".into();
                    run["failed_at"] = now().into();
                    run["last_error"] = json!({
                        "code": "server_error",
                        "message": "The server stopped while this run was in progress.",
                    });
                    let _ = store.put_run(&thread, &run);
                }
            }
        }
        Ok(store)
    }

    /// Runs `f` holding the lock of one thread: reads and writes of that
    /// thread's files inside `f` are not interleaved with other requests'.
    pub fn with_lock<T>(&self, thread: &str, f: impl FnOnce() -> T) -> T {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(thread.to_string())
            .or_default()
            .clone();
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }

    /// Removes what crashes left: unfinished atomic writes, half-deleted
    /// threads, thread folders without a thread.
    fn clean_leftovers(&self) {
        let mut dirs = vec![self.root.clone()];
        for id in self.thread_ids() {
            let dir = self.root.join(&id);
            if dir.join("thread.json").is_file() {
                dirs.push(dir.join("runs"));
                dirs.push(dir);
            } else if dir.is_dir() {
                tracing::warn!(
                    "removing {}: a thread folder without thread.json (left by a crash)",
                    dir.display()
                );
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.filter_map(|e| e.ok()) {
                let name = e.file_name().to_string_lossy().into_owned();
                let path = e.path();
                if name.starts_with(".tmp-") || name.starts_with(".deleted-") {
                    tracing::warn!("removing {} (left by a crash)", path.display());
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
    }

    /// The folder of a readable thread.
    fn dir(&self, thread: &str) -> Result<PathBuf> {
        let dir = self.folder(thread)?;
        read_json(&dir.join("thread.json"))?;
        Ok(dir)
    }

    /// The folder of a thread, readable or not.
    fn folder(&self, thread: &str) -> Result<PathBuf> {
        let dir = self.root.join(thread);
        if !valid_id(thread) || !dir.join("thread.json").is_file() {
            return Err(StoreError::NotFound("thread", thread.to_string()));
        }
        Ok(dir)
    }

    fn thread_ids(&self) -> Vec<String> {
        std::fs::read_dir(&self.root)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| valid_id(n))
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- threads ----------------------------------------------------------

    pub fn create_thread(&self, metadata: Value, tool_resources: Value) -> Result<Value> {
        let id = new_id("thread");
        let dir = self.root.join(&id);
        let thread = json!({
            "id": id, "object": "thread", "created_at": now(),
            "metadata": if metadata.is_null() { json!({}) } else { metadata },
            "tool_resources": if tool_resources.is_null() { json!({}) } else { tool_resources },
        });
        let made = std::fs::create_dir_all(dir.join("runs"))
            .map_err(StoreError::from)
            .and_then(|()| write_json(&dir.join("thread.json"), &thread));
        if made.is_err() {
            // A full disk: leave no folder without a thread behind.
            let _ = std::fs::remove_dir_all(&dir);
        }
        made.map(|()| thread)
    }

    pub fn thread(&self, id: &str) -> Result<Value> {
        read_json(&self.dir(id)?.join("thread.json"))
    }

    pub fn put_thread(&self, thread: &Value) -> Result<()> {
        let id = thread["id"].as_str().unwrap_or_default();
        write_json(&self.dir(id)?.join("thread.json"), thread)
    }

    /// Deletes a thread, also one whose thread.json cannot be read.
    pub fn delete_thread(&self, id: &str) -> Result<()> {
        let dir = self.folder(id)?;
        // Rename first: a half-deleted folder is never seen as a thread.
        let trash = self.root.join(format!(".deleted-{id}"));
        std::fs::rename(&dir, &trash)?;
        std::fs::remove_dir_all(&trash)?;
        Ok(())
    }

    // ---- messages -----------------------------------------------------------

    /// Appends (or, with an existing id, replaces) a message.
    pub fn put_message(&self, thread: &str, message: &Value) -> Result<()> {
        let path = self.dir(thread)?.join("messages.jsonl");
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        // Appends are serialized across threads (some writers hold no
        // thread lock): cutting a torn tail must never cut a line another
        // append is writing.
        let _appending = self.appending.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        cut_torn_tail(&mut f, &path)?;
        let end = f.seek(SeekFrom::End(0))?;
        let written = f.write_all(&line).and_then(|()| f.sync_data());
        if written.is_err() {
            // A full disk may take part of the line: take it back, so the
            // log holds only whole lines and this unanswered message does
            // not appear later.
            let _ = f.set_len(end);
        }
        Ok(written?)
    }

    /// Appends messages all or none: if one cannot be written (a full
    /// disk), those before it are taken back.
    pub fn put_messages(&self, thread: &str, messages: &[Value]) -> Result<()> {
        let mark = self.log_len(thread)?;
        let written = messages
            .iter()
            .try_for_each(|m| self.put_message(thread, m));
        if written.is_err() {
            let _ = self.cut_log(thread, mark);
        }
        written
    }

    /// The length of the thread's message log, to [`Store::cut_log`] back
    /// to when a request that appended to it fails.
    pub fn log_len(&self, thread: &str) -> Result<u64> {
        let path = self.dir(thread)?.join("messages.jsonl");
        match std::fs::metadata(path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Cuts the thread's message log back to `len` bytes (what
    /// [`Store::log_len`] said before a failed request appended).
    pub fn cut_log(&self, thread: &str, len: u64) -> Result<()> {
        let path = self.dir(thread)?.join("messages.jsonl");
        let _appending = self.appending.lock().unwrap_or_else(|e| e.into_inner());
        let f = std::fs::OpenOptions::new().write(true).open(&path)?;
        if f.metadata()?.len() > len {
            f.set_len(len)?;
        }
        Ok(())
    }

    pub fn delete_message(&self, thread: &str, id: &str) -> Result<()> {
        self.message(thread, id)?;
        self.put_message(thread, &json!({"id": id, "deleted": true}))
    }

    /// The thread's messages, oldest first.
    pub fn messages(&self, thread: &str) -> Result<Vec<Value>> {
        let path = self.dir(thread)?.join("messages.jsonl");
        // Bytes, not a string: a line torn inside a UTF-8 character must
        // not make the whole log unreadable.
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mut order: Vec<String> = Vec::new();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            // A line cut short by a crash does not parse; skip it.
            let Ok(v) = serde_json::from_slice::<Value>(line) else {
                if !line.iter().all(u8::is_ascii_whitespace) {
                    warn_once(format!(
                        "skipping {}:{}: not a JSON message",
                        path.display(),
                        n + 1
                    ));
                }
                continue;
            };
            let Some(id) = v["id"].as_str().map(String::from) else {
                warn_once(format!(
                    "skipping {}:{}: a message without an id",
                    path.display(),
                    n + 1
                ));
                continue;
            };
            if v["deleted"] == true {
                by_id.remove(&id);
                continue;
            }
            if !by_id.contains_key(&id) && !order.contains(&id) {
                order.push(id.clone());
            }
            by_id.insert(id, v);
        }
        Ok(order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect())
    }

    pub fn message(&self, thread: &str, id: &str) -> Result<Value> {
        self.messages(thread)?
            .into_iter()
            .find(|m| m["id"] == id)
            .ok_or_else(|| StoreError::NotFound("message", id.to_string()))
    }

    // ---- runs and steps ---------------------------------------------------------

    fn run_path(&self, thread: &str, run: &str) -> Result<PathBuf> {
        if !valid_id(run) {
            return Err(StoreError::NotFound("run", run.to_string()));
        }
        Ok(self.dir(thread)?.join("runs").join(format!("{run}.json")))
    }

    pub fn put_run(&self, thread: &str, run: &Value) -> Result<()> {
        let path = self.run_path(thread, run["id"].as_str().unwrap_or_default())?;
        write_json(&path, run)
    }

    pub fn run(&self, thread: &str, id: &str) -> Result<Value> {
        let path = self.run_path(thread, id)?;
        if !path.is_file() {
            return Err(StoreError::NotFound("run", id.to_string()));
        }
        let mut run = read_json(&path)?;
        self.expire(thread, &mut run)?;
        Ok(run)
    }

    /// Applies [`expire_if_due`] and saves what changed.
    fn expire(&self, thread: &str, run: &mut Value) -> Result<()> {
        if run["status"] != "requires_action" {
            return Ok(());
        }
        let id = run["id"].as_str().unwrap_or_default().to_string();
        let mut steps = self.read_steps(thread, &id)?;
        if expire_if_due(run, &mut steps) {
            self.put_run(thread, run)?;
            self.put_steps(thread, &id, &steps)?;
        }
        Ok(())
    }

    pub fn runs(&self, thread: &str) -> Result<Vec<Value>> {
        let dir = self.dir(thread)?.join("runs");
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)?.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".steps.json") || name.starts_with('.') {
                continue;
            }
            match read_json(&e.path()) {
                Ok(mut v) => {
                    // A run whose steps cannot be read is listed as stored:
                    // one bad file must not hide the thread's other runs.
                    match self.expire(thread, &mut v) {
                        Err(StoreError::Unreadable(u)) => u.warn_skipped(),
                        other => other?,
                    }
                    out.push(v);
                }
                Err(StoreError::Unreadable(e)) => e.warn_skipped(),
                // Deleted meanwhile.
                Err(_) => {}
            }
        }
        Ok(out)
    }

    pub fn put_steps(&self, thread: &str, run: &str, steps: &[Value]) -> Result<()> {
        let path = self.run_path(thread, run)?.with_extension("steps.json");
        write_json(&path, &Value::Array(steps.to_vec()))
    }

    /// Adds `step` to the run's steps, or replaces the one with its id.
    pub fn put_step(&self, thread: &str, run: &str, step: &Value) -> Result<()> {
        let mut steps = self.steps(thread, run)?;
        match steps.iter_mut().find(|s| s["id"] == step["id"]) {
            Some(old) => *old = step.clone(),
            None => steps.push(step.clone()),
        }
        self.put_steps(thread, run, &steps)
    }

    pub fn steps(&self, thread: &str, run: &str) -> Result<Vec<Value>> {
        self.run(thread, run)?;
        self.read_steps(thread, run)
    }

    /// The steps file as it is (no check that the run exists or expired).
    fn read_steps(&self, thread: &str, run: &str) -> Result<Vec<Value>> {
        let path = self.run_path(thread, run)?.with_extension("steps.json");
        read_list(&path)
    }
}

/// Cuts a log back to its last whole line: a line cut short by a crash
/// would otherwise swallow the next append. A last line that is whole JSON
/// but lacks its newline gets one instead.
fn cut_torn_tail(f: &mut std::fs::File, path: &Path) -> std::io::Result<()> {
    let len = f.seek(SeekFrom::End(0))?;
    let mut end = len;
    let mut buf = vec![0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if end < len {
        let mut tail = vec![0u8; (len - end) as usize];
        f.seek(SeekFrom::Start(end))?;
        f.read_exact(&mut tail)?;
        if serde_json::from_slice::<Value>(&tail).is_ok() {
            // Whole but for its newline: readers already serve it, so it
            // stays.
            f.seek(SeekFrom::End(0))?;
            f.write_all(b"\n")?;
            return Ok(());
        }
        tracing::warn!(
            "{}: cutting off a torn last line ({} bytes, left by a crash)",
            path.display(),
            len - end
        );
        f.set_len(end)?;
    }
    Ok(())
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(v)?;
    bytes.push(b'\n');
    atomic_write(path, &bytes)?;
    Ok(())
}

/// Reads a record that is a JSON array: missing is empty.
fn read_list(path: &Path) -> Result<Vec<Value>> {
    match jan_assistant::read_json(path)? {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(UnreadableRecord::new(path, "not a JSON array").into()),
    }
}

/// Reads a record that must be a JSON object; a file removed meanwhile
/// (a delete racing this read) is not found.
fn read_json(path: &Path) -> Result<Value> {
    jan_assistant::read_json_object(path)?.ok_or_else(|| {
        let what = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        StoreError::NotFound("record", what.unwrap_or_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_a_log_with_replacement_and_deletion() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let th = s.create_thread(Value::Null, Value::Null).unwrap();
        let id = th["id"].as_str().unwrap();
        for i in 0..3 {
            s.put_message(id, &json!({"id": format!("msg_{i}"), "n": i}))
                .unwrap();
        }
        s.put_message(id, &json!({"id": "msg_1", "n": 10})).unwrap();
        s.delete_message(id, "msg_0").unwrap();
        // A torn last line is ignored.
        let path = root.join(id).join("messages.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"id\": \"msg_9\", \"n\"").unwrap();
        let m = s.messages(id).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["n"], 10);
        assert_eq!(m[1]["id"], "msg_2");
        // The next append starts on a fresh line: it is not lost, now or
        // after a restart.
        s.put_message(id, &json!({"id": "msg_3", "n": 3})).unwrap();
        let m = Store::open(&root).unwrap().messages(id).unwrap();
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[2]["id"], "msg_3");
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("\"n\":3}\n")
        );
        // Torn inside a UTF-8 character: the log still reads.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let torn = "{\"id\": \"msg_8\", \"t\": \"\u{e9}";
        f.write_all(&torn.as_bytes()[..torn.len() - 1]).unwrap();
        assert_eq!(s.messages(id).unwrap().len(), 3);
        assert!(matches!(
            s.message(id, "msg_0"),
            Err(StoreError::NotFound(..))
        ));
    }

    #[test]
    fn runs_waiting_for_tool_outputs_survive_a_restart_and_then_expire() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let th = s.create_thread(Value::Null, Value::Null).unwrap();
        let id = th["id"].as_str().unwrap();
        let waiting = |run: &str, expires_at: u64| {
            s.put_run(id, &json!({"id": run, "status": "in_progress"}))
                .unwrap();
            s.put_step(id, run, &json!({"id": "step_1", "status": "in_progress"}))
                .unwrap();
            s.put_run(id, &json!({"id": run, "status": "requires_action", "expires_at": expires_at, "required_action": {"type": "submit_tool_outputs"}}))
                .unwrap();
        };
        waiting("run_1", now() + TOOL_OUTPUTS_WAIT_SECS);
        let s = Store::open(&root).unwrap();
        assert_eq!(s.run(id, "run_1").unwrap()["status"], "requires_action");

        s.put_run(id, &json!({"id": "run_1", "status": "cancelled"}))
            .unwrap();
        waiting("run_2", now() - 1);
        let run = s.run(id, "run_2").unwrap();
        assert_eq!(run["status"], "expired");
        assert!(run["required_action"].is_null());
        assert_eq!(s.steps(id, "run_2").unwrap()[0]["status"], "expired");
        // Saved, not only reported.
        let raw: Value =
            serde_json::from_slice(&std::fs::read(root.join(id).join("runs/run_2.json")).unwrap())
                .unwrap();
        assert_eq!(raw["status"], "expired");
    }

    #[test]
    fn unfinished_runs_fail_on_reopen_and_bad_ids_are_not_found() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let th = s.create_thread(Value::Null, Value::Null).unwrap();
        let id = th["id"].as_str().unwrap();
        s.put_run(id, &json!({"id": "run_1", "status": "in_progress"}))
            .unwrap();
        s.put_run(id, &json!({"id": "run_2", "status": "completed"}))
            .unwrap();
        let s = Store::open(&root).unwrap();
        assert_eq!(s.run(id, "run_1").unwrap()["status"], "failed");
        assert_eq!(s.run(id, "run_2").unwrap()["status"], "completed");
        assert!(matches!(s.thread("../etc"), Err(StoreError::NotFound(..))));
        assert!(matches!(s.run(id, "../x"), Err(StoreError::NotFound(..))));
        s.delete_thread(id).unwrap();
        assert!(matches!(s.thread(id), Err(StoreError::NotFound(..))));
    }

    #[test]
    fn unreadable_records_are_skipped_in_lists_named_on_request_and_kept() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let id = s.create_thread(Value::Null, Value::Null).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        for run in ["run_1", "run_2"] {
            s.put_run(&id, &json!({"id": run, "status": "completed"}))
                .unwrap();
        }
        let runs = root.join(&id).join("runs");
        std::fs::write(runs.join("run_2.json"), "{ no").unwrap();
        std::fs::write(runs.join("run_1.steps.json"), "{}").unwrap();
        // Reopening (crash recovery reads every run) skips it too.
        let s = Store::open(&root).unwrap();
        let listed: Vec<Value> = s.runs(&id).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], "run_1");
        let named = |e: StoreError, file: &str| match e {
            StoreError::Unreadable(u) => assert_eq!(u.path, runs.join(file)),
            other => panic!("{other}"),
        };
        named(s.run(&id, "run_2").unwrap_err(), "run_2.json");
        named(s.steps(&id, "run_1").unwrap_err(), "run_1.steps.json");
        // A write does not replace what could not be read.
        named(
            s.put_step(&id, "run_1", &json!({"id": "step_1"}))
                .unwrap_err(),
            "run_1.steps.json",
        );
        assert_eq!(std::fs::read(runs.join("run_1.steps.json")).unwrap(), b"{}");
        // A thread whose thread.json is garbage: named, and deletable.
        std::fs::write(root.join(&id).join("thread.json"), "[]").unwrap();
        assert!(matches!(s.messages(&id), Err(StoreError::Unreadable(_))));
        s.delete_thread(&id).unwrap();
        assert!(matches!(s.thread(&id), Err(StoreError::NotFound(..))));
    }

    #[test]
    fn leftovers_of_a_crash_are_removed_on_open() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("threads");
        let s = Store::open(&root).unwrap();
        let th = s.create_thread(Value::Null, Value::Null).unwrap();
        let id = th["id"].as_str().unwrap();
        std::fs::write(root.join(".tmp-abc"), "x").unwrap();
        std::fs::write(root.join(id).join(".tmp-def"), "x").unwrap();
        std::fs::write(root.join(id).join("runs/.tmp-ghi"), "x").unwrap();
        std::fs::create_dir_all(root.join(".deleted-thread_x/runs")).unwrap();
        std::fs::create_dir_all(root.join("thread_half/runs")).unwrap();
        let s = Store::open(&root).unwrap();
        let mut left: Vec<String> = walk(&root);
        left.sort();
        assert_eq!(
            left,
            vec![
                id.to_string(),
                format!("{id}/runs"),
                format!("{id}/thread.json")
            ]
        );
        assert!(s.thread(id).is_ok());
    }

    fn walk(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![root.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
                let p = e.path();
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                if p.is_dir() {
                    todo.push(p);
                }
            }
        }
        out
    }
}
