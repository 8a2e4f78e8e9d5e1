//! Tools an assistant's code registers with `tools.register(name, {
//! description, parameters }, fn)`: their specs are shared between the
//! isolate (which registers them) and the host (which offers them to the
//! model on the assistant's turns and calls them in the turn loop).

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Most registered tools per assistant.
pub const MAX_TOOLS: usize = 128;

/// One assistant's registered tools, as OpenAI function tools
/// (`{type: "function", function: {name, description, parameters}}`).
#[derive(Clone, Default)]
pub struct Registered(Arc<Mutex<Vec<Value>>>);

impl Registered {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces `name`; checks it the way chat completions check
    /// `tools`.
    pub fn register(
        &self,
        name: &str,
        description: Option<String>,
        parameters: Option<Value>,
        models: &dyn jan_provider::ModelProvider,
    ) -> Result<(), String> {
        let mut function = json!({"name": name});
        if let Some(d) = description {
            function["description"] = d.into();
        }
        if let Some(p) = parameters {
            function["parameters"] = p;
        }
        let tool = json!({"type": "function", "function": function});
        models.check(&json!({"tools": [tool]})).map_err(|e| {
            let param = e.param.trim_start_matches("tools[0].function.");
            format!("tools.register('{name}'): {param} {}", e.message)
        })?;
        let mut list = self.lock();
        list.retain(|t| t["function"]["name"] != name);
        if list.len() >= MAX_TOOLS {
            return Err(format!("tools.register: at most {MAX_TOOLS} tools"));
        }
        list.push(tool);
        Ok(())
    }

    pub fn unregister(&self, name: &str) {
        self.lock().retain(|t| t["function"]["name"] != name);
    }

    pub fn list(&self) -> Vec<Value> {
        self.lock().clone()
    }

    pub fn has(&self, name: &str) -> bool {
        self.lock().iter().any(|t| t["function"]["name"] == name)
    }
}

/// The tools offered on a turn: the caller's function tools, then the
/// registered ones (a registered tool replaces a caller's of the same name).
pub fn offered(caller: &[Value], registered: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = caller
        .iter()
        .filter(|t| t["type"] == "function")
        .filter(|t| {
            !registered
                .iter()
                .any(|r| r["function"]["name"] == t["function"]["name"])
        })
        .cloned()
        .collect();
    out.extend(registered.iter().cloned());
    out
}

/// Runs an assistant's registered tools inside its turns (through its
/// isolate's own queue, under its time budget; never over the bus).
pub(crate) struct Runner {
    pub host: crate::Host,
    pub assistant: String,
    pub registered: Registered,
    pub thread_id: Option<String>,
    pub hops: u32,
}

impl jan_turn::ToolRunner for Runner {
    fn runs(&self, name: &str) -> bool {
        self.registered.has(name)
    }

    fn run(&self, call: jan_turn::ToolCall) -> jan_turn::BoxFuture<String> {
        let (host, id, thread, hops) = (
            self.host.clone(),
            self.assistant.clone(),
            self.thread_id.clone(),
            self.hops,
        );
        Box::pin(async move { host.call_tool(&id, &call, thread.as_deref(), hops).await })
    }
}
