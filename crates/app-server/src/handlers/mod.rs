//! Request handlers, one module per resource (mirroring `tern_protocol::v2`).
//!
//! A handler converts wire params into what it needs, does the work, and returns the typed
//! response or an [`RpcError`](tern_protocol::jsonrpc::RpcError).

pub(crate) mod command;
pub(crate) mod diagnostics;
pub(crate) mod initialize;
pub(crate) mod mock;
pub(crate) mod thread;
pub(crate) mod turn;
