//! Reading a rollout back into a thread: its metadata, turns with their items, the model
//! history, and token usage.
//!
//! Reading streams line by line and never fails on content: a line that does not parse (a
//! torn last line after a crash, or a type from a newer version) is skipped. A turn that was
//! never closed (the process died mid-turn) reads as `interrupted`.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use tern_protocol::v2::{
    ThreadItem, ThreadItemKind, ThreadTokenUsage, Turn, TurnItemsView, TurnStatus, UserInput,
};

use super::items::{file_change_kind, thread_item_kind};
use super::line::{EventMsg, LineIn, SessionMeta, TurnContextLine};
use crate::model::ResponseItem;

/// Everything a rollout says about its thread.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRollout {
    pub meta: SessionMeta,
    /// Turns with all their completed items.
    pub turns: Vec<Turn>,
    /// The conversation as the model sees it.
    pub history: Vec<ResponseItem>,
    pub token_usage: Option<ThreadTokenUsage>,
    /// Settings of the last turn.
    pub last_context: Option<TurnContextLine>,
    /// The text of the first user message.
    pub preview: String,
    /// The ordinal the next appended line gets.
    pub next_ordinal: u64,
    /// The user-given name, if any.
    pub name: Option<String>,
    /// For each turn, how long the history was when it started (for `thread/revert`).
    pub turn_history_starts: Vec<(String, usize)>,
}

/// Why a rollout could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path} has no session_meta line")]
    NoMeta { path: String },
}

/// Longest rollout line read; longer ones are skipped (and logged).
const MAX_LINE_BYTES: u64 = 64 * 1024 * 1024;

/// What to keep while reading: model history and turn items are the bulk of a large thread,
/// and a caller that does not need them should not hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    pub history: bool,
    pub items: bool,
}

/// Reads a whole rollout.
pub fn read_rollout(path: &Path) -> Result<LoadedRollout, ReadError> {
    read_rollout_with(
        path,
        ReadOptions {
            history: true,
            items: true,
        },
    )
}

/// Reads a rollout, keeping what `options` asks for.
pub fn read_rollout_with(path: &Path, options: ReadOptions) -> Result<LoadedRollout, ReadError> {
    let mut builder = Builder {
        options: Some(options),
        ..Builder::default()
    };
    fold_lines(path, &mut builder)?;
    builder.finish().ok_or_else(|| ReadError::NoMeta {
        path: path.display().to_string(),
    })
}

/// Calls `on_turn` with each turn of the rollout, with all its items, as soon as the turn is
/// over, holding one turn at a time: how a huge thread is read without holding it whole.
/// Turns for which `keep` says no are skipped (a revert dropped them).
pub fn stream_turns(
    path: &Path,
    keep: &dyn Fn(&str) -> bool,
    on_turn: &mut dyn FnMut(Turn),
) -> Result<(), ReadError> {
    let mut builder = Builder {
        options: Some(ReadOptions {
            history: false,
            items: true,
        }),
        ..Builder::default()
    };
    let mut sink = |turn: Turn| {
        if keep(&turn.id) {
            on_turn(turn);
        }
    };
    builder.on_turn = Some(&mut sink);
    fold_lines(path, &mut builder)?;
    builder.flush_turns(usize::MAX);
    Ok(())
}

/// Feeds every line of a rollout to `builder`.
fn fold_lines(path: &Path, builder: &mut Builder<'_>) -> Result<(), ReadError> {
    let io_error = |source| ReadError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = io::Read::take(&mut reader, MAX_LINE_BYTES)
            .read_until(b'\n', &mut line)
            .map_err(io_error)?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') && u64::try_from(read).unwrap_or(u64::MAX) == MAX_LINE_BYTES
        {
            tracing::warn!(path = %path.display(), "skipping an over-long rollout line");
            skip_rest_of_line(&mut reader).map_err(io_error)?;
            continue;
        }
        // A line torn inside a multi-byte character is not UTF-8; it is skipped like any other
        // line that does not parse.
        match serde_json::from_slice::<LineIn>(line.trim_ascii_end()) {
            Ok(parsed) => builder.line(&parsed),
            Err(err) => {
                tracing::debug!(path = %path.display(), error = %err, "skipping a rollout line that does not parse");
            }
        }
    }
    Ok(())
}

fn skip_rest_of_line<R: BufRead>(reader: &mut R) -> io::Result<()> {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let read = io::Read::take(&mut *reader, 1 << 20).read_until(b'\n', &mut sink)?;
        if read == 0 || sink.last() == Some(&b'\n') {
            return Ok(());
        }
    }
}

/// Folds lines into a [`LoadedRollout`].
#[derive(Default)]
struct Builder<'a> {
    /// When set, turns are handed out as they end instead of kept.
    on_turn: Option<&'a mut dyn FnMut(Turn)>,
    /// `None` means keep everything.
    options: Option<ReadOptions>,
    meta: Option<SessionMeta>,
    turns: Vec<Turn>,
    history: Vec<ResponseItem>,
    token_usage: Option<ThreadTokenUsage>,
    last_context: Option<TurnContextLine>,
    preview: String,
    next_ordinal: u64,
    name: Option<String>,
    /// Items from `user_message`/`agent_message` events, by turn.
    legacy_items: std::collections::HashMap<String, Vec<ThreadItem>>,
    turn_history_starts: Vec<(String, usize)>,
}

impl Builder<'_> {
    fn line(&mut self, line: &LineIn) {
        self.next_ordinal = match line.ordinal {
            Some(ordinal) => self.next_ordinal.max(ordinal + 1),
            None => self.next_ordinal + 1,
        };
        let payload = line.payload.get();
        match line.kind.as_str() {
            "session_meta" if self.meta.is_none() => {
                self.meta = serde_json::from_str(payload).ok();
            }
            "turn_context" => self.last_context = serde_json::from_str(payload).ok(),
            "response_item" if self.options.is_none_or(|o| o.history) => {
                match serde_json::from_str::<ResponseItem>(payload) {
                    Ok(ResponseItem::Other) | Err(_) => {}
                    Ok(item) => self.history.push(item),
                }
            }
            "compacted" if self.options.is_none_or(|o| o.history) => self.compacted(payload),
            "event_msg" => {
                if let Ok(event) = serde_json::from_str::<EventMsg>(payload) {
                    self.event(event);
                }
            }
            _ => {}
        }
    }

    fn compacted(&mut self, payload: &str) {
        #[derive(serde::Deserialize)]
        struct Compacted {
            #[serde(default)]
            message: String,
            #[serde(default)]
            replacement_history: Option<Vec<ResponseItem>>,
        }
        if let Ok(compacted) = serde_json::from_str::<Compacted>(payload) {
            self.turn_history_starts.clear();
            self.history = match compacted.replacement_history {
                Some(items) => items
                    .into_iter()
                    .filter(|i| *i != ResponseItem::Other)
                    .collect(),
                None => vec![ResponseItem::text_message("user", None, compacted.message)],
            };
        }
    }

    fn event(&mut self, event: EventMsg) {
        match event {
            EventMsg::TaskStarted {
                turn_id,
                root_turn_id,
                started_at,
                ..
            } => self.task_started(turn_id, root_turn_id, started_at),
            EventMsg::ItemCompleted {
                turn_id,
                item,
                started_at_ms,
                completed_at_ms,
                ..
            } => self.item_completed(&turn_id, item, started_at_ms, completed_at_ms),
            EventMsg::TokenCount { info: Some(info) } => {
                self.token_usage = Some(ThreadTokenUsage {
                    total: info.total_token_usage.into(),
                    last: info.last_token_usage.into(),
                    model_context_window: info.model_context_window,
                });
            }
            EventMsg::TaskComplete {
                turn_id,
                completed_at,
                duration_ms,
                error,
                ..
            } => {
                if let Some(turn) = self.turns.iter_mut().rev().find(|t| t.id == turn_id) {
                    turn.status = if error.is_some() {
                        TurnStatus::Failed
                    } else {
                        TurnStatus::Completed
                    };
                    turn.error = error;
                    turn.completed_at = completed_at;
                    turn.duration_ms = duration_ms;
                }
            }
            EventMsg::TurnAborted { turn_id, .. } => {
                let turn = match &turn_id {
                    Some(id) => self.turns.iter_mut().rev().find(|t| &t.id == id),
                    None => self
                        .turns
                        .iter_mut()
                        .rev()
                        .find(|t| t.status == TurnStatus::InProgress),
                };
                if let Some(turn) = turn {
                    turn.status = TurnStatus::Interrupted;
                }
            }
            EventMsg::ThreadNameUpdated { thread_name } => self.name = thread_name,
            EventMsg::ThreadReverted { before_turn_id } => self.revert(&before_turn_id),
            EventMsg::UserMessage {
                message,
                images,
                local_images,
                ..
            } => self.legacy_user_message(message, images, local_images),
            EventMsg::AgentMessage { message, .. } => {
                self.legacy_item(ThreadItemKind::AgentMessage {
                    id: uuid::Uuid::now_v7().to_string(),
                    text: message,
                    phase: None,
                });
            }
            EventMsg::PatchApplyEnd {
                call_id,
                stdout,
                stderr,
                changes,
                status,
                ..
            } => {
                let stored = super::StoredFileChange {
                    id: call_id,
                    changes,
                    status,
                    stdout,
                    stderr,
                };
                self.legacy_item(file_change_kind(stored));
            }
            EventMsg::TokenCount { info: None } | EventMsg::Other => {}
        }
    }

    fn item_completed(
        &mut self,
        turn_id: &str,
        item: super::RolloutItem,
        started_at_ms: Option<i64>,
        completed_at_ms: Option<i64>,
    ) {
        let wants_items = self.options.is_none_or(|o| o.items);
        let gives_preview =
            self.preview.is_empty() && matches!(item, super::RolloutItem::UserMessage { .. });
        if !wants_items && !gives_preview {
            return;
        }
        let Some(kind) = thread_item_kind(item) else {
            return;
        };
        if self.preview.is_empty() {
            if let ThreadItemKind::UserMessage { content, .. } = &kind {
                self.preview = preview_of(content);
            }
        }
        if !wants_items {
            return;
        }
        if let Some(turn) = self.turns.iter_mut().rev().find(|t| t.id == *turn_id) {
            turn.items.push(ThreadItem {
                kind,
                started_at_ms,
                completed_at_ms,
            });
        }
    }

    fn task_started(
        &mut self,
        turn_id: String,
        root_turn_id: Option<String>,
        started_at: Option<i64>,
    ) {
        // Turns run one after another: every earlier turn is over.
        if self.on_turn.is_some() {
            self.flush_turns(self.turns.len());
        }
        self.turn_history_starts
            .push((turn_id.clone(), self.history.len()));
        self.turns.push(Turn {
            root_turn_id: root_turn_id.or_else(|| Some(turn_id.clone())),
            id: turn_id,
            items: Vec::new(),
            items_view: TurnItemsView::Full,
            status: TurnStatus::InProgress,
            error: None,
            started_at,
            completed_at: None,
            duration_ms: None,
        });
    }

    /// Drops `before_turn_id` and later turns, and the history they added.
    fn revert(&mut self, before_turn_id: &str) {
        let Some(index) = self.turns.iter().position(|t| t.id == before_turn_id) else {
            return;
        };
        self.turns.truncate(index);
        if let Some(mark) = self
            .turn_history_starts
            .iter()
            .position(|(id, _)| id == before_turn_id)
        {
            let (_, history_len) = self.turn_history_starts[mark];
            self.history.truncate(history_len);
            self.turn_history_starts.truncate(mark);
        }
    }

    fn legacy_user_message(
        &mut self,
        message: String,
        images: Vec<String>,
        local_images: Vec<String>,
    ) {
        let mut content = vec![UserInput::Text {
            text: message,
            text_elements: Vec::new(),
        }];
        content.extend(
            images
                .into_iter()
                .map(|url| UserInput::Image { url, detail: None }),
        );
        content.extend(
            local_images
                .into_iter()
                .map(|path| UserInput::LocalImage { path, detail: None }),
        );
        self.legacy_item(ThreadItemKind::UserMessage {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: None,
            content,
        });
    }

    /// An item from the older events, kept per turn in case the turn has no `item_completed`
    /// lines (rollouts of older versions, or legacy threads of the reference).
    fn legacy_item(&mut self, kind: ThreadItemKind) {
        if self.preview.is_empty() {
            if let ThreadItemKind::UserMessage { content, .. } = &kind {
                self.preview = preview_of(content);
            }
        }
        if self.options.is_some_and(|o| !o.items) {
            return;
        }
        let Some(turn) = self.turns.last() else {
            return;
        };
        let item = ThreadItem {
            kind,
            started_at_ms: None,
            completed_at_ms: None,
        };
        self.legacy_items
            .entry(turn.id.clone())
            .or_default()
            .push(item);
    }

    /// Settles the first `count` turns (legacy items, unfinished → interrupted) and, when
    /// streaming, hands them out.
    fn flush_turns(&mut self, count: usize) {
        let count = count.min(self.turns.len());
        for turn in &mut self.turns[..count] {
            if turn.items.is_empty() {
                if let Some(items) = self.legacy_items.remove(&turn.id) {
                    turn.items = items;
                }
            }
            if turn.status == TurnStatus::InProgress {
                turn.status = TurnStatus::Interrupted;
            }
        }
        if let Some(on_turn) = self.on_turn.as_mut() {
            for turn in self.turns.drain(..count) {
                on_turn(turn);
            }
        }
    }

    fn finish(mut self) -> Option<LoadedRollout> {
        self.flush_turns(usize::MAX);
        Some(LoadedRollout {
            meta: self.meta?,
            turns: self.turns,
            history: self.history,
            token_usage: self.token_usage,
            last_context: self.last_context,
            preview: self.preview,
            next_ordinal: self.next_ordinal,
            name: self.name,
            turn_history_starts: self.turn_history_starts,
        })
    }
}

/// The older event for an item, from which the reference rebuilds the items of threads it did
/// not create: `user_message`, `agent_message`, `patch_apply_end`. (It rebuilds no commands
/// from such threads, even from its own older rollouts.)
/// `stored` is the item as `item_completed` stores it.
pub(crate) fn legacy_event(
    turn_id: &str,
    kind: &ThreadItemKind,
    stored: &super::RolloutItem,
) -> Option<EventMsg> {
    if let super::RolloutItem::FileChange(change) = stored {
        return Some(EventMsg::PatchApplyEnd {
            call_id: change.id.clone(),
            turn_id: turn_id.to_owned(),
            success: change.status == super::StoredStatus::Completed,
            stdout: change.stdout.clone(),
            stderr: change.stderr.clone(),
            changes: change.changes.clone(),
            status: change.status,
        });
    }
    match kind {
        ThreadItemKind::UserMessage { content, .. } => Some(EventMsg::UserMessage {
            message: preview_of(content),
            images: content
                .iter()
                .filter_map(|input| match input {
                    UserInput::Image { url, .. } => Some(url.clone()),
                    _ => None,
                })
                .collect(),
            local_images: content
                .iter()
                .filter_map(|input| match input {
                    UserInput::LocalImage { path, .. } => Some(path.clone()),
                    _ => None,
                })
                .collect(),
            text_elements: Vec::new(),
        }),
        ThreadItemKind::AgentMessage { text, .. } => Some(EventMsg::AgentMessage {
            message: text.clone(),
            phase: None,
        }),
        _ => None,
    }
}

/// The text of a user message, for `preview`.
pub(crate) fn preview_of(content: &[UserInput]) -> String {
    content
        .iter()
        .filter_map(|input| match input {
            UserInput::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
