//! `server/diagnostics`: process facts and server counters, never conversation content.

use std::sync::atomic::Ordering;

use tern_protocol::v2::{
    ServerDiagnosticsGauge, ServerDiagnosticsParams, ServerDiagnosticsProcess,
    ServerDiagnosticsResponse,
};

use crate::ctx::ServerCtx;

pub(crate) fn server_diagnostics(
    ctx: &ServerCtx,
    _params: ServerDiagnosticsParams,
) -> ServerDiagnosticsResponse {
    let gauge = |name: &str, value: u64| ServerDiagnosticsGauge {
        name: name.to_owned(),
        value,
    };
    ServerDiagnosticsResponse {
        gauges: vec![
            gauge(
                "app.requests.in_flight",
                ctx.stats.requests_in_flight.load(Ordering::Relaxed),
            ),
            gauge(
                "app.connections.open",
                ctx.stats.connections_open.load(Ordering::Relaxed),
            ),
        ],
        process: ServerDiagnosticsProcess {
            id: std::process::id(),
            resident_memory_bytes: resident_memory_bytes(),
            physical_footprint_bytes: None,
        },
    }
}

/// `VmRSS` from `/proc/self/status`, in bytes; `None` where there is no procfs.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
