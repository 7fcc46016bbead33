//! What threads report while they run. Every event names its thread; the app-server routes
//! them to the connections subscribed to that thread and turns them into notifications.

use tern_protocol::v2::{ThreadItem, ThreadStatus, ThreadTokenUsage, Turn, TurnError};

/// An event of one thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadEvent {
    pub thread_id: String,
    pub kind: ThreadEventKind,
}

/// The kinds of [`ThreadEvent`], in the order a turn produces them.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadEventKind {
    StatusChanged(ThreadStatus),
    TurnStarted(Turn),
    ItemStarted {
        turn_id: String,
        item: ThreadItem,
    },
    AgentMessageDelta {
        turn_id: String,
        item_id: String,
        delta: String,
    },
    ReasoningSummaryPartAdded {
        turn_id: String,
        item_id: String,
        summary_index: i64,
    },
    ReasoningSummaryTextDelta {
        turn_id: String,
        item_id: String,
        summary_index: i64,
        delta: String,
    },
    ReasoningTextDelta {
        turn_id: String,
        item_id: String,
        content_index: i64,
        delta: String,
    },
    ItemCompleted {
        turn_id: String,
        item: ThreadItem,
    },
    TokenUsage {
        turn_id: String,
        usage: ThreadTokenUsage,
    },
    /// A turn hit an error; `will_retry` says whether it tries again.
    Error {
        turn_id: String,
        error: TurnError,
        will_retry: bool,
    },
    TurnCompleted(Turn),
}
