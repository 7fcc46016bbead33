//! Process lifecycle: end of input, signals, and what goes to stdout versus stderr.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tern_test_support::Received;

use super::tern;

#[test]
fn end_of_input_answers_everything_queued_then_exits_zero() {
    let mut tern = tern().spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let ids: Vec<i64> = (0..50)
        .map(|n| tern.request("mock/experimentalMethod", json!({"value": n.to_string()})))
        .collect();
    tern.close_stdin();
    let status = tern.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    let answered: Vec<_> = tern
        .remaining_messages()
        .into_iter()
        .map(|message| match message {
            Received::Result { id, result } => (id, result),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<_> = ids
        .iter()
        .zip(0..)
        .map(|(id, n)| (json!(id), json!({"echoed": n.to_string()})))
        .collect();
    let mut answered_sorted = answered.clone();
    answered_sorted.sort_by_key(|(id, _)| id.as_i64());
    assert_eq!(answered_sorted, expected);
}

fn kill(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn exits_zero_on(signal: &str) {
    let mut tern = tern().spawn();
    tern.initialize();
    kill(tern.pid(), signal);
    let status = tern.wait_exit(Duration::from_secs(3));
    assert_eq!(
        status.code(),
        Some(0),
        "exit after SIG{signal}; stderr:\n{}",
        tern.stderr()
    );
}

#[test]
fn a_signal_does_not_wait_for_a_hung_request_beyond_the_grace_period() {
    let mut tern = tern()
        .env("TERN_DEBUG_FAULT", "server/diagnostics=sleep:600000")
        .spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    tern.request("server/diagnostics", json!({}));
    // Let the request start, then ask the server to stop: it gives up after its 2 s grace.
    std::thread::sleep(Duration::from_millis(200));
    kill(tern.pid(), "TERM");
    let status = tern.wait_exit(Duration::from_secs(8));
    assert_eq!(status.code(), Some(0), "stderr:\n{}", tern.stderr());
}

#[test]
fn end_of_input_lets_a_slow_in_flight_request_answer() {
    let mut tern = tern()
        .env("TERN_DEBUG_FAULT", "server/diagnostics=sleep:500")
        .spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let id = tern.request("server/diagnostics", json!({}));
    tern.close_stdin();
    assert_eq!(tern.wait_exit(Duration::from_secs(5)).code(), Some(0));
    let answers = tern.remaining_messages();
    assert!(
        matches!(&answers[..], [Received::Result { id: answered, .. }] if *answered == json!(id)),
        "{answers:?}"
    );
}

#[test]
fn sigterm_exits_zero_promptly() {
    exits_zero_on("TERM");
}

#[test]
fn sigint_exits_zero_promptly() {
    exits_zero_on("INT");
}

#[test]
fn logs_go_to_stderr_as_json_when_asked() {
    // The harness validates that every stdout line is a protocol message; here we check stderr.
    let mut tern = tern()
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .spawn();
    tern.initialize();
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));
    let stderr = tern.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(!lines.is_empty(), "an info log line is expected");
    for line in lines {
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("stderr line is not JSON ({err}): {line}"));
        assert!(entry.get("level").is_some(), "{line}");
    }
}
