//! Threads: conversations, persisted as one rollout file each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{
    AbsolutePathBuf, ApprovalsReviewer, AskForApproval, DynamicToolSpec, SandboxMode,
    SandboxPolicy, ThreadTokenUsage, Turn,
};
use crate::experimental::ExperimentalApi;

/// A thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// A UUID (version 7).
    pub id: String,
    /// The same as `id`.
    pub session_id: String,
    /// The thread this one was forked from.
    pub forked_from_id: Option<String>,
    pub parent_thread_id: Option<String>,
    /// The first user message's text; empty until there is one.
    pub preview: String,
    /// An ephemeral thread is never written to disk.
    pub ephemeral: bool,
    pub project_id: Option<String>,
    pub history_mode: ThreadHistoryMode,
    pub model_provider: String,
    pub model: Option<String>,
    pub reasoning_effort: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Unix seconds of the last activity that matters for sorting.
    pub recency_at: Option<i64>,
    pub status: ThreadStatus,
    /// The rollout file; `null` for ephemeral threads.
    pub path: Option<String>,
    pub cwd: AbsolutePathBuf,
    /// The reference protocol version the thread was written with.
    pub cli_version: String,
    /// The `clientInfo.name` of the client that started the thread.
    pub originator: Option<String>,
    pub source: SessionSource,
    pub thread_source: Option<String>,
    pub agent_nickname: Option<String>,
    pub agent_role: Option<String>,
    pub git_info: Option<GitInfo>,
    /// The user-given name.
    pub name: Option<String>,
    /// Turns, when the request asked for them; otherwise empty.
    pub turns: Vec<Turn>,
}

/// Whether a thread is loaded, and what it is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadStatus {
    /// On disk only.
    NotLoaded,
    /// Loaded, no turn running.
    Idle,
    /// The last turn failed; the next turn may succeed.
    SystemError,
    /// A turn is running.
    #[serde(rename_all = "camelCase")]
    Active { active_flags: Vec<ThreadActiveFlag> },
}

/// What an active thread is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum ThreadActiveFlag {
    WaitingOnApproval,
    WaitingOnUserInput,
}

/// How a thread's history is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum ThreadHistoryMode {
    Legacy,
    Paginated,
}

/// What kind of client created a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum SessionSource {
    Cli,
    Vscode,
    Exec,
    AppServer,
    Unknown,
}

/// The git state of a thread's working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct GitInfo {
    pub sha: Option<String>,
    pub branch: Option<String>,
    pub origin_url: Option<String>,
}

/// Params of `thread/start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartParams {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_provider: Option<String>,
    /// Working directory; the server's own when absent.
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
    /// Replaces the built-in base instructions.
    #[serde(default)]
    pub base_instructions: Option<String>,
    /// Added as a developer message.
    #[serde(default)]
    pub developer_instructions: Option<String>,
    /// `config.toml` overrides for this thread (dotted keys).
    #[serde(default)]
    #[ts(type = "{ [key in string]?: unknown } | null")]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Keep the thread in memory only.
    #[serde(default)]
    pub ephemeral: Option<bool>,
    /// Tools of the client's the model may call (answered through `item/tool/call`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_tools: Option<Vec<DynamicToolSpec>>,
}

/// Result of `thread/start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStartResponse {
    pub thread: Thread,
    pub model: String,
    pub model_provider: String,
    pub service_tier: Option<String>,
    pub cwd: AbsolutePathBuf,
    pub instruction_sources: Vec<String>,
    pub approval_policy: AskForApproval,
    pub approvals_reviewer: ApprovalsReviewer,
    pub sandbox: SandboxPolicy,
    pub reasoning_effort: Option<String>,
}

/// Params of `thread/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadReadParams {
    pub thread_id: String,
    /// Include the thread's turns with all their items.
    #[serde(default)]
    pub include_turns: bool,
}

/// Result of `thread/read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadReadResponse {
    pub thread: Thread,
}

/// Params of `thread/loaded/list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadLoadedListParams {
    /// Opaque cursor from a previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Result of `thread/loaded/list`: ids of the threads loaded in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadLoadedListResponse {
    pub data: Vec<String>,
    pub next_cursor: Option<String>,
}

/// `thread/started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadStartedNotification {
    /// Boxed: notifications travel through queues, and a thread is the largest payload.
    pub thread: Box<Thread>,
}

/// `thread/status/changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadStatusChangedNotification {
    pub thread_id: String,
    pub status: ThreadStatus,
}

/// `thread/tokenUsage/updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTokenUsageUpdatedNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub token_usage: ThreadTokenUsage,
}

impl ExperimentalApi for ThreadStartParams {
    fn experimental_reason(&self) -> Option<&'static str> {
        self.dynamic_tools
            .is_some()
            .then_some("thread/start.dynamicTools")
    }

    fn strip_experimental(&mut self) {
        self.dynamic_tools = None;
    }
}
impl ExperimentalApi for ThreadStartResponse {}
impl ExperimentalApi for ThreadReadParams {}
impl ExperimentalApi for ThreadReadResponse {}
impl ExperimentalApi for ThreadLoadedListParams {}
impl ExperimentalApi for ThreadLoadedListResponse {}
impl ExperimentalApi for ThreadStartedNotification {}
impl ExperimentalApi for ThreadStatusChangedNotification {}
impl ExperimentalApi for ThreadTokenUsageUpdatedNotification {}

/// Params of `thread/resume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResumeParams {
    pub thread_id: String,
    /// Leave the turns out of the result (they can be read with `thread/read`).
    #[serde(default)]
    pub exclude_turns: Option<bool>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_provider: Option<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub approval_policy: Option<AskForApproval>,
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
    /// Replaces the thread's base instructions while it stays loaded.
    #[serde(default)]
    pub base_instructions: Option<String>,
    /// Told to the model as a developer message at the next turn.
    #[serde(default)]
    pub developer_instructions: Option<String>,
    /// `config.toml` overrides for this thread (dotted keys), over the server's configuration.
    #[serde(default)]
    #[ts(type = "{ [key in string]?: unknown } | null")]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Result of `thread/resume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResumeResponse {
    pub thread: Thread,
    pub model: String,
    pub model_provider: String,
    pub service_tier: Option<String>,
    pub cwd: AbsolutePathBuf,
    pub instruction_sources: Vec<String>,
    pub approval_policy: AskForApproval,
    pub approvals_reviewer: ApprovalsReviewer,
    pub sandbox: SandboxPolicy,
    pub reasoning_effort: Option<String>,
}

/// Params of `thread/name/set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSetNameParams {
    pub thread_id: String,
    pub name: String,
}

/// Result of `thread/name/set`: empty; `thread/name/updated` follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadSetNameResponse {}

/// `thread/name/updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadNameUpdatedNotification {
    pub thread_id: String,
    pub thread_name: Option<String>,
}

/// Params of `thread/archive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadArchiveParams {
    pub thread_id: String,
}

/// Result of `thread/archive`: empty; `thread/archived` follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadArchiveResponse {}

/// `thread/archived`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadArchivedNotification {
    pub thread_id: String,
}

/// Params of `thread/unarchive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadUnarchiveParams {
    pub thread_id: String,
}

/// Result of `thread/unarchive`; `thread/unarchived` follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadUnarchiveResponse {
    pub thread: Thread,
}

/// `thread/unarchived`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadUnarchivedNotification {
    pub thread_id: String,
}

/// Params of `thread/unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadUnsubscribeParams {
    pub thread_id: String,
}

/// Result of `thread/unsubscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadUnsubscribeResponse {
    pub status: ThreadUnsubscribeStatus,
}

/// What `thread/unsubscribe` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum ThreadUnsubscribeStatus {
    /// The thread is not loaded.
    NotLoaded,
    /// The connection was not subscribed.
    NotSubscribed,
    /// The connection no longer receives the thread's events.
    Unsubscribed,
}

impl ExperimentalApi for ThreadResumeParams {}
impl ExperimentalApi for ThreadResumeResponse {}
impl ExperimentalApi for ThreadSetNameParams {}
impl ExperimentalApi for ThreadSetNameResponse {}
impl ExperimentalApi for ThreadNameUpdatedNotification {}
impl ExperimentalApi for ThreadArchiveParams {}
impl ExperimentalApi for ThreadArchiveResponse {}
impl ExperimentalApi for ThreadArchivedNotification {}
impl ExperimentalApi for ThreadUnarchiveParams {}
impl ExperimentalApi for ThreadUnarchiveResponse {}
impl ExperimentalApi for ThreadUnarchivedNotification {}
impl ExperimentalApi for ThreadUnsubscribeParams {}
impl ExperimentalApi for ThreadUnsubscribeResponse {}

/// Params of `thread/list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListParams {
    /// Opaque pagination cursor returned by a previous call.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size; 25 when absent, at most 1000.
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub sort_key: Option<ThreadSortKey>,
    #[serde(default)]
    pub sort_direction: Option<SortDirection>,
    /// When true, only archived threads; otherwise only live ones.
    #[serde(default)]
    pub archived: Option<bool>,
    /// Only threads recorded under these providers (empty: all).
    #[serde(default)]
    pub model_providers: Option<Vec<String>>,
    /// Only threads from these kinds of client (empty: all).
    #[serde(default)]
    pub source_kinds: Option<Vec<ThreadSourceKind>>,
    /// Only threads whose cwd is exactly one of these paths.
    #[serde(default)]
    pub cwd: Option<ThreadListCwdFilter>,
    /// Case-insensitive text to find in the preview or name.
    #[serde(default)]
    pub search_term: Option<String>,
}

/// One cwd or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(untagged)]
pub enum ThreadListCwdFilter {
    One(String),
    Many(Vec<String>),
}

/// What `thread/list` sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ThreadSortKey {
    CreatedAt,
    UpdatedAt,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum SortDirection {
    Asc,
    Desc,
}

/// Kinds of client a thread can come from, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum ThreadSourceKind {
    Cli,
    Vscode,
    Exec,
    AppServer,
    Unknown,
}

/// Result of `thread/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadListResponse {
    /// Threads without their turns.
    pub data: Vec<Thread>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
    pub backwards_cursor: Option<String>,
}

impl ExperimentalApi for ThreadListParams {}
impl ExperimentalApi for ThreadListResponse {}

/// Params of `thread/fork`: a new thread with a copy of another's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadForkParams {
    /// The thread to copy.
    pub thread_id: String,
    /// Keep the fork in memory only.
    #[serde(default)]
    pub ephemeral: Option<bool>,
    /// Leave the copied turns out of the result.
    #[serde(default)]
    pub exclude_turns: Option<bool>,
}

/// Result of `thread/fork`; `thread/started` follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadForkResponse {
    pub thread: Thread,
    pub model: String,
    pub model_provider: String,
    pub service_tier: Option<String>,
    pub cwd: AbsolutePathBuf,
    pub instruction_sources: Vec<String>,
    pub approval_policy: AskForApproval,
    pub approvals_reviewer: ApprovalsReviewer,
    pub sandbox: SandboxPolicy,
    pub reasoning_effort: Option<String>,
}

impl ExperimentalApi for ThreadForkParams {}
impl ExperimentalApi for ThreadForkResponse {}

/// Params of `thread/compact/start`: summarize the conversation to free context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadCompactStartParams {
    pub thread_id: String,
}

/// Result of `thread/compact/start`: empty; the compaction runs as a turn.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadCompactStartResponse {}

impl ExperimentalApi for ThreadCompactStartParams {}
impl ExperimentalApi for ThreadCompactStartResponse {}

/// Params of `thread/revert`: drop a turn and every later one from the thread's history. Files
/// the turns changed stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertParams {
    pub thread_id: String,
    /// The first turn to drop.
    pub before_turn_id: String,
}

/// Result of `thread/revert`; `thread/reverted` follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertResponse {
    /// The thread after the revert; `turns` is empty (read them with `thread/read`).
    pub thread: Thread,
}

/// `thread/reverted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertedNotification {
    pub thread_id: String,
}

impl ExperimentalApi for ThreadRevertParams {}
impl ExperimentalApi for ThreadRevertResponse {}
impl ExperimentalApi for ThreadRevertedNotification {}

/// Params of `thread/shellCommand`: run a command line for the user, outside the sandbox, as
/// part of the thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThreadShellCommandParams {
    pub thread_id: String,
    /// A command line for the user's shell (pipes, redirections and quoting kept).
    pub command: String,
    /// Time limit in milliseconds; one hour when absent.
    #[serde(default)]
    pub timeout_ms: Option<i64>,
}

/// Result of `thread/shellCommand`: the command's item follows as notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ThreadShellCommandResponse {}

impl ExperimentalApi for ThreadShellCommandParams {}
impl ExperimentalApi for ThreadShellCommandResponse {}
