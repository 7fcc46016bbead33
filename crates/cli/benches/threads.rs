//! Thread and turn benchmarks for the release binary, against the mock model server over real
//! loopback HTTP:
//!
//! - `stream`: one turn streaming 100,000 deltas: server CPU per delta, peak RSS;
//! - `concurrent`: 20 threads streaming at once on one connection: CPU per delta, peak RSS;
//! - `list`: 10,000 threads on disk: spawn → `initialize` with no index yet, and the first
//!   `thread/list` page once indexed;
//! - `large`: one ~200 MB thread: `thread/read` with turns and `thread/resume`, time and RSS.
//!
//! ```text
//! cargo bench -p tern-cli --bench threads              # all
//! cargo bench -p tern-cli --bench threads -- stream    # one
//! ```

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a benchmark reports on stdout, stops on any failure, and prints ratios"
)]

mod support;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use serde_json::json;
use support::Server;
use tern_test_support::mock_model::{MockModelServer, MockResponse, responses};

fn config(mock: &MockModelServer) -> String {
    mock.config_toml("responses")
}

/// A response streaming `deltas` one-character deltas.
fn long_response(id: &str, deltas: usize) -> MockResponse {
    let item = format!("msg_{id}");
    let mut steps = vec![responses::created(id), responses::message_added(&item)];
    steps.extend((0..deltas).map(|_| responses::text_delta(&item, "x")));
    steps.push(responses::message_done(&item, &"x".repeat(deltas)));
    steps.push(responses::completed(id, 10, 10));
    MockResponse::Sse(steps)
}

fn stream() {
    const DELTAS: usize = 100_000;
    let mock = MockModelServer::start(vec![long_response("r1", DELTAS)]);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config(&mock)).unwrap();
    let mut server = Server::spawn(home.path());
    server.initialize();
    let thread_id = server.start_thread(home.path());
    let before = server.cpu();
    let started = Instant::now();
    server.send(
        "turn/start",
        &json!({"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}),
    );
    let lines = server.read_until(|line| line.contains("\"turn/completed\""));
    let elapsed = started.elapsed();
    let cpu = server.cpu().saturating_sub(before);
    println!("stream: one turn of {DELTAS} deltas ({lines} lines out)");
    println!(
        "  server CPU per delta   {:>8.2} µs   (wall {:.2} s)",
        cpu.as_secs_f64() * 1e6 / DELTAS as f64,
        elapsed.as_secs_f64()
    );
    println!(
        "  peak RSS               {:>8.1} MiB",
        server.peak_rss_mib()
    );
}

fn concurrent() {
    const THREADS: usize = 20;
    const DELTAS: usize = 10_000;
    let mock = MockModelServer::start(
        (0..THREADS)
            .map(|i| long_response(&format!("r{i}"), DELTAS))
            .collect(),
    );
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config(&mock)).unwrap();
    let mut server = Server::spawn(home.path());
    server.initialize();
    let threads: Vec<String> = (0..THREADS)
        .map(|_| server.start_thread(home.path()))
        .collect();
    let before = server.cpu();
    let started = Instant::now();
    for thread_id in &threads {
        server.send(
            "turn/start",
            &json!({"threadId": thread_id, "input": [{"type": "text", "text": "go"}]}),
        );
    }
    let mut completed = 0;
    server.read_until(|line| {
        if line.contains("\"turn/completed\"") {
            completed += 1;
        }
        completed == THREADS
    });
    let elapsed = started.elapsed();
    let cpu = server.cpu().saturating_sub(before);
    let total = THREADS * DELTAS;
    println!("concurrent: {THREADS} threads × {DELTAS} deltas on one connection");
    println!(
        "  server CPU per delta   {:>8.2} µs   (wall {:.2} s)",
        cpu.as_secs_f64() * 1e6 / total as f64,
        elapsed.as_secs_f64()
    );
    println!(
        "  peak RSS               {:>8.1} MiB",
        server.peak_rss_mib()
    );
}

/// Writes `count` small rollouts under `home`.
fn write_rollouts(home: &Path, count: usize) {
    let dir = home.join("sessions/2026/11/21");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..count {
        let id = format!("01a1fc00-0000-7000-8000-{i:012}");
        let meta = json!({"timestamp": "2026-11-21T00:00:00.000Z", "ordinal": 0, "type": "session_meta",
            "payload": {"id": id, "timestamp": format!("2026-11-21T{:02}:{:02}:{:02}.000Z", i / 3600 % 24, i / 60 % 60, i % 60),
                "cwd": "/w", "originator": "bench", "cli_version": "0.169.0", "source": "vscode",
                "model_provider": "mock", "base_instructions": {"text": "x"}}});
        let item = json!({"timestamp": "2026-11-21T00:00:00.000Z", "ordinal": 1, "type": "event_msg",
            "payload": {"type": "item_completed", "turn_id": "u", "item": {"type": "UserMessage", "id": "i",
                "content": [{"type": "text", "text": format!("thread number {i}")}]}}});
        std::fs::write(
            dir.join(format!("rollout-2026-11-21T00-00-00-{id}.jsonl")),
            format!("{meta}\n{item}\n"),
        )
        .unwrap();
    }
}

fn list() {
    const THREADS: usize = 10_000;
    let home = tempfile::tempdir().unwrap();
    write_rollouts(home.path(), THREADS);
    let started = Instant::now();
    let mut server = Server::spawn(home.path());
    server.initialize();
    let to_initialize = started.elapsed();
    // The first listing waits for the background build.
    let listing = Instant::now();
    let id = server.send("thread/list", &json!({}));
    let first = server.result(id);
    let build = listing.elapsed();
    assert_eq!(first["data"].as_array().unwrap().len(), 25);
    let mut samples = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let id = server.send("thread/list", &json!({}));
        server.result(id);
        samples.push(t.elapsed());
    }
    samples.sort();
    println!("list: {THREADS} threads on disk, no index at start");
    println!(
        "  spawn → initialize     {:>8.2} ms",
        to_initialize.as_secs_f64() * 1e3
    );
    println!(
        "  first page (waits for the index build) {:>8.1} ms",
        build.as_secs_f64() * 1e3
    );
    println!(
        "  first page, indexed    {:>8.2} ms median",
        samples[samples.len() / 2].as_secs_f64() * 1e3
    );
}

fn large() {
    const TURNS: usize = 2_000;
    let home = tempfile::tempdir().unwrap();
    let id = "01a1fc00-0000-7000-8000-000000000042";
    let dir = home.path().join("sessions/2026/11/21");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-2026-11-21T00-00-00-{id}.jsonl"));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let meta = json!({"timestamp": "2026-11-21T00:00:00.000Z", "ordinal": 0, "type": "session_meta",
        "payload": {"id": id, "timestamp": "2026-11-21T00:00:00.000Z", "cwd": "/tmp", "originator": "bench",
            "cli_version": "0.169.0", "source": "vscode", "model_provider": "mock", "base_instructions": {"text": "x"}}});
    writeln!(file, "{meta}").unwrap();
    let text = "y".repeat(50_000);
    for turn in 0..TURNS {
        let turn_id = format!("turn-{turn}");
        for line in [
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_started", "turn_id": turn_id}}),
            json!({"timestamp": "t", "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "q"}]}}),
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "item_completed", "turn_id": turn_id,
                "item": {"type": "UserMessage", "id": format!("u{turn}"), "content": [{"type": "text", "text": "q"}]}}}),
            json!({"timestamp": "t", "type": "response_item", "payload": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}}),
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "item_completed", "turn_id": turn_id,
                "item": {"type": "AgentMessage", "id": format!("m{turn}"), "content": [{"type": "Text", "text": text}]}}}),
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_complete", "turn_id": turn_id}}),
        ] {
            writeln!(file, "{line}").unwrap();
        }
    }
    file.flush().unwrap();
    drop(file);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "large: one thread of {TURNS} turns, {:.0} MB on disk",
        size as f64 / 1e6
    );
    for (method, params) in [
        ("thread/read", json!({"threadId": id, "includeTurns": true})),
        ("thread/resume", json!({"threadId": id})),
    ] {
        let mut server = Server::spawn(home.path());
        server.initialize();
        let started = Instant::now();
        let request = server.send(method, &params);
        let result = server.result(request);
        let turns = &result["thread"]["turns"];
        assert_eq!(turns.as_array().map(Vec::len), Some(TURNS), "{method}");
        assert_eq!(
            turns[TURNS - 1]["items"][1]["text"].as_str().map(str::len),
            Some(50_000)
        );
        println!(
            "  {method:<14} {:>8.2} s   peak RSS {:>8.1} MiB",
            started.elapsed().as_secs_f64(),
            server.peak_rss_mib()
        );
    }
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let all = wanted.is_empty();
    let run = |name: &str| all || wanted.iter().any(|w| w == name);
    if run("stream") {
        stream();
    }
    if run("concurrent") {
        concurrent();
    }
    if run("list") {
        list();
    }
    if run("large") {
        large();
    }
}
