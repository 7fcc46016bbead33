//! tern's agent engine.
//!
//! Today it holds configuration: where tern's home is, and the layered `config.toml` (built-in
//! defaults < `$TERN_HOME/config.toml` < `-c key=value` overrides). Threads, turns, model clients,
//! tools and rollouts land here next. This crate knows nothing about connections or JSON-RPC.
//!
//! # Example
//!
//! ```
//! use tern_core::config::{ConfigOverrides, load_config};
//!
//! let home = tempfile::tempdir().unwrap();
//! std::fs::write(home.path().join("config.toml"), "bogus = 1\n").unwrap();
//! let overrides = ConfigOverrides::parse(&["features.x=true".to_owned()], &[], &[]).unwrap();
//! let loaded = load_config(home.path(), &overrides, false).unwrap();
//! assert_eq!(loaded.unknown_keys, ["bogus", "features.x"]);
//! ```

pub mod config;
mod error;
pub mod exec;
mod index;
pub mod model;
pub mod prompt;
pub mod pty;
pub mod rollout;
pub mod sandbox;
pub mod thread;
pub mod time;
pub mod tools;

pub use error::{ConfigError, CoreError};
