//! `command/exec`: standalone commands, outside any thread.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::SandboxPolicy;
use crate::experimental::ExperimentalApi;

/// Params of `command/exec`: run an argv, sandboxed by default, and answer with how it ended.
#[allow(
    clippy::struct_excessive_bools,
    reason = "the wire shape, flag by flag"
)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecParams {
    /// Program and arguments; not empty.
    pub command: Vec<String>,
    /// Connection-scoped id the client picks; needed to stream or to write, resize or
    /// terminate later.
    #[serde(default)]
    pub process_id: Option<String>,
    /// Run in a pseudo-terminal (implies `streamStdin` and `streamStdoutStderr`).
    #[serde(default)]
    pub tty: bool,
    /// Accept `command/exec/write`.
    #[serde(default)]
    pub stream_stdin: bool,
    /// Send output as `command/exec/outputDelta` instead of in the result.
    #[serde(default)]
    pub stream_stdout_stderr: bool,
    /// Per-stream cap on the output kept or streamed, in bytes.
    #[serde(default)]
    pub output_bytes_cap: Option<u64>,
    #[serde(default)]
    pub disable_output_cap: bool,
    #[serde(default)]
    pub disable_timeout: bool,
    #[serde(default)]
    pub timeout_ms: Option<i64>,
    /// Working directory; the server's when absent.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Environment changes: a value sets a variable, `null` unsets it.
    #[serde(default)]
    #[ts(type = "{ [key in string]?: string | null } | null")]
    pub env: Option<BTreeMap<String, Option<String>>>,
    /// Initial terminal size (with `tty`).
    #[serde(default)]
    pub size: Option<CommandExecTerminalSize>,
    /// The configured sandbox when absent.
    #[serde(default)]
    pub sandbox_policy: Option<SandboxPolicy>,
}

/// A terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CommandExecTerminalSize {
    pub rows: u16,
    pub cols: u16,
}

/// Result of `command/exec`, sent once the command ended and its output was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecResponse {
    pub exit_code: i32,
    /// Empty when streamed.
    pub stdout: String,
    pub stderr: String,
}

/// Which output a streamed chunk is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecOutputStream {
    Stdout,
    Stderr,
}

/// A chunk of a streamed command's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecOutputDeltaNotification {
    pub process_id: String,
    pub stream: CommandExecOutputStream,
    pub delta_base64: String,
    /// On the last chunk of a stream the cap cut.
    pub cap_reached: bool,
}

/// Params of `command/exec/write`: bytes for stdin, and/or closing it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecWriteParams {
    pub process_id: String,
    #[serde(default)]
    pub delta_base64: Option<String>,
    #[serde(default)]
    pub close_stdin: bool,
}

/// Result of `command/exec/write`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CommandExecWriteResponse {}

/// Params of `command/exec/terminate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecTerminateParams {
    pub process_id: String,
}

/// Result of `command/exec/terminate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CommandExecTerminateResponse {}

/// Params of `command/exec/resize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecResizeParams {
    pub process_id: String,
    pub size: CommandExecTerminalSize,
}

/// Result of `command/exec/resize`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CommandExecResizeResponse {}

impl ExperimentalApi for CommandExecParams {}
impl ExperimentalApi for CommandExecResponse {}
impl ExperimentalApi for CommandExecOutputDeltaNotification {}
impl ExperimentalApi for CommandExecWriteParams {}
impl ExperimentalApi for CommandExecWriteResponse {}
impl ExperimentalApi for CommandExecTerminateParams {}
impl ExperimentalApi for CommandExecTerminateResponse {}
impl ExperimentalApi for CommandExecResizeParams {}
impl ExperimentalApi for CommandExecResizeResponse {}
