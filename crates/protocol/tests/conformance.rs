//! Conformance with the reference implementation's schema in `../shared/upstream-schema/`.
//!
//! 1. Every definition we export that upstream also defines has sample instances here, produced
//!    by our serializers, and each validates against upstream's definition.
//! 2. Wire names match: each property we define exists upstream under the same name, each
//!    property upstream requires exists in ours, and our enum values are upstream's.

#![allow(clippy::unwrap_used, reason = "a failed conversion fails the test")]
#![allow(
    clippy::too_many_lines,
    reason = "sample tables are data, one entry per line"
)]

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};
use tern_protocol::export::schema_definitions;
use tern_protocol::v2::{
    AbsolutePathBuf, AgentMessageDeltaNotification, ApprovalsReviewer, AskForApproval, ByteRange,
    ClientInfo, CodexErrorInfo, ConfigWarningNotification, ErrorNotification, GitInfo,
    GranularApprovalConfig, ImageDetail, InitializeCapabilities, InitializeParams,
    InitializeResponse, ItemCompletedNotification, ItemStartedNotification, MessagePhase,
    MockExperimentalMethodParams, MockExperimentalMethodResponse, ReasoningSummary,
    ReasoningSummaryPartAddedNotification, ReasoningSummaryTextDeltaNotification,
    ReasoningTextDeltaNotification, SandboxMode, SandboxPolicy, ServerDiagnosticsGauge,
    ServerDiagnosticsParams, ServerDiagnosticsProcess, ServerDiagnosticsResponse, SessionSource,
    TextElement, TextPosition, TextRange, Thread, ThreadActiveFlag, ThreadHistoryMode, ThreadItem,
    ThreadItemKind, ThreadLoadedListParams, ThreadLoadedListResponse, ThreadReadParams,
    ThreadReadResponse, ThreadStartParams, ThreadStartResponse, ThreadStartedNotification,
    ThreadStatus, ThreadStatusChangedNotification, ThreadTokenUsage,
    ThreadTokenUsageUpdatedNotification, TokenUsageBreakdown, Turn, TurnCompletedNotification,
    TurnError, TurnInterruptParams, TurnInterruptResponse, TurnItemsView, TurnStartParams,
    TurnStartResponse, TurnStartedNotification, TurnStatus, UserInput,
};
use tern_protocol::v2::{
    CommandAction, CommandExecutionApprovalDecision, CommandExecutionApprovalKind,
    CommandExecutionOutputDeltaNotification, CommandExecutionRequestApprovalParams,
    CommandExecutionRequestApprovalResponse, CommandExecutionSource, CommandExecutionStatus,
    DynamicToolCallOutputContentItem, DynamicToolCallParams, DynamicToolCallResponse,
    DynamicToolCallStatus, DynamicToolNamespaceTool, DynamicToolSpec, FileChangeApprovalDecision,
    FileChangeRequestApprovalParams, FileChangeRequestApprovalResponse, FileUpdateChange,
    PatchApplyStatus, PatchChangeKind, ServerRequestResolvedNotification,
    TerminalInteractionNotification, ThreadShellCommandParams, ThreadShellCommandResponse,
    ToolRequestUserInputAnswer, ToolRequestUserInputOption, ToolRequestUserInputParams,
    ToolRequestUserInputQuestion, ToolRequestUserInputResponse, TurnDiffUpdatedNotification,
    TurnPlanStep, TurnPlanStepStatus, TurnPlanUpdatedNotification, WebSearchAction,
};
use tern_protocol::v2::{
    CommandExecOutputDeltaNotification, CommandExecOutputStream, CommandExecParams,
    CommandExecResizeParams, CommandExecResizeResponse, CommandExecResponse,
    CommandExecTerminalSize, CommandExecTerminateParams, CommandExecTerminateResponse,
    CommandExecWriteParams, CommandExecWriteResponse, NetworkAccess,
};
use tern_protocol::v2::{
    SortDirection, ThreadListCwdFilter, ThreadListParams, ThreadListResponse, ThreadSortKey,
    ThreadSourceKind,
};
use tern_protocol::v2::{
    ThreadArchiveParams, ThreadArchiveResponse, ThreadArchivedNotification,
    ThreadNameUpdatedNotification, ThreadResumeParams, ThreadResumeResponse, ThreadSetNameParams,
    ThreadSetNameResponse, ThreadUnarchiveParams, ThreadUnarchiveResponse,
    ThreadUnarchivedNotification, ThreadUnsubscribeParams, ThreadUnsubscribeResponse,
    ThreadUnsubscribeStatus, TurnSteerParams, TurnSteerResponse,
};
use tern_protocol::v2::{
    ThreadCompactStartParams, ThreadCompactStartResponse, ThreadForkParams, ThreadForkResponse,
    ThreadRevertParams, ThreadRevertResponse, ThreadRevertedNotification,
};
use tern_protocol::{NotificationEnvelope, ServerNotification, ServerRequest};
use tern_test_support::schema::UpstreamSchema;

fn value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

fn client_info() -> ClientInfo {
    ClientInfo {
        name: "codex_vscode".into(),
        title: Some("VS Code".into()),
        version: "1.2.3".into(),
    }
}

fn config_warning() -> ConfigWarningNotification {
    ConfigWarningNotification {
        summary: "tern is ignoring 1 unrecognized configuration setting: `x`.".into(),
        details: Some("details".into()),
        path: Some("/home/u/.tern/config.toml".into()),
        range: Some(TextRange {
            start: TextPosition { line: 1, column: 1 },
            end: TextPosition { line: 1, column: 5 },
        }),
    }
}

/// (definition name, instance) pairs, several per type where shapes differ.
fn samples() -> Vec<(&'static str, Value)> {
    let home = AbsolutePathBuf::try_from(std::path::PathBuf::from("/home/u/.tern")).unwrap();
    let capabilities = InitializeCapabilities {
        experimental_api: true,
        opt_out_notification_methods: Some(vec!["thread/started".into()]),
        request_attestation: false,
    };
    let initialize = InitializeParams {
        client_info: client_info(),
        capabilities: Some(capabilities.clone()),
    };
    let process = ServerDiagnosticsProcess {
        id: 42,
        resident_memory_bytes: Some(4_000_000),
        physical_footprint_bytes: None,
    };
    let gauge = ServerDiagnosticsGauge {
        name: "app.requests.in_flight".into(),
        value: 1,
    };
    let minimal_warning = ConfigWarningNotification {
        summary: "s".into(),
        details: None,
        path: None,
        range: None,
    };
    let notification = ServerNotification::ConfigWarning(config_warning());
    vec![
        ("AbsolutePathBuf", value(&home)),
        ("ClientInfo", value(client_info())),
        ("ClientInfo", json!({"name": "x", "title": null, "version": "1"})),
        ("InitializeCapabilities", value(&capabilities)),
        ("InitializeCapabilities", value(InitializeCapabilities::default())),
        ("InitializeParams", value(&initialize)),
        (
            "InitializeParams",
            value(InitializeParams {
                client_info: client_info(),
                capabilities: None,
            }),
        ),
        (
            "InitializeResponse",
            value(InitializeResponse {
                user_agent: "codex_vscode/0.169.0 (tern 0.1.0; debian 12; x86_64) xterm (codex_vscode; 1.2.3)".into(),
                codex_home: home,
                platform_family: "unix".into(),
                platform_os: "linux".into(),
            }),
        ),
        ("ConfigWarningNotification", value(config_warning())),
        ("ConfigWarningNotification", value(&minimal_warning)),
        ("TextRange", value(config_warning().range)),
        ("TextPosition", value(TextPosition { line: 3, column: 7 })),
        ("ServerDiagnosticsParams", value(ServerDiagnosticsParams {})),
        ("ServerDiagnosticsProcess", value(&process)),
        ("ServerDiagnosticsGauge", value(&gauge)),
        (
            "ServerDiagnosticsResponse",
            value(ServerDiagnosticsResponse {
                gauges: vec![gauge],
                process,
            }),
        ),
        ("MockExperimentalMethodParams", value(MockExperimentalMethodParams { value: Some("v".into()) })),
        ("MockExperimentalMethodResponse", value(MockExperimentalMethodResponse { echoed: None })),
        ("RequestId", json!(7)),
        ("RequestId", json!("seven")),
        ("ClientRequest", json!({"id": 1, "method": "initialize", "params": value(&initialize)})),
        ("ClientRequest", json!({"id": "d", "method": "server/diagnostics", "params": {}})),
        ("ClientRequest", json!({"id": 2, "method": "mock/experimentalMethod", "params": {"value": null}})),
        ("ClientNotification", json!({"method": "initialized"})),
        ("ServerNotification", {
            let mut message = value(NotificationEnvelope {
                notification: &notification,
                emitted_at_ms: 1,
            });
            // Upstream's union describes `{method, params}`; the stamp is checked by the harness.
            message.as_object_mut().unwrap().remove("emittedAtMs");
            message
        }),
    ]
}

const THREAD_ID: &str = "01a1fca8-0267-7d71-ba9f-4527772fea78";
const TURN_ID: &str = "01a1fca8-03aa-7092-bf0a-9d903416e36e";

fn user_input() -> Vec<UserInput> {
    vec![
        UserInput::Text {
            text: "say hello".into(),
            text_elements: vec![TextElement {
                byte_range: ByteRange { start: 0, end: 3 },
                placeholder: Some("say".into()),
            }],
        },
        UserInput::Image {
            url: "data:image/png;base64,AAAA".into(),
            detail: Some(ImageDetail::High),
        },
        UserInput::LocalImage {
            path: "/tmp/a.png".into(),
            detail: None,
        },
    ]
}

fn items() -> Vec<ThreadItem> {
    let at = |kind| ThreadItem {
        kind,
        started_at_ms: Some(1_795_240_231_897),
        completed_at_ms: Some(1_795_240_231_953),
    };
    vec![
        at(ThreadItemKind::UserMessage {
            id: "u1".into(),
            client_id: Some("c1".into()),
            content: user_input(),
        }),
        at(ThreadItemKind::Reasoning {
            id: "rs_1".into(),
            summary: vec!["Thinking".into()],
            content: vec![],
        }),
        at(ThreadItemKind::AgentMessage {
            id: "msg_1".into(),
            text: "Hello".into(),
            phase: Some(MessagePhase::FinalAnswer),
        }),
        at(ThreadItemKind::ContextCompaction { id: "c1".into() }),
        at(command_item(CommandExecutionStatus::Completed)),
        at(command_item(CommandExecutionStatus::InProgress)),
        at(ThreadItemKind::FileChange {
            id: "call_2".into(),
            changes: file_changes(),
            status: PatchApplyStatus::Declined,
        }),
        at(ThreadItemKind::DynamicToolCall {
            id: "call_3".into(),
            namespace: None,
            tool: "lookup".into(),
            arguments: json!({"q": "x"}),
            status: DynamicToolCallStatus::Completed,
            content_items: Some(content_items()),
            success: Some(true),
            duration_ms: Some(3),
        }),
        at(ThreadItemKind::WebSearch {
            id: "ws_1".into(),
            query: "rust".into(),
            action: Some(WebSearchAction::Search {
                query: Some("rust".into()),
                queries: None,
            }),
        }),
        at(ThreadItemKind::ImageView {
            id: "call_4".into(),
            path: "/w/a.png".into(),
        }),
    ]
}

fn command_item(status: CommandExecutionStatus) -> ThreadItemKind {
    let done = status != CommandExecutionStatus::InProgress;
    ThreadItemKind::CommandExecution {
        id: "call_1".into(),
        command: "/bin/bash -lc 'cat a.txt'".into(),
        cwd: "/w".into(),
        process_id: (!done).then(|| "1000".into()),
        source: if done {
            CommandExecutionSource::Agent
        } else {
            CommandExecutionSource::UnifiedExecStartup
        },
        status,
        command_actions: command_actions(),
        aggregated_output: done.then(|| "hi\n".into()),
        exit_code: done.then_some(0),
        duration_ms: done.then_some(4),
    }
}

fn command_actions() -> Vec<CommandAction> {
    vec![
        CommandAction::Read {
            command: "cat a.txt".into(),
            name: "a.txt".into(),
            path: "a.txt".into(),
        },
        CommandAction::ListFiles {
            command: "ls".into(),
            path: None,
        },
        CommandAction::Search {
            command: "rg x src".into(),
            query: Some("x".into()),
            path: Some("src".into()),
        },
        CommandAction::Unknown {
            command: "make".into(),
        },
    ]
}

fn file_changes() -> Vec<FileUpdateChange> {
    vec![
        FileUpdateChange {
            path: "/w/a.txt".into(),
            kind: PatchChangeKind::Add,
            diff: "hello\n".into(),
        },
        FileUpdateChange {
            path: "/w/b.txt".into(),
            kind: PatchChangeKind::Delete,
            diff: "bye\n".into(),
        },
        FileUpdateChange {
            path: "/w/c.txt".into(),
            kind: PatchChangeKind::Update {
                move_path: Some("/w/d.txt".into()),
            },
            diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
        },
    ]
}

fn content_items() -> Vec<DynamicToolCallOutputContentItem> {
    vec![
        DynamicToolCallOutputContentItem::InputText { text: "42".into() },
        DynamicToolCallOutputContentItem::InputImage {
            image_url: "data:image/png;base64,AAAA".into(),
        },
        DynamicToolCallOutputContentItem::InputAudio {
            audio_url: "data:audio/wav;base64,AAAA".into(),
        },
    ]
}

/// Tools, approvals and the server's requests.
fn tool_samples() -> Vec<(&'static str, Value)> {
    let approval = CommandExecutionRequestApprovalParams {
        thread_id: THREAD_ID.into(),
        turn_id: TURN_ID.into(),
        item_id: "call_1".into(),
        started_at_ms: 1_795_240_231_897,
        kind: CommandExecutionApprovalKind::Command,
        environment_id: Some("local".into()),
        reason: Some("needs the network".into()),
        command: Some("/bin/bash -lc 'touch x'".into()),
        cwd: Some("/w".into()),
        command_actions: Some(command_actions()),
        proposed_execpolicy_amendment: Some(vec!["touch".into(), "x".into()]),
        available_decisions: Some(vec![
            CommandExecutionApprovalDecision::Accept,
            CommandExecutionApprovalDecision::AcceptForSession,
            CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                execpolicy_amendment: vec!["touch".into()],
            },
            CommandExecutionApprovalDecision::Decline,
            CommandExecutionApprovalDecision::Cancel,
        ]),
    };
    let file_approval = FileChangeRequestApprovalParams {
        thread_id: THREAD_ID.into(),
        turn_id: TURN_ID.into(),
        item_id: "call_2".into(),
        started_at_ms: 1_795_240_231_897,
        reason: None,
        grant_root: None,
    };
    let question = ToolRequestUserInputQuestion {
        id: "q1".into(),
        header: "Pick".into(),
        question: "Which?".into(),
        is_other: false,
        is_secret: false,
        options: Some(vec![ToolRequestUserInputOption {
            label: "A".into(),
            description: "the first".into(),
        }]),
    };
    let user_input = ToolRequestUserInputParams {
        thread_id: THREAD_ID.into(),
        turn_id: TURN_ID.into(),
        item_id: "call_5".into(),
        questions: vec![question.clone()],
        is_blocking: true,
    };
    let tool_call = DynamicToolCallParams {
        thread_id: THREAD_ID.into(),
        turn_id: TURN_ID.into(),
        call_id: "call_3".into(),
        namespace: None,
        tool: "lookup".into(),
        arguments: json!({"q": "x"}),
    };
    let answers = ToolRequestUserInputResponse {
        answers: [(
            "q1".to_owned(),
            ToolRequestUserInputAnswer {
                answers: vec!["A".into()],
            },
        )]
        .into(),
    };
    let request = |id: i64, request: ServerRequest| json!({"id": id, "method": request.method(), "params": request.params_json().unwrap()});
    let function = DynamicToolSpec::Function {
        name: "lookup".into(),
        description: "Looks things up".into(),
        input_schema: json!({"type": "object"}),
        defer_loading: false,
    };
    let namespace = DynamicToolSpec::Namespace {
        name: "kb".into(),
        description: "Knowledge base".into(),
        tools: vec![DynamicToolNamespaceTool::Function {
            name: "get".into(),
            description: "Gets".into(),
            input_schema: json!({"type": "object"}),
            defer_loading: true,
        }],
    };
    vec![
        ("CommandExecutionRequestApprovalParams", value(&approval)),
        (
            "CommandExecutionApprovalKind",
            value(CommandExecutionApprovalKind::WriteStdin),
        ),
        (
            "CommandExecutionApprovalDecision",
            value(CommandExecutionApprovalDecision::Cancel),
        ),
        (
            "CommandExecutionRequestApprovalResponse",
            value(CommandExecutionRequestApprovalResponse {
                decision: CommandExecutionApprovalDecision::AcceptForSession,
            }),
        ),
        ("FileChangeRequestApprovalParams", value(&file_approval)),
        (
            "FileChangeApprovalDecision",
            value(FileChangeApprovalDecision::Decline),
        ),
        (
            "FileChangeRequestApprovalResponse",
            value(FileChangeRequestApprovalResponse {
                decision: FileChangeApprovalDecision::AcceptForSession,
            }),
        ),
        ("ToolRequestUserInputParams", value(&user_input)),
        ("ToolRequestUserInputQuestion", value(&question)),
        (
            "ToolRequestUserInputOption",
            value(&question.options.clone().unwrap()[0]),
        ),
        ("ToolRequestUserInputResponse", value(&answers)),
        ("ToolRequestUserInputAnswer", value(&answers.answers["q1"])),
        ("DynamicToolCallParams", value(&tool_call)),
        (
            "DynamicToolCallResponse",
            value(DynamicToolCallResponse {
                content_items: content_items(),
                success: true,
            }),
        ),
        ("DynamicToolSpec", value(&function)),
        ("DynamicToolSpec", value(&namespace)),
        (
            "DynamicToolNamespaceTool",
            value(DynamicToolNamespaceTool::Function {
                name: "get".into(),
                description: "Gets".into(),
                input_schema: json!({}),
                defer_loading: false,
            }),
        ),
        (
            "DynamicToolCallOutputContentItem",
            value(&content_items()[0]),
        ),
        (
            "DynamicToolCallStatus",
            value(DynamicToolCallStatus::Failed),
        ),
        ("CommandAction", value(&command_actions()[0])),
        (
            "CommandExecutionSource",
            value(CommandExecutionSource::UserShell),
        ),
        (
            "CommandExecutionStatus",
            value(CommandExecutionStatus::Declined),
        ),
        ("PatchApplyStatus", value(PatchApplyStatus::Failed)),
        ("FileUpdateChange", value(&file_changes()[2])),
        ("PatchChangeKind", value(PatchChangeKind::Add)),
        (
            "WebSearchAction",
            value(WebSearchAction::OpenPage {
                url: Some("https://x".into()),
            }),
        ),
        (
            "WebSearchAction",
            value(WebSearchAction::FindInPage {
                url: None,
                pattern: Some("p".into()),
            }),
        ),
        ("WebSearchAction", value(WebSearchAction::Other)),
        (
            "CommandExecutionOutputDeltaNotification",
            value(CommandExecutionOutputDeltaNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "call_1".into(),
                delta: "hi\n".into(),
            }),
        ),
        (
            "TerminalInteractionNotification",
            value(TerminalInteractionNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "call_1".into(),
                process_id: "1000".into(),
                stdin: "y\n".into(),
            }),
        ),
        (
            "ServerRequestResolvedNotification",
            value(ServerRequestResolvedNotification {
                thread_id: THREAD_ID.into(),
                request_id: tern_protocol::jsonrpc::RequestId::Integer(0),
            }),
        ),
        (
            "TurnPlanUpdatedNotification",
            value(TurnPlanUpdatedNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                explanation: Some("first things first".into()),
                plan: vec![TurnPlanStep {
                    step: "read".into(),
                    status: TurnPlanStepStatus::InProgress,
                }],
            }),
        ),
        (
            "TurnPlanStep",
            value(TurnPlanStep {
                step: "s".into(),
                status: TurnPlanStepStatus::Pending,
            }),
        ),
        ("TurnPlanStepStatus", value(TurnPlanStepStatus::Completed)),
        (
            "TurnDiffUpdatedNotification",
            value(TurnDiffUpdatedNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                diff: "diff --git a/a b/a\n".into(),
            }),
        ),
        (
            "ThreadShellCommandParams",
            value(ThreadShellCommandParams {
                thread_id: THREAD_ID.into(),
                command: "ls | wc -l".into(),
                timeout_ms: Some(1000),
            }),
        ),
        (
            "ThreadShellCommandResponse",
            value(ThreadShellCommandResponse {}),
        ),
        (
            "ServerRequest",
            request(0, ServerRequest::CommandExecutionRequestApproval(approval)),
        ),
        (
            "ServerRequest",
            request(1, ServerRequest::FileChangeRequestApproval(file_approval)),
        ),
        (
            "ServerRequest",
            request(2, ServerRequest::ToolRequestUserInput(user_input)),
        ),
        (
            "ServerRequest",
            request(3, ServerRequest::DynamicToolCall(tool_call)),
        ),
    ]
}

fn turn(status: TurnStatus) -> Turn {
    Turn {
        id: TURN_ID.into(),
        root_turn_id: Some(TURN_ID.into()),
        items: items(),
        items_view: TurnItemsView::Full,
        status,
        error: (status == TurnStatus::Failed).then(|| TurnError {
            message: "boom".into(),
            codex_error_info: Some(CodexErrorInfo::ResponseStreamDisconnected {
                http_status_code: None,
            }),
            additional_details: None,
        }),
        started_at: Some(1_795_240_231),
        completed_at: Some(1_795_240_232),
        duration_ms: Some(106),
    }
}

fn thread() -> Thread {
    Thread {
        id: THREAD_ID.into(),
        session_id: THREAD_ID.into(),
        forked_from_id: None,
        parent_thread_id: None,
        preview: "say hello".into(),
        ephemeral: false,
        project_id: None,
        history_mode: ThreadHistoryMode::Paginated,
        model_provider: "mock".into(),
        model: Some("mock-model".into()),
        reasoning_effort: Some("high".into()),
        created_at: 1_795_240_231,
        updated_at: 1_795_240_232,
        recency_at: Some(1_795_240_232),
        status: ThreadStatus::Active {
            active_flags: vec![ThreadActiveFlag::WaitingOnApproval],
        },
        path: Some("/h/sessions/2026/11/21/rollout-x.jsonl".into()),
        cwd: AbsolutePathBuf::try_from(std::path::PathBuf::from("/w")).unwrap(),
        cli_version: "0.169.0".into(),
        originator: Some("codex_vscode".into()),
        source: SessionSource::Vscode,
        thread_source: None,
        agent_nickname: None,
        agent_role: None,
        git_info: Some(GitInfo {
            sha: Some("abc".into()),
            branch: Some("main".into()),
            origin_url: None,
        }),
        name: Some("named".into()),
        turns: vec![turn(TurnStatus::Completed), turn(TurnStatus::Failed)],
    }
}

fn usage() -> ThreadTokenUsage {
    let breakdown = TokenUsageBreakdown {
        total_tokens: 12,
        input_tokens: 10,
        cached_input_tokens: 2,
        cache_write_input_tokens: 0,
        output_tokens: 2,
        reasoning_output_tokens: 1,
    };
    ThreadTokenUsage {
        total: breakdown,
        last: breakdown,
        model_context_window: Some(258_400),
    }
}

/// Samples of the thread and turn types.
fn thread_samples() -> Vec<(&'static str, Value)> {
    let workspace = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![AbsolutePathBuf::try_from(std::path::PathBuf::from("/w")).unwrap()],
        network_access: true,
        exclude_tmpdir_env_var: false,
        exclude_slash_tmp: true,
    };
    let mut samples = vec![
        ("Thread", value(thread())),
        ("Turn", value(turn(TurnStatus::Interrupted))),
        ("ThreadItem", value(&items()[0])),
        ("UserInput", value(&user_input()[2])),
        (
            "TextElement",
            value(TextElement {
                byte_range: ByteRange { start: 1, end: 2 },
                placeholder: None,
            }),
        ),
        ("ByteRange", json!({"start": 0, "end": 4})),
        ("ImageDetail", value(ImageDetail::Original)),
        ("MessagePhase", value(MessagePhase::Commentary)),
        (
            "GitInfo",
            value(GitInfo {
                sha: None,
                branch: None,
                origin_url: Some("git@x".into()),
            }),
        ),
        ("SessionSource", value(SessionSource::AppServer)),
        ("ThreadHistoryMode", value(ThreadHistoryMode::Legacy)),
        (
            "ThreadActiveFlag",
            value(ThreadActiveFlag::WaitingOnUserInput),
        ),
        ("ThreadStatus", value(ThreadStatus::NotLoaded)),
        ("ThreadStatus", value(ThreadStatus::SystemError)),
        ("TurnStatus", value(TurnStatus::InProgress)),
        ("TurnItemsView", value(TurnItemsView::Summary)),
        ("TurnError", value(turn(TurnStatus::Failed).error)),
        ("CodexErrorInfo", value(CodexErrorInfo::InternalServerError)),
        (
            "CodexErrorInfo",
            value(CodexErrorInfo::HttpConnectionFailed {
                http_status_code: Some(401),
            }),
        ),
        (
            "CodexErrorInfo",
            value(CodexErrorInfo::ResponseTooManyFailedAttempts {
                http_status_code: Some(429),
            }),
        ),
        ("TokenUsageBreakdown", value(usage().last)),
        ("ThreadTokenUsage", value(usage())),
        ("AskForApproval", value(AskForApproval::OnRequest)),
        (
            "AskForApproval",
            value(AskForApproval::Granular(GranularApprovalConfig {
                sandbox_approval: true,
                rules: false,
                skill_approval: false,
                request_permissions: true,
                mcp_elicitations: false,
            })),
        ),
        ("SandboxMode", value(SandboxMode::WorkspaceWrite)),
        ("SandboxPolicy", value(&workspace)),
        (
            "SandboxPolicy",
            value(SandboxPolicy::ReadOnly {
                network_access: false,
            }),
        ),
        ("SandboxPolicy", value(SandboxPolicy::DangerFullAccess)),
        (
            "SandboxPolicy",
            value(SandboxPolicy::ExternalSandbox {
                network_access: NetworkAccess::Enabled,
            }),
        ),
        ("NetworkAccess", value(NetworkAccess::Restricted)),
        (
            "CommandExecParams",
            value(CommandExecParams {
                command: vec!["ls".into(), "-l".into()],
                process_id: Some("p".into()),
                tty: false,
                stream_stdin: true,
                stream_stdout_stderr: true,
                output_bytes_cap: Some(10),
                disable_output_cap: false,
                disable_timeout: false,
                timeout_ms: Some(1000),
                cwd: Some("/w".into()),
                env: Some(
                    [
                        ("A".to_owned(), Some("b".to_owned())),
                        ("C".to_owned(), None),
                    ]
                    .into(),
                ),
                size: Some(CommandExecTerminalSize { rows: 24, cols: 80 }),
                sandbox_policy: Some(workspace.clone()),
            }),
        ),
        (
            "CommandExecResponse",
            value(CommandExecResponse {
                exit_code: 1,
                stdout: "o".into(),
                stderr: "e".into(),
            }),
        ),
        (
            "CommandExecOutputDeltaNotification",
            value(CommandExecOutputDeltaNotification {
                process_id: "p".into(),
                stream: CommandExecOutputStream::Stderr,
                delta_base64: "aGk=".into(),
                cap_reached: true,
            }),
        ),
        (
            "CommandExecOutputStream",
            value(CommandExecOutputStream::Stdout),
        ),
        (
            "CommandExecTerminalSize",
            value(CommandExecTerminalSize { rows: 1, cols: 2 }),
        ),
        (
            "CommandExecWriteParams",
            value(CommandExecWriteParams {
                process_id: "p".into(),
                delta_base64: Some("aGk=".into()),
                close_stdin: true,
            }),
        ),
        (
            "CommandExecWriteResponse",
            value(CommandExecWriteResponse {}),
        ),
        (
            "CommandExecTerminateParams",
            value(CommandExecTerminateParams {
                process_id: "p".into(),
            }),
        ),
        (
            "CommandExecTerminateResponse",
            value(CommandExecTerminateResponse {}),
        ),
        (
            "CommandExecResizeParams",
            value(CommandExecResizeParams {
                process_id: "p".into(),
                size: CommandExecTerminalSize { rows: 3, cols: 4 },
            }),
        ),
        (
            "CommandExecResizeResponse",
            value(CommandExecResizeResponse {}),
        ),
        ("ApprovalsReviewer", value(ApprovalsReviewer::User)),
        ("ReasoningSummary", value(ReasoningSummary::Detailed)),
        (
            "ThreadStartParams",
            value(ThreadStartParams {
                model: Some("m".into()),
                model_provider: Some("mock".into()),
                cwd: Some("/w".into()),
                approval_policy: Some(AskForApproval::Never),
                sandbox: Some(SandboxMode::ReadOnly),
                base_instructions: Some("b".into()),
                developer_instructions: Some("d".into()),
                config: None,
                ephemeral: Some(true),
                dynamic_tools: Some(vec![DynamicToolSpec::Function {
                    name: "lookup".into(),
                    description: "Looks things up".into(),
                    input_schema: json!({"type": "object"}),
                    defer_loading: false,
                }]),
            }),
        ),
        (
            "ThreadStartResponse",
            value(ThreadStartResponse {
                thread: thread(),
                model: "m".into(),
                model_provider: "mock".into(),
                service_tier: None,
                cwd: AbsolutePathBuf::try_from(std::path::PathBuf::from("/w")).unwrap(),
                instruction_sources: vec![],
                approval_policy: AskForApproval::Untrusted,
                approvals_reviewer: ApprovalsReviewer::User,
                sandbox: workspace.clone(),
                reasoning_effort: None,
            }),
        ),
        (
            "ThreadReadParams",
            value(ThreadReadParams {
                thread_id: THREAD_ID.into(),
                include_turns: true,
            }),
        ),
        (
            "ThreadReadResponse",
            value(ThreadReadResponse { thread: thread() }),
        ),
        (
            "ThreadLoadedListParams",
            value(ThreadLoadedListParams {
                cursor: Some("x".into()),
                limit: Some(5),
            }),
        ),
        (
            "ThreadLoadedListResponse",
            value(ThreadLoadedListResponse {
                data: vec![THREAD_ID.into()],
                next_cursor: None,
            }),
        ),
        (
            "TurnStartParams",
            value(TurnStartParams {
                thread_id: THREAD_ID.into(),
                input: user_input(),
                cwd: Some("/w".into()),
                model: Some("m".into()),
                effort: Some("low".into()),
                summary: Some(ReasoningSummary::Auto),
                approval_policy: Some(AskForApproval::OnRequest),
                sandbox_policy: Some(workspace),
                output_schema: Some(json!({"type": "object"})),
                client_user_message_id: Some("c".into()),
            }),
        ),
        (
            "TurnStartResponse",
            value(TurnStartResponse {
                turn: turn(TurnStatus::InProgress),
            }),
        ),
        (
            "TurnInterruptParams",
            value(TurnInterruptParams {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
            }),
        ),
        ("TurnInterruptResponse", value(TurnInterruptResponse {})),
        (
            "ThreadStartedNotification",
            value(ThreadStartedNotification {
                thread: Box::new(thread()),
            }),
        ),
        (
            "ThreadStatusChangedNotification",
            value(ThreadStatusChangedNotification {
                thread_id: THREAD_ID.into(),
                status: ThreadStatus::Idle,
            }),
        ),
        (
            "ThreadTokenUsageUpdatedNotification",
            value(ThreadTokenUsageUpdatedNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                token_usage: usage(),
            }),
        ),
        (
            "TurnStartedNotification",
            value(TurnStartedNotification {
                thread_id: THREAD_ID.into(),
                turn: turn(TurnStatus::InProgress),
            }),
        ),
        (
            "TurnCompletedNotification",
            value(TurnCompletedNotification {
                thread_id: THREAD_ID.into(),
                turn: turn(TurnStatus::Completed),
            }),
        ),
        (
            "ItemStartedNotification",
            value(ItemStartedNotification {
                item: items()[2].clone(),
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                started_at_ms: 1,
            }),
        ),
        (
            "ItemCompletedNotification",
            value(ItemCompletedNotification {
                item: items()[1].clone(),
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                completed_at_ms: 2,
                content_token_count: None,
            }),
        ),
        (
            "AgentMessageDeltaNotification",
            value(AgentMessageDeltaNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "msg_1".into(),
                delta: "He".into(),
            }),
        ),
        (
            "ReasoningSummaryPartAddedNotification",
            value(ReasoningSummaryPartAddedNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "rs_1".into(),
                summary_index: 0,
            }),
        ),
        (
            "ReasoningSummaryTextDeltaNotification",
            value(ReasoningSummaryTextDeltaNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "rs_1".into(),
                delta: "Thin".into(),
                summary_index: 0,
            }),
        ),
        (
            "ReasoningTextDeltaNotification",
            value(ReasoningTextDeltaNotification {
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
                item_id: "rs_1".into(),
                delta: "raw".into(),
                content_index: 0,
            }),
        ),
        (
            "ErrorNotification",
            value(ErrorNotification {
                error: turn(TurnStatus::Failed).error.unwrap(),
                will_retry: true,
                thread_id: THREAD_ID.into(),
                turn_id: TURN_ID.into(),
            }),
        ),
    ];
    let id = || THREAD_ID.to_owned();
    samples.extend([
        (
            "ThreadResumeParams",
            value(ThreadResumeParams {
                thread_id: id(),
                exclude_turns: Some(true),
                ..ThreadResumeParams::default()
            }),
        ),
        (
            "ThreadResumeResponse",
            value(ThreadResumeResponse {
                thread: thread(),
                model: "m".into(),
                model_provider: "mock".into(),
                service_tier: None,
                cwd: AbsolutePathBuf::try_from(std::path::PathBuf::from("/w")).unwrap(),
                instruction_sources: vec![],
                approval_policy: AskForApproval::Never,
                approvals_reviewer: ApprovalsReviewer::User,
                sandbox: SandboxPolicy::DangerFullAccess,
                reasoning_effort: None,
            }),
        ),
        (
            "ThreadSetNameParams",
            value(ThreadSetNameParams {
                thread_id: id(),
                name: "n".into(),
            }),
        ),
        ("ThreadSetNameResponse", value(ThreadSetNameResponse {})),
        (
            "ThreadNameUpdatedNotification",
            value(ThreadNameUpdatedNotification {
                thread_id: id(),
                thread_name: Some("n".into()),
            }),
        ),
        (
            "ThreadArchiveParams",
            value(ThreadArchiveParams { thread_id: id() }),
        ),
        ("ThreadArchiveResponse", value(ThreadArchiveResponse {})),
        (
            "ThreadArchivedNotification",
            value(ThreadArchivedNotification { thread_id: id() }),
        ),
        (
            "ThreadUnarchiveParams",
            value(ThreadUnarchiveParams { thread_id: id() }),
        ),
        (
            "ThreadUnarchiveResponse",
            value(ThreadUnarchiveResponse { thread: thread() }),
        ),
        (
            "ThreadUnarchivedNotification",
            value(ThreadUnarchivedNotification { thread_id: id() }),
        ),
        (
            "ThreadUnsubscribeParams",
            value(ThreadUnsubscribeParams { thread_id: id() }),
        ),
        (
            "ThreadUnsubscribeResponse",
            value(ThreadUnsubscribeResponse {
                status: ThreadUnsubscribeStatus::NotSubscribed,
            }),
        ),
        (
            "ThreadUnsubscribeStatus",
            value(ThreadUnsubscribeStatus::Unsubscribed),
        ),
        (
            "TurnSteerParams",
            value(TurnSteerParams {
                thread_id: id(),
                expected_turn_id: TURN_ID.into(),
                input: user_input(),
                client_user_message_id: None,
            }),
        ),
        (
            "TurnSteerResponse",
            value(TurnSteerResponse {
                turn_id: TURN_ID.into(),
            }),
        ),
        (
            "ThreadListParams",
            value(ThreadListParams {
                cursor: Some("1:x".into()),
                limit: Some(10),
                sort_key: Some(ThreadSortKey::UpdatedAt),
                sort_direction: Some(SortDirection::Asc),
                archived: Some(false),
                model_providers: Some(vec!["openai".into()]),
                source_kinds: Some(vec![ThreadSourceKind::Vscode, ThreadSourceKind::AppServer]),
                cwd: Some(ThreadListCwdFilter::Many(vec!["/w".into()])),
                search_term: Some("x".into()),
            }),
        ),
        (
            "ThreadListCwdFilter",
            value(ThreadListCwdFilter::One("/w".into())),
        ),
        ("ThreadSortKey", value(ThreadSortKey::CreatedAt)),
        (
            "ThreadRevertParams",
            value(ThreadRevertParams {
                thread_id: id(),
                before_turn_id: TURN_ID.into(),
            }),
        ),
        (
            "ThreadRevertResponse",
            value(ThreadRevertResponse { thread: thread() }),
        ),
        (
            "ThreadRevertedNotification",
            value(ThreadRevertedNotification { thread_id: id() }),
        ),
        (
            "ThreadCompactStartParams",
            value(ThreadCompactStartParams { thread_id: id() }),
        ),
        (
            "ThreadCompactStartResponse",
            value(ThreadCompactStartResponse {}),
        ),
        (
            "ThreadForkParams",
            value(ThreadForkParams {
                thread_id: id(),
                ephemeral: Some(false),
                exclude_turns: Some(true),
            }),
        ),
        (
            "ThreadForkResponse",
            value(ThreadForkResponse {
                thread: thread(),
                model: "m".into(),
                model_provider: "mock".into(),
                service_tier: None,
                cwd: AbsolutePathBuf::try_from(std::path::PathBuf::from("/w")).unwrap(),
                instruction_sources: vec![],
                approval_policy: AskForApproval::OnRequest,
                approvals_reviewer: ApprovalsReviewer::User,
                sandbox: SandboxPolicy::ReadOnly {
                    network_access: false,
                },
                reasoning_effort: Some("high".into()),
            }),
        ),
        ("SortDirection", value(SortDirection::Desc)),
        ("ThreadSourceKind", value(ThreadSourceKind::Cli)),
        (
            "ThreadListResponse",
            value(ThreadListResponse {
                data: vec![thread()],
                next_cursor: Some("1:x".into()),
                backwards_cursor: None,
            }),
        ),
    ]);
    for item in items() {
        samples.push(("ThreadItem", value(item)));
    }
    for input in user_input() {
        samples.push(("UserInput", value(input)));
    }
    samples
}

#[test]
fn every_shared_definition_has_samples_that_validate_upstream() {
    let upstream = UpstreamSchema::get(true);
    let ours = schema_definitions(true);
    let mut samples = samples();
    samples.extend(thread_samples());
    samples.extend(tool_samples());
    let sampled_types: BTreeSet<&str> = samples.iter().map(|(name, _)| *name).collect();
    let missing: Vec<&String> = ours
        .keys()
        .filter(|name| {
            upstream.definition(name).is_some() && !sampled_types.contains(name.as_str())
        })
        .collect();
    assert!(missing.is_empty(), "add samples for {missing:?}");

    let mut failures = Vec::new();
    for (name, instance) in &samples {
        assert!(ours.contains_key(*name), "{name} is not an exported type");
        if let Err(err) = upstream.validate(name, instance) {
            failures.push(format!("{err:#}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every method and notification we implement exists upstream.
#[test]
fn every_method_exists_upstream_with_the_same_params_type() {
    let upstream = UpstreamSchema::get(true);
    let ours = schema_definitions(true);
    for union in [
        "ClientRequest",
        "ServerNotification",
        "ServerRequest",
        "ClientNotification",
    ] {
        for variant in ours[union]["oneOf"].as_array().unwrap() {
            let method = variant["properties"]["method"]["enum"][0].as_str().unwrap();
            let params = variant["properties"]["params"]["$ref"]
                .as_str()
                .map(|r| r.rsplit('/').next().unwrap().to_owned());
            assert_eq!(
                upstream.params_type_of(union, method),
                params,
                "{union} `{method}`: params type differs from upstream"
            );
        }
    }
}

/// Properties of an object schema, following upstream's and schemars' layouts.
fn properties(definition: &Value) -> BTreeSet<String> {
    definition["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn required(definition: &Value) -> BTreeSet<String> {
    definition["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// String values an enum schema allows: `enum`, `const`, and those of `oneOf`/`anyOf`
/// variants.
fn enum_values(definition: &Value) -> BTreeSet<String> {
    let mut values: BTreeSet<String> = definition["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if let Some(value) = definition["const"].as_str() {
        values.insert(value.to_owned());
    }
    for key in ["oneOf", "anyOf"] {
        for variant in definition[key].as_array().into_iter().flatten() {
            values.extend(enum_values(variant));
        }
    }
    values
}

/// Definitions reachable from the params of client requests: what clients send us.
fn input_definitions(ours: &std::collections::BTreeMap<String, Value>) -> BTreeSet<String> {
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                {
                    out.push(name.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for variant in ours["ClientRequest"]["oneOf"].as_array().unwrap() {
        refs(&variant["properties"]["params"], &mut pending);
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            if let Some(definition) = ours.get(&name) {
                refs(definition, &mut pending);
            }
        }
    }
    seen
}

#[test]
fn wire_names_and_enum_values_match_upstream() {
    let upstream = UpstreamSchema::get(true);
    let mut problems = Vec::new();
    let definitions = schema_definitions(true);
    let inputs = input_definitions(&definitions);
    for (name, ours) in definitions {
        // The method unions are compared method by method above.
        if [
            "ClientRequest",
            "ServerNotification",
            "ServerRequest",
            "ClientNotification",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        let Some(theirs) = upstream.definition(&name) else {
            continue;
        };
        let (our_props, their_props) = (properties(&ours), properties(theirs));
        for extra in our_props.difference(&their_props) {
            problems.push(format!("{name}.{extra}: not an upstream field"));
        }
        for missing in required(theirs).difference(&our_props) {
            problems.push(format!("{name}.{missing}: required upstream, missing here"));
        }
        // What we accept must not be stricter than upstream; what we send may always carry a
        // field upstream makes optional.
        if inputs.contains(&name) {
            for stricter in required(&ours).difference(&required(theirs)) {
                problems.push(format!(
                    "{name}.{stricter}: required here, optional upstream"
                ));
            }
        }
        for extra in enum_values(&ours).difference(&enum_values(theirs)) {
            problems.push(format!("{name}: enum value `{extra}` is not upstream's"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
