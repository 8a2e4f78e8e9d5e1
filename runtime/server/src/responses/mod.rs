//! The Responses API: `/v1/responses` (plain, `stream: true`,
//! `background: true`), retrieve, delete, cancel and input items.
//!
//! A response is one turn (jan-turn's engine, or an assistant's answer)
//! rendered as Responses items and streaming events (the renderer is
//! [`Render`]). Stored responses live beside the threads (see jan-store);
//! `previous_response_id` continues from a stored one's context and output.

pub(crate) mod request;

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use jan_host::models::{ChatEvent, ChatStream, Completion, Finish};
use jan_host::{Answer, Ask, TurnEvent};
use jan_store::{StoreError, new_id, now};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::error::{ApiError, ApiResult};
use crate::list::{ListParams, Page};
use crate::{AppState, Body};

type Events = mpsc::UnboundedSender<Result<Event, Infallible>>;

/// Background responses in progress: every event each has sent so far, for
/// `GET /v1/responses/{id}?stream=true`. A finished one's events are kept
/// in the store instead.
pub type Replays = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, watch::Receiver<Vec<Value>>>>,
>;

#[utoipa::path(post, path = "/responses", tag = "Responses", summary = "Create a model response", request_body = request::CreateResponse, responses((status = 200, description = "The response (`completed`, `incomplete`, `failed`; `queued` with `background`); With `stream: true`: server-sent events (`response.created` … `response.completed`)", content((Object = "application/json"), (String = "text/event-stream")))))]
pub async fn create(State(s): State<AppState>, Body(body): Body) -> ApiResult<Response> {
    let req = request::parse(&body)?;
    let Prepared {
        assistant,
        model,
        plan,
        conversation,
        context,
        chat,
    } = prepare(&s, &req).await?;
    // An assistant's turn reads the context as items (checked before
    // anything is stored).
    let items = match &assistant {
        Some(_) => jan_turn::Item::from_chat_list(&context)
            .map_err(|e| ApiError::invalid(Some("input"), e))?,
        None => Vec::new(),
    };

    let id = new_id("resp");
    let mut response = json!({
        "id": id, "object": "response", "created_at": now(), "completed_at": null,
        "status": if req.background() { "queued" } else { "in_progress" },
        "error": null, "incomplete_details": null, "model": model, "output": [], "usage": null,
    });
    for (k, v) in &plan.echo {
        response[k] = v.clone();
    }
    // The sampling settings the answer uses, not OpenAI's defaults.
    for (k, asked) in [("temperature", req.temperature), ("top_p", req.top_p)] {
        if let Some(v) = crate::runs::sampling(&s, assistant.as_ref(), &model, k, asked) {
            response[k] = v.into();
        }
    }
    response["conversation"] = match &conversation {
        Some((c, _)) => json!({"id": c}),
        None => Value::Null,
    };
    if req.streams() && !req.background() && assistant.is_none() {
        // A prompt over the context is an error response, not a stream
        // that fails at once (a background response is queued first).
        s.models()
            .check_prompt(chat.clone())
            .await
            .map_err(|e| responses_param(crate::chat::engine_error(e)))?;
    }
    let stores = req.stores();
    if stores {
        s.store.create_response(&response, &plan.items, &context)?;
    }
    let source = match assistant {
        None => Source::Model(chat),
        Some(a) => {
            let mut parameters = chat.as_object().cloned().unwrap_or_default();
            let tools = parameters
                .remove("tools")
                .and_then(|t| t.as_array().cloned())
                .unwrap_or_default();
            for k in ["model", "messages"] {
                parameters.remove(k);
            }
            // The assistant's own tools run inside the turn: this bounds them.
            if let Some(n) = req.max_tool_calls {
                parameters.insert("max_tool_calls".into(), n.into());
            }
            Source::Assistant(
                a.id.clone(),
                Ask {
                    messages: items,
                    instructions: req.instructions.clone().filter(|i| !i.is_empty()),
                    model: Some(model.clone()).filter(|m| !m.is_empty()),
                    parameters,
                    tools,
                    ..Ask::default()
                },
            )
        }
    };
    let mut job = Job {
        s: s.clone(),
        stores,
        source,
        conversation,
        replay: None,
    };
    if req.background() {
        let (replay, events_so_far) = watch::channel(Vec::new());
        s.replays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), events_so_far);
        job.replay = Some(replay);
        let (cancel_tx, cancel_rx) = watch::channel(false);
        s.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), cancel_tx);
        let (events, rx) = mpsc::unbounded_channel();
        let streams = req.streams();
        tokio::spawn(job.run(response.clone(), streams.then_some(events), cancel_rx));
        if streams {
            return Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response());
        }
        return Ok(Json(response).into_response());
    }
    let (_cancel_tx, cancel_rx) = watch::channel(false);
    if req.streams() {
        let (events, rx) = mpsc::unbounded_channel();
        tokio::spawn(job.run(response, Some(events), cancel_rx));
        return Ok(Sse::new(UnboundedReceiverStream::new(rx)).into_response());
    }
    // Its own task: a client that hangs up does not leave it half done.
    let (done, error) = tokio::spawn(job.run(response, None, cancel_rx))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match error {
        // The request's fault (a prompt over the context…), or nothing
        // to fetch later: the error is the answer.
        Some(e) if e.status.is_client_error() || !stores => Err(e),
        _ => Ok(Json(done).into_response()),
    }
}

/// An error about the chat request the response became, naming the
/// Responses field instead (`max_output_tokens`, `input`, `tools[i].name`,
/// `text.format`).
fn responses_param(mut e: ApiError) -> ApiError {
    let Some(param) = e.param.clone() else {
        return e;
    };
    let renamed = if param == "max_tokens" {
        "max_output_tokens".to_string()
    } else if param == "messages" || param.starts_with("messages[") {
        "input".to_string()
    } else if param.starts_with("tools[") {
        param.replacen(".function", "", 1)
    } else if let Some(rest) = param.strip_prefix("response_format") {
        format!("text.format{}", rest.replacen(".json_schema", "", 1))
    } else {
        return e;
    };
    e.message = e.message.replacen(&param, &renamed, 1);
    e.param = Some(renamed);
    e
}

/// The assistant turns a response's output adds to the context.
fn output_messages(output: &Value) -> Vec<Value> {
    request::to_chat(output.as_array().map(Vec::as_slice).unwrap_or_default())
}

/// What answers a response.
enum Source {
    /// A model, with this chat request.
    Model(Value),
    /// An assistant (`prompt`): its code or its default answer.
    Assistant(String, Ask),
}

/// One response being answered.
struct Job {
    s: AppState,
    stores: bool,
    source: Source,
    /// The conversation it adds its input and answer to (the input as
    /// log entries).
    conversation: Option<(String, Vec<Value>)>,
    /// A background response's events so far, for replays.
    replay: Option<watch::Sender<Vec<Value>>>,
}

impl Job {
    /// Runs the model, renders its events (to `events` when streaming),
    /// stores and returns the final response, and the error it failed with.
    async fn run(
        self,
        mut response: Value,
        events: Option<Events>,
        mut cancel: watch::Receiver<bool>,
    ) -> (Value, Option<ApiError>) {
        let id = response["id"].as_str().unwrap_or_default().to_string();
        let mut r = Render::new(events, self.replay.clone());
        r.whole("response.created", &response);
        self.s
            .host
            .bus()
            .emit("api", "response.created", bus_summary(&response));
        if response["status"] == "queued" {
            r.whole("response.queued", &response);
            response["status"] = "in_progress".into();
            // A plain response was stored in progress already: one fsync
            // less before its first token.
            self.save(&response);
        }
        r.whole("response.in_progress", &response);
        let mut chat: ChatStream = match &self.source {
            Source::Model(request) => {
                let turn =
                    jan_turn::start(self.s.models().clone(), request.clone(), jan_turn::NoTools);
                let model = request["model"].as_str().unwrap_or_default().to_string();
                turn_stream(async move { Ok(Answer::from(turn)) }, model, true)
            }
            Source::Assistant(id, ask) => {
                let (host, id, ask) = (self.s.host.clone(), id.clone(), ask.clone());
                let model = ask.model.clone().unwrap_or_default();
                turn_stream(
                    async move {
                        host.ask(&id, ask)
                            .await
                            .map_err(|e| anyhow::anyhow!(e.to_string()))
                    },
                    model,
                    false,
                )
            }
        };
        // Err(None): cancelled, or the client of a plain stream went away.
        let outcome: Result<Completion, Option<ApiError>> = loop {
            let event = tokio::select! {
                e = chat.next() => e,
                _ = cancelled(&mut cancel) => break Err(None),
                _ = r.closed(), if !response["background"].as_bool().unwrap_or(false) => break Err(None),
            };
            match event {
                Some(Ok(ChatEvent::Done(done))) => break Ok(done),
                Some(Ok(e)) => r.piece(e),
                Some(Err(e)) => break Err(Some(responses_param(crate::chat::engine_error(e)))),
                None => {
                    break Err(Some(ApiError::internal(
                        "the model engine stopped without an answer",
                    )));
                }
            }
        };
        drop(chat);
        let usage = |c: &Completion| {
            json!({
                "input_tokens": c.usage.prompt_tokens,
                "output_tokens": c.usage.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "input_tokens_details": {"cached_tokens": c.usage.cached_tokens, "cache_write_tokens": 0},
                "total_tokens": c.usage.prompt_tokens + c.usage.completion_tokens,
            })
        };
        let mut error = None;
        let terminal = match outcome {
            Ok(done) => {
                r.finish(&done);
                response["output"] = r.output(&done);
                response["usage"] = usage(&done);
                if done.finish == Finish::Length {
                    response["status"] = "incomplete".into();
                    response["incomplete_details"] = json!({"reason": "max_output_tokens"});
                    "response.incomplete"
                } else {
                    response["status"] = "completed".into();
                    response["completed_at"] = now().into();
                    "response.completed"
                }
            }
            Err(None) => {
                response["status"] = "cancelled".into();
                response["output"] = r.output_so_far();
                "response.cancelled"
            }
            Err(Some(e)) => {
                let code = e.code.unwrap_or(if e.status.is_client_error() {
                    "invalid_prompt"
                } else {
                    "server_error"
                });
                response["status"] = "failed".into();
                response["error"] = json!({"code": code, "message": e.message});
                response["output"] = r.output_so_far();
                error = Some(e);
                "response.failed"
            }
        };
        if let Some((c, inputs)) = &self.conversation
            && matches!(
                response["status"].as_str(),
                Some("completed" | "incomplete")
            )
        {
            self.add_to_conversation(c, inputs, &response["output"]);
        }
        self.save(&response);
        r.whole(terminal, &response);
        r.end();
        if let Some(replay) = &self.replay {
            // Kept before it leaves memory: a replay finds one or the other.
            if let Err(e) = self.s.store.put_response_events(&id, &replay.borrow()) {
                tracing::error!("cannot keep the events of response {id}: {e}");
            }
            // Deleted once it ended (a cancel, then a delete, while the
            // events were being written): they go with it.
            if matches!(self.s.store.response(&id), Err(StoreError::NotFound(..))) {
                let _ = self.s.store.delete_response_events(&id);
            }
            self.s
                .replays
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
        self.s
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        self.s.host.bus().emit(
            "api",
            &format!("response.{}", response["status"].as_str().unwrap_or("")),
            bus_summary(&response),
        );
        (response, error)
    }

    /// Adds the input and the answer's items (messages and the calls left
    /// to the client) to the conversation, all or none.
    fn add_to_conversation(&self, id: &str, inputs: &[Value], output: &Value) {
        let answers = output
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| matches!(i["type"].as_str(), Some("message" | "function_call")))
            .map(|i| crate::conversations::entry(id, i));
        let all: Vec<Value> = inputs.iter().cloned().chain(answers).collect();
        if let Err(e) = self
            .s
            .store
            .with_lock(id, || self.s.store.put_messages(id, &all))
        {
            tracing::error!("cannot add response items to conversation {id}: {e}");
        }
    }

    fn save(&self, response: &Value) {
        if self.stores
            && let Err(e) = self.s.store.put_response(response)
        {
            tracing::error!("cannot save response {}: {e}", response["id"]);
        }
    }
}

/// What the bus says of a response: which one, how it stands and what it
/// cost, not what it says. Every assistant may read the bus, and a
/// response can be another assistant's answer (`prompt`).
fn bus_summary(response: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "id",
        "object",
        "created_at",
        "completed_at",
        "status",
        "model",
        "prompt",
        "conversation",
        "previous_response_id",
        "background",
        "usage",
        "error",
        "incomplete_details",
    ] {
        out.insert(k.into(), response[k].clone());
    }
    Value::Object(out)
}

/// A turn's events as the typed events a model gives: its text as it
/// comes, the calls it leaves to the client, then the completion (with the
/// model's usage when a model answered). With `stream_calls` (a turn
/// without tools of its own) calls stream piece by piece as the model
/// writes them; otherwise they arrive whole at the end, as an assistant's
/// registered tools run inside its turn and are not output items.
fn turn_stream(
    answer: impl std::future::Future<Output = anyhow::Result<Answer>> + Send + 'static,
    model: String,
    stream_calls: bool,
) -> ChatStream {
    let (tx, stream) = ChatStream::channel();
    tokio::spawn(async move {
        let mut answer = match answer.await {
            Ok(a) => a,
            Err(e) => return tx.fail(e),
        };
        let (mut streamed, mut calls, mut meta) = (String::new(), Vec::new(), None);
        loop {
            let event = tokio::select! {
                r = answer.next() => r,
                // The response was cancelled: dropping `answer` stops it.
                _ = tx.closed() => return,
            };
            match event {
                Some(TurnEvent::Logprobs(l)) => {
                    tx.send(ChatEvent::Logprobs(l));
                }
                Some(TurnEvent::Text(d)) => {
                    streamed.push_str(&d);
                    tx.send(ChatEvent::Text(d));
                }
                Some(TurnEvent::ToolCallStart { index, id, name }) if stream_calls => {
                    tx.send(ChatEvent::ToolCallStart { index, id, name });
                }
                Some(TurnEvent::ToolCallArguments { index, delta }) if stream_calls => {
                    tx.send(ChatEvent::ToolCallArguments { index, delta });
                }
                Some(TurnEvent::Finished(m)) => meta = Some(m),
                Some(TurnEvent::ToolCalls(c)) => calls = c,
                Some(TurnEvent::Done(full)) => {
                    let text = if full.is_empty() {
                        streamed.clone()
                    } else {
                        full
                    };
                    if streamed.is_empty() && !text.is_empty() {
                        tx.send(ChatEvent::Text(text.clone()));
                    }
                    let mut done = meta.take().unwrap_or_else(|| Completion::text(&model, ""));
                    done.content = text;
                    if !stream_calls {
                        for (index, c) in calls.iter().enumerate() {
                            for e in ChatEvent::whole_call(index, c) {
                                tx.send(e);
                            }
                        }
                    }
                    done.tool_calls = std::mem::take(&mut calls);
                    if !done.tool_calls.is_empty() && done.finish == Finish::Stop {
                        done.finish = Finish::ToolCalls;
                    }
                    tx.send(ChatEvent::Done(done));
                    return;
                }
                Some(TurnEvent::Error(e)) => return tx.fail(e.to_anyhow()),
                Some(_) => {}
                None => return tx.fail(anyhow::anyhow!("the assistant stopped without answering")),
            }
        }
    });
    stream
}

/// Resolves once the switch is on; never if its sender is gone.
async fn cancelled(switch: &mut watch::Receiver<bool>) {
    loop {
        if *switch.borrow_and_update() {
            return;
        }
        if switch.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Renders a turn's events as Responses streaming events and output items:
/// a message item for text, a function_call item per call, in the order
/// the model wrote them. Each event has the next `sequence_number`.
struct Render {
    events: Option<Events>,
    /// Every event sent, for replays (background responses).
    replay: Option<watch::Sender<Vec<Value>>>,
    seq: u64,
    /// Items so far, as `output_item.added` sent them (then updated).
    items: Vec<Value>,
    /// The message item being written: its index and text.
    text: Option<(usize, String)>,
    /// The call being written: its index and arguments.
    call: Option<(usize, String)>,
    /// Item indexes of the calls.
    calls: Vec<usize>,
    /// The answer was cut short (`max_output_tokens`): the last item ends
    /// `incomplete`.
    cut: bool,
    /// Logprobs for the next text delta, and those of the text so far.
    pending_logprobs: Vec<Value>,
    text_logprobs: Vec<Value>,
}

impl Render {
    fn new(events: Option<Events>, replay: Option<watch::Sender<Vec<Value>>>) -> Render {
        Render {
            events,
            replay,
            seq: 0,
            items: Vec::new(),
            text: None,
            call: None,
            calls: Vec::new(),
            cut: false,
            pending_logprobs: Vec::new(),
            text_logprobs: Vec::new(),
        }
    }

    fn send(&mut self, kind: &str, mut data: Value) {
        data["type"] = kind.into();
        data["sequence_number"] = self.seq.into();
        self.seq += 1;
        if let Some(tx) = &self.events {
            let _ = tx.send(Ok(Event::default().event(kind).data(data.to_string())));
        }
        if let Some(replay) = &self.replay {
            replay.send_modify(|events| events.push(data));
        }
    }

    /// A lifecycle event carrying the whole response.
    fn whole(&mut self, kind: &str, response: &Value) {
        self.send(kind, json!({"response": response}));
    }

    async fn closed(&self) {
        match &self.events {
            Some(tx) => tx.closed().await,
            None => std::future::pending().await,
        }
    }

    fn piece(&mut self, event: ChatEvent) {
        match event {
            ChatEvent::Logprobs(l) => {
                self.pending_logprobs = l.iter().map(|t| t.to_json()).collect()
            }
            ChatEvent::Text(d) => {
                self.close_call();
                if self.text.is_none() {
                    let index = self.items.len();
                    let item = json!({"id": new_id("msg"), "type": "message", "status": "in_progress", "content": [], "role": "assistant"});
                    self.items.push(item.clone());
                    self.send(
                        "response.output_item.added",
                        json!({"output_index": index, "item": item}),
                    );
                    let item_id = self.items[index]["id"].clone();
                    self.send("response.content_part.added", json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": text_part("")}));
                    self.text = Some((index, String::new()));
                }
                let Some((index, text)) = self.text.as_mut() else {
                    return;
                };
                text.push_str(&d);
                let index = *index;
                let item_id = self.items[index]["id"].clone();
                let logprobs = std::mem::take(&mut self.pending_logprobs);
                self.text_logprobs.extend(logprobs.iter().cloned());
                self.send("response.output_text.delta", json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": d, "logprobs": logprobs}));
            }
            ChatEvent::ToolCallStart { id, name, .. } => {
                self.close_text(None);
                self.close_call();
                let index = self.items.len();
                let item = json!({"id": new_id("fc"), "type": "function_call", "status": "in_progress", "arguments": "", "call_id": id, "name": name});
                self.items.push(item.clone());
                self.calls.push(index);
                self.send(
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                self.call = Some((index, String::new()));
            }
            ChatEvent::ToolCallArguments { delta, .. } => {
                let Some((index, args)) = self.call.as_mut() else {
                    return;
                };
                args.push_str(&delta);
                let index = *index;
                let item_id = self.items[index]["id"].clone();
                self.send(
                    "response.function_call_arguments.delta",
                    json!({"item_id": item_id, "output_index": index, "delta": delta}),
                );
            }
            ChatEvent::Done(_) => {}
        }
    }

    /// Ends the message item; `text` is its final text (else as streamed).
    fn close_text(&mut self, text: Option<&str>) {
        let Some((index, streamed)) = self.text.take() else {
            return;
        };
        let text = text.unwrap_or(&streamed).to_string();
        let item_id = self.items[index]["id"].clone();
        let logprobs = std::mem::take(&mut self.text_logprobs);
        self.send("response.output_text.done", json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": logprobs}));
        self.send("response.content_part.done", json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": text_part(&text)}));
        self.items[index]["status"] = self.status_of(index).into();
        self.items[index]["content"] = json!([text_part(&text)]);
        let item = self.items[index].clone();
        self.send(
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
    }

    /// How item `index` ends: `incomplete` when the answer was cut short
    /// and it is the last item.
    fn status_of(&self, index: usize) -> &'static str {
        if self.cut && index + 1 == self.items.len() {
            "incomplete"
        } else {
            "completed"
        }
    }

    fn close_call(&mut self) {
        let Some((index, args)) = self.call.take() else {
            return;
        };
        let item_id = self.items[index]["id"].clone();
        let name = self.items[index]["name"].clone();
        self.send(
            "response.function_call_arguments.done",
            json!({"item_id": item_id, "output_index": index, "name": name, "arguments": args}),
        );
        self.items[index]["status"] = self.status_of(index).into();
        self.items[index]["arguments"] = args.into();
        let item = self.items[index].clone();
        self.send(
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
    }

    /// Closes what is open, with the completion's final text and calls.
    fn finish(&mut self, done: &Completion) {
        self.cut = done.finish == Finish::Length;
        // Logprobs that did not come with their text (tools were offered)
        // are all in the done event.
        if let Some(l) = &done.logprobs
            && self.text_logprobs.len() < l.len()
        {
            self.text_logprobs = l.iter().map(|t| t.to_json()).collect();
        }
        if self.text.is_some() {
            self.close_text(Some(&done.content));
        } else if !done.content.is_empty() && !self.items.iter().any(|i| i["type"] == "message") {
            // Text that was held back whole (a JSON answer).
            self.piece(ChatEvent::Text(done.content.clone()));
            self.close_text(None);
        }
        self.close_call();
    }

    /// The final output: the items as streamed, the message text and the
    /// calls as the completion has them (a streamed call it left out, cut
    /// short or malformed, is dropped), logprobs when asked.
    fn output(&mut self, done: &Completion) -> Value {
        self.items.retain(|item| {
            item["type"] != "function_call"
                || done
                    .tool_calls
                    .iter()
                    .any(|c| item["call_id"] == c.id.as_str())
        });
        for item in self
            .items
            .iter_mut()
            .filter(|i| i["type"] == "function_call")
        {
            if let Some(c) = done
                .tool_calls
                .iter()
                .find(|c| item["call_id"] == c.id.as_str())
            {
                item["name"] = c.name.clone().into();
                item["arguments"] = c.arguments.clone().into();
            }
        }
        if let Some(logprobs) = &done.logprobs
            && let Some(m) = self.items.iter_mut().find(|i| i["type"] == "message")
        {
            m["content"][0]["logprobs"] = logprobs.iter().map(|t| t.to_json()).collect();
        }
        if done.finish == Finish::Length
            && let Some(last) = self.items.last_mut()
        {
            last["status"] = "incomplete".into();
        }
        Value::Array(self.items.clone())
    }

    /// The output of a response that stopped early (cancelled, failed):
    /// the item being written ends `incomplete`, with its closing events
    /// sent, so a stream has no item left open before its last event.
    fn output_so_far(&mut self) -> Value {
        self.cut = true;
        self.close_text(None);
        self.close_call();
        Value::Array(self.items.clone())
    }

    fn end(&mut self) {
        if let Some(tx) = &self.events {
            let _ = tx.send(Ok(Event::default().data("[DONE]")));
        }
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// `?stream=true` replays a background response's stream. (Documents the
/// query; [`retrieve`] reads the pairs itself, as `include` repeats.)
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documents the query string that `retrieve` reads")]
pub struct RetrieveParams {
    /// `true`: the response's events as server-sent events (a background
    /// response only), those still to come as they are sent.
    stream: Option<bool>,
    /// With `stream`: only the events after this `sequence_number`.
    starting_after: Option<u64>,
    /// Accepted: no obfuscation padding is added (it guards against
    /// network side channels; the server is local).
    include_obfuscation: Option<bool>,
    /// `message.output_text.logprobs` (also as `include[]`): accepted; a
    /// stored response holds what its creation asked for.
    include: Option<String>,
}

/// Events a replay holds for a client that reads slowly before it waits.
const REPLAY_BUFFER: usize = 64;

/// The fields `POST /v1/responses/input_tokens` takes (OpenAI's list).
const COUNTED: &[&str] = &[
    "model",
    "input",
    "instructions",
    "conversation",
    "previous_response_id",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "text",
    "truncation",
];

#[utoipa::path(post, path = "/responses/input_tokens", tag = "Responses", summary = "Count the input tokens of a response", request_body(content = request::CreateResponse, description = "`model`, `input`, `instructions`, `conversation`, `previous_response_id`, `tools`, `tool_choice`, `parallel_tool_calls`, `reasoning`, `text`, `truncation`"), responses((status = 200, description = "`{object: response.input_tokens, input_tokens}`: the prompt as the model would see it, through its tokenizer and chat template", body = Object)))]
pub async fn input_tokens(State(s): State<AppState>, Body(body): Body) -> ApiResult<Json<Value>> {
    if let Some(k) = body.keys().find(|k| !COUNTED.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            Some(k),
            format!("'{k}' is not a parameter of input token counts"),
        ));
    }
    let req = request::parse(&body)?;
    let prepared = prepare(&s, &req).await?;
    let n = s
        .models()
        .count_tokens(prepared.chat)
        .await
        .map_err(crate::chat::engine_error)?;
    Ok(Json(
        json!({"object": "response.input_tokens", "input_tokens": n}),
    ))
}

/// What a response request asks, read and checked once (for creating a
/// response and for counting its input tokens): the assistant of a
/// `prompt`, the model, the stored chain or conversation it continues,
/// and the chat request the model is sent.
struct Prepared {
    assistant: Option<jan_assistant::Assistant>,
    model: String,
    plan: request::Plan,
    conversation: Option<(String, Vec<Value>)>,
    /// The chat messages of the chain so far and this input (no
    /// instructions).
    context: Vec<Value>,
    chat: Value,
}

async fn prepare(s: &AppState, req: &request::CreateResponse) -> ApiResult<Prepared> {
    // `prompt` names an assistant: it answers, on its model unless one is
    // asked for.
    let assistant = match &req.prompt {
        None => None,
        Some(p) => Some(crate::assistants::load(s, &p.id)?),
    };
    let model = match &assistant {
        Some(a) => crate::runs::assistant_model(s, a, req.model.clone()),
        None => req.model.clone().ok_or_else(|| {
            ApiError::invalid(Some("model"), "Missing required parameter: 'model'.")
        })?,
    };
    // An assistant with code may need no model at all.
    let descriptor = match (&assistant, model.is_empty()) {
        (Some(_), true) => Value::Null,
        _ => s
            .models()
            .model(&model)
            .map_err(crate::chat::engine_error)?,
    };
    if descriptor["type"] == "embedding" {
        return Err(ApiError::invalid(
            Some("model"),
            format!("'{model}' is an embedding model"),
        ));
    }
    let mut plan = req.plan(&model)?;
    let conversation = req.conversation_id()?;
    if let Some(c) = &conversation {
        s.store.thread(c)?;
    }
    // The chain so far: the previous response's context and output, or the
    // conversation's items.
    let mut context = match (&req.previous_response_id, &conversation) {
        (None, None) => Vec::new(),
        (None, Some(c)) => crate::conversations::chat_messages(s, c)?,
        (Some(prev), _) => {
            let r = previous(s, prev)?;
            let mut c = s
                .store
                .response_context(prev)
                .map_err(|e| previous_error(prev, e))?;
            c.extend(output_messages(&r["output"]));
            c
        }
    };
    resolve_references(s, req, conversation.as_deref(), &mut plan.items)?;
    let before = context.len();
    context.extend(request::to_chat(&plan.items));
    // A function_call_output answers a call made earlier in the chain, the
    // conversation or the input (as OpenAI checks).
    answered_calls(&context[before..], &context[..before], &plan.items, "input")?;
    // The input as the conversation's new entries, written when the
    // response ends.
    let conversation = conversation.map(|c| {
        let entries = plan
            .items
            .iter()
            .map(|i| crate::conversations::entry(&c, i))
            .collect();
        (c, entries)
    });
    let mut chat = plan.chat.clone();
    let mut messages = Vec::new();
    if let Some(i) = req.instructions.as_ref().filter(|i| !i.is_empty()) {
        messages.push(json!({"role": "system", "content": i}));
    }
    messages.extend(context.iter().cloned());
    chat["messages"] = messages.into();
    if plan.echo["truncation"] == "auto" {
        // Drop the oldest turns until the prompt fits (the engine's
        // `max_prompt_tokens`, with room for the answer).
        let ctx = descriptor["settings"]["ctx_len"].as_u64().unwrap_or(4096);
        let answer = req.max_output_tokens.map_or(ctx / 4, u64::from);
        chat["max_prompt_tokens"] = ctx.saturating_sub(answer).max(1).into();
    }
    // Functions are strict unless `strict: false` (as OpenAI's); one that
    // did not say, whose schema the engine cannot enforce, stays best
    // effort (its calls are read as before strict existed) rather than
    // refusing a request that worked without it.
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let tool = &chat["tools"][i];
        if t.strict.is_some() || tool.is_null() {
            continue;
        }
        let probe = json!({"tools": [tool], "tool_choice": "auto"});
        if crate::check_request(s, probe).await.is_err() {
            chat["tools"][i]["function"]["strict"] = false.into();
            if let Some(echo) = plan.echo.get_mut("tools") {
                echo[i]["strict"] = false.into();
            }
        }
    }
    crate::check_request(s, chat.clone())
        .await
        .map_err(responses_param)?;
    Ok(Prepared {
        assistant,
        model,
        plan,
        conversation,
        context,
        chat,
    })
}

/// The stored response `previous_response_id` names, which must have
/// finished.
fn previous(s: &AppState, prev: &str) -> ApiResult<Value> {
    let r = s
        .store
        .response(prev)
        .map_err(|e| previous_error(prev, e))?;
    if !matches!(r["status"].as_str(), Some("completed" | "incomplete")) {
        return Err(ApiError::invalid(
            Some("previous_response_id"),
            format!(
                "Previous response {prev} is {}; only a finished response can be continued.",
                r["status"].as_str().unwrap_or("")
            ),
        ));
    }
    Ok(r)
}

/// A missing previous response is the request's fault (OpenAI's code).
fn previous_error(prev: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(..) => ApiError::invalid(
            Some("previous_response_id"),
            format!("Previous response with id '{prev}' not found."),
        )
        .with_code("previous_response_not_found"),
        other => other.into(),
    }
}

/// How many stored responses a chain's item references may search back.
const REFERENCE_DEPTH: usize = 1000;

/// Replaces each `item_reference` in `items` by a copy of the item it
/// names (with a new id: it is a new entry of this input), from the
/// conversation, or from the responses of the `previous_response_id`
/// chain (their input and output items). Any other id is a 400 naming
/// the reference.
fn resolve_references(
    s: &AppState,
    req: &request::CreateResponse,
    conversation: Option<&str>,
    items: &mut [Value],
) -> ApiResult<()> {
    if !items.iter().any(|i| i["type"] == "item_reference") {
        return Ok(());
    }
    let mut known: Vec<Value> = match conversation {
        Some(c) => crate::conversations::items_of(s, c)?,
        None => Vec::new(),
    };
    let wanted: Vec<&str> = items
        .iter()
        .filter(|i| i["type"] == "item_reference")
        .filter_map(|i| i["id"].as_str())
        .collect();
    let all_known = |known: &[Value]| wanted.iter().all(|w| known.iter().any(|k| k["id"] == *w));
    let mut next = req.previous_response_id.clone();
    for _ in 0..REFERENCE_DEPTH {
        if all_known(&known) {
            break;
        }
        // The chain ends at its first response, or at one since deleted
        // (later responses keep their own context).
        let Some(id) = next.take() else { break };
        let Ok(r) = s.store.response(&id) else { break };
        known.extend(s.store.response_input(&id).unwrap_or_default());
        known.extend(r["output"].as_array().cloned().unwrap_or_default());
        next = r["previous_response_id"].as_str().map(String::from);
    }
    for (i, item) in items.iter_mut().enumerate() {
        if item["type"] != "item_reference" {
            continue;
        }
        let id = item["id"].as_str().unwrap_or_default();
        let Some(found) = known
            .iter()
            .find(|k| k["id"] == id && k["type"] != "item_reference")
        else {
            return Err(ApiError::invalid(
                Some(&format!("input[{i}].id")),
                format!(
                    "Item with id '{id}' not found in the conversation or the previous responses."
                ),
            ));
        };
        let prefix = match found["type"].as_str() {
            Some("function_call") => "fc",
            Some("function_call_output") => "fco",
            _ => "msg",
        };
        let mut copy = found.clone();
        copy["id"] = new_id(prefix).into();
        copy["status"] = "completed".into();
        if let Some(parts) = copy["content"].as_array_mut() {
            for p in parts {
                if let Some(o) = p.as_object_mut() {
                    o.remove("logprobs");
                }
            }
        }
        *item = copy;
    }
    Ok(())
}

/// Checks that every tool output in `input` answers a call made before it
/// (in `earlier` or in `input`): the error names the item of `items`
/// (`key[i]`).
pub(crate) fn answered_calls(
    input: &[Value],
    earlier: &[Value],
    items: &[Value],
    key: &str,
) -> ApiResult<()> {
    fn note<'a>(calls: &mut std::collections::HashSet<&'a str>, m: &'a Value) {
        for c in m["tool_calls"].as_array().into_iter().flatten() {
            if let Some(id) = c["id"].as_str() {
                calls.insert(id);
            }
        }
    }
    let mut calls = std::collections::HashSet::new();
    for m in earlier {
        note(&mut calls, m);
    }
    for m in input {
        note(&mut calls, m);
        let Some(id) = m["tool_call_id"].as_str().filter(|_| m["role"] == "tool") else {
            continue;
        };
        if !calls.contains(id) {
            let at = items
                .iter()
                .position(|i| i["type"] == "function_call_output" && i["call_id"] == id)
                .map_or_else(|| key.to_string(), |i| format!("{key}[{i}]"));
            return Err(ApiError::invalid(
                Some(&at),
                format!("No tool call found for function call output with call_id {id}."),
            ));
        }
    }
    Ok(())
}
#[utoipa::path(get, path = "/responses/{id}", tag = "Responses", summary = "Retrieve a response", params(("id" = String, Path, description = "Response id (`resp_…`)"), RetrieveParams), responses((status = 200, description = "The response", body = Object)))]
pub async fn retrieve(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let (mut stream, mut starting_after) = (false, None);
    for (k, v) in &pairs {
        let bad = |why: &str| {
            Err(ApiError::invalid(
                Some(k),
                format!("'{k}': {why}, got '{v}'"),
            ))
        };
        match (k.as_str(), v.as_str()) {
            ("stream", "true") => stream = true,
            ("stream", "false") | ("include_obfuscation", "true" | "false") => {}
            ("stream" | "include_obfuscation", _) => return bad("must be true or false"),
            ("starting_after", _) => match v.parse::<u64>() {
                Ok(n) => starting_after = Some(n),
                Err(_) => return bad("must be a sequence number"),
            },
            ("include" | "include[]", "message.output_text.logprobs") => {}
            ("include" | "include[]", _) => {
                return bad("only 'message.output_text.logprobs' is supported");
            }
            _ => {
                return Err(ApiError::invalid(
                    Some(k),
                    format!("Unrecognized query parameter: {k}"),
                ));
            }
        }
    }
    let r = s.store.response(&id)?;
    if !stream {
        if starting_after.is_some() {
            return Err(ApiError::invalid(
                Some("starting_after"),
                "'starting_after' is only allowed when 'stream' is true",
            ));
        }
        return Ok(Json(r).into_response());
    }
    if r["background"] != true {
        return Err(ApiError::invalid(
            Some("stream"),
            "This response cannot be streamed because it was not created with background=true.",
        ));
    }
    // Sequence numbers are indexes into the events.
    let first = starting_after.map_or(0, |n| {
        usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1)
    });
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(REPLAY_BUFFER);
    // Sends `events` (those from `first` on); false once the client has gone.
    async fn send(tx: &mpsc::Sender<Result<Event, Infallible>>, events: Vec<Value>) -> bool {
        for e in events {
            let kind = e["type"].as_str().unwrap_or_default().to_string();
            if tx
                .send(Ok(Event::default().event(kind).data(e.to_string())))
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }
    let live = s
        .replays
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned();
    let stored = match live {
        Some(_) => None,
        None => Some(s.store.response_events(&id)?),
    };
    tokio::spawn(async move {
        let mut next = first;
        match (live, stored) {
            // In progress: what it has sent, then each event as it comes,
            // until the response ends (its sender is dropped).
            (Some(mut events), _) => loop {
                // Copied out, so the generating task never waits on this
                // client.
                let (batch, len) = {
                    let all = events.borrow_and_update();
                    (
                        all.get(next..).map(<[Value]>::to_vec).unwrap_or_default(),
                        all.len(),
                    )
                };
                next = next.max(len);
                if !send(&tx, batch).await {
                    break;
                }
                if events.changed().await.is_err() {
                    let rest = events.borrow().get(next..).map(<[Value]>::to_vec);
                    send(&tx, rest.unwrap_or_default()).await;
                    break;
                }
            },
            (None, Some(Some(events))) => {
                send(&tx, events.into_iter().skip(next).collect()).await;
            }
            // Cut short by a restart: only its end is known.
            (None, _) => {
                let status = r["status"].as_str().unwrap_or("failed");
                let end = json!({"type": format!("response.{status}"), "sequence_number": 0, "response": r});
                send(&tx, vec![end].into_iter().skip(next).collect()).await;
            }
        }
    });
    Ok(Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response())
}

#[utoipa::path(delete, path = "/responses/{id}", tag = "Responses", summary = "Delete a response", params(("id" = String, Path, description = "Response id (`resp_…`)")), responses((status = 200, description = "`{id, object: response, deleted: true}`", body = Object)))]
pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = s.store.response(&id)?;
    if matches!(r["status"].as_str(), Some("queued" | "in_progress")) {
        return Err(ApiError::invalid(
            None,
            format!(
                "Response {id} is still {}; cancel it first.",
                r["status"].as_str().unwrap_or("")
            ),
        ));
    }
    s.store.delete_response(&id)?;
    Ok(Json(
        json!({"id": id, "object": "response", "deleted": true}),
    ))
}

#[utoipa::path(post, path = "/responses/{id}/cancel", tag = "Responses", summary = "Cancel a background response", params(("id" = String, Path, description = "Response id (`resp_…`)")), responses((status = 200, description = "The response, `cancelled` (or as it ended)", body = Object)))]
pub async fn cancel(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = s.store.response(&id)?;
    if r["background"] != true {
        return Err(ApiError::invalid(
            None,
            "Only responses created with 'background': true can be cancelled.",
        ));
    }
    let switch = s
        .active
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned();
    let Some(switch) = switch else {
        return Ok(Json(r));
    };
    let _ = switch.send(true);
    // The job stops at the next token; wait for it to record the end.
    for _ in 0..200 {
        let r = s.store.response(&id)?;
        if !matches!(r["status"].as_str(), Some("queued" | "in_progress")) {
            return Ok(Json(r));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    Ok(Json(s.store.response(&id)?))
}

#[utoipa::path(get, path = "/responses/{id}/input_items", tag = "Responses", summary = "List a response's input items", params(("id" = String, Path, description = "Response id (`resp_…`)"), ListParams), responses((status = 200, description = "A page of input items (messages, function calls and outputs), newest first by default", body = Object)))]
pub async fn input_items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let page = Page::from_query(&q)?;
    // Pages order by position in the input, whatever the ids' prefixes.
    Ok(Json(crate::list::by_position(
        &page,
        s.store.response_input(&id)?,
    )))
}
