//! The rollout line format, shared with the reference implementation so rollouts are
//! interchangeable: `{"timestamp", "ordinal", "type", "payload"}`, one JSON object per line.
//!
//! Line types: `session_meta` (first line), `turn_context`, `response_item` (model history, in
//! the Responses API's shape), `event_msg` (turn lifecycle and completed items), `compacted`.
//! Readers ignore line types, event types and fields they do not know, so files written by
//! newer versions of either implementation still load.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tern_protocol::v2::{TurnError, UserInput};

use super::items::{
    StoredChange, StoredCommand, StoredDynamicCall, StoredFileChange, StoredStatus, StoredWebSearch,
};

/// The first line: who made the thread, where, and with what instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub id: String,
    #[serde(default)]
    pub session_id: Option<String>,
    /// ISO 8601 creation time.
    pub timestamp: String,
    pub cwd: String,
    #[serde(default)]
    pub originator: Option<String>,
    #[serde(default)]
    pub cli_version: Option<String>,
    #[serde(default)]
    pub source: Option<serde_json::Value>,
    #[serde(default)]
    pub model_provider: Option<String>,
    #[serde(default)]
    pub base_instructions: Option<BaseInstructions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from_id: Option<String>,
}

/// The base instructions a thread runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseInstructions {
    pub text: String,
}

/// The settings a turn ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnContextLine {
    #[serde(default)]
    pub turn_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_turn_id: Option<String>,
    pub cwd: String,
    /// `"never"`, or `{"granular": {...}}`; kept as JSON so a value tern does not know (an
    /// older `on-failure`) does not cost the whole line.
    #[serde(default)]
    pub approval_policy: Option<serde_json::Value>,
    /// Kebab-case, as the reference writes it: `{"type": "danger-full-access"}`.
    #[serde(default)]
    pub sandbox_policy: Option<serde_json::Value>,
    pub model: String,
    #[serde(default)]
    pub effort: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// `event_msg` payloads that matter for rebuilding a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventMsg {
    TaskStarted {
        turn_id: String,
        /// The reference reports it as the turn's `rootTurnId`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_turn_id: Option<String>,
        #[serde(default)]
        started_at: Option<i64>,
        #[serde(default)]
        model_context_window: Option<i64>,
    },
    ItemCompleted {
        #[serde(default)]
        thread_id: Option<String>,
        turn_id: String,
        item: RolloutItem,
        #[serde(default)]
        started_at_ms: Option<i64>,
        #[serde(default)]
        completed_at_ms: Option<i64>,
    },
    TokenCount {
        #[serde(default)]
        info: Option<TokenCountInfo>,
    },
    TaskComplete {
        turn_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_turn_id: Option<String>,
        #[serde(default)]
        last_agent_message: Option<String>,
        #[serde(default)]
        started_at: Option<i64>,
        #[serde(default)]
        completed_at: Option<i64>,
        #[serde(default)]
        duration_ms: Option<i64>,
        /// Set when the turn failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<TurnError>,
    },
    TurnAborted {
        #[serde(default)]
        turn_id: Option<String>,
        reason: String,
    },
    /// A user message, the older way of recording it; the reference rebuilds the items of
    /// threads it did not create from these, so tern writes them beside `item_completed`.
    UserMessage {
        message: String,
        #[serde(default)]
        images: Vec<String>,
        #[serde(default)]
        local_images: Vec<String>,
        #[serde(default)]
        text_elements: Vec<tern_protocol::v2::TextElement>,
    },
    /// An agent message, the older way (see [`EventMsg::UserMessage`]).
    AgentMessage {
        message: String,
        #[serde(default)]
        phase: Option<String>,
    },
    /// A file change, the older way (see [`EventMsg::UserMessage`]); written, not read.
    PatchApplyEnd {
        call_id: String,
        turn_id: String,
        stdout: String,
        stderr: String,
        success: bool,
        #[serde(with = "super::items::ordered_map")]
        changes: Vec<(String, StoredChange)>,
        status: StoredStatus,
    },
    /// `thread/revert`: the turn `before_turn_id` and all later ones were dropped.
    ThreadReverted { before_turn_id: String },
    /// The user named (or renamed) the thread.
    ThreadNameUpdated {
        #[serde(default)]
        thread_name: Option<String>,
    },
    /// Event types tern does not rebuild from.
    #[serde(other)]
    Other,
}

/// A completed item as `item_completed` stores it (type names in `PascalCase`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RolloutItem {
    UserMessage {
        id: String,
        content: Vec<UserInput>,
    },
    AgentMessage {
        id: String,
        content: Vec<AgentContent>,
    },
    Reasoning {
        id: String,
        #[serde(default)]
        summary_text: Vec<String>,
        #[serde(default)]
        raw_content: Vec<String>,
    },
    ContextCompaction {
        id: String,
    },
    CommandExecution(StoredCommand),
    FileChange(StoredFileChange),
    DynamicToolCall(StoredDynamicCall),
    WebSearch(StoredWebSearch),
    ImageView {
        id: String,
        /// A `file://` URL.
        path: String,
    },
    #[serde(other)]
    Other,
}

/// A part of an agent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AgentContent {
    Text { text: String },
}

/// Token totals as `token_count` stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCountInfo {
    pub total_token_usage: SnakeUsage,
    pub last_token_usage: SnakeUsage,
    #[serde(default)]
    pub model_context_window: Option<i64>,
}

/// Token counts in `snake_case`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnakeUsage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    #[serde(default)]
    pub cache_write_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub total_tokens: i64,
}

impl From<tern_protocol::v2::TokenUsageBreakdown> for SnakeUsage {
    fn from(u: tern_protocol::v2::TokenUsageBreakdown) -> Self {
        Self {
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_input_tokens: u.cache_write_input_tokens,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

impl From<SnakeUsage> for tern_protocol::v2::TokenUsageBreakdown {
    fn from(u: SnakeUsage) -> Self {
        Self {
            total_tokens: u.total_tokens,
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_input_tokens: u.cache_write_input_tokens,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
        }
    }
}

/// A line as written.
#[derive(Debug, Serialize)]
pub(crate) struct LineOut<'a, T> {
    pub(crate) timestamp: String,
    pub(crate) ordinal: u64,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) payload: &'a T,
}

/// A line as read, payload undecoded.
#[derive(Debug, Deserialize)]
pub(crate) struct LineIn {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) payload: Box<RawValue>,
    #[serde(default)]
    pub(crate) ordinal: Option<u64>,
}
