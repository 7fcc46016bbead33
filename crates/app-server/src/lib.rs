//! The app-server: serves the Codex app-server protocol v2 to clients.
//!
//! It owns everything that knows about connections: transports, the JSON-RPC framing, the
//! `initialize` and experimental gates, request routing, handlers, and the per-connection
//! outbound queue with its notification filters. The engine lives in `tern-core`.
//!
//! Entry points: build a [`ServerCtx`] once, then serve connections with
//! [`transport::stdio::serve_stdio`] or, for any pair of byte streams, [`serve_connection`].

mod connection;
mod ctx;
mod error;
mod events;
mod fault;
mod handlers;
mod outgoing;
mod router;
pub mod transport;

pub use connection::serve_connection;
pub use ctx::ServerCtx;
pub use transport::lines::MAX_LINE_BYTES;
