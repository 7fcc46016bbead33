//! JSON Schema and TypeScript export of the protocol.
//!
//! Both walk the method tables in [`crate::methods`], so the output lists exactly the methods the
//! server implements. Stable output leaves out experimental methods, the types only they use, and
//! the fields in [`EXPERIMENTAL_FIELDS`]; `experimental` output has everything.
//!
//! JSON Schema (draft-07, as the reference implementation emits it): one file per root type
//! (`InitializeParams.json`, with the definitions it references embedded) and a bundle,
//! `codex_app_server_protocol.schemas.json`, with every definition, named like the reference's so
//! code generators pointed at it keep working. TypeScript: one `.ts` file per type from ts-rs,
//! plus the method unions (`ClientRequest`, `ServerNotification`, `ServerRequest`,
//! `ClientNotification`) and an
//! `index.ts`.
//!
//! Output is deterministic (sorted keys, sorted files), so the vendored copies under
//! `crates/protocol/schema/` diff cleanly.

mod schema;
mod typescript;

use std::fs;
use std::io;
use std::path::Path;

use schemars::JsonSchema;
use ts_rs::TS;

pub use schema::{SCHEMA_BUNDLE_FILE, generate_json_schema, schema_definitions};
pub use typescript::generate_ts;

use crate::methods::{Method, Stability};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("generating TypeScript: {0}")]
    TypeScript(#[from] ts_rs::ExportError),
    #[error("serializing schema: {0}")]
    Json(#[from] serde_json::Error),
}

/// What the export walks: one call per method of the tables.
pub(crate) trait MethodVisitor {
    fn client_request<M: Method>(&mut self, docs: &str);
    fn server_request<M: crate::methods::ServerMethod>(&mut self, docs: &str);
    fn server_notification<P: JsonSchema + TS + 'static>(
        &mut self,
        method: &str,
        stability: Stability,
        docs: &str,
    );
}

fn is_included(stability: Stability, experimental: bool) -> bool {
    experimental || stability == Stability::Stable
}

fn write_file(path: &Path, contents: &str) -> Result<(), ExportError> {
    fs::write(path, contents).map_err(|source| ExportError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(path).map_err(|source| ExportError::Io {
        path: path.display().to_string(),
        source,
    })
}
