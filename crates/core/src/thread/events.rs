//! What threads report while they run. Every event names its thread; the app-server routes
//! them to the connections subscribed to that thread and turns them into notifications.

use tern_protocol::ServerRequest;
use tern_protocol::v2::{
    ThreadItem, ThreadStatus, ThreadTokenUsage, Turn, TurnError, TurnPlanStep,
};

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
    /// More output of a running command item.
    CommandOutputDelta {
        turn_id: String,
        item_id: String,
        delta: String,
    },
    /// The agent wrote to (or polled) a command's terminal session.
    TerminalInteraction {
        turn_id: String,
        item_id: String,
        process_id: String,
        stdin: String,
    },
    /// The agent's plan changed.
    PlanUpdated {
        turn_id: String,
        explanation: Option<String>,
        plan: Vec<TurnPlanStep>,
    },
    /// The turn's aggregated diff changed.
    DiffUpdated {
        turn_id: String,
        diff: String,
    },
    /// A question for the client; answer it with [`super::ThreadManager::answer`] and `key`.
    ServerRequest {
        key: u64,
        request: ServerRequest,
    },
    /// The request `key` needs no answer any more; `announce` when clients are told
    /// (`serverRequest/resolved`).
    ServerRequestResolved {
        key: u64,
        announce: bool,
    },
}
