//! Compaction: the conversation replaced by a summary the model writes, as a
//! `contextCompaction` item, on `thread/compact/start` or when a turn nears the context window.

use tern_protocol::v2::{ThreadItem, ThreadItemKind};
use tokio::sync::oneshot;

use super::ThreadEventKind;
use super::turn::{Outcome, Step, TurnRunner, closed_gate, push_item};
use crate::model::{ModelError, ResponseEvent, ResponseItem};
use crate::prompt;
use crate::time::now_ms;

impl TurnRunner {
    /// Whether the context used by the last model request reached the compaction limit.
    pub(super) async fn needs_compaction(&self) -> bool {
        let state = self.handle.state.lock().await;
        let last = state.token_usage.last;
        let used = last.input_tokens + last.output_tokens;
        used > 0 && used >= state.config.auto_compact_limit()
    }

    /// Replaces the history with a summary written by the model, as a `contextCompaction`
    /// item. The summary request sees the whole history and no tools.
    pub(super) async fn compact(
        &self,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Result<(), Outcome> {
        let turn_id = self.turn.id.clone();
        let item_id = uuid::Uuid::now_v7().to_string();
        let started_at_ms = now_ms();
        let kind = ThreadItemKind::ContextCompaction {
            id: item_id.clone(),
        };
        self.emit(ThreadEventKind::ItemStarted {
            turn_id: turn_id.clone(),
            item: ThreadItem {
                kind: kind.clone(),
                started_at_ms: Some(started_at_ms),
                completed_at_ms: None,
            },
        })
        .await;
        let (mut request, provider) = self.build_request().await;
        request.input.push(ResponseItem::text_message(
            "user",
            None,
            prompt::COMPACTION_PROMPT,
        ));
        request.output_schema = None;
        let mut stream = match self.open_stream(&request, provider, interrupt).await {
            Ok(stream) => stream,
            Err(Step::Interrupted(gate)) => return Err(Outcome::Interrupted(gate)),
            Err(Step::Failed(error)) => return Err(Outcome::Failed(error)),
            Err(Step::Done { .. }) => return Err(Outcome::Completed),
        };
        let mut summary = String::new();
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                gate = &mut *interrupt => {
                    return Err(Outcome::Interrupted(gate.unwrap_or_else(|_| closed_gate())));
                }
            };
            match event {
                None => break,
                Some(Err(error)) => return Err(Outcome::Failed(error)),
                Some(Ok(ResponseEvent::OutputItemDone(item))) => {
                    if let Some(text) = item.message_text() {
                        summary.push_str(&text);
                    }
                }
                Some(Ok(ResponseEvent::Completed { usage, .. })) => {
                    if let Some(usage) = usage {
                        self.record_usage(usage).await;
                    }
                }
                Some(Ok(_)) => {}
            }
        }
        if summary.trim().is_empty() {
            // Replacing the history with nothing would lose the conversation.
            return Err(Outcome::Failed(ModelError {
                kind: crate::model::ModelErrorKind::ResponseFailed,
                message: "the model returned an empty summary; the conversation was kept"
                    .to_owned(),
                details: None,
            }));
        }
        let item = ThreadItem {
            kind,
            started_at_ms: Some(started_at_ms),
            completed_at_ms: Some(now_ms()),
        };
        {
            let mut state = self.handle.state.lock().await;
            let history = compacted_history(&state.history, &summary);
            state.persist(
                "compacted",
                &serde_json::json!({"message": summary, "replacement_history": history}),
            );
            state.persist_item(&turn_id, &item);
            state.history = history;
            // Earlier turns' history is gone: they can no longer be reverted to.
            state.turn_history_starts.clear();
            // The next request starts from the summary, not the old context size.
            state.token_usage.last = tern_protocol::v2::TokenUsageBreakdown::default();
            push_item(&mut state.turns, &turn_id, item.clone());
        }
        self.emit(ThreadEventKind::ItemCompleted { turn_id, item })
            .await;
        Ok(())
    }
}

/// The history after compaction: the context messages tern adds (environment, `AGENTS.md`,
/// developer instructions), the user's most recent messages (each cut short, earlier
/// summaries left out), and the new summary.
fn compacted_history(history: &[ResponseItem], summary: &str) -> Vec<ResponseItem> {
    const MAX_USER_MESSAGE_CHARS: usize = 2_000;
    const MAX_USER_CHARS: usize = 20_000;
    let is_context = |role: &str, text: &str| {
        role == "developer"
            || text.starts_with("<environment_context>")
            || text.starts_with("# AGENTS.md instructions")
    };
    let mut context = Vec::new();
    let mut user = Vec::new();
    let mut user_chars = 0;
    // Newest first, so the current request survives when the budget runs out.
    for item in history.iter().rev() {
        let ResponseItem::Message { role, .. } = item else {
            continue;
        };
        let Some(text) = item.message_text() else {
            continue;
        };
        if is_context(role, &text) {
            context.push(item.clone());
        } else if role == "user"
            && !text.starts_with('<')
            && !text.starts_with(prompt::SUMMARY_PREFIX)
            && user_chars < MAX_USER_CHARS
        {
            let cut: String = text.chars().take(MAX_USER_MESSAGE_CHARS).collect();
            user_chars += cut.len();
            user.push(ResponseItem::text_message("user", None, cut));
        }
    }
    context.reverse();
    user.reverse();
    context.extend(user);
    context.push(ResponseItem::text_message(
        "user",
        None,
        format!("{}{summary}", prompt::SUMMARY_PREFIX),
    ));
    context
}
