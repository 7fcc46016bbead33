//! Rollouts: one append-only JSONL file per thread, the source of truth for its history.
//!
//! Layout under the home directory, as the reference implementation has it:
//! `sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<thread id>.jsonl` (UTC), moved to
//! `archived_sessions/` when archived.

mod items;
mod line;
mod reader;
mod writer;

use std::path::{Path, PathBuf};

pub(crate) use items::rollout_item;
pub use items::{
    StoredChange, StoredCommand, StoredCommandAction, StoredCommandSource, StoredDuration,
    StoredDynamicCall, StoredFileChange, StoredStatus, StoredWebSearch, StoredWebSearchAction,
};
pub(crate) use line::LineIn as RawLine;
pub use line::{
    AgentContent, BaseInstructions, EventMsg, RolloutItem, SessionMeta, SnakeUsage, TokenCountInfo,
    TurnContextLine,
};
pub use reader::{
    LoadedRollout, ReadError, ReadOptions, read_rollout, read_rollout_with, stream_turns,
};
pub(crate) use reader::{legacy_event, preview_of};
pub use writer::RolloutWriter;

use crate::time::Utc;

/// Folder of live rollouts.
pub const SESSIONS_DIR: &str = "sessions";
/// Folder of archived rollouts.
pub const ARCHIVED_SESSIONS_DIR: &str = "archived_sessions";

/// Where a thread created at `created_ms` keeps its rollout.
pub fn rollout_path(home: &Path, thread_id: &str, created_ms: i64) -> PathBuf {
    let t = Utc::from_ms(created_ms);
    home.join(SESSIONS_DIR)
        .join(format!("{:04}", t.year))
        .join(format!("{:02}", t.month))
        .join(format!("{:02}", t.day))
        .join(format!(
            "rollout-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}-{thread_id}.jsonl",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        ))
}

/// Where an archived rollout goes: `archived_sessions/<file name>` (flat, as the reference
/// does).
pub fn archived_path(home: &Path, live: &Path) -> Option<PathBuf> {
    Some(home.join(ARCHIVED_SESSIONS_DIR).join(live.file_name()?))
}

/// Where an unarchived rollout goes back to: its dated folder, from the timestamp in its name.
pub fn unarchived_path(home: &Path, archived: &Path) -> Option<PathBuf> {
    let name = archived.file_name()?.to_str()?;
    let stamp = name.strip_prefix("rollout-")?;
    let (year, month, day) = (stamp.get(0..4)?, stamp.get(5..7)?, stamp.get(8..10)?);
    Some(
        home.join(SESSIONS_DIR)
            .join(year)
            .join(month)
            .join(day)
            .join(name),
    )
}

/// Finds the rollout of `thread_id` under `sessions/` (or `archived_sessions/` when
/// `archived`), by its file name.
pub fn find_rollout(home: &Path, thread_id: &str, archived: bool) -> Option<PathBuf> {
    let root = home.join(if archived {
        ARCHIVED_SESSIONS_DIR
    } else {
        SESSIONS_DIR
    });
    let suffix = format!("-{thread_id}.jsonl");
    find_file(&root, &suffix, 4)
}

fn find_file(dir: &Path, suffix: &str, depth: u32) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            subdirs.push(path);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(suffix))
        {
            return Some(path);
        }
    }
    if depth == 0 {
        return None;
    }
    // Newest dates first: recent threads are the likely ones.
    subdirs.sort_unstable_by(|a, b| b.cmp(a));
    subdirs
        .into_iter()
        .find_map(|subdir| find_file(&subdir, suffix, depth - 1))
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
