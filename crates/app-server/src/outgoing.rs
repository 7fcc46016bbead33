//! The outbound side of a connection: a bounded queue of messages and the task that writes them.
//!
//! Everything a connection sends (responses, errors, notifications) goes through one queue, so
//! messages leave in the order they were queued: a handler's response is always written before
//! the notifications it queued after it. The writer applies the connection's filters at the last
//! moment: notifications the client opted out of are dropped, and experimental notifications
//! are dropped (experimental fields stripped) for clients that did not negotiate
//! `experimentalApi`.
//!
//! The writer batches: it writes every message already queued, then flushes once.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;
use tern_protocol::jsonrpc::{OutgoingResponse, RequestId, RpcError};
use tern_protocol::{NotificationEnvelope, ServerNotification, ServerRequest, Stability};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::connection::ConnectionState;

/// How many messages may wait for the writer before senders wait in turn. Senders waiting is
/// the backpressure that finally stops the reader when a client does not read its output.
pub(crate) const OUTBOUND_CAPACITY: usize = 1024;

/// A message waiting to be written.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Response {
        response: OutgoingResponse,
        /// The request's share of the connection's input byte budget, returned once the answer
        /// is written (see `connection::INPUT_BUDGET_BYTES`).
        _budget: Option<OwnedSemaphorePermit>,
    },
    Notification {
        notification: ServerNotification,
        emitted_at_ms: u64,
    },
    /// A request to the client (`id` is this connection's).
    Request { id: i64, request: ServerRequest },
    /// A response whose `result` arrives in pieces (a huge thread read as it is written out).
    StreamedResponse {
        id: RequestId,
        chunks: mpsc::Receiver<Vec<u8>>,
        _budget: Option<OwnedSemaphorePermit>,
    },
}

/// A handle for queueing messages on one connection. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    tx: mpsc::Sender<Outgoing>,
    requests: Arc<SentRequests>,
}

/// The requests this connection was sent and has not answered: its ids (integers from 0, as
/// the reference numbers them) to the thread and core key they stand for.
#[derive(Debug, Default)]
pub(crate) struct SentRequests {
    next_id: AtomicI64,
    pending: StdMutex<HashMap<i64, (String, u64)>>,
}

impl SentRequests {
    /// The thread and key of the request `id`, which is then no longer pending.
    pub(crate) fn take(&self, id: i64) -> Option<(String, u64)> {
        self.pending.lock().ok()?.remove(&id)
    }
}

impl Outbound {
    pub(crate) fn channel() -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_CAPACITY);
        (
            Self {
                tx,
                requests: Arc::default(),
            },
            rx,
        )
    }

    /// A handle that does not keep the connection open: once the connection's own handles
    /// are gone, the writer finishes even if subscriptions still hold weak ones.
    pub(crate) fn downgrade(&self) -> WeakOutbound {
        WeakOutbound(self.tx.downgrade(), Arc::clone(&self.requests))
    }

    /// The requests this connection was sent.
    pub(crate) fn requests(&self) -> &SentRequests {
        &self.requests
    }

    /// Queues a request to the client for the thread's request `key`; returns its id here.
    pub(crate) async fn request(&self, thread_id: &str, key: u64, request: ServerRequest) -> i64 {
        let id = self.requests.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut pending) = self.requests.pending.lock() {
            pending.insert(id, (thread_id.to_owned(), key));
        }
        self.send(Outgoing::Request { id, request }).await;
        id
    }

    /// Queues a message. A closed connection swallows it: nobody is left to read it.
    async fn send(&self, message: Outgoing) {
        if self.tx.send(message).await.is_err() {
            tracing::debug!("connection closed; dropping outgoing message");
        }
    }

    /// Queues the answer to a request, releasing `budget` once it is written.
    pub(crate) async fn respond(
        &self,
        id: RequestId,
        result: Result<Box<RawValue>, RpcError>,
        budget: Option<OwnedSemaphorePermit>,
    ) {
        let response = match result {
            Ok(result) => OutgoingResponse::Result { id, result },
            Err(error) => OutgoingResponse::Error {
                id: Some(id),
                error,
            },
        };
        self.send(Outgoing::Response {
            response,
            _budget: budget,
        })
        .await;
    }

    /// Queues an answer whose `result` JSON comes through `chunks`; the writer passes the
    /// pieces on as they arrive, so the result is never held whole.
    pub(crate) async fn respond_streamed(
        &self,
        id: RequestId,
        chunks: mpsc::Receiver<Vec<u8>>,
        budget: Option<OwnedSemaphorePermit>,
    ) {
        self.send(Outgoing::StreamedResponse {
            id,
            chunks,
            _budget: budget,
        })
        .await;
    }

    /// Queues an error answer; `id` is `None` when the request's id could not be read.
    pub(crate) async fn error(&self, id: Option<RequestId>, error: RpcError) {
        self.send(Outgoing::Response {
            response: OutgoingResponse::Error { id, error },
            _budget: None,
        })
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

/// A weak [`Outbound`], for subscriptions.
#[derive(Debug, Clone)]
pub(crate) struct WeakOutbound(mpsc::WeakSender<Outgoing>, Arc<SentRequests>);

impl WeakOutbound {
    /// The connection's handle, while it is open.
    pub(crate) fn upgrade(&self) -> Option<Outbound> {
        self.0.upgrade().map(|tx| Outbound {
            tx,
            requests: Arc::clone(&self.1),
        })
    }
}

/// Writes queued messages as JSON lines until every [`Outbound`] handle is dropped, then flushes.
/// Returns early only when the output itself fails.
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
            if let Outgoing::StreamedResponse { id, mut chunks, .. } = message {
                serde_json::to_writer(&mut line, &serde_json::json!({ "id": id }))?;
                line.pop();
                line.extend_from_slice(b",\"result\":");
                writer.write_all(&line).await?;
                while let Some(chunk) = chunks.recv().await {
                    writer.write_all(&chunk).await?;
                }
                writer.write_all(b"}\n").await?;
                next = rx.try_recv().ok();
                continue;
            }
            match large_result(&message) {
                // A large result goes out as it is, not copied into the line buffer first.
                Some((id, result)) => {
                    serde_json::to_writer(&mut line, &serde_json::json!({ "id": id }))?;
                    line.pop();
                    line.extend_from_slice(b",\"result\":");
                    writer.write_all(&line).await?;
                    writer.write_all(result.get().as_bytes()).await?;
                    writer.write_all(b"}\n").await?;
                }
                None => {
                    if encode(message, &state, &mut line) {
                        writer.write_all(&line).await?;
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        writer.flush().await?;
    }
    writer.flush().await
}

/// Results this large are written without an intermediate copy.
const LARGE_RESULT_BYTES: usize = 64 * 1024;

/// The id and result of a large successful response.
fn large_result(message: &Outgoing) -> Option<(&RequestId, &RawValue)> {
    match message {
        Outgoing::Response {
            response: OutgoingResponse::Result { id, result },
            ..
        } if result.get().len() >= LARGE_RESULT_BYTES => Some((id, result)),
        _ => None,
    }
}

/// Serializes one message as a line into `out`; `false` when nothing is to be written (the
/// connection's filters dropped it, or it could not be serialized).
fn encode(message: Outgoing, state: &ConnectionState, out: &mut Vec<u8>) -> bool {
    let written = match message {
        Outgoing::Response { response, .. } => encode_response(&response, out),
        // Written by the loop itself, piece by piece.
        Outgoing::StreamedResponse { .. } => false,
        Outgoing::Request { id, mut request } => {
            let Some(session) = state.session() else {
                return false;
            };
            if !session.experimental_api {
                request.strip_experimental();
            }
            let message = request.params_json().map(|params| {
                serde_json::json!({"id": id, "method": request.method(), "params": params})
            });
            message
                .and_then(|message| serde_json::to_writer(&mut *out, &message))
                .inspect_err(|err| {
                    let method = request.method();
                    tracing::error!(%method, error = %err, "cannot serialize a request; dropping it");
                })
                .is_ok()
        }
        Outgoing::Notification {
            mut notification,
            emitted_at_ms,
        } => {
            let Some(session) = state.session() else {
                // Nothing is sent before the handshake.
                return false;
            };
            if session.opts_out_of(notification.method()) {
                return false;
            }
            if !session.experimental_api {
                if notification.stability() == Stability::Experimental {
                    return false;
                }
                notification.strip_experimental();
            }
            let envelope = NotificationEnvelope {
                notification: &notification,
                emitted_at_ms,
            };
            serde_json::to_writer(&mut *out, &envelope)
                .inspect_err(|err| {
                    let method = notification.method();
                    tracing::error!(%method, error = %err, "cannot serialize a notification; dropping it");
                })
                .is_ok()
        }
    };
    if written {
        out.push(b'\n');
    }
    written
}

/// A response that fails to serialize is our bug: it is logged, and the client gets a `-32603`
/// for its id instead of waiting forever.
fn encode_response(response: &OutgoingResponse, out: &mut Vec<u8>) -> bool {
    let Err(err) = serde_json::to_writer(&mut *out, response) else {
        return true;
    };
    out.clear();
    let id = match response {
        OutgoingResponse::Result { id, .. } => Some(id.clone()),
        OutgoingResponse::Error { id, .. } => id.clone(),
    };
    tracing::error!(id = ?id, error = %err, "cannot serialize a response");
    let fallback = OutgoingResponse::Error {
        id,
        error: RpcError::internal("internal error: cannot serialize the response"),
    };
    serde_json::to_writer(&mut *out, &fallback).is_ok()
}

#[cfg(test)]
mod tests {
    use tern_protocol::v2::{ConfigWarningNotification, InitializeCapabilities};

    use super::*;
    use crate::connection::Session;

    fn warning() -> Outgoing {
        Outgoing::Notification {
            notification: ServerNotification::ConfigWarning(ConfigWarningNotification {
                summary: "s".into(),
                details: None,
                path: None,
                range: None,
            }),
            emitted_at_ms: 7,
        }
    }

    fn encoded(state: &ConnectionState, message: Outgoing) -> Option<String> {
        let mut out = Vec::new();
        encode(message, state, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn notifications_wait_for_the_handshake_and_respect_opt_outs() {
        let state = ConnectionState::default();
        assert_eq!(encoded(&state, warning()), None);

        state.initialize(Session::new(
            "c".into(),
            "ua".into(),
            InitializeCapabilities::default(),
        ));
        assert_eq!(
            encoded(&state, warning()).as_deref(),
            Some(
                "{\"method\":\"configWarning\",\"params\":{\"summary\":\"s\",\"details\":null},\"emittedAtMs\":7}\n"
            )
        );

        let opted_out = ConnectionState::default();
        opted_out.initialize(Session::new(
            "c".into(),
            "ua".into(),
            InitializeCapabilities {
                opt_out_notification_methods: Some(vec!["configWarning".into()]),
                ..InitializeCapabilities::default()
            },
        ));
        assert_eq!(encoded(&opted_out, warning()), None);
    }

    #[tokio::test]
    async fn a_large_result_is_written_whole_and_in_order() {
        use tokio::io::AsyncReadExt;

        let (outbound, rx) = Outbound::channel();
        let (client, server) = tokio::io::duplex(1 << 16);
        let state = Arc::new(ConnectionState::default());
        let writer = tokio::spawn(write_loop(rx, server, state));
        let big = "z".repeat(LARGE_RESULT_BYTES * 3);
        let result = serde_json::value::to_raw_value(&serde_json::json!({"text": big})).unwrap();
        outbound
            .respond(RequestId::Integer(7), Ok(result), None)
            .await;
        outbound
            .respond(
                RequestId::String("s".into()),
                Ok(serde_json::value::to_raw_value(&1).unwrap()),
                None,
            )
            .await;
        drop(outbound);
        let mut text = String::new();
        let mut client = client;
        let reading = client.read_to_string(&mut text);
        let (read, written) = tokio::join!(reading, writer);
        read.unwrap();
        written.unwrap().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["id"], 7);
        assert_eq!(first["result"]["text"].as_str().unwrap().len(), big.len());
        assert_eq!(lines[1], r#"{"id":"s","result":1}"#);
    }

    #[test]
    fn responses_are_written_before_the_handshake() {
        let state = ConnectionState::default();
        let response = Outgoing::Response {
            response: OutgoingResponse::Error {
                id: None,
                error: RpcError::overloaded(),
            },
            _budget: None,
        };
        assert_eq!(
            encoded(&state, response).as_deref(),
            Some(
                "{\"id\":null,\"error\":{\"code\":-32001,\"message\":\"Server overloaded; retry later.\"}}\n"
            )
        );
    }
}
