//! The `@janhq/core` extension: the ops behind `events`, `models`, the
//! request/reply contract, CommonJS loading and the web globals. The JS that
//! wraps them is in `js-prelude/`; assistant code never calls an op directly.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use deno_core::{ExtensionFileSource, OpState, ascii_str_include, op2};
use deno_error::JsErrorBox;
use jan_events::{Bus, Grants, MAX_HOPS, Pattern, SubscriptionId, topic_owner};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::loader::{Loader, file_url};
use crate::models::{AllowedModel, ChatEvent, ModelProvider, apply_overrides};
use crate::permissions::Permissions;
use crate::replies::Replies;
use crate::resolve::Mode;
use crate::{Ask, TurnError, TurnEvent, WeakHost};

/// Everything one isolate's ops need, kept in its `OpState`.
pub(crate) struct Ctx {
    /// `events.request` calls waiting for an answer (at most
    /// [`MAX_OPEN_REQUESTS`]).
    pub open_requests: Rc<std::cell::Cell<usize>>,
    /// The most one op may hand the isolate at once (a file read, an
    /// inflated buffer): its heap limit, so memory outside the heap stays
    /// bounded too.
    pub max_bytes: usize,
    pub id: String,
    /// Which start of this assistant this isolate is: replies are accepted
    /// only for requests made to this generation.
    pub generation: u64,
    pub topic: String,
    pub assistant: Value,
    pub grants: Grants,
    pub permissions: Permissions,
    pub bus: Bus,
    pub host: WeakHost,
    pub inbox_tx: jan_events::Sender,
    pub inbox_rx: Rc<RefCell<jan_events::Receiver>>,
    pub subs: HashMap<String, SubscriptionId>,
    pub replies: Replies,
    pub provider: Arc<dyn ModelProvider>,
    /// Allowed models: descriptor and the assistant's parameter overrides.
    pub models: Vec<AllowedModel>,
    pub loader: Rc<Loader>,
    pub started: Instant,
    /// Set by the host once the modules have loaded.
    pub loaded: bool,
    pub streams: HashMap<u32, Rc<RefCell<mpsc::UnboundedReceiver<String>>>>,
    pub stream_tasks: HashMap<u32, tokio::task::JoinHandle<()>>,
    pub next_stream: u32,
    pub fetches: crate::fetch::Fetches,
    pub sockets: crate::websocket::Sockets,
    /// Tools registered by `tools.register`.
    pub tools: crate::tools::Registered,
}

impl Ctx {
    fn model(&self, id: &str) -> Result<&AllowedModel, JsErrorBox> {
        self.models
            .iter()
            .find(|(d, _)| d.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| {
                JsErrorBox::generic(format!(
                    "model '{id}' is not available to assistant '{}'",
                    self.id
                ))
            })
    }

    fn request_for(&self, model: &str, request: Value) -> Result<Value, JsErrorBox> {
        let (_, overrides) = self.model(model)?;
        let mut request = apply_overrides(request, overrides.as_ref());
        match request.as_object_mut() {
            Some(obj) => {
                obj.insert("model".into(), Value::String(model.to_string()));
            }
            None => return Err(JsErrorBox::type_error("the request must be an object")),
        }
        Ok(request)
    }
}

/// The longest `events.request` may wait.
const MAX_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// How many `events.request` calls one isolate may have waiting: each
/// holds a task and a slot in another assistant's queue.
const MAX_OPEN_REQUESTS: usize = 64;

/// Counts one open request for as long as it lives (also when the op is
/// dropped unfinished).
struct OpenRequest(Rc<std::cell::Cell<usize>>);

impl Drop for OpenRequest {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// How many topic patterns one isolate may subscribe to: every publish
/// walks every subscription, so one assistant must not add millions.
const MAX_SUBSCRIPTIONS: usize = 1024;

/// Another assistant's request topic (or a pattern over them) needs a grant
/// that names it: `"*"` is not enough to read, or to write, users' turns.
fn names_other_assistants(c: &Ctx, pattern: &str) -> bool {
    pattern.starts_with(jan_events::ASSISTANT_TOPIC_PREFIX) && pattern != c.topic
}

fn explicitly_granted(c: &Ctx, p: &Pattern) -> bool {
    match &c.grants {
        Grants::All => false,
        Grants::Only(list) => list
            .iter()
            .any(|g| g.as_str().starts_with(jan_events::ASSISTANT_TOPIC_PREFIX) && p.within(g)),
    }
}

fn ctx(state: &mut OpState) -> &mut Ctx {
    state.borrow_mut::<Ctx>()
}

#[op2]
#[serde]
fn op_jan_init(state: &mut OpState) -> serde_json::Value {
    let c = ctx(state);
    let env: serde_json::Map<String, Value> = c
        .permissions
        .env()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({
        "assistant": c.assistant,
        "topic": c.topic,
        "models": c.models.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>(),
        "env": env,
        "root": c.permissions.root(),
        "os": {
            "arch": match std::env::consts::ARCH { "x86_64" => "x64", "aarch64" => "arm64", a => a },
            "platform": std::env::consts::OS,
            "type": if cfg!(target_os = "linux") { "Linux" } else if cfg!(target_os = "macos") { "Darwin" } else { "Windows_NT" },
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
    })
}

/// `tools.register(name, {description, parameters}, fn)`: records the
/// spec (the function stays in JS); throws on a bad name or schema.
#[op2]
fn op_jan_tools_register(
    state: &mut OpState,
    #[string] name: &str,
    #[serde] spec: serde_json::Value,
) -> Result<(), JsErrorBox> {
    let description = match &spec["description"] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        _ => {
            return Err(JsErrorBox::type_error(format!(
                "tools.register('{name}'): description must be a string"
            )));
        }
    };
    let parameters = Some(spec["parameters"].clone()).filter(|p| !p.is_null());
    let c = ctx(state);
    c.tools
        .register(name, description, parameters, c.provider.as_ref())
        .map_err(JsErrorBox::type_error)
}

#[op2(fast)]
fn op_jan_tools_unregister(state: &mut OpState, #[string] name: &str) {
    ctx(state).tools.unregister(name);
}

/// Writes a console line to the host log, tagged with the assistant id.
#[op2(fast)]
fn op_jan_log(state: &mut OpState, #[string] level: &str, #[string] message: &str) {
    let id = &ctx(state).id;
    match level {
        "error" => tracing::error!(target: "assistant", assistant = %id, "{message}"),
        "warn" => tracing::warn!(target: "assistant", assistant = %id, "{message}"),
        "debug" => tracing::debug!(target: "assistant", assistant = %id, "{message}"),
        _ => tracing::info!(target: "assistant", assistant = %id, "{message}"),
    }
}

/// Subscribes this isolate to `pattern`; throws if assistant.json's
/// `events` does not allow it. Other assistants' request topics carry
/// users' prompts: a pattern that names them needs a grant that names them
/// too (`"events": ["assistant:helper"]`); `"*"` is not enough. Through `*`
/// the bus never delivers them (see jan_events).
#[op2(fast)]
fn op_jan_events_subscribe(state: &mut OpState, #[string] pattern: &str) -> Result<(), JsErrorBox> {
    let c = ctx(state);
    let p = Pattern::new(pattern);
    let names_others = names_other_assistants(c, pattern);
    if !c.grants.allows_pattern(&p) || (names_others && !explicitly_granted(c, &p)) {
        return Err(JsErrorBox::generic(format!(
            "assistant '{}' may not subscribe to '{pattern}': not allowed by `events` in assistant.json{}",
            c.id,
            if names_others {
                " (another assistant's requests need a grant that names them, such as \"assistant:<id>\")"
            } else {
                ""
            }
        )));
    }
    if !c.subs.contains_key(pattern) {
        if c.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(JsErrorBox::generic(format!(
                "assistant '{}' may not subscribe to more than {MAX_SUBSCRIPTIONS} topic patterns",
                c.id
            )));
        }
        let id = c.bus.subscribe_with(&c.id, p, c.inbox_tx.clone());
        c.subs.insert(pattern.to_string(), id);
    }
    Ok(())
}

#[op2(fast)]
fn op_jan_events_unsubscribe(state: &mut OpState, #[string] pattern: &str) {
    let c = ctx(state);
    if let Some(id) = c.subs.remove(pattern) {
        c.bus.unsubscribe(id);
    }
}

/// Publishes on the bus; throws if `events` does not allow the topic.
/// `hops` is one more than the event being handled when the emit happens
/// inside its handler (synchronously), else 0: the prelude tracks it.
#[op2]
fn op_jan_events_emit(
    state: &mut OpState,
    #[string] topic: &str,
    #[serde] payload: serde_json::Value,
    #[smi] hops: u32,
) -> Result<(), JsErrorBox> {
    let c = ctx(state);
    let forging = names_other_assistants(c, topic) && !explicitly_granted(c, &Pattern::new(topic));
    if !c.grants.allows_topic(topic) || forging {
        return Err(JsErrorBox::generic(format!(
            "assistant '{}' may not emit on '{topic}': not allowed by `events` in assistant.json{}",
            c.id,
            if forging {
                " (another assistant's topic needs a grant that names it; to ask it, use events.request)"
            } else {
                ""
            }
        )));
    }
    c.bus.publish(&c.id, topic, payload, hops, None);
    Ok(())
}

/// The next event for this isolate, in arrival order.
#[op2]
#[serde]
async fn op_jan_events_next(state: Rc<RefCell<OpState>>) -> Option<serde_json::Value> {
    let rx = state.borrow().borrow::<Ctx>().inbox_rx.clone();
    let event = std::future::poll_fn(|cx| rx.borrow_mut().poll_recv(cx)).await?;
    Some(
        json!({ "topic": event.topic, "payload": event.payload, "source": event.source, "hops": event.hops }),
    )
}

/// `events.request(topic, payload, {timeout})`: asks the assistant of an
/// `assistant:<id>` topic, the way the host does (its handler, or its
/// default answer), and resolves to its text. Only that assistant can
/// answer, and only the asker sees the answer.
#[op2]
#[string]
async fn op_jan_events_request(
    state: Rc<RefCell<OpState>>,
    #[string] topic: String,
    #[serde] payload: serde_json::Value,
    timeout_ms: f64,
    #[smi] hops: u32,
) -> Result<String, JsErrorBox> {
    let (host, id) = {
        let s = state.borrow();
        let c = s.borrow::<Ctx>();
        if !c.grants.allows_topic(&topic) {
            return Err(JsErrorBox::generic(format!(
                "assistant '{}' may not emit on '{topic}': not allowed by `events` in assistant.json",
                c.id
            )));
        }
        if c.open_requests.get() >= MAX_OPEN_REQUESTS {
            return Err(JsErrorBox::generic(format!(
                "events.request from '{}': at most {MAX_OPEN_REQUESTS} requests may wait for answers at once",
                c.id
            )));
        }
        (c.host.clone(), c.id.clone())
    };
    let _open = {
        let s = state.borrow();
        let counter = s.borrow::<Ctx>().open_requests.clone();
        counter.set(counter.get() + 1);
        OpenRequest(counter)
    };
    let Some(target) = topic_owner(&topic).map(str::to_string) else {
        return Err(JsErrorBox::type_error(format!(
            "events.request: '{topic}' is not an assistant's topic; requests go to \"assistant:<id>\""
        )));
    };
    if hops > MAX_HOPS {
        return Err(JsErrorBox::generic(format!(
            "events.request from '{id}' to '{target}': more than {MAX_HOPS} requests in a chain (assistants asking each other in a loop?)"
        )));
    }
    let mut ask = Ask::from_request_payload(payload).map_err(JsErrorBox::type_error)?;
    ask.hops = hops;
    // At most ten minutes, whatever the caller asks (Infinity included).
    let timeout = std::time::Duration::try_from_secs_f64(timeout_ms.max(1.0) / 1000.0)
        .unwrap_or(MAX_REQUEST_TIMEOUT)
        .min(MAX_REQUEST_TIMEOUT);
    host.request(target.clone(), ask, timeout)
        .await
        .map_err(|e| JsErrorBox::generic(format!("events.request to '{target}': {e}")))
}

/// Answers request `id`: `delta` (a streamed piece), `done` (the whole
/// text) or `error` (`{ message, stack }`).
#[op2]
fn op_jan_reply(
    state: &mut OpState,
    #[string] id: &str,
    #[string] kind: &str,
    #[serde] value: serde_json::Value,
) {
    let c = ctx(state);
    if !c.replies.owned_by(id, &c.id, c.generation) {
        // Not a request made to this isolate: a stale id, or an attempt to
        // answer for another assistant.
        tracing::warn!(target: "assistant", assistant = %c.id, "reply to unknown request {id} ignored");
        return;
    }
    let reply = match kind {
        "delta" => TurnEvent::Text(value.as_str().unwrap_or_default().to_string()),
        "done" => TurnEvent::Done(value.as_str().unwrap_or_default().to_string()),
        "tool_calls" => match jan_turn::calls_from_json(&value) {
            Ok(calls) => TurnEvent::ToolCalls(calls),
            Err(message) => {
                tracing::error!(target: "assistant", assistant = %c.id, "request {id} failed: {message}");
                TurnEvent::Error(TurnError::new(message))
            }
        },
        _ => {
            let message = value["message"].as_str().unwrap_or("error").to_string();
            // deno_core has already source-mapped the stack: TypeScript
            // frames name .ts lines.
            let stack = value["stack"].as_str().unwrap_or_default().to_string();
            tracing::error!(target: "assistant", assistant = %c.id, "request {id} failed: {}", if stack.is_empty() { &message } else { &stack });
            TurnEvent::Error(TurnError {
                message,
                stack,
                cause: None,
            })
        }
    };
    c.replies.send(id, reply);
}

#[op2]
#[serde]
async fn op_jan_model_chat(
    state: Rc<RefCell<OpState>>,
    #[string] model: String,
    #[serde] request: serde_json::Value,
) -> Result<serde_json::Value, JsErrorBox> {
    let (provider, request) = {
        let s = state.borrow();
        let c = s.borrow::<Ctx>();
        (c.provider.clone(), c.request_for(&model, request)?)
    };
    provider
        .chat(request)
        .completion()
        .await
        .map(|c| c.to_chat_completion())
        .map_err(|e| JsErrorBox::generic(format!("{e:#}")))
}

/// Starts a streamed generation; returns a handle for `op_jan_model_stream_next`.
#[op2]
#[smi]
fn op_jan_model_stream_open(
    state: &mut OpState,
    #[string] model: &str,
    #[serde] request: serde_json::Value,
) -> Result<u32, JsErrorBox> {
    let c = ctx(state);
    let request = c.request_for(model, request)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let provider = c.provider.clone();
    let task = tokio::task::spawn(async move {
        let mut chat = provider.chat(request);
        // An error travels as a final marked delta; see stream_next.
        let error = loop {
            match chat.next().await {
                Some(Ok(ChatEvent::Text(d))) => {
                    if tx.send(d).is_err() {
                        return;
                    }
                }
                Some(Ok(ChatEvent::Done(_))) => return,
                Some(Ok(_)) => {}
                Some(Err(e)) => break format!("{e:#}"),
                None => break "the model engine stopped without an answer".to_string(),
            }
        };
        let _ = tx.send(format!("\u{0}{error}"));
    });
    c.next_stream += 1;
    let rid = c.next_stream;
    c.streams.insert(rid, Rc::new(RefCell::new(rx)));
    c.stream_tasks.insert(rid, task);
    Ok(rid)
}

/// The next text delta, or null at the end.
#[op2]
#[string]
async fn op_jan_model_stream_next(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
) -> Result<Option<String>, JsErrorBox> {
    let rx = state.borrow().borrow::<Ctx>().streams.get(&rid).cloned();
    let Some(rx) = rx else { return Ok(None) };
    match std::future::poll_fn(|cx| rx.borrow_mut().poll_recv(cx)).await {
        Some(d) if d.starts_with('\u{0}') => Err(JsErrorBox::generic(d[1..].to_string())),
        other => Ok(other),
    }
}

/// Ends a stream; cancels generation if it is still running.
#[op2(fast)]
fn op_jan_model_stream_close(state: &mut OpState, #[smi] rid: u32) {
    let c = ctx(state);
    c.streams.remove(&rid);
    if let Some(task) = c.stream_tasks.remove(&rid) {
        task.abort();
    }
}

#[op2]
#[serde]
async fn op_jan_model_embed(
    state: Rc<RefCell<OpState>>,
    #[string] model: String,
    #[serde] input: Vec<String>,
) -> Result<Vec<Vec<f32>>, JsErrorBox> {
    let provider = {
        let s = state.borrow();
        let c = s.borrow::<Ctx>();
        c.model(&model)?;
        c.provider.clone()
    };
    provider
        .embed(model, input)
        .await
        .map(|e| e.vectors)
        .map_err(|e| JsErrorBox::generic(format!("{e:#}")))
}

/// `require.resolve`: Node's CommonJS resolution from the file `parent`.
#[op2]
#[string]
fn op_jan_require_resolve(
    state: &mut OpState,
    #[string] specifier: &str,
    #[string] parent: &str,
) -> Result<String, JsErrorBox> {
    let loader = ctx(state).loader.clone();
    let path = loader
        .resolve_path(specifier, Path::new(parent), Mode::Require)
        .map_err(|e| JsErrorBox::new("Error", e))?;
    Ok(path.to_string_lossy().into_owned())
}

#[derive(Serialize)]
struct Loaded {
    kind: &'static str,
    code: String,
    url: String,
}

/// Reads (and if needed transpiles) a file for `require`.
#[op2]
#[serde]
fn op_jan_require_load(state: &mut OpState, #[string] path: &str) -> Result<Loaded, JsErrorBox> {
    let loader = ctx(state).loader.clone();
    let path = Path::new(path);
    let compiled = loader.compile(path).map_err(JsErrorBox::generic)?;
    let url = file_url(path)?.to_string();
    Ok(Loaded {
        kind: compiled.kind.as_str(),
        code: compiled.code,
        url,
    })
}

#[derive(Serialize)]
struct UrlParts {
    href: String,
    origin: String,
    protocol: String,
    username: String,
    password: String,
    host: String,
    hostname: String,
    port: String,
    pathname: String,
    search: String,
    hash: String,
}

fn url_parts(u: &url::Url) -> UrlParts {
    let with_prefix = |p: &str, s: Option<&str>| match s {
        Some(s) if !s.is_empty() => format!("{p}{s}"),
        _ => String::new(),
    };
    UrlParts {
        href: u.as_str().to_string(),
        origin: u.origin().ascii_serialization(),
        protocol: format!("{}:", u.scheme()),
        username: u.username().to_string(),
        password: u.password().unwrap_or_default().to_string(),
        host: match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        },
        hostname: u.host_str().unwrap_or_default().to_string(),
        port: u.port().map(|p| p.to_string()).unwrap_or_default(),
        pathname: u.path().to_string(),
        search: with_prefix("?", u.query()),
        hash: with_prefix("#", u.fragment()),
    }
}

/// WHATWG URL parsing through the `url` crate; null when invalid.
#[op2]
#[serde]
fn op_jan_url_parse(#[string] href: &str, #[string] base: Option<String>) -> Option<UrlParts> {
    let parsed = match base {
        Some(b) => url::Url::parse(&b).ok()?.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    Some(url_parts(&parsed))
}

/// Sets one component of a URL; null if the new value is refused.
#[op2]
#[serde]
fn op_jan_url_set(
    #[string] href: &str,
    #[string] part: &str,
    #[string] value: &str,
) -> Option<UrlParts> {
    let mut u = url::Url::parse(href).ok()?;
    let strip = |v: &str, c: char| v.strip_prefix(c).unwrap_or(v).to_string();
    let ok = match part {
        "protocol" => u.set_scheme(value.trim_end_matches(':')).is_ok(),
        "username" => u.set_username(value).is_ok(),
        "password" => u.set_password(Some(value)).is_ok(),
        "host" => {
            let (h, p) = match value.rsplit_once(':') {
                Some((h, p)) if p.parse::<u16>().is_ok() => (h, Some(p.parse().ok())),
                _ => (value, None),
            };
            u.set_host(Some(h)).is_ok() && p.is_none_or(|p| u.set_port(p).is_ok())
        }
        "hostname" => u.set_host(Some(value)).is_ok(),
        "port" => {
            if value.is_empty() {
                u.set_port(None).is_ok()
            } else {
                value
                    .parse::<u16>()
                    .is_ok_and(|p| u.set_port(Some(p)).is_ok())
            }
        }
        "pathname" => {
            u.set_path(value);
            true
        }
        "search" => {
            let q = strip(value, '?');
            u.set_query(if q.is_empty() { None } else { Some(&q) });
            true
        }
        "hash" => {
            let f = strip(value, '#');
            u.set_fragment(if f.is_empty() { None } else { Some(&f) });
            true
        }
        _ => false,
    };
    ok.then(|| url_parts(&u))
}

#[op2]
#[buffer]
fn op_jan_random_bytes(#[smi] len: u32) -> Result<Vec<u8>, JsErrorBox> {
    let mut buf = vec![0u8; len as usize];
    getrandom::fill(&mut buf).map_err(|e| JsErrorBox::generic(e.to_string()))?;
    Ok(buf)
}

#[op2]
#[string]
fn op_jan_random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Have the assistant's modules finished loading?
#[op2(fast)]
fn op_jan_loaded(state: &mut OpState) -> bool {
    ctx(state).loaded
}

/// Milliseconds since this isolate started (`performance.now()`).
#[op2(fast)]
fn op_jan_now(state: &mut OpState) -> f64 {
    ctx(state).started.elapsed().as_secs_f64() * 1000.0
}

/// `TextDecoder` with `fatal: true`.
#[op2]
#[string]
fn op_jan_utf8_decode_fatal(#[buffer] bytes: &[u8]) -> Result<String, JsErrorBox> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| JsErrorBox::type_error("The encoded data was not valid utf-8"))
}

/// The prelude, compiled into the binary (deno_core's `esm = [...]` would
/// read the files from the source tree at run time).
static PRELUDE: &[ExtensionFileSource] = &[
    ExtensionFileSource::new(
        "ext:jan_core/00_web.js",
        ascii_str_include!("../../../js-prelude/00_web.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/10_events.js",
        ascii_str_include!("../../../js-prelude/10_events.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/20_models.js",
        ascii_str_include!("../../../js-prelude/20_models.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/30_require.js",
        ascii_str_include!("../../../js-prelude/30_require.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/40_fetch.js",
        ascii_str_include!("../../../js-prelude/40_fetch.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/45_streams.js",
        ascii_str_include!("../../../js-prelude/45_streams.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/47_eventsource.js",
        ascii_str_include!("../../../js-prelude/47_eventsource.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/48_websocket.js",
        ascii_str_include!("../../../js-prelude/48_websocket.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/50_tools.js",
        ascii_str_include!("../../../js-prelude/50_tools.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/60_intl.js",
        ascii_str_include!("../../../js-prelude/60_intl.js"),
    ),
    ExtensionFileSource::new(
        "ext:jan_core/99_main.js",
        ascii_str_include!("../../../js-prelude/99_main.js"),
    ),
];

deno_core::extension!(
    jan_core,
    ops = [
        op_jan_init,
        op_jan_log,
        op_jan_tools_register,
        op_jan_tools_unregister,
        op_jan_events_subscribe,
        op_jan_events_unsubscribe,
        op_jan_events_emit,
        op_jan_events_next,
        op_jan_events_request,
        op_jan_reply,
        op_jan_model_chat,
        op_jan_model_stream_open,
        op_jan_model_stream_next,
        op_jan_model_stream_close,
        op_jan_model_embed,
        crate::fetch::op_jan_fetch_start,
        crate::fetch::op_jan_fetch_response,
        crate::fetch::op_jan_fetch_read,
        crate::fetch::op_jan_fetch_close,
        op_jan_require_resolve,
        op_jan_require_load,
        op_jan_url_parse,
        op_jan_url_set,
        op_jan_random_bytes,
        op_jan_random_uuid,
        op_jan_now,
        op_jan_loaded,
        op_jan_utf8_decode_fatal,
        crate::node::op_jan_builtin_names,
        crate::node::op_jan_builtin_source,
        crate::node::op_jan_fs_check_write,
        crate::node::op_jan_fs_read,
        crate::node::op_jan_fs_write,
        crate::node::op_jan_fs_stat,
        crate::node::op_jan_fs_readdir,
        crate::node::op_jan_fs_mkdir,
        crate::node::op_jan_fs_remove,
        crate::node::op_jan_fs_rename,
        crate::node::op_jan_fs_copy,
        crate::node::op_jan_fs_realpath,
        crate::node::op_jan_hash,
        crate::node::op_jan_zlib,
        crate::intl::op_jan_intl_canonical,
        crate::intl::op_jan_intl_number,
        crate::intl::op_jan_intl_plural,
        crate::intl::op_jan_intl_compare,
        crate::intl::op_jan_intl_segment,
        crate::intl::op_jan_intl_list,
        crate::intl::op_jan_intl_datetime,
        crate::websocket::op_jan_ws_open,
        crate::websocket::op_jan_ws_send,
        crate::websocket::op_jan_ws_next,
        crate::websocket::op_jan_ws_close,
        crate::websocket::op_jan_ws_drop,
    ],
    esm_entry_point = "ext:jan_core/99_main.js",
    options = { ctx: Ctx },
    state = |state, options| {
        state.put(options.ctx);
    },
    customizer = |ext: &mut deno_core::Extension| {
        ext.esm_files = Cow::Borrowed(PRELUDE);
    },
);
