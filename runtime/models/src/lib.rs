//! Local language models run by Candle.
//!
//! [`Engine`] serves the models in `<data>/models` to the assistant host
//! and the HTTP API (through [`Provider`], a [`jan_provider::ModelProvider`]). A model loads on first use and is
//! dropped after an idle time. Requests to one model run one at a time, in
//! arrival order (tokio's mutex is fair): a small CPU model gains nothing from
//! running two generations side by side on the same cores. Different models
//! run in parallel.

pub mod constrain;
pub mod embed;
pub mod folder;
pub mod generate;
pub mod gguf;
pub mod kernels;
pub mod llama;
pub mod ops;
pub mod split;
pub mod template;
pub mod tiny;
pub mod tokenizer;
pub mod tools;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use candle_core::Device;
use jan_provider::{
    BadParam, BoxFuture, ChatEvent, ChatSender, ChatStream, Completion, ContextOverflow,
    Embeddings, Finish, ModelNotFound, TokenLogprob, Usage,
};
use serde_json::{Value, json};

use folder::Entry;
use generate::{Params, Session};
use template::ChatTemplate;
use tokenizer::Tok;

/// What turns a chat request into a model's prompt tokens: its tokenizer
/// and chat template. Shared with the model's slot, so prompts are counted
/// and checked against the context without waiting for the model (a
/// generation holds it).
struct Prompter {
    id: String,
    tok: Tok,
    template: ChatTemplate,
    /// Does the template render `tools` itself?
    template_takes_tools: bool,
    /// The context the model was loaded with, in tokens.
    context: usize,
}

impl Prompter {
    /// The prompt's tokens: the messages (and tools) through the chat
    /// template, the oldest turns dropped to fit `max_prompt_tokens`.
    fn prompt_ids(&self, request: &Value, spec: &tools::Spec) -> anyhow::Result<Vec<u32>> {
        let messages = request["messages"]
            .as_array()
            .context("messages: must be a list")?;
        let tool_list = spec.template_tools();
        // A template that does not take tools gets them (and any calls and
        // results in the history) as the generic prompt's text.
        let has_tool_turns = messages
            .iter()
            .any(|m| m["role"] == "tool" || m.get("tool_calls").is_some_and(|c| !c.is_null()));
        let generic = !self.template_takes_tools && (tool_list.is_some() || has_tool_turns);
        let texts: Vec<Value> = messages.iter().map(text_message).collect();
        let mut messages = tools::template_messages(&texts, generic);
        if let (true, Some(list)) = (generic, &tool_list) {
            let prompt = tools::generic_prompt(list);
            match messages.first_mut() {
                Some(m) if m["role"] == "system" => {
                    m["content"] =
                        format!("{}\n\n{prompt}", m["content"].as_str().unwrap_or_default()).into();
                }
                _ => messages.insert(0, json!({"role": "system", "content": prompt})),
            }
        }
        let template_tools = if generic { None } else { tool_list.as_ref() };
        // `max_prompt_tokens` (the runs API): drop the oldest turns after
        // any leading system message until the prompt fits; the last turn
        // always stays.
        let budget = request["max_prompt_tokens"].as_u64().map(|n| n as usize);
        Ok(loop {
            let prompt = self.template.render(
                &messages,
                template_tools,
                self.tok.bos.as_deref(),
                self.tok.eos.as_deref(),
            )?;
            tracing::debug!(model = %self.id, "prompt: {prompt:?}");
            let ids = self.tok.encode_prompt(&prompt)?;
            let first = usize::from(messages.first().is_some_and(|m| m["role"] == "system"));
            match budget {
                Some(b) if ids.len() > b && messages.len() > first + 1 => {
                    messages.remove(first);
                    // A turn goes whole: no reply or tool result is left
                    // without what it answers.
                    while messages.len() > first + 1 && messages[first]["role"] != "user" {
                        messages.remove(first);
                    }
                }
                _ => break ids,
            }
        })
    }

    /// The prompt's tokens, or [`ContextOverflow`] when they leave no room
    /// in the context to answer (as a generation would find).
    fn fitting_prompt(&self, request: &Value, spec: &tools::Spec) -> anyhow::Result<Vec<u32>> {
        let ids = self.prompt_ids(request, spec)?;
        if ids.len() >= self.context {
            return Err(ContextOverflow {
                prompt: ids.len(),
                context: self.context,
            }
            .into());
        }
        Ok(ids)
    }
}

/// A model in memory.
struct Loaded {
    entry: Entry,
    prompter: Arc<Prompter>,
    session: Session,
    /// Width of the logits (may exceed the tokenizer's vocabulary).
    n_vocab: usize,
    /// Built on the first constrained request.
    grammars: Option<constrain::Grammars>,
    /// Each token's bytes, built on the first request with `logprobs`.
    token_bytes: Option<Arc<Vec<Vec<u8>>>>,
}

impl Loaded {
    fn load(entry: Entry) -> anyhow::Result<Loaded> {
        let started = Instant::now();
        let (content, mut file) = gguf::read_header(&entry.weights)?;
        let meta = gguf::Meta(content.metadata.clone());
        let config = llama::Config::from_meta(&meta)?;
        let ctx = entry.ctx_len().min(config.context_length.max(1));
        let model =
            gguf::guarded(|| llama::Model::load(&content, &mut file, config, ctx, &Device::Cpu))
                .with_context(|| format!("cannot load the weights of model '{}'", entry.id))?;
        let tok = Tok::load(&meta, &entry.weights)?;
        let source = meta
            .str("tokenizer.chat_template")
            .ok()
            .or(entry.prompt_template())
            .unwrap_or_else(|| template::fallback(|t| tok.has_token(t)))
            .to_string();
        let template = ChatTemplate::new(&source)?;
        let n_vocab = content
            .tensor_infos
            .get("token_embd.weight")
            .and_then(|t| t.shape.dims().first().copied())
            .unwrap_or(0);
        tracing::info!(
            model = %entry.id,
            "loaded in {:.1} s (context {ctx} tokens)",
            started.elapsed().as_secs_f64()
        );
        let prompter = Prompter {
            id: entry.id.clone(),
            tok,
            template,
            template_takes_tools: source.contains("tools"),
            context: model.max_positions(),
        };
        Ok(Loaded {
            entry,
            prompter: Arc::new(prompter),
            session: Session::new(model),
            n_vocab,
            grammars: None,
            token_bytes: None,
        })
    }

    /// Renders, tokenizes and generates one chat request, sending text and
    /// call pieces to `out` as they come; reads calls out of the answer
    /// when tools were offered.
    fn chat(
        &mut self,
        request: &Value,
        cancel: &AtomicBool,
        out: &mut dyn FnMut(ChatEvent),
    ) -> anyhow::Result<Completion> {
        let mut params = Params::from_layers(&[request, self.entry.parameters()])?;
        if let Some((id, _)) = params
            .logit_bias
            .iter()
            .find(|(id, _)| self.n_vocab > 0 && *id as usize >= self.n_vocab)
        {
            return Err(generate::bad(
                "logit_bias",
                format!(
                    "token {id} is not in the model's vocabulary of {} tokens",
                    self.n_vocab
                ),
            )
            .into());
        }
        let spec = tools::Spec::from_request(request)?;
        if spec.forces_call() {
            // Stop strings apply to text; a forced answer is all call.
            params.stop.clear();
        }
        let ids = self.prompter.prompt_ids(request, &spec)?;
        let mut constraint = match spec.grammar() {
            None => None,
            Some(grammar) => {
                if self.grammars.is_none() {
                    self.grammars = Some(constrain::Grammars::for_model(
                        &self.prompter.tok,
                        self.n_vocab,
                    )?);
                }
                let grammars = self.grammars.as_ref().context("grammars")?;
                let matcher = grammars
                    .matcher(&grammar)
                    .map_err(|e| anyhow::anyhow!("cannot build the grammar: {e}"))?;
                Some(constrain::Constraint::new(matcher))
            }
        };
        let mut splitter = spec.reads_calls().then(|| {
            let names = spec.offered().iter().map(|t| t.name.clone()).collect();
            split::Splitter::new(names, spec.parallel)
        });
        let bytes = params.logprobs.map(|_| self.token_bytes());
        let mut on_delta = |d: &str, tokens: &[generate::TokenLogprob]| match splitter.as_mut() {
            None => {
                if let (Some(bytes), false) = (&bytes, tokens.is_empty()) {
                    out(ChatEvent::Logprobs(logprobs(bytes, tokens)));
                }
                out(ChatEvent::Text(d.to_string()))
            }
            Some(s) => s.push(d).into_iter().for_each(&mut *out),
        };
        let generation = self.session.generate(
            &self.prompter.tok,
            &ids,
            &params,
            cancel,
            constraint.as_mut(),
            &mut on_delta,
        )?;
        tracing::debug!(model = %self.entry.id, "output: {:?}", generation.text);
        let (mut content, calls) = spec.parse(&generation.text);
        if spec.forces_call() && calls.is_empty() {
            // A forced call cut short (max_tokens): its markup is not an
            // answer.
            content.clear();
        }
        let (content, calls) = match &splitter {
            None => (content, calls),
            Some(s) => {
                let (rest, content, calls) = s.finish(content, calls);
                rest.into_iter().for_each(&mut *out);
                (content, calls)
            }
        };
        let logprobs = bytes.map(|b| logprobs(&b, &generation.logprobs));
        let mut finish = match generation.finish {
            generate::Finish::Stop => Finish::Stop,
            generate::Finish::Length | generate::Finish::Cancelled => Finish::Length,
        };
        // Cut short by max_tokens, it stays `length` (a later call may be
        // missing).
        if !calls.is_empty() && finish == Finish::Stop {
            finish = Finish::ToolCalls;
        }
        let g = &generation;
        Ok(Completion {
            id: jan_provider::new_completion_id(),
            model: self.entry.id.clone(),
            content,
            tool_calls: calls,
            finish,
            usage: Usage {
                prompt_tokens: g.prompt_tokens,
                completion_tokens: g.completion_tokens,
                cached_tokens: g.cached_tokens,
            },
            timings: jan_provider::Timings {
                processed_tokens: g.processed_tokens,
                prompt_ms: g.prompt_ms,
                predicted_ms: g.predicted_ms,
                grammar_ms: constraint.map(|c| c.mask_ms).unwrap_or(0.0),
            },
            logprobs,
        })
    }

    /// Each token's bytes, built on the first request with `logprobs`.
    fn token_bytes(&mut self) -> Arc<Vec<Vec<u8>>> {
        self.token_bytes
            .get_or_insert_with(|| Arc::new(self.prompter.tok.token_bytes()))
            .clone()
    }
}

/// The tokens' log probabilities with their text and bytes (`bytes`: each
/// token's).
fn logprobs(bytes: &[Vec<u8>], tokens: &[generate::TokenLogprob]) -> Vec<TokenLogprob> {
    let entry = |id: u32, logprob: f32, top: Vec<TokenLogprob>| {
        let b = bytes
            .get(id as usize)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let b = b.strip_prefix(&[0xFF]).unwrap_or(b);
        TokenLogprob {
            token: String::from_utf8_lossy(b).into_owned(),
            bytes: b.to_vec(),
            logprob,
            top,
        }
    };
    tokens
        .iter()
        .map(|t| {
            let top = t
                .top
                .iter()
                .map(|(id, l)| entry(*id, *l, Vec::new()))
                .collect();
            entry(t.id, t.logprob, top)
        })
        .collect()
}

/// Messages for the template: content parts joined into one string, as the
/// text-only models here expect; `developer` is the `system` role (OpenAI's
/// newer name for it).
fn text_message(m: &Value) -> Value {
    let mut m = m.clone();
    if m["role"] == "developer" {
        m["role"] = "system".into();
    }
    if let Some(parts) = m.get("content").and_then(Value::as_array) {
        let text: String = parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("");
        m["content"] = Value::String(text);
    }
    if m.get("content").is_none_or(Value::is_null) {
        m["content"] = Value::String(String::new());
    }
    m
}

/// What a slot holds once loaded: a chat model or an embedding model.
enum Held {
    Chat(Box<Loaded>),
    Embed(Box<embed::Embedder>),
}

/// What a prompter is made from: the weights file (path, size, time) and
/// model.json (context length, template). A change to any of them makes a
/// new one.
fn prompter_key(entry: &Entry) -> String {
    let meta = std::fs::metadata(&entry.weights).ok();
    format!(
        "{}|{:?}|{:?}|{}",
        entry.weights.display(),
        meta.as_ref().map(std::fs::Metadata::len),
        meta.and_then(|m| m.modified().ok()),
        entry.json
    )
}

/// The chat model held in `slot` (`held` is its locked model), loading
/// `entry` first when the slot holds nothing or another file.
fn chat_model<'a>(
    slot: &Slot,
    held: &'a mut Option<(PathBuf, Held)>,
    entry: Entry,
) -> anyhow::Result<&'a mut Loaded> {
    if !matches!(&*held, Some((w, Held::Chat(_))) if *w == entry.weights) {
        *held = None;
        let weights = entry.weights.clone();
        let loaded = Loaded::load(entry)?;
        *slot.prompter.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((prompter_key(&loaded.entry), loaded.prompter.clone()));
        *held = Some((weights, Held::Chat(Box::new(loaded))));
    }
    match held.as_mut() {
        Some((_, Held::Chat(loaded))) => Ok(loaded),
        _ => anyhow::bail!("model not loaded"),
    }
}

struct Slot {
    model: Arc<tokio::sync::Mutex<Option<(PathBuf, Held)>>>,
    last_used: Mutex<Instant>,
    /// The prompter of the chat model last loaded here, under the key of
    /// what it was made from ([`prompter_key`]; kept when the model is
    /// unloaded: it is small).
    prompter: Mutex<Option<(String, Arc<Prompter>)>>,
}

/// The models of one data folder.
pub struct Engine {
    models_dir: PathBuf,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    idle: Duration,
    reaper: std::sync::Once,
    /// Generations running now (each holds its model's lock).
    generating: Arc<std::sync::atomic::AtomicUsize>,
}

impl Engine {
    /// `idle`: how long a loaded model may go unused before it is dropped
    /// from memory.
    pub fn new(models_dir: PathBuf, idle: Duration) -> Arc<Engine> {
        Arc::new(Engine {
            models_dir,
            slots: Mutex::default(),
            idle,
            reaper: std::sync::Once::new(),
            generating: Arc::default(),
        })
    }

    pub fn entries(&self) -> Vec<(PathBuf, anyhow::Result<Entry>)> {
        folder::list(&self.models_dir)
    }

    /// The model `id`, as its folder describes it now.
    pub fn entry(&self, id: &str) -> anyhow::Result<Entry> {
        if !jan_assistant::valid_id(id) {
            return Err(ModelNotFound(id.to_string()).into());
        }
        let dir = self.models_dir.join(id);
        if dir.is_dir() {
            // The folder of that name is the model asked for: its error is
            // the answer, not "no such model".
            let e = folder::load(&dir)
                .map_err(|e| jan_assistant::UnreadableRecord::new(&dir, format!("{e:#}")))?;
            if e.id == id {
                return Ok(e);
            }
        }
        // An id set in model.json may differ from the folder name.
        self.entries()
            .into_iter()
            .filter_map(|(_, e)| e.ok())
            .find(|e| e.id == id)
            .ok_or_else(|| ModelNotFound(id.to_string()).into())
    }

    fn slot(self: &Arc<Self>, id: &str) -> Arc<Slot> {
        let engine = Arc::downgrade(self);
        self.reaper.call_once(|| {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(reap(engine));
            }
        });
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_string())
            .or_insert_with(|| {
                Arc::new(Slot {
                    model: Arc::default(),
                    last_used: Mutex::new(Instant::now()),
                    prompter: Mutex::default(),
                })
            })
            .clone()
    }

    /// Runs a chat request (OpenAI shape, `model` set). Events arrive on
    /// the stream as they are produced; dropping the stream stops
    /// generation (at the next token) or the wait for the model.
    pub fn chat(self: &Arc<Self>, request: Value) -> ChatStream {
        let (tx, stream) = ChatStream::channel();
        let engine = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = engine.run_chat(request, tx.clone()) => match result {
                    Ok(done) => { tx.send(ChatEvent::Done(done)); }
                    Err(e) => tx.fail(e),
                },
                // Dropping `run_chat` drops its cancel guard.
                _ = tx.closed() => {}
            }
        });
        stream
    }

    async fn run_chat(
        self: Arc<Self>,
        request: Value,
        tx: ChatSender,
    ) -> anyhow::Result<Completion> {
        let entry = self.chat_entry(&request)?;
        let slot = self.slot(&entry.id);
        let mut guard = slot.model.clone().lock_owned().await;
        *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let cancel = Arc::new(AtomicBool::new(false));
        // Dropping this future (the stream was dropped) stops generation.
        struct CancelOnDrop(Arc<AtomicBool>);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _cancel_guard = CancelOnDrop(cancel.clone());
        let generating = self.generating.clone();
        let held_in = slot.clone();
        let done = tokio::task::spawn_blocking(move || -> anyhow::Result<Completion> {
            // Counts this generation until the thread is done with it (a
            // cancelled request's thread stops at the next token).
            struct Running(Arc<std::sync::atomic::AtomicUsize>);
            impl Drop for Running {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            generating.fetch_add(1, Ordering::SeqCst);
            let _running = Running(generating);
            let loaded = chat_model(&held_in, &mut guard, entry)?;
            let mut send = |event: ChatEvent| {
                if !tx.send(event) {
                    cancel.store(true, Ordering::Relaxed);
                }
            };
            loaded.chat(&request, &cancel, &mut send)
        })
        .await
        .context("generation thread failed")??;
        *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        Ok(done)
    }
}

impl Engine {
    /// How many tokens the prompt of a chat request (OpenAI shape, `model`
    /// set) is: its messages and tools through the model's chat template,
    /// as a generation would see them. Loads the model if needed, and waits
    /// for a generation in progress on it.
    pub async fn count_tokens(self: &Arc<Self>, request: Value) -> anyhow::Result<usize> {
        let prompter = self.prompter(&request).await?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let spec = tools::Spec::from_request(&request)?;
            Ok(prompter.prompt_ids(&request, &spec)?.len())
        })
        .await
        .context("counting thread failed")?
    }

    /// Fails as a generation of this chat request would before its first
    /// token: a bad parameter, or [`ContextOverflow`] when the prompt does
    /// not fit the model's context. Streams check this first, so that such
    /// a request is an error response rather than a stream that fails.
    /// Waits for the model only when it has never been loaded.
    pub async fn check_prompt(self: &Arc<Self>, request: Value) -> anyhow::Result<()> {
        check(&request)?;
        let prompter = self.prompter(&request).await?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let spec = tools::Spec::from_request(&request)?;
            prompter.fitting_prompt(&request, &spec).map(drop)
        })
        .await
        .context("counting thread failed")?
    }

    /// The prompter of the chat model a request names: the slot's, or the
    /// model's once loaded (waiting for a generation in progress on it).
    async fn prompter(self: &Arc<Self>, request: &Value) -> anyhow::Result<Arc<Prompter>> {
        let entry = self.chat_entry(request)?;
        let slot = self.slot(&entry.id);
        let known = slot
            .prompter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(key, _)| *key == prompter_key(&entry))
            .map(|(_, p)| p.clone());
        if let Some(p) = known {
            return Ok(p);
        }
        let mut guard = slot.model.clone().lock_owned().await;
        *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Arc<Prompter>> {
            Ok(chat_model(&slot, &mut guard, entry)?.prompter.clone())
        })
        .await
        .context("loading thread failed")?
    }

    /// The chat model a request names.
    fn chat_entry(&self, request: &Value) -> anyhow::Result<Entry> {
        let id = request["model"].as_str().context("model: required")?;
        let entry = self.entry(id)?;
        if entry.is_embedding() {
            anyhow::bail!("model '{id}' is an embedding model; use it for embeddings");
        }
        Ok(entry)
    }

    /// Embeds `input` with embedding model `id`: one normalized vector per
    /// text, and the number of tokens read.
    pub async fn embed(
        self: &Arc<Self>,
        id: &str,
        input: Vec<String>,
    ) -> anyhow::Result<Embeddings> {
        let entry = self.entry(id)?;
        if !entry.is_embedding() {
            anyhow::bail!("model '{id}' is not an embedding model");
        }
        let slot = self.slot(id);
        let mut guard = slot.model.clone().lock_owned().await;
        *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            if !matches!(&*guard, Some((w, Held::Embed(_))) if *w == entry.weights) {
                *guard = None;
                *guard = Some((
                    entry.weights.clone(),
                    Held::Embed(Box::new(embed::Embedder::load(&entry.dir)?)),
                ));
            }
            let Some((_, Held::Embed(e))) = guard.as_ref() else {
                anyhow::bail!("model not loaded");
            };
            let (vectors, tokens) = e.embed(&input)?;
            Ok(Embeddings { vectors, tokens })
        })
        .await
        .context("embedding thread failed")??;
        *slot.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        Ok(result)
    }
}

/// Drops models that have been idle longer than the engine's idle time.
async fn reap(engine: std::sync::Weak<Engine>) {
    loop {
        let Some(e) = engine.upgrade() else { return };
        let period = (e.idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
        let slots: Vec<(String, Arc<Slot>)> = e
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (id, slot) in slots {
            let idle = slot
                .last_used
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed();
            if idle >= e.idle
                && let Ok(mut m) = slot.model.try_lock()
                && m.take().is_some()
            {
                tracing::info!(model = %id, "unloaded after {} s idle", idle.as_secs());
            }
        }
        drop(e);
        tokio::time::sleep(period).await;
    }
}

/// Checks what a chat request asks for without running it: sampling
/// parameters, tools, `tool_choice` and `response_format` (the grammars
/// are built, so a schema llguidance cannot enforce is refused here).
pub fn check(request: &Value) -> Result<(), BadParam> {
    generate::Params::from_layers(&[request])?;
    tools::Spec::from_request(request)?;
    Ok(())
}

/// The engine as a [`jan_provider::ModelProvider`].
pub struct Provider(pub Arc<Engine>);

impl jan_provider::ModelProvider for Provider {
    fn list(&self) -> Vec<Value> {
        self.0
            .entries()
            .into_iter()
            .filter_map(|(dir, e)| match e {
                Ok(e) => Some(e.json),
                Err(err) => {
                    jan_assistant::UnreadableRecord::new(dir, format!("{err:#}")).warn_skipped();
                    None
                }
            })
            .collect()
    }

    fn check(&self, request: &Value) -> Result<(), BadParam> {
        check(request)
    }

    /// Reads only this model's folder, and keeps its load error.
    fn model(&self, id: &str) -> anyhow::Result<Value> {
        Ok(self.0.entry(id)?.json)
    }

    fn chat(&self, request: Value) -> ChatStream {
        self.0.chat(request)
    }

    fn count_tokens(&self, request: Value) -> BoxFuture<anyhow::Result<usize>> {
        let engine = self.0.clone();
        Box::pin(async move { engine.count_tokens(request).await })
    }

    fn check_prompt(&self, request: Value) -> BoxFuture<anyhow::Result<()>> {
        let engine = self.0.clone();
        Box::pin(async move { engine.check_prompt(request).await })
    }

    fn embed(&self, model: String, input: Vec<String>) -> BoxFuture<anyhow::Result<Embeddings>> {
        let engine = self.0.clone();
        Box::pin(async move { engine.embed(&model, input).await })
    }
}

impl Engine {
    /// How many generations are running now.
    pub fn generating(&self) -> usize {
        self.generating.load(Ordering::SeqCst)
    }

    /// Is `id` loaded in memory now?
    pub fn is_loaded(&self, id: &str) -> bool {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|s| s.model.try_lock().map(|m| m.is_some()).unwrap_or(true))
    }
}
