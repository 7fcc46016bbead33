//! Routes decoded requests to their handlers.
//!
//! [`dispatch`] matches every [`ClientRequest`] variant with no catch-all arm, so a method added
//! to the protocol table does not compile until it has a handler here. Handlers return typed
//! responses; [`respond`] ties each to its method's response type and serializes it.

use std::sync::Arc;

use serde_json::value::RawValue;
use tern_protocol::experimental::ExperimentalApi;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::InitializeParams;
use tern_protocol::{ClientRequest, Method, ServerNotification, client};

use crate::connection::ConnectionState;
use crate::ctx::ServerCtx;
use crate::outgoing::Outbound;
use crate::{error, handlers};

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

/// Notifications owed to a connection right after its `initialize` result.
pub(crate) async fn after_initialize(ctx: &ServerCtx, outbound: &Outbound) {
    if let Some(warning) = &ctx.config_warning {
        outbound
            .notify(ServerNotification::ConfigWarning(warning.clone()))
            .await;
    }
}

/// Runs one request (other than `initialize`) to completion.
pub(crate) async fn dispatch(
    ctx: Arc<ServerCtx>,
    request: ClientRequest,
    experimental_api: bool,
) -> Result<Box<RawValue>, RpcError> {
    let _in_flight = ctx.stats.request_started();
    ctx.faults.inject(request.method()).await;
    match request {
        ClientRequest::Initialize(_) => {
            // The connection runs every `initialize` inline, before dispatching anything.
            tracing::error!("`initialize` reached the router");
            Err(error::internal("initialize"))
        }
        ClientRequest::ServerDiagnostics(params) => respond::<client::ServerDiagnostics>(
            Ok(handlers::diagnostics::server_diagnostics(&ctx, params)),
            experimental_api,
        ),
        ClientRequest::MockExperimentalMethod(params) => respond::<client::MockExperimentalMethod>(
            Ok(handlers::mock::experimental_method(params)),
            experimental_api,
        ),
    }
}
