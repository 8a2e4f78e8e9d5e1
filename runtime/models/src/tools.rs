//! Function calling and structured output for local models: what a request
//! asks for (`tools`, `tool_choice`, `parallel_tool_calls`,
//! `response_format`), how tools and past calls reach the prompt, the
//! grammar that forces a call or a JSON answer, and reading calls back out
//! of what the model wrote.
//!
//! Call formats read: Hermes/Qwen `<tool_call>{…}</tool_call>`, Llama 3.x
//! JSON (`{"name", "parameters"}`, after `<|python_tag|>` or bare), Mistral
//! `[TOOL_CALLS][…]` and `[TOOL_CALLS]name[ARGS]{…}`. Small models often
//! drop the tags: bare JSON or a fenced ```json block is taken as a call
//! when it names an offered tool and its arguments match that tool's schema
//! (llama.cpp's server has the same fallback); anything else stays text.
//!
//! Templates that do not render `tools` get the generic prompt
//! [`generic_prompt`]: a system message that lists the tools and asks for
//! Hermes-style `<tool_call>` tags.

use llguidance::api::TopLevelGrammar;
use serde_json::{Map, Value, json};

use crate::constrain;
use crate::generate::{BadParam, bad};

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON schema of the arguments object.
    pub parameters: Value,
    /// `function.strict`: under `auto`, a call the model starts must
    /// match `parameters` (a lazy grammar; see [`Spec::grammar`]).
    pub strict: bool,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    /// Tools are not offered.
    None,
    /// The model decides; output is read for calls afterwards.
    Auto,
    /// At least one call, forced by the grammar.
    Required,
    /// A call to this function, forced by the grammar.
    Named(String),
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Text,
    JsonObject,
    JsonSchema { schema: Value },
}

pub use jan_provider::ToolCall;

/// What a chat request asks for beyond plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub tools: Vec<Tool>,
    pub choice: Choice,
    pub parallel: bool,
    pub format: Format,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Spec {
    /// Reads and checks `tools`, `tool_choice`, `parallel_tool_calls` and
    /// `response_format`; a grammar llguidance cannot build (a schema
    /// keyword it does not enforce) is refused here, naming the parameter.
    pub fn from_request(request: &Value) -> Result<Spec, BadParam> {
        let get = |k: &str| request.get(k).filter(|v| !v.is_null());
        let mut tools = Vec::new();
        match get("tools") {
            None => {}
            Some(Value::Array(list)) => {
                for (i, t) in list.iter().enumerate() {
                    let tool = parse_tool(i, t)?;
                    if tools.iter().any(|x: &Tool| x.name == tool.name) {
                        return Err(bad(
                            format!("tools[{i}].function.name"),
                            format!("two tools are named '{}'", tool.name),
                        ));
                    }
                    tools.push(tool);
                }
            }
            Some(v) => return Err(bad("tools", format!("must be a list, got {v}"))),
        }
        let choice = match get("tool_choice") {
            None if tools.is_empty() => Choice::None,
            None => Choice::Auto,
            Some(Value::String(s)) => match s.as_str() {
                "none" => Choice::None,
                "auto" => Choice::Auto,
                "required" => Choice::Required,
                _ => {
                    return Err(bad(
                        "tool_choice",
                        format!(
                            "must be 'none', 'auto', 'required' or {{\"type\": \"function\", \"function\": {{\"name\": …}}}}, got '{s}'"
                        ),
                    ));
                }
            },
            Some(v) => match (v["type"].as_str(), v["function"]["name"].as_str()) {
                (Some("function"), Some(name)) => Choice::Named(name.to_string()),
                _ => {
                    return Err(bad(
                        "tool_choice",
                        format!(
                            "must be 'none', 'auto', 'required' or {{\"type\": \"function\", \"function\": {{\"name\": …}}}}, got {v}"
                        ),
                    ));
                }
            },
        };
        match &choice {
            Choice::Required if tools.is_empty() => {
                return Err(bad(
                    "tool_choice",
                    "'required' needs at least one tool in 'tools'",
                ));
            }
            Choice::Named(n) if !tools.iter().any(|t| &t.name == n) => {
                return Err(bad(
                    "tool_choice",
                    format!("no tool named '{n}' is in 'tools'"),
                ));
            }
            _ => {}
        }
        let parallel = match get("parallel_tool_calls") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(bad(
                    "parallel_tool_calls",
                    format!("must be a boolean, got {v}"),
                ));
            }
        };
        let format = match get("response_format") {
            None => Format::Text,
            Some(f) => match f["type"].as_str() {
                Some("text") => Format::Text,
                Some("json_object") => Format::JsonObject,
                Some("json_schema") => {
                    let js = &f["json_schema"];
                    if !js.is_object() {
                        return Err(bad(
                            "response_format.json_schema",
                            "is required with type 'json_schema'",
                        ));
                    }
                    if !js["name"].as_str().is_some_and(valid_name) {
                        return Err(bad(
                            "response_format.json_schema.name",
                            "must be a string of letters, digits, '_' and '-' (at most 64)",
                        ));
                    }
                    let schema = match js.get("schema").filter(|s| !s.is_null()) {
                        None => json!({}),
                        Some(s) if s.is_object() => s.clone(),
                        Some(s) => {
                            return Err(bad(
                                "response_format.json_schema.schema",
                                format!("must be a JSON schema object, got {s}"),
                            ));
                        }
                    };
                    Format::JsonSchema { schema }
                }
                _ => {
                    return Err(bad(
                        "response_format.type",
                        format!("must be 'text', 'json_object' or 'json_schema', got {f}"),
                    ));
                }
            },
        };
        let spec = Spec {
            tools,
            choice,
            parallel,
            format,
        };
        // Check every schema the grammar would use, so the error names it,
        // then the grammar itself.
        if let Format::JsonSchema { schema } = &spec.format {
            constrain::check(&TopLevelGrammar::from_json_schema(bounded(schema))).map_err(|e| {
                bad(
                    "response_format.json_schema.schema",
                    format!("cannot be enforced: {e}"),
                )
            })?;
        }
        if spec.grammar().is_some() && spec.reads_calls() {
            for (i, t) in spec.tools.iter().enumerate() {
                let enforced = !spec.lazy() || t.strict;
                if enforced && spec.constrained_tools().iter().any(|c| c.name == t.name) {
                    constrain::check(&TopLevelGrammar::from_json_schema(bounded(&t.parameters)))
                        .map_err(|e| {
                            bad(
                                format!("tools[{i}].function.parameters"),
                                format!("cannot be enforced: {e}"),
                            )
                        })?;
                }
            }
        }
        if let Some(g) = spec.grammar() {
            constrain::check(&g).map_err(|e| bad("tools", format!("cannot be enforced: {e}")))?;
        }
        Ok(spec)
    }

    /// The tools the model is shown.
    pub fn offered(&self) -> &[Tool] {
        match &self.choice {
            Choice::None => &[],
            _ => &self.tools,
        }
    }

    pub fn forces_call(&self) -> bool {
        matches!(self.choice, Choice::Required | Choice::Named(_))
    }

    /// Whether the model's output is read for calls.
    pub fn reads_calls(&self) -> bool {
        !self.offered().is_empty()
    }

    /// `tools` as the chat template receives them (OpenAI's shape).
    pub fn template_tools(&self) -> Option<Value> {
        let tools = self.offered();
        if tools.is_empty() {
            return None;
        }
        Some(Value::Array(
            tools
                .iter()
                .map(|t| {
                    let mut f = Map::new();
                    f.insert("name".into(), t.name.clone().into());
                    if let Some(d) = &t.description {
                        f.insert("description".into(), d.clone().into());
                    }
                    f.insert("parameters".into(), t.parameters.clone());
                    json!({"type": "function", "function": f})
                })
                .collect(),
        ))
    }

    /// The grammar generation must follow, if any: a forced call (in the
    /// Hermes format every template here is asked to use), a JSON answer,
    /// or, with `auto` and a JSON format, either of them.
    ///
    /// With `auto`, text answers and a `strict` tool, the grammar is lazy
    /// (llama.cpp's "lazy grammar"): any text that does not contain
    /// `<tool_call>` is free; once the model writes that tag, what follows
    /// must be a call to an offered tool whose arguments match its schema
    /// (strict tools; the others' arguments must be a JSON object), and
    /// the answer ends after the calls. Calls written in other formats
    /// (bare JSON, Llama's, Mistral's) are read afterwards as before.
    pub fn grammar(&self) -> Option<TopLevelGrammar> {
        let answer = match &self.format {
            Format::Text => None,
            Format::JsonObject => Some(bounded(&json!({"type": "object"}))),
            Format::JsonSchema { schema } => Some(bounded(schema)),
        };
        let lazy = self.lazy();
        // One rule per tool, for what follows `<tool_call>`: its
        // parameters are the root of their own `%json` (so `#/$defs/…`
        // references resolve in them).
        let rules: Vec<String> = self
            .constrained_tools()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let head = serde_json::to_string(&format!(
                    "\n{{\"name\": \"{}\", \"arguments\": ",
                    t.name
                ))
                .unwrap_or_default();
                let args = if lazy && !t.strict {
                    bounded(&json!({"type": "object"}))
                } else {
                    bounded(&t.parameters)
                };
                format!("call{i}: {head} %json {args} \"}}\\n</tool_call>\"\n")
            })
            .collect();
        let names: Vec<String> = (0..rules.len()).map(|i| format!("call{i}")).collect();
        let more = if self.parallel {
            " (\"\\n<tool_call>\" body)*"
        } else {
            ""
        };
        let body = format!("body: {}\n{}", names.join(" | "), rules.concat());
        let calls = format!("calls: \"<tool_call>\" body{more}\n{body}");
        let lark = match (self.forces_call(), self.reads_calls(), answer) {
            // TEXT holds no `<tool_call>`; OPEN is text up to and including
            // the first one and cannot go on, so the lexer ends it there.
            _ if lazy => self.lazy_lark(&body, more),
            (true, _, _) => format!("start: calls\n{calls}"),
            (false, true, Some(schema)) => {
                format!("start: calls | answer\nanswer: %json {schema}\n{calls}")
            }
            (false, false, Some(schema)) => return Some(TopLevelGrammar::from_json_schema(schema)),
            (false, _, None) => return None,
        };
        Some(TopLevelGrammar::from_lark(lark))
    }

    /// The lazy grammar's Lark text. A call may open three ways (what
    /// Qwen-style models write under `auto`): a `<tool_call>` tag anywhere,
    /// or, as the whole answer, a fenced ```json block or a bare object
    /// whose `"name"` is an offered tool's (the parser reads untagged
    /// calls only when they are the whole answer; other JSON, a
    /// package.json with its own `"name"`, stays free). TEXT holds none of
    /// these openers; the TAG token is text up to its first tag and cannot
    /// go on, so the lexer ends it there and the call's rules take over;
    /// the untagged openers carry the tool's name, so each has its own
    /// arguments rule. A tagged call ends the answer; text without a tag
    /// may follow an untagged one (small models echo a call, then answer
    /// with the tool's result: the parser then keeps it all as text, as
    /// without the grammar).
    fn lazy_lark(&self, body: &str, more: &str) -> String {
        const TAG: &str = "<tool_call>";
        let tools = self.constrained_tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        // Names are letters, digits, `_` and `-`: nothing to escape.
        let key = |name: &str| format!(r#"\{{\s*"name"\s*:\s*"{name}""#);
        // As `fenced` reads them: ``` or ```json, then a line break.
        let fence = |name: &str| format!(r#"\s*```(json)?[ \t]*\r?\n\s*{}"#, key(name));
        let bare = |name: &str| format!(r#"\s*{}"#, key(name));
        let any = format!("({})", names.join("|"));
        let (fence_any, bare_any) = (fence(&any), bare(&any));
        let gap = "(WS)?";
        let mut starts = vec![format!("TAG body{more}")];
        let mut rules = String::new();
        for (i, t) in tools.iter().enumerate() {
            let args = if t.strict {
                bounded(&t.parameters)
            } else {
                bounded(&json!({"type": "object"}))
            };
            let call = format!(
                "{gap} \",\" {gap} (\"\\\"arguments\\\"\" | \"\\\"parameters\\\"\") {gap} \":\" {gap} %json {args} {gap} \"}}\""
            );
            starts.push(format!("FENCE{i} fenced{i} (REST)?"));
            starts.push(format!("BARE{i} bare{i} (REST)?"));
            rules.push_str(&format!(
                "fenced{i}: {call} {gap} \"```\"\nbare{i}: {call}\nFENCE{i}: /{}/\nBARE{i}: /{}/\n",
                fence(&t.name),
                bare(&t.name)
            ));
        }
        format!(
            "start: TEXT | {}\n\
             WS: /[ \\t\\r\\n]{{1,16}}/\n\
             REST: /(?s:.+)/ & ~/(?s:.*){TAG}(?s:.*)/\n\
             TEXT: /(?s:.*)/ & ~/(?s:.*){TAG}(?s:.*)/ & ~/{fence_any}(?s:.*)/ & ~/{bare_any}(?s:.*)/\n\
             TAG: /(?s:.*){TAG}/ & ~/(?s:.*){TAG}(?s:.+)/ & ~/{fence_any}(?s:.*)/ & ~/{bare_any}(?s:.*)/\n\
             {rules}{body}",
            starts.join(" | "),
        )
    }

    /// Whether the grammar is the lazy one (`auto`, a text answer, and at
    /// least one `strict` tool).
    fn lazy(&self) -> bool {
        self.choice == Choice::Auto
            && self.format == Format::Text
            && self.tools.iter().any(|t| t.strict)
    }

    /// The tools a grammar may call: the named one, or all offered.
    fn constrained_tools(&self) -> Vec<&Tool> {
        match &self.choice {
            Choice::Named(n) => self.tools.iter().filter(|t| &t.name == n).collect(),
            Choice::None => Vec::new(),
            _ => self.tools.iter().collect(),
        }
    }

    /// Splits what the model wrote into text and calls.
    pub fn parse(&self, text: &str) -> (String, Vec<ToolCall>) {
        if !self.reads_calls() {
            return (text.to_string(), Vec::new());
        }
        let mut calls = parse_calls(text, self.offered());
        if !self.parallel {
            calls.1.truncate(1);
        }
        calls
    }
}

/// `schema` with whitespace between JSON tokens bounded (llguidance's
/// `x-guidance`): a small model may otherwise pad with spaces until the
/// context is full.
fn bounded(schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Some(o) = s.as_object_mut() {
        o.insert(
            "x-guidance".into(),
            json!({"whitespace_pattern": "[\\x20\\x0A\\x0D\\x09]{1,16}"}),
        );
    }
    s
}

fn parse_tool(i: usize, t: &Value) -> Result<Tool, BadParam> {
    match t["type"].as_str() {
        Some("function") => {}
        Some(other) => {
            return Err(bad(
                format!("tools[{i}].type"),
                format!("only 'function' tools are supported here, got '{other}'"),
            ));
        }
        None => return Err(bad(format!("tools[{i}].type"), "is required ('function')")),
    }
    let f = &t["function"];
    let name = f["name"]
        .as_str()
        .filter(|n| valid_name(n))
        .ok_or_else(|| {
            bad(
                format!("tools[{i}].function.name"),
                "must be a string of letters, digits, '_' and '-' (at most 64)",
            )
        })?;
    let description = match f.get("description").filter(|d| !d.is_null()) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(bad(
                format!("tools[{i}].function.description"),
                "must be a string",
            ));
        }
    };
    let parameters = match f.get("parameters").filter(|p| !p.is_null()) {
        None => json!({"type": "object", "properties": {}}),
        Some(p) if p.is_object() && p.get("type").is_none_or(|t| t == "object") => p.clone(),
        Some(_) => {
            return Err(bad(
                format!("tools[{i}].function.parameters"),
                "must be a JSON schema of an object (\"type\": \"object\")",
            ));
        }
    };
    let strict = match f.get("strict") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(s) => {
            return Err(bad(
                format!("tools[{i}].function.strict"),
                format!("must be a boolean, got {s}"),
            ));
        }
    };
    Ok(Tool {
        name: name.to_string(),
        description,
        parameters,
        strict,
    })
}

/// The system text for templates that do not render tools themselves.
pub fn generic_prompt(tools: &Value) -> String {
    let list: Vec<String> = tools
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| t["function"].to_string())
        .collect();
    format!(
        "You may call functions to help with the user's request. The functions, as JSON schemas:\n<tools>\n{}\n</tools>\nTo call one, reply with only this, once per call:\n<tool_call>\n{{\"name\": <function name>, \"arguments\": <arguments object>}}\n</tool_call>\nThe results come back in <tool_response> tags; then answer the user.",
        list.join("\n")
    )
}

/// Messages as chat templates expect them: an assistant turn's
/// `tool_calls[].function.arguments` as an object, not JSON text (Hugging
/// Face templates write it with `tojson`). With `generic`, calls and
/// results become text the generic prompt describes.
pub fn template_messages(messages: &[Value], generic: bool) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let calls = m.get("tool_calls").and_then(Value::as_array).cloned();
            if let Some(calls) = calls {
                let calls: Vec<Value> = calls
                    .into_iter()
                    .filter(|c| c.is_object() && c["function"].is_object())
                    .map(|mut c| {
                        if let Some(Value::String(a)) = c["function"].get("arguments")
                            && let Ok(v) = serde_json::from_str::<Value>(a)
                        {
                            c["function"]["arguments"] = v;
                        }
                        // Some templates read the call's fields at the top.
                        c["name"] = c["function"]["name"].clone();
                        c["arguments"] = c["function"]["arguments"].clone();
                        c
                    })
                    .collect();
                if generic {
                    let text: Vec<String> = calls
                        .iter()
                        .map(|c| {
                            format!(
                                "<tool_call>\n{}\n</tool_call>",
                                json!({"name": c["name"], "arguments": c["arguments"]})
                            )
                        })
                        .collect();
                    let before = m["content"].as_str().unwrap_or_default().to_string();
                    m["content"] = format!("{before}{}", text.join("\n")).into();
                    if let Some(o) = m.as_object_mut() {
                        o.remove("tool_calls");
                    }
                } else {
                    m["tool_calls"] = Value::Array(calls);
                }
            }
            if generic && m["role"] == "tool" {
                let content = m["content"].as_str().unwrap_or_default().to_string();
                m["role"] = "user".into();
                m["content"] = format!("<tool_response>\n{content}\n</tool_response>").into();
            }
            m
        })
        .collect()
}

/// Markers after which everything is calls.
pub(crate) const OPENERS: &[&str] = &["<tool_call>", "[TOOL_CALLS]", "<|python_tag|>"];

/// Reads calls to `tools` from `text`; returns the text before them and the
/// calls. Text with no readable call comes back whole.
pub fn parse_calls(text: &str, tools: &[Tool]) -> (String, Vec<ToolCall>) {
    let whole = || (text.to_string(), Vec::new());
    if let Some((at, opener)) = OPENERS
        .iter()
        .filter_map(|o| text.find(o).map(|i| (i, *o)))
        .min()
    {
        let content = text[..at].trim_end().to_string();
        let rest = &text[at..];
        let calls = match opener {
            "<tool_call>" => tagged(rest, tools),
            "[TOOL_CALLS]" => mistral(&rest[opener.len()..], tools),
            // Llama 3.x: one or more JSON objects, maybe `;`-separated.
            _ => json_values(&rest[opener.len()..])
                .iter()
                .filter_map(|v| call_from(v, tools, false))
                .collect(),
        };
        return if calls.is_empty() {
            whole()
        } else {
            (content, calls)
        };
    }
    // Untagged: the whole answer is JSON, maybe in a fenced block.
    let trimmed = text.trim();
    let body = fenced(trimmed).unwrap_or(trimmed);
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return whole();
    };
    let items = match v {
        Value::Array(a) => a,
        v => vec![v],
    };
    let calls: Option<Vec<ToolCall>> = items.iter().map(|v| call_from(v, tools, true)).collect();
    match calls {
        Some(c) if !c.is_empty() => (String::new(), c),
        _ => whole(),
    }
}

/// The body of a text that is one fenced code block.
fn fenced(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("```")?;
    let rest = rest.strip_suffix("```")?;
    let newline = rest.find('\n')?;
    let lang = rest[..newline].trim();
    (lang.is_empty() || lang == "json").then(|| rest[newline + 1..].trim())
}

/// `<tool_call>{…}</tool_call>` blocks (the last may be cut short).
fn tagged(text: &str, tools: &[Tool]) -> Vec<ToolCall> {
    text.split("<tool_call>")
        .filter_map(|block| {
            let body = block.split("</tool_call>").next()?.trim();
            let v = first_json(body)?;
            call_from(&v, tools, false)
        })
        .collect()
}

/// `[{"name", "arguments"}, …]` or `name[ARGS]{…}` after `[TOOL_CALLS]`.
fn mistral(text: &str, tools: &[Tool]) -> Vec<ToolCall> {
    let text = text.trim_start();
    if text.starts_with('[') || text.starts_with('{') {
        return match first_json(text) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| call_from(v, tools, false))
                .collect(),
            Some(v) => call_from(&v, tools, false).into_iter().collect(),
            None => Vec::new(),
        };
    }
    text.split("[TOOL_CALLS]")
        .filter_map(|part| {
            let (name, args) = part.split_once("[ARGS]")?;
            let v = json!({"name": name.trim(), "arguments": first_json(args.trim())?});
            call_from(&v, tools, false)
        })
        .collect()
}

/// JSON values one after another, separated by whitespace or `;`.
fn json_values(mut text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        let mut it = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                out.push(v);
                text = &text[it.byte_offset()..];
            }
            _ => return out,
        }
    }
}

/// The first JSON value at the start of `text`.
fn first_json(text: &str) -> Option<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()?
        .ok()
}

/// A call from `{"name", "arguments" | "parameters"}` naming an offered
/// tool. `strict` (untagged JSON, which may just be an answer) or a
/// `strict` tool: the arguments must match the tool's schema.
fn call_from(v: &Value, tools: &[Tool], strict: bool) -> Option<ToolCall> {
    let name = v.get("name")?.as_str()?;
    let tool = tools.iter().find(|t| t.name == name)?;
    let mut args = v
        .get("arguments")
        .or_else(|| v.get("parameters"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Value::String(s) = &args {
        args = serde_json::from_str(s).ok()?;
    }
    if !args.is_object() {
        return None;
    }
    // A strict tool's call must match its schema in every format (the lazy
    // grammar constrains only Hermes-style and whole-answer JSON calls).
    if strict || tool.strict {
        let grammar = TopLevelGrammar::from_json_schema(bounded(&tool.parameters));
        let valid = if constrain::check(&grammar).is_ok() {
            let ordered = in_schema_order(&args, &tool.parameters);
            constrain::accepts(&grammar, &ordered.to_string())
        } else {
            // A schema the engine cannot enforce: its required properties
            // must at least be there.
            tool.parameters["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .all(|k| args.get(k).is_some())
        };
        if !valid {
            return None;
        }
    }
    Some(ToolCall::new(name, args.to_string()))
}

/// `value` with object keys in the order the schema lists them (the
/// grammar reads properties in that order; JSON objects have none).
fn in_schema_order(value: &Value, schema: &Value) -> Value {
    match value {
        Value::Object(o) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let mut out = Map::new();
            if let Some(props) = props {
                for (k, s) in props {
                    if let Some(v) = o.get(k) {
                        out.insert(k.clone(), in_schema_order(v, s));
                    }
                }
            }
            for (k, v) in o {
                if !out.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            Value::Array(a.iter().map(|v| in_schema_order(v, items)).collect())
        }
        v => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> Vec<Tool> {
        vec![Tool {
            name: "get_weather".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            strict: false,
        }]
    }

    #[test]
    fn reads_every_call_format() {
        let tools = weather();
        let cases = [
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
            "Let me check.\n<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Paris\\\"}\"}",
            "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
            "```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n```",
            "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
            "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"note\": \"a;b\"}}",
            "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]",
            "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}",
        ];
        for c in cases {
            let (_, calls) = parse_calls(c, &tools);
            assert_eq!(calls.len(), 1, "{c}");
            assert_eq!(calls[0].name, "get_weather");
            let args = serde_json::from_str::<Value>(&calls[0].arguments).unwrap();
            assert_eq!(args["city"], "Paris");
        }
        let (content, calls) = parse_calls(cases[1], &tools);
        assert_eq!(content, "Let me check.");
        assert_eq!(calls.len(), 1);
    }

    #[test]
    fn several_calls_in_one_turn() {
        let llama = "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Rome\"}}";
        assert_eq!(parse_calls(llama, &weather()).1.len(), 2);
        let text = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>";
        let (_, calls) = parse_calls(text, &weather());
        assert_eq!(calls.len(), 2);
        assert_ne!(calls[0].id, calls[1].id);
        assert!(calls[1].arguments.contains("Rome"));
    }

    #[test]
    fn untagged_json_must_match_an_offered_tool() {
        let tools = weather();
        for text in [
            "{\"name\": \"get_time\", \"arguments\": {}}",
            "{\"name\": \"get_weather\", \"arguments\": {\"town\": 3}}",
            "{\"answer\": 42}",
            "The weather is fine.",
            "<tool_call>not json</tool_call>",
        ] {
            let (content, calls) = parse_calls(text, &tools);
            assert!(calls.is_empty(), "{text}");
            assert_eq!(content, text);
        }
    }

    #[test]
    fn request_checks_name_the_parameter() {
        let t = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
        let err = |v: Value| Spec::from_request(&v).unwrap_err().param;
        assert_eq!(
            err(json!({"tools": t, "tool_choice": "always"})),
            "tool_choice"
        );
        assert_eq!(
            err(
                json!({"tools": t, "tool_choice": {"type": "function", "function": {"name": "g"}}})
            ),
            "tool_choice"
        );
        assert_eq!(err(json!({"tool_choice": "required"})), "tool_choice");
        assert_eq!(
            err(json!({"tools": [{"type": "web_search"}]})),
            "tools[0].type"
        );
        assert_eq!(
            err(json!({"tools": [{"type": "function", "function": {"name": "a b"}}]})),
            "tools[0].function.name"
        );
        assert_eq!(
            err(
                json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "if": {}}}}})
            ),
            "response_format.json_schema.schema"
        );
        assert_eq!(
            err(json!({"response_format": {"type": "xml"}})),
            "response_format.type"
        );
        let s = Spec::from_request(&json!({"tools": t})).unwrap();
        assert_eq!(s.choice, Choice::Auto);
        assert!(s.parallel);
        let s = Spec::from_request(&json!({"tools": t, "tool_choice": "none"})).unwrap();
        assert!(s.template_tools().is_none());
    }

    #[test]
    fn forced_call_grammar_accepts_calls_only() {
        let s = Spec::from_request(&json!({
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": weather()[0].parameters}}],
            "tool_choice": "required", "parallel_tool_calls": false,
        }))
        .unwrap();
        let g = s.grammar().unwrap();
        assert!(constrain::check(&g).is_ok());
        assert!(constrain::accepts(
            &g,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>"
        ));
        assert!(!constrain::accepts(&g, "It is sunny."));
        assert!(!constrain::accepts(
            &g,
            "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"
        ));
    }
}

#[cfg(test)]
mod grammar_tests {
    use super::*;

    fn strict_weather(strict: bool) -> Value {
        json!({"type": "function", "function": {"name": "get_weather", "strict": strict,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                "unit": {"enum": ["c", "f"]}}, "required": ["city", "unit"]}}})
    }

    #[test]
    fn strict_tools_under_auto_get_a_lazy_grammar() {
        let other = json!({"type": "function", "function": {"name": "note"}});
        let s = Spec::from_request(&json!({"tools": [strict_weather(true), other]})).unwrap();
        let g = s
            .grammar()
            .expect("a strict tool under auto is constrained");
        let call = |name: &str, args: &str| {
            format!("<tool_call>\n{{\"name\": \"{name}\", \"arguments\": {args}}}\n</tool_call>")
        };
        // Free text, with or without a call after it.
        assert!(constrain::accepts(
            &g,
            "It is sunny in Oslo, 21 °C. <tool> ok"
        ));
        assert!(constrain::accepts(&g, ""));
        let good = call("get_weather", r#"{"city": "Oslo", "unit": "c"}"#);
        assert!(constrain::accepts(&g, &good));
        assert!(constrain::accepts(&g, &format!("Let me check.\n{good}")));
        // Several calls (parallel_tool_calls defaults to true).
        let note = call("note", r#"{"anything": [1, 2]}"#);
        assert!(constrain::accepts(&g, &format!("{good}\n{note}")));
        // Once the tag is written, the call must match the strict schema.
        for bad in [
            call("get_weather", r#"{"city": "Oslo", "unit": "kelvin"}"#),
            call("get_weather", r#"{"city": "Oslo"}"#),
            call("get_time", "{}"),
            "<tool_call> the weather".to_string(),
            format!("{good} and more text"),
        ] {
            assert!(!constrain::accepts(&g, &bad), "accepted {bad}");
        }
        // The openers Qwen writes without tags: a fenced block, a bare
        // object (pretty-printed or not); the strict schema holds there too.
        let fenced = "```json\r\n{\n  \"name\": \"get_weather\",\n  \"arguments\": {\n    \"city\": \"Oslo\",\n    \"unit\": \"f\"\n  }\n}\n```";
        assert!(constrain::accepts(&g, fenced));
        assert!(!constrain::accepts(&g, &fenced.replace("\"f\"", "\"k\"")));
        // After prose, a fenced block is text (the parser reads untagged
        // calls only as the whole answer).
        let prose = format!("Sure.\n{}", fenced.replace("\"f\"", "\"k\""));
        assert!(constrain::accepts(&g, &prose));
        // JSON whose "name" is not a tool's is free: a package.json, a
        // person, a name that only starts like a tool's.
        for free in [
            "```json\n{\"name\": \"my-app\", \"version\": \"1.0.0\"}\n```",
            r#"{"name": "George Washington", "age": 67}"#,
            r#"{"name": "get_weather_station", "id": 3}"#,
            r#"{"name": "get_time", "arguments": {}}"#,
        ] {
            assert!(constrain::accepts(&g, free), "refused {free}");
        }
        // Llama 3.x names the arguments `parameters`.
        assert!(constrain::accepts(
            &g,
            r#"{"name": "get_weather", "parameters": {"city": "Oslo", "unit": "c"}}"#
        ));
        // A fence the parser would not read (no line break after it) is text.
        assert!(constrain::accepts(
            &g,
            r#"```json {"name": "get_weather", "arguments": {"unit": "k"}}```"#
        ));
        // Text may follow an untagged call (small models echo the call,
        // then answer), but no tagged call, which would skip the schema.
        let bare_call = r#"{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "c"}}"#;
        assert!(constrain::accepts(
            &g,
            &format!("{bare_call}\n\nIt is 14 degrees.")
        ));
        let bad_tag = call("get_weather", r#"{"city": "Oslo", "unit": "zz"}"#);
        assert!(!constrain::accepts(&g, &format!("{bare_call}\n{bad_tag}")));
        let bare = r#"{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "c"}}"#;
        assert!(constrain::accepts(&g, bare));
        assert!(!constrain::accepts(&g, &bare.replace("\"c\"", "3")));
        // Other JSON, fenced or not, is still free text.
        assert!(constrain::accepts(&g, "```json\n{\"city\": \"Oslo\"}\n```"));
        assert!(constrain::accepts(&g, "[1, 2]"));
        // A non-strict tool's arguments only have to be an object.
        assert!(!constrain::accepts(&g, &call("note", "[1]")));
        // Without a strict tool, `auto` stays unconstrained.
        let s = Spec::from_request(&json!({"tools": [strict_weather(false)]})).unwrap();
        assert!(s.grammar().is_none());
        // One call only when parallel calls are off.
        let s = Spec::from_request(
            &json!({"tools": [strict_weather(true)], "parallel_tool_calls": false}),
        )
        .unwrap();
        let g = s.grammar().unwrap();
        assert!(constrain::accepts(&g, &good));
        assert!(!constrain::accepts(&g, &format!("{good}\n{good}")));
    }

    #[test]
    fn a_strict_schema_the_engine_cannot_enforce_is_refused_under_auto() {
        let t = json!([{"type": "function", "function": {"name": "f", "strict": true,
            "parameters": {"type": "object", "if": {}}}}]);
        let e = Spec::from_request(&json!({"tools": t})).unwrap_err();
        assert_eq!(e.param, "tools[0].function.parameters");
    }

    #[test]
    fn each_tool_schema_is_its_own_root_so_defs_resolve() {
        let params = json!({
            "$defs": {"P": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
            "type": "object", "properties": {"p": {"$ref": "#/$defs/P"}}, "required": ["p"],
        });
        let s = Spec::from_request(&json!({
            "tools": [{"type": "function", "function": {"name": "f", "parameters": params}},
                      {"type": "function", "function": {"name": "g"}}],
            "tool_choice": "required",
        }))
        .unwrap();
        let g = s.grammar().unwrap();
        assert!(constrain::accepts(
            &g,
            "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"p\": {\"n\": 3}}}\n</tool_call>"
        ));
        assert!(!constrain::accepts(
            &g,
            "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"p\": {\"n\": \"x\"}}}\n</tool_call>"
        ));
        // Whitespace between JSON tokens is bounded.
        let spaces = " ".repeat(40);
        assert!(!constrain::accepts(
            &g,
            &format!("<tool_call>\n{{\"name\": \"g\", \"arguments\": {{{spaces}}}}}\n</tool_call>")
        ));
    }

    #[test]
    fn an_unenforceable_tool_schema_is_refused_whenever_a_grammar_uses_it() {
        let t = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "if": {}}}}]);
        let e =
            Spec::from_request(&json!({"tools": t, "response_format": {"type": "json_object"}}))
                .unwrap_err();
        assert_eq!(e.param, "tools[0].function.parameters");
        // Unconstrained (auto, text answers), it is only shown to the model.
        assert!(Spec::from_request(&json!({"tools": t})).is_ok());
    }
}
