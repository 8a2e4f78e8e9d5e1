//! The assistant host: loads assistant folders, runs each one's code in its
//! own isolate, and answers requests to assistants.
//!
//! A request to an assistant is an event on `assistant:<id>` with payload
//! `{ id, type: "message", thread_id, messages, instructions, model, tools }`.
//! An assistant whose code handles that topic answers through the handler's
//! return value or by emitting on its own topic (see js-prelude/99_main.js);
//! any other assistant gets the default answer: a turn of jan-turn's engine
//! on its model, with its instructions as the system message and its
//! registered tools run inside the turn.

mod ext;
mod fetch;
mod intl;
mod isolate;
mod loader;
mod node;
pub mod permissions;
mod replies;
pub mod resolve;
pub mod tools;
mod websocket;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use jan_assistant::{Assistant, DataDir, LoadError};
use jan_events::Bus;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use isolate::{Isolate, Spawn};
/// The model side of `@janhq/core`: the provider interface.
pub use jan_provider as models;
pub use jan_turn::{
    Ask, Item, MAX_ROUNDS, MAX_TOOL_OUTPUT, ModelChoiceError, ToolCall, ToolRun, Truncation,
    TurnError, TurnEvent,
};
pub use models::{ModelProvider, NO_MODEL_HELP, NoModels};
use replies::Replies;

/// The most an answer's text may hold (bytes): a run whose reply grows past
/// it fails, and nothing that large is stored.
pub const MAX_REPLY: usize = 4 << 20;

/// Why a request could not be answered at all.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("no assistant '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("assistant '{id}' failed to start: {message}")]
    Start { id: String, message: String },
    /// No model can answer (none installed, none allowed, or the one
    /// asked for is not allowed).
    #[error(transparent)]
    Model(#[from] ModelChoiceError),
    #[error("cannot start a thread for assistant '{0}': {1}")]
    Thread(String, std::io::Error),
    #[error("assistant '{0}' is overloaded: its queue of events is full; try again later")]
    Busy(String),
}

/// A request that has not finished after this many times its time budget
/// (or ten minutes, if that is longer) fails, even though its code is not
/// using the CPU (it waits on something that never comes).
const WALL_LIMIT_FACTOR: u32 = 10;
const WALL_LIMIT_MIN: Duration = Duration::from_secs(600);

/// The wall-time cap for a request (or for loading) with this budget of
/// CPU time: generous, since waiting on models or a busy machine is fine.
fn wall_limit(budget: Duration) -> Duration {
    (budget * WALL_LIMIT_FACTOR).max(WALL_LIMIT_MIN)
}

/// How long a request waits for other assistants that are still loading
/// (so that the handlers they register at start-up are on the bus). An
/// assistant loading for longer than this after its start no longer holds
/// anyone up.
const STARTUP_GRACE: Duration = Duration::from_secs(3);

/// The answer to one request, as it arrives.
pub struct Answer {
    rx: mpsc::UnboundedReceiver<TurnEvent>,
}

impl From<mpsc::UnboundedReceiver<TurnEvent>> for Answer {
    /// A turn's events as an answer (a turn without an assistant).
    fn from(rx: mpsc::UnboundedReceiver<TurnEvent>) -> Answer {
        Answer { rx }
    }
}

impl Answer {
    /// The next piece; `None` after `Done` or `Error`.
    pub async fn next(&mut self) -> Option<TurnEvent> {
        self.rx.recv().await
    }

    /// Waits for the whole text.
    pub async fn text(mut self) -> Result<String, String> {
        let mut streamed = String::new();
        while let Some(r) = self.next().await {
            match r {
                TurnEvent::Text(d) => streamed.push_str(&d),
                TurnEvent::Done(t) => return Ok(if t.is_empty() { streamed } else { t }),
                TurnEvent::Error(e) => return Err(e.message),
                _ => {}
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
    /// Where assistants not loaded yet are looked up by id (`jan run`
    /// loads one folder, and the others on demand).
    library: Mutex<Option<DataDir>>,
    /// The runtime the host was made on: watchdogs and requests between
    /// assistants run there, never on an assistant's own thread (which a
    /// looping assistant would block).
    runtime: Option<tokio::runtime::Handle>,
}

/// A handle on the host that does not keep it alive (held by isolates).
#[derive(Clone)]
pub(crate) struct WeakHost(Weak<Inner>);

impl WeakHost {
    /// Asks assistant `id` on the host's runtime and waits (at most
    /// `timeout`) for the whole text.
    pub async fn request(&self, id: String, ask: Ask, timeout: Duration) -> Result<String, String> {
        let host = Host {
            inner: self.0.upgrade().ok_or("the host has stopped")?,
        };
        let work = async move {
            let answer = host.ask(&id, ask).await.map_err(|e| e.to_string())?;
            answer.text().await
        };
        let timed = async move {
            tokio::time::timeout(timeout, work)
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
        };
        let runtime = self.0.upgrade().and_then(|i| i.runtime.clone());
        match runtime {
            Some(rt) => rt.spawn(timed).await.unwrap_or_else(|e| Err(e.to_string())),
            None => timed.await,
        }
    }
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
                library: Mutex::default(),
                runtime: tokio::runtime::Handle::try_current().ok(),
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
        self.inner.bus.confine(&assistant.id);
        Isolate::spawn(Spawn {
            assistant: assistant.clone(),
            generation: self.inner.generations.fetch_add(1, Ordering::SeqCst) + 1,
            bus: self.inner.bus.clone(),
            replies: self.inner.replies.clone(),
            provider: self.inner.provider.clone(),
            host: WeakHost(Arc::downgrade(&self.inner)),
            runtime: self.inner.runtime.clone(),
            inbox: jan_events::queue(),
            tools: tools::Registered::default(),
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

    /// Lets requests reach the data folder's assistants without loading
    /// them all: one that is not loaded is looked up there by id and loaded
    /// when first asked.
    pub fn set_library(&self, data: DataDir) {
        *self.inner.library.lock().unwrap_or_else(|e| e.into_inner()) = Some(data);
    }

    /// Loads the library's assistant `id`, if it has one.
    fn load_from_library(&self, id: &str) -> Option<Assistant> {
        let data = self
            .inner
            .library
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let dir = data
            .list_assistants()
            .into_iter()
            .find_map(|(dir, r)| r.ok().filter(|a| a.id == id).map(|_| dir))?;
        self.load(&dir).ok()
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
        if !self.slots().contains_key(id) {
            self.load_from_library(id);
        }
        let (dir, old_fp, dead) = {
            let slots = self.slots();
            let slot = slots
                .get(id)
                .ok_or_else(|| HostError::NotFound(id.to_string()))?;
            // An isolate whose code failed to load stays failed (and says
            // why) until its folder changes; one that died later restarts.
            let dead = slot
                .isolate
                .as_ref()
                .is_some_and(|i| !i.is_alive() && !i.load_failed());
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
        let (assistant, ready, generation, clock, exited) = {
            let slots = self.slots();
            let slot = slots
                .get(id)
                .ok_or_else(|| HostError::NotFound(id.to_string()))?;
            let iso = slot.isolate.as_ref();
            (
                slot.assistant.clone(),
                iso.map(|i| i.ready.clone()),
                iso.map(|i| i.generation),
                iso.map(|i| i.clock.clone()),
                iso.and_then(|i| i.exit_reason()),
            )
        };
        let budget = Duration::from_millis(assistant.timeout_ms());
        self.others_started(id, budget).await;
        if let Some(mut ready) = ready {
            // Loading's own work is bounded by the isolate's watchdog (CPU
            // time); this bounds the wait in wall time.
            let wait = wall_limit(budget);
            let started = tokio::time::timeout(wait, ready.wait_for(|r| r.is_some())).await;
            let state = match started {
                Ok(Ok(r)) => r.clone().unwrap_or(Ok(())),
                Ok(Err(_)) => Err("the assistant stopped while starting".into()),
                Err(_) => Err(format!(
                    "its modules did not finish loading within {} ms",
                    wait.as_millis()
                )),
            };
            if let Err(message) = state {
                return Err(HostError::Start {
                    id: id.to_string(),
                    message,
                });
            }
        }
        // Code that loaded and then died (it was just reloaded, and died
        // again) must not be answered for by the default model.
        if let Some(message) = exited {
            return Err(HostError::Start {
                id: id.to_string(),
                message,
            });
        }
        let topic = assistant.topic();
        if let (Some(generation), Some(clock), true) =
            (generation, clock, self.inner.bus.has_subscriber(id, &topic))
        {
            let req_id = format!("req_{}", uuid::Uuid::new_v4().simple());
            let rx = self.inner.replies.register(&req_id, id, generation);
            let sent = self.inner.bus.publish(
                "host",
                &topic,
                json!({
                    "id": req_id,
                    "type": "message",
                    "thread_id": ask.thread_id,
                    "messages": jan_turn::to_chat(&ask.conversation()),
                    "instructions": ask.instructions_for(&assistant),
                    "model": ask.model,
                    "tools": ask.tools,
                }),
                ask.hops,
                Some(id),
            );
            if !sent.reached {
                self.inner.replies.forget(&req_id);
                return Err(HostError::Busy(id.to_string()));
            }
            return Ok(self.watch(id, generation, clock, req_id, rx, budget));
        }
        self.default_answer(&assistant, ask)
    }

    /// Waits until every other isolate started in the last
    /// [`STARTUP_GRACE`] has finished loading its modules (at most until its
    /// grace ends), so that the handlers it registers at start-up are on the
    /// bus before a request can make anyone emit to them. An assistant stuck
    /// while loading holds nobody up for longer than that.
    async fn others_started(&self, id: &str, budget: Duration) {
        let waiting: Vec<_> = self
            .slots()
            .iter()
            .filter(|(k, _)| k.as_str() != id)
            .filter_map(|(_, s)| s.isolate.as_ref())
            .filter(|i| i.ready.borrow().is_none())
            .map(|i| (i.ready.clone(), i.spawned_at + STARTUP_GRACE.min(budget)))
            .collect();
        for (mut ready, until) in waiting {
            let until = tokio::time::Instant::from_std(until);
            let _ = tokio::time::timeout_at(until, ready.wait_for(|r| r.is_some())).await;
        }
    }

    /// Enforces the time budget on a request to an assistant's code. The
    /// budget counts the assistant's own work (CPU time of its isolate's
    /// thread since the request began), not time spent awaiting a model or
    /// a tool. Past it, the request fails and the isolate is terminated and
    /// restarted. A request that is still open after a much longer wall
    /// time fails without a restart (its code is idle).
    fn watch(
        &self,
        id: &str,
        generation: u64,
        clock: isolate::CpuClock,
        req_id: String,
        mut rx: mpsc::UnboundedReceiver<TurnEvent>,
        budget: Duration,
    ) -> Answer {
        let (tx, out) = mpsc::unbounded_channel();
        let host = self.clone();
        let id = id.to_string();
        let task = async move {
            let wall = wall_limit(budget);
            let wall_deadline = tokio::time::Instant::now() + wall;
            let start = clock.now();
            let mut tick = tokio::time::interval(isolate::WATCH_TICK);
            loop {
                tokio::select! {
                    r = rx.recv() => {
                        let Some(r) = r else { break };
                        let last = matches!(r, TurnEvent::Done(_) | TurnEvent::Error(_));
                        let _ = tx.send(r);
                        if last { break }
                    }
                    _ = tick.tick() => {
                        let over_budget = clock.now().saturating_sub(start) > budget;
                        let over_wall = tokio::time::Instant::now() >= wall_deadline;
                        if !over_budget && !over_wall {
                            continue;
                        }
                        host.inner.replies.forget(&req_id);
                        let message = if over_budget {
                            format!(
                                "assistant '{id}' ran past its time budget of {} ms and was restarted",
                                budget.as_millis()
                            )
                        } else {
                            format!("assistant '{id}' did not answer within {} s", wall.as_secs())
                        };
                        tracing::warn!(assistant = %id, "{message}");
                        // Restart first, so a request sent right after this
                        // error meets the new isolate, not the dying one.
                        if over_budget {
                            host.restart(&id, generation, &message);
                        }
                        let _ = tx.send(TurnEvent::Error(TurnError::new(message)));
                        break;
                    }
                }
            }
        };
        match &self.inner.runtime {
            Some(rt) => rt.spawn(task),
            None => tokio::spawn(task),
        };
        Answer { rx: out }
    }

    /// The tools assistant `id`'s code registered (none if it has no code
    /// or has not loaded).
    pub(crate) fn registered(&self, id: &str) -> tools::Registered {
        self.slots()
            .get(id)
            .and_then(|s| s.isolate.as_ref())
            .map(|i| i.tools.clone())
            .unwrap_or_default()
    }

    /// The tools assistant `id` registered, as OpenAI function tools, once
    /// its code has loaded (waiting at most for its start-up grace).
    pub async fn registered_tools(&self, id: &str) -> Vec<Value> {
        let ready = self
            .slots()
            .get(id)
            .and_then(|s| s.isolate.as_ref())
            .map(|i| i.ready.clone());
        if let Some(mut ready) = ready {
            let _ = tokio::time::timeout(STARTUP_GRACE, ready.wait_for(|r| r.is_some())).await;
        }
        self.registered(id).list()
    }

    /// Runs `call` (an OpenAI tool call) with assistant `id`'s registered
    /// tool, under the same time budget as a request, and returns its
    /// output; a failure is an output too (`{"error": …}`), for the model.
    pub(crate) async fn call_tool(
        &self,
        id: &str,
        call: &ToolCall,
        thread_id: Option<&str>,
        hops: u32,
    ) -> String {
        let failed = |m: String| json!({"error": m}).to_string();
        let (assistant, isolate) = {
            let slots = self.slots();
            let Some(slot) = slots.get(id) else {
                return failed(format!("assistant '{id}' is not loaded"));
            };
            let i = slot.isolate.as_ref();
            (
                slot.assistant.clone(),
                i.map(|i| (i.generation, i.clock.clone(), i.inbox.clone())),
            )
        };
        let Some((generation, clock, inbox)) = isolate else {
            return failed(format!("assistant '{id}' has no code to run tools"));
        };
        let req_id = format!("req_{}", uuid::Uuid::new_v4().simple());
        let rx = self.inner.replies.register(&req_id, id, generation);
        let event = jan_events::Event {
            topic: assistant.topic(),
            payload: json!({
                "id": req_id, "type": "tool_call", "call_id": call.id,
                "name": call.name, "arguments": call.arguments,
                "thread_id": thread_id,
            }),
            source: "host".into(),
            hops: hops + 1,
        };
        if inbox.try_send(Arc::new(event)).is_err() {
            self.inner.replies.forget(&req_id);
            return failed(format!(
                "assistant '{id}' is overloaded: its queue of events is full"
            ));
        }
        let budget = Duration::from_millis(assistant.timeout_ms());
        let answer = self.watch(id, generation, clock, req_id, rx, budget);
        answer.text().await.unwrap_or_else(failed)
    }

    /// The answer of an assistant without a handler: a turn on its model
    /// (see [`jan_turn::choose_model`]), with its instructions as the
    /// system message, the caller's tools and its registered ones offered,
    /// and its registered tools run inside the turn.
    fn default_answer(&self, assistant: &Assistant, ask: Ask) -> Result<Answer, HostError> {
        let provider = self.inner.provider.clone();
        let model = jan_turn::choose_model(assistant, provider.as_ref(), ask.model.as_deref())?;
        let registered = self.registered(&assistant.id);
        let offered = tools::offered(&ask.tools, &registered.list());
        let request = jan_turn::chat_request(assistant, &ask, &model, offered);
        let runner = tools::Runner {
            host: self.clone(),
            assistant: assistant.id.clone(),
            registered,
            thread_id: ask.thread_id.clone(),
            hops: ask.hops,
        };
        Ok(Answer {
            rx: jan_turn::start(provider, request, runner),
        })
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
