//! `server/diagnostics` (experimental): content-free facts about the server process.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::experimental::ExperimentalApi;

/// Params of `server/diagnostics`: none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ServerDiagnosticsParams {}

impl ExperimentalApi for ServerDiagnosticsParams {}

/// Result of `server/diagnostics`. Holds counts and sizes only, never conversation content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ServerDiagnosticsResponse {
    /// Named counters sampled at the time of the request.
    pub gauges: Vec<ServerDiagnosticsGauge>,
    /// The server process.
    pub process: ServerDiagnosticsProcess,
}

/// One named counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ServerDiagnosticsGauge {
    pub name: String,
    pub value: u64,
}

/// The server process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerDiagnosticsProcess {
    /// Process id.
    pub id: u32,
    /// Resident set size in bytes, where the platform reports it.
    #[serde(default)]
    pub resident_memory_bytes: Option<u64>,
    /// macOS physical footprint in bytes; `null` elsewhere.
    #[serde(default)]
    pub physical_footprint_bytes: Option<u64>,
}

impl ExperimentalApi for ServerDiagnosticsResponse {}
