//! Every kind of bad input gets a precise JSON-RPC error, and the connection keeps serving.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tern_test_support::TernProcess;

use super::tern;

/// After each bad input, a good request still gets its answer.
fn assert_still_serving(tern: &mut TernProcess) {
    let id = tern.request("mock/experimentalMethod", json!({"value": "alive"}));
    assert_eq!(tern.result(id), json!({"echoed": "alive"}));
}

fn initialized() -> TernProcess {
    let mut tern = tern().spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    tern
}

#[test]
fn invalid_json_is_a_parse_error_with_a_null_id() {
    let mut tern = initialized();
    for line in ["not json", r#"{"id":1,"method":"#, "[1,", "\u{1F600}"] {
        tern.send_line(line);
        let error = tern.error(Value::Null);
        assert_eq!(error["code"], -32700, "{line}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with("parse error: "),
            "{error}"
        );
        assert_still_serving(&mut tern);
    }
}

#[test]
fn a_line_that_is_not_utf8_is_a_parse_error() {
    let mut tern = initialized();
    tern.send_raw(b"{\"id\":1,\"method\":\"\xff\xfe\"}\n");
    assert_eq!(
        tern.error(Value::Null),
        json!({"code": -32700, "message": "parse error: line is not valid UTF-8"})
    );
    assert_still_serving(&mut tern);
}

#[test]
fn json_that_is_not_a_message_is_an_invalid_request() {
    let mut tern = initialized();
    let cases = [
        ("[1,2,3]", Value::Null),
        (r#"[1,"mock/experimentalMethod"]"#, Value::Null),
        ("42", Value::Null),
        (r#"{"id":9}"#, json!(9)),
        (r#"{"id":"x","method":5}"#, json!("x")),
        (
            r#"{"id":13.5,"method":"mock/experimentalMethod"}"#,
            Value::Null,
        ),
        (
            r#"{"id":null,"method":"mock/experimentalMethod"}"#,
            Value::Null,
        ),
        (
            r#"{"id":true,"method":"mock/experimentalMethod"}"#,
            Value::Null,
        ),
    ];
    for (line, id) in cases {
        tern.send_line(line);
        let error = tern.error(id);
        assert_eq!(error["code"], -32600, "{line}: {error}");
        assert_still_serving(&mut tern);
    }
}

#[test]
fn unknown_methods_are_named() {
    let mut tern = initialized();
    let id = tern.request("no/such/method", json!({}));
    assert_eq!(
        tern.error(id),
        json!({"code": -32601, "message": "method not found: `no/such/method`"})
    );
    assert_still_serving(&mut tern);
}

#[test]
fn bad_params_name_the_field_path_and_the_expectation() {
    let mut tern = initialized();
    let id = tern.request("mock/experimentalMethod", json!({"value": 42}));
    assert_eq!(
        tern.error(id),
        json!({
            "code": -32602,
            "message": "invalid params for `mock/experimentalMethod`: `value`: invalid type: integer `42`, expected a string",
            "data": {"path": "value"},
        })
    );
    assert_still_serving(&mut tern);

    let id = tern.request("initialize", json!({"clientInfo": {"name": "x"}}));
    let error = tern.error(id);
    assert_eq!(error["code"], -32602);
    assert_eq!(error["data"], json!({"path": "clientInfo.version"}));
    assert_eq!(
        error["message"],
        "invalid params for `initialize`: missing field `clientInfo.version`"
    );
    let id = tern.request("mock/experimentalMethod", json!(["positional"]));
    assert_eq!(tern.error(id)["code"], -32602);
    assert_still_serving(&mut tern);
}

#[test]
fn a_panicking_handler_answers_internal_error_and_the_connection_lives_on() {
    let mut tern = tern()
        .env("TERN_DEBUG_FAULT", "server/diagnostics=panic")
        .spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let id = tern.request("server/diagnostics", json!({}));
    assert_eq!(
        tern.error(id),
        json!({"code": -32603, "message": "internal error while handling `server/diagnostics`"})
    );
    assert_still_serving(&mut tern);
    assert!(
        tern.stderr().contains("request handler panicked"),
        "{}",
        tern.stderr()
    );
}

#[test]
fn a_slow_request_does_not_block_a_fast_one() {
    let mut tern = tern()
        .env("TERN_DEBUG_FAULT", "server/diagnostics=sleep:3000")
        .spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let slow = tern.request("server/diagnostics", json!({}));
    let fast = tern.request("mock/experimentalMethod", json!({"value": "fast"}));
    // The fast answer comes first, while the slow request is still sleeping; then the slow one.
    assert_eq!(
        tern.next_message(tern_test_support::DEFAULT_TIMEOUT),
        tern_test_support::Received::Result {
            id: json!(fast),
            result: json!({"echoed": "fast"}),
        }
    );
    assert_eq!(tern.result(slow)["process"]["id"], tern.pid());
}

#[test]
fn an_over_long_line_is_rejected_without_buffering_it() {
    let mut tern = initialized();
    let padding = "a".repeat(tern_app_server::MAX_LINE_BYTES);
    tern.send_line(&format!(
        r#"{{"id":7,"method":"mock/experimentalMethod","params":{{"value":"{padding}"}}}}"#
    ));
    let error = tern.error(Value::Null);
    assert_eq!(error["code"], -32600);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.ends_with("exceeds the 33554432-byte line limit"),
        "{message}"
    );
    assert_still_serving(&mut tern);
}

#[test]
fn unknown_notifications_and_stray_responses_are_ignored() {
    let mut tern = initialized();
    tern.send_line(r#"{"method":"no/such/notification","params":{}}"#);
    tern.send_line(r#"{"id":99,"result":{}}"#);
    tern.send_line(r#"{"id":100,"error":{"code":1,"message":"no"}}"#);
    tern.assert_silent(Duration::from_millis(300));
    assert_still_serving(&mut tern);
}

/// A client that floods requests without reading its output: once the output pipe, the
/// outbound queue, the in-flight limit and the processing queue are all full, requests are
/// answered with -32001 instead of piling up in memory. Every request gets exactly one answer.
#[test]
fn a_flooding_client_gets_overloaded_errors_and_every_request_is_answered() {
    const REQUESTS: usize = 5000;
    let builder = tern();
    let home = tempfile::tempdir().unwrap();
    let mut child = builder
        .command(home.path())
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();

    // Responses of about 1 KiB fill the pipe quickly.
    let value = "v".repeat(1024);
    let writer = std::thread::spawn(move || {
        writeln!(
            stdin,
            r#"{{"id":"init","method":"initialize","params":{{"clientInfo":{{"name":"flood","version":"1"}},"capabilities":{{"experimentalApi":true}}}}}}"#
        )
        .unwrap();
        for id in 0..REQUESTS {
            writeln!(
                stdin,
                r#"{{"id":{id},"method":"mock/experimentalMethod","params":{{"value":"{value}"}}}}"#
            )
            .unwrap();
        }
        stdin
    });
    // Let the server fill every queue while nobody reads.
    std::thread::sleep(Duration::from_secs(2));

    let mut lines = BufReader::new(stdout).lines();
    let mut answered = vec![0_u32; REQUESTS];
    let (mut ok, mut overloaded) = (0, 0);
    let mut seen = 0;
    while seen < REQUESTS + 1 {
        let line = lines.next().unwrap().unwrap();
        let message: Value = serde_json::from_str(&line).unwrap();
        seen += 1;
        let Some(id) = message["id"].as_u64() else {
            assert_eq!(message["id"], "init");
            continue;
        };
        answered[usize::try_from(id).unwrap()] += 1;
        if message.get("result").is_some() {
            ok += 1;
        } else {
            assert_eq!(
                message["error"],
                json!({"code": -32001, "message": "Server overloaded; retry later."})
            );
            overloaded += 1;
        }
    }
    assert!(
        answered.iter().all(|&n| n == 1),
        "every request answered exactly once"
    );
    assert!(ok > 0 && overloaded > 0, "ok {ok}, overloaded {overloaded}");

    // Still serving once the client reads again.
    let mut stdin = writer.join().unwrap();
    writeln!(
        stdin,
        r#"{{"id":"after","method":"mock/experimentalMethod","params":{{"value":"x"}}}}"#
    )
    .unwrap();
    let line = lines.next().unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        json!({"id": "after", "result": {"echoed": "x"}})
    );
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
