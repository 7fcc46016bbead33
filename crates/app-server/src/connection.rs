//! One client connection: reading, the handshake and experimental gates, dispatch, writing.
//!
//! Three stages joined by bounded queues:
//!
//! ```text
//! reader ──inbound (INBOUND_CAPACITY)──▶ processor ──spawn, ≤ MAX_IN_FLIGHT──▶ handler tasks
//!                                            │                                     │
//!                                            └──────── outbound (1024) ◀───────────┘──▶ writer
//! ```
//!
//! - The reader frames lines and parses the envelope. When the processing queue is full, or the
//!   connection's input byte budget is spent, it answers a request with `-32001` instead of
//!   queueing it.
//! - The processor answers malformed input, decodes each request and applies the gates in
//!   arrival order (so a request pipelined right behind `initialize` sees the initialized
//!   connection), handles `initialize` inline, and spawns every other request as its own task:
//!   a slow request never blocks a fast one, and a panic in one becomes a `-32603` answer for
//!   that request alone.
//! - The writer (see [`crate::outgoing`]) writes queued messages in order.
//!
//! Memory is bounded twice: by message counts (the queues, the in-flight limit) and by bytes —
//! each request holds its size from [`INPUT_BUDGET_BYTES`] until its answer is written.
//!
//! Shutdown: at end of input, queued requests still run; on a signal they are dropped. Either
//! way, in-flight requests and the final flush get [`SHUTDOWN_GRACE`] in total, and whatever is
//! left after that is abandoned.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::value::RawValue;
use tern_core::thread::ClientError;
use tern_protocol::jsonrpc::{IncomingMessage, RequestId, RpcError};
use tern_protocol::v2::InitializeCapabilities;
use tern_protocol::{ClientNotification, ClientRequest};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use crate::ctx::ServerCtx;
use crate::error;
use crate::outgoing::{Outbound, write_loop};
use crate::router::{self, After, Reply, RequestCtx};
use crate::transport::lines::{Frame, LineReader, MAX_LINE_BYTES};

/// Decoded messages waiting for the processor.
pub(crate) const INBOUND_CAPACITY: usize = 256;
/// Requests of one connection running at once.
pub(crate) const MAX_IN_FLIGHT: usize = 64;
/// Bytes of request text one connection may hold at once, from reading a request until its
/// answer is written: twice the line cap, so two maximal messages still fit.
pub(crate) const INPUT_BUDGET_BYTES: usize = 2 * MAX_LINE_BYTES;
/// How long in-flight requests and the final flush may take after input ends or a signal.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the handshake negotiated.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// `clientInfo.name`.
    pub(crate) client_name: String,
    /// The `userAgent` answered to `initialize`.
    pub(crate) user_agent: String,
    pub(crate) experimental_api: bool,
    pub(crate) opt_out_notification_methods: HashSet<String>,
    /// Whether the client answers `attestation/generate`; read once attestation lands.
    #[allow(dead_code)]
    pub(crate) request_attestation: bool,
}

impl Session {
    pub(crate) fn new(
        client_name: String,
        user_agent: String,
        capabilities: InitializeCapabilities,
    ) -> Self {
        Self {
            client_name,
            user_agent,
            experimental_api: capabilities.experimental_api,
            opt_out_notification_methods: capabilities
                .opt_out_notification_methods
                .unwrap_or_default()
                .into_iter()
                .collect(),
            request_attestation: capabilities.request_attestation,
        }
    }

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

/// A request on its way to the processor.
struct InboundRequest {
    id: RequestId,
    method: String,
    params: Option<Box<RawValue>>,
    /// This request's share of [`INPUT_BUDGET_BYTES`].
    budget: OwnedSemaphorePermit,
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
    Response {
        id: RequestId,
        answer: Result<Box<RawValue>, RpcError>,
    },
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
    static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(0);
    let connection_id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let state = Arc::new(ConnectionState::default());
    let (outbound, outbound_rx) = Outbound::channel();
    let mut writer = tokio::spawn(write_loop(outbound_rx, writer, Arc::clone(&state)));
    let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_CAPACITY);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut processor = tokio::spawn(
        Processor {
            ctx,
            state,
            outbound: outbound.clone(),
            connection_id,
            stop: stop_rx,
        }
        .run(inbound_rx),
    );

    tokio::select! {
        result = read_loop(reader, inbound_tx, outbound) => match result {
            Ok(()) => tracing::debug!(connection_id, "input ended"),
            Err(err) => tracing::warn!(connection_id, error = %err, "reading from the client failed"),
        },
        () = shutdown => {
            tracing::info!(connection_id, "shutting down; dropping queued requests");
            let _ = stop_tx.send(true);
        }
    }
    // The reader's handles are gone: the processor ends once the queue is drained and its
    // requests are done, and the writer once every outbound handle is dropped and flushed.
    let drain = async {
        if let Err(err) = (&mut processor).await {
            tracing::error!(connection_id, error = %err, "request processor failed");
        }
        (&mut writer).await.map_err(io::Error::other)?
    };
    if let Ok(result) = tokio::time::timeout(SHUTDOWN_GRACE, drain).await {
        result
    } else {
        tracing::warn!(
            connection_id,
            "requests or output still pending after the shutdown grace period; abandoning them"
        );
        processor.abort();
        writer.abort();
        Ok(())
    }
}

/// Frames and parses input, queueing messages for the processor.
async fn read_loop<R: AsyncRead + Unpin>(
    reader: R,
    inbound: mpsc::Sender<Inbound>,
    outbound: Outbound,
) -> io::Result<()> {
    let budget = Arc::new(Semaphore::new(INPUT_BUDGET_BYTES));
    let mut lines = LineReader::new(BufReader::with_capacity(64 * 1024, reader), MAX_LINE_BYTES);
    while let Some(frame) = lines.next_frame().await? {
        let message = match frame {
            Frame::Line(line) => match IncomingMessage::parse(&line) {
                Ok(IncomingMessage::Request { id, method, params }) => {
                    let Some(budget) = reserve(&budget, line.len()) else {
                        tracing::debug!(%method, "input budget spent; rejecting request");
                        outbound
                            .respond(id, Err(RpcError::overloaded()), None)
                            .await;
                        continue;
                    };
                    Inbound::Request(InboundRequest {
                        id,
                        method,
                        params,
                        budget,
                    })
                }
                Ok(IncomingMessage::Notification { method, .. }) => Inbound::Notification(method),
                Ok(IncomingMessage::Response { id, result }) => Inbound::Response {
                    id,
                    answer: Ok(result),
                },
                Ok(IncomingMessage::Error { id, error }) => Inbound::Response {
                    id,
                    answer: Err(error),
                },
                Err(invalid) => Inbound::Invalid {
                    id: invalid.id,
                    error: invalid.error,
                },
            },
            Frame::NotUtf8 => Inbound::Invalid {
                id: None,
                error: error::not_utf8(),
            },
            Frame::TooLong(length) => Inbound::Invalid {
                id: None,
                error: error::line_too_long(length),
            },
        };
        match inbound.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(Inbound::Request(request))) => {
                tracing::debug!(method = %request.method, "processing queue full; rejecting request");
                outbound
                    .respond(request.id, Err(RpcError::overloaded()), None)
                    .await;
            }
            // Everything else is never refused: wait for room.
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

/// Takes `bytes` (at most the whole budget) from the budget, or `None` when it is spent.
fn reserve(budget: &Arc<Semaphore>, bytes: usize) -> Option<OwnedSemaphorePermit> {
    let bytes = u32::try_from(bytes.clamp(1, INPUT_BUDGET_BYTES)).unwrap_or(u32::MAX);
    Arc::clone(budget).try_acquire_many_owned(bytes).ok()
}

/// Decodes, gates and dispatches the messages of one connection.
struct Processor {
    ctx: Arc<ServerCtx>,
    state: Arc<ConnectionState>,
    outbound: Outbound,
    connection_id: u64,
    /// Set on a shutdown signal: queued requests are dropped rather than started.
    stop: watch::Receiver<bool>,
}

impl Processor {
    /// Runs until input is over and every started request has answered.
    async fn run(self, mut inbound: mpsc::Receiver<Inbound>) {
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut in_flight = JoinSet::new();
        while let Some(message) = inbound.recv().await {
            // Reap finished requests so the set does not grow.
            while in_flight.try_join_next().is_some() {}
            match message {
                Inbound::Request(request) => {
                    if *self.stop.borrow() {
                        tracing::debug!(method = %request.method, "shutting down; dropping queued request");
                        continue;
                    }
                    self.request(request, &permits, &mut in_flight).await;
                }
                Inbound::Invalid { id, error } => {
                    tracing::debug!(code = error.code, message = %error.message, "rejected a malformed message");
                    self.outbound.error(id, error).await;
                }
                Inbound::Notification(method) => match ClientNotification::decode(&method) {
                    Some(ClientNotification::Initialized) => tracing::debug!("client initialized"),
                    None => tracing::debug!(%method, "ignoring unknown notification"),
                },
                Inbound::Response { id, answer } => self.answer(&id, answer),
            }
        }
        // Commands die with their connection (their requests then answer into the void).
        self.ctx.commands.close_connection(self.connection_id);
        drop(self.outbound);
        while in_flight.join_next().await.is_some() {}
    }

    /// Hands the client's answer to the turn that asked; answers to requests that are not
    /// pending (unknown, answered, or their turn ended) are ignored.
    fn answer(&self, id: &RequestId, answer: Result<Box<RawValue>, RpcError>) {
        let pending = match id {
            RequestId::Integer(id) => self.outbound.requests().take(*id),
            RequestId::String(_) => None,
        };
        let Some((thread_id, key)) = pending else {
            tracing::debug!(%id, "ignoring a response to an unknown request id");
            return;
        };
        let answer = match answer {
            Ok(result) => serde_json::from_str(result.get()).map_err(|err| ClientError {
                code: -32700,
                message: err.to_string(),
            }),
            Err(error) => Err(ClientError {
                code: error.code,
                message: error.message,
            }),
        };
        if !self.ctx.threads.answer(key, answer) {
            tracing::debug!(%id, %thread_id, "the request was resolved already; ignoring the answer");
        }
    }

    /// Decodes and gates one request, then runs it inline (`initialize`) or in its own task.
    async fn request(
        &self,
        request: InboundRequest,
        permits: &Arc<Semaphore>,
        in_flight: &mut JoinSet<()>,
    ) {
        let InboundRequest {
            id,
            method,
            params,
            budget,
        } = request;
        let decoded = match ClientRequest::decode(&method, params.as_deref()) {
            Ok(decoded) => decoded,
            Err(err) => {
                tracing::debug!(%method, error = %err, "rejected a request");
                self.outbound
                    .respond(id, Err(err.into()), Some(budget))
                    .await;
                return;
            }
        };
        if let ClientRequest::Initialize(params) = decoded {
            let result = router::initialize(&self.ctx, &self.state, params);
            let initialized = result.is_ok();
            self.outbound.respond(id, result, Some(budget)).await;
            if initialized {
                router::after_initialize(&self.ctx, &self.outbound).await;
            }
            return;
        }
        let session = match self.check_gates(&decoded) {
            Ok(session) => session,
            Err(error) => {
                self.outbound.respond(id, Err(error), Some(budget)).await;
                return;
            }
        };
        let req = RequestCtx {
            server: Arc::clone(&self.ctx),
            connection_id: self.connection_id,
            outbound: self.outbound.clone(),
            experimental_api: session.experimental_api,
            client_name: session.client_name.clone(),
            user_agent: session.user_agent.clone(),
        };
        // Waiting here is the backpressure: the inbound queue fills behind us.
        let Ok(permit) = Arc::clone(permits).acquire_owned().await else {
            return;
        };
        let span = tracing::debug_span!(
            "request",
            connection_id = self.connection_id,
            request_id = %id,
            method = decoded.method(),
        );
        let outbound = self.outbound.clone();
        in_flight.spawn(
            async move {
                let _permit = permit;
                let reply = run_isolated(req, decoded).await;
                match reply.stream {
                    Some(chunks) if reply.result.is_ok() => {
                        outbound.respond_streamed(id, chunks, Some(budget)).await;
                    }
                    _ => outbound.respond(id, reply.result, Some(budget)).await,
                }
                reply.after.run(&outbound).await;
            }
            .instrument(span),
        );
    }

    /// The handshake gate, then the experimental gate; returns the session.
    fn check_gates(&self, request: &ClientRequest) -> Result<&Session, RpcError> {
        let Some(session) = self.state.session() else {
            return Err(error::not_initialized());
        };
        if !session.experimental_api {
            if let Some(descriptor) = request.experimental_reason() {
                return Err(error::experimental_required(descriptor));
            }
        }
        Ok(session)
    }
}

/// Runs a request's handler in a task of its own, so that a panic there is answered with
/// `-32603` and takes nothing else down. Aborting the caller aborts the handler too.
async fn run_isolated(req: RequestCtx, request: ClientRequest) -> Reply {
    let method = request.method();
    let mut task = AbortOnDrop(tokio::spawn(
        router::dispatch(req, request).in_current_span(),
    ));
    match (&mut task.0).await {
        Ok(reply) => reply,
        Err(err) => {
            tracing::error!(%method, error = %err, "request handler panicked");
            Reply {
                result: Err(error::internal(method)),
                stream: None,
                after: After::Nothing,
            }
        }
    }
}

/// Aborts the task when dropped, so an abandoned request does not keep running detached.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
