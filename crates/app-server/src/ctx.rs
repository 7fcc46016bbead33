//! State shared by every connection of one server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tern_core::config::LoadedConfig;
use tern_core::thread::ThreadManager;

use crate::events::{Subscriptions, deliver};
use crate::fault::Faults;
use crate::handlers::initialize::platform;
use tern_protocol::v2::{AbsolutePathBuf, ConfigWarningNotification};

/// Server-wide state, created once at startup.
#[derive(Debug)]
pub struct ServerCtx {
    /// `$TERN_HOME` (or `$CODEX_HOME`, or `~/.tern`), absolute.
    pub(crate) home: AbsolutePathBuf,
    /// Sent to each connection after its `initialize` result, when the config had problems.
    pub(crate) config_warning: Option<ConfigWarningNotification>,
    /// The platform part of `userAgent`, e.g. `debian 12; x86_64`, read once.
    pub(crate) platform: String,
    pub(crate) stats: Stats,
    /// The loaded threads.
    pub(crate) threads: Arc<ThreadManager>,
    /// Which connections follow which threads.
    pub(crate) subscriptions: Arc<Subscriptions>,
    /// Debug builds only: faults injected into handlers (`TERN_DEBUG_FAULT`).
    pub(crate) faults: Faults,
    /// Running `command/exec` commands.
    pub(crate) commands: crate::handlers::command::Commands,
}

/// Counters reported by `server/diagnostics`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) requests_in_flight: AtomicU64,
    pub(crate) connections_open: AtomicU64,
}

impl Stats {
    /// Counts one in-flight request until the guard drops.
    pub(crate) fn request_started(&self) -> InFlightGuard<'_> {
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(&self.requests_in_flight)
    }
}

/// Decrements the in-flight counter on drop (also when the handler panics).
pub(crate) struct InFlightGuard<'a>(&'a AtomicU64);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Thread events waiting for delivery to connections.
const EVENT_QUEUE_CAPACITY: usize = 1024;

impl ServerCtx {
    /// Builds the server state from the resolved home and loaded config, and starts the task
    /// that delivers thread events. Must run inside the async runtime.
    pub fn start(home: AbsolutePathBuf, config: &LoadedConfig) -> Arc<Self> {
        let (events_tx, events_rx) = tokio::sync::mpsc::channel(EVENT_QUEUE_CAPACITY);
        let threads = Arc::new(ThreadManager::new(
            home.as_path().to_owned(),
            Arc::new(config.config.clone()),
            events_tx,
        ));
        let subscriptions = Arc::new(Subscriptions::default());
        tokio::spawn(deliver(Arc::clone(&subscriptions), events_rx));
        Arc::new(Self {
            home,
            config_warning: unknown_keys_warning(config),
            platform: platform(),
            stats: Stats::default(),
            threads,
            subscriptions,
            faults: Faults::from_env(),
            commands: crate::handlers::command::Commands::default(),
        })
    }
}

/// How many unknown keys the warning names before summarizing the rest.
const MAX_NAMED_KEYS: usize = 10;

/// One warning naming every key of the configuration tern ignored.
fn unknown_keys_warning(loaded: &LoadedConfig) -> Option<ConfigWarningNotification> {
    let mut warning = unknown_keys(
        &loaded.unknown_keys,
        "These are typos, or settings tern does not support yet. Start with --strict-config \
         to make them an error.",
    )?;
    warning.path = loaded.file.as_ref().map(|path| path.display().to_string());
    Some(warning)
}

/// A warning naming `keys` (the first few), with `details`; `None` when there are none.
pub(crate) fn unknown_keys(keys: &[String], details: &str) -> Option<ConfigWarningNotification> {
    if keys.is_empty() {
        return None;
    }
    let mut named: Vec<String> = keys
        .iter()
        .take(MAX_NAMED_KEYS)
        .map(|k| format!("`{k}`"))
        .collect();
    if keys.len() > MAX_NAMED_KEYS {
        named.push(format!("and {} more", keys.len() - MAX_NAMED_KEYS));
    }
    let plural = if keys.len() == 1 { "" } else { "s" };
    Some(ConfigWarningNotification {
        summary: format!(
            "tern is ignoring {} configuration setting{plural} it does not recognize: {}.",
            keys.len(),
            named.join(", ")
        ),
        details: Some(details.to_owned()),
        path: None,
        range: None,
    })
}
