//! Thread management: resume (also after kill -9), names, archive, unsubscribe, steering.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tern_test_support::mock_model::{MockModelServer, MockResponse, SseStep, responses};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::tern;

fn server(home: Option<&std::path::Path>, config: &str) -> TernProcess {
    let mut builder = tern().config_toml(config).env("MOCK_API_KEY", "sk-test");
    if let Some(home) = home {
        builder = builder.home(home);
    }
    let mut tern = builder.spawn();
    tern.initialize();
    tern
}

fn start_thread(tern: &mut TernProcess, cwd: &std::path::Path) -> String {
    let id = tern.request("thread/start", json!({"cwd": cwd.to_str().unwrap()}));
    let thread_id = tern.result(id)["thread"]["id"].as_str().unwrap().to_owned();
    tern.notification("thread/started");
    thread_id
}

fn turn(tern: &mut TernProcess, thread_id: &str, text: &str) -> Value {
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}),
    );
    tern.result(id);
    loop {
        if let Received::Notification { method, params } = tern.next_message(DEFAULT_TIMEOUT) {
            if method == "turn/completed" {
                return params["turn"].clone();
            }
        }
    }
}

fn user_texts(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["role"] == "user")
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|text| !text.starts_with('<'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_thread_resumed_after_a_restart_continues_its_conversation() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["first"]),
        responses::text_response("r2", &["second"]),
    ]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let thread_id = start_thread(&mut tern, home.path());
    turn(&mut tern, &thread_id, "one");
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));

    let mut tern = server(Some(home.path()), &config);
    let id = tern.request("thread/resume", json!({"threadId": thread_id}));
    // A cold resume reports the thread idle, then answers, then restores the token usage.
    assert_eq!(
        tern.notification("thread/status/changed")["status"],
        json!({"type": "idle"})
    );
    let resumed = tern.result(id);
    assert_eq!(resumed["thread"]["turns"][0]["status"], "completed");
    assert_eq!(resumed["model"], "mock-model");
    assert_eq!(
        tern.notification("thread/tokenUsage/updated")["tokenUsage"]["total"]["totalTokens"],
        110
    );
    let completed = turn(&mut tern, &thread_id, "two");
    assert_eq!(completed["status"], "completed");
    assert_eq!(user_texts(&mock.requests()[1].body), ["one", "two"]);
    // The turn from before the restart is read back from the rollout, the new one from
    // memory, in order and with their items.
    let agent_texts = |thread: &Value| -> Vec<String> {
        thread["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|turn| turn["items"][1]["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    assert_eq!(agent_texts(&tern.result(id)["thread"]), ["first", "second"]);
    let id = tern.request("thread/resume", json!({"threadId": thread_id}));
    assert_eq!(agent_texts(&tern.result(id)["thread"]), ["first", "second"]);
    tern.notification("thread/tokenUsage/updated");
    // A fork of the resumed thread copies both turns' items.
    let id = tern.request("thread/fork", json!({"threadId": thread_id}));
    assert_eq!(agent_texts(&tern.result(id)["thread"]), ["first", "second"]);
    // Reverting to the turn from the rollout drops both.
    let first_turn = resumed["thread"]["turns"][0]["id"].clone();
    let id = tern.request(
        "thread/revert",
        json!({"threadId": thread_id, "beforeTurnId": first_turn}),
    );
    tern.result(id);
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    assert_eq!(tern.result(id)["thread"]["turns"], json!([]));
}

#[test]
fn a_kill_9_mid_turn_loses_nothing_completed_and_the_thread_resumes() {
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        responses::message_added("msg_a"),
        responses::text_delta("msg_a", "done part"),
        responses::message_done("msg_a", "done part"),
        responses::message_added("msg_b"),
        responses::text_delta("msg_b", "never"),
        SseStep::Pause(Duration::from_secs(30)),
    ])]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let thread_id = start_thread(&mut tern, home.path());
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "work"}]}),
    );
    tern.result(id);
    // Wait for the first agent message to complete, and the second to start streaming.
    loop {
        if let Received::Notification { method, params } = tern.next_message(DEFAULT_TIMEOUT) {
            if method == "item/agentMessage/delta" && params["itemId"] == "msg_b" {
                break;
            }
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-9", &tern.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tern.wait_exit(Duration::from_secs(5));

    mock.push([responses::text_response("r2", &["resumed"])]);
    let mut tern = server(Some(home.path()), &config);
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let thread = tern.result(id)["thread"].clone();
    let turn0 = &thread["turns"][0];
    assert_eq!(turn0["status"], "interrupted");
    let items: Vec<(&str, &str)> = turn0["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let text = item["text"]
                .as_str()
                .or(item["content"][0]["text"].as_str())
                .unwrap();
            (item["type"].as_str().unwrap(), text)
        })
        .collect();
    assert_eq!(
        items,
        [("userMessage", "work"), ("agentMessage", "done part")]
    );

    let id = tern.request("thread/resume", json!({"threadId": thread_id}));
    tern.result(id);
    assert_eq!(turn(&mut tern, &thread_id, "again")["status"], "completed");
    assert_eq!(user_texts(&mock.requests()[1].body), ["work", "again"]);
}

#[test]
fn names_archive_and_unarchive() {
    let mock = MockModelServer::start(vec![responses::text_response("r1", &["hi"])]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let thread_id = start_thread(&mut tern, home.path());
    turn(&mut tern, &thread_id, "hello");

    let id = tern.request(
        "thread/name/set",
        json!({"threadId": thread_id, "name": "My thread"}),
    );
    assert_eq!(tern.result(id), json!({}));
    assert_eq!(
        tern.notification("thread/name/updated"),
        json!({"threadId": thread_id, "threadName": "My thread"})
    );

    let id = tern.request("thread/archive", json!({"threadId": thread_id}));
    assert_eq!(
        tern.notification("thread/status/changed")["status"],
        json!({"type": "notLoaded"})
    );
    assert_eq!(tern.result(id), json!({}));
    assert_eq!(
        tern.notification("thread/archived"),
        json!({"threadId": thread_id})
    );
    let archived_dir = home.path().join("archived_sessions");
    assert_eq!(std::fs::read_dir(&archived_dir).unwrap().count(), 1);

    let id = tern.request("thread/resume", json!({"threadId": thread_id}));
    let error = tern.error(id);
    assert_eq!(error["code"], -32600);
    assert!(
        error["message"].as_str().unwrap().contains("is archived"),
        "{error}"
    );

    let id = tern.request("thread/unarchive", json!({"threadId": thread_id}));
    let thread = tern.result(id)["thread"].clone();
    assert_eq!(thread["name"], "My thread");
    assert!(
        thread["path"].as_str().unwrap().contains("/sessions/"),
        "{thread}"
    );
    assert_eq!(
        tern.notification("thread/unarchived"),
        json!({"threadId": thread_id})
    );
    assert_eq!(std::fs::read_dir(&archived_dir).unwrap().count(), 0);
}

#[test]
fn unsubscribing_reports_what_it_found() {
    let mock = MockModelServer::start(vec![]);
    let mut tern = server(None, &mock.config_toml("responses"));
    let cwd = tern.home().to_owned();
    let thread_id = start_thread(&mut tern, &cwd);
    let id = tern.request("thread/unsubscribe", json!({"threadId": thread_id}));
    assert_eq!(tern.result(id), json!({"status": "unsubscribed"}));
    let id = tern.request("thread/unsubscribe", json!({"threadId": thread_id}));
    assert_eq!(tern.result(id), json!({"status": "notSubscribed"}));
    let other = "01a1fca8-0267-7d71-ba9f-4527772fea78";
    let id = tern.request("thread/unsubscribe", json!({"threadId": other}));
    assert_eq!(tern.result(id), json!({"status": "notLoaded"}));
}

#[test]
fn steering_adds_input_to_the_running_turn() {
    let mut slow = vec![responses::created("r1"), responses::message_added("msg_1")];
    slow.push(responses::text_delta("msg_1", "working"));
    slow.push(SseStep::Pause(Duration::from_millis(700)));
    slow.push(responses::message_done("msg_1", "working"));
    slow.push(responses::completed("r1", 10, 2));
    let mock = MockModelServer::start(vec![
        MockResponse::Sse(slow),
        responses::text_response("r2", &["steered answer"]),
    ]);
    let mut tern = server(None, &mock.config_toml("responses"));
    let cwd = tern.home().to_owned();
    let thread_id = start_thread(&mut tern, &cwd);
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "first"}]}),
    );
    let turn_id = tern.result(id)["turn"]["id"].as_str().unwrap().to_owned();
    tern.notification("item/agentMessage/delta");

    let id = tern.request(
        "turn/steer",
        json!({"threadId": thread_id, "expectedTurnId": "not-it", "input": [{"type": "text", "text": "x"}]}),
    );
    assert_eq!(
        tern.error(id),
        json!({"code": -32600, "message": format!("expected active turn id `not-it` but found `{turn_id}`")})
    );
    let id = tern.request(
        "turn/steer",
        json!({"threadId": thread_id, "expectedTurnId": turn_id, "input": [{"type": "text", "text": "also this"}]}),
    );
    assert_eq!(tern.result(id), json!({"turnId": turn_id}));
    // A turn/start while the turn runs joins it too, and answers with the running turn.
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "and this"}]}),
    );
    assert_eq!(tern.result(id)["turn"]["id"], turn_id.as_str());
    let completed = loop {
        if let Received::Notification { method, params } = tern.next_message(DEFAULT_TIMEOUT) {
            if method == "turn/completed" {
                break params["turn"].clone();
            }
        }
    };
    assert_eq!(completed["id"], turn_id.as_str());
    assert_eq!(completed["status"], "completed");
    assert_eq!(
        user_texts(&mock.requests()[1].body),
        ["first", "also this", "and this"]
    );
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let items = tern.result(id)["thread"]["turns"][0]["items"].clone();
    let kinds: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "userMessage",
            "agentMessage",
            "userMessage",
            "userMessage",
            "agentMessage"
        ]
    );
}

/// A rollout shaped as the reference implementation writes it (instructions abbreviated).
fn reference_rollout(thread_id: &str, cwd: &str) -> String {
    [
        json!({"timestamp":"2026-11-20T05:50:31.853Z","ordinal":0,"type":"session_meta","payload":{"account_scoped":true,"session_id":thread_id,"id":thread_id,"timestamp":"2026-11-20T05:50:31.532Z","cwd":cwd,"runtime_workspace_roots":[cwd],"originator":"probe","cli_version":"0.169.0","source":"vscode","model_provider":"mock","base_instructions":{"text":"x","provenance":{"type":"model"}},"history_mode":"paginated"}}),
        json!({"timestamp":"2026-11-20T05:50:31.855Z","ordinal":1,"type":"event_msg","payload":{"type":"task_started","turn_id":"01a1fca8-03aa-7092-bf0a-9d903416e36e","started_at":1_795_153_831,"model_context_window":258_400,"collaboration_mode_kind":"default"}}),
        json!({"timestamp":"2026-11-20T05:50:31.887Z","ordinal":5,"type":"turn_context","payload":{"turn_id":"01a1fca8-03aa-7092-bf0a-9d903416e36e","cwd":cwd,"approval_policy":"never","sandbox_policy":{"type":"danger-full-access"},"model":"mock-model","summary":"none"}}),
        json!({"timestamp":"2026-11-20T05:50:31.895Z","ordinal":7,"type":"response_item","payload":{"type":"message","id":"msg_1","role":"user","content":[{"type":"input_text","text":"from the reference"}]},"metadata":{"history_sequence":3}}),
        json!({"timestamp":"2026-11-20T05:50:31.897Z","ordinal":8,"type":"event_msg","payload":{"type":"item_completed","thread_id":thread_id,"turn_id":"01a1fca8-03aa-7092-bf0a-9d903416e36e","item":{"type":"UserMessage","id":"i","content":[{"type":"text","text":"from the reference","text_elements":[]}]},"started_at_ms":1,"completed_at_ms":1}}),
        json!({"timestamp":"2026-11-20T05:50:31.953Z","ordinal":9,"type":"event_msg","payload":{"type":"item_completed","thread_id":thread_id,"turn_id":"01a1fca8-03aa-7092-bf0a-9d903416e36e","item":{"type":"AgentMessage","id":"msg_mock1","content":[{"type":"Text","text":"Hello, world!"}]},"started_at_ms":2,"completed_at_ms":3}}),
        json!({"timestamp":"2026-11-20T05:50:31.954Z","ordinal":10,"type":"response_item","payload":{"type":"message","status":"completed","id":"msg_mock1","role":"assistant","content":[{"type":"output_text","text":"Hello, world!","annotations":[]}]}}),
        json!({"timestamp":"2026-11-20T05:50:31.958Z","ordinal":13,"type":"event_msg","payload":{"type":"task_complete","turn_id":"01a1fca8-03aa-7092-bf0a-9d903416e36e","last_agent_message":"Hello, world!","started_at":1_795_153_831,"completed_at":1_795_153_831,"duration_ms":106}}),
    ]
    .iter()
    .fold(String::new(), |mut text, line| {
        text.push_str(&line.to_string());
        text.push('\n');
        text
    })
}

fn list(tern: &mut TernProcess, params: Value) -> Value {
    let id = tern.request("thread/list", params);
    tern.result(id)
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|thread| thread["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn thread_list_pages_filters_and_survives_a_lost_index() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["a"]),
        responses::text_response("r2", &["b"]),
        responses::text_response("r3", &["c"]),
    ]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let mut created = Vec::new();
    for text in ["alpha", "beta", "gamma"] {
        let thread_id = start_thread(&mut tern, home.path());
        turn(&mut tern, &thread_id, text);
        created.push(thread_id);
    }
    // A thread without a turn is not on disk, so not listed (as in the reference).
    start_thread(&mut tern, home.path());

    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    let page = list(&mut tern, json!({}));
    assert_eq!(ids(&page), newest_first);
    assert_eq!(page["nextCursor"], Value::Null);
    assert_eq!(page["data"][0]["preview"], "gamma");
    assert_eq!(page["data"][0]["status"], json!({"type": "idle"}));
    assert_eq!(page["data"][0]["turns"], json!([]));

    let first = list(&mut tern, json!({"limit": 2}));
    assert_eq!(ids(&first), newest_first[..2]);
    let second = list(
        &mut tern,
        json!({"limit": 2, "cursor": first["nextCursor"]}),
    );
    assert_eq!(ids(&second), newest_first[2..]);
    assert_eq!(second["nextCursor"], Value::Null);

    assert_eq!(
        ids(&list(&mut tern, json!({"searchTerm": "BET"}))),
        [created[1].clone()]
    );
    assert_eq!(
        ids(&list(&mut tern, json!({"modelProviders": ["other"]}))),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&list(
            &mut tern,
            json!({"cwd": home.path().to_str().unwrap()})
        ))
        .len(),
        3
    );
    let id = tern.request("thread/list", json!({"cursor": "garbage"}));
    assert_eq!(tern.error(id)["code"], -32602);

    let id = tern.request("thread/archive", json!({"threadId": created[0]}));
    tern.result(id);
    assert_eq!(ids(&list(&mut tern, json!({}))), newest_first[..2]);
    assert_eq!(
        ids(&list(&mut tern, json!({"archived": true}))),
        [created[0].clone()]
    );

    // A rollout written by someone else (here: shaped like the reference's) shows up.
    let foreign = "01a1fc00-0000-7000-8000-000000000001";
    let dir = home.path().join("sessions/2026/11/20");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("rollout-2026-11-20T05-50-31-{foreign}.jsonl")),
        reference_rollout(foreign, home.path().to_str().unwrap()),
    )
    .unwrap();
    let page = list(&mut tern, json!({}));
    assert_eq!(ids(&page).last().unwrap(), foreign);
    let id = tern.request(
        "thread/read",
        json!({"threadId": foreign, "includeTurns": true}),
    );
    let read = tern.result(id)["thread"].clone();
    assert_eq!(read["preview"], "from the reference");
    assert_eq!(read["turns"][0]["items"][1]["text"], "Hello, world!");

    // Losing the index loses nothing: a restart rebuilds it from the rollouts.
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));
    std::fs::remove_file(home.path().join("state.sqlite")).unwrap();
    let mut tern = server(Some(home.path()), &config);
    let mut expected = newest_first[..2].to_vec();
    expected.push(foreign.to_owned());
    assert_eq!(ids(&list(&mut tern, json!({}))), expected);
    assert_eq!(
        list(&mut tern, json!({}))["data"][0]["status"],
        json!({"type": "notLoaded"})
    );

    // And the reference's rollout resumes and continues.
    mock.push([responses::text_response("r4", &["continued"])]);
    let id = tern.request("thread/resume", json!({"threadId": foreign}));
    tern.result(id);
    assert_eq!(turn(&mut tern, foreign, "more")["status"], "completed");
    assert_eq!(
        user_texts(&mock.requests()[3].body),
        ["from the reference", "more"]
    );
}

#[test]
fn a_fork_copies_the_history_and_goes_its_own_way() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["original answer"]),
        responses::text_response("r2", &["fork answer"]),
        responses::text_response("r3", &["source answer"]),
    ]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let source = start_thread(&mut tern, home.path());
    turn(&mut tern, &source, "shared start");

    let id = tern.request("thread/fork", json!({"threadId": source}));
    let forked = tern.result(id);
    let fork = forked["thread"]["id"].as_str().unwrap().to_owned();
    assert_ne!(fork, source);
    assert_eq!(forked["thread"]["forkedFromId"], source.as_str());
    assert_eq!(forked["thread"]["preview"], "shared start");
    assert_eq!(
        forked["thread"]["turns"][0]["items"][1]["text"],
        "original answer"
    );
    assert_eq!(
        tern.notification("thread/tokenUsage/updated")["threadId"],
        fork.as_str()
    );
    assert_eq!(
        tern.notification("thread/started")["thread"]["id"],
        fork.as_str()
    );

    turn(&mut tern, &fork, "on the fork");
    turn(&mut tern, &source, "on the source");
    let requests = mock.requests();
    assert_eq!(
        user_texts(&requests[1].body),
        ["shared start", "on the fork"]
    );
    assert_eq!(
        user_texts(&requests[2].body),
        ["shared start", "on the source"]
    );

    // The fork is on disk on its own.
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));
    let mut tern = server(Some(home.path()), &config);
    let id = tern.request(
        "thread/read",
        json!({"threadId": fork, "includeTurns": true}),
    );
    let read = tern.result(id)["thread"].clone();
    assert_eq!(read["forkedFromId"], source.as_str());
    assert_eq!(read["turns"].as_array().unwrap().len(), 2);
    let id = tern.request(
        "thread/fork",
        json!({"threadId": fork, "excludeTurns": true}),
    );
    assert_eq!(tern.result(id)["thread"]["turns"], json!([]));
}

fn turn_methods(tern: &mut TernProcess, request_id: i64) -> Vec<String> {
    let mut methods = Vec::new();
    loop {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Result { id, .. } if id == request_id => methods.push("result".to_owned()),
            Received::Notification { method, .. } => {
                let done = method == "turn/completed";
                methods.push(method);
                if done {
                    return methods;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn compaction_replaces_the_history_with_a_summary() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["a long answer"]),
        responses::text_response("r2", &["SUMMARY OF WORK"]),
        responses::text_response("r3", &["after compaction"]),
    ]);
    let mut tern = server(None, &mock.config_toml("responses"));
    let cwd = tern.home().to_owned();
    let thread_id = start_thread(&mut tern, &cwd);
    turn(&mut tern, &thread_id, "do the work");

    let id = tern.request("thread/compact/start", json!({"threadId": thread_id}));
    assert_eq!(
        turn_methods(&mut tern, id),
        [
            "result",
            "thread/status/changed",
            "turn/started",
            "item/started",
            "thread/tokenUsage/updated",
            "item/completed",
            "thread/status/changed",
            "turn/completed",
        ]
    );
    let compaction = &mock.requests()[1].body;
    assert_eq!(compaction["tools"], json!([]));
    let last = compaction["input"].as_array().unwrap().last().unwrap();
    assert!(
        last["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("replaced by a summary"),
        "{last}"
    );

    turn(&mut tern, &thread_id, "next step");
    let input = mock.requests()[2].body["input"].to_string();
    assert!(input.contains("SUMMARY OF WORK"), "{input}");
    assert!(input.contains("do the work"), "{input}");
    assert!(!input.contains("a long answer"), "{input}");
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let turns = tern.result(id)["thread"]["turns"].clone();
    assert_eq!(turns[1]["items"][0]["type"], "contextCompaction");
}

#[test]
fn a_turn_compacts_first_when_the_context_is_nearly_full() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["first"]),
        responses::text_response("r2", &["SUMMARY"]),
        responses::text_response("r3", &["second"]),
    ]);
    // Each mock response reports 110 tokens of context.
    let config = format!(
        "{}model_auto_compact_token_limit = 100\n",
        mock.config_toml("responses")
            .replace("[model_providers.mock]", "")
    )
    .replace("sandbox_mode", "model_context_window = 1000\nsandbox_mode");
    let config = format!(
        "{config}\n[model_providers.mock]\nbase_url = \"{}\"\nenv_key = \"MOCK_API_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\n",
        mock.base_url()
    );
    let mut tern = server(None, &config);
    let cwd = tern.home().to_owned();
    let thread_id = start_thread(&mut tern, &cwd);
    turn(&mut tern, &thread_id, "one");
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "two"}]}),
    );
    let methods = turn_methods(&mut tern, id);
    let items = methods.iter().filter(|m| *m == "item/completed").count();
    // user message, compaction, agent message
    assert_eq!(items, 3, "{methods:?}");
    assert_eq!(mock.requests().len(), 3);
    let input = mock.requests()[2].body["input"].to_string();
    assert!(input.contains("SUMMARY"), "{input}");
}

#[test]
fn revert_drops_a_turn_and_the_ones_after_it() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["first"]),
        responses::text_response("r2", &["second"]),
        responses::text_response("r3", &["third"]),
    ]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let thread_id = start_thread(&mut tern, home.path());
    turn(&mut tern, &thread_id, "one");
    let second = turn(&mut tern, &thread_id, "two")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let id = tern.request(
        "thread/revert",
        json!({"threadId": thread_id, "beforeTurnId": "not-a-turn"}),
    );
    assert_eq!(tern.error(id)["code"], -32600);
    let id = tern.request(
        "thread/revert",
        json!({"threadId": thread_id, "beforeTurnId": second}),
    );
    assert_eq!(tern.result(id)["thread"]["turns"], json!([]));
    assert_eq!(
        tern.notification("thread/reverted"),
        json!({"threadId": thread_id})
    );

    turn(&mut tern, &thread_id, "three");
    assert_eq!(user_texts(&mock.requests()[2].body), ["one", "three"]);

    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));
    let mut tern = server(Some(home.path()), &config);
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let turns = tern.result(id)["thread"]["turns"].clone();
    let texts: Vec<&str> = turns
        .as_array()
        .unwrap()
        .iter()
        .map(|turn| turn["items"][0]["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "three"]);
}

/// The texts of the messages with `role` in a model request.
fn texts_of(body: &Value, role: &str) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["role"] == role)
        .filter_map(|item| item["content"][0]["text"].as_str())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_threads_config_overrides_choose_its_provider_and_model() {
    let primary = MockModelServer::start(vec![]);
    let second =
        MockModelServer::start(vec![tern_test_support::mock_model::chat::text_response(&[
            "from the second provider",
        ])]);
    let mut tern = server(None, &primary.config_toml("responses"));
    let cwd = tempfile::tempdir().unwrap();

    // A bad value is refused, naming the key, and no thread is made.
    let id = tern.request(
        "thread/start",
        json!({"cwd": cwd.path(), "config": {"approval_policy": 5}}),
    );
    let error = tern.error(id);
    assert_eq!(error["code"], -32602);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("`approval_policy`"), "{message}");
    let id = tern.request("thread/loaded/list", json!({}));
    assert_eq!(tern.result(id)["data"], json!([]));

    let id = tern.request(
        "thread/start",
        json!({"cwd": cwd.path(), "config": {
            "model": "second-model",
            "model_provider": "second",
            "model_providers.second": {
                "name": "second", "base_url": second.base_url(), "wire_api": "chat",
                "env_key": "MOCK_API_KEY", "request_max_retries": 0, "stream_max_retries": 0,
            },
            "no_such_setting": true,
        }}),
    );
    let started = tern.result(id);
    assert_eq!(started["model"], "second-model");
    assert_eq!(started["modelProvider"], "second");
    let thread_id = started["thread"]["id"].as_str().unwrap().to_owned();
    tern.notification("thread/started");
    let warning = tern.notification("configWarning");
    let summary = warning["summary"].as_str().unwrap();
    assert!(summary.contains("`no_such_setting`"), "{summary}");

    let completed = turn(&mut tern, &thread_id, "hello");
    assert_eq!(completed["status"], "completed");
    assert!(primary.requests().is_empty());
    let requests = second.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].path.ends_with("/chat/completions"),
        "{}",
        requests[0].path
    );
    assert_eq!(requests[0].body["model"], "second-model");

    // Other threads keep the server's configuration.
    let id = tern.request("thread/start", json!({"cwd": cwd.path()}));
    assert_eq!(tern.result(id)["modelProvider"], "mock");
}

#[test]
fn resume_applies_setting_overrides_and_tells_the_model_what_changed() {
    let mock = MockModelServer::start(vec![
        responses::text_response("r1", &["first"]),
        responses::text_response("r2", &["second"]),
        responses::text_response("r3", &["third"]),
    ]);
    let config = mock.config_toml("responses");
    let home = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut tern = server(Some(home.path()), &config);
    let thread_id = start_thread(&mut tern, home.path());
    turn(&mut tern, &thread_id, "one");
    tern.close_stdin();
    tern.wait_exit(Duration::from_secs(5));

    let mut tern = server(Some(home.path()), &config);
    // A bad override changes nothing: the thread is not even loaded.
    let id = tern.request(
        "thread/resume",
        json!({"threadId": thread_id, "cwd": "relative/dir"}),
    );
    assert_eq!(tern.error(id)["code"], -32602);
    let id = tern.request("thread/loaded/list", json!({}));
    assert_eq!(tern.result(id)["data"], json!([]));

    let id = tern.request(
        "thread/resume",
        json!({"threadId": thread_id, "model": "other-model", "cwd": elsewhere.path(),
               "developerInstructions": "Answer in French.", "excludeTurns": true}),
    );
    let resumed = tern.result(id);
    assert_eq!(resumed["model"], "other-model");
    assert_eq!(resumed["cwd"], elsewhere.path().to_str().unwrap());
    assert_eq!(resumed["thread"]["turns"], json!([]));

    turn(&mut tern, &thread_id, "two");
    let body = &mock.requests()[1].body;
    assert_eq!(body["model"], "other-model");
    assert_eq!(
        texts_of(body, "developer").last().unwrap(),
        "Answer in French."
    );
    let contexts: Vec<String> = texts_of(body, "user")
        .into_iter()
        .filter(|text| text.starts_with("<environment_context>"))
        .collect();
    assert_eq!(contexts.len(), 2, "{contexts:?}");
    assert!(contexts[1].contains(elsewhere.path().to_str().unwrap()));

    // Nothing changed since: the next turn tells the model nothing new.
    turn(&mut tern, &thread_id, "three");
    let next = &mock.requests()[2].body;
    assert_eq!(
        texts_of(next, "developer").len(),
        texts_of(body, "developer").len()
    );
    assert_eq!(
        texts_of(next, "user")
            .iter()
            .filter(|text| text.starts_with("<environment_context>"))
            .count(),
        2
    );
}
