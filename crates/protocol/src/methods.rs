//! The method tables: every method of the protocol, listed once.
//!
//! Each entry binds a wire name to its params and response types (for client requests) or to its
//! params type (for server notifications), and says whether it is stable or experimental. The
//! `client_requests!` and `server_notifications!` macros below turn a table into:
//!
//! - an enum with one variant per method (`ClientRequest::Initialize(InitializeParams)`), with a
//!   `decode` from a method name and raw params, and `method()` back to the name;
//! - for client requests, one marker type per method in [`client`] implementing [`Method`], so a
//!   handler's signature ties the method to its response type;
//! - the list the schema and TypeScript export walk (see [`crate::export`]).
//!
//! `server_requests!` does the same for the requests the server sends the client: a
//! `ServerRequest` enum of their params and one marker type per method in [`server`]
//! implementing [`ServerMethod`], which ties a request to the answer it expects.
//!
//! Adding a method is one table entry; the router's exhaustive match then refuses to compile
//! until the method has a handler. These three are the only macros in this crate.

use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use ts_rs::TS;

use crate::experimental::ExperimentalApi;
use crate::jsonrpc::{RpcError, error_code};
use crate::v2::{
    AgentMessageDeltaNotification, ConfigWarningNotification, ErrorNotification, InitializeParams,
    InitializeResponse, ItemCompletedNotification, ItemStartedNotification,
    MockExperimentalMethodParams, MockExperimentalMethodResponse,
    ReasoningSummaryPartAddedNotification, ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification, ServerDiagnosticsParams, ServerDiagnosticsResponse,
    ThreadArchiveParams, ThreadArchiveResponse, ThreadArchivedNotification, ThreadLoadedListParams,
    ThreadLoadedListResponse, ThreadNameUpdatedNotification, ThreadReadParams, ThreadReadResponse,
    ThreadResumeParams, ThreadResumeResponse, ThreadSetNameParams, ThreadSetNameResponse,
    ThreadStartParams, ThreadStartResponse, ThreadStartedNotification,
    ThreadStatusChangedNotification, ThreadTokenUsageUpdatedNotification, ThreadUnarchiveParams,
    ThreadUnarchiveResponse, ThreadUnarchivedNotification, ThreadUnsubscribeParams,
    ThreadUnsubscribeResponse, TurnCompletedNotification, TurnInterruptParams,
    TurnInterruptResponse, TurnStartParams, TurnStartResponse, TurnStartedNotification,
    TurnSteerParams, TurnSteerResponse,
};
use crate::v2::{
    CommandExecOutputDeltaNotification, CommandExecParams, CommandExecResizeParams,
    CommandExecResizeResponse, CommandExecResponse, CommandExecTerminateParams,
    CommandExecTerminateResponse, CommandExecWriteParams, CommandExecWriteResponse,
    ThreadCompactStartParams, ThreadCompactStartResponse, ThreadForkParams, ThreadForkResponse,
    ThreadListParams, ThreadListResponse, ThreadRevertParams, ThreadRevertResponse,
    ThreadRevertedNotification,
};
use crate::v2::{
    CommandExecutionOutputDeltaNotification, CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse, DynamicToolCallParams, DynamicToolCallResponse,
    FileChangeRequestApprovalParams, FileChangeRequestApprovalResponse,
    ServerRequestResolvedNotification, TerminalInteractionNotification, ThreadShellCommandParams,
    ThreadShellCommandResponse, ToolRequestUserInputParams, ToolRequestUserInputResponse,
    TurnDiffUpdatedNotification, TurnPlanUpdatedNotification,
};

/// Whether a method (or field) is part of the stable API or needs `experimentalApi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    Stable,
    Experimental,
}

/// A client-to-server method: its wire name, its params and its response.
pub trait Method {
    /// The wire name, e.g. `thread/start`.
    const NAME: &'static str;
    /// Whether the whole method is gated behind `experimentalApi`.
    const STABILITY: Stability;
    /// What `params` decodes into.
    type Params: DeserializeOwned + ExperimentalApi + JsonSchema + TS + 'static;
    /// What `result` carries.
    type Response: Serialize + ExperimentalApi + JsonSchema + TS + 'static;
}

/// A server-to-client request: its wire name, its params and the answer it expects.
pub trait ServerMethod {
    /// The wire name, e.g. `item/commandExecution/requestApproval`.
    const NAME: &'static str;
    /// What `params` carries.
    type Params: Serialize + ExperimentalApi + JsonSchema + TS + 'static;
    /// What the client's `result` decodes into.
    type Response: DeserializeOwned + JsonSchema + TS + 'static;
}

/// Why a request's method and params did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// No method has this name.
    UnknownMethod(String),
    /// The params do not fit the method's params type.
    InvalidParams {
        method: &'static str,
        /// The dotted path of the offending field (`capabilities.experimentalApi`), or `.` when
        /// the params as a whole are wrong.
        path: String,
        /// What serde found and expected there.
        reason: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMethod(method) => write!(f, "method not found: `{method}`"),
            // The reason already names the path (a missing field), or there is none.
            Self::InvalidParams {
                method,
                path,
                reason,
            } if path == "." || reason.starts_with("missing field") => {
                write!(f, "invalid params for `{method}`: {reason}")
            }
            Self::InvalidParams {
                method,
                path,
                reason,
            } => {
                write!(f, "invalid params for `{method}`: `{path}`: {reason}")
            }
        }
    }
}

impl From<DecodeError> for RpcError {
    fn from(err: DecodeError) -> Self {
        match &err {
            DecodeError::UnknownMethod(_) => {
                Self::new(error_code::METHOD_NOT_FOUND, err.to_string())
            }
            DecodeError::InvalidParams { path, .. } => Self {
                code: error_code::INVALID_PARAMS,
                message: err.to_string(),
                data: Some(serde_json::json!({ "path": path })),
            },
        }
    }
}

/// Decodes raw params into `T`. Absent or `null` params decode like `{}`, so methods whose params
/// are all optional can be called without any.
fn decode_params<T: DeserializeOwned>(
    method: &'static str,
    params: Option<&RawValue>,
) -> Result<T, DecodeError> {
    let text = match params.map(RawValue::get) {
        None | Some("null") => "{}",
        Some(text) => text,
    };
    // Params are by name. Serde would also accept a struct as a positional array; we do not.
    if !text.trim_start().starts_with('{') {
        return Err(DecodeError::InvalidParams {
            method,
            path: ".".to_owned(),
            reason: format!(
                "params must be an object, found `{}`",
                text.chars().take(40).collect::<String>()
            ),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        // The path says where the problem is; a position inside the params text would not.
        let reason = crate::jsonrpc::message_of(err.inner());
        let mut path = err.path().to_string();
        // Serde reports a missing field at its parent; point at the field itself.
        if let Some(field) = reason
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            path = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
            let reason = format!("missing field `{path}`");
            return DecodeError::InvalidParams {
                method,
                path,
                reason,
            };
        }
        DecodeError::InvalidParams {
            method,
            path,
            reason,
        }
    })
}

/// Generates `ClientRequest`, the [`client`] marker types and the export walk from the table of
/// client requests. Entry syntax:
///
/// ```text
/// /// docs
/// Variant => "wire/name" (Stable | Experimental) { params: ParamsType, response: ResponseType },
/// ```
macro_rules! client_requests {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $name:literal ($stability:ident) { params: $params:ty, response: $response:ty },
    )*) => {
        /// A decoded client request: one variant per method, holding its params.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ClientRequest {
            $( $(#[doc = $doc])* $variant($params), )*
        }

        /// One marker type per client method, implementing [`Method`].
        pub mod client {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $variant;

                impl Method for $variant {
                    const NAME: &'static str = $name;
                    const STABILITY: Stability = Stability::$stability;
                    type Params = $params;
                    type Response = $response;
                }
            )*
        }

        impl ClientRequest {
            /// Decodes a request from its method name and raw params.
            pub fn decode(method: &str, params: Option<&RawValue>) -> Result<Self, DecodeError> {
                match method {
                    $( $name => decode_params($name, params).map(Self::$variant), )*
                    _ => Err(DecodeError::UnknownMethod(method.to_owned())),
                }
            }

            /// The wire name of this request's method.
            pub fn method(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// What this request uses that needs `experimentalApi`: the method itself, or a
            /// field or variant of its params.
            pub fn experimental_reason(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant(params) => match Stability::$stability {
                        Stability::Experimental => Some($name),
                        Stability::Stable => params.experimental_reason(),
                    }, )*
                }
            }
        }

        /// Hands every client method to the export.
        pub(crate) fn visit_client_requests(visitor: &mut impl crate::export::MethodVisitor) {
            $( visitor.client_request::<client::$variant>(concat!($($doc, "\n",)*)); )*
        }
    };
}

/// Generates `ServerNotification` and its export walk. Entry syntax:
///
/// ```text
/// /// docs
/// Variant => "wire/name" (Stable | Experimental) (ParamsType),
/// ```
macro_rules! server_notifications {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $name:literal ($stability:ident) ($params:ty),
    )*) => {
        /// A notification from the server: one variant per method, holding its params.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ServerNotification {
            $( $(#[doc = $doc])* $variant($params), )*
        }

        impl ServerNotification {
            /// The wire name of this notification's method.
            pub fn method(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// Whether the whole notification is only for clients that opted into
            /// `experimentalApi`.
            pub fn stability(&self) -> Stability {
                match self {
                    $( Self::$variant(_) => Stability::$stability, )*
                }
            }

            /// Clears experimental fields of the params, for a client that did not opt in.
            pub fn strip_experimental(&mut self) {
                match self {
                    $( Self::$variant(params) => params.strip_experimental(), )*
                }
            }

            fn serialize_params<S: SerializeMap>(&self, map: &mut S) -> Result<(), S::Error> {
                match self {
                    $( Self::$variant(params) => map.serialize_entry("params", params), )*
                }
            }
        }

        /// Hands every server notification to the export.
        pub(crate) fn visit_server_notifications(visitor: &mut impl crate::export::MethodVisitor) {
            $( visitor.server_notification::<$params>(
                $name,
                Stability::$stability,
                concat!($($doc, "\n",)*),
            ); )*
        }
    };
}

/// Generates `ServerRequest`, the [`server`] marker types and their export walk. Entry syntax:
///
/// ```text
/// /// docs
/// Variant => "wire/name" { params: ParamsType, response: ResponseType },
/// ```
macro_rules! server_requests {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $name:literal { params: $params:ty, response: $response:ty },
    )*) => {
        /// A request from the server: one variant per method, holding its params.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ServerRequest {
            $( $(#[doc = $doc])* $variant($params), )*
        }

        /// One marker type per server request, implementing [`ServerMethod`].
        pub mod server {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $variant;

                impl ServerMethod for $variant {
                    const NAME: &'static str = $name;
                    type Params = $params;
                    type Response = $response;
                }
            )*
        }

        impl ServerRequest {
            /// The wire name of this request's method.
            pub fn method(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// Clears experimental fields of the params, for a client that did not opt in.
            pub fn strip_experimental(&mut self) {
                match self {
                    $( Self::$variant(params) => params.strip_experimental(), )*
                }
            }

            /// The params as JSON.
            pub fn params_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self {
                    $( Self::$variant(params) => serde_json::to_value(params), )*
                }
            }
        }

        /// Hands every server request to the export.
        pub(crate) fn visit_server_requests(visitor: &mut impl crate::export::MethodVisitor) {
            $( visitor.server_request::<server::$variant>(concat!($($doc, "\n",)*)); )*
        }
    };
}

client_requests! {
    /// Opens the connection. Must be the first request; a second one fails.
    Initialize => "initialize" (Stable) {
        params: InitializeParams, response: InitializeResponse
    },
    /// Starts a thread; `thread/started` follows the result.
    ThreadStart => "thread/start" (Stable) {
        params: ThreadStartParams, response: ThreadStartResponse
    },
    /// Loads a thread from disk (or finds it loaded) to continue it.
    ThreadResume => "thread/resume" (Stable) {
        params: ThreadResumeParams, response: ThreadResumeResponse
    },
    /// Starts a thread with a copy of another's history; `thread/started` follows.
    ThreadFork => "thread/fork" (Stable) {
        params: ThreadForkParams, response: ThreadForkResponse
    },
    /// Compacts a thread's conversation now, as a turn with a `contextCompaction` item.
    ThreadCompactStart => "thread/compact/start" (Stable) {
        params: ThreadCompactStartParams, response: ThreadCompactStartResponse
    },
    /// Drops a turn and every later one from a loaded thread's history.
    ThreadRevert => "thread/revert" (Stable) {
        params: ThreadRevertParams, response: ThreadRevertResponse
    },
    /// Names a thread; `thread/name/updated` follows.
    ThreadSetName => "thread/name/set" (Stable) {
        params: ThreadSetNameParams, response: ThreadSetNameResponse
    },
    /// Archives a thread; `thread/archived` follows.
    ThreadArchive => "thread/archive" (Stable) {
        params: ThreadArchiveParams, response: ThreadArchiveResponse
    },
    /// Brings an archived thread back; `thread/unarchived` follows.
    ThreadUnarchive => "thread/unarchive" (Stable) {
        params: ThreadUnarchiveParams, response: ThreadUnarchiveResponse
    },
    /// Stops this connection receiving a thread's events.
    ThreadUnsubscribe => "thread/unsubscribe" (Stable) {
        params: ThreadUnsubscribeParams, response: ThreadUnsubscribeResponse
    },
    /// Reads a thread, loaded or on disk, optionally with its turns.
    ThreadRead => "thread/read" (Stable) {
        params: ThreadReadParams, response: ThreadReadResponse
    },
    /// Lists threads on disk, newest first, with filters and an opaque cursor.
    ThreadList => "thread/list" (Stable) {
        params: ThreadListParams, response: ThreadListResponse
    },
    /// Lists the ids of the threads loaded in memory.
    ThreadLoadedList => "thread/loaded/list" (Stable) {
        params: ThreadLoadedListParams, response: ThreadLoadedListResponse
    },
    /// Starts a turn on a thread; its items stream as notifications.
    TurnStart => "turn/start" (Stable) {
        params: TurnStartParams, response: TurnStartResponse
    },
    /// Adds input to the running turn.
    TurnSteer => "turn/steer" (Stable) {
        params: TurnSteerParams, response: TurnSteerResponse
    },
    /// Interrupts the running turn; it completes as `interrupted`.
    TurnInterrupt => "turn/interrupt" (Stable) {
        params: TurnInterruptParams, response: TurnInterruptResponse
    },
    /// Runs a standalone command (sandboxed by the configured policy unless told otherwise);
    /// answers when it ends.
    CommandExec => "command/exec" (Stable) {
        params: CommandExecParams, response: CommandExecResponse
    },
    /// Writes to a running command's stdin, or closes it.
    CommandExecWrite => "command/exec/write" (Stable) {
        params: CommandExecWriteParams, response: CommandExecWriteResponse
    },
    /// Resizes a running command's terminal.
    CommandExecResize => "command/exec/resize" (Stable) {
        params: CommandExecResizeParams, response: CommandExecResizeResponse
    },
    /// Kills a running command and its children.
    CommandExecTerminate => "command/exec/terminate" (Stable) {
        params: CommandExecTerminateParams, response: CommandExecTerminateResponse
    },
    /// Runs a command line for the user in the thread's cwd, unsandboxed; its
    /// `commandExecution` item (source `userShell`) streams as notifications.
    ThreadShellCommand => "thread/shellCommand" (Stable) {
        params: ThreadShellCommandParams, response: ThreadShellCommandResponse
    },
    /// Reads content-free, process-local diagnostics.
    ServerDiagnostics => "server/diagnostics" (Experimental) {
        params: ServerDiagnosticsParams, response: ServerDiagnosticsResponse
    },
    /// Test-only method used to validate experimental gating: echoes its `value`.
    MockExperimentalMethod => "mock/experimentalMethod" (Experimental) {
        params: MockExperimentalMethodParams, response: MockExperimentalMethodResponse
    },
}

server_notifications! {
    /// A turn hit an error; `willRetry` says whether it tries again.
    Error => "error" (Stable) (ErrorNotification),
    /// Output of a streamed `command/exec`.
    CommandExecOutputDelta => "command/exec/outputDelta" (Stable) (CommandExecOutputDeltaNotification),
    /// A thread was started or forked.
    ThreadStarted => "thread/started" (Stable) (ThreadStartedNotification),
    /// A thread was archived.
    ThreadArchived => "thread/archived" (Stable) (ThreadArchivedNotification),
    /// A thread was unarchived.
    ThreadUnarchived => "thread/unarchived" (Stable) (ThreadUnarchivedNotification),
    /// A thread's history was reverted.
    ThreadReverted => "thread/reverted" (Stable) (ThreadRevertedNotification),
    /// A thread was named.
    ThreadNameUpdated => "thread/name/updated" (Stable) (ThreadNameUpdatedNotification),
    /// A thread's status changed.
    ThreadStatusChanged => "thread/status/changed" (Stable) (ThreadStatusChangedNotification),
    /// A thread's token usage changed.
    ThreadTokenUsageUpdated => "thread/tokenUsage/updated" (Stable) (ThreadTokenUsageUpdatedNotification),
    /// A turn started.
    TurnStarted => "turn/started" (Stable) (TurnStartedNotification),
    /// A turn ended: completed, interrupted or failed.
    TurnCompleted => "turn/completed" (Stable) (TurnCompletedNotification),
    /// An item started.
    ItemStarted => "item/started" (Stable) (ItemStartedNotification),
    /// An item completed.
    ItemCompleted => "item/completed" (Stable) (ItemCompletedNotification),
    /// More text of an agent message.
    AgentMessageDelta => "item/agentMessage/delta" (Stable) (AgentMessageDeltaNotification),
    /// More text of a reasoning summary part.
    ReasoningSummaryTextDelta => "item/reasoning/summaryTextDelta" (Stable) (ReasoningSummaryTextDeltaNotification),
    /// A reasoning summary part began.
    ReasoningSummaryPartAdded => "item/reasoning/summaryPartAdded" (Stable) (ReasoningSummaryPartAddedNotification),
    /// More raw reasoning text.
    ReasoningTextDelta => "item/reasoning/textDelta" (Stable) (ReasoningTextDeltaNotification),
    /// A problem in the user's configuration that did not stop the server.
    ConfigWarning => "configWarning" (Stable) (ConfigWarningNotification),
    /// More output of a running `commandExecution` item.
    CommandExecutionOutputDelta => "item/commandExecution/outputDelta" (Stable) (CommandExecutionOutputDeltaNotification),
    /// The agent wrote to (or polled) a command's terminal session.
    TerminalInteraction => "item/commandExecution/terminalInteraction" (Stable) (TerminalInteractionNotification),
    /// A server request needs no answer any more.
    ServerRequestResolved => "serverRequest/resolved" (Stable) (ServerRequestResolvedNotification),
    /// The agent's plan for the turn changed.
    TurnPlanUpdated => "turn/plan/updated" (Stable) (TurnPlanUpdatedNotification),
    /// The turn's aggregated file diff changed.
    TurnDiffUpdated => "turn/diff/updated" (Stable) (TurnDiffUpdatedNotification),
}

server_requests! {
    /// May this command run?
    CommandExecutionRequestApproval => "item/commandExecution/requestApproval" {
        params: CommandExecutionRequestApprovalParams, response: CommandExecutionRequestApprovalResponse
    },
    /// May this patch be applied?
    FileChangeRequestApproval => "item/fileChange/requestApproval" {
        params: FileChangeRequestApprovalParams, response: FileChangeRequestApprovalResponse
    },
    /// The model asks the user questions.
    ToolRequestUserInput => "item/tool/requestUserInput" {
        params: ToolRequestUserInputParams, response: ToolRequestUserInputResponse
    },
    /// The model calls a tool the client declared.
    DynamicToolCall => "item/tool/call" {
        params: DynamicToolCallParams, response: DynamicToolCallResponse
    },
}

/// A notification from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientNotification {
    /// The client processed the `initialize` result. Optional: requests work without it.
    Initialized,
}

impl ClientNotification {
    /// The wire names of client notifications, for the export.
    pub const METHODS: &'static [&'static str] = &["initialized"];

    /// Decodes a notification by method name; `None` for a method we do not know (which the
    /// server ignores). Params, if any, are ignored: `initialized` has none.
    pub fn decode(method: &str) -> Option<Self> {
        match method {
            "initialized" => Some(Self::Initialized),
            _ => None,
        }
    }
}

/// A notification as written to the wire: `{"method", "params", "emittedAtMs"}`.
#[derive(Debug, Clone, Copy)]
pub struct NotificationEnvelope<'a> {
    pub notification: &'a ServerNotification,
    /// When the server emitted it, in Unix milliseconds.
    pub emitted_at_ms: u64,
}

impl Serialize for NotificationEnvelope<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("method", self.notification.method())?;
        self.notification.serialize_params(&mut map)?;
        map.serialize_entry("emittedAtMs", &self.emitted_at_ms)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;
    use crate::v2::{ClientInfo, InitializeCapabilities};

    fn raw(value: &serde_json::Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(value).unwrap()
    }

    fn decode_error(method: &str, params: &serde_json::Value) -> RpcError {
        RpcError::from(ClientRequest::decode(method, Some(&raw(params))).unwrap_err())
    }

    #[test]
    fn initialize_decodes_leniently() {
        let request = ClientRequest::decode(
            "initialize",
            Some(&raw(&json!({
                "clientInfo": {"name": "ide", "version": "1.0", "title": null},
                "capabilities": {"experimentalApi": null, "requestAttestation": true},
                "bogusField": 1,
            }))),
        )
        .unwrap();
        assert_eq!(
            request,
            ClientRequest::Initialize(InitializeParams {
                client_info: ClientInfo {
                    name: "ide".into(),
                    title: None,
                    version: "1.0".into(),
                },
                capabilities: Some(InitializeCapabilities {
                    experimental_api: false,
                    opt_out_notification_methods: None,
                    request_attestation: true,
                }),
            })
        );
    }

    #[test]
    fn params_may_be_absent_when_every_field_is_optional() {
        assert_eq!(
            ClientRequest::decode("server/diagnostics", None).unwrap(),
            ClientRequest::ServerDiagnostics(ServerDiagnosticsParams {})
        );
        assert_eq!(
            decode_error("initialize", &json!(null)),
            RpcError {
                code: -32602,
                message: "invalid params for `initialize`: missing field `clientInfo`".into(),
                data: Some(json!({"path": "clientInfo"})),
            }
        );
        assert_eq!(
            decode_error("initialize", &json!({"clientInfo": {"name": "x"}})).data,
            Some(json!({"path": "clientInfo.version"}))
        );
    }

    #[test]
    fn invalid_params_name_the_field_path_and_the_expectation() {
        let error = decode_error(
            "initialize",
            &json!({"clientInfo": {"name": "x", "version": "1"}, "capabilities": {"experimentalApi": "yes"}}),
        );
        assert_eq!(
            error,
            RpcError {
                code: -32602,
                message: "invalid params for `initialize`: `capabilities.experimentalApi`: \
                          invalid type: string \"yes\", expected a boolean"
                    .into(),
                data: Some(json!({"path": "capabilities.experimentalApi"})),
            }
        );
        assert_eq!(
            decode_error("initialize", &json!([1])).message,
            "invalid params for `initialize`: params must be an object, found `[1]`"
        );
    }

    #[test]
    fn unknown_methods_are_named() {
        assert_eq!(
            decode_error("no/such/method", &json!({})),
            RpcError::new(-32601, "method not found: `no/such/method`")
        );
    }

    #[test]
    fn experimental_methods_report_themselves() {
        let request = ClientRequest::decode("mock/experimentalMethod", None).unwrap();
        assert_eq!(
            request.experimental_reason(),
            Some("mock/experimentalMethod")
        );
        let request = ClientRequest::decode(
            "initialize",
            Some(&raw(&json!({"clientInfo": {"name": "x", "version": "1"}}))),
        )
        .unwrap();
        assert_eq!(request.experimental_reason(), None);
    }

    #[test]
    fn notifications_carry_emitted_at_ms_beside_params() {
        let notification = ServerNotification::ConfigWarning(ConfigWarningNotification {
            summary: "s".into(),
            details: None,
            path: None,
            range: None,
        });
        let envelope = NotificationEnvelope {
            notification: &notification,
            emitted_at_ms: 42,
        };
        assert_eq!(
            serde_json::to_value(envelope).unwrap(),
            json!({"method": "configWarning", "params": {"summary": "s", "details": null}, "emittedAtMs": 42})
        );
    }
}
