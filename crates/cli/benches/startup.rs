//! Startup benchmark for the release binary: spawn → `initialize` response latency (median of
//! many runs, with a home that does not exist yet and with an existing one), peak RSS after `initialize`, and binary
//! size.
//!
//! ```text
//! cargo bench -p tern-cli --bench startup
//! ```
//!
//! Set `TERN_BENCH_REFERENCE=/path/to/codex` to measure the reference binary the same way, and
//! `TERN_BENCH_RUNS` to change the number of runs (default 200).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports on stdout and stops on any failure"
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INITIALIZE: &str =
    r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"bench","version":"1"}}}"#;

/// One run: spawn, send `initialize`, wait for its answer; returns (latency, peak RSS in KiB).
fn run_once(binary: &Path, home: &Path) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .arg("app-server")
        .env("TERN_HOME", home)
        .env("CODEX_HOME", home)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning the server");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{INITIALIZE}").unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "server exited before answering"
        );
        if line.starts_with(r#"{"id":1,"#) {
            break;
        }
    }
    let elapsed = start.elapsed();
    let peak_kib = peak_rss_kib(child.id());
    drop(stdin);
    child.wait().unwrap();
    (elapsed, peak_kib)
}

/// `VmHWM` (peak resident set) of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short vector"
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn measure(label: &str, binary: &Path, runs: usize) {
    let size = std::fs::metadata(binary).unwrap().len();
    println!("{label}: {}", binary.display());
    println!("  binary size             {:>10.1} MiB", mib(size));
    for (case, fresh_home) in [("new home", true), ("existing home", false)] {
        let existing = tempfile::tempdir().unwrap();
        run_once(binary, existing.path()); // populate the home once
        let mut latencies = Vec::with_capacity(runs);
        let mut peak = 0;
        for _ in 0..runs {
            // A home that does not exist yet, so creating it is part of the measurement.
            let fresh = tempfile::tempdir().unwrap();
            let home = if fresh_home {
                fresh.path().join("home")
            } else {
                existing.path().to_owned()
            };
            let (latency, peak_kib) = run_once(binary, &home);
            latencies.push(latency);
            peak = peak.max(peak_kib);
        }
        latencies.sort();
        println!(
            "  spawn→initialize, {case:<13} median {:>7.2} ms   p90 {:>7.2} ms   ({runs} runs)",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.9)),
        );
        println!(
            "  peak RSS after initialize, {case:<13} {:>7.1} MiB",
            mib(peak * 1024)
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss, reason = "display only")]
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let runs = std::env::var("TERN_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(200);
    measure("tern", Path::new(env!("CARGO_BIN_EXE_tern")), runs);
    if let Ok(reference) = std::env::var("TERN_BENCH_REFERENCE") {
        measure("reference", Path::new(&reference), runs.min(30));
    }
}
