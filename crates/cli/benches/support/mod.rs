//! What the benchmarks share: the release binary, driven over stdio.

#![allow(dead_code, reason = "each benchmark uses part of it")]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_tern");

/// A release server on stdio, read line by line: no schema checks and no debug logging in
/// the way of what is measured.
pub(crate) struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Server {
    pub(crate) fn spawn(home: &Path) -> Self {
        let mut child = Command::new(BINARY)
            .arg("app-server")
            .env("TERN_HOME", home)
            .env("MOCK_API_KEY", "sk")
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
            next_id: 0,
        }
    }

    pub(crate) fn send(&mut self, method: &str, params: &Value) -> i64 {
        self.next_id += 1;
        let message = json!({"id": self.next_id, "method": method, "params": params});
        writeln!(self.stdin, "{message}").unwrap();
        self.next_id
    }

    /// Reads lines until `done` says stop; returns how many lines were read.
    pub(crate) fn read_until(&mut self, mut done: impl FnMut(&str) -> bool) -> usize {
        let mut line = String::new();
        let mut count = 0;
        loop {
            line.clear();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "server exited"
            );
            count += 1;
            if done(&line) {
                return count;
            }
        }
    }

    pub(crate) fn result(&mut self, id: i64) -> Value {
        let prefix = format!("{{\"id\":{id},");
        let mut found = Value::Null;
        self.read_until(|line| {
            if line.starts_with(&prefix) {
                found = serde_json::from_str(line).unwrap();
                true
            } else {
                false
            }
        });
        assert!(found.get("error").is_none(), "{found}");
        found["result"].take()
    }

    pub(crate) fn initialize(&mut self) {
        let id = self.send(
            "initialize",
            &json!({"clientInfo": {"name": "bench", "version": "1"}}),
        );
        self.result(id);
    }

    pub(crate) fn start_thread(&mut self, cwd: &Path) -> String {
        let id = self.send("thread/start", &json!({"cwd": cwd}));
        self.result(id)["thread"]["id"].as_str().unwrap().to_owned()
    }

    /// User + system CPU time of the server so far.
    pub(crate) fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // After the command name: utime and stime are fields 12 and 13 (0-based).
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    /// Peak resident memory in MiB.
    pub(crate) fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
