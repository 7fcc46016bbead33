//! Requests the server sends the client in the middle of a turn (approvals, questions, calls of
//! the client's tools), and their answers.
//!
//! A turn registers the request under a key and emits [`ThreadEventKind::ServerRequest`]; the
//! app-server sends it to the thread's subscribers with ids of its connections and hands the
//! first answer back through [`ThreadManager::answer`]. However the wait ends (answered, or
//! the turn interrupted), the turn emits [`ThreadEventKind::ServerRequestResolved`], so
//! clients can drop their prompts.

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use tern_protocol::{ServerMethod, ServerRequest};
use tokio::sync::oneshot;

use super::turn::{TurnRunner, closed_gate};
use super::{ThreadEventKind, ThreadManager};

/// The client's answer: its `result`, or its error.
pub type ClientAnswer = Result<serde_json::Value, ClientError>;

/// A JSON-RPC error the client answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub code: i64,
    pub message: String,
}

/// Requests waiting for an answer, by key.
#[derive(Debug, Default)]
pub(super) struct PendingRequests {
    next: AtomicU64,
    waiting: StdMutex<HashMap<u64, oneshot::Sender<ClientAnswer>>>,
}

impl PendingRequests {
    fn register(&self) -> (u64, oneshot::Receiver<ClientAnswer>) {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.insert(key, tx);
        }
        (key, rx)
    }

    fn forget(&self, key: u64) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.remove(&key);
        }
    }
}

impl ThreadManager {
    /// Hands the client's answer to the request `key`; `false` when nothing waits for it any
    /// more (answered already, or its turn ended).
    pub fn answer(&self, key: u64, answer: ClientAnswer) -> bool {
        let sender = self
            .requests
            .waiting
            .lock()
            .ok()
            .and_then(|mut waiting| waiting.remove(&key));
        sender.is_some_and(|sender| sender.send(answer).is_ok())
    }
}

/// How asking the client ended.
pub(super) enum Asked<T> {
    /// The client answered; `None` when the answer was an error or did not decode (logged).
    Answered(Option<T>),
    /// The turn was interrupted while waiting; holds the interrupt's gate.
    Interrupted(oneshot::Receiver<()>),
}

impl TurnRunner {
    /// Sends `request` to the client and waits for its answer, or for an interrupt. With
    /// `announce`, clients hear that it was resolved: at once when answered, after the
    /// turn's end when interrupted (as the reference orders it).
    pub(super) async fn ask<M: ServerMethod>(
        &self,
        request: ServerRequest,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
        announce: bool,
    ) -> Asked<M::Response> {
        let (key, answer) = self.manager.requests.register();
        self.emit(ThreadEventKind::ServerRequest { key, request })
            .await;
        let outcome = tokio::select! {
            answer = answer => Asked::Answered(decode::<M>(answer.ok())),
            gate = &mut *interrupt => Asked::Interrupted(gate.unwrap_or_else(|_| closed_gate())),
        };
        self.manager.requests.forget(key);
        match &outcome {
            Asked::Answered(_) => {
                self.emit(ThreadEventKind::ServerRequestResolved { key, announce })
                    .await;
            }
            Asked::Interrupted(_) => {
                if let Ok(mut unresolved) = self.unresolved.lock() {
                    unresolved.push((key, announce));
                }
            }
        }
        outcome
    }
}

/// The typed answer, or `None` (logged) for an error answer or one that does not decode.
fn decode<M: ServerMethod>(answer: Option<ClientAnswer>) -> Option<M::Response> {
    match answer {
        Some(Ok(value)) => serde_json::from_value::<M::Response>(value)
            .inspect_err(|err| {
                tracing::error!(method = M::NAME, error = %err, "the client's answer does not decode; treating it as a refusal");
            })
            .ok(),
        Some(Err(error)) => {
            tracing::error!(method = M::NAME, code = error.code, message = %error.message, "the client answered with an error; treating it as a refusal");
            None
        }
        None => None,
    }
}

/// Decodes JSON into `T` for tool arguments; the error wording is for the model.
pub(super) fn arguments<T: DeserializeOwned>(tool: &str, json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|err| format!("invalid arguments for {tool}: {err}"))
}
