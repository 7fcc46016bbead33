//! Completed items as `item_completed` stores them, and the conversions to and from the wire.
//!
//! The stored form is the reference implementation's: type names in `PascalCase`, fields in
//! `snake_case`, commands as argv, directories and image paths as `file://` URLs, durations as
//! `{secs, nanos}`, a file change's files as a map from path to change. Stored fields tern does
//! not show (a file change's `stdout`) are written so the reference can read tern's rollouts.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tern_protocol::v2::{
    CommandAction, CommandExecutionSource, CommandExecutionStatus,
    DynamicToolCallOutputContentItem, DynamicToolCallStatus, FileUpdateChange, PatchApplyStatus,
    PatchChangeKind, ThreadItemKind, WebSearchAction,
};

use super::line::{AgentContent, RolloutItem};

/// A shell command the agent or the user ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCommand {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    pub command: Vec<String>,
    /// A `file://` URL (a plain path is read too).
    pub cwd: String,
    #[serde(default)]
    pub parsed_cmd: Vec<StoredCommandAction>,
    #[serde(default)]
    pub source: StoredCommandSource,
    pub status: StoredStatus,
    #[serde(default)]
    pub aggregated_output: Option<String>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub duration: Option<StoredDuration>,
}

/// What one simple command does (`parsed_cmd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoredCommandAction {
    Read {
        cmd: String,
        name: String,
        path: String,
    },
    ListFiles {
        cmd: String,
        #[serde(default)]
        path: Option<String>,
    },
    Search {
        cmd: String,
        #[serde(default)]
        query: Option<String>,
        #[serde(default)]
        path: Option<String>,
    },
    Unknown {
        cmd: String,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredCommandSource {
    #[default]
    Agent,
    UserShell,
    UnifiedExecStartup,
    UnifiedExecInteraction,
}

/// The status of a command, file change or dynamic tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

/// A duration as Rust's `Duration` serializes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDuration {
    pub secs: u64,
    pub nanos: u32,
}

/// Files changed by a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFileChange {
    pub id: String,
    /// Path → change, in the patch's order.
    #[serde(with = "ordered_map")]
    pub changes: Vec<(String, StoredChange)>,
    pub status: StoredStatus,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoredChange {
    Add {
        content: String,
    },
    Delete {
        content: String,
    },
    Update {
        unified_diff: String,
        #[serde(default)]
        move_path: Option<String>,
    },
}

/// A call of a client-declared tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDynamicCall {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub arguments: serde_json::Value,
    pub status: StoredStatus,
    /// In the wire's shape (`inputText`, `imageUrl`), as the reference stores them.
    #[serde(default)]
    pub content_items: Option<Vec<DynamicToolCallOutputContentItem>>,
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub duration: Option<StoredDuration>,
}

/// A hosted web search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredWebSearch {
    pub id: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub action: Option<StoredWebSearchAction>,
}

/// A web search action in the Responses API's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoredWebSearchAction {
    Search {
        #[serde(default)]
        query: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(other)]
    Other,
}

impl StoredWebSearchAction {
    /// The wire's form of an action in the Responses API's shape.
    pub(crate) fn into_wire(self) -> WebSearchAction {
        match self {
            Self::Search { query, queries } => WebSearchAction::Search { query, queries },
            Self::OpenPage { url } => WebSearchAction::OpenPage { url },
            Self::FindInPage { url, pattern } => WebSearchAction::FindInPage { url, pattern },
            Self::Other => WebSearchAction::Other,
        }
    }
}

/// The stored item for a wire item.
pub(crate) fn rollout_item(kind: &ThreadItemKind) -> RolloutItem {
    match kind.clone() {
        ThreadItemKind::UserMessage { id, content, .. } => RolloutItem::UserMessage { id, content },
        ThreadItemKind::AgentMessage { id, text, .. } => RolloutItem::AgentMessage {
            id,
            content: vec![AgentContent::Text { text }],
        },
        ThreadItemKind::Reasoning {
            id,
            summary,
            content,
        } => RolloutItem::Reasoning {
            id,
            summary_text: summary,
            raw_content: content,
        },
        ThreadItemKind::ContextCompaction { id } => RolloutItem::ContextCompaction { id },
        ThreadItemKind::CommandExecution {
            id,
            command,
            cwd,
            process_id,
            source,
            status,
            command_actions,
            aggregated_output,
            exit_code,
            duration_ms,
        } => RolloutItem::CommandExecution(StoredCommand {
            id,
            process_id,
            command: shlex::split(&command).unwrap_or_else(|| vec![command]),
            cwd: file_url(&cwd),
            parsed_cmd: command_actions.into_iter().map(stored_action).collect(),
            source: stored_source(source),
            status: stored_command_status(status),
            aggregated_output,
            exit_code,
            duration: duration_ms.map(stored_duration),
        }),
        ThreadItemKind::FileChange {
            id,
            changes,
            status,
        } => RolloutItem::FileChange(stored_file_change(id, changes, status)),
        ThreadItemKind::DynamicToolCall {
            id,
            namespace,
            tool,
            arguments,
            status,
            content_items,
            success,
            duration_ms,
        } => RolloutItem::DynamicToolCall(StoredDynamicCall {
            id,
            namespace,
            tool,
            arguments,
            status: match status {
                DynamicToolCallStatus::InProgress => StoredStatus::InProgress,
                DynamicToolCallStatus::Completed => StoredStatus::Completed,
                DynamicToolCallStatus::Failed => StoredStatus::Failed,
            },
            content_items,
            success,
            duration: duration_ms.map(stored_duration),
        }),
        ThreadItemKind::WebSearch { id, query, action } => {
            RolloutItem::WebSearch(StoredWebSearch {
                id,
                query,
                action: action.map(|action| match action {
                    WebSearchAction::Search { query, queries } => {
                        StoredWebSearchAction::Search { query, queries }
                    }
                    WebSearchAction::OpenPage { url } => StoredWebSearchAction::OpenPage { url },
                    WebSearchAction::FindInPage { url, pattern } => {
                        StoredWebSearchAction::FindInPage { url, pattern }
                    }
                    WebSearchAction::Other => StoredWebSearchAction::Other,
                }),
            })
        }
        ThreadItemKind::ImageView { id, path } => RolloutItem::ImageView {
            id,
            path: file_url(&path),
        },
    }
}

/// The wire item for a stored item.
pub(crate) fn thread_item_kind(item: RolloutItem) -> Option<ThreadItemKind> {
    Some(match item {
        RolloutItem::UserMessage { id, content } => ThreadItemKind::UserMessage {
            id,
            client_id: None,
            content,
        },
        RolloutItem::AgentMessage { id, content } => ThreadItemKind::AgentMessage {
            id,
            text: content
                .into_iter()
                .map(|AgentContent::Text { text }| text)
                .collect(),
            phase: None,
        },
        RolloutItem::Reasoning {
            id,
            summary_text,
            raw_content,
        } => ThreadItemKind::Reasoning {
            id,
            summary: summary_text,
            content: raw_content,
        },
        RolloutItem::ContextCompaction { id } => ThreadItemKind::ContextCompaction { id },
        RolloutItem::CommandExecution(stored) => command_kind(stored),
        RolloutItem::FileChange(stored) => file_change_kind(stored),
        RolloutItem::DynamicToolCall(stored) => ThreadItemKind::DynamicToolCall {
            id: stored.id,
            namespace: stored.namespace,
            tool: stored.tool,
            arguments: stored.arguments,
            status: match stored.status {
                StoredStatus::InProgress => DynamicToolCallStatus::InProgress,
                StoredStatus::Completed => DynamicToolCallStatus::Completed,
                StoredStatus::Failed | StoredStatus::Declined => DynamicToolCallStatus::Failed,
            },
            content_items: stored.content_items,
            success: stored.success,
            duration_ms: stored.duration.map(duration_ms),
        },
        RolloutItem::WebSearch(stored) => ThreadItemKind::WebSearch {
            id: stored.id,
            query: stored.query,
            action: stored.action.map(StoredWebSearchAction::into_wire),
        },
        RolloutItem::ImageView { id, path } => ThreadItemKind::ImageView {
            id,
            path: file_path(&path),
        },
        RolloutItem::Other => return None,
    })
}

/// The wire item for a stored file change.
pub(crate) fn file_change_kind(stored: StoredFileChange) -> ThreadItemKind {
    ThreadItemKind::FileChange {
        id: stored.id,
        changes: stored
            .changes
            .into_iter()
            .map(|(path, change)| match change {
                StoredChange::Add { content } => FileUpdateChange {
                    path,
                    kind: PatchChangeKind::Add,
                    diff: content,
                },
                StoredChange::Delete { content } => FileUpdateChange {
                    path,
                    kind: PatchChangeKind::Delete,
                    diff: content,
                },
                StoredChange::Update {
                    unified_diff,
                    move_path,
                } => FileUpdateChange {
                    path,
                    kind: PatchChangeKind::Update { move_path },
                    diff: unified_diff,
                },
            })
            .collect(),
        status: match stored.status {
            StoredStatus::InProgress => PatchApplyStatus::InProgress,
            StoredStatus::Completed => PatchApplyStatus::Completed,
            StoredStatus::Failed => PatchApplyStatus::Failed,
            StoredStatus::Declined => PatchApplyStatus::Declined,
        },
    }
}

fn command_kind(stored: StoredCommand) -> ThreadItemKind {
    let command = shlex::try_join(stored.command.iter().map(String::as_str))
        .unwrap_or_else(|_| stored.command.join(" "));
    ThreadItemKind::CommandExecution {
        id: stored.id,
        command,
        cwd: file_path(&stored.cwd),
        process_id: stored.process_id,
        source: match stored.source {
            StoredCommandSource::Agent => CommandExecutionSource::Agent,
            StoredCommandSource::UserShell => CommandExecutionSource::UserShell,
            StoredCommandSource::UnifiedExecStartup => CommandExecutionSource::UnifiedExecStartup,
            StoredCommandSource::UnifiedExecInteraction => {
                CommandExecutionSource::UnifiedExecInteraction
            }
        },
        status: match stored.status {
            StoredStatus::InProgress => CommandExecutionStatus::InProgress,
            StoredStatus::Completed => CommandExecutionStatus::Completed,
            StoredStatus::Failed => CommandExecutionStatus::Failed,
            StoredStatus::Declined => CommandExecutionStatus::Declined,
        },
        command_actions: stored
            .parsed_cmd
            .into_iter()
            .map(|action| match action {
                StoredCommandAction::Read { cmd, name, path } => CommandAction::Read {
                    command: cmd,
                    name,
                    path,
                },
                StoredCommandAction::ListFiles { cmd, path } => {
                    CommandAction::ListFiles { command: cmd, path }
                }
                StoredCommandAction::Search { cmd, query, path } => CommandAction::Search {
                    command: cmd,
                    query,
                    path,
                },
                StoredCommandAction::Unknown { cmd } => CommandAction::Unknown { command: cmd },
            })
            .collect(),
        aggregated_output: stored.aggregated_output,
        exit_code: stored.exit_code,
        duration_ms: stored.duration.map(duration_ms),
    }
}

fn stored_source(source: CommandExecutionSource) -> StoredCommandSource {
    match source {
        CommandExecutionSource::Agent => StoredCommandSource::Agent,
        CommandExecutionSource::UserShell => StoredCommandSource::UserShell,
        CommandExecutionSource::UnifiedExecStartup => StoredCommandSource::UnifiedExecStartup,
        CommandExecutionSource::UnifiedExecInteraction => {
            StoredCommandSource::UnifiedExecInteraction
        }
    }
}

fn stored_command_status(status: CommandExecutionStatus) -> StoredStatus {
    match status {
        CommandExecutionStatus::InProgress => StoredStatus::InProgress,
        CommandExecutionStatus::Completed => StoredStatus::Completed,
        CommandExecutionStatus::Failed => StoredStatus::Failed,
        CommandExecutionStatus::Declined => StoredStatus::Declined,
    }
}

fn stored_action(action: CommandAction) -> StoredCommandAction {
    match action {
        CommandAction::Read {
            command,
            name,
            path,
        } => StoredCommandAction::Read {
            cmd: command,
            name,
            path,
        },
        CommandAction::ListFiles { command, path } => {
            StoredCommandAction::ListFiles { cmd: command, path }
        }
        CommandAction::Search {
            command,
            query,
            path,
        } => StoredCommandAction::Search {
            cmd: command,
            query,
            path,
        },
        CommandAction::Unknown { command } => StoredCommandAction::Unknown { cmd: command },
    }
}

fn stored_file_change(
    id: String,
    changes: Vec<FileUpdateChange>,
    status: PatchApplyStatus,
) -> StoredFileChange {
    let status = match status {
        PatchApplyStatus::InProgress => StoredStatus::InProgress,
        PatchApplyStatus::Completed => StoredStatus::Completed,
        PatchApplyStatus::Failed => StoredStatus::Failed,
        PatchApplyStatus::Declined => StoredStatus::Declined,
    };
    // The reference keeps apply_patch's own report; tern's says the same thing.
    let stdout = if status == StoredStatus::Completed {
        let mut report = "Success. Updated the following files:\n".to_owned();
        for change in &changes {
            let (letter, path) = match &change.kind {
                PatchChangeKind::Add => ('A', &change.path),
                PatchChangeKind::Delete => ('D', &change.path),
                PatchChangeKind::Update { move_path } => {
                    ('M', move_path.as_ref().unwrap_or(&change.path))
                }
            };
            let _ = writeln!(report, "{letter} {path}");
        }
        report
    } else {
        String::new()
    };
    StoredFileChange {
        id,
        changes: changes
            .into_iter()
            .map(|change| {
                let stored = match change.kind {
                    PatchChangeKind::Add => StoredChange::Add {
                        content: change.diff,
                    },
                    PatchChangeKind::Delete => StoredChange::Delete {
                        content: change.diff,
                    },
                    PatchChangeKind::Update { move_path } => StoredChange::Update {
                        unified_diff: change.diff,
                        move_path,
                    },
                };
                (change.path, stored)
            })
            .collect(),
        status,
        stdout,
        stderr: String::new(),
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn stored_duration(ms: i64) -> StoredDuration {
    let ms = ms.max(0) as u64;
    StoredDuration {
        secs: ms / 1000,
        nanos: (ms % 1000) as u32 * 1_000_000,
    }
}

#[allow(clippy::cast_possible_wrap)]
fn duration_ms(duration: StoredDuration) -> i64 {
    (duration.secs.saturating_mul(1000) + u64::from(duration.nanos / 1_000_000))
        .min(i64::MAX as u64) as i64
}

/// `file://` URL of an absolute path; anything else is kept as it is.
fn file_url(path: &str) -> String {
    url::Url::from_file_path(Path::new(path)).map_or_else(|()| path.to_owned(), String::from)
}

/// The path of a `file://` URL; anything else is taken to be a path already.
fn file_path(stored: &str) -> String {
    url::Url::parse(stored)
        .ok()
        .filter(|url| url.scheme() == "file")
        .and_then(|url| url.to_file_path().ok())
        .map_or_else(|| stored.to_owned(), |path| path.display().to_string())
}

/// A list of pairs stored as a JSON object, keeping the list's order when written.
pub(super) mod ordered_map {
    use std::fmt;

    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(in crate::rollout) fn serialize<S, V>(
        pairs: &[(String, V)],
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        V: Serialize,
    {
        serializer.collect_map(pairs.iter().map(|(k, v)| (k, v)))
    }

    pub(in crate::rollout) fn deserialize<'de, D, V>(
        deserializer: D,
    ) -> Result<Vec<(String, V)>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        struct Pairs<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Pairs<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from path to change")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_map(Pairs(std::marker::PhantomData))
    }
}
