//! The body of `POST /v1/responses`, typed, and what it becomes: the chat
//! request the model runs, the context it is answered from, and the input
//! items as stored.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResponse {
    /// A chat model's id, from `GET /v1/models`.
    pub model: Option<String>,
    /// A string (one user message) or a list of items: messages (text
    /// parts), `function_call`, `function_call_output`.
    #[schema(value_type = Object)]
    pub input: Option<Value>,
    /// A system message before the input; not carried over to responses
    /// that name this one.
    pub instructions: Option<String>,
    /// Continue from a stored response: its context and output come first.
    pub previous_response_id: Option<String>,
    /// Keep the response for retrieve, input_items and later chaining
    /// (default true).
    pub store: Option<bool>,
    pub stream: Option<bool>,
    /// Return at once (`queued`); poll, or cancel. Needs `store`.
    pub background: Option<bool>,
    /// Function tools, OpenAI's flat Responses shape.
    pub tools: Option<Vec<FunctionTool>>,
    /// `none`, `auto`, `required` or `{type: "function", name}`.
    #[schema(value_type = Option<Object>)]
    pub tool_choice: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    pub text: Option<TextParam>,
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    /// `disabled` (default: a prompt over the context is a 400) or `auto`
    /// (the oldest turns are dropped to fit).
    pub truncation: Option<String>,
    pub metadata: Option<HashMap<String, String>>,
    /// Accepted; identifies the end user, with no effect here.
    pub user: Option<String>,
    /// Accepted; identifies the end user, with no effect here.
    pub safety_identifier: Option<String>,
    /// Accepted; the KV cache is reused by prefix without a key.
    pub prompt_cache_key: Option<String>,
    /// `auto` or `default` (one tier here).
    pub service_tier: Option<String>,
    /// `{effort, summary}`: accepted and echoed, with no effect (the local
    /// models here do not reason; `usage` reports 0 reasoning tokens).
    #[schema(value_type = Option<Object>)]
    pub reasoning: Option<Value>,
    /// Only `message.output_text.logprobs`.
    pub include: Option<Vec<String>>,
    /// 0 to 20 alternatives per token, with `include`'s logprobs.
    pub top_logprobs: Option<u32>,
    /// A conversation (a thread) id, or `{id}`: its items come first, and
    /// the input and the answer's messages are added to it.
    #[schema(value_type = Option<Object>)]
    pub conversation: Option<Value>,
    /// Run an assistant (its code, or its default answer with its
    /// instructions, tools and model): `{id}`, the assistant's id.
    pub prompt: Option<PromptParam>,
    /// Refused (not yet).
    pub max_tool_calls: Option<u32>,
    /// Accepted: events are not padded.
    #[schema(value_type = Option<Object>)]
    pub stream_options: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionTool {
    /// Only `function`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// Default `true` (as OpenAI's Responses): once the model opens a
    /// call, its arguments follow `parameters` (constrained decoding).
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptParam {
    /// The assistant's id.
    pub id: String,
    /// Refused: assistants take no template variables.
    #[schema(value_type = Option<Object>)]
    pub variables: Option<Value>,
    /// Refused: assistants are not versioned.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextParam {
    /// `{type: "text"}`, `{type: "json_object"}` or `{type: "json_schema",
    /// name, schema, strict}`.
    #[schema(value_type = Option<Object>)]
    pub format: Option<Value>,
    /// Refused unless `medium`.
    pub verbosity: Option<String>,
}

/// Reads `body`; a field of the wrong shape or an unknown one is a 400
/// naming it (as for chat completions).
pub fn parse(body: &Map<String, Value>) -> ApiResult<CreateResponse> {
    crate::typed(body)
}

/// What a create request becomes.
pub struct Plan {
    /// The chat request (no `messages` yet: the context is read from the
    /// chain or conversation, and the input's item references resolved).
    pub chat: Value,
    /// The request's own input items, with ids, as stored and listed
    /// (`item_reference`s not yet resolved).
    pub items: Vec<Value>,
    /// The response's echo of the request (tools, text, sampling…).
    pub echo: Map<String, Value>,
}

impl CreateResponse {
    /// The conversation's id, if one is named.
    pub fn conversation_id(&self) -> ApiResult<Option<String>> {
        match &self.conversation {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(id)) => Ok(Some(id.clone())),
            Some(c) if c["id"].is_string() && c.as_object().is_some_and(|o| o.len() == 1) => {
                Ok(c["id"].as_str().map(String::from))
            }
            Some(_) => Err(ApiError::invalid(
                Some("conversation"),
                "'conversation' must be an id or {id}",
            )),
        }
    }

    pub fn streams(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn background(&self) -> bool {
        self.background.unwrap_or(false)
    }

    pub fn stores(&self) -> bool {
        self.store.unwrap_or(true)
    }

    /// `reasoning` as the response echoes it, checked: OpenAI's efforts and
    /// summaries are accepted (they change nothing here, documented), a
    /// value outside them is a 400 naming it.
    fn reasoning_echo(&self) -> ApiResult<Value> {
        let mut echo = json!({"effort": null, "summary": null});
        let Some(r) = self.reasoning.as_ref().filter(|r| !r.is_null()) else {
            return Ok(echo);
        };
        let Some(o) = r.as_object() else {
            return Err(ApiError::invalid(
                Some("reasoning"),
                "'reasoning' must be an object",
            ));
        };
        for (k, v) in o {
            let allowed: &[&str] = match k.as_str() {
                "effort" => &["none", "minimal", "low", "medium", "high", "xhigh"],
                "summary" | "generate_summary" => &["auto", "concise", "detailed"],
                _ => {
                    return Err(ApiError::invalid(
                        Some(&format!("reasoning.{k}")),
                        format!("Unrecognized request argument supplied: reasoning.{k}"),
                    ));
                }
            };
            match v {
                Value::Null => {}
                Value::String(x) if allowed.contains(&x.as_str()) => {
                    let key = if k == "effort" { "effort" } else { "summary" };
                    echo[key] = v.clone();
                }
                _ => {
                    return Err(ApiError::invalid(
                        Some(&format!("reasoning.{k}")),
                        format!("'reasoning.{k}' must be one of {}", allowed.join(", ")),
                    ));
                }
            }
        }
        Ok(echo)
    }

    /// Refuses what is well-formed but not supported, and turns the rest
    /// into a [`Plan`].
    pub fn plan(&self, model: &str) -> ApiResult<Plan> {
        let refuse = |param: &str, why: String| Err(ApiError::invalid(Some(param), why));
        for (k, set, why) in [
            (
                "conversation",
                self.conversation.is_some() && self.previous_response_id.is_some(),
                "'conversation' and 'previous_response_id' cannot be used together",
            ),
            (
                "prompt.variables",
                self.prompt.as_ref().is_some_and(|p| p.variables.is_some()),
                "assistants take no template variables",
            ),
            (
                "prompt.version",
                self.prompt.as_ref().is_some_and(|p| p.version.is_some()),
                "assistants are not versioned",
            ),
        ] {
            if set {
                return refuse(k, why.to_string());
            }
        }
        let reasoning = self.reasoning_echo()?;
        if self.stream_options.is_some() && !self.streams() {
            return refuse(
                "stream_options",
                "'stream_options' is only allowed when 'stream' is enabled".into(),
            );
        }
        if self.background() && !self.stores() {
            return refuse(
                "background",
                "'background' needs 'store' (a background response is fetched later)".into(),
            );
        }
        if let Some(t) = &self.service_tier
            && !matches!(t.as_str(), "auto" | "default")
        {
            return refuse(
                "service_tier",
                "only 'auto' and 'default' (there is one tier here)".into(),
            );
        }
        if let Some(v) = self.text.as_ref().and_then(|t| t.verbosity.as_deref())
            && v != "medium"
        {
            return refuse("text.verbosity", "only 'medium' is supported".into());
        }
        let logprobs = match self.include.as_deref().unwrap_or_default() {
            [] => false,
            inc => {
                if let Some((i, other)) = inc
                    .iter()
                    .enumerate()
                    .find(|(_, s)| *s != "message.output_text.logprobs")
                {
                    return refuse(
                        &format!("include[{i}]"),
                        format!("'{other}' is not supported; only 'message.output_text.logprobs'"),
                    );
                }
                true
            }
        };
        if self.top_logprobs.is_some() && !logprobs {
            return refuse(
                "top_logprobs",
                "'top_logprobs' needs include: ['message.output_text.logprobs']".into(),
            );
        }
        let truncation = match self.truncation.as_deref() {
            None | Some("disabled") => "disabled",
            Some("auto") => "auto",
            Some(t) => {
                return refuse(
                    "truncation",
                    format!("'truncation' must be 'auto' or 'disabled', got '{t}'"),
                );
            }
        };
        let items = match self.input.as_ref() {
            None | Some(Value::Null) => {
                return refuse("input", "Missing required parameter: 'input'.".into());
            }
            Some(Value::String(s)) => vec![json!({
                "id": jan_store::new_id("msg"), "type": "message", "role": "user",
                "status": "completed", "content": [{"type": "input_text", "text": s}],
            })],
            Some(Value::Array(a)) if !a.is_empty() => items(a, "input")?,
            Some(_) => {
                return refuse(
                    "input",
                    "'input' must be a string or a non-empty list of items".into(),
                );
            }
        };
        // The chat request the model runs.
        let mut chat = Map::new();
        chat.insert("model".into(), model.into());
        let mut set = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                chat.insert(k.into(), v);
            }
        };
        set("temperature", self.temperature.map(Value::from));
        set("top_p", self.top_p.map(Value::from));
        set("presence_penalty", self.presence_penalty.map(Value::from));
        set("frequency_penalty", self.frequency_penalty.map(Value::from));
        set("max_tokens", self.max_output_tokens.map(Value::from));
        set(
            "parallel_tool_calls",
            self.parallel_tool_calls.map(Value::from),
        );
        if logprobs {
            set("logprobs", Some(true.into()));
            set("top_logprobs", Some(self.top_logprobs.unwrap_or(0).into()));
        }
        let tools: Vec<Value> = self.tools.iter().flatten().enumerate().map(|(i, t)| {
            if t.kind != "function" {
                return Err(ApiError::invalid(Some(&format!("tools[{i}].type")), format!("only function tools are supported, got '{}'", t.kind)));
            }
            if t.name.is_none() {
                return Err(ApiError::invalid(Some(&format!("tools[{i}].name")), format!("Missing required parameter: 'tools[{i}].name'.")));
            }
            let mut function = json!({"name": t.name, "parameters": t.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}}))});
            if let Some(d) = &t.description {
                function["description"] = d.clone().into();
            }
            // Responses functions are strict unless `strict: false` (as
            // OpenAI's): a call the model opens follows the schema.
            function["strict"] = t.strict.unwrap_or(true).into();
            Ok(json!({"type": "function", "function": function}))
        }).collect::<ApiResult<_>>()?;
        if !tools.is_empty() {
            set("tools", Some(tools.into()));
        }
        let tool_choice = match &self.tool_choice {
            None => None,
            Some(Value::String(s)) if matches!(s.as_str(), "none" | "auto" | "required") => {
                Some(json!(s))
            }
            Some(c)
                if c["type"] == "function"
                    && c["name"].is_string()
                    && c.as_object().is_some_and(|o| o.len() == 2) =>
            {
                Some(json!({"type": "function", "function": {"name": c["name"]}}))
            }
            Some(c) => {
                return refuse(
                    "tool_choice",
                    format!(
                        "'tool_choice' must be 'none', 'auto', 'required' or {{type: 'function', name}}, got {c}"
                    ),
                );
            }
        };
        if tool_choice.is_some() && self.tools.as_ref().is_none_or(Vec::is_empty) {
            return refuse(
                "tool_choice",
                "'tool_choice' is only allowed when 'tools' are specified".into(),
            );
        }
        set("tool_choice", tool_choice);
        let format = self.text.as_ref().and_then(|t| t.format.clone());
        let response_format = match &format {
            None => None,
            Some(f) => match f["type"].as_str() {
                // Explicit: an assistant's own JSON format must not apply.
                Some("text") => Some(json!({"type": "text"})),
                Some("json_object") => Some(json!({"type": "json_object"})),
                Some("json_schema") => {
                    let mut js = json!({"name": f["name"], "schema": f["schema"]});
                    if let Some(s) = f.get("strict") {
                        js["strict"] = s.clone();
                    }
                    if !f["name"].is_string() {
                        return refuse(
                            "text.format.name",
                            "'text.format.name' is required for json_schema".into(),
                        );
                    }
                    Some(json!({"type": "json_schema", "json_schema": js}))
                }
                _ => {
                    return refuse(
                        "text.format.type",
                        "'text.format.type' must be 'text', 'json_object' or 'json_schema'".into(),
                    );
                }
            },
        };
        set("response_format", response_format);
        // The response's echo of what was asked.
        let echo_tools: Vec<Value> = self
            .tools
            .iter()
            .flatten()
            .map(|t| {
                json!({
                    "type": "function", "name": t.name, "description": t.description,
                    "parameters": t.parameters, "strict": t.strict.unwrap_or(true),
                })
            })
            .collect();
        let mut text_format = format.unwrap_or_else(|| json!({"type": "text"}));
        if text_format["type"] == "json_schema" {
            for k in ["description", "strict"] {
                if text_format.get(k).is_none() {
                    text_format[k] = if k == "strict" {
                        false.into()
                    } else {
                        Value::Null
                    };
                }
            }
        }
        let mut echo = Map::new();
        for (k, v) in [
            ("instructions", json!(self.instructions)),
            ("tools", echo_tools.into()),
            (
                "tool_choice",
                self.tool_choice.clone().unwrap_or_else(|| "auto".into()),
            ),
            (
                "parallel_tool_calls",
                self.parallel_tool_calls.unwrap_or(true).into(),
            ),
            (
                "text",
                json!({"format": text_format, "verbosity": "medium"}),
            ),
            ("temperature", self.temperature.unwrap_or(1.0).into()),
            ("top_p", self.top_p.unwrap_or(1.0).into()),
            (
                "presence_penalty",
                self.presence_penalty.unwrap_or(0.0).into(),
            ),
            (
                "frequency_penalty",
                self.frequency_penalty.unwrap_or(0.0).into(),
            ),
            ("top_logprobs", self.top_logprobs.unwrap_or(0).into()),
            ("max_output_tokens", json!(self.max_output_tokens)),
            ("max_tool_calls", json!(self.max_tool_calls)),
            ("truncation", truncation.into()),
            ("metadata", json!(self.metadata.clone().unwrap_or_default())),
            ("store", self.stores().into()),
            ("background", self.background().into()),
            ("service_tier", "default".into()),
            ("reasoning", reasoning),
            ("user", json!(self.user)),
            ("safety_identifier", json!(self.safety_identifier)),
            ("prompt_cache_key", json!(self.prompt_cache_key)),
            ("previous_response_id", json!(self.previous_response_id)),
            (
                "prompt",
                match &self.prompt {
                    Some(p) => json!({"id": p.id, "variables": null, "version": null}),
                    None => Value::Null,
                },
            ),
        ] {
            echo.insert(k.into(), v);
        }
        Ok(Plan {
            chat: Value::Object(chat),
            items,
            echo,
        })
    }
}

/// Input items (a response's `input`, a conversation's `items`; `key`
/// names them in errors) checked and given ids, as they are stored and
/// listed: messages (text parts), `function_call`, `function_call_output`,
/// and `item_reference`s (`{type, id}`), which the caller resolves.
pub(crate) fn items(list: &[Value], key: &str) -> ApiResult<Vec<Value>> {
    let mut stored = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let at = |f: &str| format!("{key}[{i}]{f}");
        let bad = |f: &str, why: &str| Err(ApiError::invalid(Some(&at(f)), why.to_string()));
        let kind = item["type"]
            .as_str()
            .unwrap_or(if item.get("role").is_some() {
                "message"
            } else {
                ""
            });
        match kind {
            "message" => {
                let role = item["role"].as_str().unwrap_or_default();
                if !matches!(role, "user" | "system" | "developer" | "assistant") {
                    return bad(
                        ".role",
                        "must be 'user', 'system', 'developer' or 'assistant'",
                    );
                }
                let parts = match &item["content"] {
                    Value::String(s) => vec![text_part(role, s)],
                    Value::Array(parts) => {
                        let mut out = Vec::new();
                        for (j, p) in parts.iter().enumerate() {
                            match (p["type"].as_str(), p["text"].as_str()) {
                                (Some("input_text" | "output_text" | "text"), Some(t)) => {
                                    out.push(text_part(role, t))
                                }
                                (Some(other), _)
                                    if !matches!(other, "input_text" | "output_text" | "text") =>
                                {
                                    return bad(
                                        &format!(".content[{j}]"),
                                        &format!(
                                            "only text parts are supported by these models, got '{other}'"
                                        ),
                                    );
                                }
                                _ => {
                                    return bad(
                                        &format!(".content[{j}]"),
                                        "a content part needs 'type' and 'text'",
                                    );
                                }
                            }
                        }
                        out
                    }
                    _ => return bad(".content", "must be a string or a list of content parts"),
                };
                stored.push(json!({"id": jan_store::new_id("msg"), "type": "message", "role": role, "status": "completed", "content": parts}));
            }
            "function_call" => {
                let (Some(call_id), Some(name), Some(args)) = (
                    item["call_id"].as_str(),
                    item["name"].as_str(),
                    item["arguments"].as_str(),
                ) else {
                    return bad(
                        "",
                        "a function_call item needs 'call_id', 'name' and 'arguments' (a JSON string)",
                    );
                };
                stored.push(json!({"id": jan_store::new_id("fc"), "type": "function_call", "status": "completed", "call_id": call_id, "name": name, "arguments": args}));
            }
            "function_call_output" => {
                let Some(call_id) = item["call_id"].as_str() else {
                    return bad(".call_id", "a function_call_output item needs 'call_id'");
                };
                let output = match &item["output"] {
                    Value::String(s) => s.clone(),
                    // Text parts (the newer SDKs' form).
                    Value::Array(parts) => {
                        let mut text = String::new();
                        for (j, p) in parts.iter().enumerate() {
                            match (p["type"].as_str(), p["text"].as_str()) {
                                (Some("input_text" | "output_text"), Some(t)) => text.push_str(t),
                                _ => {
                                    return bad(
                                        &format!(".output[{j}]"),
                                        "only text parts are supported by these models",
                                    );
                                }
                            }
                        }
                        text
                    }
                    _ => return bad(".output", "must be a string or a list of text parts"),
                };
                if output.len() > jan_host::MAX_TOOL_OUTPUT {
                    return bad(
                        ".output",
                        &format!(
                            "a tool output may hold at most {} bytes",
                            jan_host::MAX_TOOL_OUTPUT
                        ),
                    );
                }
                stored.push(json!({"id": jan_store::new_id("fco"), "type": "function_call_output", "status": "completed", "call_id": call_id, "output": output}));
            }
            "item_reference" | "" if item.get("id").is_some() => match item["id"].as_str() {
                Some(id) => stored.push(json!({"type": "item_reference", "id": id})),
                None => return bad(".id", "an item reference needs the item's 'id'"),
            },
            other => {
                return bad(
                    ".type",
                    &format!(
                        "'{other}' items are not supported; use messages, 'function_call', 'function_call_output' or 'item_reference'"
                    ),
                );
            }
        }
    }
    Ok(stored)
}

/// A message's text part: `output_text` (with `annotations`) for the
/// assistant, `input_text` for the others, as OpenAI lists them.
fn text_part(role: &str, text: &str) -> Value {
    if role == "assistant" {
        json!({"type": "output_text", "text": text, "annotations": []})
    } else {
        json!({"type": "input_text", "text": text})
    }
}

/// Items (checked, references resolved: input, output or a conversation's)
/// as the chat messages a model reads: messages with their text, calls as
/// an assistant turn's `tool_calls`, outputs as `tool` messages.
pub(crate) fn to_chat(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        match item["type"].as_str() {
            Some("message") => {
                let text: String = item["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["text"].as_str())
                    .collect();
                out.push(json!({"role": item["role"], "content": text}));
            }
            Some("function_call") => {
                let call = json!({"id": item["call_id"], "type": "function", "function": {"name": item["name"], "arguments": item["arguments"]}});
                push_call(&mut out, call);
            }
            Some("function_call_output") => out.push(
                json!({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]}),
            ),
            _ => {}
        }
    }
    out
}

/// Adds a call to chat messages: a call right after an assistant turn is
/// part of it.
fn push_call(messages: &mut Vec<Value>, call: Value) {
    match messages.last_mut() {
        Some(m) if m["role"] == "assistant" => match m["tool_calls"].as_array_mut() {
            Some(c) => c.push(call),
            None => m["tool_calls"] = json!([call]),
        },
        _ => messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
    }
}
