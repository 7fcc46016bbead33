//! Thread events to clients: which connections follow which threads, and the task that maps
//! core events to notifications and queues them on those connections.
//!
//! One task serves every thread, in event order. Waiting on a full outbound queue is the
//! backpressure that slows a streaming turn down to what its slowest subscriber reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tern_core::thread::{ThreadEvent, ThreadEventKind};
use tern_protocol::ServerNotification;
use tern_protocol::jsonrpc::RequestId;
use tern_protocol::v2::{
    AgentMessageDeltaNotification, CommandExecutionOutputDeltaNotification, ErrorNotification,
    ItemCompletedNotification, ItemStartedNotification, ReasoningSummaryPartAddedNotification,
    ReasoningSummaryTextDeltaNotification, ReasoningTextDeltaNotification,
    ServerRequestResolvedNotification, TerminalInteractionNotification,
    ThreadStatusChangedNotification, ThreadTokenUsageUpdatedNotification,
    TurnCompletedNotification, TurnDiffUpdatedNotification, TurnPlanUpdatedNotification,
    TurnStartedNotification,
};
use tokio::sync::mpsc;

use crate::outgoing::{Outbound, WeakOutbound};

/// Connections subscribed to each thread, and where each pending server request went.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_thread: Mutex<HashMap<String, Vec<(u64, WeakOutbound)>>>,
    /// Core request key → the connections it was sent to, with its id on each.
    requests: Mutex<HashMap<u64, Vec<(WeakOutbound, i64)>>>,
}

impl Subscriptions {
    /// Subscribes a connection to a thread (again is a no-op).
    pub(crate) fn subscribe(&self, thread_id: &str, connection_id: u64, outbound: &Outbound) {
        let Ok(mut by_thread) = self.by_thread.lock() else {
            return;
        };
        let subscribers = by_thread.entry(thread_id.to_owned()).or_default();
        if !subscribers.iter().any(|(id, _)| *id == connection_id) {
            subscribers.push((connection_id, outbound.downgrade()));
        }
    }

    /// Unsubscribes a connection; `false` if it was not subscribed.
    pub(crate) fn unsubscribe(&self, thread_id: &str, connection_id: u64) -> bool {
        let Ok(mut by_thread) = self.by_thread.lock() else {
            return false;
        };
        let Some(subscribers) = by_thread.get_mut(thread_id) else {
            return false;
        };
        let before = subscribers.len();
        subscribers.retain(|(id, _)| *id != connection_id);
        before != subscribers.len()
    }

    /// The open connections subscribed to `thread_id`; closed ones are dropped.
    fn subscribers(&self, thread_id: &str) -> Vec<Outbound> {
        let Ok(mut by_thread) = self.by_thread.lock() else {
            return Vec::new();
        };
        let Some(subscribers) = by_thread.get_mut(thread_id) else {
            return Vec::new();
        };
        let mut open = Vec::with_capacity(subscribers.len());
        subscribers.retain(|(_, weak)| match weak.upgrade() {
            Some(outbound) => {
                open.push(outbound);
                true
            }
            None => false,
        });
        open
    }
}

/// Delivers thread events until every sender is gone.
pub(crate) async fn deliver(
    subscriptions: Arc<Subscriptions>,
    mut events: mpsc::Receiver<ThreadEvent>,
) {
    while let Some(event) = events.recv().await {
        let subscribers = subscriptions.subscribers(&event.thread_id);
        match event.kind {
            ThreadEventKind::ServerRequest { key, request } => {
                // Every subscriber is asked; the first answer counts.
                let mut sent = Vec::with_capacity(subscribers.len());
                for outbound in &subscribers {
                    let id = outbound
                        .request(&event.thread_id, key, request.clone())
                        .await;
                    sent.push((outbound.downgrade(), id));
                }
                if let Ok(mut requests) = subscriptions.requests.lock() {
                    requests.insert(key, sent);
                }
                continue;
            }
            ThreadEventKind::ServerRequestResolved { key, announce } => {
                let sent = subscriptions
                    .requests
                    .lock()
                    .ok()
                    .and_then(|mut requests| requests.remove(&key))
                    .unwrap_or_default();
                for (weak, id) in sent {
                    let Some(outbound) = weak.upgrade() else {
                        continue;
                    };
                    outbound.requests().take(id);
                    if announce {
                        outbound
                            .notify(ServerNotification::ServerRequestResolved(
                                ServerRequestResolvedNotification {
                                    thread_id: event.thread_id.clone(),
                                    request_id: RequestId::Integer(id),
                                },
                            ))
                            .await;
                    }
                }
                continue;
            }
            _ => {}
        }
        if subscribers.is_empty() {
            continue;
        }
        let notification = notification(event);
        if let Some((last, others)) = subscribers.split_last() {
            for outbound in others {
                outbound.notify(notification.clone()).await;
            }
            last.notify(notification).await;
        }
    }
}

/// The notification for an event.
#[allow(clippy::too_many_lines, reason = "one flat arm per event kind")]
fn notification(event: ThreadEvent) -> ServerNotification {
    let thread_id = event.thread_id;
    match event.kind {
        ThreadEventKind::StatusChanged(status) => {
            ServerNotification::ThreadStatusChanged(ThreadStatusChangedNotification {
                thread_id,
                status,
            })
        }
        ThreadEventKind::TurnStarted(turn) => {
            ServerNotification::TurnStarted(TurnStartedNotification { thread_id, turn })
        }
        ThreadEventKind::TurnCompleted(turn) => {
            ServerNotification::TurnCompleted(TurnCompletedNotification { thread_id, turn })
        }
        ThreadEventKind::ItemStarted { turn_id, item } => {
            ServerNotification::ItemStarted(ItemStartedNotification {
                started_at_ms: item.started_at_ms.unwrap_or_default(),
                item,
                thread_id,
                turn_id,
            })
        }
        ThreadEventKind::ItemCompleted { turn_id, item } => {
            ServerNotification::ItemCompleted(ItemCompletedNotification {
                completed_at_ms: item.completed_at_ms.unwrap_or_default(),
                item,
                thread_id,
                turn_id,
                content_token_count: None,
            })
        }
        ThreadEventKind::AgentMessageDelta {
            turn_id,
            item_id,
            delta,
        } => ServerNotification::AgentMessageDelta(AgentMessageDeltaNotification {
            thread_id,
            turn_id,
            item_id,
            delta,
        }),
        ThreadEventKind::ReasoningSummaryPartAdded {
            turn_id,
            item_id,
            summary_index,
        } => ServerNotification::ReasoningSummaryPartAdded(ReasoningSummaryPartAddedNotification {
            thread_id,
            turn_id,
            item_id,
            summary_index,
        }),
        ThreadEventKind::ReasoningSummaryTextDelta {
            turn_id,
            item_id,
            summary_index,
            delta,
        } => ServerNotification::ReasoningSummaryTextDelta(ReasoningSummaryTextDeltaNotification {
            thread_id,
            turn_id,
            item_id,
            delta,
            summary_index,
        }),
        ThreadEventKind::ReasoningTextDelta {
            turn_id,
            item_id,
            content_index,
            delta,
        } => ServerNotification::ReasoningTextDelta(ReasoningTextDeltaNotification {
            thread_id,
            turn_id,
            item_id,
            delta,
            content_index,
        }),
        ThreadEventKind::TokenUsage { turn_id, usage } => {
            ServerNotification::ThreadTokenUsageUpdated(ThreadTokenUsageUpdatedNotification {
                thread_id,
                turn_id,
                token_usage: usage,
            })
        }
        ThreadEventKind::Error {
            turn_id,
            error,
            will_retry,
        } => ServerNotification::Error(ErrorNotification {
            error,
            will_retry,
            thread_id,
            turn_id,
        }),
        ThreadEventKind::CommandOutputDelta {
            turn_id,
            item_id,
            delta,
        } => ServerNotification::CommandExecutionOutputDelta(
            CommandExecutionOutputDeltaNotification {
                thread_id,
                turn_id,
                item_id,
                delta,
            },
        ),
        ThreadEventKind::TerminalInteraction {
            turn_id,
            item_id,
            process_id,
            stdin,
        } => ServerNotification::TerminalInteraction(TerminalInteractionNotification {
            thread_id,
            turn_id,
            item_id,
            process_id,
            stdin,
        }),
        ThreadEventKind::PlanUpdated {
            turn_id,
            explanation,
            plan,
        } => ServerNotification::TurnPlanUpdated(TurnPlanUpdatedNotification {
            thread_id,
            turn_id,
            explanation,
            plan,
        }),
        ThreadEventKind::DiffUpdated { turn_id, diff } => {
            ServerNotification::TurnDiffUpdated(TurnDiffUpdatedNotification {
                thread_id,
                turn_id,
                diff,
            })
        }
        // Routed by `deliver` itself.
        ThreadEventKind::ServerRequest { .. } | ThreadEventKind::ServerRequestResolved { .. } => {
            unreachable!("requests are delivered before notifications are built")
        }
    }
}
