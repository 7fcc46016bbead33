//! One client connection: reading, the handshake and experimental gates, dispatch, writing.
//!
//! Three stages joined by bounded queues:
//!
//! ```text
//! reader ──inbound (INBOUND_CAPACITY)──▶ processor ──spawn, ≤ MAX_IN_FLIGHT──▶ handler tasks
//!   │                                       │                                     │
//!   └──────────── errors, -32001 ───────────┴──────── outbound (1024) ◀───────────┘──▶ writer
//! ```
//!
//! - The reader frames lines, parses the envelope, and answers malformed input itself. When the
//!   inbound queue is full it answers a request with `-32001` instead of queueing it.
//! - The processor decodes each request, applies the gates in arrival order (so a request
//!   pipelined right behind `initialize` sees the initialized connection), handles `initialize`
//!   inline, and spawns every other request as its own task: a slow request never blocks a fast
//!   one, and a panic in one becomes a `-32603` answer for that request alone.
//! - The writer (see [`crate::outgoing`]) writes queued messages in order.
//!
//! Shutdown (end of input or a signal): the reader stops, the processor lets in-flight requests
//! finish for up to [`SHUTDOWN_GRACE`], and the writer flushes everything queued before it
//! returns.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tern_protocol::experimental::gate_message;
use tern_protocol::jsonrpc::{IncomingMessage, RequestId, RpcError, error_code};
use tern_protocol::v2::ClientInfo;
use tern_protocol::{ClientNotification, ClientRequest};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::ctx::ServerCtx;
use crate::outgoing::{Outbound, write_loop};
use crate::router;
use crate::transport::lines::{Frame, LineReader, MAX_LINE_BYTES};

/// Decoded messages waiting for the processor.
pub(crate) const INBOUND_CAPACITY: usize = 256;
/// Requests of one connection running at once.
pub(crate) const MAX_IN_FLIGHT: usize = 64;
/// How long in-flight requests may run on after input ends or a signal arrives.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the handshake negotiated.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Becomes the `originator` of the threads this connection starts (threads land next).
    #[allow(dead_code)]
    pub(crate) client_info: ClientInfo,
    pub(crate) experimental_api: bool,
    pub(crate) opt_out_notification_methods: HashSet<String>,
    /// Kept for `attestation/generate`, which a later issue brings.
    #[allow(dead_code)]
    pub(crate) request_attestation: bool,
}

impl Session {
    pub(crate) fn opts_out_of(&self, method: &str) -> bool {
        self.opt_out_notification_methods.contains(method)
    }
}

/// Per-connection state shared by the processor, handlers and writer.
#[derive(Debug, Default)]
pub(crate) struct ConnectionState {
    session: OnceLock<Session>,
}

impl ConnectionState {
    /// The negotiated session; `None` before `initialize`.
    pub(crate) fn session(&self) -> Option<&Session> {
        self.session.get()
    }

    /// Records the handshake; `false` if the connection was already initialized.
    pub(crate) fn initialize(&self, session: Session) -> bool {
        self.session.set(session).is_ok()
    }
}

/// A request ready for the processor.
struct InboundRequest {
    id: RequestId,
    method: String,
    params: Option<Box<serde_json::value::RawValue>>,
}

enum Inbound {
    Request(InboundRequest),
    /// A line that could not be read as a message: answered in arrival order like the rest.
    Invalid {
        id: Option<RequestId>,
        error: RpcError,
    },
    Notification(String),
    /// The client answered a server-initiated request.
    Response(RequestId),
}

/// Serves one connection until its input ends or `shutdown` resolves, then drains it.
pub async fn serve_connection<R, W>(
    reader: R,
    writer: W,
    ctx: Arc<ServerCtx>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(ConnectionState::default());
    let (outbound, outbound_rx) = Outbound::channel();
    let writer = tokio::spawn(write_loop(outbound_rx, writer, Arc::clone(&state)));
    let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_CAPACITY);
    let processor = tokio::spawn(process_loop(
        inbound_rx,
        Arc::clone(&ctx),
        Arc::clone(&state),
        outbound.clone(),
    ));

    tokio::select! {
        result = read_loop(reader, inbound_tx, outbound) => {
            if let Err(err) = result {
                tracing::warn!(error = %err, "reading from the client failed; closing the connection");
            }
        }
        () = shutdown => tracing::info!("shutting down the connection"),
    }
    // The read loop's senders are gone now; the processor drains what was queued, waits for its
    // in-flight requests and drops its outbound handles, and the writer ends after flushing.
    if let Err(err) = processor.await {
        tracing::error!(error = %err, "request processor failed");
    }
    match writer.await {
        Ok(result) => result,
        Err(err) => Err(io::Error::other(err)),
    }
}

/// Frames and parses input, queueing messages for the processor.
async fn read_loop<R: AsyncRead + Unpin>(
    reader: R,
    inbound: mpsc::Sender<Inbound>,
    outbound: Outbound,
) -> io::Result<()> {
    let mut lines = LineReader::new(BufReader::with_capacity(64 * 1024, reader), MAX_LINE_BYTES);
    while let Some(frame) = lines.next_frame().await? {
        let inbound_message = match frame {
            Frame::Line(line) => match IncomingMessage::parse(&line) {
                Ok(IncomingMessage::Request { id, method, params }) => {
                    Inbound::Request(InboundRequest { id, method, params })
                }
                Ok(IncomingMessage::Notification { method, .. }) => Inbound::Notification(method),
                Ok(IncomingMessage::Response { id, .. } | IncomingMessage::Error { id, .. }) => {
                    Inbound::Response(id)
                }
                Err(invalid) => Inbound::Invalid {
                    id: invalid.id,
                    error: invalid.error,
                },
            },
            Frame::NotUtf8 => Inbound::Invalid {
                id: None,
                error: RpcError::new(
                    error_code::PARSE_ERROR,
                    "parse error: line is not valid UTF-8",
                ),
            },
            Frame::TooLong(length) => Inbound::Invalid {
                id: None,
                error: RpcError::invalid_request(format!(
                    "message of {length} bytes exceeds the {MAX_LINE_BYTES}-byte line limit"
                )),
            },
        };
        match inbound.try_send(inbound_message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(Inbound::Request(request))) => {
                tracing::debug!(method = %request.method, "processing queue full; rejecting request");
                outbound
                    .respond(request.id, Err(RpcError::overloaded()))
                    .await;
            }
            // Notifications and responses are never refused: wait for room.
            Err(mpsc::error::TrySendError::Full(other)) => {
                if inbound.send(other).await.is_err() {
                    break;
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => break,
        }
    }
    Ok(())
}

/// Decodes, gates and dispatches queued messages; returns once input is over and in-flight
/// requests are done (or the grace period ran out).
async fn process_loop(
    mut inbound: mpsc::Receiver<Inbound>,
    ctx: Arc<ServerCtx>,
    state: Arc<ConnectionState>,
    outbound: Outbound,
) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut in_flight = JoinSet::new();
    loop {
        // Reap finished requests so the set does not grow.
        while in_flight.try_join_next().is_some() {}
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let Some(message) = inbound.recv().await else {
            break;
        };
        let request = match message {
            Inbound::Request(request) => request,
            Inbound::Invalid { id, error } => {
                tracing::debug!(code = error.code, message = %error.message, "rejected a malformed message");
                outbound.error(id, error).await;
                continue;
            }
            Inbound::Notification(method) => {
                match ClientNotification::decode(&method) {
                    Some(ClientNotification::Initialized) => tracing::debug!("client initialized"),
                    None => tracing::debug!(%method, "ignoring unknown notification"),
                }
                continue;
            }
            Inbound::Response(id) => {
                // No server-initiated requests exist yet, so every answer is to an unknown id.
                tracing::debug!(%id, "ignoring a response to an unknown request id");
                continue;
            }
        };
        let InboundRequest { id, method, params } = request;
        let decoded = match ClientRequest::decode(&method, params.as_deref()) {
            Ok(decoded) => decoded,
            Err(err) => {
                tracing::debug!(%method, error = %err, "rejected a request");
                outbound.respond(id, Err(err.into())).await;
                continue;
            }
        };
        if let ClientRequest::Initialize(params) = decoded {
            let result = router::initialize(&ctx, &state, params);
            let answered_ok = result.is_ok();
            outbound.respond(id, result).await;
            if answered_ok {
                router::after_initialize(&ctx, &outbound).await;
            }
            continue;
        }
        if let Err(error) = check_gates(&state, &decoded) {
            outbound.respond(id, Err(error)).await;
            continue;
        }
        let (ctx, outbound) = (Arc::clone(&ctx), outbound.clone());
        in_flight.spawn(async move {
            let _permit = permit;
            let result = run_isolated(&ctx, decoded).await;
            outbound.respond(id, result).await;
        });
    }
    drop(outbound);
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while in_flight.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!(
            pending = in_flight.len(),
            "in-flight requests did not finish within the shutdown grace period; abandoning them"
        );
        in_flight.shutdown().await;
    }
}

/// The handshake gate, then the experimental gate.
fn check_gates(state: &ConnectionState, request: &ClientRequest) -> Result<(), RpcError> {
    let Some(session) = state.session() else {
        return Err(RpcError::invalid_request("Not initialized"));
    };
    if !session.experimental_api {
        if let Some(descriptor) = request.experimental_reason() {
            return Err(RpcError::invalid_request(gate_message(descriptor)));
        }
    }
    Ok(())
}

/// Runs a request in a task of its own, so that a panic in its handler is answered with
/// `-32603` and takes nothing else down.
async fn run_isolated(
    ctx: &Arc<ServerCtx>,
    request: ClientRequest,
) -> Result<Box<serde_json::value::RawValue>, RpcError> {
    let method = request.method();
    let task = tokio::spawn(router::dispatch(Arc::clone(ctx), request));
    match task.await {
        Ok(result) => result,
        Err(err) => {
            tracing::error!(%method, error = %err, "request handler panicked");
            Err(RpcError::internal(format!(
                "internal error while handling `{method}`"
            )))
        }
    }
}
