//! `command/exec` of `true` through the release binary, per sandbox policy: what the sandbox
//! (the `tern sandbox-exec` helper, Landlock, seccomp, and for `.git` a user and mount
//! namespace) adds to running a command.
//!
//! ```text
//! cargo bench -p tern-cli --bench exec
//! ```

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    reason = "a benchmark reports on stdout and stops on any failure"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_tern");
const RUNS: usize = 300;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir(workspace.path().join(".git")).unwrap();
    let mut child = Command::new(BINARY)
        .arg("app-server")
        .env("TERN_HOME", home.path())
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut next_id = 0;
    let mut call = |stdin: &mut std::process::ChildStdin, method: &str, params: Value| -> Value {
        next_id += 1;
        writeln!(
            stdin,
            "{}",
            json!({"id": next_id, "method": method, "params": params})
        )
        .unwrap();
        let prefix = format!("{{\"id\":{next_id},");
        let mut line = String::new();
        loop {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "server exited");
            if line.starts_with(&prefix) {
                let message: Value = serde_json::from_str(&line).unwrap();
                return message["result"].clone();
            }
        }
    };
    call(
        &mut stdin,
        "initialize",
        json!({"clientInfo": {"name": "bench", "version": "0"}}),
    );
    println!("command/exec [\"true\"], {RUNS} runs each (median, p90):");
    let mut baseline = None;
    for (name, policy) in [
        (
            "dangerFullAccess (no sandbox)",
            json!({"type": "dangerFullAccess"}),
        ),
        ("readOnly", json!({"type": "readOnly"})),
        (
            "workspaceWrite, no .git",
            json!({"type": "workspaceWrite", "excludeSlashTmp": true}),
        ),
        (
            "workspaceWrite with .git",
            json!({"type": "workspaceWrite"}),
        ),
    ] {
        let cwd = if name.contains("no .git") {
            home.path()
        } else {
            workspace.path()
        };
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let result = call(
                    &mut stdin,
                    "command/exec",
                    json!({"command": ["true"], "cwd": cwd, "sandboxPolicy": policy}),
                );
                assert_eq!(result["exitCode"], 0, "{result}");
                started.elapsed()
            })
            .collect();
        times.sort();
        let median = times[RUNS / 2];
        let p90 = times[RUNS * 9 / 10];
        let overhead = baseline.map_or(String::new(), |base: Duration| {
            format!(
                "   (+{:.2} ms)",
                (median.as_secs_f64() - base.as_secs_f64()) * 1e3
            )
        });
        baseline.get_or_insert(median);
        println!(
            "  {name:<30} {:>6.2} ms  {:>6.2} ms{overhead}",
            median.as_secs_f64() * 1e3,
            p90.as_secs_f64() * 1e3
        );
    }
    drop(stdin);
    child.wait().unwrap();
}
