//! Configuration: the home directory and the layered `config.toml`.
//!
//! Layers, lowest first: built-in defaults, `$TERN_HOME/config.toml`, then `-c key=value`
//! overrides (and `--enable`/`--disable`, which are `features.<name>` overrides). A thread's own
//! `config` overrides go over these ([`Config::with_overrides`]); per-thread and
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
mod provider;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use home::resolve_home;
pub use overrides::ConfigOverrides;
pub use provider::{ModelProvider, WireApi};
use provider::{ModelProviderToml, resolve_providers};
use tern_protocol::v2::{AskForApproval, ReasoningSummary, SandboxMode};

use crate::ConfigError;

/// File name of the user config inside the home directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Feature flags tern knows. `--enable`/`--disable` and `[features]` entries outside this list
/// are reported as unknown keys.
pub const KNOWN_FEATURES: &[&str] = &[];

/// The model used when neither config nor request names one.
pub const DEFAULT_MODEL: &str = "gpt-5.1-codex";
/// The provider used when `model_provider` is not set.
pub const DEFAULT_MODEL_PROVIDER: &str = "openai";

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `model`.
    pub model: String,
    /// `model_provider`: an id of [`Config::model_providers`].
    pub model_provider: String,
    /// Built-in providers overlaid with `[model_providers.<id>]` tables.
    pub model_providers: BTreeMap<String, ModelProvider>,
    /// `model_reasoning_effort` (`minimal`, `low`, `medium`, `high`, ...), sent as is.
    pub model_reasoning_effort: Option<String>,
    /// `model_reasoning_summary`.
    pub model_reasoning_summary: Option<ReasoningSummary>,
    /// `model_context_window`, in tokens, when the user knows better than the default.
    pub model_context_window: Option<i64>,
    /// `model_auto_compact_token_limit`: compact when a thread's context reaches it.
    pub model_auto_compact_token_limit: Option<i64>,
    /// `approval_policy`.
    pub approval_policy: AskForApproval,
    /// `sandbox_mode`.
    pub sandbox_mode: SandboxMode,
    /// `[features]`: feature flags by name, as set by the user. Only names in [`KNOWN_FEATURES`]
    /// are kept.
    pub features: BTreeMap<String, bool>,
    /// `include_apply_patch_tool`: offer `apply_patch` as a tool of its own.
    pub include_apply_patch_tool: bool,
    /// `web_search`: whether the provider's hosted web search is offered (Responses API
    /// providers only).
    pub web_search: WebSearchMode,
    /// The merged layers this was decoded from, for a thread to put its own overrides on.
    layers: std::sync::Arc<toml::Table>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            model: DEFAULT_MODEL.to_owned(),
            model_provider: DEFAULT_MODEL_PROVIDER.to_owned(),
            model_providers: resolve_providers(BTreeMap::new()),
            model_reasoning_effort: None,
            model_reasoning_summary: None,
            model_context_window: None,
            model_auto_compact_token_limit: None,
            approval_policy: AskForApproval::OnRequest,
            sandbox_mode: SandboxMode::ReadOnly,
            features: BTreeMap::new(),
            include_apply_patch_tool: false,
            web_search: WebSearchMode::Cached,
            layers: std::sync::Arc::default(),
        }
    }
}

/// `web_search` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebSearchMode {
    Disabled,
    Cached,
    Live,
}

/// Context window assumed for models whose window is not configured.
pub const DEFAULT_CONTEXT_WINDOW: i64 = 128_000;

impl Config {
    /// The model's context window: `model_context_window`, else [`DEFAULT_CONTEXT_WINDOW`].
    pub fn context_window(&self) -> i64 {
        self.model_context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW)
    }

    /// Tokens of context at which a turn compacts the conversation first:
    /// `model_auto_compact_token_limit`, else 90% of the context window.
    pub fn auto_compact_limit(&self) -> i64 {
        self.model_auto_compact_token_limit
            .unwrap_or(self.context_window() / 10 * 9)
    }

    /// The provider called `id`.
    pub fn provider(&self, id: &str) -> Option<&ModelProvider> {
        self.model_providers.get(id)
    }

    /// This configuration with a thread's `config` overrides on top: keys dotted or nested,
    /// values as JSON (`null` leaves a key as it is). Returns the configuration and the keys
    /// among the overrides that tern does not know; a bad value is an error naming its key.
    pub fn with_overrides(
        &self,
        overrides: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let layer = ConfigOverrides::from_json(overrides)?;
        let mut table = (*self.layers).clone();
        layer.apply(&mut table);
        let (config, mut unknown) = decode(table).map_err(|(key, reason)| ConfigError::Value {
            file: None,
            key,
            reason,
        })?;
        unknown.retain(|key| layer.touches(key));
        Ok((config, unknown))
    }
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
    model: Option<String>,
    model_provider: Option<String>,
    #[serde(default)]
    model_providers: BTreeMap<String, ModelProviderToml>,
    model_reasoning_effort: Option<String>,
    model_reasoning_summary: Option<ReasoningSummary>,
    model_context_window: Option<i64>,
    model_auto_compact_token_limit: Option<i64>,
    approval_policy: Option<AskForApproval>,
    sandbox_mode: Option<SandboxMode>,
    #[serde(default)]
    features: BTreeMap<String, bool>,
    include_apply_patch_tool: Option<bool>,
    web_search: Option<WebSearchMode>,
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
    let (config, unknown_keys) = decode(table).map_err(|(key, reason)| {
        // A key is blamed on config.toml when it is there and no override set it.
        let from_file = !overrides.touches(&key) && lookup(&file_keys, &key).is_some();
        ConfigError::Value {
            file: file.clone().filter(|_| from_file),
            key,
            reason,
        }
    })?;
    if strict && !unknown_keys.is_empty() {
        let any_from_file = unknown_keys
            .iter()
            .any(|key| !overrides.touches(key) && lookup(&file_keys, key).is_some());
        return Err(ConfigError::UnknownKeys {
            keys: unknown_keys,
            file: file.clone().filter(|_| any_from_file),
        });
    }
    Ok(LoadedConfig {
        config,
        file,
        unknown_keys,
    })
}

/// Decodes merged layers: the configuration and the dotted keys tern does not know (sorted),
/// or the (key, reason) of a bad value.
fn decode(table: toml::Table) -> Result<(Config, Vec<String>), (String, String)> {
    let layers = std::sync::Arc::new(table.clone());

    let mut unknown_keys = Vec::new();
    let value = toml::Value::Table(table);
    let mut collect_unknown = |path: serde_ignored::Path| unknown_keys.push(path.to_string());
    let deserializer = serde_ignored::Deserializer::new(value, &mut collect_unknown);
    let mut config_toml: ConfigToml = decode_with_path(deserializer)?;

    let mut features = std::mem::take(&mut config_toml.features);
    for name in features.keys() {
        if !KNOWN_FEATURES.contains(&name.as_str()) {
            unknown_keys.push(format!("features.{name}"));
        }
    }
    features.retain(|name, _| KNOWN_FEATURES.contains(&name.as_str()));
    unknown_keys.sort();
    unknown_keys.dedup();
    let config = build_config(config_toml, features, layers)?;
    Ok((config, unknown_keys))
}

/// Checks what serde cannot (references between keys) and fills in defaults.
fn build_config(
    toml: ConfigToml,
    features: BTreeMap<String, bool>,
    layers: std::sync::Arc<toml::Table>,
) -> Result<Config, (String, String)> {
    let defaults = Config::default();
    let model_providers = resolve_providers(toml.model_providers);
    let model_provider = toml.model_provider.unwrap_or(defaults.model_provider);
    if !model_providers.contains_key(&model_provider) {
        let known: Vec<&str> = model_providers.keys().map(String::as_str).collect();
        return Err((
            "model_provider".to_owned(),
            format!(
                "no provider `{model_provider}`; known: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(Config {
        model: toml.model.unwrap_or(defaults.model),
        model_provider,
        model_providers,
        model_reasoning_effort: toml.model_reasoning_effort,
        model_reasoning_summary: toml.model_reasoning_summary,
        model_context_window: toml.model_context_window,
        model_auto_compact_token_limit: toml.model_auto_compact_token_limit,
        approval_policy: toml.approval_policy.unwrap_or(defaults.approval_policy),
        sandbox_mode: toml.sandbox_mode.unwrap_or(defaults.sandbox_mode),
        features,
        include_apply_patch_tool: toml.include_apply_patch_tool.unwrap_or(false),
        web_search: toml.web_search.unwrap_or(defaults.web_search),
        layers,
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
