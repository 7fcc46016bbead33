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
        self.kind.id()
    }
}

impl ThreadItemKind {
    /// The item's id.
    pub fn id(&self) -> &str {
        match self {
            ThreadItemKind::UserMessage { id, .. }
            | ThreadItemKind::AgentMessage { id, .. }
            | ThreadItemKind::Reasoning { id, .. }
            | ThreadItemKind::ContextCompaction { id }
            | ThreadItemKind::CommandExecution { id, .. }
            | ThreadItemKind::FileChange { id, .. }
            | ThreadItemKind::DynamicToolCall { id, .. }
            | ThreadItemKind::WebSearch { id, .. }
            | ThreadItemKind::ImageView { id, .. } => id,
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
    /// A shell command the agent ran (or asked to run).
    #[serde(rename_all = "camelCase")]
    CommandExecution {
        /// The model's call id.
        id: String,
        /// The command line as the shell runs it.
        command: String,
        cwd: String,
        /// The terminal session's id, while it is kept for later input.
        #[serde(default)]
        process_id: Option<String>,
        #[serde(default)]
        source: CommandExecutionSource,
        status: CommandExecutionStatus,
        /// What the command does, parsed best-effort for display.
        command_actions: Vec<CommandAction>,
        /// Output of stdout and stderr together; `None` when there was none.
        #[serde(default)]
        aggregated_output: Option<String>,
        #[serde(default)]
        exit_code: Option<i32>,
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    /// Files the agent changed (or asked to change) with a patch.
    FileChange {
        /// The model's call id.
        id: String,
        changes: Vec<FileUpdateChange>,
        status: PatchApplyStatus,
    },
    /// A call of a tool the client declared on `thread/start` (`dynamicTools`).
    #[serde(rename_all = "camelCase")]
    DynamicToolCall {
        /// The model's call id.
        id: String,
        #[serde(default)]
        namespace: Option<String>,
        tool: String,
        #[ts(type = "unknown")]
        arguments: serde_json::Value,
        status: DynamicToolCallStatus,
        #[serde(default)]
        content_items: Option<Vec<DynamicToolCallOutputContentItem>>,
        #[serde(default)]
        success: Option<bool>,
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    /// A web search the provider ran.
    WebSearch {
        id: String,
        query: String,
        #[serde(default)]
        action: Option<WebSearchAction>,
    },
    /// A local image the agent looked at.
    ImageView { id: String, path: String },
}

/// Where a command execution came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionSource {
    /// The model's shell tool.
    #[default]
    Agent,
    /// `thread/shellCommand`.
    UserShell,
    /// A command whose terminal session outlived its first call.
    UnifiedExecStartup,
    /// Input written to a running terminal session.
    UnifiedExecInteraction,
}

/// Where a command execution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

/// Where a file change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum PatchApplyStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

/// Where a dynamic tool call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum DynamicToolCallStatus {
    InProgress,
    Completed,
    Failed,
}

/// What one simple command of a command line does, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CommandAction {
    /// Reads a file.
    Read {
        command: String,
        name: String,
        path: String,
    },
    /// Lists files.
    ListFiles {
        command: String,
        #[serde(default)]
        path: Option<String>,
    },
    /// Searches file contents or names.
    Search {
        command: String,
        #[serde(default)]
        query: Option<String>,
        #[serde(default)]
        path: Option<String>,
    },
    /// Anything else.
    Unknown { command: String },
}

/// One file of a file change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct FileUpdateChange {
    pub path: String,
    pub kind: PatchChangeKind,
    /// The unified diff of the change (for an added file, its content).
    pub diff: String,
}

/// How a file changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PatchChangeKind {
    Add,
    Delete,
    Update {
        /// Where the file moves, if it does.
        #[serde(default)]
        move_path: Option<String>,
    },
}

/// A piece of a dynamic tool's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DynamicToolCallOutputContentItem {
    #[serde(rename_all = "camelCase")]
    InputText { text: String },
    #[serde(rename_all = "camelCase")]
    InputImage { image_url: String },
    #[serde(rename_all = "camelCase")]
    InputAudio { audio_url: String },
}

/// What a web search did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum WebSearchAction {
    Search {
        #[serde(default)]
        query: Option<String>,
        #[serde(default)]
        queries: Option<Vec<String>>,
    },
    OpenPage {
        #[serde(default)]
        url: Option<String>,
    },
    FindInPage {
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    Other,
}

/// `item/commandExecution/outputDelta`: more output of a running command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionOutputDeltaNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub delta: String,
}

/// `item/commandExecution/terminalInteraction`: the agent wrote to (or polled) a command's
/// terminal session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TerminalInteractionNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub process_id: String,
    /// What was written; empty for a poll.
    pub stdin: String,
}

impl ExperimentalApi for TerminalInteractionNotification {}

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
impl ExperimentalApi for CommandExecutionOutputDeltaNotification {}
