//! The assistant host: loads assistant folders, runs each one's code in its
//! own isolate, and answers requests to assistants.
//!
//! A request to an assistant is an event on `assistant:<id>` with payload
//! `{ id, type: "message", thread_id, messages, instructions, model }`. An
//! assistant whose code handles that topic answers through the handler's
//! return value or by emitting on its own topic (see js-prelude/99_main.js);
//! any other assistant gets the default answer: a chat with its first
//! allowed model, with its instructions as the system message.

mod ext;
mod isolate;
mod loader;
mod replies;
pub mod resolve;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jan_assistant::{Assistant, DataDir, LoadError};
use jan_events::Bus;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use isolate::{Isolate, Spawn};
/// The model side of `@janhq/core`, defined by the models crate.
pub use jan_models::provider as models;
pub use models::{ModelProvider, NO_MODEL_HELP, NoModels};
use replies::Replies;
pub use replies::Reply;

/// Why a request could not be answered at all.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("no assistant '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("assistant '{id}' failed to start: {message}")]
    Start { id: String, message: String },
    #[error("assistant '{0}' has no model to answer with: {NO_MODEL_HELP}")]
    NoModel(String),
    #[error("cannot start a thread for assistant '{0}': {1}")]
    Thread(String, std::io::Error),
}

/// A user turn for an assistant.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub thread_id: Option<String>,
    /// OpenAI-style messages, `{ role, content }`, content a string.
    pub messages: Vec<Value>,
    /// Replaces the assistant's instructions for this request.
    pub instructions: Option<String>,
    pub model: Option<String>,
    /// Sampling parameters for the default answer (`temperature`, `top_p`,
    /// `max_tokens`…); they win over the assistant's and the model's.
    pub parameters: serde_json::Map<String, Value>,
    /// The tools the caller offers (OpenAI's `tools`); a handler may answer
    /// with `tool_calls` for them.
    pub tools: Vec<Value>,
}

/// The answer to one request, as it arrives.
pub struct Answer {
    rx: mpsc::UnboundedReceiver<Reply>,
}

impl Answer {
    /// The next piece; `None` after `Done` or `Error`.
    pub async fn next(&mut self) -> Option<Reply> {
        self.rx.recv().await
    }

    /// Waits for the whole text.
    pub async fn text(mut self) -> Result<String, String> {
        let mut streamed = String::new();
        while let Some(r) = self.next().await {
            match r {
                Reply::Delta(d) => streamed.push_str(&d),
                Reply::Meta(_) | Reply::ToolCalls(_) => {}
                Reply::Done(t) => return Ok(if t.is_empty() { streamed } else { t }),
                Reply::Error { message, .. } => return Err(message),
            }
        }
        Err("the assistant stopped without answering".into())
    }
}

struct Slot {
    assistant: Assistant,
    fingerprint: u64,
    isolate: Option<Isolate>,
}

struct Inner {
    bus: Bus,
    replies: Replies,
    provider: Arc<dyn ModelProvider>,
    slots: Mutex<HashMap<String, Slot>>,
    generations: AtomicU64,
}

/// Runs assistants. Cloning gives another handle to the same host.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl Host {
    pub fn new(bus: Bus, provider: Arc<dyn ModelProvider>) -> Host {
        Host {
            inner: Arc::new(Inner {
                bus,
                replies: Replies::default(),
                provider,
                slots: Mutex::default(),
                generations: AtomicU64::new(0),
            }),
        }
    }

    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    pub fn provider(&self) -> &Arc<dyn ModelProvider> {
        &self.inner.provider
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        self.inner.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, assistant: &Assistant) -> Result<Option<Isolate>, HostError> {
        if assistant.entry_point().is_none() && assistant.background_module().is_none() {
            return Ok(None);
        }
        self.inner.bus.unsubscribe_owner(&assistant.id);
        Isolate::spawn(Spawn {
            assistant: assistant.clone(),
            generation: self.inner.generations.fetch_add(1, Ordering::SeqCst) + 1,
            bus: self.inner.bus.clone(),
            replies: self.inner.replies.clone(),
            provider: self.inner.provider.clone(),
        })
        .map(Some)
        .map_err(|e| HostError::Thread(assistant.id.clone(), e))
    }

    /// Loads the assistant in `dir` and starts its code. Loading a folder
    /// whose id is already loaded replaces that assistant.
    pub fn load(&self, dir: &Path) -> Result<Assistant, HostError> {
        let assistant = Assistant::load(dir)?;
        let isolate = self.start(&assistant)?;
        let slot = Slot {
            fingerprint: fingerprint(&assistant.dir),
            assistant: assistant.clone(),
            isolate,
        };
        if let Some(mut old) = self.slots().insert(assistant.id.clone(), slot)
            && let Some(i) = old.isolate.as_mut()
        {
            i.stop("assistant reloaded");
        }
        Ok(assistant)
    }

    /// Loads every assistant in the data folder; returns those that failed,
    /// each with its error. The others load regardless.
    pub fn load_all(&self, data: &DataDir) -> Vec<(PathBuf, HostError)> {
        let mut failed = Vec::new();
        for (dir, result) in data.list_assistants() {
            let known = result
                .as_ref()
                .ok()
                .is_some_and(|a| self.slots().contains_key(&a.id));
            if known {
                continue;
            }
            if let Err(e) = result
                .map_err(HostError::from)
                .and_then(|_| self.load(&dir))
            {
                failed.push((dir, e));
            }
        }
        failed
    }

    /// The assistant as it is on disk now (reloaded if its folder changed).
    pub fn assistant(&self, id: &str) -> Result<Assistant, HostError> {
        self.refresh(id)?;
        self.slots()
            .get(id)
            .map(|s| s.assistant.clone())
            .ok_or_else(|| HostError::NotFound(id.to_string()))
    }

    pub fn unload(&self, id: &str) {
        if let Some(mut slot) = self.slots().remove(id)
            && let Some(i) = slot.isolate.as_mut()
        {
            i.stop("assistant removed");
        }
    }

    /// Hot reload: if the assistant's folder changed on disk since it was
    /// loaded (or its isolate died), load it again.
    fn refresh(&self, id: &str) -> Result<(), HostError> {
        let (dir, old_fp, dead) = {
            let slots = self.slots();
            let slot = slots
                .get(id)
                .ok_or_else(|| HostError::NotFound(id.to_string()))?;
            let dead = slot.isolate.as_ref().is_some_and(|i| !i.is_alive());
            (slot.assistant.dir.clone(), slot.fingerprint, dead)
        };
        if dead || fingerprint(&dir) != old_fp {
            let loaded = self.load(&dir)?;
            if loaded.id != id {
                // The id in assistant.json changed: the old name is gone.
                self.unload(id);
            }
        }
        Ok(())
    }

    /// Stops an isolate (with `reason` for its open requests) and starts a
    /// fresh one from the same folder.
    fn restart(&self, id: &str, generation: u64, reason: &str) {
        let mut slots = self.slots();
        let Some(slot) = slots.get_mut(id) else {
            return;
        };
        let Some(isolate) = slot.isolate.as_mut() else {
            return;
        };
        if isolate.generation != generation {
            return;
        }
        isolate.stop(reason);
        let assistant = slot.assistant.clone();
        drop(slots);
        match self.start(&assistant) {
            Ok(new) => {
                if let Some(slot) = self.slots().get_mut(id) {
                    slot.isolate = new;
                }
            }
            Err(e) => tracing::error!(assistant = %id, "restart failed: {e}"),
        }
    }

    /// Sends a user turn to assistant `id` and returns its answer stream.
    pub async fn ask(&self, id: &str, ask: Ask) -> Result<Answer, HostError> {
        self.refresh(id)?;
        let (assistant, ready, generation) = {
            let slots = self.slots();
            let slot = slots
                .get(id)
                .ok_or_else(|| HostError::NotFound(id.to_string()))?;
            let iso = slot.isolate.as_ref();
            (
                slot.assistant.clone(),
                iso.map(|i| i.ready.clone()),
                iso.map(|i| i.generation),
            )
        };
        let budget = Duration::from_millis(assistant.timeout_ms());
        self.others_started(id, budget).await;
        if let Some(mut ready) = ready {
            let started = tokio::time::timeout(budget, ready.wait_for(|r| r.is_some())).await;
            let state = match started {
                Ok(Ok(r)) => r.clone().unwrap_or(Ok(())),
                Ok(Err(_)) => Err("the assistant stopped while starting".into()),
                Err(_) => Err(format!(
                    "its modules did not finish loading within {} ms",
                    budget.as_millis()
                )),
            };
            if let Err(message) = state {
                return Err(HostError::Start {
                    id: id.to_string(),
                    message,
                });
            }
        }
        let instructions = ask
            .instructions
            .clone()
            .or_else(|| assistant.manifest.instructions.clone());
        let topic = assistant.topic();
        if let (Some(generation), true) = (generation, self.inner.bus.has_subscriber(id, &topic)) {
            let req_id = format!("req_{}", uuid::Uuid::new_v4().simple());
            let rx = self.inner.replies.register(&req_id, id, generation);
            self.inner.bus.emit(
                "host",
                &topic,
                json!({
                    "id": req_id,
                    "type": "message",
                    "thread_id": ask.thread_id,
                    "messages": ask.messages,
                    "instructions": instructions,
                    "model": ask.model,
                    "tools": ask.tools,
                }),
            );
            return Ok(self.watch(id, generation, req_id, rx, budget));
        }
        self.default_answer(&assistant, ask, instructions)
    }

    /// Waits (up to `budget`) until every other loaded isolate has finished
    /// loading its modules, so that the handlers it registers at start-up
    /// are on the bus before a request can make anyone emit to them.
    async fn others_started(&self, id: &str, budget: Duration) {
        let waiting: Vec<_> = self
            .slots()
            .iter()
            .filter(|(k, _)| k.as_str() != id)
            .filter_map(|(_, s)| s.isolate.as_ref().map(|i| i.ready.clone()))
            .filter(|r| r.borrow().is_none())
            .collect();
        for mut ready in waiting {
            let _ = tokio::time::timeout(budget, ready.wait_for(|r| r.is_some())).await;
        }
    }

    /// Enforces the time budget on a request to an assistant's code: past
    /// it, the request fails and the isolate is terminated and restarted.
    fn watch(
        &self,
        id: &str,
        generation: u64,
        req_id: String,
        mut rx: mpsc::UnboundedReceiver<Reply>,
        budget: Duration,
    ) -> Answer {
        let (tx, out) = mpsc::unbounded_channel();
        let host = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + budget;
            loop {
                tokio::select! {
                    r = rx.recv() => {
                        let Some(r) = r else { break };
                        let last = matches!(r, Reply::Done(_) | Reply::Error { .. });
                        let _ = tx.send(r);
                        if last { break }
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        host.inner.replies.forget(&req_id);
                        let message = format!(
                            "assistant '{id}' ran past its time budget of {} ms and was restarted",
                            budget.as_millis()
                        );
                        tracing::warn!(assistant = %id, "{message}");
                        let _ = tx.send(Reply::Error { message: message.clone(), stack: String::new() });
                        host.restart(&id, generation, &message);
                        break;
                    }
                }
            }
        });
        Answer { rx: out }
    }

    /// The answer of an assistant without a handler: its first allowed
    /// model, with its instructions as the system message.
    fn default_answer(
        &self,
        assistant: &Assistant,
        ask: Ask,
        instructions: Option<String>,
    ) -> Result<Answer, HostError> {
        let allowed = isolate::allowed_models(assistant, self.inner.provider.as_ref());
        let chosen = match &ask.model {
            Some(m) => allowed
                .iter()
                .find(|(d, _)| d.get("id").and_then(Value::as_str) == Some(m.as_str())),
            None => allowed.iter().find(|(d, _)| d["type"] != "embedding"),
        };
        let Some((descriptor, overrides)) = chosen else {
            return Err(HostError::NoModel(assistant.id.clone()));
        };
        let mut messages = Vec::new();
        if let Some(i) = instructions.filter(|i| !i.is_empty()) {
            messages.push(json!({"role": "system", "content": i}));
        }
        messages.extend(ask.messages.clone());
        let mut request =
            json!({ "model": descriptor["id"], "messages": messages, "stream": true });
        for (k, v) in ask.parameters.iter().filter(|(_, v)| !v.is_null()) {
            request[k] = v.clone();
        }
        let request = models::apply_overrides(request, overrides.as_ref());
        let provider = self.inner.provider.clone();
        let (tx, out) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let (dtx, mut drx) = mpsc::unbounded_channel::<String>();
            let chat = provider.chat(request, Some(dtx));
            tokio::pin!(chat);
            let result = loop {
                tokio::select! {
                    d = drx.recv() => if let Some(d) = d { let _ = tx.send(Reply::Delta(d)); },
                    r = &mut chat => break r,
                }
            };
            while let Ok(d) = drx.try_recv() {
                let _ = tx.send(Reply::Delta(d));
            }
            let _ = tx.send(match result {
                Ok(v) => {
                    let text = v["choices"][0]["message"]["content"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(Reply::Meta(v));
                    Reply::Done(text)
                }
                Err(e) => Reply::Error {
                    message: format!("{e:#}"),
                    stack: String::new(),
                },
            });
        });
        Ok(Answer { rx: out })
    }
}

/// A cheap summary of a folder's state (paths, sizes, modification times),
/// for hot reload. `node_modules` counts by its lock file only, so a large
/// dependency tree is not walked on every request.
fn fingerprint(dir: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    fn walk(dir: &Path, h: &mut impl Hasher, depth: u32) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let name = e.file_name();
            if name == ".git" {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            path.hash(h);
            meta.len().hash(h);
            if let Ok(t) = meta.modified() {
                t.hash(h);
            }
            if name == "node_modules" {
                if let Ok(m) = std::fs::metadata(path.join(".package-lock.json")) {
                    m.len().hash(h);
                    m.modified().ok().hash(h);
                }
            } else if meta.is_dir() && depth < 8 {
                walk(&path, h, depth + 1);
            }
        }
    }
    walk(dir, &mut h, 0);
    h.finish()
}
