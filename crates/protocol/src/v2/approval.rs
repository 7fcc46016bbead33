//! Requests the server sends the client while a turn runs (approvals, questions, calls of the
//! client's own tools), their answers, and the notifications around them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{CommandAction, DynamicToolCallOutputContentItem};
use crate::experimental::ExperimentalApi;
use crate::jsonrpc::RequestId;

/// `item/commandExecution/requestApproval`: may this command run?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecutionRequestApprovalParams {
    pub thread_id: String,
    pub turn_id: String,
    /// The `commandExecution` item the approval is for.
    pub item_id: String,
    pub started_at_ms: i64,
    #[serde(default)]
    pub kind: CommandExecutionApprovalKind,
    #[serde(default)]
    pub environment_id: Option<String>,
    /// Why the agent asks (the model's justification, or why the sandbox is in the way).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub command_actions: Option<Vec<CommandAction>>,
    /// A command prefix that, once allowed, runs without asking.
    #[serde(default)]
    pub proposed_execpolicy_amendment: Option<Vec<String>>,
    /// The decisions the client may offer, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_decisions: Option<Vec<CommandExecutionApprovalDecision>>,
}

/// What a command approval is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionApprovalKind {
    /// Starting a command.
    #[default]
    Command,
    /// Input for a running terminal session.
    WriteStdin,
}

/// The answer to `item/commandExecution/requestApproval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CommandExecutionRequestApprovalResponse {
    pub decision: CommandExecutionApprovalDecision,
}

/// A decision on a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionApprovalDecision {
    /// Run it.
    Accept,
    /// Run it, and the same command again in this thread without asking.
    AcceptForSession,
    /// Run it, and allow commands starting with this prefix from now on.
    #[serde(rename_all = "camelCase")]
    AcceptWithExecpolicyAmendment {
        #[serde(rename = "execpolicy_amendment")]
        execpolicy_amendment: Vec<String>,
    },
    /// Do not run it; the turn goes on.
    Decline,
    /// Do not run it, and stop the turn.
    Cancel,
}

/// `item/fileChange/requestApproval`: may this patch be applied?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileChangeRequestApprovalParams {
    pub thread_id: String,
    pub turn_id: String,
    /// The `fileChange` item the approval is for.
    pub item_id: String,
    pub started_at_ms: i64,
    #[serde(default)]
    pub reason: Option<String>,
    /// A root the agent asks to write beneath for the rest of the session.
    #[serde(default)]
    pub grant_root: Option<String>,
}

/// The answer to `item/fileChange/requestApproval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct FileChangeRequestApprovalResponse {
    pub decision: FileChangeApprovalDecision,
}

/// A decision on a file change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum FileChangeApprovalDecision {
    Accept,
    /// Apply it, and later changes to the same files without asking.
    AcceptForSession,
    Decline,
    Cancel,
}

/// `item/tool/requestUserInput`: the model asks the user questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputParams {
    pub thread_id: String,
    pub turn_id: String,
    /// The model's call id.
    pub item_id: String,
    pub questions: Vec<ToolRequestUserInputQuestion>,
    /// Whether the turn waits for the answer.
    pub is_blocking: bool,
}

/// One question of `item/tool/requestUserInput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolRequestUserInputQuestion {
    pub id: String,
    pub header: String,
    pub question: String,
    /// Whether a free-form answer besides the options is welcome.
    #[serde(default)]
    pub is_other: bool,
    #[serde(default)]
    pub is_secret: bool,
    #[serde(default)]
    pub options: Option<Vec<ToolRequestUserInputOption>>,
}

/// An option of a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ToolRequestUserInputOption {
    pub label: String,
    pub description: String,
}

/// The answer to `item/tool/requestUserInput`: answers by question id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ToolRequestUserInputResponse {
    pub answers: BTreeMap<String, ToolRequestUserInputAnswer>,
}

/// The answers to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ToolRequestUserInputAnswer {
    pub answers: Vec<String>,
}

/// `item/tool/call`: the model calls one of the client's dynamic tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallParams {
    pub thread_id: String,
    pub turn_id: String,
    pub call_id: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub tool: String,
    #[ts(type = "unknown")]
    pub arguments: serde_json::Value,
}

/// The answer to `item/tool/call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallResponse {
    pub content_items: Vec<DynamicToolCallOutputContentItem>,
    pub success: bool,
}

/// A tool the client declares on `thread/start` and answers through `item/tool/call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DynamicToolSpec {
    /// One function.
    #[serde(rename_all = "camelCase")]
    Function {
        name: String,
        description: String,
        /// JSON Schema of the arguments.
        #[ts(type = "unknown")]
        input_schema: serde_json::Value,
        #[serde(default)]
        defer_loading: bool,
    },
    /// A group of functions under a namespace.
    Namespace {
        name: String,
        description: String,
        tools: Vec<DynamicToolNamespaceTool>,
    },
}

/// A function of a namespaced dynamic tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DynamicToolNamespaceTool {
    #[serde(rename_all = "camelCase")]
    Function {
        name: String,
        description: String,
        #[ts(type = "unknown")]
        input_schema: serde_json::Value,
        #[serde(default)]
        defer_loading: bool,
    },
}

/// `serverRequest/resolved`: a request the server sent needs no answer any more (it was
/// answered, or its turn ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerRequestResolvedNotification {
    pub thread_id: String,
    pub request_id: RequestId,
}

/// `turn/plan/updated`: the agent's plan for the turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnPlanUpdatedNotification {
    pub thread_id: String,
    pub turn_id: String,
    #[serde(default)]
    pub explanation: Option<String>,
    pub plan: Vec<TurnPlanStep>,
}

/// A step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct TurnPlanStep {
    pub step: String,
    pub status: TurnPlanStepStatus,
}

/// Where a plan step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum TurnPlanStepStatus {
    Pending,
    InProgress,
    Completed,
}

/// `turn/diff/updated`: the turn's file changes so far, as one unified diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnDiffUpdatedNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub diff: String,
}

impl ExperimentalApi for CommandExecutionRequestApprovalParams {
    fn experimental_reason(&self) -> Option<&'static str> {
        self.available_decisions
            .is_some()
            .then_some("item/commandExecution/requestApproval.availableDecisions")
    }

    fn strip_experimental(&mut self) {
        self.available_decisions = None;
    }
}
impl ExperimentalApi for CommandExecutionRequestApprovalResponse {}
impl ExperimentalApi for FileChangeRequestApprovalParams {}
impl ExperimentalApi for FileChangeRequestApprovalResponse {}
impl ExperimentalApi for ToolRequestUserInputParams {}
impl ExperimentalApi for ToolRequestUserInputResponse {}
impl ExperimentalApi for DynamicToolCallParams {}
impl ExperimentalApi for DynamicToolCallResponse {}
impl ExperimentalApi for ServerRequestResolvedNotification {}
impl ExperimentalApi for TurnPlanUpdatedNotification {}
impl ExperimentalApi for TurnDiffUpdatedNotification {}
