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

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::Server;

const RUNS: usize = 300;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir(workspace.path().join(".git")).unwrap();
    let mut server = Server::spawn(home.path());
    server.initialize();
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
                let id = server.send(
                    "command/exec",
                    &json!({"command": ["true"], "cwd": cwd, "sandboxPolicy": policy}),
                );
                let result = server.result(id);
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
}
