//! End-to-end tests: the real `tern` binary, spawned per test with its own `TERN_HOME`, driven
//! over stdio through `tern-test-support`, every server message validated against the upstream
//! schema.

// Helpers outside `#[test]` functions fail the test the same way an assertion does.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// `tern` (the server under test) and `turn` read differently enough.
#![allow(clippy::similar_names)]

mod suite;
