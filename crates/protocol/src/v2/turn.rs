//! Turns: one user input and everything the agent does until it stops.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AskForApproval, ReasoningSummary, SandboxPolicy, ThreadItem, UserInput};
use crate::experimental::ExperimentalApi;

/// A turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    pub id: String,
    /// The turn this one belongs to; its own id for top-level turns.
    pub root_turn_id: Option<String>,
    /// The items, as far as `itemsView` says they are loaded.
    pub items: Vec<ThreadItem>,
    pub items_view: TurnItemsView,
    pub status: TurnStatus,
    /// Why the turn failed, when it did.
    pub error: Option<TurnError>,
    /// Unix seconds.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
}

/// How many of a turn's items a [`Turn`] value carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum TurnItemsView {
    /// None: they stream as notifications.
    NotLoaded,
    /// The agent messages only (`turn/completed`).
    Summary,
    /// All of them (`thread/read`).
    Full,
}

/// Where a turn stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum TurnStatus {
    Completed,
    Interrupted,
    Failed,
    InProgress,
}

/// Why a turn failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnError {
    pub message: String,
    pub codex_error_info: Option<CodexErrorInfo>,
    /// More about the cause, e.g. the provider's response.
    #[serde(default)]
    pub additional_details: Option<String>,
}

/// The kind of a failure, for clients that react to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CodexErrorInfo {
    ContextWindowExceeded,
    UsageLimitExceeded,
    ServerOverloaded,
    InternalServerError,
    Unauthorized,
    BadRequest,
    Other,
    #[serde(rename_all = "camelCase")]
    HttpConnectionFailed {
        http_status_code: Option<u16>,
    },
    /// Failed to connect to the response stream.
    #[serde(rename_all = "camelCase")]
    ResponseStreamConnectionFailed {
        http_status_code: Option<u16>,
    },
    /// The response stream ended in the middle of a turn.
    #[serde(rename_all = "camelCase")]
    ResponseStreamDisconnected {
        http_status_code: Option<u16>,
    },
    /// Reached the retry limit.
    #[serde(rename_all = "camelCase")]
    ResponseTooManyFailedAttempts {
        http_status_code: Option<u16>,
    },
}

/// Params of `turn/start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartParams {
    pub thread_id: String,
    pub input: Vec<UserInput>,
    /// Working directory for this turn and the ones after it.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Model for this turn and the ones after it.
    #[serde(default)]
    pub model: Option<String>,
    /// Reasoning effort for this turn and the ones after it.
    #[serde(default)]
    pub effort: Option<String>,
    /// Reasoning summary for this turn and the ones after it.
    #[serde(default)]
    pub summary: Option<ReasoningSummary>,
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    #[serde(default)]
    pub sandbox_policy: Option<SandboxPolicy>,
    /// JSON Schema the final answer must follow (this turn only).
    #[serde(default)]
    #[ts(type = "unknown")]
    pub output_schema: Option<serde_json::Value>,
    /// The client's id for the user message item.
    #[serde(default)]
    pub client_user_message_id: Option<String>,
}

/// Result of `turn/start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TurnStartResponse {
    pub turn: Turn,
}

/// Params of `turn/interrupt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnInterruptParams {
    pub thread_id: String,
    pub turn_id: String,
}

/// Result of `turn/interrupt`: empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TurnInterruptResponse {}

/// `turn/started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnStartedNotification {
    pub thread_id: String,
    pub turn: Turn,
}

/// `turn/completed`: the turn ended (completed, interrupted or failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnCompletedNotification {
    pub thread_id: String,
    pub turn: Turn,
}

/// `error`: a turn hit an error; `willRetry` says whether the server tries again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ErrorNotification {
    pub error: TurnError,
    pub will_retry: bool,
    pub thread_id: String,
    pub turn_id: String,
}

impl ExperimentalApi for TurnStartParams {}
impl ExperimentalApi for TurnStartResponse {}
impl ExperimentalApi for TurnInterruptParams {}
impl ExperimentalApi for TurnInterruptResponse {}
impl ExperimentalApi for TurnStartedNotification {}
impl ExperimentalApi for TurnCompletedNotification {}
impl ExperimentalApi for ErrorNotification {}

/// Params of `turn/steer`: more input for the running turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerParams {
    pub thread_id: String,
    /// The turn the client believes is running; the request fails if another one is.
    pub expected_turn_id: String,
    pub input: Vec<UserInput>,
    #[serde(default)]
    pub client_user_message_id: Option<String>,
}

/// Result of `turn/steer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnSteerResponse {
    pub turn_id: String,
}

impl ExperimentalApi for TurnSteerParams {}
impl ExperimentalApi for TurnSteerResponse {}
