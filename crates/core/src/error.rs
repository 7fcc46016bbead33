//! Errors of this crate.

use std::path::PathBuf;

/// Why configuration could not be loaded. Each names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The home directory cannot be found or made.
    #[error("tern home {}: {reason}", path.display())]
    Home { path: PathBuf, reason: String },
    /// `config.toml` exists but cannot be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `config.toml` is not valid TOML.
    #[error("invalid TOML in {} at line {line}, column {column}: {reason}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
    /// A known key has a value of the wrong type or range.
    #[error("invalid config value for `{key}`{}: {reason}", source_suffix(file.as_ref()))]
    Value {
        key: String,
        /// The file the key came from, when it did not come from a `-c` override.
        file: Option<PathBuf>,
        reason: String,
    },
    /// A `-c` argument is not `key=value`.
    #[error("invalid override `{argument}`: {reason}")]
    Override { argument: String, reason: String },
    /// `--strict-config` and keys tern does not know.
    #[error("unknown config keys{}: {} (remove them, or drop --strict-config to only warn)", source_suffix(file.as_ref()), keys.join(", "))]
    UnknownKeys {
        keys: Vec<String>,
        file: Option<PathBuf>,
    },
}

fn source_suffix(file: Option<&PathBuf>) -> String {
    file.map(|path| format!(" in {}", path.display()))
        .unwrap_or_default()
}

/// Why a thread or turn operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The id is not a UUID.
    #[error("invalid thread id: {reason}")]
    InvalidThreadId { reason: String },
    /// No thread with this id is loaded or on disk.
    #[error("thread not found: {thread_id}")]
    ThreadNotFound { thread_id: String },
    /// The thread exists on disk but is not loaded.
    #[error("thread not loaded: {thread_id}")]
    ThreadNotLoaded { thread_id: String },
    /// A working directory that cannot be used.
    #[error("invalid cwd `{path}`: {reason}")]
    InvalidCwd { path: String, reason: String },
    /// A thread's `config` overrides do not make a valid configuration.
    #[error("invalid thread config: {0}")]
    Config(#[from] ConfigError),
    /// A provider id that is not configured.
    #[error("unknown model provider `{provider}`")]
    UnknownProvider { provider: String },
    /// `turn/interrupt` for a turn that is not running.
    #[error("no active turn `{turn_id}` on thread {thread_id}")]
    TurnNotActive { thread_id: String, turn_id: String },
    /// The thread's rollout is archived.
    #[error("thread {thread_id} is archived; unarchive it first")]
    Archived { thread_id: String },
    /// The thread is running a turn.
    #[error("thread {thread_id} is running a turn; interrupt it or wait for it to finish")]
    Busy { thread_id: String },
    /// A turn before the last compaction.
    #[error("turn {turn_id} is before a compaction and can no longer be reverted to")]
    Unrevertable { turn_id: String },
    /// Ephemeral threads are never written, so they cannot be archived.
    #[error("thread {thread_id} is ephemeral and cannot be archived")]
    Ephemeral { thread_id: String },
    /// A turn id the thread does not have.
    #[error("thread {thread_id} has no turn {turn_id}")]
    UnknownTurn { thread_id: String, turn_id: String },
    /// `turn/steer` without a running turn.
    #[error("no active turn to steer on thread {thread_id}")]
    NoActiveTurn { thread_id: String },
    /// `turn/steer` for another turn than the running one.
    #[error("expected active turn id `{expected}` but found `{active}`")]
    TurnMismatch { expected: String, active: String },
    /// A turn needs input.
    #[error("input must not be empty")]
    EmptyInput,
    /// A shell command needs a command line.
    #[error("command must not be empty")]
    EmptyCommand,
    /// Reading or writing thread state failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}
