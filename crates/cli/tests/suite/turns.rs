//! Threads and turns against a mock model provider speaking real SSE over loopback HTTP.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tern_test_support::mock_model::{MockModelServer, MockResponse, SseStep, chat, responses};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::{notifications, tern};

/// An initialized server with `config` (whose provider `mock` points at a mock server).
fn server_for(config: &str) -> TernProcess {
    let mut tern = tern()
        .config_toml(config)
        .env("MOCK_API_KEY", "sk-test")
        .spawn();
    tern.initialize();
    tern
}

fn start_thread(tern: &mut TernProcess) -> String {
    let cwd = tern.home().to_str().unwrap().to_owned();
    let id = tern.request("thread/start", json!({"cwd": cwd}));
    let result = tern.result(id);
    tern.notification("thread/started");
    result["thread"]["id"].as_str().unwrap().to_owned()
}

/// Messages from `turn/start` until `turn/completed`, as `result`/method names and the
/// messages themselves.
fn run_turn(tern: &mut TernProcess, thread_id: &str, text: &str) -> (Vec<String>, Vec<Received>) {
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}),
    );
    collect_turn(tern, id)
}

fn collect_turn(tern: &mut TernProcess, request_id: i64) -> (Vec<String>, Vec<Received>) {
    let mut names = Vec::new();
    let mut messages = Vec::new();
    loop {
        let message = tern.next_message(DEFAULT_TIMEOUT);
        let (name, done) = match &message {
            Received::Result { id, .. } if *id == request_id => ("result".to_owned(), false),
            Received::Error { error, .. } => panic!("unexpected error {error}"),
            Received::Result { .. } => ("other result".to_owned(), false),
            Received::Notification { method, .. } => (method.clone(), method == "turn/completed"),
            Received::Request { method, .. } => panic!("unexpected request {method}"),
        };
        names.push(name);
        messages.push(message);
        if done {
            return (names, messages);
        }
    }
}

#[test]
fn a_text_turn_streams_in_the_reference_order() {
    let mock = MockModelServer::start(vec![responses::text_response("r1", &["Hel", "lo", "!"])]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let thread_id = start_thread(&mut tern);
    let (names, messages) = run_turn(&mut tern, &thread_id, "say hello");
    assert_eq!(
        names,
        [
            "result",
            "thread/status/changed",
            "turn/started",
            "item/started",
            "item/completed",
            "item/started",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/completed",
            "thread/tokenUsage/updated",
            "thread/status/changed",
            "turn/completed",
        ]
    );
    let Received::Result { result, .. } = &messages[0] else {
        unreachable!()
    };
    assert_eq!(result["turn"]["status"], "inProgress");
    assert_eq!(result["turn"]["itemsView"], "notLoaded");
    let statuses = notifications(&messages, "thread/status/changed");
    assert_eq!(
        statuses[0]["status"],
        json!({"type": "active", "activeFlags": []})
    );
    assert_eq!(statuses[1]["status"], json!({"type": "idle"}));
    let completed = notifications(&messages, "item/completed");
    assert_eq!(completed[0]["item"]["type"], "userMessage");
    assert_eq!(completed[0]["item"]["content"][0]["text"], "say hello");
    assert_eq!(completed[1]["item"]["type"], "agentMessage");
    assert_eq!(completed[1]["item"]["id"], "msg_r1");
    assert_eq!(completed[1]["item"]["text"], "Hello!");
    let usage = notifications(&messages, "thread/tokenUsage/updated");
    assert_eq!(usage[0]["tokenUsage"]["total"]["totalTokens"], 110);
    let turn = &notifications(&messages, "turn/completed")[0]["turn"];
    assert_eq!(turn["status"], "completed");
    assert_eq!(turn["itemsView"], "summary");
    assert_eq!(turn["items"][0]["text"], "Hello!");
}

#[test]
fn the_model_request_carries_the_references_headers_and_body() {
    let mock = MockModelServer::start(vec![responses::text_response("r1", &["ok"])]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let thread_id = start_thread(&mut tern);
    run_turn(&mut tern, &thread_id, "say hello");
    let request = &mock.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/responses")
    );
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(request.header("originator"), Some("tern-tests"));
    assert_eq!(request.header("session-id"), Some(thread_id.as_str()));
    assert_eq!(request.header("thread-id"), Some(thread_id.as_str()));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("tern-tests/0.169.0 (tern ")
    );
    let body = &request.body;
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["store"], false);
    assert_eq!(body["prompt_cache_key"], thread_id.as_str());
    assert!(
        body.get("instructions").is_none(),
        "instructions travel in input"
    );
    let input = body["input"].as_array().unwrap();
    assert_eq!(input[0]["role"], "developer");
    assert!(
        input[0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("You are tern")
    );
    assert!(
        input[1]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("<environment_context>")
    );
    assert_eq!(input.last().unwrap()["content"][0]["text"], "say hello");
}

#[test]
fn reasoning_streams_summary_parts_before_the_message() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        responses::reasoning_added("rs_1"),
        responses::summary_part_added("rs_1", 0),
        responses::summary_delta("rs_1", 0, "Thinking"),
        responses::summary_part_added("rs_1", 1),
        responses::summary_delta("rs_1", 1, "More"),
        responses::reasoning_done("rs_1", &["Thinking", "More"]),
        responses::message_added("msg_1"),
        responses::text_delta("msg_1", "Answer"),
        responses::message_done("msg_1", "Answer"),
        responses::completed("r1", 10, 5),
    ])]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let thread_id = start_thread(&mut tern);
    let (names, messages) = run_turn(&mut tern, &thread_id, "think");
    assert_eq!(
        names[5..12],
        [
            "item/started",
            "item/reasoning/summaryPartAdded",
            "item/reasoning/summaryTextDelta",
            "item/reasoning/summaryPartAdded",
            "item/reasoning/summaryTextDelta",
            "item/completed",
            "item/started",
        ]
    );
    let reasoning = &notifications(&messages, "item/completed")[1]["item"];
    assert_eq!(
        (reasoning["type"].clone(), reasoning["summary"].clone()),
        (json!("reasoning"), json!(["Thinking", "More"]))
    );
    // The next request replays the reasoning with its encrypted content.
    mock.push([responses::text_response("r2", &["again"])]);
    run_turn(&mut tern, &thread_id, "and now");
    let input = mock.requests()[1].body["input"].clone();
    let replayed: Vec<&Value> = input
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "reasoning")
        .collect();
    assert_eq!(replayed[0]["encrypted_content"], "ENC");
}

#[test]
fn a_chat_completions_provider_streams_the_same_items() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(
        [
            vec![
                chat::reasoning("hmm"),
                chat::content("Hel"),
                chat::content("lo"),
            ],
            chat::finish(50, 5),
        ]
        .concat(),
    )]);
    let mut tern = server_for(&mock.config_toml("chat"));
    let thread_id = start_thread(&mut tern);
    let (names, messages) = run_turn(&mut tern, &thread_id, "say hello");
    assert_eq!(
        names,
        [
            "result",
            "thread/status/changed",
            "turn/started",
            "item/started",
            "item/completed",
            "item/started",
            "item/reasoning/textDelta",
            "item/started",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/completed",
            "item/completed",
            "thread/tokenUsage/updated",
            "thread/status/changed",
            "turn/completed",
        ]
    );
    let completed = notifications(&messages, "item/completed");
    assert_eq!(completed[1]["item"]["content"], json!(["hmm"]));
    assert_eq!(completed[2]["item"]["text"], "Hello");
    let usage = notifications(&messages, "thread/tokenUsage/updated");
    assert_eq!(usage[0]["tokenUsage"]["last"]["inputTokens"], 50);

    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    let messages = request.body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages.last().unwrap(),
        &json!({"role": "user", "content": "say hello"})
    );
    assert_eq!(request.body["stream"], true);
}

#[test]
fn a_second_turn_replays_the_conversation() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["first answer"]),
        responses::text_response("r2", &["second answer"]),
    ]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let thread_id = start_thread(&mut tern);
    run_turn(&mut tern, &thread_id, "one");
    run_turn(&mut tern, &thread_id, "two");
    let input = mock.requests()[1].body["input"].clone();
    let texts: Vec<(String, String)> = input
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .skip(2)
        .map(|item| {
            (
                item["role"].as_str().unwrap().to_owned(),
                item["content"][0]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            ("user".to_owned(), "one".to_owned()),
            ("assistant".to_owned(), "first answer".to_owned()),
            ("user".to_owned(), "two".to_owned()),
        ]
    );
}

#[test]
fn a_thread_can_be_read_before_and_after_its_first_turn_and_after_a_restart() {
    let mock = MockModelServer::start(vec![responses::text_response("r1", &["hi"])]);
    let config = mock.config_toml("responses");
    let mut tern = server_for(&config);
    let thread_id = start_thread(&mut tern);
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let before = tern.result(id);
    assert_eq!(before["thread"]["preview"], "");
    assert_eq!(before["thread"]["turns"], json!([]));
    let id = tern.request("thread/loaded/list", json!({}));
    assert_eq!(
        tern.result(id),
        json!({"data": [thread_id], "nextCursor": null})
    );

    run_turn(&mut tern, &thread_id, "hello there");
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let live = tern.result(id)["thread"].clone();
    assert_eq!(live["preview"], "hello there");
    assert_eq!(live["turns"][0]["status"], "completed");
    assert_eq!(live["turns"][0]["items"].as_array().unwrap().len(), 2);

    // A new server on the same home reads the thread from its rollout.
    let home = tern.home().to_owned();
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));
    let mut restarted = tern_on_home(&home, &config);
    let id = restarted.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = restarted.result(id)["thread"].clone();
    assert_eq!(read["status"], json!({"type": "notLoaded"}));
    assert_eq!(read["preview"], "hello there");
    assert_eq!(read["turns"][0]["status"], "completed");
    assert_eq!(read["turns"][0]["items"], live["turns"][0]["items"]);
}

/// A second server on an existing home (the harness makes a fresh one; this reuses one).
fn tern_on_home(home: &std::path::Path, config: &str) -> TernProcess {
    let mut tern = tern()
        .config_toml(config)
        .home(home)
        .env("MOCK_API_KEY", "sk-test")
        .spawn();
    tern.initialize();
    tern
}

#[test]
fn unknown_or_malformed_thread_ids_are_rejected() {
    let mock = MockModelServer::start(vec![]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let id = tern.request("thread/read", json!({"threadId": "nope"}));
    let error = tern.error(id);
    assert_eq!(error["code"], -32600);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid thread id: "),
        "{error}"
    );
    let missing = "01a1fca8-0267-7d71-ba9f-4527772fea78";
    let id = tern.request("thread/read", json!({"threadId": missing}));
    assert_eq!(
        tern.error(id),
        json!({"code": -32600, "message": format!("thread not loaded: {missing}")})
    );
    let id = tern.request(
        "turn/start",
        json!({"threadId": missing, "input": [{"type": "text", "text": "x"}]}),
    );
    assert_eq!(
        tern.error(id),
        json!({"code": -32600, "message": format!("thread not found: {missing}")})
    );
    let id = tern.request("thread/start", json!({"cwd": "relative/dir"}));
    assert_eq!(tern.error(id)["code"], -32602);
    assert!(mock.requests().is_empty());
}

#[test]
fn an_interrupted_turn_ends_after_the_interrupt_is_answered() {
    let mut slow = vec![responses::created("r1"), responses::message_added("msg_1")];
    for _ in 0..50 {
        slow.push(responses::text_delta("msg_1", "."));
        slow.push(SseStep::Pause(Duration::from_millis(100)));
    }
    let mock = MockModelServer::start(vec![
        MockResponse::Sse(slow),
        responses::text_response("r2", &["after"]),
    ]);
    let mut tern = server_for(&mock.config_toml("responses"));
    let thread_id = start_thread(&mut tern);
    let start = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "go slowly"}]}),
    );
    let turn_id = tern.result(start)["turn"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tern.notification("item/agentMessage/delta");
    let interrupt = tern.request(
        "turn/interrupt",
        json!({"threadId": thread_id, "turnId": turn_id}),
    );
    // Earlier notifications and deltas already queued may still arrive; then the answer, then
    // the end of the turn.
    let mut after = Vec::new();
    loop {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Result { id, result } if id == interrupt => {
                assert_eq!(result, json!({}));
                after.push("result".to_owned());
            }
            Received::Notification { method, params } if !after.is_empty() => {
                after.push(method.clone());
                if method == "turn/completed" {
                    assert_eq!(params["turn"]["status"], "interrupted");
                    break;
                }
            }
            Received::Notification { method, .. } => {
                assert_ne!(
                    method, "turn/completed",
                    "the turn ended before the interrupt's answer"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(after, ["result", "thread/status/changed", "turn/completed"]);
    // The thread goes on, and the model hears about the interruption.
    run_turn(&mut tern, &thread_id, "again");
    let input = mock.requests()[1].body["input"].to_string();
    assert!(input.contains("<turn_aborted>"), "{input}");
}
