//! Policies and model settings shared by threads and turns.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AbsolutePathBuf;
use crate::experimental::ExperimentalApi;

/// When the agent asks the user before running a command or changing a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum AskForApproval {
    /// Ask for everything except known read-only commands.
    Untrusted,
    /// The model decides when to ask.
    OnRequest,
    /// As `on-request`, and a command the sandbox denied may be retried outside it; each
    /// category set to `false` is refused without asking.
    Granular(GranularApprovalConfig),
    /// Never ask; failures go back to the model.
    Never,
}

/// Which kinds of approval requests a `granular` policy lets reach the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "the wire's shape: one flag per category"
)]
pub struct GranularApprovalConfig {
    /// Leaving the sandbox: escalated commands, retries of denied ones, patches outside the
    /// writable roots.
    pub sandbox_approval: bool,
    /// Commands an execution-policy rule marks as needing approval.
    pub rules: bool,
    /// Approvals for skills.
    #[serde(default)]
    pub skill_approval: bool,
    /// The model's requests for more permissions.
    #[serde(default)]
    pub request_permissions: bool,
    /// Questions from MCP servers.
    pub mcp_elicitations: bool,
}

/// The sandbox mode of a thread, as configured (`sandbox_mode` in config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

/// The effective sandbox of a thread or turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SandboxPolicy {
    /// No sandbox.
    DangerFullAccess,
    /// Read anywhere, write nowhere.
    #[serde(rename_all = "camelCase")]
    ReadOnly {
        #[serde(default)]
        network_access: bool,
    },
    /// Read anywhere, write under the writable roots (the cwd, configured roots, temp dirs).
    #[serde(rename_all = "camelCase")]
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<AbsolutePathBuf>,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
    /// The server already runs inside a sandbox of the caller's: tern adds none.
    #[serde(rename_all = "camelCase")]
    ExternalSandbox {
        #[serde(default)]
        network_access: NetworkAccess,
    },
}

impl ExperimentalApi for SandboxPolicy {}

/// Whether an external sandbox lets commands reach the network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "camelCase")]
pub enum NetworkAccess {
    #[default]
    Restricted,
    Enabled,
}

impl From<SandboxMode> for SandboxPolicy {
    fn from(mode: SandboxMode) -> Self {
        match mode {
            SandboxMode::ReadOnly => Self::ReadOnly {
                network_access: false,
            },
            SandboxMode::WorkspaceWrite => Self::WorkspaceWrite {
                writable_roots: Vec::new(),
                network_access: false,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            },
            SandboxMode::DangerFullAccess => Self::DangerFullAccess,
        }
    }
}

/// Who reviews approval requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalsReviewer {
    /// The user, through the client.
    #[default]
    User,
}

/// How much reasoning summary the model should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningSummary {
    Auto,
    Concise,
    Detailed,
    None,
}
