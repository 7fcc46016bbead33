//! `initialize`: the handshake that opens every connection.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AbsolutePathBuf;
use crate::experimental::ExperimentalApi;
use crate::serde_helpers::null_as_default;

/// Params of `initialize`, the first request on every connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// Who the client is. `name` becomes the originator of the threads this connection starts.
    pub client_info: ClientInfo,
    /// What the client opts into; all off when absent.
    #[serde(default)]
    pub capabilities: Option<InitializeCapabilities>,
}

impl ExperimentalApi for InitializeParams {}

/// The client's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ClientInfo {
    /// A short machine name, e.g. `codex_vscode`; the first word of `userAgent`.
    pub name: String,
    /// A human-readable name.
    #[serde(default)]
    pub title: Option<String>,
    /// The client's own version.
    pub version: String,
}

/// Client-declared capabilities negotiated during initialize.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct InitializeCapabilities {
    /// Opt into receiving experimental API methods and fields.
    #[serde(default, deserialize_with = "null_as_default")]
    pub experimental_api: bool,
    /// Exact notification method names that should be suppressed for this
    /// connection (for example `thread/started`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub opt_out_notification_methods: Option<Vec<String>>,
    /// Opt into `attestation/generate` requests for upstream `x-oai-attestation`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_attestation: bool,
}

/// Result of `initialize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResponse {
    /// `<clientInfo.name>/<protocol version> (<server and platform>) <terminal>
    /// (<clientInfo.name>; <clientInfo.version>)`. The version right after the first slash is
    /// the reference protocol version the server is compatible with; clients parse it.
    pub user_agent: String,
    /// Absolute path to the server's home directory (`$TERN_HOME`, else `$CODEX_HOME`, else
    /// `~/.tern`).
    pub codex_home: AbsolutePathBuf,
    /// Platform family for the running app-server target, for example
    /// `"unix"` or `"windows"`.
    pub platform_family: String,
    /// Operating system for the running app-server target, for example
    /// `"macos"`, `"linux"`, or `"windows"`.
    pub platform_os: String,
}

impl ExperimentalApi for InitializeResponse {}
