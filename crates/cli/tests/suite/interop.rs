//! Interoperability with the reference implementation (`codex app-server` 0.169.0) on one
//! home: each lists, reads, resumes and continues a thread the other wrote.
//!
//! These run when `TERN_REFERENCE_CODEX` names the reference binary, and skip otherwise.
//! `.ci/run` installs it from npm and runs them in a network namespace of their own, where
//! loopback is the only network, so the reference cannot reach anything else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use tern_test_support::mock_model::{MockModelServer, responses};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::tern;

/// The reference binary, or `None` (and a note) when it is not there.
fn reference_binary() -> Option<PathBuf> {
    let path = std::env::var_os("TERN_REFERENCE_CODEX").map(PathBuf::from);
    if path.is_none() {
        #[allow(
            clippy::print_stderr,
            reason = "the only way a test can say it skipped"
        )]
        {
            eprintln!("skipped: set TERN_REFERENCE_CODEX to the reference `codex` binary");
        }
    }
    path
}

/// A config both understand; `features.plugins` keeps the reference off the network.
fn config(mock: &MockModelServer) -> String {
    format!(
        "{}\n[features]\nplugins = false\n",
        mock.config_toml("responses")
    )
}

fn spawn_tern(home: &Path) -> TernProcess {
    let mut server = tern().home(home).env("MOCK_API_KEY", "sk-test").spawn();
    server.initialize();
    server
}

fn spawn_reference(binary: &Path, home: &Path) -> TernProcess {
    let mut server = TernProcess::builder(binary)
        .home(home)
        .env("CODEX_HOME", home.to_str().unwrap())
        .env("MOCK_API_KEY", "sk-test")
        .env("RUST_LOG", "warn")
        .spawn();
    server.initialize();
    server
}

/// Runs a text turn and waits for its end; returns the completed turn.
fn run_turn(server: &mut TernProcess, thread_id: &str, text: &str) -> Value {
    let id = server.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]}),
    );
    server.result(id);
    loop {
        match server.next_message(Duration::from_secs(30)) {
            Received::Notification { method, params }
                if method == "turn/completed" && params["threadId"] == thread_id =>
            {
                return params["turn"].clone();
            }
            _ => {}
        }
    }
}

fn stop(mut server: TernProcess) {
    server.close_stdin();
    server.wait_exit(DEFAULT_TIMEOUT);
}

/// The user and assistant texts of a read thread's items, in order.
fn item_texts(thread: &Value) -> Vec<String> {
    let mut texts = Vec::new();
    for turn in thread["turns"].as_array().unwrap() {
        for item in turn["items"].as_array().unwrap() {
            match item["type"].as_str() {
                Some("userMessage") => {
                    texts.push(item["content"][0]["text"].as_str().unwrap().to_owned());
                }
                Some("agentMessage") => texts.push(item["text"].as_str().unwrap().to_owned()),
                _ => {}
            }
        }
    }
    texts
}

/// The user and assistant message texts of a model request (context messages left out).
fn conversation(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message" && item["role"] != "developer")
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|text| !text.starts_with('<') && !text.starts_with("# AGENTS.md"))
        .map(str::to_owned)
        .collect()
}

/// Lists, reads, resumes and continues `thread_id` on `server`; checks what it saw.
fn continue_thread(
    server: &mut TernProcess,
    mock: &MockModelServer,
    thread_id: &str,
    answer: &str,
) {
    let id = server.request("thread/list", json!({}));
    let listed = server.result(id);
    assert_eq!(listed["data"][0]["id"], thread_id, "{listed}");
    assert_eq!(listed["data"][0]["preview"], "say hello");

    let id = server.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = server.result(id)["thread"].clone();
    assert_eq!(item_texts(&read), ["say hello", "Hello, world!"], "{read}");

    let id = server.request("thread/resume", json!({"threadId": thread_id}));
    let resumed = server.result(id)["thread"].clone();
    assert_eq!(item_texts(&resumed), ["say hello", "Hello, world!"]);

    mock.push([responses::text_response("r2", &[answer])]);
    let before = mock.requests().len();
    let completed = run_turn(server, thread_id, "and again");
    assert_eq!(completed["status"], "completed", "{completed}");
    let requests = mock.requests();
    let body = &requests[before..]
        .iter()
        .rev()
        .find(|request| request.path.ends_with("/responses"))
        .expect("a model request")
        .body;
    assert_eq!(
        conversation(body),
        ["say hello", "Hello, world!", "and again"]
    );
}

/// A mock that answers the first turn, a home configured for it, and a working directory.
fn setup() -> (MockModelServer, tempfile::TempDir, tempfile::TempDir) {
    let mock = MockModelServer::start(vec![responses::text_response("r1", &["Hello, ", "world!"])]);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config(&mock)).unwrap();
    (mock, home, tempfile::tempdir().unwrap())
}

/// Starts a thread in `cwd`, runs its first turn and stops the server; returns the thread id.
fn first_turn(mut server: TernProcess, cwd: &Path) -> String {
    let id = server.request("thread/start", json!({"cwd": cwd}));
    let thread_id = server.result(id)["thread"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_turn(&mut server, &thread_id, "say hello");
    stop(server);
    thread_id
}

#[test]
fn the_reference_continues_a_thread_tern_wrote() {
    let Some(reference) = reference_binary() else {
        return;
    };
    let (mock, home, cwd) = setup();

    let thread_id = first_turn(spawn_tern(home.path()), cwd.path());

    let mut codex = spawn_reference(&reference, home.path());
    continue_thread(&mut codex, &mock, &thread_id, "from the reference");
    stop(codex);

    // And back: tern reads the turn the reference appended.
    let mut tern = spawn_tern(home.path());
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = tern.result(id)["thread"].clone();
    assert_eq!(
        item_texts(&read),
        [
            "say hello",
            "Hello, world!",
            "and again",
            "from the reference"
        ]
    );
}

#[test]
fn tern_continues_a_thread_the_reference_wrote() {
    let Some(reference) = reference_binary() else {
        return;
    };
    let (mock, home, cwd) = setup();

    let thread_id = first_turn(spawn_reference(&reference, home.path()), cwd.path());

    let mut tern = spawn_tern(home.path());
    continue_thread(&mut tern, &mock, &thread_id, "from tern");
}

/// The tool items of a thread as `thread/read` shows them, reduced to the fields both
/// implementations fill the same way.
fn tool_items(server: &mut TernProcess, thread_id: &str) -> Vec<Value> {
    let id = server.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = server.result(id)["thread"].clone();
    let keys = [
        "type",
        "id",
        "status",
        "command",
        "cwd",
        "exitCode",
        "aggregatedOutput",
        "commandActions",
        "changes",
    ];
    read["turns"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "commandExecution" || item["type"] == "fileChange")
        .map(|item| {
            keys.iter()
                .filter_map(|key| Some(((*key).to_owned(), item.get(*key)?.clone())))
                .collect()
        })
        .collect()
}

/// Commands and file changes the reference stored read the same in tern, and the reverse as far
/// as the reference reads tern's.
#[test]
fn tool_items_read_the_same_in_both() {
    let Some(reference) = reference_binary() else {
        return;
    };
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n";
    for tern_writes in [true, false] {
        let mock = MockModelServer::start(vec![
            responses::tool_call(
                "r1",
                "c1",
                "exec_command",
                &json!({"cmd": "echo hi; exit 3"}),
            ),
            responses::tool_call(
                "r2",
                "c2",
                "exec_command",
                &json!({"cmd": format!("apply_patch <<'EOF'\n{patch}EOF\n")}),
            ),
            responses::text_response("r3", &["done"]),
        ]);
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), config(&mock)).unwrap();
        let cwd = tempfile::tempdir().unwrap();
        let mut writer = if tern_writes {
            spawn_tern(home.path())
        } else {
            spawn_reference(&reference, home.path())
        };
        let id = writer.request(
            "thread/start",
            json!({"cwd": cwd.path(), "approvalPolicy": "never", "sandbox": "danger-full-access"}),
        );
        let thread_id = writer.result(id)["thread"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        run_turn(&mut writer, &thread_id, "go");
        stop(writer);

        let mut tern = spawn_tern(home.path());
        let by_tern = tool_items(&mut tern, &thread_id);
        stop(tern);
        let mut codex = spawn_reference(&reference, home.path());
        let by_reference = tool_items(&mut codex, &thread_id);
        stop(codex);
        assert_eq!(
            by_tern.len(),
            2,
            "written by tern: {tern_writes}: {by_tern:?}"
        );
        if tern_writes {
            // The reference rebuilds threads it did not create from older events, and from
            // those it shows no commands (openai/codex#28162); file changes it does show.
            assert_eq!(by_reference, by_tern[1..], "{by_reference:?}");
        } else {
            assert_eq!(by_tern, by_reference);
        }
    }
}
