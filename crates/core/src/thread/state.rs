//! A loaded thread's state, its wire form, and its rollout.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tern_protocol::COMPATIBLE_PROTOCOL_VERSION;
use tern_protocol::v2::{
    AbsolutePathBuf, AskForApproval, ReasoningSummary, SandboxPolicy, SessionSource, Thread,
    ThreadHistoryMode, ThreadStatus, ThreadTokenUsage, Turn,
};

use crate::config::Config;
use crate::model::ResponseItem;
use crate::rollout::ReadError;
use crate::rollout::{
    BaseInstructions, EventMsg, LoadedRollout, RolloutWriter, SessionMeta, rollout_path,
};
use crate::time::{Utc, now_ms};

/// The settings turns of a thread run with; `turn/start` may change them for the turns after.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSettings {
    pub model: String,
    pub model_provider: String,
    pub cwd: PathBuf,
    pub approval_policy: AskForApproval,
    pub sandbox: SandboxPolicy,
    pub effort: Option<String>,
    pub summary: Option<ReasoningSummary>,
    pub base_instructions: String,
    pub developer_instructions: Option<String>,
}

/// Settings a request asks for (`thread/start`, `thread/resume`); `None` keeps a setting (or
/// takes it from the configuration, for a new thread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsOverrides {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    /// Absolute and existing.
    pub cwd: Option<PathBuf>,
    pub approval_policy: Option<AskForApproval>,
    pub sandbox: Option<tern_protocol::v2::SandboxMode>,
    pub base_instructions: Option<String>,
    pub developer_instructions: Option<String>,
    /// `config` overrides over the server's configuration; empty keeps the thread's.
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl SettingsOverrides {
    /// The configuration a thread runs under: `current` without `config` overrides, else
    /// `server`'s with them on top. Also returns the override keys tern does not know.
    pub(crate) fn config(
        &self,
        current: &std::sync::Arc<Config>,
        server: &Config,
    ) -> Result<(std::sync::Arc<Config>, Vec<String>), crate::CoreError> {
        if self.config.is_empty() {
            return Ok((std::sync::Arc::clone(current), Vec::new()));
        }
        let (config, unknown) = server.with_overrides(&self.config)?;
        Ok((std::sync::Arc::new(config), unknown))
    }

    /// Sets the asked-for settings: all of them, or (when the provider they lead to is not
    /// one of `config`'s) none. A thread whose provider was removed from the configuration
    /// since can still be resumed as it is; its turns say what is missing.
    pub(crate) fn apply(
        self,
        settings: &mut ThreadSettings,
        config: &Config,
    ) -> Result<(), crate::CoreError> {
        let provider_changes = self.model_provider.is_some() || !self.config.is_empty();
        let provider = self
            .model_provider
            .unwrap_or_else(|| settings.model_provider.clone());
        if provider_changes && config.provider(&provider).is_none() {
            return Err(crate::CoreError::UnknownProvider { provider });
        }
        settings.model_provider = provider;
        if let Some(model) = self.model {
            settings.model = model;
        }
        if let Some(cwd) = self.cwd {
            settings.cwd = cwd;
        }
        if let Some(policy) = self.approval_policy {
            settings.approval_policy = policy;
        }
        if let Some(mode) = self.sandbox {
            settings.sandbox = SandboxPolicy::from(mode);
        }
        if let Some(text) = self.base_instructions {
            settings.base_instructions = text;
        }
        if let Some(text) = self.developer_instructions {
            settings.developer_instructions = Some(text);
        }
        Ok(())
    }
}

impl ThreadSettings {
    /// A new thread's settings as `config` has them, running in `cwd`.
    pub(crate) fn from_config(config: &Config, cwd: PathBuf) -> Self {
        Self {
            model: config.model.clone(),
            model_provider: config.model_provider.clone(),
            cwd,
            approval_policy: config.approval_policy,
            sandbox: SandboxPolicy::from(config.sandbox_mode),
            effort: config.model_reasoning_effort.clone(),
            summary: config.model_reasoning_summary,
            base_instructions: crate::prompt::BASE_INSTRUCTIONS.to_owned(),
            developer_instructions: None,
        }
    }
}

/// What the model was last told about the thread's surroundings, so a turn that changes them
/// tells it again.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToldContext {
    pub(crate) cwd: PathBuf,
    pub(crate) approval_policy: AskForApproval,
    pub(crate) sandbox: SandboxPolicy,
    pub(crate) developer_instructions: Option<String>,
}

impl ToldContext {
    pub(crate) fn of(settings: &ThreadSettings) -> Self {
        Self {
            cwd: settings.cwd.clone(),
            approval_policy: settings.approval_policy,
            sandbox: settings.sandbox.clone(),
            developer_instructions: settings.developer_instructions.clone(),
        }
    }
}

/// Input added to a running turn, with the client's id for its message.
pub(crate) type SteeredInput = (Vec<tern_protocol::v2::UserInput>, Option<String>);

/// Input waiting to join the running turn; closed once the turn is ending.
#[derive(Debug, Default)]
pub(crate) struct SteerQueue {
    pub(crate) items: Vec<SteeredInput>,
    pub(crate) closed: bool,
}

/// The turn running right now.
#[derive(Debug)]
pub(crate) struct ActiveTurn {
    pub(crate) id: String,
    /// Fired to interrupt; carries the gate `turn/completed` waits for.
    pub(crate) interrupt: Option<tokio::sync::oneshot::Sender<tokio::sync::oneshot::Receiver<()>>>,
    /// Input from `turn/steer` (or a `turn/start` while running), taken before the next model
    /// request.
    pub(crate) steered: std::sync::Arc<std::sync::Mutex<SteerQueue>>,
    /// Whether the turn takes input (a compaction or shell turn does not).
    pub(crate) takes_input: bool,
}

impl ActiveTurn {
    /// Queues input for the turn; `false` when it takes none (compaction, shell) or is ending.
    pub(crate) fn steer(
        &self,
        input: Vec<tern_protocol::v2::UserInput>,
        client_id: Option<String>,
    ) -> bool {
        if !self.takes_input {
            return false;
        }
        let Ok(mut queue) = self.steered.lock() else {
            return false;
        };
        if queue.closed {
            return false;
        }
        queue.items.push((input, client_id));
        true
    }
}

/// Everything known about a loaded thread.
#[derive(Debug)]
pub(crate) struct ThreadState {
    pub(crate) id: String,
    pub(crate) settings: ThreadSettings,
    /// The configuration its turns run under: the server's, with the thread's own `config`
    /// overrides on top when it was started with some.
    pub(crate) config: std::sync::Arc<Config>,
    pub(crate) created_at_ms: i64,
    pub(crate) updated_at_ms: i64,
    pub(crate) ephemeral: bool,
    pub(crate) originator: String,
    pub(crate) preview: String,
    pub(crate) name: Option<String>,
    /// The thread this one was forked from.
    pub(crate) forked_from_id: Option<String>,
    pub(crate) status: ThreadStatus,
    /// Where the rollout is (or will be, before the first turn).
    pub(crate) rollout_path: Option<PathBuf>,
    /// Whether the rollout file exists (a resumed thread appends to it).
    pub(crate) rollout_exists: bool,
    /// The ordinal of the next line appended to an existing rollout.
    pub(crate) next_ordinal: u64,
    pub(crate) writer: Option<RolloutWriter>,
    /// Finished turns and the running one. The first `stored_turns` were loaded from the
    /// rollout and are outlines (no items): their items are read back from it when asked for,
    /// so a resumed thread holds none of its past output. The rest carry their items.
    pub(crate) turns: Vec<Turn>,
    pub(crate) stored_turns: usize,
    /// The conversation as the model sees it (without the base instructions).
    pub(crate) history: Vec<ResponseItem>,
    /// For each turn, how long `history` was when it started (for `thread/revert`).
    pub(crate) turn_history_starts: Vec<(String, usize)>,
    pub(crate) token_usage: ThreadTokenUsage,
    /// `None` until the first turn tells the model (a resumed thread: what its last turn ran
    /// with).
    pub(crate) told: Option<ToldContext>,
    pub(crate) active: Option<ActiveTurn>,
    /// History that waits for the running turn's next model request (a user shell command
    /// that finished while the model was working).
    pub(crate) pending_history: Vec<ResponseItem>,
    /// Archived while a request held the handle: treat as not loaded.
    pub(crate) unloaded: bool,
    /// Terminal sessions, dynamic tools and standing approvals.
    pub(crate) tools: std::sync::Arc<super::tool_calls::ThreadTools>,
}

impl ThreadState {
    pub(crate) fn new(
        home: &Path,
        id: String,
        settings: ThreadSettings,
        config: std::sync::Arc<Config>,
        ephemeral: bool,
        originator: String,
    ) -> Self {
        let now = now_ms();
        Self {
            config,
            rollout_path: (!ephemeral).then(|| rollout_path(home, &id, now)),
            rollout_exists: false,
            next_ordinal: 0,
            id,
            settings,
            created_at_ms: now,
            updated_at_ms: now,
            ephemeral,
            originator,
            preview: String::new(),
            name: None,
            forked_from_id: None,
            status: ThreadStatus::Idle,
            writer: None,
            turns: Vec::new(),
            stored_turns: 0,
            history: Vec::new(),
            turn_history_starts: Vec::new(),
            token_usage: ThreadTokenUsage::default(),
            told: None,
            pending_history: Vec::new(),
            active: None,
            unloaded: false,
            tools: std::sync::Arc::default(),
        }
    }

    /// The thread as clients see it, without its turns ([`ThreadState::turns`] has them).
    pub(crate) fn wire(&self) -> Thread {
        Thread {
            id: self.id.clone(),
            session_id: self.id.clone(),
            forked_from_id: self.forked_from_id.clone(),
            parent_thread_id: None,
            preview: self.preview.clone(),
            ephemeral: self.ephemeral,
            project_id: None,
            history_mode: ThreadHistoryMode::Paginated,
            model_provider: self.settings.model_provider.clone(),
            model: Some(self.settings.model.clone()),
            reasoning_effort: self.settings.effort.clone(),
            created_at: self.created_at_ms / 1000,
            updated_at: self.updated_at_ms / 1000,
            recency_at: Some(self.updated_at_ms / 1000),
            status: self.status.clone(),
            path: self
                .rollout_path
                .as_ref()
                .map(|path| path.display().to_string()),
            cwd: AbsolutePathBuf::anchored(&self.settings.cwd),
            cli_version: COMPATIBLE_PROTOCOL_VERSION.to_owned(),
            originator: Some(self.originator.clone()),
            source: SessionSource::Vscode,
            thread_source: None,
            agent_nickname: None,
            agent_role: None,
            git_info: None,
            name: self.name.clone(),
            turns: Vec::new(),
        }
    }

    /// Applies `thread/resume`'s changes: all of them, or (on an error) none. `server` is the
    /// configuration `config` overrides go over. Returns the override keys tern does not know.
    pub(crate) fn apply_overrides(
        &mut self,
        overrides: SettingsOverrides,
        server: &std::sync::Arc<Config>,
    ) -> Result<Vec<String>, crate::CoreError> {
        let (config, unknown_keys) = overrides.config(&self.config, server)?;
        overrides.apply(&mut self.settings, &config)?;
        self.config = config;
        Ok(unknown_keys)
    }

    /// A new thread `id` with this one's settings, configuration, history and token usage,
    /// but no turns (the caller copies them: they may have to be read from the rollout).
    pub(crate) fn fork(
        &self,
        home: &Path,
        id: String,
        ephemeral: bool,
        originator: String,
    ) -> Self {
        let mut fork = Self::new(
            home,
            id,
            self.settings.clone(),
            std::sync::Arc::clone(&self.config),
            ephemeral,
            originator,
        );
        fork.forked_from_id = Some(self.id.clone());
        fork.history.clone_from(&self.history);
        fork.turn_history_starts
            .clone_from(&self.turn_history_starts);
        fork.token_usage = self.token_usage;
        fork.preview.clone_from(&self.preview);
        fork.told.clone_from(&self.told);
        fork
    }

    /// The thread's turns with their items, as of now.
    pub(crate) fn turns(&self) -> Turns {
        let stored = self.stored_turns.min(self.turns.len());
        Turns {
            stored: self
                .rollout_path
                .clone()
                .filter(|_| stored > 0)
                .map(|path| {
                    let ids = self.turns[..stored].iter().map(|t| t.id.clone()).collect();
                    (path, ids)
                }),
            live: self.turns[stored..].to_vec(),
        }
    }

    /// Adds an item to the model's history and the rollout.
    pub(crate) fn record(&mut self, item: ResponseItem) {
        self.persist("response_item", &item);
        self.history.push(item);
    }

    /// Records the history that waited for a model request (see `pending_history`).
    pub(crate) fn flush_pending_history(&mut self) {
        for item in std::mem::take(&mut self.pending_history) {
            self.record(item);
        }
    }

    /// Records a completed item of turn `turn_id`: `item_completed`, and the older event the
    /// reference rebuilds threads it did not create from, when the item has one.
    pub(crate) fn persist_item(&mut self, turn_id: &str, item: &tern_protocol::v2::ThreadItem) {
        let stored = crate::rollout::rollout_item(&item.kind);
        let legacy = crate::rollout::legacy_event(turn_id, &item.kind, &stored);
        self.persist(
            "event_msg",
            &EventMsg::ItemCompleted {
                thread_id: Some(self.id.clone()),
                turn_id: turn_id.to_owned(),
                item: stored,
                started_at_ms: item.started_at_ms,
                completed_at_ms: item.completed_at_ms,
            },
        );
        if let Some(legacy) = legacy {
            self.persist("event_msg", &legacy);
        }
    }

    /// Appends a line, creating the rollout (with its `session_meta`) on first use. Ephemeral
    /// threads write nothing. A write failure is logged, not fatal: the turn goes on in memory.
    pub(crate) fn persist<T: Serialize>(&mut self, kind: &'static str, payload: &T) {
        let Some(path) = self.rollout_path.clone() else {
            return;
        };
        if self.writer.is_none() {
            let opened = if self.rollout_exists {
                RolloutWriter::append_to(&path, self.next_ordinal)
            } else {
                self.create_rollout(&path)
            };
            match opened {
                Ok(writer) => {
                    self.writer = Some(writer);
                    self.rollout_exists = true;
                }
                Err(err) => {
                    tracing::error!(thread_id = %self.id, path = %path.display(), error = %err, "cannot create the rollout");
                    return;
                }
            }
        }
        if let Some(writer) = &mut self.writer {
            if let Err(err) = writer.append(kind, payload) {
                tracing::error!(thread_id = %self.id, error = %err, "cannot append to the rollout");
            }
        }
    }

    fn create_rollout(&self, path: &Path) -> std::io::Result<RolloutWriter> {
        let mut writer = RolloutWriter::create(path)?;
        let written = self.write_header(&mut writer);
        if let Err(err) = written {
            // Without its session_meta the file is useless, and it would block every retry.
            let _ = std::fs::remove_file(path);
            return Err(err);
        }
        Ok(writer)
    }

    /// `session_meta`, and the name when it was set before the first turn.
    fn write_header(&self, writer: &mut RolloutWriter) -> std::io::Result<()> {
        let meta = SessionMeta {
            id: self.id.clone(),
            session_id: Some(self.id.clone()),
            timestamp: Utc::from_ms(self.created_at_ms).iso8601(),
            cwd: self.settings.cwd.display().to_string(),
            originator: Some(self.originator.clone()),
            cli_version: Some(COMPATIBLE_PROTOCOL_VERSION.to_owned()),
            source: Some(serde_json::json!("vscode")),
            model_provider: Some(self.settings.model_provider.clone()),
            base_instructions: Some(BaseInstructions {
                text: self.settings.base_instructions.clone(),
            }),
            forked_from_id: self.forked_from_id.clone(),
        };
        writer.append("session_meta", &meta)?;
        if let Some(name) = &self.name {
            writer.append(
                "event_msg",
                &EventMsg::ThreadNameUpdated {
                    thread_name: Some(name.clone()),
                },
            )?;
        }
        Ok(())
    }

    /// Writes the whole thread (history and turns) to a new rollout: a fork's first lines.
    pub(crate) fn persist_snapshot(&mut self) {
        let history = self.history.clone();
        let turns = self.turns.clone();
        // Each turn's history goes after its start, so a reader finds the same turn marks.
        let starts: Vec<usize> = turns
            .iter()
            .map(|turn| {
                self.turn_history_starts
                    .iter()
                    .find(|(id, _)| *id == turn.id)
                    .map_or(history.len(), |(_, start)| *start)
            })
            .collect();
        let first = starts
            .first()
            .copied()
            .unwrap_or(history.len())
            .min(history.len());
        for item in &history[..first] {
            self.persist("response_item", item);
        }
        for (index, turn) in turns.iter().enumerate() {
            self.persist(
                "event_msg",
                &EventMsg::TaskStarted {
                    root_turn_id: Some(turn.id.clone()),
                    turn_id: turn.id.clone(),
                    started_at: turn.started_at,
                    model_context_window: None,
                },
            );
            let from = starts[index].min(history.len());
            let to = starts
                .get(index + 1)
                .copied()
                .unwrap_or(history.len())
                .clamp(from, history.len());
            for item in &history[from..to] {
                self.persist("response_item", item);
            }
            for item in &turn.items {
                self.persist_item(&turn.id, item);
            }
            let end = if turn.status == tern_protocol::v2::TurnStatus::Interrupted {
                EventMsg::TurnAborted {
                    turn_id: Some(turn.id.clone()),
                    reason: "interrupted".to_owned(),
                }
            } else {
                EventMsg::TaskComplete {
                    root_turn_id: Some(turn.id.clone()),
                    turn_id: turn.id.clone(),
                    last_agent_message: None,
                    started_at: turn.started_at,
                    completed_at: turn.completed_at,
                    duration_ms: turn.duration_ms,
                    error: turn.error.clone(),
                }
            };
            self.persist("event_msg", &end);
        }
        if self.token_usage != ThreadTokenUsage::default() {
            let usage = self.token_usage;
            self.persist(
                "event_msg",
                &EventMsg::TokenCount {
                    info: Some(crate::rollout::TokenCountInfo {
                        total_token_usage: usage.total.into(),
                        last_token_usage: usage.last.into(),
                        model_context_window: usage.model_context_window,
                    }),
                },
            );
        }
        self.sync();
    }

    /// Makes the rollout durable (turn end).
    pub(crate) fn sync(&self) {
        if let Some(writer) = &self.writer {
            if let Err(err) = writer.sync() {
                tracing::error!(thread_id = %self.id, error = %err, "cannot sync the rollout");
            }
        }
    }
}

impl ThreadState {
    /// A thread loaded back from its rollout, to continue it.
    pub(crate) fn from_rollout(
        rollout: LoadedRollout,
        path: &Path,
        config: &std::sync::Arc<Config>,
        originator: String,
    ) -> Self {
        let thread = thread_from_rollout(&rollout, path, config);
        let turns = rollout.turns;
        let context = rollout.last_context.as_ref();
        let settings = ThreadSettings {
            model: context.map_or_else(|| config.model.clone(), |c| c.model.clone()),
            model_provider: thread.model_provider.clone(),
            cwd: thread.cwd.as_path().to_owned(),
            approval_policy: context
                .and_then(|c| c.approval_policy.clone())
                .and_then(|p| serde_json::from_value(p).ok())
                .unwrap_or(config.approval_policy),
            sandbox: context
                .and_then(|c| c.sandbox_policy.as_ref())
                .and_then(sandbox_from_kebab)
                .unwrap_or_else(|| SandboxPolicy::from(config.sandbox_mode)),
            effort: context.and_then(|c| c.effort.clone()),
            summary: context
                .and_then(|c| c.summary.as_deref())
                .and_then(|s| serde_json::from_value(serde_json::json!(s)).ok()),
            base_instructions: rollout.meta.base_instructions.as_ref().map_or_else(
                || crate::prompt::BASE_INSTRUCTIONS.to_owned(),
                |b| b.text.clone(),
            ),
            developer_instructions: None,
        };
        let created_at_ms = thread.created_at * 1000;
        // The developer instructions a thread started with are in its history, not known here.
        let told = ToldContext::of(&settings);
        Self {
            id: thread.id.clone(),
            settings,
            config: std::sync::Arc::clone(config),
            created_at_ms,
            updated_at_ms: thread.updated_at * 1000,
            ephemeral: false,
            originator: thread.originator.clone().unwrap_or(originator),
            preview: rollout.preview,
            name: rollout.name,
            forked_from_id: rollout.meta.forked_from_id.clone(),
            status: ThreadStatus::Idle,
            rollout_path: Some(path.to_owned()),
            rollout_exists: true,
            next_ordinal: rollout.next_ordinal,
            writer: None,
            stored_turns: turns.len(),
            turns,
            history: rollout.history,
            turn_history_starts: rollout.turn_history_starts,
            token_usage: rollout.token_usage.unwrap_or_default(),
            told: Some(told),
            pending_history: Vec::new(),
            active: None,
            unloaded: false,
            tools: std::sync::Arc::default(),
        }
    }
}

/// The sandbox policy of a `turn_context` line (`{"type": "workspace-write", ...}`).
fn sandbox_from_kebab(value: &serde_json::Value) -> Option<SandboxPolicy> {
    let flag = |key: &str| value[key].as_bool().unwrap_or(false);
    Some(match value["type"].as_str()? {
        "danger-full-access" => SandboxPolicy::DangerFullAccess,
        "read-only" => SandboxPolicy::ReadOnly {
            network_access: flag("network_access"),
        },
        "workspace-write" => SandboxPolicy::WorkspaceWrite {
            writable_roots: value["writable_roots"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|root| root.as_str())
                .filter_map(|root| AbsolutePathBuf::try_from(PathBuf::from(root)).ok())
                .collect(),
            network_access: flag("network_access"),
            exclude_tmpdir_env_var: flag("exclude_tmpdir_env_var"),
            exclude_slash_tmp: flag("exclude_slash_tmp"),
        },
        "external-sandbox" => SandboxPolicy::ExternalSandbox {
            network_access: serde_json::from_value(value["network_access"].clone())
                .unwrap_or_default(),
        },
        _ => return None,
    })
}

/// A thread read from its rollout, without its turns (the caller moves them in if wanted).
pub(crate) fn thread_from_rollout(rollout: &LoadedRollout, path: &Path, config: &Config) -> Thread {
    let meta = &rollout.meta;
    let created_at = parse_iso8601_secs(&meta.timestamp).unwrap_or_default();
    let updated_at = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(created_at, |d| {
            i64::try_from(d.as_secs()).unwrap_or(created_at)
        });
    let context = rollout.last_context.as_ref();
    Thread {
        id: meta.id.clone(),
        session_id: meta.session_id.clone().unwrap_or_else(|| meta.id.clone()),
        forked_from_id: meta.forked_from_id.clone(),
        parent_thread_id: None,
        preview: rollout.preview.clone(),
        ephemeral: false,
        project_id: None,
        history_mode: ThreadHistoryMode::Paginated,
        model_provider: meta
            .model_provider
            .clone()
            .unwrap_or_else(|| config.model_provider.clone()),
        model: context.map(|c| c.model.clone()),
        reasoning_effort: context.and_then(|c| c.effort.clone()),
        created_at,
        updated_at,
        recency_at: Some(updated_at),
        status: ThreadStatus::NotLoaded,
        path: Some(path.display().to_string()),
        cwd: AbsolutePathBuf::anchored(Path::new(&meta.cwd)),
        cli_version: meta
            .cli_version
            .clone()
            .unwrap_or_else(|| COMPATIBLE_PROTOCOL_VERSION.to_owned()),
        originator: meta.originator.clone(),
        source: SessionSource::Vscode,
        thread_source: None,
        agent_nickname: None,
        agent_role: None,
        git_info: None,
        name: rollout.name.clone(),
        turns: Vec::new(),
    }
}

/// A thread as the index knows it (no turns).
pub(crate) fn thread_from_row(row: tern_state::ThreadRow, status: ThreadStatus) -> Thread {
    Thread {
        session_id: row.id.clone(),
        id: row.id,
        forked_from_id: row.forked_from_id,
        parent_thread_id: None,
        preview: row.preview,
        ephemeral: false,
        project_id: None,
        history_mode: ThreadHistoryMode::Paginated,
        model_provider: row.model_provider,
        model: row.model,
        reasoning_effort: None,
        created_at: row.created_at,
        updated_at: row.updated_at,
        recency_at: Some(row.updated_at),
        status,
        path: Some(row.path),
        cwd: AbsolutePathBuf::anchored(Path::new(&row.cwd)),
        cli_version: row
            .cli_version
            .unwrap_or_else(|| COMPATIBLE_PROTOCOL_VERSION.to_owned()),
        originator: row.originator,
        source: match row.source.as_str() {
            "cli" => SessionSource::Cli,
            "exec" => SessionSource::Exec,
            "appServer" => SessionSource::AppServer,
            "unknown" => SessionSource::Unknown,
            _ => SessionSource::Vscode,
        },
        thread_source: None,
        agent_nickname: None,
        agent_role: None,
        git_info: None,
        name: row.name,
        turns: Vec::new(),
    }
}

/// Unix seconds of `2026-11-21T05:50:31.532Z`.
pub(crate) fn parse_iso8601_secs(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    // days_from_civil, the inverse of `Utc::from_ms`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_timestamps_parse_to_unix_seconds() {
        assert_eq!(
            parse_iso8601_secs("2026-11-21T05:50:31.853Z"),
            Some(1_795_240_231)
        );
        assert_eq!(parse_iso8601_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601_secs("nope"), None);
    }
}

/// A thread's turns with their items, read where they are: turns loaded from the rollout are
/// read back from it one at a time (a huge thread is never held whole), the others come from
/// memory.
#[derive(Debug, Clone, Default)]
pub struct Turns {
    /// The rollout, and the ids of the turns to read from it, in order.
    stored: Option<(PathBuf, Vec<String>)>,
    /// The turns after those.
    live: Vec<Turn>,
}

impl Turns {
    /// The turns `ids` of the rollout at `path`.
    pub(crate) fn stored(path: PathBuf, ids: Vec<String>) -> Self {
        Self {
            stored: (!ids.is_empty()).then_some((path, ids)),
            live: Vec::new(),
        }
    }

    /// The id of the last turn.
    pub fn last_id(&self) -> Option<&str> {
        self.live.last().map(|turn| turn.id.as_str()).or_else(|| {
            self.stored
                .as_ref()
                .and_then(|(_, ids)| ids.last())
                .map(String::as_str)
        })
    }

    /// Calls `on_turn` with each turn, in order. Blocking: it reads the rollout. A turn the
    /// rollout no longer has (edited behind our back) is left out.
    pub fn for_each(self, on_turn: &mut dyn FnMut(Turn)) -> Result<(), ReadError> {
        if let Some((path, ids)) = &self.stored {
            let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
            crate::rollout::stream_turns(path, &|id| wanted.contains(id), on_turn)?;
        }
        self.live.into_iter().for_each(on_turn);
        Ok(())
    }

    /// All the turns at once. Blocking.
    pub fn collect(self) -> Result<Vec<Turn>, ReadError> {
        let mut turns = Vec::new();
        self.for_each(&mut |turn| turns.push(turn))?;
        Ok(turns)
    }
}
