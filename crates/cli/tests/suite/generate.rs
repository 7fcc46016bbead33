//! `tern app-server generate-json-schema` and `generate-ts`.

use std::path::Path;
use std::process::Command;

fn generate(subcommand: &str, out: &Path, experimental: bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tern"));
    command.args(["app-server", subcommand, "--out"]).arg(out);
    if experimental {
        command.arg("--experimental");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn vendored(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocol/schema")
        .join(kind)
}

#[test]
fn json_schema_stable_leaves_experimental_methods_out() {
    let stable = tempfile::tempdir().unwrap();
    generate("generate-json-schema", stable.path(), false);
    let bundle = read(&stable.path().join("codex_app_server_protocol.schemas.json"));
    assert!(bundle.contains("\"initialize\""));
    assert!(!bundle.contains("mock/experimentalMethod"));
    assert!(
        !stable
            .path()
            .join("ServerDiagnosticsResponse.json")
            .exists()
    );

    let experimental = tempfile::tempdir().unwrap();
    generate("generate-json-schema", experimental.path(), true);
    for name in [
        "codex_app_server_protocol.schemas.json",
        "ServerDiagnosticsResponse.json",
        "InitializeParams.json",
    ] {
        assert_eq!(
            read(&experimental.path().join(name)),
            read(&vendored("json").join(name)),
            "{name}"
        );
    }
}

#[test]
fn typescript_stable_leaves_experimental_methods_out() {
    let stable = tempfile::tempdir().unwrap();
    generate("generate-ts", stable.path(), false);
    let requests = read(&stable.path().join("ClientRequest.ts"));
    assert!(requests.contains("\"method\": \"initialize\""));
    assert!(!requests.contains("mock/experimentalMethod"));
    assert!(!stable.path().join("ServerDiagnosticsResponse.ts").exists());
    assert!(!read(&stable.path().join("index.ts")).contains("ServerDiagnostics"));

    let experimental = tempfile::tempdir().unwrap();
    generate("generate-ts", experimental.path(), true);
    for name in ["ClientRequest.ts", "index.ts", "InitializeParams.ts"] {
        assert_eq!(
            read(&experimental.path().join(name)),
            read(&vendored("typescript").join(name)),
            "{name}"
        );
    }
}
