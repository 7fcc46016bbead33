//! Model providers: where requests go, how they authenticate, and how hard to retry.
//!
//! Configured as `[model_providers.<id>]` tables with the reference implementation's keys. Two
//! are built in and can be overridden by a table of the same id: `openai` (Responses API, key
//! from `OPENAI_API_KEY`) and `ollama` (Chat Completions on localhost).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// Which HTTP API a provider speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// OpenAI Responses API: `POST {base_url}/responses`.
    #[default]
    Responses,
    /// OpenAI-style Chat Completions: `POST {base_url}/chat/completions` (Ollama, vLLM,
    /// llama.cpp, LM Studio).
    Chat,
}

/// A `[model_providers.<id>]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct ModelProviderToml {
    name: Option<String>,
    base_url: Option<String>,
    env_key: Option<String>,
    #[serde(default)]
    wire_api: Option<WireApi>,
    #[serde(default)]
    query_params: BTreeMap<String, String>,
    #[serde(default)]
    http_headers: BTreeMap<String, String>,
    #[serde(default)]
    env_http_headers: BTreeMap<String, String>,
    request_max_retries: Option<u32>,
    stream_max_retries: Option<u32>,
    stream_idle_timeout_ms: Option<u64>,
}

/// A resolved provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelProvider {
    /// The table id (`openai`, `ollama`, `mock`, ...).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Base URL, e.g. `https://api.openai.com/v1`; endpoints are appended.
    pub base_url: String,
    /// Environment variable holding the API key, sent as `Authorization: Bearer`.
    pub env_key: Option<String>,
    pub wire_api: WireApi,
    /// Appended to every request URL.
    pub query_params: BTreeMap<String, String>,
    /// Sent with every request.
    pub http_headers: BTreeMap<String, String>,
    /// Header name → environment variable; sent when the variable is set.
    pub env_http_headers: BTreeMap<String, String>,
    /// Retries of a request that failed to connect or got 429/5xx.
    pub request_max_retries: u32,
    /// Retries of a stream that broke off mid-response.
    pub stream_max_retries: u32,
    /// A stream silent for this long is treated as broken.
    pub stream_idle_timeout: Duration,
}

const DEFAULT_REQUEST_MAX_RETRIES: u32 = 4;
const DEFAULT_STREAM_MAX_RETRIES: u32 = 5;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;
/// Upper bounds, so a config typo cannot make a turn retry for hours.
const MAX_RETRIES: u32 = 100;

impl ModelProvider {
    fn from_toml(id: &str, table: ModelProviderToml, base: Option<&ModelProvider>) -> Self {
        let field =
            |own: Option<String>, inherited: Option<&String>| own.or_else(|| inherited.cloned());
        Self {
            id: id.to_owned(),
            name: field(table.name, base.map(|b| &b.name)).unwrap_or_else(|| id.to_owned()),
            base_url: field(table.base_url, base.map(|b| &b.base_url))
                .unwrap_or_else(|| "https://api.openai.com/v1".to_owned()),
            env_key: table
                .env_key
                .or_else(|| base.and_then(|b| b.env_key.clone())),
            wire_api: table
                .wire_api
                .or(base.map(|b| b.wire_api))
                .unwrap_or_default(),
            query_params: table.query_params,
            http_headers: table.http_headers,
            env_http_headers: table.env_http_headers,
            request_max_retries: table
                .request_max_retries
                .unwrap_or(DEFAULT_REQUEST_MAX_RETRIES)
                .min(MAX_RETRIES),
            stream_max_retries: table
                .stream_max_retries
                .unwrap_or(DEFAULT_STREAM_MAX_RETRIES)
                .min(MAX_RETRIES),
            stream_idle_timeout: Duration::from_millis(
                table
                    .stream_idle_timeout_ms
                    .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
            ),
        }
    }

    /// The API key from `env_key`, when that variable is set and not empty.
    pub fn api_key(&self) -> Option<String> {
        let name = self.env_key.as_deref()?;
        std::env::var(name).ok().filter(|key| !key.is_empty())
    }
}

/// The built-in providers, before user tables.
fn built_in() -> BTreeMap<String, ModelProvider> {
    let openai = ModelProvider::from_toml(
        "openai",
        ModelProviderToml {
            name: Some("OpenAI".to_owned()),
            base_url: Some("https://api.openai.com/v1".to_owned()),
            env_key: Some("OPENAI_API_KEY".to_owned()),
            wire_api: Some(WireApi::Responses),
            ..ModelProviderToml::default()
        },
        None,
    );
    let ollama = ModelProvider::from_toml(
        "ollama",
        ModelProviderToml {
            name: Some("Ollama".to_owned()),
            base_url: Some("http://localhost:11434/v1".to_owned()),
            wire_api: Some(WireApi::Chat),
            ..ModelProviderToml::default()
        },
        None,
    );
    BTreeMap::from([("openai".to_owned(), openai), ("ollama".to_owned(), ollama)])
}

/// Built-ins overlaid with the user's tables (a table with a built-in's id inherits what it
/// does not set).
pub(crate) fn resolve_providers(
    tables: BTreeMap<String, ModelProviderToml>,
) -> BTreeMap<String, ModelProvider> {
    let mut providers = built_in();
    for (id, table) in tables {
        let provider = ModelProvider::from_toml(&id, table, providers.get(&id));
        providers.insert(id, provider);
    }
    providers
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn user_tables_override_built_ins_and_add_providers() {
        let tables: BTreeMap<String, ModelProviderToml> = toml::from_str(
            "[ollama]\nbase_url = \"http://gpu:11434/v1\"\n\
             [mock]\nbase_url = \"http://127.0.0.1:1/v1\"\nwire_api = \"chat\"\nrequest_max_retries = 0\n",
        )
        .unwrap();
        let providers = resolve_providers(tables);
        let ollama = &providers["ollama"];
        assert_eq!(
            (
                ollama.name.as_str(),
                ollama.base_url.as_str(),
                ollama.wire_api
            ),
            ("Ollama", "http://gpu:11434/v1", WireApi::Chat)
        );
        let mock = &providers["mock"];
        assert_eq!(
            (
                mock.wire_api,
                mock.request_max_retries,
                mock.stream_max_retries
            ),
            (WireApi::Chat, 0, 5)
        );
        assert_eq!(
            providers["openai"].env_key.as_deref(),
            Some("OPENAI_API_KEY")
        );
    }
}
