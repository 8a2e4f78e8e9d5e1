//! One assistant's isolate: a thread that owns a `JsRuntime` (which is
//! `!Send`) and its own single-threaded tokio runtime, so one assistant's
//! work never blocks another's.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use deno_core::{JsRuntime, PollEventLoopOptions, RuntimeOptions, v8};
use jan_assistant::Assistant;
use jan_events::{Bus, Grants, Pattern};
use tokio::sync::{oneshot, watch};

use crate::WeakHost;
use crate::ext::{Ctx, jan_core};
use crate::loader::{Loader, file_url};
use crate::models::ModelProvider;
use crate::permissions::Permissions;
use crate::replies::Replies;

/// How often watchdogs look at an isolate's CPU time.
pub(crate) const WATCH_TICK: Duration = Duration::from_millis(20);

/// The CPU time used by one isolate's thread: what its time budget counts.
/// Models run on other threads, so awaiting one costs the assistant
/// nothing. (Elsewhere than Linux: wall time since the thread started.)
#[derive(Clone, Default)]
pub(crate) struct CpuClock(Arc<OnceLock<ThreadClock>>);

#[derive(Clone, Copy)]
struct ThreadClock {
    #[cfg(target_os = "linux")]
    id: libc::clockid_t,
    #[cfg(not(target_os = "linux"))]
    started: Instant,
}

impl CpuClock {
    /// Called on the isolate's own thread, once.
    fn start_here(&self) {
        #[cfg(target_os = "linux")]
        {
            let mut id: libc::clockid_t = 0;
            // SAFETY: pthread_self() is the calling thread, `id` a valid out-pointer.
            if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) } == 0 {
                let _ = self.0.set(ThreadClock { id });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = self.0.set(ThreadClock {
            started: Instant::now(),
        });
    }

    /// Time used so far (zero before the thread started or after it ended).
    pub fn now(&self) -> Duration {
        let Some(c) = self.0.get() else {
            return Duration::ZERO;
        };
        #[cfg(target_os = "linux")]
        {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid out-pointer; a clock of a thread that
            // has ended gives an error, not undefined behaviour.
            if unsafe { libc::clock_gettime(c.id, &mut ts) } != 0 {
                return Duration::ZERO;
            }
            Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
        }
        #[cfg(not(target_os = "linux"))]
        c.started.elapsed()
    }
}

/// Whether the isolate finished loading its modules.
pub type Readiness = Option<Result<(), String>>;

/// The host's handle on a running isolate.
pub struct Isolate {
    id: String,
    pub generation: u64,
    pub ready: watch::Receiver<Readiness>,
    pub spawned_at: Instant,
    pub(crate) clock: CpuClock,
    shutdown: Option<oneshot::Sender<()>>,
    v8: Arc<Mutex<Option<v8::IsolateHandle>>>,
    alive: Arc<AtomicBool>,
    /// Why it was stopped, when the host stopped it.
    stop_reason: Arc<Mutex<Option<String>>>,
    /// Why its thread ended, once it has.
    exit: Arc<Mutex<Option<String>>>,
    /// Ends a load in progress (see `run`).
    abort_load: Arc<tokio::sync::Notify>,
    /// The isolate's event queue: the host delivers tool calls here
    /// directly, not through the bus (no one else may see them).
    pub(crate) inbox: jan_events::Sender,
    /// The tools its code registered.
    pub(crate) tools: crate::tools::Registered,
}

pub struct Spawn {
    pub assistant: Assistant,
    pub generation: u64,
    pub bus: Bus,
    pub replies: Replies,
    pub provider: Arc<dyn ModelProvider>,
    pub host: WeakHost,
    /// Where the loading watchdog runs (not on the isolate's thread).
    pub runtime: Option<tokio::runtime::Handle>,
    /// The isolate's event queue (see [`Isolate::inbox`]).
    pub inbox: (jan_events::Sender, jan_events::Receiver),
    pub tools: crate::tools::Registered,
}

impl Isolate {
    pub fn spawn(s: Spawn) -> std::io::Result<Isolate> {
        let (ready_tx, ready) = watch::channel(None);
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let v8_slot = Arc::new(Mutex::new(None));
        let alive = Arc::new(AtomicBool::new(true));
        let stop_reason = Arc::new(Mutex::new(None));
        let exit = Arc::new(Mutex::new(None));
        let abort_load = Arc::new(tokio::sync::Notify::new());
        let inbox_tx = s.inbox.0.clone();
        let tools = s.tools.clone();
        let generation = s.generation;
        let s_id = s.assistant.id.clone();
        let name = format!("assistant:{}", s.assistant.id);
        let clock = CpuClock::default();
        let budget = Duration::from_millis(s.assistant.timeout_ms());
        let watchdog_rt = s.runtime.clone();
        let id = s.assistant.id.clone();
        {
            let v8_slot = v8_slot.clone();
            let alive = alive.clone();
            let stop_reason = stop_reason.clone();
            let clock = clock.clone();
            let exit = exit.clone();
            let abort_load = abort_load.clone();
            std::thread::Builder::new().name(name).spawn(move || {
                clock.start_here();
                let id = s.assistant.id.clone();
                let replies = s.replies.clone();
                let bus = s.bus.clone();
                let heap_hit = Arc::new(AtomicBool::new(false));
                let outcome = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(run(
                        s,
                        ready_tx,
                        shutdown_rx,
                        v8_slot,
                        heap_hit.clone(),
                        stop_reason.clone(),
                        abort_load,
                    )),
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
                *exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
            })?;
        }
        // Loading is bounded by the same budget as a request: a top-level
        // `while (true) {}` is stopped, and the assistant reports why.
        if let Some(rt) = watchdog_rt {
            let (ready, clock, v8_slot, stop_reason, alive, abort_load) = (
                ready.clone(),
                clock.clone(),
                v8_slot.clone(),
                stop_reason.clone(),
                alive.clone(),
                abort_load.clone(),
            );
            rt.spawn(async move {
                let mut tick = tokio::time::interval(WATCH_TICK);
                loop {
                    tick.tick().await;
                    if ready.borrow().is_some() || !alive.load(Ordering::SeqCst) {
                        return;
                    }
                    if clock.now() > budget {
                        let message = format!(
                            "assistant '{id}' did not finish loading its modules within its time budget of {} ms",
                            budget.as_millis()
                        );
                        *stop_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
                        if let Some(h) = v8_slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                            h.terminate_execution();
                        }
                        abort_load.notify_one();
                        return;
                    }
                }
            });
        }
        Ok(Isolate {
            id: s_id,
            generation,
            spawned_at: Instant::now(),
            clock,
            ready,
            shutdown: Some(shutdown_tx),
            v8: v8_slot,
            alive,
            stop_reason,
            exit,
            abort_load,
            inbox: inbox_tx,
            tools,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Why its thread ended (`None` while it runs).
    pub fn exit_reason(&self) -> Option<String> {
        self.exit.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Did its modules fail to load (so a restart would fail the same way)?
    pub fn load_failed(&self) -> bool {
        matches!(&*self.ready.borrow(), Some(Err(_)))
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
        if self.ready.borrow().is_none() {
            self.abort_load.notify_one();
        }
    }
}

impl Drop for Isolate {
    fn drop(&mut self) {
        if self.is_alive() {
            // Replacing an isolate stops it with its own reason first; a
            // drop is the host going away (`jan run` ending), not news.
            self.stop(&format!("assistant '{}' stopped", self.id));
        }
    }
}

async fn run(
    mut s: Spawn,
    ready: watch::Sender<Readiness>,
    shutdown: oneshot::Receiver<()>,
    v8_slot: Arc<Mutex<Option<v8::IsolateHandle>>>,
    heap_hit: Arc<AtomicBool>,
    stop_reason: Arc<Mutex<Option<String>>>,
    abort_load: Arc<tokio::sync::Notify>,
) -> Result<(), String> {
    let (inbox_tx, inbox_rx) = std::mem::replace(&mut s.inbox, jan_events::queue());
    let tools = s.tools.clone();
    let a = &s.assistant;
    let permissions = Permissions::of(a);
    let loader = Rc::new(Loader::new(permissions.clone()));
    let grants = match a.allowed_events() {
        None => Grants::All,
        Some(list) => Grants::Only(list.iter().map(|p| Pattern::new(p.clone())).collect()),
    };
    let models = jan_turn::allowed_models(a, s.provider.as_ref());
    let ctx = Ctx {
        max_bytes: (a.heap_mb() as usize).saturating_mul(1 << 20),
        open_requests: Default::default(),
        id: a.id.clone(),
        generation: s.generation,
        topic: a.topic(),
        assistant: a.resolved(),
        grants,
        permissions,
        bus: s.bus.clone(),
        host: s.host.clone(),
        inbox_tx,
        inbox_rx: Rc::new(RefCell::new(inbox_rx)),
        subs: HashMap::new(),
        replies: s.replies.clone(),
        provider: s.provider.clone(),
        models,
        loader: loader.clone(),
        started: Instant::now(),
        loaded: false,
        streams: HashMap::new(),
        stream_tasks: HashMap::new(),
        next_stream: 0,
        fetches: Default::default(),
        sockets: Default::default(),
        tools,
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
    runtime.add_near_heap_limit_callback(move |current, initial| {
        handle.terminate_execution();
        // Room for the termination to unwind, once: a quarter more than the
        // limit (at least 16 MiB). Raising it again on every call (the
        // callback fires while the runaway code is still unwinding) is how
        // a 256 MB limit once let the process reach 2 GB; past this margin
        // allocations fail inside the engine instead.
        if heap_hit.swap(true, Ordering::SeqCst) {
            current
        } else {
            initial + (initial / 4).max(16 << 20)
        }
    });

    // On QuickJS a module evaluation that is terminated never settles, so
    // the loading watchdog also ends the wait itself.
    let loading = tokio::select! {
        r = load_and_settle(&mut runtime, a) => r,
        _ = abort_load.notified() => Err("loading was stopped".to_string()),
    };
    let loaded = loading.map_err(|e| {
        // Stopped by the loading watchdog: say so rather than "terminated".
        stop_reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or(e)
    });
    let failed = loaded.is_err();
    if !failed {
        runtime.op_state().borrow_mut().borrow_mut::<Ctx>().loaded = true;
    }
    let _ = ready.send(Some(loaded.clone()));
    if failed {
        return loaded;
    }
    tokio::select! {
        r = runtime.run_event_loop(PollEventLoopOptions::default()) => r.map_err(|e| e.to_string()),
        _ = shutdown => Ok(()),
    }
}

/// Loads the modules, then lets the event loop turn a few times: on the
/// QuickJS engine a module that throws while evaluating can leave its
/// evaluation looking fulfilled and report the error as an unhandled
/// rejection a tick later. Until `loaded` is set such a rejection is not
/// handled by the prelude, so it surfaces here and fails the load.
async fn load_and_settle(runtime: &mut JsRuntime, a: &Assistant) -> Result<(), String> {
    load_modules(runtime, a).await?;
    for _ in 0..3 {
        tokio::select! {
            biased;
            r = runtime.run_event_loop(PollEventLoopOptions::default()) => {
                return r.map_err(|e| e.to_string().trim().to_string());
            }
            _ = tokio::task::yield_now() => {}
        }
    }
    Ok(())
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
