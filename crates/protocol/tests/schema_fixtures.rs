//! The vendored schema and TypeScript under `crates/protocol/schema/` must be exactly what the
//! code generates, so every protocol change shows up in review as a diff of those files.
//!
//! To regenerate after an intended change:
//!
//! ```text
//! UPDATE_SCHEMA_FIXTURES=1 cargo test -p tern-protocol --test schema_fixtures
//! ```

#![allow(clippy::unwrap_used, reason = "a failed read fails the test")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tern_protocol::export::{generate_json_schema, generate_ts};

/// The vendored output is the complete (`--experimental`) one, so experimental changes show too.
const EXPERIMENTAL: bool = true;

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(kind)
}

fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect()
}

fn check(kind: &str, generate: fn(&Path, bool) -> Result<(), tern_protocol::export::ExportError>) {
    let generated_dir = tempfile::tempdir().unwrap();
    generate(generated_dir.path(), EXPERIMENTAL).unwrap();
    let generated = read_tree(generated_dir.path());
    let fixture_dir = fixture_dir(kind);

    if std::env::var_os("UPDATE_SCHEMA_FIXTURES").is_some() {
        let _ = fs::remove_dir_all(&fixture_dir);
        fs::create_dir_all(&fixture_dir).unwrap();
        for (name, text) in &generated {
            fs::write(fixture_dir.join(name), text).unwrap();
        }
        return;
    }

    let vendored = read_tree(&fixture_dir);
    let fix = "run `UPDATE_SCHEMA_FIXTURES=1 cargo test -p tern-protocol --test schema_fixtures` \
               and review the diff";
    let missing: Vec<_> = generated
        .keys()
        .filter(|k| !vendored.contains_key(*k))
        .collect();
    let stale: Vec<_> = vendored
        .keys()
        .filter(|k| !generated.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "{kind}: files not vendored yet: {missing:?}; {fix}"
    );
    assert!(
        stale.is_empty(),
        "{kind}: vendored files no longer generated: {stale:?}; {fix}"
    );
    for (name, text) in &generated {
        pretty_assertions::assert_eq!(&vendored[name], text, "{kind}/{name} differs; {fix}");
    }
}

#[test]
fn vendored_json_schema_matches_the_code() {
    check("json", generate_json_schema);
}

#[test]
fn vendored_typescript_matches_the_code() {
    check("typescript", generate_ts);
}
