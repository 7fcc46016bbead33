//! `tern app-server generate-json-schema` and `generate-ts`. (That the vendored copies match
//! the code is `tern-protocol`'s `schema_fixtures` test; here: the CLI and the stable filter.)

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

#[test]
fn json_schema_stable_leaves_experimental_methods_out() {
    let stable = tempfile::tempdir().unwrap();
    generate("generate-json-schema", stable.path(), false);
    let bundle = read(&stable.path().join("codex_app_server_protocol.schemas.json"));
    assert!(bundle.contains("\"thread/start\""));
    assert!(!bundle.contains("mock/experimentalMethod"));
    assert!(
        !stable
            .path()
            .join("ServerDiagnosticsResponse.json")
            .exists()
    );

    let experimental = tempfile::tempdir().unwrap();
    generate("generate-json-schema", experimental.path(), true);
    let bundle = read(
        &experimental
            .path()
            .join("codex_app_server_protocol.schemas.json"),
    );
    assert!(bundle.contains("mock/experimentalMethod"));
    assert!(
        experimental
            .path()
            .join("ServerDiagnosticsResponse.json")
            .exists()
    );
}

#[test]
fn typescript_stable_leaves_experimental_methods_out() {
    let stable = tempfile::tempdir().unwrap();
    generate("generate-ts", stable.path(), false);
    let requests = read(&stable.path().join("ClientRequest.ts"));
    assert!(requests.contains("\"method\": \"turn/start\""));
    assert!(!requests.contains("mock/experimentalMethod"));
    assert!(!stable.path().join("ServerDiagnosticsResponse.ts").exists());
    assert!(!read(&stable.path().join("index.ts")).contains("ServerDiagnostics"));

    let experimental = tempfile::tempdir().unwrap();
    generate("generate-ts", experimental.path(), true);
    let requests = read(&experimental.path().join("ClientRequest.ts"));
    assert!(requests.contains("\"method\": \"mock/experimentalMethod\""));
    assert!(read(&experimental.path().join("index.ts")).contains("ServerDiagnosticsResponse"));
}
