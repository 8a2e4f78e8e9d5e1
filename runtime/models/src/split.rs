//! Splits model output, as it streams, into answer text and tool-call
//! pieces ([`ChatEvent`]s).
//!
//! Text streams until a call opener. A Hermes/Qwen call
//! (`<tool_call>{"name": "…", "arguments": {…}}</tool_call>`, the format the
//! generic prompt asks for and the grammar forces) streams as it is
//! written: a start event once the name is in, then the arguments piece by
//! piece, as OpenAI streams `tool_calls` deltas. Calls in other formats
//! (Llama 3.x, Mistral, bare JSON) are read when the answer is complete and
//! sent whole at the end.

use jan_provider::{ChatEvent, ToolCall, new_call_id};
use serde_json::Value;

use crate::tools::OPENERS;

const HERMES_OPEN: &str = "<tool_call>";

/// A call whose pieces were streamed.
struct Streamed {
    id: String,
    name: String,
    arguments: String,
    complete: bool,
}

/// Where the call reader is in the output.
enum Reader {
    /// In the answer's text, before any call.
    Text,
    /// After `<tool_call>`: waiting for `{"name": "…", "arguments": `.
    Head { from: usize },
    /// Inside a call's arguments object.
    Args {
        from: usize,
        depth: usize,
        in_string: bool,
        escaped: bool,
    },
    /// After a call's arguments: waiting for the next `<tool_call>`.
    Between { from: usize },
    /// Nothing more streams; what is left is read at the end.
    Off,
}

/// Splits one generation's output.
pub struct Splitter {
    gate: Gate,
    names: Vec<String>,
    parallel: bool,
    reader: Reader,
    streamed: Vec<Streamed>,
}

impl Splitter {
    /// `names`: the offered tools; `parallel`: more than one call may come.
    pub fn new(names: Vec<String>, parallel: bool) -> Splitter {
        Splitter {
            gate: Gate::new(),
            names,
            parallel,
            reader: Reader::Text,
            streamed: Vec::new(),
        }
    }

    /// Takes a piece of model output; returns what may be sent now.
    pub fn push(&mut self, piece: &str) -> Vec<ChatEvent> {
        let mut out = Vec::new();
        if let Some(text) = self.gate.push(piece) {
            out.push(ChatEvent::Text(text));
        }
        if matches!(self.reader, Reader::Text) && !self.gate.held {
            let first = OPENERS
                .iter()
                .filter_map(|o| self.gate.buffer.find(o).map(|i| (i, *o)))
                .min();
            match first {
                Some((at, HERMES_OPEN)) => {
                    self.reader = Reader::Head {
                        from: at + HERMES_OPEN.len(),
                    }
                }
                Some(_) => self.reader = Reader::Off,
                None => {}
            }
        }
        self.read_calls(&mut out);
        out
    }

    fn read_calls(&mut self, out: &mut Vec<ChatEvent>) {
        let buffer = &self.gate.buffer;
        loop {
            match &mut self.reader {
                Reader::Text | Reader::Off => return,
                Reader::Head { from } => match head(&buffer[*from..]) {
                    Head::More => return,
                    Head::Not => self.reader = Reader::Off,
                    Head::Call { name, .. } if !self.names.contains(&name) => {
                        self.reader = Reader::Off
                    }
                    Head::Call { name, len } => {
                        let id = new_call_id();
                        out.push(ChatEvent::ToolCallStart {
                            index: self.streamed.len(),
                            id: id.clone(),
                            name: name.clone(),
                        });
                        self.streamed.push(Streamed {
                            id,
                            name,
                            arguments: String::new(),
                            complete: false,
                        });
                        self.reader = Reader::Args {
                            from: *from + len,
                            depth: 0,
                            in_string: false,
                            escaped: false,
                        };
                    }
                },
                Reader::Args {
                    from,
                    depth,
                    in_string,
                    escaped,
                } => {
                    let rest = &buffer[*from..];
                    if rest.is_empty() {
                        return;
                    }
                    let mut end = None;
                    for (i, c) in rest.char_indices() {
                        if *in_string {
                            match c {
                                _ if *escaped => *escaped = false,
                                '\\' => *escaped = true,
                                '"' => *in_string = false,
                                _ => {}
                            }
                            continue;
                        }
                        match c {
                            '"' => *in_string = true,
                            '{' | '[' => *depth += 1,
                            '}' | ']' => {
                                *depth = depth.saturating_sub(1);
                                if *depth == 0 {
                                    end = Some(i + 1);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    let piece = &rest[..end.unwrap_or(rest.len())];
                    let index = self.streamed.len() - 1;
                    let call = &mut self.streamed[index];
                    call.arguments.push_str(piece);
                    out.push(ChatEvent::ToolCallArguments {
                        index,
                        delta: piece.to_string(),
                    });
                    match end {
                        None => {
                            *from = buffer.len();
                            return;
                        }
                        Some(n) => {
                            call.complete = true;
                            let from = *from + n;
                            self.reader = if self.parallel {
                                Reader::Between { from }
                            } else {
                                Reader::Off
                            };
                        }
                    }
                }
                Reader::Between { from } => {
                    let rest = &buffer[*from..];
                    match rest.find(HERMES_OPEN) {
                        Some(at) => {
                            self.reader = Reader::Head {
                                from: *from + at + HERMES_OPEN.len(),
                            }
                        }
                        None => {
                            // Keep the position: the opener may be half in.
                            return;
                        }
                    }
                }
            }
        }
    }

    /// At the end, given what the whole output was read as (the text and
    /// the calls): the events still to send, and the answer's text and
    /// calls as the client saw them. Once calls were streamed, they are
    /// the answer's calls (a call cut short is left out), followed by any
    /// read at the end from what came after them; the text is what came
    /// before the first call.
    pub fn finish(
        &self,
        content: String,
        calls: Vec<ToolCall>,
    ) -> (Vec<ChatEvent>, String, Vec<ToolCall>) {
        let mut out = Vec::new();
        let (content, mut answer, later) = if self.streamed.is_empty() {
            (content, Vec::new(), calls)
        } else {
            let text = match self.gate.buffer.find(HERMES_OPEN) {
                Some(at) => self.gate.buffer[..at].trim_end().to_string(),
                None => content,
            };
            let streamed = self
                .streamed
                .iter()
                .filter(|s| {
                    s.complete
                        && serde_json::from_str::<Value>(&s.arguments).is_ok_and(|v| v.is_object())
                })
                .map(|s| ToolCall {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    arguments: s.arguments.clone(),
                })
                .collect();
            let later = calls.into_iter().skip(self.streamed.len()).collect();
            (text, streamed, later)
        };
        if let Some(rest) = self.gate.rest(&content) {
            out.push(ChatEvent::Text(rest));
        }
        for (k, call) in later.into_iter().enumerate() {
            out.extend(ChatEvent::whole_call(self.streamed.len() + k, &call));
            answer.push(call);
        }
        (out, content, answer)
    }
}

enum Head {
    /// Not yet known.
    More,
    /// Not a call head this reader streams.
    Not,
    /// `name`, and the head's length up to the arguments' first byte.
    Call { name: String, len: usize },
}

/// Reads `{"name": "…", "arguments": ` at the start of `text`.
fn head(text: &str) -> Head {
    let mut at = 0;
    let skip_ws = |at: &mut usize| {
        *at += text[*at..].len() - text[*at..].trim_start().len();
    };
    // Expects `lit` at `at`; `Some(Head)` ends the read.
    let expect = |at: &mut usize, lit: &str| -> Option<Head> {
        let rest = &text[*at..];
        if rest.starts_with(lit) {
            *at += lit.len();
            None
        } else if lit.starts_with(rest) {
            Some(Head::More)
        } else {
            Some(Head::Not)
        }
    };
    skip_ws(&mut at);
    for lit in ["{", "\"name\"", ":", "\""] {
        skip_ws(&mut at);
        if let Some(h) = expect(&mut at, lit) {
            return h;
        }
    }
    let Some(close) = text[at..].find('"') else {
        return if text.len() - at > 64 {
            Head::Not
        } else {
            Head::More
        };
    };
    let name = text[at..at + close].to_string();
    at += close + 1;
    for lit in [",", "\"arguments\"", ":"] {
        skip_ws(&mut at);
        if let Some(h) = expect(&mut at, lit) {
            return h;
        }
    }
    skip_ws(&mut at);
    match text[at..].chars().next() {
        None => Head::More,
        Some('{') => Head::Call { name, len: at },
        // Arguments as a JSON string (or anything else): read at the end.
        Some(_) => Head::Not,
    }
}

/// Streams text while it may still turn out to be a call: nothing is sent
/// while the answer could be a bare JSON call, and text stops at a call
/// opener.
pub(crate) struct Gate {
    buffer: String,
    sent: usize,
    /// The answer began like JSON: it is held until the end.
    held: bool,
}

impl Gate {
    pub fn new() -> Gate {
        Gate {
            buffer: String::new(),
            sent: 0,
            held: false,
        }
    }

    /// Takes a piece of model output; returns what may be streamed now.
    pub fn push(&mut self, piece: &str) -> Option<String> {
        self.buffer.push_str(piece);
        let start = self.buffer.trim_start();
        if start.is_empty() {
            return None;
        }
        if self.sent == 0 && !self.held {
            match could_be_json_call(start) {
                Some(true) => self.held = true,
                Some(false) => {}
                // Too early to tell (a fence whose first line is not in).
                None => return None,
            }
        }
        if self.held {
            return None;
        }
        // Stop at an opener; hold back what could be the start of one.
        let end = OPENERS
            .iter()
            .filter_map(|o| self.buffer.find(o))
            .min()
            .unwrap_or_else(|| {
                let hold = OPENERS
                    .iter()
                    .map(|o| {
                        (1..o.len())
                            .rev()
                            .find(|&n| self.buffer.ends_with(&o[..n]))
                            .unwrap_or(0)
                    })
                    .max()
                    .unwrap_or(0);
                self.buffer.len() - hold
            });
        if end > self.sent && self.buffer.is_char_boundary(end) {
            let out = self.buffer[self.sent..end].to_string();
            self.sent = end;
            return Some(out);
        }
        None
    }

    /// At the end: the text not yet streamed that belongs to `content`
    /// (what [`Spec::parse`] kept as text).
    pub fn rest(&self, content: &str) -> Option<String> {
        content
            .get(self.sent..)
            .filter(|s| !s.is_empty() && content.starts_with(&self.buffer[..self.sent]))
            .map(String::from)
    }
}

/// Whether an answer that starts like `start` may be a call written as JSON
/// (held until complete): `None` while a code fence's language is unknown.
fn could_be_json_call(start: &str) -> Option<bool> {
    if start.starts_with('{') || start.starts_with('[') {
        return Some(true);
    }
    let n = start.len().min(3);
    if !start.is_char_boundary(n) || !"```".starts_with(&start[..n]) {
        return Some(false);
    }
    let rest = start.strip_prefix("```")?;
    let (lang, body) = rest.split_once('\n')?;
    if !matches!(lang.trim(), "" | "json") {
        return Some(false);
    }
    body.trim_start()
        .chars()
        .next()
        .map(|c| c == '{' || c == '[')
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str], parallel: bool) -> (Splitter, Vec<ChatEvent>) {
        let mut s = Splitter::new(vec!["get_weather".into()], parallel);
        let events = pieces.iter().flat_map(|p| s.push(p)).collect();
        (s, events)
    }

    fn args_of(events: &[ChatEvent], index: usize) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::ToolCallArguments { index: i, delta } if *i == index => {
                    Some(delta.as_str())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn gate_streams_text_and_holds_calls() {
        let mut g = Gate::new();
        let mut out = String::new();
        for p in ["Sure", ", checking", " <tool", "_call>\n{\"name\""] {
            if let Some(s) = g.push(p) {
                out.push_str(&s);
            }
        }
        assert_eq!(out, "Sure, checking ");
        let mut g = Gate::new();
        assert_eq!(g.push(" {\"name\""), None);
        assert_eq!(g.rest("{\"a\": 1}"), Some("{\"a\": 1}".into()));
        // A code block in another language streams once its fence line is in.
        let mut g = Gate::new();
        assert_eq!(g.push("``"), None);
        assert_eq!(g.push("`py"), None);
        assert_eq!(g.push("thon\nprint(1)"), Some("```python\nprint(1)".into()));
        let mut g = Gate::new();
        assert_eq!(g.push("```json\n"), None);
        assert_eq!(g.push("{\"name\""), None);
    }

    #[test]
    fn a_hermes_call_streams_its_arguments_piece_by_piece() {
        let pieces = [
            "Checking.",
            "\n<tool",
            "_call>\n{\"name\": \"get_",
            "weather\", \"argu",
            "ments\": {\"city\": \"Pa",
            "ris\", \"note\": \"a}b\\\"{\"",
            "}}\n</tool_call>",
        ];
        let (s, events) = run(&pieces, true);
        assert_eq!(events[0], ChatEvent::Text("Checking.".into()));
        let starts: Vec<_> = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::ToolCallStart { .. }))
            .collect();
        assert_eq!(starts.len(), 1);
        // More than one piece, and together exactly the arguments object.
        let n = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::ToolCallArguments { .. }))
            .count();
        assert!(n >= 3, "{events:?}");
        let args = args_of(&events, 0);
        assert_eq!(args, "{\"city\": \"Paris\", \"note\": \"a}b\\\"{\"}");
        let whole: String = pieces.concat();
        let (content, calls) = crate::tools::parse_calls(
            &whole,
            &[crate::tools::Tool {
                name: "get_weather".into(),
                description: None,
                parameters: serde_json::json!({"type": "object"}),
                strict: false,
            }],
        );
        let (rest, content, calls) = s.finish(content, calls);
        assert!(rest.is_empty(), "{rest:?}");
        assert_eq!(content, "Checking.");
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].arguments, args);
        let ChatEvent::ToolCallStart { id, .. } = starts[0] else {
            unreachable!()
        };
        assert_eq!(&calls[0].id, id);
    }

    #[test]
    fn parallel_calls_stream_one_after_another_and_only_with_parallel() {
        let one = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n";
        let two = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}\n</tool_call>";
        let (_, events) = run(&[one, two], true);
        assert_eq!(args_of(&events, 0), "{\"city\": \"Oslo\"}");
        assert_eq!(args_of(&events, 1), "{\"city\": \"Rome\"}");
        let (_, events) = run(&[one, two], false);
        assert_eq!(args_of(&events, 1), "");
    }

    #[test]
    fn other_formats_and_unknown_tools_come_whole_at_the_end() {
        for text in [
            "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}",
            "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}",
            "<tool_call>\n{\"arguments\": {\"city\": \"Oslo\"}, \"name\": \"get_weather\"}</tool_call>",
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}</tool_call>",
        ] {
            let (s, events) = run(&[text], true);
            assert!(events.is_empty(), "{text}: {events:?}");
            let call = ToolCall::new("get_weather", "{\"city\":\"Oslo\"}".into());
            let (rest, _, calls) = s.finish(String::new(), vec![call.clone()]);
            assert_eq!(calls, vec![call.clone()]);
            assert_eq!(
                rest[0],
                ChatEvent::ToolCallStart {
                    index: 0,
                    id: call.id.clone(),
                    name: call.name.clone()
                }
            );
            assert_eq!(
                rest[1],
                ChatEvent::ToolCallArguments {
                    index: 0,
                    delta: call.arguments.clone()
                }
            );
        }
        let (_, events) = run(
            &["<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}"],
            true,
        );
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn the_stream_and_the_answer_agree_when_a_call_is_cut_or_broken() {
        // Cut by max_tokens: the client saw a partial call; the answer has
        // no call and no markup as text.
        let cut = "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa";
        let (s, _) = run(&[cut], true);
        let (rest, content, calls) = s.finish(cut.to_string(), Vec::new());
        assert!(rest.is_empty() && calls.is_empty(), "{rest:?} {calls:?}");
        assert_eq!(content, "Sure.");
        // The outer brace missing: the streamed call stands.
        let broken = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}\n</tool_call>";
        let (s, events) = run(&[broken], true);
        let (rest, content, calls) = s.finish(broken.to_string(), Vec::new());
        assert!(
            rest.is_empty() && content.is_empty(),
            "{rest:?} {content:?}"
        );
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].arguments, args_of(&events, 0));
    }
}
