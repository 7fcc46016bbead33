//! Threads: the loaded ones in memory, the rest on disk as rollouts.
//!
//! [`ThreadManager`] owns the loaded threads. A thread's state sits behind an async mutex; the
//! turn task ([`turn`]) holds it only between awaits on the model, so reads and interrupts get
//! through while a response streams. Everything that happens is reported as a
//! [`ThreadEvent`] on the manager's event channel.
//!
//! A thread is not written to disk until its first turn starts (as the reference does), but it
//! can be read and resumed before that: it is loaded.

mod compact;
mod events;
mod items;
mod requests;
mod state;
mod tool_calls;
mod turn;
mod user_shell;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use tern_protocol::v2::{
    AskForApproval, ReasoningSummary, SandboxPolicy, Thread, ThreadStatus, Turn, UserInput,
};
use tokio::sync::{Mutex, mpsc, oneshot};

pub use events::{ThreadEvent, ThreadEventKind};
pub use requests::{ClientAnswer, ClientError};
use state::ThreadState;
pub(crate) use state::parse_iso8601_secs;
pub use state::{SettingsOverrides, ThreadSettings, Turns};
pub use tern_state::{ListQuery, SortKey};

use crate::CoreError;
use crate::config::Config;
use crate::rollout::find_rollout;

/// How a new thread is set up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartOptions {
    /// Unset settings come from the configuration (with the `config` overrides); the cwd is
    /// the server's working directory when unset.
    pub settings: SettingsOverrides,
    pub ephemeral: bool,
    /// The starting client's `clientInfo.name`.
    pub originator: String,
    /// Tools of the client's the model may call (kept while the thread is loaded).
    pub dynamic_tools: Vec<tern_protocol::v2::DynamicToolSpec>,
}

/// One `turn/start`.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRequest {
    pub input: Vec<UserInput>,
    pub cwd: Option<PathBuf>,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub summary: Option<ReasoningSummary>,
    pub approval_policy: Option<AskForApproval>,
    pub sandbox_policy: Option<SandboxPolicy>,
    pub output_schema: Option<serde_json::Value>,
    pub client_user_message_id: Option<String>,
    /// For the `originator` and `user-agent` headers of model requests.
    pub originator: String,
    pub user_agent: String,
    pub kind: TurnKind,
}

/// What a turn does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnKind {
    /// Asks the model about the input until it stops (`turn/start`).
    Model,
    /// Only compacts the conversation (`thread/compact/start`); `input` is empty.
    Compact,
    /// Runs a command line for the user and asks the model nothing (`thread/shellCommand`);
    /// `input` is empty. During another turn the command joins that turn instead.
    Shell {
        command: String,
        timeout: std::time::Duration,
    },
}

impl TurnRequest {
    /// A `thread/compact/start` turn.
    pub fn compaction(originator: String, user_agent: String) -> Self {
        Self::without_input(TurnKind::Compact, originator, user_agent)
    }

    /// A `thread/shellCommand` turn; `timeout` defaults to an hour.
    pub fn shell(
        command: String,
        timeout: Option<std::time::Duration>,
        originator: String,
        user_agent: String,
    ) -> Self {
        let timeout = timeout.unwrap_or(user_shell::DEFAULT_TIMEOUT);
        Self::without_input(TurnKind::Shell { command, timeout }, originator, user_agent)
    }

    fn without_input(kind: TurnKind, originator: String, user_agent: String) -> Self {
        Self {
            input: Vec::new(),
            cwd: None,
            model: None,
            effort: None,
            summary: None,
            approval_policy: None,
            sandbox_policy: None,
            output_schema: None,
            client_user_message_id: None,
            originator,
            user_agent,
            kind,
        }
    }
}

/// A thread loaded by [`ThreadManager::resume`].
#[derive(Debug)]
pub struct Resumed {
    /// Without its turns.
    pub thread: Thread,
    pub turns: Turns,
    pub settings: ThreadSettings,
    pub token_usage: tern_protocol::v2::ThreadTokenUsage,
    /// Whether it was loaded just now (it was not loaded before).
    pub cold: bool,
    /// Keys of the `config` overrides that tern does not know.
    pub unknown_config_keys: Vec<String>,
}

impl Resumed {
    fn of(state: &ThreadState, cold: bool) -> Self {
        Self {
            thread: state.wire(),
            turns: state.turns(),
            settings: state.settings.clone(),
            token_usage: state.token_usage,
            cold,
            unknown_config_keys: Vec::new(),
        }
    }
}

/// Released by the caller once its answer to the client is queued, so that the events that
/// follow come after it on the wire.
#[derive(Debug)]
pub struct AfterResponse(Option<oneshot::Sender<()>>);

impl AfterResponse {
    fn new() -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Self(Some(tx)), rx)
    }

    /// Lets the events go.
    pub fn release(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for AfterResponse {
    fn drop(&mut self) {
        // Dropped unreleased (the request failed or was abandoned): do not hold the turn.
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A loaded thread.
pub(crate) struct ThreadHandle {
    id: String,
    state: Mutex<ThreadState>,
}

/// Owns the loaded threads.
pub struct ThreadManager {
    home: PathBuf,
    config: Arc<Config>,
    /// Built on first use: loading TLS roots costs more than the whole server startup.
    http: OnceLock<Result<reqwest::Client, String>>,
    events: mpsc::Sender<ThreadEvent>,
    threads: StdMutex<HashMap<String, Arc<ThreadHandle>>>,
    index: Arc<crate::index::ThreadIndex>,
    /// Whether the index build was started.
    indexing: std::sync::atomic::AtomicBool,
    /// Server requests waiting for the client's answer.
    requests: requests::PendingRequests,
}

impl std::fmt::Debug for ThreadManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadManager")
            .field("home", &self.home)
            .field("loaded", &self.loaded_ids().len())
            .finish_non_exhaustive()
    }
}

impl ThreadManager {
    /// A manager for threads under `home`, reporting on `events`.
    pub fn new(home: PathBuf, config: Arc<Config>, events: mpsc::Sender<ThreadEvent>) -> Self {
        Self {
            index: Arc::new(crate::index::ThreadIndex::new(home.clone())),
            indexing: std::sync::atomic::AtomicBool::new(false),
            home,
            config,
            http: OnceLock::new(),
            events,
            threads: StdMutex::new(HashMap::new()),
            requests: requests::PendingRequests::default(),
        }
    }

    /// Starts building the thread index in the background, once (later calls do nothing).
    /// Call inside the runtime.
    pub fn start_indexing(&self) {
        if self
            .indexing
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || index.build());
    }

    /// A page of threads from the index (waiting for its first build if it is still running).
    /// Loaded threads carry their live status; others are `notLoaded`.
    pub async fn list(&self, query: ListQuery) -> Result<Vec<Thread>, CoreError> {
        self.index.wait_ready().await;
        let index = Arc::clone(&self.index);
        let rows = tokio::task::spawn_blocking(move || index.list(&query))
            .await
            .map_err(|err| CoreError::Io {
                context: "listing threads".to_owned(),
                source: std::io::Error::other(err),
            })??;
        let mut threads = Vec::with_capacity(rows.len());
        for row in rows {
            let status = match self.loaded(&row.id) {
                Some(handle) => handle.state.lock().await.status.clone(),
                None => ThreadStatus::NotLoaded,
            };
            threads.push(state::thread_from_row(row, status));
        }
        Ok(threads)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The HTTP client for model requests (rustls with the ring provider).
    pub(crate) fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| {
                // Another part of the process may have installed a provider already.
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::builder()
                    .build()
                    .map_err(|err| format!("cannot set up the HTTP client: {err}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// A loaded thread's handle. A request that got a handle must still check
    /// `state.unloaded` once it holds the lock (the thread may have been archived meanwhile).
    fn loaded(&self, thread_id: &str) -> Option<Arc<ThreadHandle>> {
        self.threads
            .lock()
            .ok()
            .and_then(|threads| threads.get(thread_id).cloned())
    }

    /// Whether the thread is loaded.
    pub fn is_loaded(&self, thread_id: &str) -> bool {
        self.loaded(thread_id).is_some()
    }

    /// Ids of the loaded threads, oldest first (thread ids are time-ordered).
    pub fn loaded_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .threads
            .lock()
            .map(|threads| threads.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Creates and loads a thread. Nothing is written until its first turn. Returns it, its
    /// settings, and the keys of its `config` overrides that tern does not know.
    pub fn start(
        &self,
        options: StartOptions,
    ) -> Result<(Thread, ThreadSettings, Vec<String>), CoreError> {
        let (config, unknown_keys) = options.settings.config(&self.config, &self.config)?;
        let cwd = match &options.settings.cwd {
            Some(cwd) => checked_cwd(cwd)?,
            None => std::env::current_dir().map_err(|source| CoreError::Io {
                context: "reading the current directory".to_owned(),
                source,
            })?,
        };
        let mut settings = ThreadSettings::from_config(&config, cwd);
        options.settings.apply(&mut settings, &config)?;
        let id = uuid::Uuid::now_v7().to_string();
        let mut state = ThreadState::new(
            &self.home,
            id.clone(),
            settings.clone(),
            config,
            options.ephemeral,
            options.originator,
        );
        state.tools = Arc::new(tool_calls::ThreadTools::with_dynamic(options.dynamic_tools));
        let thread = state.wire();
        let handle = Arc::new(ThreadHandle {
            id: id.clone(),
            state: Mutex::new(state),
        });
        if let Ok(mut threads) = self.threads.lock() {
            threads.insert(id, handle);
        }
        Ok((thread, settings, unknown_keys))
    }

    /// The thread as clients see it (its `turns` empty), from memory when loaded, else from
    /// its rollout (status `notLoaded`); and its turns when asked for, to be read from where
    /// they are ([`Turns::for_each`]).
    pub async fn read(
        &self,
        thread_id: &str,
        include_turns: bool,
    ) -> Result<(Thread, Option<Turns>), CoreError> {
        check_thread_id(thread_id)?;
        if let Some(handle) = self.loaded(thread_id) {
            let state = handle.state.lock().await;
            return Ok((state.wire(), include_turns.then(|| state.turns())));
        }
        let path = find_rollout(&self.home, thread_id, false)
            .or_else(|| find_rollout(&self.home, thread_id, true))
            .ok_or_else(|| CoreError::ThreadNotLoaded {
                thread_id: thread_id.to_owned(),
            })?;
        // Turns without items: the shape of the thread, cheap even for a huge one.
        let outline = crate::rollout::ReadOptions {
            history: false,
            items: false,
        };
        let rollout = read_blocking(path.clone(), outline).await?;
        let mut thread = state::thread_from_rollout(&rollout, &path, &self.config);
        thread.status = ThreadStatus::NotLoaded;
        let turns = include_turns.then(|| {
            Turns::stored(
                path,
                rollout.turns.into_iter().map(|turn| turn.id).collect(),
            )
        });
        Ok((thread, turns))
    }

    /// Starts a turn, or adds the input to the one already running (returning that turn).
    /// The turn's events wait until `AfterResponse` is released.
    pub async fn start_turn(
        self: &Arc<Self>,
        thread_id: &str,
        request: TurnRequest,
    ) -> Result<(Turn, AfterResponse), CoreError> {
        check_thread_id(thread_id)?;
        match &request.kind {
            TurnKind::Model if request.input.is_empty() => return Err(CoreError::EmptyInput),
            TurnKind::Shell { command, .. } if command.trim().is_empty() => {
                return Err(CoreError::EmptyCommand);
            }
            _ => {}
        }
        if let Some(cwd) = &request.cwd {
            checked_cwd(cwd)?;
        }
        let handle = self
            .loaded(thread_id)
            .ok_or_else(|| CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            })?;
        turn::start(Arc::clone(self), handle, request).await
    }

    /// Loads a thread from its rollout (or finds it loaded) so turns can continue it, with
    /// `overrides` applied to its settings (all or, on an error, none; a thread that fails
    /// them is not loaded). The model history is loaded; past turns stay on disk as outlines.
    pub async fn resume(
        &self,
        thread_id: &str,
        originator: &str,
        overrides: SettingsOverrides,
    ) -> Result<Resumed, CoreError> {
        check_thread_id(thread_id)?;
        if let Some(cwd) = &overrides.cwd {
            checked_cwd(cwd)?;
        }
        if let Some(handle) = self.loaded(thread_id) {
            return self.resume_loaded(&handle, overrides).await;
        }
        let Some(path) = find_rollout(&self.home, thread_id, false) else {
            if find_rollout(&self.home, thread_id, true).is_some() {
                return Err(CoreError::Archived {
                    thread_id: thread_id.to_owned(),
                });
            }
            return Err(CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            });
        };
        let history = crate::rollout::ReadOptions {
            history: true,
            items: false,
        };
        let rollout = read_blocking(path.clone(), history).await?;
        let mut state =
            ThreadState::from_rollout(rollout, &path, &self.config, originator.to_owned());
        let unknown_keys = state.apply_overrides(overrides.clone(), &self.config)?;
        let resumed = Resumed {
            unknown_config_keys: unknown_keys,
            ..Resumed::of(&state, true)
        };
        let handle = Arc::new(ThreadHandle {
            id: thread_id.to_owned(),
            state: Mutex::new(state),
        });
        // Another request may have loaded it meanwhile; keep that one.
        let existing = {
            let mut threads = self.threads.lock().map_err(|_| poisoned())?;
            if let Some(existing) = threads.get(thread_id) {
                Some(Arc::clone(existing))
            } else {
                threads.insert(thread_id.to_owned(), handle);
                None
            }
        };
        if let Some(existing) = existing {
            return self.resume_loaded(&existing, overrides).await;
        }
        Ok(resumed)
    }

    async fn resume_loaded(
        &self,
        handle: &ThreadHandle,
        overrides: SettingsOverrides,
    ) -> Result<Resumed, CoreError> {
        let mut state = handle.state.lock().await;
        let unknown_keys = state.apply_overrides(overrides, &self.config)?;
        Ok(Resumed {
            unknown_config_keys: unknown_keys,
            ..Resumed::of(&state, false)
        })
    }

    /// A new thread with a copy of `source_id`'s history and turns, loaded and (unless
    /// ephemeral) written to its own rollout at once. Returns it, its settings and its token
    /// usage (copied).
    pub async fn fork(
        &self,
        source_id: &str,
        ephemeral: bool,
        originator: &str,
    ) -> Result<(Thread, ThreadSettings, tern_protocol::v2::ThreadTokenUsage), CoreError> {
        check_thread_id(source_id)?;
        let id = uuid::Uuid::now_v7().to_string();
        let originator = originator.to_owned();
        let mut state = if let Some(handle) = self.loaded(source_id) {
            let (mut fork, turns) = {
                let source = handle.state.lock().await;
                if source.active.is_some() {
                    return Err(CoreError::Busy {
                        thread_id: source_id.to_owned(),
                    });
                }
                let fork = source.fork(&self.home, id.clone(), ephemeral, originator);
                (fork, source.turns())
            };
            fork.turns = tokio::task::spawn_blocking(move || turns.collect())
                .await
                .map_err(|err| rollout_error(std::io::Error::other(err)))?
                .map_err(|err| rollout_error(std::io::Error::other(err)))?;
            fork
        } else {
            let path = find_rollout(&self.home, source_id, false).ok_or_else(|| {
                CoreError::ThreadNotFound {
                    thread_id: source_id.to_owned(),
                }
            })?;
            let everything = crate::rollout::ReadOptions {
                history: true,
                items: true,
            };
            let rollout = read_blocking(path.clone(), everything).await?;
            let mut source =
                ThreadState::from_rollout(rollout, &path, &self.config, originator.clone());
            let mut fork = source.fork(&self.home, id.clone(), ephemeral, originator);
            fork.turns = std::mem::take(&mut source.turns);
            fork
        };
        let (settings, token_usage) = (state.settings.clone(), state.token_usage);
        state.persist_snapshot();
        let mut thread = state.wire();
        thread.turns.clone_from(&state.turns);
        let handle = Arc::new(ThreadHandle {
            id: id.clone(),
            state: Mutex::new(state),
        });
        if let Ok(mut threads) = self.threads.lock() {
            threads.insert(id, handle);
        }
        Ok((thread, settings, token_usage))
    }

    /// Drops `before_turn_id` and every later turn of a loaded thread, with the history they
    /// added; recorded in the rollout. Returns the thread without turns.
    pub async fn revert(&self, thread_id: &str, before_turn_id: &str) -> Result<Thread, CoreError> {
        let handle = self.loaded_or_not_found(thread_id)?;
        let mut state = handle.state.lock().await;
        if state.active.is_some() {
            return Err(CoreError::Busy {
                thread_id: thread_id.to_owned(),
            });
        }
        let index = state
            .turns
            .iter()
            .position(|turn| turn.id == before_turn_id)
            .ok_or_else(|| CoreError::UnknownTurn {
                thread_id: thread_id.to_owned(),
                turn_id: before_turn_id.to_owned(),
            })?;
        // The history a turn added is known from where it started; a compaction since then
        // replaced that history, so the turn can no longer be reverted to.
        let mark = state
            .turn_history_starts
            .iter()
            .position(|(id, _)| id == before_turn_id)
            .ok_or_else(|| CoreError::Unrevertable {
                turn_id: before_turn_id.to_owned(),
            })?;
        let history_len = state.turn_history_starts[mark].1;
        state.history.truncate(history_len);
        state.turn_history_starts.truncate(mark);
        state.turns.truncate(index);
        state.stored_turns = state.stored_turns.min(index);
        state.persist(
            "event_msg",
            &crate::rollout::EventMsg::ThreadReverted {
                before_turn_id: before_turn_id.to_owned(),
            },
        );
        state.sync();
        state.updated_at_ms = crate::time::now_ms();
        Ok(state.wire())
    }

    /// Names a loaded thread; the name is recorded in its rollout.
    pub async fn set_name(&self, thread_id: &str, name: &str) -> Result<(), CoreError> {
        let handle = self.loaded_or_not_found(thread_id)?;
        let mut state = handle.state.lock().await;
        state.name = Some(name.to_owned());
        if state.rollout_exists {
            state.persist(
                "event_msg",
                &crate::rollout::EventMsg::ThreadNameUpdated {
                    thread_name: Some(name.to_owned()),
                },
            );
        }
        Ok(())
    }

    /// Archives a thread: unloads it and moves its rollout to `archived_sessions/`. A thread
    /// that never ran a turn gets its rollout written first, so it can be unarchived.
    pub async fn archive(&self, thread_id: &str) -> Result<(), CoreError> {
        check_thread_id(thread_id)?;
        let live = if let Some(handle) = self.loaded(thread_id) {
            let mut state = handle.state.lock().await;
            if state.active.is_some() {
                return Err(CoreError::Busy {
                    thread_id: thread_id.to_owned(),
                });
            }
            if state.ephemeral {
                return Err(CoreError::Ephemeral {
                    thread_id: thread_id.to_owned(),
                });
            }
            // Requests already holding the handle see an unloaded thread from now on.
            state.unloaded = true;
            if let Ok(mut threads) = self.threads.lock() {
                threads.remove(thread_id);
            }
            if !state.rollout_exists {
                let name = state.name.clone();
                state.persist(
                    "event_msg",
                    &crate::rollout::EventMsg::ThreadNameUpdated { thread_name: name },
                );
            }
            state.sync();
            state.writer = None;
            drop(state);
            find_rollout(&self.home, thread_id, false)
        } else {
            find_rollout(&self.home, thread_id, false)
        };
        let live = live.ok_or_else(|| CoreError::ThreadNotFound {
            thread_id: thread_id.to_owned(),
        })?;
        let target = crate::rollout::archived_path(&self.home, &live).ok_or_else(|| {
            CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            }
        })?;
        move_file(&live, &target)
    }

    /// Moves an archived thread's rollout back; returns the thread (not loaded).
    pub async fn unarchive(&self, thread_id: &str) -> Result<Thread, CoreError> {
        check_thread_id(thread_id)?;
        let archived =
            find_rollout(&self.home, thread_id, true).ok_or_else(|| CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            })?;
        let target = crate::rollout::unarchived_path(&self.home, &archived).ok_or_else(|| {
            CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            }
        })?;
        move_file(&archived, &target)?;
        Ok(self.read(thread_id, false).await?.0)
    }

    /// Adds input to the running turn; returns its id. Fails when `expected_turn_id` is not
    /// the running turn.
    pub async fn steer(
        &self,
        thread_id: &str,
        expected_turn_id: &str,
        input: Vec<UserInput>,
        client_id: Option<String>,
    ) -> Result<String, CoreError> {
        if input.is_empty() {
            return Err(CoreError::EmptyInput);
        }
        let handle = self.loaded_or_not_found(thread_id)?;
        let state = handle.state.lock().await;
        if state.unloaded {
            return Err(CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            });
        }
        let Some(active) = &state.active else {
            return Err(CoreError::NoActiveTurn {
                thread_id: thread_id.to_owned(),
            });
        };
        if active.id != expected_turn_id {
            return Err(CoreError::TurnMismatch {
                expected: expected_turn_id.to_owned(),
                active: active.id.clone(),
            });
        }
        if !active.steer(input, client_id) {
            return Err(CoreError::Busy {
                thread_id: thread_id.to_owned(),
            });
        }
        Ok(active.id.clone())
    }

    fn loaded_or_not_found(&self, thread_id: &str) -> Result<Arc<ThreadHandle>, CoreError> {
        check_thread_id(thread_id)?;
        self.loaded(thread_id)
            .ok_or_else(|| CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            })
    }

    /// Interrupts the running turn `turn_id`. Its `turn/completed` waits for `AfterResponse`.
    pub async fn interrupt(
        &self,
        thread_id: &str,
        turn_id: &str,
    ) -> Result<AfterResponse, CoreError> {
        check_thread_id(thread_id)?;
        let handle = self
            .loaded(thread_id)
            .ok_or_else(|| CoreError::ThreadNotFound {
                thread_id: thread_id.to_owned(),
            })?;
        turn::interrupt(&handle, turn_id).await
    }

    pub(crate) async fn emit(&self, thread_id: &str, kind: ThreadEventKind) {
        let event = ThreadEvent {
            thread_id: thread_id.to_owned(),
            kind,
        };
        if self.events.send(event).await.is_err() {
            tracing::debug!("no one listens to thread events");
        }
    }
}

/// Reads a rollout off the async threads.
async fn read_blocking(
    path: PathBuf,
    options: crate::rollout::ReadOptions,
) -> Result<crate::rollout::LoadedRollout, CoreError> {
    tokio::task::spawn_blocking(move || crate::rollout::read_rollout_with(&path, options))
        .await
        .map_err(|err| rollout_error(std::io::Error::other(err)))?
        .map_err(|err| rollout_error(std::io::Error::other(err)))
}

fn rollout_error(source: std::io::Error) -> CoreError {
    CoreError::Io {
        context: "reading a rollout".to_owned(),
        source,
    }
}

/// Moves a rollout, creating the target's folders.
fn move_file(from: &Path, to: &Path) -> Result<(), CoreError> {
    let io = |source| CoreError::Io {
        context: format!("moving {} to {}", from.display(), to.display()),
        source,
    };
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::rename(from, to).map_err(io)
}

fn poisoned() -> CoreError {
    CoreError::Io {
        context: "thread table".to_owned(),
        source: std::io::Error::other("a thread panicked while holding the thread table"),
    }
}

/// Rejects ids that are not UUIDs before touching disk.
fn check_thread_id(thread_id: &str) -> Result<(), CoreError> {
    uuid::Uuid::parse_str(thread_id)
        .map(|_| ())
        .map_err(|err| CoreError::InvalidThreadId {
            reason: err.to_string(),
        })
}

/// An absolute, existing directory.
fn checked_cwd(cwd: &Path) -> Result<PathBuf, CoreError> {
    let invalid = |reason: &str| CoreError::InvalidCwd {
        path: cwd.display().to_string(),
        reason: reason.to_owned(),
    };
    if !cwd.is_absolute() {
        return Err(invalid("not an absolute path"));
    }
    if !cwd.is_dir() {
        return Err(invalid("not an existing directory"));
    }
    Ok(cwd.to_owned())
}
