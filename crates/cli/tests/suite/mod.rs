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

use tern_test_support::{Builder, TernProcess};

/// A builder for the binary under test.
pub(crate) fn tern() -> Builder {
    TernProcess::builder(env!("CARGO_BIN_EXE_tern"))
}
