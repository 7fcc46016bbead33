//! Startup configuration: home resolution, config.toml, overrides, strictness, --listen.

use std::process::Command;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::tern;

/// Runs `tern app-server ARGS` with `config.toml` and returns (exit code, stderr), for startups
/// that are expected to fail before reading any input.
fn failed_startup(
    config_toml: Option<&str>,
    args: &[&str],
) -> (Option<i32>, String, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    if let Some(text) = config_toml {
        std::fs::write(home.path().join("config.toml"), text).unwrap();
    }
    let output = tern()
        .command(home.path())
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8(output.stderr).unwrap();
    (
        output.status.code(),
        stderr,
        home.path().join("config.toml"),
    )
}

#[test]
fn unknown_keys_give_one_config_warning_after_initialize() {
    let mut tern = tern()
        .config_toml("zeta = 1\n[features]\nnot_a_feature = true\n")
        .arg("-c")
        .arg("alpha.beta=2")
        .arg("--enable")
        .arg("made_up")
        .spawn();
    tern.initialize();
    let warning = tern.notification("configWarning");
    assert_eq!(
        warning,
        json!({
            "summary": "tern is ignoring 4 configuration settings it does not recognize: `alpha`, `features.made_up`, `features.not_a_feature`, `zeta`.",
            "details": "These are typos, or settings tern does not support yet. Start with --strict-config to make them an error.",
            "path": tern.home().join("config.toml").to_str().unwrap(),
        })
    );
    tern.assert_silent(Duration::from_millis(200));
}

#[test]
fn strict_config_refuses_unknown_keys_at_startup() {
    let (code, stderr, path) = failed_startup(Some("zeta = 1\n"), &["--strict-config"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: unknown config keys in {}: zeta (remove them, or drop --strict-config to only warn)\n",
            path.display()
        )
    );
    let (code, stderr, _) = failed_startup(None, &["--strict-config", "--disable", "nope"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("unknown config keys: features.nope"),
        "{stderr}"
    );
}

#[test]
fn invalid_toml_stops_startup_naming_file_line_and_reason() {
    let (code, stderr, path) = failed_startup(Some("[features]\nmodel = \"unterminated\n"), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: invalid TOML in {} at line 2, column 22: invalid basic string, expected `\"`\n",
            path.display()
        )
    );
}

#[test]
fn a_wrong_value_type_stops_startup_naming_the_key() {
    let (code, stderr, path) = failed_startup(Some("[features]\nx = \"yes\"\n"), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: invalid config value for `features.x` in {}: invalid type: string \"yes\", expected a boolean\n",
            path.display()
        )
    );
    let (code, stderr, _) = failed_startup(None, &["-c", "features.x=3"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "error: invalid config value for `features.x`: invalid type: integer `3`, expected a boolean\n"
    );
    let (code, stderr, _) = failed_startup(None, &["-c", "novalue"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "error: invalid override `novalue`: expected key=value\n"
    );
}

#[test]
fn other_transports_fail_with_a_clear_message() {
    for (listen, expected) in [
        (
            "ws://127.0.0.1:0",
            "error: --listen ws://127.0.0.1:0: the ws:// transport is not supported yet; use --listen stdio://\n",
        ),
        (
            "unix:///tmp/x.sock",
            "error: --listen unix:///tmp/x.sock: the unix:// transport is not supported yet; use --listen stdio://\n",
        ),
        (
            "bogus://x",
            "error: --listen bogus://x: expected stdio://, ws://IP:PORT or unix://PATH\n",
        ),
    ] {
        let (code, stderr, _) = failed_startup(None, &["--listen", listen]);
        assert_eq!((code, stderr.as_str()), (Some(1), expected));
    }
    let mut tern = tern().arg("--listen").arg("stdio://").spawn();
    tern.initialize();
}

#[test]
fn tern_home_wins_over_codex_home() {
    let codex_home = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut command = tern().command(home.path());
    command.env("CODEX_HOME", codex_home.path());
    let output = run_initialize(command);
    assert_eq!(output["result"]["codexHome"], home.path().to_str().unwrap());
}

#[test]
fn codex_home_is_used_when_tern_home_is_unset() {
    let codex_home = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut command = tern().command(home.path());
    command
        .env_remove("TERN_HOME")
        .env("CODEX_HOME", codex_home.path().join("nested"));
    let output = run_initialize(command);
    assert_eq!(
        output["result"]["codexHome"],
        codex_home.path().join("nested").to_str().unwrap()
    );
    assert!(
        codex_home.path().join("nested").is_dir(),
        "a missing home is created"
    );
}

/// Sends `initialize` to a raw command, closes stdin and returns the response.
fn run_initialize(mut command: Command) -> serde_json::Value {
    use std::io::Write;
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"id":1,"method":"initialize","params":{{"clientInfo":{{"name":"x","version":"1"}}}}}}"#
    )
    .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}
