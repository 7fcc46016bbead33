//! Wire types of the Codex app-server protocol v2, as tern speaks it.
//!
//! This crate has no I/O and no async runtime: it defines what goes over the wire and how it is
//! named, and exports that as JSON Schema and TypeScript.
//!
//! - [`jsonrpc`]: the envelope (request, notification, response, error; request ids; codes).
//! - [`methods`]: the method tables, and the typed [`ClientRequest`] / [`ServerNotification`]
//!   enums generated from them, and the [`ServerRequest`]s the server sends clients.
//! - [`v2`]: params, responses and notification payloads, one module per resource.
//! - [`experimental`]: what needs `capabilities.experimentalApi`, and the gate's wording.
//! - [`export`]: JSON Schema and TypeScript generation.
//!
//! # Example
//!
//! ```
//! use tern_protocol::jsonrpc::IncomingMessage;
//! use tern_protocol::ClientRequest;
//!
//! let line = r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"ide","version":"1"}}}"#;
//! let IncomingMessage::Request { method, params, .. } = IncomingMessage::parse(line).unwrap() else {
//!     unreachable!()
//! };
//! let request = ClientRequest::decode(&method, params.as_deref()).unwrap();
//! assert_eq!(request.method(), "initialize");
//! ```

pub mod experimental;
pub mod export;
pub mod jsonrpc;
pub mod methods;
mod serde_helpers;
pub mod v2;

pub use methods::{
    ClientNotification, ClientRequest, Method, NotificationEnvelope, ServerMethod,
    ServerNotification, ServerRequest, Stability, client, server,
};

/// The version of the reference protocol (Codex CLI) this server is compatible with. Clients
/// read it from `userAgent`; some refuse versions below 0.153.0.
pub const COMPATIBLE_PROTOCOL_VERSION: &str = "0.169.0";
