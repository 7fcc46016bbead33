//! Routes decoded requests to their handlers.
//!
//! [`dispatch`] matches every [`ClientRequest`] variant with no catch-all arm, so a method added
//! to the protocol table does not compile until it has a handler here. Handlers return typed
//! responses; [`respond`] ties each to its method's response type and serializes it. What must
//! happen only after the answer is on its way (a `thread/started`, a turn's events) travels
//! back as [`After`].

use std::sync::Arc;

use serde_json::value::RawValue;
use tern_core::thread::{AfterResponse, Turns};
use tern_protocol::experimental::ExperimentalApi;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::InitializeParams;
use tern_protocol::{ClientRequest, Method, ServerNotification, client};

use crate::connection::ConnectionState;
use crate::ctx::ServerCtx;
use crate::outgoing::Outbound;
use crate::{error, handlers};

/// Who is asking, for handlers that need more than params.
#[derive(Debug, Clone)]
pub(crate) struct RequestCtx {
    pub(crate) server: Arc<ServerCtx>,
    pub(crate) connection_id: u64,
    pub(crate) outbound: Outbound,
    pub(crate) experimental_api: bool,
    /// `clientInfo.name`: the originator of threads and model requests.
    pub(crate) client_name: String,
    /// The `userAgent` of the handshake, sent to model providers.
    pub(crate) user_agent: String,
}

impl RequestCtx {
    /// Subscribes this connection to a thread's events.
    pub(crate) fn subscribe(&self, thread_id: &str) {
        self.server
            .subscriptions
            .subscribe(thread_id, self.connection_id, &self.outbound);
    }
}

/// What to do once the answer is queued.
#[derive(Debug)]
pub(crate) enum After {
    Nothing,
    /// Let a thread's held events go.
    Release(AfterResponse),
    /// Send notifications to this connection, in order.
    Notify(Vec<ServerNotification>),
}

impl After {
    /// Runs it on `outbound`.
    pub(crate) async fn run(self, outbound: &Outbound) {
        match self {
            Self::Nothing => {}
            Self::Release(gate) => gate.release(),
            Self::Notify(notifications) => {
                for notification in notifications {
                    outbound.notify(notification).await;
                }
            }
        }
    }
}

/// A handler's answer and what follows it.
pub(crate) struct Reply {
    pub(crate) result: Result<Box<RawValue>, RpcError>,
    /// Set instead of `result`'s value for a result written piece by piece.
    pub(crate) stream: Option<tokio::sync::mpsc::Receiver<Vec<u8>>>,
    pub(crate) after: After,
}

/// Serializes a handler's typed result as the `result` of method `M`, without experimental
/// fields unless the connection negotiated them.
fn respond<M: Method>(
    result: Result<M::Response, RpcError>,
    experimental_api: bool,
) -> Result<Box<RawValue>, RpcError> {
    let mut response = result?;
    if !experimental_api {
        response.strip_experimental();
    }
    serde_json::value::to_raw_value(&response).map_err(|err| {
        tracing::error!(method = M::NAME, error = %err, "cannot serialize a response");
        error::internal(M::NAME)
    })
}

/// A reply with nothing after it.
fn reply<M: Method>(result: Result<M::Response, RpcError>, experimental_api: bool) -> Reply {
    Reply {
        result: respond::<M>(result, experimental_api),
        stream: None,
        after: After::Nothing,
    }
}

/// A reply whose handler also returned what follows it.
fn reply_then<M: Method>(
    result: Result<(M::Response, After), RpcError>,
    experimental_api: bool,
) -> Reply {
    match result {
        Ok((response, after)) => Reply {
            result: respond::<M>(Ok(response), experimental_api),
            stream: None,
            after,
        },
        Err(error) => Reply {
            result: Err(error),
            stream: None,
            after: After::Nothing,
        },
    }
}

/// A reply holding a thread whose turns, when given, are written out as they are read.
fn reply_with_turns<M: Method>(
    result: Result<(M::Response, Option<Turns>, After), RpcError>,
    experimental_api: bool,
) -> Reply {
    let (mut response, turns, after) = match result {
        Ok(answer) => answer,
        Err(error) => return reply::<M>(Err(error), experimental_api),
    };
    let Some(turns) = turns else {
        return reply_then::<M>(Ok((response, after)), experimental_api);
    };
    if !experimental_api {
        response.strip_experimental();
    }
    let streamed = serde_json::to_value(&response)
        .map_err(|err| err.to_string())
        .and_then(|response| handlers::thread::stream_with_turns(response, turns));
    match streamed {
        Ok(stream) => Reply {
            result: Ok(RawValue::NULL.to_owned()),
            stream: Some(stream),
            after,
        },
        Err(err) => {
            tracing::error!(method = M::NAME, error = %err, "cannot serialize a response");
            reply::<M>(Err(error::internal(M::NAME)), experimental_api)
        }
    }
}

/// `initialize`, which the connection runs inline (not in a task of its own) so the requests
/// behind it see the initialized connection.
pub(crate) fn initialize(
    ctx: &ServerCtx,
    state: &ConnectionState,
    params: InitializeParams,
) -> Result<Box<RawValue>, RpcError> {
    let result = handlers::initialize::initialize(ctx, state, params);
    let experimental_api = state.session().is_some_and(|s| s.experimental_api);
    respond::<client::Initialize>(result, experimental_api)
}

/// What follows a connection's `initialize` result: the thread index build starts (after the
/// first handshake, so it never delays one), and any config warning goes out.
pub(crate) async fn after_initialize(ctx: &ServerCtx, outbound: &Outbound) {
    ctx.threads.start_indexing();
    if let Some(warning) = &ctx.config_warning {
        outbound
            .notify(ServerNotification::ConfigWarning(warning.clone()))
            .await;
    }
}

/// Runs one request (other than `initialize`) to completion.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per method, a table more than a function"
)]
pub(crate) async fn dispatch(req: RequestCtx, request: ClientRequest) -> Reply {
    let _in_flight = req.server.stats.request_started();
    req.server.faults.inject(request.method()).await;
    let experimental = req.experimental_api;
    match request {
        ClientRequest::Initialize(_) => {
            // The connection runs every `initialize` inline, before dispatching anything.
            tracing::error!("`initialize` reached the router");
            reply::<client::Initialize>(Err(error::internal("initialize")), experimental)
        }
        ClientRequest::ThreadStart(params) => reply_then::<client::ThreadStart>(
            handlers::thread::thread_start(&req, params),
            experimental,
        ),
        ClientRequest::ThreadResume(params) => reply_with_turns::<client::ThreadResume>(
            handlers::thread::thread_resume(&req, params).await,
            experimental,
        ),
        ClientRequest::ThreadFork(params) => reply_then::<client::ThreadFork>(
            handlers::thread::thread_fork(&req, params)
                .await
                .map(|(response, after)| (response, After::Notify(after))),
            experimental,
        ),
        ClientRequest::ThreadCompactStart(params) => reply_then::<client::ThreadCompactStart>(
            handlers::turn::thread_compact_start(&req, params)
                .await
                .map(|(response, gate)| (response, After::Release(gate))),
            experimental,
        ),
        ClientRequest::ThreadRevert(params) => reply_then::<client::ThreadRevert>(
            handlers::thread::thread_revert(&req, params)
                .await
                .map(|(response, reverted)| (response, After::Notify(vec![reverted]))),
            experimental,
        ),
        ClientRequest::ThreadSetName(params) => reply_then::<client::ThreadSetName>(
            handlers::thread::thread_set_name(&req, params)
                .await
                .map(|(response, updated)| (response, After::Notify(vec![updated]))),
            experimental,
        ),
        ClientRequest::ThreadArchive(params) => reply_then::<client::ThreadArchive>(
            handlers::thread::thread_archive(&req, params)
                .await
                .map(|(response, archived)| (response, After::Notify(vec![archived]))),
            experimental,
        ),
        ClientRequest::ThreadUnarchive(params) => reply_then::<client::ThreadUnarchive>(
            handlers::thread::thread_unarchive(&req, params)
                .await
                .map(|(response, unarchived)| (response, After::Notify(vec![unarchived]))),
            experimental,
        ),
        ClientRequest::ThreadUnsubscribe(params) => reply::<client::ThreadUnsubscribe>(
            Ok(handlers::thread::thread_unsubscribe(&req, &params)),
            experimental,
        ),
        ClientRequest::TurnSteer(params) => {
            reply::<client::TurnSteer>(handlers::turn::turn_steer(&req, params).await, experimental)
        }
        ClientRequest::ThreadRead(params) => reply_with_turns::<client::ThreadRead>(
            handlers::thread::thread_read(&req, params)
                .await
                .map(|(response, turns)| (response, turns, After::Nothing)),
            experimental,
        ),
        ClientRequest::CommandExec(params) => reply::<client::CommandExec>(
            handlers::command::command_exec(&req, params).await,
            experimental,
        ),
        ClientRequest::CommandExecWrite(params) => reply::<client::CommandExecWrite>(
            handlers::command::command_exec_write(&req, params).await,
            experimental,
        ),
        ClientRequest::CommandExecTerminate(params) => reply::<client::CommandExecTerminate>(
            handlers::command::command_exec_terminate(&req, &params),
            experimental,
        ),
        ClientRequest::CommandExecResize(params) => reply::<client::CommandExecResize>(
            handlers::command::command_exec_resize(&req, &params),
            experimental,
        ),
        ClientRequest::ThreadList(params) => reply::<client::ThreadList>(
            handlers::thread::thread_list(&req, params).await,
            experimental,
        ),
        ClientRequest::ThreadLoadedList(params) => reply::<client::ThreadLoadedList>(
            Ok(handlers::thread::thread_loaded_list(&req, &params)),
            experimental,
        ),
        ClientRequest::TurnStart(params) => {
            let result = handlers::turn::turn_start(&req, params)
                .await
                .map(|(response, gate)| (response, After::Release(gate)));
            reply_then::<client::TurnStart>(result, experimental)
        }
        ClientRequest::TurnInterrupt(params) => {
            let result = handlers::turn::turn_interrupt(&req, params)
                .await
                .map(|(response, gate)| (response, After::Release(gate)));
            reply_then::<client::TurnInterrupt>(result, experimental)
        }
        ClientRequest::ThreadShellCommand(params) => reply_then::<client::ThreadShellCommand>(
            handlers::turn::thread_shell_command(&req, params)
                .await
                .map(|(response, gate)| (response, After::Release(gate))),
            experimental,
        ),
        ClientRequest::ServerDiagnostics(params) => reply::<client::ServerDiagnostics>(
            Ok(handlers::diagnostics::server_diagnostics(
                &req.server,
                params,
            )),
            experimental,
        ),
        ClientRequest::MockExperimentalMethod(params) => reply::<client::MockExperimentalMethod>(
            Ok(handlers::mock::experimental_method(params)),
            experimental,
        ),
    }
}
