mod commands;
mod config;
mod errors;
mod experimental;
mod failures;
mod generate;
mod handshake;
mod interop;
mod lifecycle;
mod threads;
mod tools;
mod turns;

use serde_json::Value;
use tern_test_support::{Builder, Received, TernProcess};

/// A builder for the binary under test.
pub(crate) fn tern() -> Builder {
    TernProcess::builder(env!("CARGO_BIN_EXE_tern"))
}

/// The params of every `method` notification among `messages`, in order.
pub(crate) fn notifications<'a>(messages: &'a [Received], method: &str) -> Vec<&'a Value> {
    messages
        .iter()
        .filter_map(|message| match message {
            Received::Notification { method: m, params } if m == method => Some(params),
            _ => None,
        })
        .collect()
}
