//! A spawned `tern app-server` and a line-oriented JSON-RPC client for it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::schema::UpstreamSchema;

/// The config of servers a test did not configure: every model request fails fast, locally.
const OFFLINE_CONFIG: &str = "model_provider = \"offline\"\n\n[model_providers.offline]\n\
base_url = \"http://127.0.0.1:9/v1\"\nrequest_max_retries = 0\nstream_max_retries = 0\n";

/// How long any single wait for the server may take before the test fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Configures a [`TernProcess`] before spawning it.
pub struct Builder {
    binary: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    config_toml: Option<String>,
    home: Option<PathBuf>,
}

impl Builder {
    /// Adds an argument after `app-server`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the server.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Uses an existing home (e.g. to restart a server on the same state) instead of a fresh
    /// temporary one.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Writes `config.toml` into the server's home before it starts.
    pub fn config_toml(mut self, text: impl Into<String>) -> Self {
        self.config_toml = Some(text.into());
        self
    }

    /// Spawns the server in a fresh temporary `TERN_HOME`.
    pub fn spawn(self) -> TernProcess {
        let temp = tempfile::tempdir().expect("creating a temporary TERN_HOME");
        let home = self.home.clone().unwrap_or_else(|| temp.path().to_owned());
        match (&self.config_toml, &self.home) {
            (Some(text), _) => {
                std::fs::write(home.join("config.toml"), text).expect("writing config.toml");
            }
            // A fresh home without a config gets one whose provider is a closed loopback
            // port, so no test can reach the network by forgetting to configure a mock.
            (None, None) => std::fs::write(home.join("config.toml"), OFFLINE_CONFIG)
                .expect("writing config.toml"),
            (None, Some(_)) => {}
        }
        let mut command = self.command(&home);
        let mut child = command.spawn().expect("spawning tern");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut buf = [0_u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        TernProcess {
            child,
            stdin,
            lines: rx,
            stderr: stderr_text,
            home,
            _temp_home: temp,
            next_id: 1,
            pending: HashMap::new(),
            experimental: false,
            buffered: Vec::new(),
        }
    }

    /// The command [`spawn`](Self::spawn) runs, for tests that need the raw process.
    pub fn command(&self, home: &Path) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("app-server")
            .args(&self.args)
            .env("TERN_HOME", home)
            .env_remove("CODEX_HOME")
            // Login shells (`bash -lc`, as the model's commands run) read the user's profile;
            // a home of the test's own keeps them from the machine's (a pyenv init there can
            // stall every shell for a minute) and makes the tests hermetic.
            .env("HOME", home)
            .env_remove("BASH_ENV")
            .env_remove("ENV")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }
}

/// A message the server sent, as the test sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// `{"id", "result"}`.
    Result { id: Value, result: Value },
    /// `{"id", "error"}`.
    Error { id: Value, error: Value },
    /// `{"method", "params", "emittedAtMs"}`.
    Notification { method: String, params: Value },
    /// `{"id", "method", "params"}`: a request from the server.
    Request {
        id: Value,
        method: String,
        params: Value,
    },
}

/// A running `tern app-server` and the client side of its stdio.
pub struct TernProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    home: PathBuf,
    /// Removed with the process, when the home is a temporary one.
    _temp_home: TempDir,
    next_id: i64,
    /// Method of each request sent and not yet answered, for validating its result.
    pending: HashMap<String, String>,
    experimental: bool,
    /// Messages read while waiting for something else, oldest first.
    buffered: Vec<Received>,
}

impl TernProcess {
    /// A builder for `binary` (pass `env!("CARGO_BIN_EXE_tern")`).
    pub fn builder(binary: impl Into<PathBuf>) -> Builder {
        Builder {
            binary: binary.into(),
            args: Vec::new(),
            env: Vec::new(),
            config_toml: None,
            home: None,
        }
    }

    /// The server's `TERN_HOME`.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Writes one raw line (a newline is appended).
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(line.as_bytes()).expect("writing to tern");
        stdin.write_all(b"\n").expect("writing to tern");
        stdin.flush().expect("flushing to tern");
    }

    /// Writes raw bytes, for input that is not text.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(bytes).expect("writing to tern");
        stdin.flush().expect("flushing to tern");
    }

    /// Sends a JSON value as one line; remembers the method of requests for validation.
    pub fn send(&mut self, message: &Value) {
        if let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) {
            self.pending.insert(id.to_string(), method.to_owned());
        }
        self.send_line(&message.to_string());
    }

    /// Sends a request with the next integer id; returns the id.
    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}));
        id
    }

    /// `initialize` with the harness's client info; returns the result.
    pub fn initialize(&mut self) -> Value {
        self.initialize_with(json!({}))
    }

    /// `initialize` with the given capabilities; returns the result.
    pub fn initialize_with(&mut self, capabilities: Value) -> Value {
        self.experimental = capabilities["experimentalApi"] == true;
        let id = self.request(
            "initialize",
            json!({
                "clientInfo": {"name": "tern-tests", "title": "tern tests", "version": "0.0.1"},
                "capabilities": capabilities,
            }),
        );
        self.result(id)
    }

    /// Closes stdin (EOF for the server).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next message, validated against the upstream schema. Panics after `timeout`.
    pub fn next_message(&mut self, timeout: Duration) -> Received {
        if !self.buffered.is_empty() {
            return self.buffered.remove(0);
        }
        self.read_message(timeout).unwrap_or_else(|| {
            panic!(
                "no message from tern within {timeout:?}; stderr:\n{}",
                self.stderr()
            )
        })
    }

    /// Reads and validates one message; `None` when none arrives within `timeout`.
    pub fn read_message(&mut self, timeout: Duration) -> Option<Received> {
        let line = match self.lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        Some(self.check(&line))
    }

    /// Parses a line from the server and validates it; panics with the line when it is wrong.
    fn check(&mut self, line: &str) -> Received {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("tern wrote a line that is not JSON ({err}): {line}"));
        assert!(
            value.get("jsonrpc").is_none(),
            "output must not carry `jsonrpc`: {line}"
        );
        let schema = UpstreamSchema::get(self.experimental);
        if let (Some(method), Some(id)) = (value["method"].as_str(), value.get("id")) {
            schema
                .validate("ServerRequest", &value)
                .unwrap_or_else(|err| panic!("{err:#}"));
            return Received::Request {
                id: id.clone(),
                method: method.to_owned(),
                params: value["params"].clone(),
            };
        }
        if let Some(method) = value["method"].as_str() {
            schema
                .validate_notification(&value)
                .unwrap_or_else(|err| panic!("{err:#}"));
            return Received::Notification {
                method: method.to_owned(),
                params: value["params"].clone(),
            };
        }
        let id = value["id"].clone();
        let method = self.pending.remove(&id.to_string());
        if let Some(error) = value.get("error") {
            // tern answers lines whose id cannot be read with `"id": null`, as JSON-RPC 2.0
            // asks; the reference stays silent there, so its envelope has no null id. The
            // error object itself must still match.
            let (definition, instance) = if id.is_null() {
                ("JSONRPCErrorError", error)
            } else {
                ("JSONRPCError", &value)
            };
            schema
                .validate(definition, instance)
                .unwrap_or_else(|err| panic!("{err:#}"));
            return Received::Error {
                id,
                error: error.clone(),
            };
        }
        let result = value
            .get("result")
            .unwrap_or_else(|| panic!("neither result nor error: {line}"));
        if let Some(method) = method {
            schema
                .validate_result(&method, result)
                .unwrap_or_else(|err| panic!("result of `{method}`: {err:#}"));
        }
        Received::Result {
            id,
            result: result.clone(),
        }
    }

    /// Waits for the answer to request `id`, keeping other messages for later reads.
    pub fn response(&mut self, id: impl Into<Value>) -> Result<Value, Value> {
        let id = id.into();
        if let Some(index) = self
            .buffered
            .iter()
            .position(|m| response_id(m) == Some(&id))
        {
            return into_result(self.buffered.remove(index));
        }
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let message = self.read_message(remaining).unwrap_or_else(|| {
                panic!(
                    "no response to id {id} within {DEFAULT_TIMEOUT:?}; stderr:\n{}",
                    self.stderr()
                )
            });
            if response_id(&message) == Some(&id) {
                return into_result(message);
            }
            self.buffered.push(message);
        }
    }

    /// The result of request `id`; panics on an error answer.
    pub fn result(&mut self, id: impl Into<Value>) -> Value {
        self.response(id)
            .unwrap_or_else(|error| panic!("expected a result, got error {error}"))
    }

    /// The error of request `id`; panics on a result.
    pub fn error(&mut self, id: impl Into<Value>) -> Value {
        match self.response(id) {
            Ok(result) => panic!("expected an error, got result {result}"),
            Err(error) => error,
        }
    }

    /// Waits for a notification of `method`, keeping other messages for later reads.
    pub fn notification(&mut self, method: &str) -> Value {
        if let Some(index) = self
            .buffered
            .iter()
            .position(|m| is_notification(m, method))
        {
            let Received::Notification { params, .. } = self.buffered.remove(index) else {
                unreachable!()
            };
            return params;
        }
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let message = self.read_message(remaining).unwrap_or_else(|| {
                panic!(
                    "no `{method}` notification within {DEFAULT_TIMEOUT:?}; stderr:\n{}",
                    self.stderr()
                )
            });
            if let Received::Notification { method: m, params } = &message {
                if m == method {
                    return params.clone();
                }
            }
            self.buffered.push(message);
        }
    }

    /// Waits for a server request of `method`, keeping other messages for later reads; returns
    /// its id and params.
    pub fn server_request(&mut self, method: &str) -> (Value, Value) {
        let matches =
            |m: &Received| matches!(m, Received::Request { method: m, .. } if m == method);
        let message = if let Some(index) = self.buffered.iter().position(matches) {
            self.buffered.remove(index)
        } else {
            let deadline = Instant::now() + DEFAULT_TIMEOUT;
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let message = self.read_message(remaining).unwrap_or_else(|| {
                    panic!(
                        "no `{method}` request within {DEFAULT_TIMEOUT:?}; stderr:\n{}",
                        self.stderr()
                    )
                });
                if matches(&message) {
                    break message;
                }
                self.buffered.push(message);
            }
        };
        let Received::Request { id, params, .. } = message else {
            unreachable!()
        };
        (id, params)
    }

    /// Answers a server request with `result`.
    pub fn respond(&mut self, id: &Value, result: Value) {
        self.send(&serde_json::json!({"id": id, "result": result}));
    }

    /// Asserts that nothing (buffered or new) arrives within `quiet`.
    pub fn assert_silent(&mut self, quiet: Duration) {
        assert_eq!(self.buffered, [], "unexpected buffered messages");
        if let Some(message) = self.read_message(quiet) {
            panic!("unexpected message: {message:?}");
        }
    }

    /// Waits for the process to exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling tern") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tern did not exit within {timeout:?}; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Every line still unread on stdout once the server has exited, validated.
    pub fn remaining_messages(&mut self) -> Vec<Received> {
        let mut out = std::mem::take(&mut self.buffered);
        while let Ok(line) = self.lines.recv_timeout(DEFAULT_TIMEOUT) {
            out.push(self.check(&line));
        }
        out
    }
}

impl Drop for TernProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn response_id(message: &Received) -> Option<&Value> {
    match message {
        Received::Result { id, .. } | Received::Error { id, .. } => Some(id),
        Received::Notification { .. } | Received::Request { .. } => None,
    }
}

fn is_notification(message: &Received, method: &str) -> bool {
    matches!(message, Received::Notification { method: m, .. } if m == method)
}

fn into_result(message: Received) -> Result<Value, Value> {
    match message {
        Received::Result { result, .. } => Ok(result),
        Received::Error { error, .. } => Err(error),
        Received::Notification { .. } | Received::Request { .. } => {
            unreachable!("filtered to responses")
        }
    }
}
