//! Thread items: the units a turn is made of, and the notifications that stream them.
//!
//! Every item streams as `item/started` → zero or more deltas → `item/completed`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::experimental::ExperimentalApi;

/// An item and its recorded lifecycle times. The payload stays flat on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItem {
    #[serde(flatten)]
    pub kind: ThreadItemKind,
    /// Unix timestamp in milliseconds when the item started, if recorded.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// Unix timestamp in milliseconds when the item completed, if recorded.
    #[serde(default)]
    pub completed_at_ms: Option<i64>,
}

impl ThreadItem {
    /// The item's id.
    pub fn id(&self) -> &str {
        match &self.kind {
            ThreadItemKind::UserMessage { id, .. }
            | ThreadItemKind::AgentMessage { id, .. }
            | ThreadItemKind::Reasoning { id, .. }
            | ThreadItemKind::ContextCompaction { id } => id,
        }
    }
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadItemKind {
    /// Input from the user.
    #[serde(rename_all = "camelCase")]
    UserMessage {
        id: String,
        /// The id the client gave the message, if any.
        #[serde(default)]
        client_id: Option<String>,
        content: Vec<UserInput>,
    },
    /// Text from the agent.
    #[serde(rename_all = "camelCase")]
    AgentMessage {
        /// The model's output item id.
        id: String,
        text: String,
        #[serde(default)]
        phase: Option<MessagePhase>,
    },
    /// The model's reasoning: summary parts and raw reasoning text.
    Reasoning {
        id: String,
        #[serde(default)]
        summary: Vec<String>,
        #[serde(default)]
        content: Vec<String>,
    },
    /// The conversation so far was summarized to free context.
    ContextCompaction { id: String },
}

/// Where an agent message stands in the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum MessagePhase {
    Commentary,
    PartialAnswer,
    FinalAnswer,
}

/// One piece of user input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UserInput {
    /// Text.
    Text {
        text: String,
        /// UI-defined spans within `text` used to render or persist special elements.
        #[serde(default)]
        text_elements: Vec<TextElement>,
    },
    /// An image by URL (including `data:` URLs).
    Image {
        url: String,
        #[serde(default)]
        detail: Option<ImageDetail>,
    },
    /// An image file on the server's machine.
    LocalImage {
        path: String,
        #[serde(default)]
        detail: Option<ImageDetail>,
    },
}

/// How closely the model should look at an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum ImageDetail {
    Auto,
    Low,
    High,
    Original,
}

/// A UI-defined span within a text input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TextElement {
    pub byte_range: ByteRange,
    #[serde(default)]
    pub placeholder: Option<String>,
}

/// A byte range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ByteRange {
    pub start: usize,
    pub end: usize,
}

/// `item/started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ItemStartedNotification {
    pub item: ThreadItem,
    pub thread_id: String,
    pub turn_id: String,
    pub started_at_ms: i64,
}

/// `item/completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ItemCompletedNotification {
    pub item: ThreadItem,
    pub thread_id: String,
    pub turn_id: String,
    pub completed_at_ms: i64,
    /// Tokens of the item's content, when counted.
    pub content_token_count: Option<i64>,
}

/// `item/agentMessage/delta`: more text of a streaming agent message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct AgentMessageDeltaNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub delta: String,
}

/// `item/reasoning/summaryPartAdded`: a new summary part begins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningSummaryPartAddedNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub summary_index: i64,
}

/// `item/reasoning/summaryTextDelta`: more text of a summary part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningSummaryTextDeltaNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub delta: String,
    pub summary_index: i64,
}

/// `item/reasoning/textDelta`: more raw reasoning text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningTextDeltaNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub delta: String,
    pub content_index: i64,
}

impl ExperimentalApi for ItemStartedNotification {}
impl ExperimentalApi for ItemCompletedNotification {}
impl ExperimentalApi for AgentMessageDeltaNotification {}
impl ExperimentalApi for ReasoningSummaryPartAddedNotification {}
impl ExperimentalApi for ReasoningSummaryTextDeltaNotification {}
impl ExperimentalApi for ReasoningTextDeltaNotification {}
