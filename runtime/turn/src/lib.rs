//! A turn: one answer of an assistant or a model to a conversation.
//!
//! Everything that answers (an assistant's default answer, a run, a chat
//! completion, a response, `jan run`) goes through here:
//! - [`Ask`] is what a caller asks for; [`choose_model`] and
//!   [`chat_request`] turn it, once, into the model, the system message,
//!   the layered parameters and the offered tools;
//! - [`run`] loops model → tool calls → the tools a [`ToolRunner`] runs →
//!   model again, until an answer, calls only the caller can run (a run's
//!   `requires_action`), [`MAX_ROUNDS`] rounds, an error, or the listener
//!   going away (which stops generation);
//! - it says what happens as [`TurnEvent`]s. Wire formats (chat chunks,
//!   run-step events, Responses events, the terminal) are renderings of
//!   those events and live with their servers.

mod ask;
mod engine;
mod event;
mod item;

pub use ask::{Ask, ModelChoiceError, Truncation, allowed_models, chat_request, choose_model};
pub use engine::{MAX_ROUNDS, MAX_TOOL_OUTPUT, NoTools, ToolRunner, run, start};
pub use event::{ToolRun, TurnError, TurnEvent, calls_from_json};
pub use item::{Content, Item, Role, to_chat};
pub use jan_provider::{BoxFuture, ToolCall};
