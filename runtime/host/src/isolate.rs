//! One assistant's isolate: a thread that owns a `JsRuntime` (which is
//! `!Send`) and its own single-threaded tokio runtime, so one assistant's
//! work never blocks another's.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use deno_core::{JsRuntime, PollEventLoopOptions, RuntimeOptions, v8};
use jan_assistant::Assistant;
use jan_events::{Bus, Grants, Pattern};
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use crate::ext::{Ctx, jan_core};
use crate::loader::{Loader, file_url};
use crate::models::{AllowedModel, ModelProvider};
use crate::replies::Replies;

/// Whether the isolate finished loading its modules.
pub type Readiness = Option<Result<(), String>>;

/// The host's handle on a running isolate.
pub struct Isolate {
    pub generation: u64,
    pub ready: watch::Receiver<Readiness>,
    shutdown: Option<oneshot::Sender<()>>,
    v8: Arc<Mutex<Option<v8::IsolateHandle>>>,
    alive: Arc<AtomicBool>,
    /// Why it was stopped, when the host stopped it.
    stop_reason: Arc<Mutex<Option<String>>>,
}

pub struct Spawn {
    pub assistant: Assistant,
    pub generation: u64,
    pub bus: Bus,
    pub replies: Replies,
    pub provider: Arc<dyn ModelProvider>,
}

impl Isolate {
    pub fn spawn(s: Spawn) -> std::io::Result<Isolate> {
        let (ready_tx, ready) = watch::channel(None);
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let v8_slot = Arc::new(Mutex::new(None));
        let alive = Arc::new(AtomicBool::new(true));
        let stop_reason = Arc::new(Mutex::new(None));
        let generation = s.generation;
        let name = format!("assistant:{}", s.assistant.id);
        {
            let v8_slot = v8_slot.clone();
            let alive = alive.clone();
            let stop_reason = stop_reason.clone();
            std::thread::Builder::new().name(name).spawn(move || {
                let id = s.assistant.id.clone();
                let replies = s.replies.clone();
                let bus = s.bus.clone();
                let heap_hit = Arc::new(AtomicBool::new(false));
                let outcome = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(run(s, ready_tx, shutdown_rx, v8_slot, heap_hit.clone())),
                    Err(e) => Err(format!("cannot start the assistant's runtime: {e}")),
                };
                alive.store(false, Ordering::SeqCst);
                bus.unsubscribe_owner(&id);
                let reason = stop_reason
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let message = if heap_hit.load(Ordering::SeqCst) {
                    format!("assistant '{id}' ran out of memory (its heap limit) and was restarted")
                } else if let Some(r) = reason {
                    r
                } else {
                    match outcome {
                        Ok(()) => format!("assistant '{id}' stopped"),
                        Err(e) => format!("assistant '{id}' crashed: {e}"),
                    }
                };
                if !message.ends_with("stopped") {
                    tracing::warn!(assistant = %id, "{message}");
                }
                replies.fail_generation(&id, generation, &message);
            })?;
        }
        Ok(Isolate {
            generation,
            ready,
            shutdown: Some(shutdown_tx),
            v8: v8_slot,
            alive,
            stop_reason,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Stops the isolate: wakes it if it is idle, and terminates running JS
    /// (an infinite loop included). Open requests fail with `reason`.
    pub fn stop(&mut self, reason: &str) {
        *self.stop_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_string());
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.v8.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            h.terminate_execution();
        }
    }
}

impl Drop for Isolate {
    fn drop(&mut self) {
        if self.is_alive() {
            self.stop("assistant reloaded");
        }
    }
}

async fn run(
    s: Spawn,
    ready: watch::Sender<Readiness>,
    shutdown: oneshot::Receiver<()>,
    v8_slot: Arc<Mutex<Option<v8::IsolateHandle>>>,
    heap_hit: Arc<AtomicBool>,
) -> Result<(), String> {
    let a = &s.assistant;
    let loader = Rc::new(Loader::new(a.dir.clone()));
    let (inbox_tx, inbox_rx) = tokio::sync::mpsc::unbounded_channel();
    let grants = match a.allowed_events() {
        None => Grants::All,
        Some(list) => Grants::Only(list.iter().map(|p| Pattern::new(p.clone())).collect()),
    };
    let models = allowed_models(a, s.provider.as_ref());
    let ctx = Ctx {
        id: a.id.clone(),
        topic: a.topic(),
        assistant: a.resolved(),
        grants,
        bus: s.bus.clone(),
        inbox_tx,
        inbox_rx: Rc::new(RefCell::new(inbox_rx)),
        subs: HashMap::new(),
        replies: s.replies.clone(),
        provider: s.provider.clone(),
        models,
        loader: loader.clone(),
        started: Instant::now(),
        streams: HashMap::new(),
        stream_tasks: HashMap::new(),
        next_stream: 0,
    };
    let heap_bytes = (a.heap_mb() as usize).saturating_mul(1 << 20);
    let mut runtime = JsRuntime::new(RuntimeOptions {
        module_loader: Some(loader.clone()),
        extensions: vec![jan_core::init(ctx)],
        create_params: Some(v8::CreateParams::default().heap_limits(0, heap_bytes)),
        ..Default::default()
    });
    let handle = runtime.v8_isolate().thread_safe_handle();
    *v8_slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle.clone());
    runtime.add_near_heap_limit_callback(move |current, _initial| {
        heap_hit.store(true, Ordering::SeqCst);
        handle.terminate_execution();
        // Room for the termination to unwind.
        current * 2
    });

    let loaded = load_modules(&mut runtime, a).await;
    let failed = loaded.is_err();
    let _ = ready.send(Some(loaded.clone()));
    if failed {
        return loaded;
    }
    tokio::select! {
        r = runtime.run_event_loop(PollEventLoopOptions::default()) => r.map_err(|e| e.to_string()),
        _ = shutdown => Ok(()),
    }
}

/// Loads `src/index.*`, then `src/process.*` beside it.
async fn load_modules(runtime: &mut JsRuntime, a: &Assistant) -> Result<(), String> {
    let one_line = |e: deno_core::error::CoreError| -> String {
        let s = e.to_string();
        s.trim().to_string()
    };
    if let Some(entry) = a.entry_point() {
        let url = file_url(&entry).map_err(|e| e.to_string())?;
        let id = runtime.load_main_es_module(&url).await.map_err(one_line)?;
        let eval = runtime.mod_evaluate(id);
        runtime
            .with_event_loop_promise(Box::pin(eval), PollEventLoopOptions::default())
            .await
            .map_err(one_line)?;
    }
    if let Some(bg) = a.background_module() {
        let url = file_url(&bg).map_err(|e| e.to_string())?;
        let id = runtime.load_side_es_module(&url).await.map_err(one_line)?;
        let eval = runtime.mod_evaluate(id);
        runtime
            .with_event_loop_promise(Box::pin(eval), PollEventLoopOptions::default())
            .await
            .map_err(one_line)?;
    }
    Ok(())
}

/// The descriptors of the models an assistant may use, each with its
/// parameter overrides from assistant.json.
pub fn allowed_models(a: &Assistant, provider: &dyn ModelProvider) -> Vec<AllowedModel> {
    let installed = provider.list();
    match a.allowed_models() {
        // All installed: chat models first, so `models[0]` can chat.
        None => {
            let (embed, chat): (Vec<Value>, Vec<Value>) = installed
                .into_iter()
                .partition(|d| d["type"] == "embedding");
            chat.into_iter().chain(embed).map(|d| (d, None)).collect()
        }
        Some(refs) => refs
            .iter()
            .filter_map(|r| {
                installed
                    .iter()
                    .find(|d| d.get("id").and_then(Value::as_str) == Some(r.id()))
                    .map(|d| (d.clone(), r.parameters().cloned()))
            })
            .collect(),
    }
}
