//! Test support for tern: drive the real `tern` binary over stdio and check what it says.
//!
//! [`TernProcess`] spawns `tern app-server` with an isolated home, sends JSON-RPC, awaits
//! responses and notifications with timeouts, and validates every message the server sends
//! against the reference implementation's schema ([`schema::UpstreamSchema`]).
//!
//! ```no_run
//! use tern_test_support::TernProcess;
//!
//! // In an integration test of the `tern-cli` crate, pass `env!("CARGO_BIN_EXE_tern")`.
//! let mut tern = TernProcess::builder("target/debug/tern").spawn();
//! let result = tern.initialize();
//! assert!(result["userAgent"].as_str().unwrap().starts_with("tern-tests/0.169.0"));
//! ```

pub mod mock_model;
mod process;
pub mod schema;

pub use process::{Builder, DEFAULT_TIMEOUT, Received, TernProcess};
