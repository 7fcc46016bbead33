//! The model's tools through the binary: the mock model calls each tool, the client answers
//! each server request, and every message is validated against the upstream schema.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tern_test_support::mock_model::{MockModelServer, MockResponse, responses};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::{notifications, tern};

fn server_for(mock: &MockModelServer) -> TernProcess {
    let mut tern = tern()
        .config_toml(mock.config_toml("responses"))
        .env("MOCK_API_KEY", "sk-test")
        .spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    tern
}

/// A thread in a fresh directory under the home, with `extra` params.
fn start_thread(tern: &mut TernProcess, extra: &Value) -> (String, std::path::PathBuf) {
    let cwd = tern.home().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut params = json!({"cwd": cwd.to_str().unwrap()});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let id = tern.request("thread/start", params);
    let result = tern.result(id);
    tern.notification("thread/started");
    (result["thread"]["id"].as_str().unwrap().to_owned(), cwd)
}

fn start_turn(tern: &mut TernProcess, thread_id: &str) -> i64 {
    let id = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}),
    );
    tern.result(id);
    id
}

/// Every message until `turn/completed`, with server requests answered by `answer`.
fn finish_turn(
    tern: &mut TernProcess,
    mut answer: impl FnMut(&str, &Value) -> Value,
) -> Vec<Received> {
    let mut messages = Vec::new();
    loop {
        let message = tern.next_message(DEFAULT_TIMEOUT);
        if let Received::Request { id, method, params } = &message {
            let result = answer(method, params);
            tern.respond(id, result);
        }
        let done =
            matches!(&message, Received::Notification { method, .. } if method == "turn/completed");
        messages.push(message);
        if done {
            return messages;
        }
    }
}

fn never(_: &str, params: &Value) -> Value {
    panic!("no request expected, got {params}")
}

fn names(messages: &[Received]) -> Vec<String> {
    messages
        .iter()
        .map(|message| match message {
            Received::Notification { method, .. } => method.clone(),
            Received::Request { method, .. } => format!("request {method}"),
            Received::Result { .. } => "result".to_owned(),
            Received::Error { .. } => "error".to_owned(),
        })
        .collect()
}

/// The `function_call_output` the model got in request `index` for `call_id`.
fn tool_output(mock: &MockModelServer, index: usize, call_id: &str) -> Value {
    let requests = mock.wait_for_requests(index + 1, DEFAULT_TIMEOUT);
    requests[index].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == call_id)
        .unwrap_or_else(|| panic!("no output for {call_id} in {}", requests[index].body))["output"]
        .clone()
}

fn done() -> MockResponse {
    responses::text_response("done", &["ok"])
}

fn call(call_id: &str, name: &str, arguments: &Value) -> MockResponse {
    responses::tool_call(&format!("r_{call_id}"), call_id, name, arguments)
}

#[test]
fn the_model_is_offered_the_reference_tools() {
    let mock = MockModelServer::start(vec![done()]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    start_turn(&mut tern, &thread_id);
    finish_turn(&mut tern, never);
    let body = &mock.requests()[0].body;
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            tool["name"]
                .as_str()
                .unwrap_or(tool["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        tools,
        [
            "exec_command",
            "write_stdin",
            "update_plan",
            "request_user_input",
            "view_image",
            "web_search"
        ]
    );
}

#[test]
fn exec_command_runs_and_reports_as_the_reference_does() {
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "echo hi; echo err >&2; exit 3"}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    );
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let started = notifications(&messages, "item/started");
    let command = started
        .iter()
        .find(|p| p["item"]["type"] == "commandExecution")
        .unwrap();
    assert_eq!(
        command["item"]["command"],
        "/bin/bash -lc 'echo hi; echo err >&2; exit 3'"
    );
    assert_eq!(command["item"]["cwd"], cwd.to_str().unwrap());
    assert_eq!(command["item"]["status"], "inProgress");
    let completed = notifications(&messages, "item/completed");
    let command = completed
        .iter()
        .find(|p| p["item"]["type"] == "commandExecution")
        .unwrap();
    assert_eq!(command["item"]["status"], "failed");
    assert_eq!(command["item"]["exitCode"], 3);
    let output = command["item"]["aggregatedOutput"].as_str().unwrap();
    assert!(
        output.contains("hi\n") && output.contains("err\n"),
        "{output}"
    );
    let text = tool_output(&mock, 1, "c1");
    let text = text.as_str().unwrap();
    assert!(text.starts_with("Chunk ID: "), "{text}");
    assert!(
        text.contains("\nProcess exited with code 3\nOriginal token count: 2\nOutput:\n"),
        "{text}"
    );
}

#[test]
fn a_long_command_keeps_running_in_a_session_that_write_stdin_polls() {
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "sleep 0.6; echo done", "yield_time_ms": 250}),
        ),
        call(
            "c2",
            "write_stdin",
            &json!({"session_id": 1000, "chars": "", "yield_time_ms": 5000}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    );
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let first = tool_output(&mock, 1, "c1");
    assert!(
        first
            .as_str()
            .unwrap()
            .contains("Process running with session ID 1000\n"),
        "{first}"
    );
    let second = tool_output(&mock, 2, "c2");
    let second = second.as_str().unwrap();
    assert!(
        second.contains("Process exited with code 0\n") && second.ends_with("done\n"),
        "{second}"
    );
    let deltas: String = notifications(&messages, "item/commandExecution/outputDelta")
        .iter()
        .map(|p| p["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "done\n");
    let completed = notifications(&messages, "item/completed");
    let command = completed
        .iter()
        .find(|p| p["item"]["type"] == "commandExecution")
        .unwrap();
    assert_eq!(command["item"]["processId"], "1000");
    assert_eq!(command["item"]["status"], "completed");
}

/// Under `untrusted`, a command that writes asks first; each decision does what it says, and
/// an approved command runs outside the (here read-only) sandbox, as in the reference.
#[test]
fn command_approvals_follow_each_decision() {
    let mock = MockModelServer::start(vec![
        call("c1", "exec_command", &json!({"cmd": "touch accepted"})),
        call("c2", "exec_command", &json!({"cmd": "touch declined"})),
        call("c3", "exec_command", &json!({"cmd": "echo x >> session"})),
        call("c4", "exec_command", &json!({"cmd": "echo x >> session"})),
        call("c5", "exec_command", &json!({"cmd": "touch garbage"})),
        call("c6", "exec_command", &json!({"cmd": "cat accepted"})),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "untrusted", "sandbox": "read-only"}),
    );
    start_turn(&mut tern, &thread_id);
    let mut asked = Vec::new();
    let messages = finish_turn(&mut tern, |method, params| {
        assert_eq!(method, "item/commandExecution/requestApproval");
        asked.push(params["itemId"].as_str().unwrap().to_owned());
        match params["itemId"].as_str().unwrap() {
            "c1" => json!({"decision": "accept"}),
            "c2" => json!({"decision": "decline"}),
            "c3" => json!({"decision": "acceptForSession"}),
            _ => json!({"decision": "bogus"}),
        }
    });
    // c4 repeats an approved-for-session command; c6 only reads.
    assert_eq!(asked, ["c1", "c2", "c3", "c5"]);
    assert!(cwd.join("accepted").exists());
    assert!(!cwd.join("declined").exists());
    assert!(cwd.join("session").exists());
    assert!(!cwd.join("garbage").exists());
    assert_eq!(notifications(&messages, "serverRequest/resolved").len(), 4);
    let status = |id: &str| {
        notifications(&messages, "item/completed")
            .iter()
            .find(|p| p["item"]["id"] == id)
            .map(|p| p["item"]["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("c1").as_deref(), Some("completed"));
    assert_eq!(status("c2").as_deref(), Some("declined"));
    assert_eq!(status("c5").as_deref(), Some("failed"));
    assert!(
        tool_output(&mock, 2, "c2")
            .as_str()
            .unwrap()
            .contains("declined")
    );
    // The request and its answer came in the reference's order.
    let order = names(&messages);
    let request = order
        .iter()
        .position(|n| n == "request item/commandExecution/requestApproval")
        .unwrap();
    assert_eq!(order[request - 1], "item/started");
    assert_eq!(order[request - 2], "thread/status/changed");
    assert_eq!(order[request + 1], "serverRequest/resolved");
}

/// An escalation approved for the session runs outside the sandbox again without asking; the
/// same command without escalation stays sandboxed (as in the reference).
#[test]
fn an_escalation_approved_for_the_session_runs_outside_the_sandbox_again() {
    let escalated = json!({"cmd": "echo x >> esc", "sandbox_permissions": "require_escalated",
                           "justification": "needs a write"});
    let mock = MockModelServer::start(vec![
        call("c1", "exec_command", &escalated),
        call("c2", "exec_command", &escalated),
        call("c3", "exec_command", &json!({"cmd": "echo x >> esc"})),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "on-request", "sandbox": "read-only"}),
    );
    start_turn(&mut tern, &thread_id);
    let mut asked = Vec::new();
    finish_turn(&mut tern, |_, params| {
        asked.push(params["itemId"].as_str().unwrap().to_owned());
        assert_eq!(params["reason"], "needs a write");
        json!({"decision": "acceptForSession"})
    });
    assert_eq!(asked, ["c1"]);
    assert_eq!(std::fs::read_to_string(cwd.join("esc")).unwrap(), "x\nx\n");
    // Appending writes to the file: only outside the sandbox does it succeed.
    let exit = |index, id| {
        let output = tool_output(&mock, index, id);
        output
            .as_str()
            .unwrap()
            .contains("Process exited with code 0")
    };
    assert!(exit(2, "c2"));
    assert!(!exit(3, "c3"));
}

/// A granular policy with sandbox approvals on asks, after the sandbox denied a command,
/// whether to run it again outside; the retry finishes the command's one item.
#[test]
fn a_granular_policy_offers_to_rerun_what_the_sandbox_denied() {
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "echo before; touch retried"}),
        ),
        call("c2", "exec_command", &json!({"cmd": "touch declined"})),
        call("c3", "exec_command", &json!({"cmd": "echo x >> session"})),
        call("c4", "exec_command", &json!({"cmd": "echo x >> session"})),
        call(
            "c5",
            "exec_command",
            &json!({"cmd": "ls /nonexistent-tern-dir"}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let policy = json!({"granular": {"sandbox_approval": true, "rules": false,
                                     "mcp_elicitations": false}});
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": policy, "sandbox": "read-only"}),
    );
    start_turn(&mut tern, &thread_id);
    let mut asked = Vec::new();
    let messages = finish_turn(&mut tern, |method, params| {
        assert_eq!(method, "item/commandExecution/requestApproval");
        assert_eq!(params["reason"], "command failed; retry without sandbox?");
        let id = params["itemId"].as_str().unwrap().to_owned();
        let decision = match id.as_str() {
            "c1" => "accept",
            "c2" => "decline",
            _ => "acceptForSession",
        };
        asked.push(id);
        json!({"decision": decision})
    });
    // c4 repeats a command approved for the session; c5 failed without a denial.
    assert_eq!(asked, ["c1", "c2", "c3"]);
    assert!(cwd.join("retried").exists());
    assert!(!cwd.join("declined").exists());
    assert_eq!(
        std::fs::read_to_string(cwd.join("session")).unwrap(),
        "x\nx\n"
    );
    let items = |method| -> Vec<Value> {
        notifications(&messages, method)
            .iter()
            .filter(|p| p["item"]["id"] == "c1")
            .map(|p| p["item"].clone())
            .collect()
    };
    let (started, completed) = (items("item/started"), items("item/completed"));
    assert_eq!((started.len(), completed.len()), (1, 1));
    assert_eq!(completed[0]["status"], "completed");
    assert_eq!(completed[0]["exitCode"], 0);
    assert_eq!(completed[0]["aggregatedOutput"], "before\n");
    let output = tool_output(&mock, 1, "c1");
    assert!(
        output
            .as_str()
            .unwrap()
            .contains("Process exited with code 0\n"),
        "{output}"
    );
    let declined = notifications(&messages, "item/completed")
        .into_iter()
        .find(|p| p["item"]["id"] == "c2")
        .unwrap();
    assert_eq!(declined["item"]["status"], "declined");
    assert!(
        tool_output(&mock, 2, "c2")
            .as_str()
            .unwrap()
            .contains("declined")
    );
    assert!(
        tool_output(&mock, 4, "c4")
            .as_str()
            .unwrap()
            .contains("Process exited with code 0\n")
    );
}

/// With sandbox approvals off, a granular policy refuses to leave the sandbox without
/// asking: no escalation, no retry, no patch outside the writable roots.
#[test]
fn a_granular_policy_without_sandbox_approvals_refuses_without_asking() {
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n";
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "touch esc", "sandbox_permissions": "require_escalated"}),
        ),
        call("c2", "exec_command", &json!({"cmd": "touch plain"})),
        call(
            "c3",
            "exec_command",
            &json!({"cmd": format!("apply_patch <<'EOF'\n{patch}EOF\n")}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let policy = json!({"granular": {"sandbox_approval": false, "rules": true,
                                     "mcp_elicitations": true}});
    let id = tern.request(
        "thread/start",
        json!({"cwd": tern.home().to_str().unwrap(), "approvalPolicy": policy,
               "sandbox": "read-only"}),
    );
    let started = tern.result(id);
    let thread_id = started["thread"]["id"].as_str().unwrap().to_owned();
    // Echoed with the categories left out filled in, as the reference does.
    assert_eq!(
        started["approvalPolicy"],
        json!({"granular": {"sandbox_approval": false, "rules": true, "skill_approval": false,
                            "request_permissions": false, "mcp_elicitations": true}})
    );
    start_turn(&mut tern, &thread_id);
    finish_turn(&mut tern, never);
    // The rollout keeps the policy as the reference writes it, so a resume gets it back.
    let rollout = std::fs::read_to_string(started["thread"]["path"].as_str().unwrap()).unwrap();
    let context: Value = rollout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["type"] == "turn_context")
        .unwrap();
    assert_eq!(
        context["payload"]["approval_policy"],
        started["approvalPolicy"]
    );
    let home = tern.home().to_owned();
    assert!(!home.join("esc").exists() && !home.join("plain").exists());
    assert!(!home.join("a.txt").exists());
    let output = |index, id| tool_output(&mock, index, id).as_str().unwrap().to_owned();
    assert!(output(1, "c1").contains("approval policy is granular"));
    assert!(output(2, "c2").contains("Process exited with code 1"));
    assert!(output(3, "c3").starts_with("apply_patch failed: the patch writes outside"));
}

#[test]
fn cancelling_an_approval_interrupts_the_turn() {
    let mock = MockModelServer::start(vec![call("c1", "exec_command", &json!({"cmd": "touch x"}))]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(&mut tern, &json!({"approvalPolicy": "untrusted"}));
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, |_, _| json!({"decision": "cancel"}));
    let completed = notifications(&messages, "turn/completed");
    assert_eq!(completed[0]["turn"]["status"], "interrupted");
    assert!(!cwd.join("x").exists());
}

#[test]
fn apply_patch_through_the_shell_is_a_file_change_with_a_turn_diff() {
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n";
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": format!("apply_patch <<'EOF'\n{patch}EOF\n")}),
        ),
        call(
            "c2",
            "exec_command",
            &json!({"cmd": format!("apply_patch <<'EOF'\n{}EOF\n", "*** Begin Patch\n*** Add File: b.txt\n+no\n*** End Patch\n")}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}),
    );
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, |method, params| {
        assert_eq!(method, "item/fileChange/requestApproval");
        if params["itemId"] == "c1" {
            json!({"decision": "accept"})
        } else {
            json!({"decision": "decline"})
        }
    });
    assert_eq!(
        std::fs::read_to_string(cwd.join("a.txt")).unwrap(),
        "hello\n"
    );
    assert!(!cwd.join("b.txt").exists());
    let completed = notifications(&messages, "item/completed");
    let change = completed.iter().find(|p| p["item"]["id"] == "c1").unwrap();
    assert_eq!(change["item"]["type"], "fileChange");
    assert_eq!(change["item"]["status"], "completed");
    assert_eq!(change["item"]["changes"][0]["kind"], json!({"type": "add"}));
    assert_eq!(change["item"]["changes"][0]["diff"], "hello\n");
    let declined = completed.iter().find(|p| p["item"]["id"] == "c2").unwrap();
    assert_eq!(declined["item"]["status"], "declined");
    assert!(
        notifications(&messages, "item/started")
            .iter()
            .all(|p| p["item"]["type"] != "commandExecution")
    );
    let diff = notifications(&messages, "turn/diff/updated");
    let last = diff.last().unwrap()["diff"].as_str().unwrap();
    assert!(
        last.contains("new file mode 100644\n--- /dev/null\n+++ b/") && last.ends_with("+hello\n"),
        "{last}"
    );
    let output = tool_output(&mock, 1, "c1");
    assert_eq!(output, "Success. Updated the following files:\nA a.txt\n");
}

#[test]
fn update_plan_surfaces_as_turn_plan_updated() {
    let plan = json!({"explanation": "first", "plan": [
        {"step": "read", "status": "completed"}, {"step": "write", "status": "in_progress"}]});
    let mock = MockModelServer::start(vec![call("c1", "update_plan", &plan), done()]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let updated = notifications(&messages, "turn/plan/updated");
    assert_eq!(updated[0]["explanation"], "first");
    assert_eq!(
        updated[0]["plan"],
        json!([{"step": "read", "status": "completed"}, {"step": "write", "status": "inProgress"}])
    );
}

#[test]
fn request_user_input_asks_the_client_and_returns_its_answers() {
    let questions = json!({"questions": [{"id": "q1", "header": "H", "question": "Which?",
        "options": [{"label": "A", "description": "a"}]}]});
    let mock = MockModelServer::start(vec![call("c1", "request_user_input", &questions), done()]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, |method, params| {
        assert_eq!(method, "item/tool/requestUserInput");
        assert_eq!(params["questions"][0]["isOther"], true);
        json!({"answers": {"q1": {"answers": ["A"]}}})
    });
    assert_eq!(notifications(&messages, "serverRequest/resolved").len(), 1);
    assert_eq!(
        tool_output(&mock, 1, "c1"),
        json!("{\"answers\":{\"q1\":{\"answers\":[\"A\"]}}}")
    );
}

#[test]
fn dynamic_tools_are_called_through_the_client() {
    let mock = MockModelServer::start(vec![call("c1", "lookup", &json!({"q": "x"})), done()]);
    let mut tern = server_for(&mock);
    let tool = json!([{"name": "lookup", "description": "Look up", "inputSchema": {"type": "object"}, "type": "function"}]);
    let (thread_id, _) = start_thread(&mut tern, &json!({"dynamicTools": tool}));
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, |method, params| {
        assert_eq!(method, "item/tool/call");
        assert_eq!(params["tool"], "lookup");
        assert_eq!(params["arguments"], json!({"q": "x"}));
        json!({"contentItems": [{"type": "inputText", "text": "42"}], "success": true})
    });
    let completed = notifications(&messages, "item/completed");
    let item = completed
        .iter()
        .find(|p| p["item"]["type"] == "dynamicToolCall")
        .unwrap();
    assert_eq!(item["item"]["status"], "completed");
    assert_eq!(tool_output(&mock, 1, "c1"), "42");
    assert!(
        mock.requests()[0].body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "lookup")
    );
}

#[test]
fn view_image_shows_the_model_a_local_image() {
    let mock = MockModelServer::start(vec![
        call("c1", "view_image", &json!({"path": "img.png"})),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(&mut tern, &json!({}));
    std::fs::write(cwd.join("img.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let completed = notifications(&messages, "item/completed");
    let item = completed
        .iter()
        .find(|p| p["item"]["type"] == "imageView")
        .unwrap();
    assert_eq!(item["item"]["path"], cwd.join("img.png").to_str().unwrap());
    let output = tool_output(&mock, 1, "c1");
    assert!(
        output[0]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{output}"
    );
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.split(") ").nth(1).unwrap_or("").starts_with('Z'))
}

#[test]
fn interrupting_a_turn_kills_its_command_and_the_command_s_children() {
    let mock = MockModelServer::start(vec![call(
        "c1",
        "exec_command",
        &json!({"cmd": "sleep 60 & echo $! > child.pid; echo $$ > shell.pid; wait", "yield_time_ms": 30000}),
    )]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    );
    let turn = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}),
    );
    let turn_id = tern.result(turn)["turn"]["id"].as_str().unwrap().to_owned();
    tern.notification("item/started");
    let pid = |name: &str| loop {
        if let Ok(text) = std::fs::read_to_string(cwd.join(name)) {
            if let Ok(pid) = text.trim().parse::<i32>() {
                break pid;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (child, shell) = (pid("child.pid"), pid("shell.pid"));
    assert!(alive(child) && alive(shell));
    let id = tern.request(
        "turn/interrupt",
        json!({"threadId": thread_id, "turnId": turn_id}),
    );
    tern.result(id);
    let completed = tern.notification("turn/completed");
    assert_eq!(completed["turn"]["status"], "interrupted");
    let deadline = std::time::Instant::now() + DEFAULT_TIMEOUT;
    while (alive(child) || alive(shell)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(child), "the command's child outlived the interrupt");
    assert!(!alive(shell), "the command outlived the interrupt");
    let output = tool_output_after_interrupt(&mock, &mut tern, &thread_id);
    assert!(output.contains("aborted by user"), "{output}");
}

/// The output the model got for the interrupted call, seen in the next turn's request.
fn tool_output_after_interrupt(
    mock: &MockModelServer,
    tern: &mut TernProcess,
    thread_id: &str,
) -> String {
    mock.push([done()]);
    start_turn(tern, thread_id);
    finish_turn(tern, never);
    tool_output(mock, 1, "c1").as_str().unwrap().to_owned()
}

#[test]
fn an_interrupt_resolves_a_pending_approval_after_the_turn_ends() {
    let mock = MockModelServer::start(vec![call("c1", "exec_command", &json!({"cmd": "touch x"}))]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(&mut tern, &json!({"approvalPolicy": "untrusted"}));
    let turn = tern.request(
        "turn/start",
        json!({"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}),
    );
    let turn_id = tern.result(turn)["turn"]["id"].as_str().unwrap().to_owned();
    let (request_id, _) = tern.server_request("item/commandExecution/requestApproval");
    let id = tern.request(
        "turn/interrupt",
        json!({"threadId": thread_id, "turnId": turn_id}),
    );
    tern.result(id);
    let mut order = Vec::new();
    loop {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Notification { method, params } => {
                order.push(method.clone());
                if method == "serverRequest/resolved" {
                    assert_eq!(params["requestId"], request_id);
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        order.iter().rev().nth(1).map(String::as_str),
        Some("turn/completed")
    );
    // A late answer changes nothing.
    tern.respond(&request_id, json!({"decision": "accept"}));
    tern.assert_silent(Duration::from_millis(300));
    assert!(!Path::new(&cwd.join("x")).exists());
}

/// Tool items are stored with their turn: a restarted server reads them back as they were
/// announced.
#[test]
fn tool_items_survive_a_restart() {
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n";
    let mock = MockModelServer::start(vec![
        call("c1", "exec_command", &json!({"cmd": "echo hi; exit 3"})),
        call(
            "c2",
            "exec_command",
            &json!({"cmd": format!("apply_patch <<'EOF'\n{patch}EOF\n")}),
        ),
        call("c3", "view_image", &json!({"path": "img.png"})),
        call("c4", "lookup", &json!({"q": "x"})),
        done(),
    ]);
    let home = tempfile::tempdir().unwrap();
    let spawn = || {
        let mut tern = tern()
            .home(home.path())
            .config_toml(mock.config_toml("responses"))
            .env("MOCK_API_KEY", "sk-test")
            .spawn();
        tern.initialize_with(json!({"experimentalApi": true}));
        tern
    };
    let mut tern = spawn();
    let tool = json!([{"name": "lookup", "description": "Look up", "inputSchema": {"type": "object"}, "type": "function"}]);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access", "dynamicTools": tool}),
    );
    std::fs::write(cwd.join("img.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(
        &mut tern,
        |_, _| json!({"contentItems": [{"type": "inputText", "text": "42"}], "success": true}),
    );
    let live: Vec<Value> = notifications(&messages, "item/completed")
        .iter()
        .map(|p| p["item"].clone())
        .collect();
    let kinds: Vec<&str> = live.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "userMessage",
            "commandExecution",
            "fileChange",
            "imageView",
            "dynamicToolCall",
            "agentMessage"
        ]
    );
    tern.close_stdin();
    tern.wait_exit(DEFAULT_TIMEOUT);

    let mut tern = spawn();
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = tern.result(id);
    let stored = read["thread"]["turns"][0]["items"].as_array().unwrap();
    // The agent message's phase is not stored (as in the reference).
    let without_phase = |items: &[Value]| -> Vec<Value> {
        items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item.as_object_mut().unwrap().remove("phase");
                item
            })
            .collect()
    };
    assert_eq!(without_phase(stored), without_phase(&live));
}

/// The user messages of a model request, as text.
fn user_texts(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message" && item["role"] == "user")
        .map(|item| item["content"][0]["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn shell_commands_refuse_bad_params_and_unknown_threads() {
    let mock = MockModelServer::start(vec![]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": " "}),
    );
    let error = tern.error(id);
    assert_eq!(
        (error["code"].as_i64(), error["message"].as_str()),
        (Some(-32600), Some("command must not be empty"))
    );
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": "echo x", "timeoutMs": -1}),
    );
    let error = tern.error(id);
    assert_eq!(
        (error["code"].as_i64(), error["message"].as_str()),
        (
            Some(-32602),
            Some("thread/shellCommand timeoutMs must be non-negative, got -1")
        )
    );
    let unknown = "00000000-0000-0000-0000-000000000000";
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": unknown, "command": "echo x"}),
    );
    assert_eq!(
        tern.error(id)["message"],
        format!("thread not found: {unknown}")
    );
    assert!(mock.requests().is_empty());
}

/// On an idle thread a shell command is a turn of its own that runs outside the sandbox and
/// asks the model nothing; the model hears of it on the next turn.
#[test]
fn a_shell_command_is_a_turn_of_its_own_and_the_model_hears_of_it_next() {
    let mock = MockModelServer::start(vec![done()]);
    let mut tern = server_for(&mock);
    let (thread_id, cwd) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "read-only"}),
    );
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": "echo hi; echo err >&2; touch made; exit 2"}),
    );
    assert_eq!(tern.result(id), json!({}));
    let messages = finish_turn(&mut tern, never);
    assert_eq!(
        names(&messages),
        [
            "thread/status/changed",
            "turn/started",
            "item/started",
            "item/commandExecution/outputDelta",
            "item/commandExecution/outputDelta",
            "item/completed",
            "thread/status/changed",
            "turn/completed"
        ]
    );
    let started = &notifications(&messages, "item/started")[0]["item"];
    assert_eq!(
        started["command"],
        "/bin/bash -lc 'echo hi; echo err >&2; touch made; exit 2'"
    );
    assert_eq!(started["source"], "userShell");
    assert_eq!(started["processId"], Value::Null);
    assert_eq!(started["cwd"], cwd.to_str().unwrap());
    let completed = &notifications(&messages, "item/completed")[0]["item"];
    assert_eq!(completed["status"], "failed");
    assert_eq!(completed["exitCode"], 2);
    // stdout and stderr are separate pipes, read as they come: either may be first.
    let output = completed["aggregatedOutput"].as_str().unwrap();
    assert!(output == "hi\nerr\n" || output == "err\nhi\n", "{output:?}");
    // Unsandboxed although the thread is read-only.
    assert!(cwd.join("made").exists());
    let turn = &notifications(&messages, "turn/completed")[0]["turn"];
    assert_eq!(turn["status"], "completed");
    assert!(mock.requests().is_empty());

    start_turn(&mut tern, &thread_id);
    finish_turn(&mut tern, never);
    let texts = user_texts(&mock.requests()[0].body);
    let shell = texts
        .iter()
        .position(|t| t.starts_with("<user_shell_command>"))
        .unwrap();
    let context = texts
        .iter()
        .position(|t| t.starts_with("<environment_context>"))
        .unwrap();
    assert!(shell < context, "{texts:?}");
    assert_eq!(texts.last().unwrap(), "go");
    let message = &texts[shell];
    assert!(
        message.starts_with(
            "<user_shell_command>\n<command>\necho hi; echo err >&2; touch made; exit 2\n\
             </command>\n<result>\nExit code: 2\nDuration: "
        ) && message.ends_with(&format!(
            " seconds\nOutput:\n{output}\n</result>\n</user_shell_command>"
        )),
        "{message}"
    );

    // A shell turn survives a reread like any other.
    let id = tern.request(
        "thread/read",
        json!({"threadId": thread_id, "includeTurns": true}),
    );
    let read = tern.result(id);
    assert_eq!(read["thread"]["turns"][0]["items"][0], *completed);
}

/// During a turn, a shell command joins it; the model hears of it after the tool output it
/// is waiting for. A time limit ends a command that runs too long.
#[test]
fn a_shell_command_during_a_turn_joins_it() {
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "sleep 2; echo agent", "yield_time_ms": 5000}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    );
    start_turn(&mut tern, &thread_id);
    let started = tern.notification("turn/started");
    let turn_id = started["turn"]["id"].as_str().unwrap().to_owned();
    mock.wait_for_requests(1, DEFAULT_TIMEOUT);
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": "echo during"}),
    );
    let id2 = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": "sleep 5", "timeoutMs": 200}),
    );
    let messages = finish_turn(&mut tern, never);
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, Received::Result { id: i, .. } if *i == id))
    );
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, Received::Result { id: i, .. } if *i == id2))
    );
    let shell: Vec<&Value> = notifications(&messages, "item/completed")
        .into_iter()
        .filter(|p| p["item"]["source"] == "userShell")
        .collect();
    assert_eq!(shell.len(), 2, "{messages:?}");
    for params in &shell {
        assert_eq!(params["turnId"], turn_id.as_str());
    }
    let during = shell.iter().find(|p| p["item"]["exitCode"] == 0).unwrap();
    assert_eq!(during["item"]["aggregatedOutput"], "during\n");
    let late = shell.iter().find(|p| p["item"]["exitCode"] == 124).unwrap();
    assert_eq!(late["item"]["status"], "failed");
    assert!(
        late["item"]["aggregatedOutput"]
            .as_str()
            .unwrap()
            .contains("timed out after 200 ms")
    );
    // The follow-up request: the call, its output, then the shell commands.
    let body = &mock.wait_for_requests(2, DEFAULT_TIMEOUT)[1].body;
    let kinds: Vec<&str> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap())
        .collect();
    let output = kinds
        .iter()
        .position(|k| *k == "function_call_output")
        .unwrap();
    let texts = user_texts(body);
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.starts_with("<user_shell_command>"))
            .count(),
        2,
        "{texts:?}"
    );
    assert_eq!(kinds.len(), output + 3, "{kinds:?}");
}

#[test]
fn interrupting_a_shell_turn_kills_its_command() {
    let mock = MockModelServer::start(vec![]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    let id = tern.request(
        "thread/shellCommand",
        json!({"threadId": thread_id, "command": "echo running; sleep 30"}),
    );
    tern.result(id);
    let turn_id = tern.notification("turn/started")["turn"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Killing a login shell before its profile ran could leave the profile's locks behind.
    tern.notification("item/commandExecution/outputDelta");
    let id = tern.request(
        "turn/interrupt",
        json!({"threadId": thread_id, "turnId": turn_id}),
    );
    tern.result(id);
    let completed = tern.notification("item/completed");
    assert_eq!(completed["item"]["status"], "failed");
    assert_eq!(completed["item"]["exitCode"], 137);
    let turn = tern.notification("turn/completed");
    assert_eq!(turn["turn"]["status"], "interrupted");
}

/// Writes to a terminal session are announced after the call's output, as the reference
/// does; a write that ends the command is not.
#[test]
fn writes_to_a_terminal_session_are_announced() {
    let mock = MockModelServer::start(vec![
        call(
            "c1",
            "exec_command",
            &json!({"cmd": "cat", "tty": true, "yield_time_ms": 300}),
        ),
        call(
            "c2",
            "write_stdin",
            &json!({"session_id": 1000, "chars": "hello\n"}),
        ),
        call(
            "c3",
            "write_stdin",
            &json!({"session_id": 1000, "chars": "\u{4}"}),
        ),
        done(),
    ]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(
        &mut tern,
        &json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    );
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let interactions = notifications(&messages, "item/commandExecution/terminalInteraction");
    // The write of ^D is announced only if `cat` has not exited by the end of that call, a
    // race the reference has too; the write of "hello" always is.
    let stdins: Vec<&Value> = interactions.iter().map(|p| &p["stdin"]).collect();
    assert!(
        stdins == [&json!("hello\n")] || stdins == [&json!("hello\n"), &json!("\u{4}")],
        "{interactions:?}"
    );
    for interaction in &interactions {
        assert_eq!(interaction["itemId"], "c1");
        assert_eq!(interaction["processId"], "1000");
    }
    let second = tool_output(&mock, 2, "c2");
    assert!(
        second.as_str().unwrap().ends_with("hello\r\nhello\r\n"),
        "{second}"
    );
}

/// A hosted web search the provider ran shows as a `webSearch` item, its action in the wire's
/// shape.
#[test]
fn hosted_web_searches_are_web_search_items() {
    use tern_test_support::mock_model::SseStep;
    let search = json!({"type": "web_search_call", "id": "ws_1", "status": "completed",
                        "action": {"type": "open_page", "url": "https://example.com/"}});
    let mock = MockModelServer::start(vec![MockResponse::Sse(vec![
        responses::created("r1"),
        SseStep::Event(json!({"type": "response.output_item.done", "item": search})),
        responses::message_added("m1"),
        responses::text_delta("m1", "found"),
        responses::message_done("m1", "found"),
        responses::completed("r1", 100, 10),
    ])]);
    let mut tern = server_for(&mock);
    let (thread_id, _) = start_thread(&mut tern, &json!({}));
    start_turn(&mut tern, &thread_id);
    let messages = finish_turn(&mut tern, never);
    let completed = notifications(&messages, "item/completed");
    let item = completed
        .iter()
        .find(|p| p["item"]["type"] == "webSearch")
        .unwrap();
    assert_eq!(item["item"]["id"], "ws_1");
    assert_eq!(item["item"]["query"], "https://example.com/");
    assert_eq!(
        item["item"]["action"],
        json!({"type": "openPage", "url": "https://example.com/"})
    );
}
