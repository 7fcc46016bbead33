//! The outbound side of a connection: a bounded queue of messages and the task that writes them.
//!
//! Everything a connection sends (responses, errors, notifications) goes through one queue, so
//! messages leave in the order they were queued: a handler's response is always written before
//! the notifications it queued after it. The writer applies the connection's filters at the last
//! moment: notifications the client opted out of are dropped, and experimental payloads are
//! stripped for clients that did not negotiate `experimentalApi`.
//!
//! The writer batches: it writes every message already queued, then flushes once.

use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use tern_protocol::jsonrpc::{OutgoingResponse, RequestId, RpcError};
use tern_protocol::{NotificationEnvelope, ServerNotification, Stability};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

use crate::connection::ConnectionState;

/// How many messages may wait for the writer before senders wait in turn. Senders waiting is
/// the backpressure that finally stops the reader when a client does not read its output.
pub(crate) const OUTBOUND_CAPACITY: usize = 1024;

/// A message waiting to be written.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Response(OutgoingResponse),
    Notification {
        notification: ServerNotification,
        emitted_at_ms: u64,
    },
}

/// A handle for queueing messages on one connection. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    tx: mpsc::Sender<Outgoing>,
}

impl Outbound {
    pub(crate) fn channel() -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_CAPACITY);
        (Self { tx }, rx)
    }

    /// Queues a message. A closed connection swallows it: nobody is left to read it.
    async fn send(&self, message: Outgoing) {
        if self.tx.send(message).await.is_err() {
            tracing::debug!("connection closed; dropping outgoing message");
        }
    }

    /// Queues the answer to a request.
    pub(crate) async fn respond(&self, id: RequestId, result: Result<Box<RawValue>, RpcError>) {
        let response = match result {
            Ok(result) => OutgoingResponse::Result { id, result },
            Err(error) => OutgoingResponse::Error {
                id: Some(id),
                error,
            },
        };
        self.send(Outgoing::Response(response)).await;
    }

    /// Queues an error answer; `id` is `None` when the request's id could not be read.
    pub(crate) async fn error(&self, id: Option<RequestId>, error: RpcError) {
        self.send(Outgoing::Response(OutgoingResponse::Error { id, error }))
            .await;
    }

    /// Queues a notification, stamped now.
    pub(crate) async fn notify(&self, notification: ServerNotification) {
        let emitted_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            });
        self.send(Outgoing::Notification {
            notification,
            emitted_at_ms,
        })
        .await;
    }
}

/// Writes queued messages as JSON lines until every [`Outbound`] handle is dropped, then flushes.
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Outgoing>,
    writer: W,
    state: Arc<ConnectionState>,
) -> io::Result<()> {
    let mut writer = BufWriter::with_capacity(64 * 1024, writer);
    let mut line = Vec::with_capacity(4096);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(message) = next {
            line.clear();
            if encode(message, &state, &mut line)? {
                writer.write_all(&line).await?;
            }
            next = rx.try_recv().ok();
        }
        writer.flush().await?;
    }
    writer.flush().await
}

/// Serializes one message as a line into `out`; `false` when the connection's filters drop it.
fn encode(message: Outgoing, state: &ConnectionState, out: &mut Vec<u8>) -> io::Result<bool> {
    match message {
        Outgoing::Response(response) => serde_json::to_writer(&mut *out, &response)?,
        Outgoing::Notification {
            mut notification,
            emitted_at_ms,
        } => {
            let Some(session) = state.session() else {
                // Nothing is sent before the handshake.
                return Ok(false);
            };
            if session.opts_out_of(notification.method()) {
                return Ok(false);
            }
            if !session.experimental_api {
                if notification.stability() == Stability::Experimental {
                    return Ok(false);
                }
                notification.strip_experimental();
            }
            let envelope = NotificationEnvelope {
                notification: &notification,
                emitted_at_ms,
            };
            serde_json::to_writer(&mut *out, &envelope)?;
        }
    }
    out.push(b'\n');
    Ok(true)
}
