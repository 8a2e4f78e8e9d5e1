//! Threads and messages of the Assistants API, typed: the request bodies
//! (unknown fields and wrong types are 400s naming the field) and the
//! objects, which `/openapi.json` describes.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /v1/threads`, and `thread` of `POST /v1/threads/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadCreate {
    /// The thread's first messages.
    pub messages: Option<Vec<MessageCreate>>,
    /// Up to 16 string values.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Kept as given (no file search or code interpreter here yet).
    #[schema(value_type = Option<Object>)]
    pub tool_resources: Option<serde_json::Map<String, Value>>,
}

/// `POST /v1/threads/{thread}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadModify {
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub tool_resources: Option<serde_json::Map<String, Value>>,
}

/// `POST /v1/threads/{thread}/messages`, a thread's first messages, and a
/// run's `additional_messages`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageCreate {
    /// `user` or `assistant`.
    pub role: String,
    /// A string, or text parts (`{type: "text", text}`).
    pub content: Value,
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Value>>,
    /// Up to 16 string values.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// `POST /v1/threads/{thread}/messages/{id}`: only `metadata` changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageModify {
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A thread: a conversation's messages, stored in the data folder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Thread {
    pub id: String,
    /// `thread`.
    pub object: String,
    pub created_at: u64,
    #[schema(value_type = Object)]
    pub metadata: Value,
    #[schema(value_type = Option<Object>)]
    pub tool_resources: Option<serde_json::Map<String, Value>>,
}

/// A message of a thread.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: String,
    /// `thread.message`.
    pub object: String,
    pub created_at: u64,
    pub thread_id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: Vec<TextPart>,
    /// The assistant that wrote it (run replies).
    pub assistant_id: Option<String>,
    /// The run that wrote it.
    pub run_id: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<Value>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// `in_progress`, `incomplete` or `completed`.
    pub status: String,
    pub incomplete_details: Option<MessageIncomplete>,
    pub completed_at: Option<u64>,
    pub incomplete_at: Option<u64>,
}

/// `{type: "text", text: {value, annotations}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TextPart {
    /// `text`.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Text,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Text {
    pub value: String,
    /// Always empty here (no file citations yet).
    #[schema(value_type = Vec<Object>)]
    pub annotations: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageIncomplete {
    /// `run_cancelled`, `max_tokens` or `run_failed`.
    pub reason: String,
}
