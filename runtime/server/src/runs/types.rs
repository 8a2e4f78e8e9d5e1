//! The Assistants API's run objects and request bodies, typed: what
//! `/openapi.json` describes and what the handlers read and write. Runs and
//! steps are stored as this JSON (jan-store keeps them as documents).
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /v1/threads/{thread}/runs` (and, with `thread`,
/// `POST /v1/threads/runs`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCreate {
    /// The assistant that answers.
    pub assistant_id: String,
    /// Only for `POST /v1/threads/runs`: the thread to create.
    pub thread: Option<crate::threads::ThreadCreate>,
    /// A model the assistant may use; default: the assistant's.
    pub model: Option<String>,
    /// Replaces the assistant's instructions for this run.
    pub instructions: Option<String>,
    /// Appended to the instructions.
    pub additional_instructions: Option<String>,
    /// Messages added to the thread before the run.
    pub additional_messages: Option<Vec<crate::threads::MessageCreate>>,
    /// Function tools; they replace the assistant's.
    #[schema(value_type = Option<Vec<Object>>)]
    pub tools: Option<Vec<Value>>,
    /// `none`, `auto`, `required`, or `{type: "function", function: {name}}`.
    #[schema(value_type = Option<Object>)]
    pub tool_choice: Option<Value>,
    pub parallel_tool_calls: Option<bool>,
    /// `auto`, `{type: "text"}`, `{type: "json_object"}`, or
    /// `{type: "json_schema", json_schema: {name, schema, strict}}`.
    #[schema(value_type = Option<Object>)]
    pub response_format: Option<Value>,
    /// 0 to 2.
    pub temperature: Option<f64>,
    /// 0 to 1.
    pub top_p: Option<f64>,
    /// Fails the run as `incomplete` past this many answer tokens.
    pub max_completion_tokens: Option<u64>,
    /// The most prompt tokens one model turn may use.
    pub max_prompt_tokens: Option<u64>,
    pub truncation_strategy: Option<TruncationStrategy>,
    /// Up to 16 string values.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Send the run's events as server-sent events.
    pub stream: Option<bool>,
    /// Refused: the models here do not reason.
    #[schema(value_type = Option<Object>)]
    pub reasoning_effort: Option<Value>,
    /// Refused: no file search or code interpreter here yet.
    #[schema(value_type = Option<Object>)]
    pub tool_resources: Option<serde_json::Map<String, Value>>,
}

/// `POST …/runs/{run}/submit_tool_outputs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitToolOutputs {
    /// One output per call the run waits for.
    pub tool_outputs: Vec<ToolOutput>,
    pub stream: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolOutput {
    pub tool_call_id: String,
    /// At most 1 MiB.
    pub output: String,
}

/// `POST …/runs/{run}`: only `metadata` may change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunModify {
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Which of the thread's messages a run's model sees.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TruncationStrategy {
    /// `auto` (all; the engine keeps the prompt within the context) or
    /// `last_messages`.
    #[serde(rename = "type")]
    pub kind: String,
    /// With `last_messages`: how many (at least 1).
    pub last_messages: Option<u64>,
}

/// A run: one turn of an assistant on a thread. Status moves `queued` →
/// `in_progress` → `completed`, or `requires_action` (waiting for tool
/// outputs), `incomplete`, `failed`, `cancelling` → `cancelled`, `expired`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub id: String,
    /// `thread.run`.
    pub object: String,
    pub created_at: u64,
    pub thread_id: String,
    pub assistant_id: String,
    pub status: RunStatus,
    pub required_action: Option<RequiredAction>,
    pub last_error: Option<RunError>,
    pub expires_at: Option<u64>,
    pub started_at: Option<u64>,
    pub cancelled_at: Option<u64>,
    pub failed_at: Option<u64>,
    pub completed_at: Option<u64>,
    pub incomplete_details: Option<IncompleteDetails>,
    /// The model the run uses (empty for an assistant whose code answers
    /// without one).
    pub model: String,
    pub instructions: String,
    /// The tools offered (function tools).
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// Summed over the run's model turns; null until it ends.
    pub usage: Option<RunUsage>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_prompt_tokens: Option<u64>,
    pub max_completion_tokens: Option<u64>,
    pub truncation_strategy: TruncationStrategy,
    /// `auto` or the format object.
    pub response_format: Value,
    /// `auto`, `none`, `required` or a named function.
    pub tool_choice: Value,
    pub parallel_tool_calls: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    InProgress,
    /// Waiting for the outputs of the calls in `required_action`.
    RequiresAction,
    Cancelling,
    Cancelled,
    Failed,
    Completed,
    /// Stopped at `max_completion_tokens`.
    Incomplete,
    /// Tool outputs did not come in time.
    Expired,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    InProgress,
    Cancelled,
    Failed,
    Completed,
    Expired,
}

/// What a run in `requires_action` waits for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequiredAction {
    /// `submit_tool_outputs`.
    #[serde(rename = "type")]
    pub kind: String,
    pub submit_tool_outputs: PendingCalls,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingCalls {
    /// `{id, type: "function", function: {name, arguments}}`.
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunError {
    /// `server_error`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncompleteDetails {
    /// `max_completion_tokens`.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, Default)]
pub struct RunUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// A step of a run: the message it wrote, or a round of tool calls.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunStep {
    pub id: String,
    /// `thread.run.step`.
    pub object: String,
    pub created_at: u64,
    pub run_id: String,
    pub assistant_id: String,
    pub thread_id: String,
    /// `message_creation` or `tool_calls`.
    #[serde(rename = "type")]
    pub kind: String,
    pub status: StepStatus,
    pub cancelled_at: Option<u64>,
    pub completed_at: Option<u64>,
    pub expired_at: Option<u64>,
    pub failed_at: Option<u64>,
    pub last_error: Option<RunError>,
    pub step_details: StepDetails,
    pub usage: Option<RunUsage>,
}

/// `{type: "message_creation", message_creation: {message_id}}` or
/// `{type: "tool_calls", tool_calls: [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepDetails {
    MessageCreation { message_creation: MessageCreation },
    ToolCalls { tool_calls: Vec<StepToolCall> },
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageCreation {
    pub message_id: String,
}

/// A call in a step, with its output once there is one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepToolCall {
    pub id: String,
    /// `function`.
    #[serde(rename = "type")]
    pub kind: String,
    pub function: StepFunction,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepFunction {
    pub name: String,
    /// The arguments object as JSON text.
    pub arguments: String,
    /// Null until the output is in.
    pub output: Option<String>,
}
