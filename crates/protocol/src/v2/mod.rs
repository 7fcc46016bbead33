//! Protocol v2 wire types, one module per resource (mirrored by the app-server handlers).

mod approval;
mod command;
mod config;
mod diagnostics;
mod initialize;
mod item;
mod mock;
mod path;
mod policy;
mod thread;
mod turn;
mod usage;

pub use approval::{
    CommandExecutionApprovalDecision, CommandExecutionApprovalKind,
    CommandExecutionRequestApprovalParams, CommandExecutionRequestApprovalResponse,
    DynamicToolCallParams, DynamicToolCallResponse, DynamicToolNamespaceTool, DynamicToolSpec,
    FileChangeApprovalDecision, FileChangeRequestApprovalParams, FileChangeRequestApprovalResponse,
    ServerRequestResolvedNotification, ToolRequestUserInputAnswer, ToolRequestUserInputOption,
    ToolRequestUserInputParams, ToolRequestUserInputQuestion, ToolRequestUserInputResponse,
    TurnDiffUpdatedNotification, TurnPlanStep, TurnPlanStepStatus, TurnPlanUpdatedNotification,
};
pub use command::{
    CommandExecOutputDeltaNotification, CommandExecOutputStream, CommandExecParams,
    CommandExecResizeParams, CommandExecResizeResponse, CommandExecResponse,
    CommandExecTerminalSize, CommandExecTerminateParams, CommandExecTerminateResponse,
    CommandExecWriteParams, CommandExecWriteResponse,
};
pub use config::{ConfigWarningNotification, TextPosition, TextRange};
pub use diagnostics::{
    ServerDiagnosticsGauge, ServerDiagnosticsParams, ServerDiagnosticsProcess,
    ServerDiagnosticsResponse,
};
pub use initialize::{ClientInfo, InitializeCapabilities, InitializeParams, InitializeResponse};
pub use item::{
    AgentMessageDeltaNotification, ByteRange, CommandAction,
    CommandExecutionOutputDeltaNotification, CommandExecutionSource, CommandExecutionStatus,
    DynamicToolCallOutputContentItem, DynamicToolCallStatus, FileUpdateChange, ImageDetail,
    ItemCompletedNotification, ItemStartedNotification, MessagePhase, PatchApplyStatus,
    PatchChangeKind, ReasoningSummaryPartAddedNotification, ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification, TerminalInteractionNotification, TextElement, ThreadItem,
    ThreadItemKind, UserInput, WebSearchAction,
};
pub use mock::{MockExperimentalMethodParams, MockExperimentalMethodResponse};
pub use path::{AbsolutePathBuf, RelativePathError};
pub use policy::{
    ApprovalsReviewer, AskForApproval, GranularApprovalConfig, NetworkAccess, ReasoningSummary,
    SandboxMode, SandboxPolicy,
};
pub use thread::{
    GitInfo, SessionSource, SortDirection, Thread, ThreadActiveFlag, ThreadArchiveParams,
    ThreadArchiveResponse, ThreadArchivedNotification, ThreadCompactStartParams,
    ThreadCompactStartResponse, ThreadForkParams, ThreadForkResponse, ThreadHistoryMode,
    ThreadListCwdFilter, ThreadListParams, ThreadListResponse, ThreadLoadedListParams,
    ThreadLoadedListResponse, ThreadNameUpdatedNotification, ThreadReadParams, ThreadReadResponse,
    ThreadResumeParams, ThreadResumeResponse, ThreadRevertParams, ThreadRevertResponse,
    ThreadRevertedNotification, ThreadSetNameParams, ThreadSetNameResponse,
    ThreadShellCommandParams, ThreadShellCommandResponse, ThreadSortKey, ThreadSourceKind,
    ThreadStartParams, ThreadStartResponse, ThreadStartedNotification, ThreadStatus,
    ThreadStatusChangedNotification, ThreadTokenUsageUpdatedNotification, ThreadUnarchiveParams,
    ThreadUnarchiveResponse, ThreadUnarchivedNotification, ThreadUnsubscribeParams,
    ThreadUnsubscribeResponse, ThreadUnsubscribeStatus,
};
pub use turn::{
    CodexErrorInfo, ErrorNotification, Turn, TurnCompletedNotification, TurnError,
    TurnInterruptParams, TurnInterruptResponse, TurnItemsView, TurnStartParams, TurnStartResponse,
    TurnStartedNotification, TurnStatus, TurnSteerParams, TurnSteerResponse,
};
pub use usage::{ThreadTokenUsage, TokenUsageBreakdown};
