use std::io::Write;

use pretty_assertions::assert_eq;
use tern_protocol::v2::{ThreadItemKind, TurnStatus, UserInput};

use super::*;

fn meta(id: &str) -> SessionMeta {
    SessionMeta {
        id: id.into(),
        session_id: Some(id.into()),
        timestamp: "2026-11-21T05:50:31.853Z".into(),
        cwd: "/w".into(),
        originator: Some("tests".into()),
        cli_version: Some("0.169.0".into()),
        source: Some(serde_json::json!("vscode")),
        model_provider: Some("mock".into()),
        base_instructions: Some(BaseInstructions {
            text: "be good".into(),
        }),
        forked_from_id: None,
    }
}

#[test]
fn paths_follow_the_reference_layout() {
    assert_eq!(
        rollout_path(Path::new("/h"), "abc", 1_795_240_231_853),
        PathBuf::from("/h/sessions/2026/11/21/rollout-2026-11-21T05-50-31-abc.jsonl")
    );
}

#[test]
fn a_written_rollout_reads_back_and_a_torn_last_line_is_skipped() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "t1", 0);
    let mut writer = RolloutWriter::create(&path).unwrap();
    writer.append("session_meta", &meta("t1")).unwrap();
    writer
        .append(
            "event_msg",
            &EventMsg::TaskStarted {
                turn_id: "u1".into(),
                root_turn_id: None,
                started_at: Some(10),
                model_context_window: None,
            },
        )
        .unwrap();
    let user = ThreadItemKind::UserMessage {
        id: "i1".into(),
        client_id: None,
        content: vec![UserInput::Text {
            text: "hello".into(),
            text_elements: vec![],
        }],
    };
    writer
        .append(
            "event_msg",
            &EventMsg::ItemCompleted {
                thread_id: Some("t1".into()),
                turn_id: "u1".into(),
                item: rollout_item(&user),
                started_at_ms: Some(1),
                completed_at_ms: Some(2),
            },
        )
        .unwrap();
    writer
        .append(
            "response_item",
            &crate::model::ResponseItem::text_message("user", None, "hello"),
        )
        .unwrap();
    writer.sync().unwrap();
    drop(writer);
    // A crash mid-write leaves half a line.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(
        br#"{"timestamp":"x","ordinal":4,"type":"event_msg","payload":{"type":"task_comp"#,
    )
    .unwrap();

    assert_eq!(find_rollout(home.path(), "t1", false), Some(path.clone()));
    let loaded = read_rollout(&path).unwrap();
    assert_eq!(loaded.meta, meta("t1"));
    assert_eq!(loaded.preview, "hello");
    assert_eq!(loaded.next_ordinal, 4);
    assert_eq!(loaded.history.len(), 1);
    assert_eq!(loaded.turns.len(), 1);
    // Never closed: the process died mid-turn.
    assert_eq!(loaded.turns[0].status, TurnStatus::Interrupted);
    assert_eq!(loaded.turns[0].items[0].kind, user);
}

#[test]
fn a_reference_rollout_reads() {
    // Lines shaped as the reference implementation writes them (unknown types and fields
    // included); instructions abbreviated.
    let text = concat!(
        r#"{"timestamp":"2026-11-21T05:50:31.853Z","ordinal":0,"type":"session_meta","payload":{"account_scoped":true,"session_id":"s","id":"s","timestamp":"2026-11-21T05:50:31.532Z","cwd":"/tmp/w","runtime_workspace_roots":["/tmp/w"],"originator":"probe","cli_version":"0.169.0","source":"vscode","model_provider":"mock","base_instructions":{"text":"x","provenance":{"type":"model"}},"history_mode":"paginated","context_window":{"window_id":"w"}}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.855Z","ordinal":1,"type":"event_msg","payload":{"type":"task_started","turn_id":"u","root_turn_id":"u","started_at":1795240231,"model_context_window":258400,"collaboration_mode_kind":"default"}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.887Z","ordinal":4,"type":"world_state","payload":{"full":true}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.895Z","ordinal":7,"type":"response_item","payload":{"type":"message","id":"msg_1","role":"user","content":[{"type":"input_text","text":"say hello"}],"internal_chat_message_metadata_passthrough":{"turn_id":"u"}},"metadata":{"history_sequence":3}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.897Z","ordinal":8,"type":"event_msg","payload":{"type":"item_completed","thread_id":"s","turn_id":"u","item":{"type":"UserMessage","id":"i","content":[{"type":"text","text":"say hello","text_elements":[]}]},"started_at_ms":1,"completed_at_ms":1}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.953Z","ordinal":9,"type":"event_msg","payload":{"type":"item_completed","thread_id":"s","turn_id":"u","item":{"type":"AgentMessage","id":"msg_mock1","content":[{"type":"Text","text":"Hello, world!"}]},"started_at_ms":2,"completed_at_ms":3}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.956Z","ordinal":12,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":1200,"cached_input_tokens":200,"cache_write_input_tokens":0,"output_tokens":30,"reasoning_output_tokens":0,"total_tokens":1230},"last_token_usage":{"input_tokens":1200,"cached_input_tokens":200,"cache_write_input_tokens":0,"output_tokens":30,"reasoning_output_tokens":0,"total_tokens":1230},"last_usage_includes_reasoning":false,"model_context_window":258400},"rate_limits":{"limit_id":"codex"}}}"#,
        "\n",
        r#"{"timestamp":"2026-11-21T05:50:31.958Z","ordinal":13,"type":"event_msg","payload":{"type":"task_complete","root_turn_id":"u","turn_id":"u","last_agent_message":"Hello, world!","started_at":1795240231,"completed_at":1795240231,"duration_ms":106,"time_to_first_token_ms":100}}"#,
        "\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, text).unwrap();
    let loaded = read_rollout(&path).unwrap();
    assert_eq!(loaded.meta.id, "s");
    assert_eq!(loaded.next_ordinal, 14);
    assert_eq!(loaded.turns.len(), 1);
    let turn = &loaded.turns[0];
    assert_eq!(
        (turn.status, turn.duration_ms),
        (TurnStatus::Completed, Some(106))
    );
    assert_eq!(turn.items.len(), 2);
    assert_eq!(
        turn.items[1].kind,
        ThreadItemKind::AgentMessage {
            id: "msg_mock1".into(),
            text: "Hello, world!".into(),
            phase: None
        }
    );
    assert_eq!(loaded.token_usage.unwrap().total.total_tokens, 1230);
    assert_eq!(loaded.history.len(), 1);
}

#[test]
fn older_message_events_give_items_only_when_item_completed_lines_are_missing() {
    let legacy = concat!(
        r#"{"timestamp":"t","type":"session_meta","payload":{"id":"s","timestamp":"2026-11-21T05:50:31.532Z","cwd":"/w"}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"task_started","turn_id":"u"}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"user_message","message":"hi","images":[],"local_images":[],"text_elements":[]}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"hello","phase":null}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"task_complete","turn_id":"u"}}"#,
        "\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.jsonl");
    std::fs::write(&path, legacy).unwrap();
    let loaded = read_rollout(&path).unwrap();
    let kinds: Vec<&str> = loaded.turns[0]
        .items
        .iter()
        .map(|item| match &item.kind {
            ThreadItemKind::UserMessage { .. } => "user",
            ThreadItemKind::AgentMessage { .. } => "agent",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["user", "agent"]);
    assert_eq!(loaded.preview, "hi");

    // tern writes both kinds; an item must not appear twice.
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "t2", 0);
    let mut writer = RolloutWriter::create(&path).unwrap();
    writer.append("session_meta", &meta("t2")).unwrap();
    writer
        .append(
            "event_msg",
            &EventMsg::TaskStarted {
                turn_id: "u".into(),
                root_turn_id: Some("u".into()),
                started_at: None,
                model_context_window: None,
            },
        )
        .unwrap();
    let user = ThreadItemKind::UserMessage {
        id: "i1".into(),
        client_id: None,
        content: vec![UserInput::Text {
            text: "hello".into(),
            text_elements: vec![],
        }],
    };
    writer
        .append(
            "event_msg",
            &EventMsg::ItemCompleted {
                thread_id: None,
                turn_id: "u".into(),
                item: rollout_item(&user),
                started_at_ms: None,
                completed_at_ms: None,
            },
        )
        .unwrap();
    writer
        .append(
            "event_msg",
            &legacy_event("u", &user, &rollout_item(&user)).unwrap(),
        )
        .unwrap();
    drop(writer);
    assert_eq!(read_rollout(&path).unwrap().turns[0].items.len(), 1);
}

/// Tool items as the reference stores them (shapes observed from 0.169.0's rollouts).
const REFERENCE_TOOL_ITEMS: [&str; 6] = [
    r#"{"type":"CommandExecution","id":"call_2","process_id":"42276","command":["/bin/bash","-lc","echo out; echo err >&2; exit 3"],"cwd":"file:///tmp/c%20d","parsed_cmd":[{"type":"unknown","cmd":"echo out; echo err >&2; exit 3"}],"source":"unified_exec_startup","status":"failed","aggregated_output":"err\nout\n","exit_code":3,"duration":{"secs":1,"nanos":17556000}}"#,
    r#"{"type":"CommandExecution","id":"5ea5","command":["/bin/bash","-lc","ls src"],"cwd":"file:///tmp/w","parsed_cmd":[{"type":"list_files","cmd":"ls src","path":"src"}],"source":"user_shell","status":"completed","aggregated_output":"a\n","exit_code":0,"duration":{"secs":0,"nanos":340887748}}"#,
    r#"{"type":"FileChange","id":"call_4","changes":{"/tmp/w/sub/b.txt":{"type":"add","content":"b1\n"},"/tmp/w/a.txt":{"type":"delete","content":"old\n"},"/tmp/w/c.txt":{"type":"update","unified_diff":"@@ -1 +1 @@\n-x\n+y\n","move_path":"/tmp/w/d.txt"}},"status":"completed","stdout":"Success. Updated the following files:\nA sub/b.txt\nD a.txt\nM d.txt\n","stderr":""}"#,
    r#"{"type":"DynamicToolCall","id":"call_6","tool":"lookup","arguments":{"q":"y"},"status":"failed","content_items":[{"type":"inputText","text":"dynamic tool request failed"}],"success":false,"duration":{"secs":0,"nanos":899102}}"#,
    r#"{"type":"ImageView","id":"call_1","path":"file:///tmp/w/img.png"}"#,
    r#"{"type":"WebSearch","id":"ws_1","query":"rust","action":{"type":"search","query":"rust"}}"#,
];

#[test]
fn reference_tool_items_read_as_wire_items() {
    use tern_protocol::v2::{
        CommandAction, CommandExecutionSource, CommandExecutionStatus, DynamicToolCallStatus,
        PatchChangeKind,
    };
    let kinds: Vec<ThreadItemKind> = REFERENCE_TOOL_ITEMS
        .iter()
        .map(|text| {
            let item: RolloutItem = serde_json::from_str(text).unwrap();
            items::thread_item_kind(item).unwrap()
        })
        .collect();
    assert_eq!(
        kinds[0],
        ThreadItemKind::CommandExecution {
            id: "call_2".into(),
            command: "/bin/bash -lc 'echo out; echo err >&2; exit 3'".into(),
            cwd: "/tmp/c d".into(),
            process_id: Some("42276".into()),
            source: CommandExecutionSource::UnifiedExecStartup,
            status: CommandExecutionStatus::Failed,
            command_actions: vec![CommandAction::Unknown {
                command: "echo out; echo err >&2; exit 3".into()
            }],
            aggregated_output: Some("err\nout\n".into()),
            exit_code: Some(3),
            duration_ms: Some(1017),
        }
    );
    let ThreadItemKind::FileChange { changes, .. } = &kinds[2] else {
        panic!("{:?}", kinds[2]);
    };
    let summary: Vec<_> = changes
        .iter()
        .map(|c| (c.path.as_str(), c.kind.clone(), c.diff.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("/tmp/w/sub/b.txt", PatchChangeKind::Add, "b1\n"),
            ("/tmp/w/a.txt", PatchChangeKind::Delete, "old\n"),
            (
                "/tmp/w/c.txt",
                PatchChangeKind::Update {
                    move_path: Some("/tmp/w/d.txt".into())
                },
                "@@ -1 +1 @@\n-x\n+y\n"
            ),
        ]
    );
    assert!(matches!(
        &kinds[3],
        ThreadItemKind::DynamicToolCall {
            status: DynamicToolCallStatus::Failed,
            success: Some(false),
            duration_ms: Some(0),
            ..
        }
    ));
    assert_eq!(
        kinds[4],
        ThreadItemKind::ImageView {
            id: "call_1".into(),
            path: "/tmp/w/img.png".into()
        }
    );
}

#[test]
fn tool_items_are_stored_as_the_reference_stores_them() {
    for text in REFERENCE_TOOL_ITEMS {
        let reference: serde_json::Value = serde_json::from_str(text).unwrap();
        let kind = items::thread_item_kind(serde_json::from_str(text).unwrap()).unwrap();
        let ours = serde_json::to_value(rollout_item(&kind)).unwrap();
        // Durations are kept to the millisecond; a file change's report names absolute paths
        // (the item does not say what the cwd was).
        let without_duration = |mut v: serde_json::Value| {
            let object = v.as_object_mut().unwrap();
            object.remove("duration");
            if let Some(stdout) = object.get_mut("stdout") {
                *stdout = stdout.as_str().unwrap().replace("/tmp/w/", "").into();
            }
            v
        };
        assert_eq!(
            without_duration(ours),
            without_duration(reference),
            "{text}"
        );
    }
}

#[test]
fn an_older_rollout_s_patch_events_give_file_changes() {
    let text = concat!(
        r#"{"timestamp":"t","type":"session_meta","payload":{"id":"s","timestamp":"t","cwd":"/w"}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"task_started","turn_id":"u"}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"patch_apply_end","call_id":"c","turn_id":"u","stdout":"","stderr":"","success":true,"changes":{"/w/a":{"type":"add","content":"x\n"}},"status":"completed"}}"#,
        "\n",
        r#"{"timestamp":"t","type":"event_msg","payload":{"type":"task_complete","turn_id":"u"}}"#,
        "\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, text).unwrap();
    let loaded = read_rollout(&path).unwrap();
    let kinds: Vec<_> = loaded.turns[0]
        .items
        .iter()
        .map(|i| i.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [ThreadItemKind::FileChange {
            id: "c".into(),
            changes: vec![tern_protocol::v2::FileUpdateChange {
                path: "/w/a".into(),
                kind: tern_protocol::v2::PatchChangeKind::Add,
                diff: "x\n".into()
            }],
            status: tern_protocol::v2::PatchApplyStatus::Completed,
        }]
    );
}
