//! `command/exec`: standalone commands, their limits, streaming, and the sandbox they run in.

use std::path::Path;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tern_test_support::{DEFAULT_TIMEOUT, Received, TernProcess};

use super::tern;

fn server() -> TernProcess {
    let mut tern = tern().spawn();
    tern.initialize();
    tern
}

fn exec(tern: &mut TernProcess, params: Value) -> Value {
    let id = tern.request("command/exec", params);
    tern.result(id)
}

fn full_access() -> Value {
    json!({"type": "dangerFullAccess"})
}

#[test]
fn a_command_answers_with_its_exit_code_and_output() {
    let mut tern = server();
    let result = exec(
        &mut tern,
        json!({"command": ["sh", "-c", "echo hi; echo err >&2; exit 3"], "sandboxPolicy": full_access()}),
    );
    assert_eq!(
        result,
        json!({"exitCode": 3, "stdout": "hi\n", "stderr": "err\n"})
    );

    let result = exec(
        &mut tern,
        json!({"command": ["sh", "-c", "echo $FOO; echo ${HOME-unset}"],
               "env": {"FOO": "bar", "HOME": null}, "sandboxPolicy": full_access()}),
    );
    assert_eq!(result["stdout"], "bar\nunset\n");

    let result = exec(
        &mut tern,
        json!({"command": ["/no/such/program"], "sandboxPolicy": full_access()}),
    );
    assert_eq!(result["exitCode"], 127);
    assert!(
        result["stderr"]
            .as_str()
            .unwrap()
            .contains("/no/such/program")
    );
}

#[test]
fn bad_requests_are_refused_with_the_references_errors() {
    let mut tern = server();
    for (params, code, message) in [
        (json!({"command": []}), -32600, "command must not be empty"),
        (
            json!({"command": ["true"], "timeoutMs": 5, "disableTimeout": true}),
            -32602,
            "command/exec cannot set both timeoutMs and disableTimeout",
        ),
        (
            json!({"command": ["true"], "outputBytesCap": 5, "disableOutputCap": true}),
            -32602,
            "command/exec cannot set both outputBytesCap and disableOutputCap",
        ),
        (
            json!({"command": ["true"], "streamStdoutStderr": true}),
            -32600,
            "command/exec tty or streaming requires a client-supplied processId",
        ),
    ] {
        let id = tern.request("command/exec", params);
        let error = tern.error(id);
        assert_eq!(
            (error["code"].clone(), error["message"].clone()),
            (json!(code), json!(message))
        );
    }
    let id = tern.request("command/exec/terminate", json!({"processId": "nope"}));
    assert_eq!(
        tern.error(id)["message"],
        "no active command/exec for process id \"nope\""
    );
    // Still serving.
    let result = exec(
        &mut tern,
        json!({"command": ["true"], "sandboxPolicy": full_access()}),
    );
    assert_eq!(result["exitCode"], 0);
}

#[test]
fn timeouts_and_caps_bound_a_command() {
    let mut tern = server();
    let started = Instant::now();
    let result = exec(
        &mut tern,
        json!({"command": ["sleep", "30"], "timeoutMs": 200, "sandboxPolicy": full_access()}),
    );
    assert_eq!(result["exitCode"], 124);
    assert!(started.elapsed() < Duration::from_secs(10));

    let result = exec(
        &mut tern,
        json!({"command": ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2"],
               "outputBytesCap": 10, "sandboxPolicy": full_access()}),
    );
    assert_eq!(
        result,
        json!({"exitCode": 0, "stdout": "aaaaaaaaaa", "stderr": "done\n"})
    );
}

fn decode(delta: &Value) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(delta["deltaBase64"].as_str().unwrap())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn streamed_output_and_stdin_go_through_notifications_and_writes() {
    let mut tern = server();
    let id = tern.request(
        "command/exec",
        json!({"command": ["sh", "-c", "echo abc; echo def >&2; exit 4"], "processId": "p1",
               "streamStdoutStderr": true, "sandboxPolicy": full_access()}),
    );
    let mut out = String::new();
    let mut err = String::new();
    let result = loop {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Notification { method, params } if method == "command/exec/outputDelta" => {
                assert_eq!(params["processId"], "p1");
                match params["stream"].as_str().unwrap() {
                    "stdout" => out.push_str(&decode(&params)),
                    _ => err.push_str(&decode(&params)),
                }
            }
            Received::Result { id: got, result } if got == json!(id) => break result,
            other => panic!("unexpected {other:?}"),
        }
    };
    // Streamed output is not repeated in the result, which comes after it.
    assert_eq!(result, json!({"exitCode": 4, "stdout": "", "stderr": ""}));
    assert_eq!((out.as_str(), err.as_str()), ("abc\n", "def\n"));

    let exec_id = tern.request(
        "command/exec",
        json!({"command": ["cat"], "processId": "p2", "streamStdin": true,
               "sandboxPolicy": full_access()}),
    );
    let write = loop {
        // The process may not be registered the instant the request is sent.
        let id = tern.request(
            "command/exec/write",
            json!({"processId": "p2", "deltaBase64": "aGVsbG8K", "closeStdin": true}),
        );
        match tern.response(id) {
            Ok(result) => break result,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    assert_eq!(write, json!({}));
    assert_eq!(
        tern.result(exec_id),
        json!({"exitCode": 0, "stdout": "hello\n", "stderr": ""})
    );
}

/// Reads a terminal's streamed output into `seen` until it holds `needle`.
fn read_until(tern: &mut TernProcess, process_id: &str, seen: &mut String, needle: &str) {
    while !seen.contains(needle) {
        match tern.next_message(DEFAULT_TIMEOUT) {
            Received::Notification { method, params } if method == "command/exec/outputDelta" => {
                // Output another command printed after the one it waited for is skipped.
                if params["processId"] == process_id {
                    assert_eq!(params["stream"], "stdout");
                    seen.push_str(&decode(&params));
                }
            }
            Received::Result { result, .. } if result == json!({}) => {}
            other => panic!("unexpected {other:?} after {seen:?}"),
        }
    }
}

/// An interactive shell in a terminal: what it prints (echo included) streams, writes are
/// typed into it, a resize reaches it, and `exit` ends it.
#[test]
fn a_tty_command_is_an_interactive_shell_driven_by_write_resize_and_terminate() {
    use base64::Engine as _;
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut tern = server();
    let exec_id = tern.request(
        "command/exec",
        json!({"command": ["sh"], "processId": "t1", "tty": true,
               "size": {"rows": 10, "cols": 20}, "sandboxPolicy": full_access(),
               "env": {"PS1": "$ "}}),
    );
    let mut seen = String::new();
    // The prompt says the shell is up.
    read_until(&mut tern, "t1", &mut seen, "$ ");
    let write = tern.request(
        "command/exec/write",
        json!({"processId": "t1", "deltaBase64": b64("stty size; tty\n")}),
    );
    read_until(&mut tern, "t1", &mut seen, "10 20\r\n");
    read_until(&mut tern, "t1", &mut seen, "/dev/pts/");
    assert!(
        seen.contains("stty size; tty\r\n"),
        "the terminal echoes input: {seen:?}"
    );
    let resize = tern.request(
        "command/exec/resize",
        json!({"processId": "t1", "size": {"rows": 40, "cols": 100}}),
    );
    assert_eq!(tern.result(resize), json!({}));
    tern.request(
        "command/exec/write",
        json!({"processId": "t1", "deltaBase64": b64("stty size\n")}),
    );
    read_until(&mut tern, "t1", &mut seen, "40 100\r\n");
    tern.request(
        "command/exec/write",
        json!({"processId": "t1", "deltaBase64": b64("exit 5\n")}),
    );
    assert_eq!(
        tern.result(exec_id),
        json!({"exitCode": 5, "stdout": "", "stderr": ""})
    );
    let _ = write;

    // A shell that does not exit on its own is ended by terminate.
    let exec_id = tern.request(
        "command/exec",
        json!({"command": ["sh"], "processId": "t2", "tty": true, "sandboxPolicy": full_access(),
               "env": {"PS1": "$ "}}),
    );
    let mut seen = String::new();
    read_until(&mut tern, "t2", &mut seen, "$ ");
    let terminate = tern.request("command/exec/terminate", json!({"processId": "t2"}));
    assert_eq!(tern.result(terminate), json!({}));
    assert_ne!(tern.result(exec_id)["exitCode"], 0);
    let size_without_tty = tern.request(
        "command/exec",
        json!({"command": ["true"], "size": {"rows": 1, "cols": 1}}),
    );
    assert_eq!(tern.error(size_without_tty)["code"], -32602);
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split(' ').nth(2).is_none_or(|state| state != "Z"))
}

#[test]
fn terminate_kills_the_command_and_its_children() {
    let mut tern = server();
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
    let exec_id = tern.request(
        "command/exec",
        json!({"command": ["sh", "-c", script], "processId": "long", "disableTimeout": true,
               "sandboxPolicy": full_access()}),
    );
    let child: u32 = wait_for_file(&pid_file).trim().parse().unwrap();
    assert!(alive(child));
    let id = tern.request("command/exec/terminate", json!({"processId": "long"}));
    assert_eq!(tern.result(id), json!({}));
    assert_eq!(tern.result(exec_id)["exitCode"], 137);
    wait_until(|| !alive(child));

    // A command also dies with its connection.
    let pid_file = dir.path().join("orphan.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
    tern.request(
        "command/exec",
        json!({"command": ["sh", "-c", script], "processId": "orphan", "disableTimeout": true,
               "sandboxPolicy": full_access()}),
    );
    let child: u32 = wait_for_file(&pid_file).trim().parse().unwrap();
    tern.close_stdin();
    tern.wait_exit(DEFAULT_TIMEOUT);
    wait_until(|| !alive(child));
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_until(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `script` with `sh -c` in `cwd` under `policy`; returns (exit code, stderr).
fn sandboxed(tern: &mut TernProcess, cwd: &Path, policy: &Value, script: &str) -> (i64, String) {
    let result = exec(
        tern,
        json!({"command": ["sh", "-c", script], "cwd": cwd, "sandboxPolicy": policy}),
    );
    (
        result["exitCode"].as_i64().unwrap(),
        result["stderr"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn the_sandbox_keeps_writes_inside_the_writable_roots() {
    let mut tern = server();
    let workspace = tempfile::tempdir().unwrap();
    let extra = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(workspace.path().join(".git")).unwrap();
    let policy = json!({"type": "workspaceWrite", "writableRoots": [extra.path()],
                        "excludeSlashTmp": true, "excludeTmpdirEnvVar": true});
    let write = |path: &Path| format!("echo x > '{}'", path.display());

    // Allowed: the workspace and the extra root.
    let inside = workspace.path().join("inside.txt");
    assert_eq!(
        sandboxed(&mut tern, workspace.path(), &policy, &write(&inside)).0,
        0
    );
    assert!(inside.exists());
    let in_extra = extra.path().join("extra.txt");
    assert_eq!(
        sandboxed(&mut tern, workspace.path(), &policy, &write(&in_extra)).0,
        0
    );
    assert!(in_extra.exists());

    // Denied: elsewhere, and `.git` inside the workspace.
    for target in [
        outside.path().join("escape.txt"),
        workspace.path().join(".git/config"),
    ] {
        let (code, stderr) = sandboxed(&mut tern, workspace.path(), &policy, &write(&target));
        assert_ne!(code, 0, "{} was writable", target.display());
        assert!(!target.exists(), "{stderr}");
    }
    // Nor can the command move `.git` out of the way or make a new root writable.
    let (code, _) = sandboxed(
        &mut tern,
        workspace.path(),
        &policy,
        "mv .git moved || umount .git",
    );
    assert_ne!(code, 0);
    assert!(workspace.path().join(".git").is_dir());

    // Read-only writes nowhere, also not in its cwd.
    let read_only = json!({"type": "readOnly"});
    let blocked = workspace.path().join("ro.txt");
    let (code, _) = sandboxed(&mut tern, workspace.path(), &read_only, &write(&blocked));
    assert_ne!(code, 0);
    assert!(!blocked.exists());
    // Reading still works.
    let (code, stderr) = sandboxed(
        &mut tern,
        workspace.path(),
        &read_only,
        "cat inside.txt > /dev/null",
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn the_sandbox_cuts_the_network_unless_allowed() {
    let mut tern = server();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in listener.incoming() {});
    let cwd = tempfile::tempdir().unwrap();
    let connect = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected");
    let run = |tern: &mut TernProcess, policy: Value| {
        exec(
            tern,
            json!({"command": ["bash", "-c", connect.clone()], "cwd": cwd.path(), "sandboxPolicy": policy}),
        )
    };
    for policy in [
        json!({"type": "readOnly"}),
        json!({"type": "workspaceWrite"}),
    ] {
        let result = run(&mut tern, policy.clone());
        assert_ne!(result["exitCode"], 0, "{policy}: {result}");
        assert_eq!(result["stdout"], "");
    }
    for policy in [
        json!({"type": "readOnly", "networkAccess": true}),
        json!({"type": "workspaceWrite", "networkAccess": true}),
        full_access(),
    ] {
        let result = run(&mut tern, policy.clone());
        assert_eq!(result["stdout"], "connected\n", "{policy}: {result}");
    }
}
