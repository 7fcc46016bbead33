//! Routes decoded requests to their handlers.
//!
//! [`dispatch`] matches every [`ClientRequest`] variant with no catch-all arm, so a method added
//! to the protocol table does not compile until it has a handler here. Handlers return typed
//! responses; [`respond`] ties each to its method's response type and serializes it.

use std::sync::Arc;

use serde_json::value::RawValue;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::{InitializeParams, InitializeResponse};
use tern_protocol::{ClientRequest, Method, ServerNotification, client};

use crate::connection::ConnectionState;
use crate::ctx::ServerCtx;
use crate::handlers;
use crate::outgoing::Outbound;

/// Serializes a handler's typed result as the `result` of method `M`.
fn respond<M: Method>(result: Result<M::Response, RpcError>) -> Result<Box<RawValue>, RpcError> {
    serde_json::value::to_raw_value(&result?).map_err(|err| {
        tracing::error!(method = M::NAME, error = %err, "cannot serialize a response");
        RpcError::internal(format!(
            "internal error: cannot serialize the `{}` result",
            M::NAME
        ))
    })
}

/// `initialize`, which the connection runs inline (not in a task of its own) so the requests
/// behind it see the initialized connection.
pub(crate) fn initialize(
    ctx: &ServerCtx,
    state: &ConnectionState,
    params: InitializeParams,
) -> Result<Box<RawValue>, RpcError> {
    respond::<client::Initialize>(handlers::initialize::initialize(ctx, state, params))
}

/// Notifications owed to a connection right after its `initialize` result.
pub(crate) async fn after_initialize(ctx: &ServerCtx, outbound: &Outbound) {
    if let Some(warning) = &ctx.config_warning {
        outbound
            .notify(ServerNotification::ConfigWarning(warning.clone()))
            .await;
    }
}

/// Runs one request (other than the first `initialize`) to completion.
pub(crate) async fn dispatch(
    ctx: Arc<ServerCtx>,
    request: ClientRequest,
) -> Result<Box<RawValue>, RpcError> {
    let _in_flight = ctx.stats.request_started();
    ctx.faults.inject(request.method()).await;
    match request {
        // The connection answers the first `initialize` itself; any that reaches the router
        // arrived on an initialized connection.
        ClientRequest::Initialize(_) => {
            respond::<client::Initialize>(Err::<InitializeResponse, _>(already_initialized()))
        }
        ClientRequest::ServerDiagnostics(params) => respond::<client::ServerDiagnostics>(Ok(
            handlers::diagnostics::server_diagnostics(&ctx, params),
        )),
        ClientRequest::MockExperimentalMethod(params) => respond::<client::MockExperimentalMethod>(
            Ok(handlers::mock::experimental_method(params)),
        ),
    }
}

pub(crate) fn already_initialized() -> RpcError {
    RpcError::invalid_request("Already initialized")
}
