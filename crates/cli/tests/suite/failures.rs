//! Model provider failures: what is retried, what the client is told, how the turn ends, and
//! that the server keeps serving.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tern_test_support::mock_model::{MockModelServer, MockResponse, SseStep, responses};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::tern;

fn config(base_url: &str, request_retries: u32, stream_retries: u32, idle_ms: u64) -> String {
    format!(
        "model = \"mock-model\"\nmodel_provider = \"mock\"\n\n[model_providers.mock]\n\
         base_url = \"{base_url}\"\nenv_key = \"MOCK_API_KEY\"\n\
         request_max_retries = {request_retries}\nstream_max_retries = {stream_retries}\n\
         stream_idle_timeout_ms = {idle_ms}\n"
    )
}

fn server(config: &str) -> (TernProcess, String) {
    let mut tern = tern()
        .config_toml(config)
        .env("MOCK_API_KEY", "sk-test")
        .spawn();
    tern.initialize();
    let cwd = tern.home().to_str().unwrap().to_owned();
    let id = tern.request("thread/start", json!({"cwd": cwd}));
    let thread_id = tern.result(id)["thread"]["id"].as_str().unwrap().to_owned();
    tern.notification("thread/started");
    (tern, thread_id)
}

/// Runs a turn; returns the notifications after the result (method, params).
fn turn(tern: &mut TernProcess, thread_id: &str) -> Vec<(String, Value)> {
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "hi"}]}),
    );
    tern.result(id);
    let mut out = Vec::new();
    loop {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Notification { method, params } => {
                let done = method == "turn/completed";
                out.push((method, params));
                if done {
                    return out;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn tail(notifications: &[(String, Value)], n: usize) -> Vec<&str> {
    notifications[notifications.len() - n..]
        .iter()
        .map(|(method, _)| method.as_str())
        .collect()
}

fn status(code: u16, headers: &[(&str, &str)], body: &str) -> MockResponse {
    MockResponse::Status {
        code,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_owned(),
    }
}

/// The failed turn's error as `error` and `turn/completed` carry it; checks they agree and that
/// the status went to `systemError` first.
fn failure(notifications: &[(String, Value)]) -> Value {
    assert_eq!(
        tail(notifications, 3),
        ["thread/status/changed", "error", "turn/completed"]
    );
    let n = notifications.len();
    assert_eq!(
        notifications[n - 3].1["status"],
        json!({"type": "systemError"})
    );
    let error = &notifications[n - 2].1;
    assert_eq!(error["willRetry"], false);
    let turn = &notifications[n - 1].1["turn"];
    assert_eq!(turn["status"], "failed");
    assert_eq!(turn["error"], error["error"]);
    error["error"].clone()
}

/// The server answers and the thread works after a failure.
fn recovers(mock: &MockModelServer, tern: &mut TernProcess, thread_id: &str) {
    mock.push([responses::text_response("ok", &["fine"])]);
    let notifications = turn(tern, thread_id);
    assert_eq!(
        notifications.last().unwrap().1["turn"]["status"],
        "completed"
    );
}

#[test]
fn a_500_fails_the_turn_as_internal_server_error() {
    let mock = MockModelServer::start(vec![status(500, &[], r#"{"error":{"message":"down"}}"#)]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 0, 0, 10_000));
    let error = failure(&turn(&mut tern, &thread_id));
    assert_eq!(error["codexErrorInfo"], "internalServerError");
    assert!(
        error["message"].as_str().unwrap().contains("500"),
        "{error}"
    );
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_5xx_is_retried_with_backoff_before_the_client_hears_of_it() {
    let mock = MockModelServer::start(vec![
        status(503, &[], "busy"),
        status(502, &[], "busy"),
        responses::text_response("r1", &["made it"]),
    ]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 2, 0, 10_000));
    let notifications = turn(&mut tern, &thread_id);
    assert_eq!(mock.requests().len(), 3);
    assert!(notifications.iter().all(|(method, _)| method != "error"));
    assert_eq!(
        notifications.last().unwrap().1["turn"]["status"],
        "completed"
    );
}

#[test]
fn a_429_honours_retry_after_then_gives_up_with_too_many_failed_attempts() {
    let too_many = || {
        status(
            429,
            &[("retry-after", "1")],
            r#"{"error":{"message":"slow down"}}"#,
        )
    };
    let mock = MockModelServer::start(vec![too_many(), too_many()]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 1, 0, 10_000));
    let started = std::time::Instant::now();
    let error = failure(&turn(&mut tern, &thread_id));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(mock.requests().len(), 2);
    assert_eq!(
        error["codexErrorInfo"],
        json!({"responseTooManyFailedAttempts": {"httpStatusCode": 429}})
    );
    assert_eq!(
        error["message"],
        "exceeded retry limit, last status: 429 Too Many Requests"
    );
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_401_fails_without_retrying() {
    let mock = MockModelServer::start(vec![status(401, &[], r#"{"error":{"message":"bad key"}}"#)]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 3, 3, 10_000));
    let error = failure(&turn(&mut tern, &thread_id));
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(
        error["codexErrorInfo"],
        json!({"httpConnectionFailed": {"httpStatusCode": 401}})
    );
    assert!(
        error["message"].as_str().unwrap().contains("bad key"),
        "{error}"
    );
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_stream_cut_mid_response_is_retried_and_the_client_told() {
    let mock = MockModelServer::start(vec![
        MockResponse::Sse(vec![
            responses::created("r1"),
            responses::message_added("msg_1"),
            responses::text_delta("msg_1", "partial"),
            SseStep::Cut,
        ]),
        responses::text_response("r2", &["whole"]),
    ]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 0, 1, 10_000));
    let notifications = turn(&mut tern, &thread_id);
    let retry: Vec<&Value> = notifications
        .iter()
        .filter(|(method, _)| method == "error")
        .map(|(_, params)| params)
        .collect();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0]["willRetry"], true);
    assert_eq!(retry[0]["error"]["message"], "Reconnecting... 1/1");
    assert_eq!(
        retry[0]["error"]["codexErrorInfo"],
        json!({"responseStreamDisconnected": {"httpStatusCode": null}})
    );
    let turn = &notifications.last().unwrap().1["turn"];
    assert_eq!(turn["status"], "completed");
    assert_eq!(turn["items"][0]["text"], "whole");
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn a_stream_cut_without_retries_left_fails_the_turn() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        SseStep::Cut,
    ])]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 0, 0, 10_000));
    let error = failure(&turn(&mut tern, &thread_id));
    assert_eq!(
        error["codexErrorInfo"],
        json!({"responseStreamDisconnected": {"httpStatusCode": null}})
    );
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_stalled_stream_times_out() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        SseStep::Pause(Duration::from_secs(3)),
        responses::completed("r1", 1, 1),
    ])]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 0, 0, 300));
    let error = failure(&turn(&mut tern, &thread_id));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("idle for 300 ms"),
        "{error}"
    );
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_failed_response_event_fails_the_turn_with_the_providers_message() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        responses::failed("r1", "mock stream failure"),
    ])]);
    let (mut tern, thread_id) = server(&config(mock.base_url(), 0, 3, 10_000));
    let error = failure(&turn(&mut tern, &thread_id));
    assert_eq!(error["codexErrorInfo"], "other");
    assert_eq!(
        error["message"],
        "stream disconnected before completion: mock stream failure"
    );
    assert_eq!(mock.requests().len(), 1, "a failed response is not retried");
    recovers(&mock, &mut tern, &thread_id);
}

#[test]
fn a_refused_connection_fails_the_turn_after_retries() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut tern, thread_id) = server(&config(
        &format!("http://127.0.0.1:{port}/v1"),
        1,
        0,
        10_000,
    ));
    let error = failure(&turn(&mut tern, &thread_id));
    assert_eq!(
        error["codexErrorInfo"],
        json!({"responseStreamConnectionFailed": {"httpStatusCode": null}})
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach the model provider"),
        "{error}"
    );
    // Still serving.
    let id = tern.request("thread/loaded/list", json!({}));
    assert_eq!(tern.result(id)["data"], json!([thread_id]));
}
