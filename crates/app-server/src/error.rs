//! The JSON-RPC errors the app-server answers with, made in one place so wording and codes stay
//! consistent. Codes and wire messages that clients match on (`Not initialized`, `Already
//! initialized`, the experimental gate) are the reference implementation's.

use tern_core::CoreError;
use tern_protocol::experimental::gate_message;
use tern_protocol::jsonrpc::{RpcError, error_code};

use crate::transport::lines::MAX_LINE_BYTES;

/// A request other than `initialize` before the handshake.
pub(crate) fn not_initialized() -> RpcError {
    RpcError::invalid_request("Not initialized")
}

/// A second `initialize`.
pub(crate) fn already_initialized() -> RpcError {
    RpcError::invalid_request("Already initialized")
}

/// An experimental method, field or variant on a connection that did not opt in.
pub(crate) fn experimental_required(descriptor: &str) -> RpcError {
    RpcError::invalid_request(gate_message(descriptor))
}

/// A line that is not UTF-8 cannot be JSON.
pub(crate) fn not_utf8() -> RpcError {
    RpcError::new(
        error_code::PARSE_ERROR,
        "parse error: line is not valid UTF-8",
    )
}

/// A line over the cap, discarded unread.
pub(crate) fn line_too_long(length: usize) -> RpcError {
    RpcError::invalid_request(format!(
        "message of {length} bytes exceeds the {MAX_LINE_BYTES}-byte line limit"
    ))
}

/// A failure on our side while handling `method`; the cause is logged, not sent.
pub(crate) fn internal(method: &str) -> RpcError {
    RpcError::internal(format!("internal error while handling `{method}`"))
}

/// The answer for a failed thread or turn operation. Wording follows the reference where
/// clients may match on it (`thread not found: <id>`).
#[allow(
    clippy::needless_pass_by_value,
    reason = "called as `.map_err(error::core)`"
)]
pub(crate) fn core(err: CoreError) -> RpcError {
    match &err {
        CoreError::InvalidThreadId { .. }
        | CoreError::ThreadNotFound { .. }
        | CoreError::ThreadNotLoaded { .. }
        | CoreError::TurnNotActive { .. }
        | CoreError::Archived { .. }
        | CoreError::Busy { .. }
        | CoreError::NoActiveTurn { .. }
        | CoreError::TurnMismatch { .. }
        | CoreError::UnknownTurn { .. }
        | CoreError::Unrevertable { .. }
        | CoreError::Ephemeral { .. }
        | CoreError::EmptyCommand => RpcError::invalid_request(err.to_string()),
        CoreError::InvalidCwd { .. }
        | CoreError::Config(_)
        | CoreError::UnknownProvider { .. }
        | CoreError::EmptyInput => RpcError::new(error_code::INVALID_PARAMS, err.to_string()),
        CoreError::Io { .. } => {
            tracing::error!(error = %err, "thread operation failed");
            RpcError::internal(format!("internal error: {err}"))
        }
    }
}
