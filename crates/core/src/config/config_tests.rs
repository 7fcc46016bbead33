use pretty_assertions::assert_eq;

use super::*;
use tern_protocol::v2::{AskForApproval, GranularApprovalConfig, ReasoningSummary, SandboxMode};

fn load(
    file: Option<&str>,
    config: &[&str],
    strict: bool,
) -> (tempfile::TempDir, Result<LoadedConfig, ConfigError>) {
    let home = tempfile::tempdir().unwrap();
    if let Some(text) = file {
        std::fs::write(home.path().join(CONFIG_FILE), text).unwrap();
    }
    let config: Vec<String> = config.iter().map(|s| (*s).to_owned()).collect();
    let overrides = ConfigOverrides::parse(&config, &[], &[]).unwrap();
    let loaded = load_config(home.path(), &overrides, strict);
    (home, loaded)
}

#[test]
fn no_file_means_defaults() {
    let (_home, loaded) = load(None, &[], true);
    assert_eq!(
        loaded.unwrap(),
        LoadedConfig {
            config: Config::default(),
            file: None,
            unknown_keys: vec![],
        }
    );
    assert_eq!(
        Config::default().provider("openai").unwrap().wire_api,
        WireApi::Responses
    );
}

#[test]
fn reference_model_keys_are_read() {
    let (_home, loaded) = load(
        Some(
            "model = \"qwen3\"\nmodel_provider = \"ollama\"\napproval_policy = \"never\"\n\
             sandbox_mode = \"workspace-write\"\nmodel_reasoning_summary = \"detailed\"\n\
             [model_providers.ollama]\nbase_url = \"http://gpu:11434/v1\"\n",
        ),
        &["model_reasoning_effort=high"],
        true,
    );
    let config = loaded.unwrap().config;
    assert_eq!(config.model, "qwen3");
    assert_eq!(config.model_provider, "ollama");
    assert_eq!(
        config.provider("ollama").unwrap().base_url,
        "http://gpu:11434/v1"
    );
    assert_eq!(config.approval_policy, AskForApproval::Never);
    assert_eq!(config.sandbox_mode, SandboxMode::WorkspaceWrite);
    assert_eq!(
        config.model_reasoning_summary,
        Some(ReasoningSummary::Detailed)
    );
    assert_eq!(config.model_reasoning_effort.as_deref(), Some("high"));
}

#[test]
fn a_granular_approval_policy_is_read_from_a_table() {
    let (_home, loaded) = load(
        Some(
            "[approval_policy.granular]\nsandbox_approval = true\nrules = false\n\
             mcp_elicitations = false\n",
        ),
        &[],
        true,
    );
    assert_eq!(
        loaded.unwrap().config.approval_policy,
        AskForApproval::Granular(GranularApprovalConfig {
            sandbox_approval: true,
            rules: false,
            skill_approval: false,
            request_permissions: false,
            mcp_elicitations: false,
        })
    );
}

#[test]
fn an_unknown_provider_is_a_startup_error() {
    let (home, loaded) = load(Some("model_provider = \"nope\"\n"), &[], false);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        format!(
            "invalid config value for `model_provider` in {}: no provider `nope`; known: ollama, openai",
            home.path().join(CONFIG_FILE).display()
        )
    );
}

#[test]
fn unknown_keys_from_file_and_overrides_are_collected_sorted() {
    let (home, loaded) = load(
        Some("zeta = 1\n[tui]\nzzz = 1\n[features]\nnot_a_feature = true\n"),
        &["alpha.beta=2"],
        false,
    );
    let loaded = loaded.unwrap();
    assert_eq!(loaded.file, Some(home.path().join(CONFIG_FILE)));
    assert_eq!(
        loaded.unknown_keys,
        ["alpha", "features.not_a_feature", "tui", "zeta"]
    );
}

#[test]
fn strict_config_turns_unknown_keys_into_an_error_naming_them() {
    let (home, loaded) = load(Some("zeta = 1\n"), &[], true);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        format!(
            "unknown config keys in {}: zeta (remove them, or drop --strict-config to only warn)",
            home.path().join(CONFIG_FILE).display()
        )
    );
    let (_home, loaded) = load(None, &["x.y=1"], true);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        "unknown config keys: x (remove them, or drop --strict-config to only warn)"
    );
}

#[test]
fn invalid_toml_names_file_line_and_column() {
    let (home, loaded) = load(Some("[features]\nmodel = \"unterminated\n"), &[], false);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        format!(
            "invalid TOML in {} at line 2, column 22: invalid basic string, expected `\"`",
            home.path().join(CONFIG_FILE).display()
        )
    );
}

#[test]
fn a_wrong_type_names_the_key_and_its_source() {
    let (home, loaded) = load(Some("[features]\nfoo = \"yes\"\n"), &[], false);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        format!(
            "invalid config value for `features.foo` in {}: invalid type: string \"yes\", expected a boolean",
            home.path().join(CONFIG_FILE).display()
        )
    );
    let (_home, loaded) = load(Some("[features]\nfoo = true\n"), &["features.foo=3"], false);
    assert_eq!(
        loaded.unwrap_err().to_string(),
        "invalid config value for `features.foo`: invalid type: integer `3`, expected a boolean"
    );
}

#[test]
fn line_column_counts_characters_from_one() {
    assert_eq!(line_column("ab\ncé d", 7), (2, 4));
    assert_eq!(line_column("", 0), (1, 1));
}

#[test]
fn a_threads_overrides_go_over_every_layer() {
    let (_home, loaded) = load(
        Some(
            "model = \"from-file\"\nunknown_in_file = 1\n[model_providers.x]\nname = \"x\"\nbase_url = \"http://127.0.0.1:1/v1\"\n",
        ),
        &["model_reasoning_effort=high"],
        false,
    );
    let base = loaded.unwrap().config;
    let overrides = serde_json::json!({
        "model_provider": "x",
        "model_providers.x.base_url": "http://127.0.0.1:2/v1",
        "model_providers": {"x": {"stream_max_retries": 7}},
        "model_reasoning_summary": null,
        "typo": 1,
    });
    let (config, unknown) = base.with_overrides(overrides.as_object().unwrap()).unwrap();
    assert_eq!(config.model, "from-file");
    assert_eq!(config.model_reasoning_effort.as_deref(), Some("high"));
    assert_eq!(config.model_provider, "x");
    let provider = config.provider("x").unwrap();
    assert_eq!(provider.base_url, "http://127.0.0.1:2/v1");
    assert_eq!(provider.stream_max_retries, 7);
    // Only the thread's own unknown keys are reported; the file's were reported at startup.
    assert_eq!(unknown, ["typo"]);

    let bad = serde_json::json!({"model_provider": "nope"});
    let err = base.with_overrides(bad.as_object().unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid config value for `model_provider`: no provider `nope`"),
        "{err}"
    );
}
