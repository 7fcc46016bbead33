//! Configuration: the home directory and the layered `config.toml`.
//!
//! Layers, lowest first: built-in defaults, `$TERN_HOME/config.toml`, then `-c key=value`
//! overrides (and `--enable`/`--disable`, which are `features.<name>` overrides). Per-thread and
//! per-turn request fields sit above these and are applied by the engine, not here.
//!
//! Keys follow the reference implementation's names so that an existing Codex `config.toml`
//! works. Keys tern does not know are collected in [`LoadedConfig::unknown_keys`] (the server
//! warns about them once per connection) and never stop startup unless `--strict-config` asks
//! for it. A file that is not valid TOML, or a known key with a wrong value, stops startup with an
//! error naming the file, line or key: running with a config the user did not mean is worse than
//! not starting.

mod home;
mod overrides;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use home::resolve_home;
pub use overrides::ConfigOverrides;

use crate::ConfigError;

/// File name of the user config inside the home directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Feature flags tern knows. `--enable`/`--disable` and `[features]` entries outside this list
/// are reported as unknown keys.
pub const KNOWN_FEATURES: &[&str] = &[];

/// The effective configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `[features]`: feature flags by name, as set by the user. Only names in [`KNOWN_FEATURES`]
    /// are kept.
    pub features: BTreeMap<String, bool>,
}

/// The configuration and what was noticed while loading it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    /// `config.toml`, when it exists.
    pub file: Option<PathBuf>,
    /// Dotted paths of keys tern does not know, sorted.
    pub unknown_keys: Vec<String>,
}

/// The shape of `config.toml`. Unknown keys are not errors: they are collected while decoding.
#[derive(Debug, Default, Deserialize)]
struct ConfigToml {
    #[serde(default)]
    features: BTreeMap<String, bool>,
}

/// Loads `home/config.toml` (if it exists) under `overrides`.
pub fn load_config(
    home: &Path,
    overrides: &ConfigOverrides,
    strict: bool,
) -> Result<LoadedConfig, ConfigError> {
    let path = home.join(CONFIG_FILE);
    let (mut table, file) = match std::fs::read_to_string(&path) {
        Ok(text) => (parse_toml(&path, &text)?, Some(path)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (toml::Table::new(), None),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let file_keys = table.clone();
    overrides.apply(&mut table);

    let mut unknown_keys = Vec::new();
    let value = toml::Value::Table(table);
    let mut collect_unknown = |path: serde_ignored::Path| unknown_keys.push(path.to_string());
    let deserializer = serde_ignored::Deserializer::new(value, &mut collect_unknown);
    let config_toml: ConfigToml = decode_with_path(deserializer).map_err(|(key, reason)| {
        let from_file = !overrides.touches(&key) && lookup(&file_keys, &key).is_some();
        ConfigError::Value {
            file: file.clone().filter(|_| from_file),
            key,
            reason,
        }
    })?;

    let mut features = config_toml.features;
    for name in features.keys() {
        if !KNOWN_FEATURES.contains(&name.as_str()) {
            unknown_keys.push(format!("features.{name}"));
        }
    }
    features.retain(|name, _| KNOWN_FEATURES.contains(&name.as_str()));
    unknown_keys.sort();
    unknown_keys.dedup();

    if strict && !unknown_keys.is_empty() {
        let from_file = unknown_keys
            .iter()
            .any(|key| lookup(&file_keys, key).is_some());
        return Err(ConfigError::UnknownKeys {
            keys: unknown_keys,
            file: file.filter(|_| from_file),
        });
    }
    Ok(LoadedConfig {
        config: Config { features },
        file,
        unknown_keys,
    })
}

/// Parses TOML text, turning a syntax error into one that names the file, line and column.
fn parse_toml(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = line_column(text, offset);
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            reason: err.message().trim().to_owned(),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The value at a dotted path in a table.
fn lookup<'a>(table: &'a toml::Table, dotted: &str) -> Option<&'a toml::Value> {
    let mut parts = dotted.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

/// Decodes `T`, reporting a failure as (dotted key, reason).
fn decode_with_path<'de, D, T>(deserializer: D) -> Result<T, (String, String)>
where
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
    T: Deserialize<'de>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let key = err.path().to_string();
        // toml appends its own "in `key`" line; the key is reported separately.
        let reason = err.into_inner().to_string();
        (
            key,
            reason.lines().next().unwrap_or_default().trim().to_owned(),
        )
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
