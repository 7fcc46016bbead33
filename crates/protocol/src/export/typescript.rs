//! TypeScript export: one file per type from ts-rs, plus the method unions and `index.ts`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use ts_rs::{TS, TypeVisitor};

use super::{ExportError, MethodVisitor, create_dir, is_included, write_file};
use crate::experimental::EXPERIMENTAL_FIELDS;
use crate::jsonrpc::RequestId;
use crate::methods::{
    ClientNotification, Method, ServerMethod, Stability, visit_client_requests,
    visit_server_notifications, visit_server_requests,
};

const TS_HEADER: &str = "// GENERATED CODE! DO NOT MODIFY BY HAND!\n";

/// Exports types with ts-rs and builds the method unions while walking the tables.
struct TsCollector {
    cfg: ts_rs::Config,
    experimental: bool,
    client_requests: Vec<(String, String)>,
    server_notifications: Vec<(String, String)>,
    server_requests: Vec<(String, String)>,
    /// Files written, relative to the output directory: what `index.ts` re-exports.
    files: BTreeSet<PathBuf>,
    error: Option<ts_rs::ExportError>,
}

impl TsCollector {
    /// Writes `T` and its dependencies; returns its TypeScript name.
    fn export<T: TS + 'static>(&mut self) -> String {
        if self.error.is_none() {
            self.error = T::export_all(&self.cfg).err();
        }
        OutputPaths(&mut self.files).visit::<T>();
        T::name(&self.cfg)
    }
}

/// Collects the output path of a type and of everything it depends on, as `export_all` writes
/// them.
struct OutputPaths<'a>(&'a mut BTreeSet<PathBuf>);

impl TypeVisitor for OutputPaths<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        let is_new = T::output_path().is_none_or(|path| self.0.insert(path));
        if is_new {
            T::visit_dependencies(self);
        }
    }
}

impl MethodVisitor for TsCollector {
    fn client_request<M: Method>(&mut self, _docs: &str) {
        if !is_included(M::STABILITY, self.experimental) {
            return;
        }
        let params = self.export::<M::Params>();
        self.export::<M::Response>();
        self.client_requests.push((M::NAME.to_owned(), params));
    }

    fn server_request<M: ServerMethod>(&mut self, _docs: &str) {
        let params = self.export::<M::Params>();
        self.export::<M::Response>();
        self.server_requests.push((M::NAME.to_owned(), params));
    }

    fn server_notification<P: JsonSchema + TS + 'static>(
        &mut self,
        method: &str,
        stability: Stability,
        _docs: &str,
    ) {
        if !is_included(stability, self.experimental) {
            return;
        }
        let params = self.export::<P>();
        self.server_notifications.push((method.to_owned(), params));
    }
}

/// Writes the TypeScript files into `out_dir` (created if missing).
pub fn generate_ts(out_dir: &Path, experimental: bool) -> Result<(), ExportError> {
    create_dir(out_dir)?;
    let mut collector = TsCollector {
        // The protocol's integers all fit in a JavaScript number.
        cfg: ts_rs::Config::new()
            .with_out_dir(out_dir)
            .with_large_int("number"),
        experimental,
        client_requests: Vec::new(),
        server_notifications: Vec::new(),
        server_requests: Vec::new(),
        files: BTreeSet::new(),
        error: None,
    };
    visit_client_requests(&mut collector);
    visit_server_notifications(&mut collector);
    visit_server_requests(&mut collector);
    let request_id = collector.export::<RequestId>();
    if let Some(err) = collector.error {
        return Err(err.into());
    }

    let client_request = method_union(
        "ClientRequest",
        collector
            .client_requests
            .iter()
            .map(|(method, params)| (method.as_str(), Some(params.as_str()))),
        Some(&request_id),
    );
    write_file(&out_dir.join("ClientRequest.ts"), &client_request)?;
    let server_notification = method_union(
        "ServerNotification",
        collector
            .server_notifications
            .iter()
            .map(|(method, params)| (method.as_str(), Some(params.as_str()))),
        None,
    );
    write_file(&out_dir.join("ServerNotification.ts"), &server_notification)?;
    let server_request = method_union(
        "ServerRequest",
        collector
            .server_requests
            .iter()
            .map(|(method, params)| (method.as_str(), Some(params.as_str()))),
        Some(&request_id),
    );
    write_file(&out_dir.join("ServerRequest.ts"), &server_request)?;
    let client_notification = method_union(
        "ClientNotification",
        ClientNotification::METHODS
            .iter()
            .map(|method| (*method, None)),
        None,
    );
    write_file(&out_dir.join("ClientNotification.ts"), &client_notification)?;

    if !experimental {
        for field in EXPERIMENTAL_FIELDS {
            let path = out_dir.join(format!("{}.ts", field.type_name));
            if let Ok(text) = fs::read_to_string(&path) {
                write_file(&path, &strip_ts_field(&text, field.field))?;
            }
        }
    }
    let mut names: Vec<String> = collector
        .files
        .iter()
        .filter_map(|path| Some(path.to_str()?.strip_suffix(".ts")?.to_owned()))
        .collect();
    names.extend(
        [
            "ClientRequest",
            "ServerNotification",
            "ServerRequest",
            "ClientNotification",
        ]
        .map(String::from),
    );
    write_index(out_dir, names)
}

/// `export type Name = { "method": "m", id: RequestId, params: P, } | …;` with its imports.
fn method_union<'a>(
    name: &str,
    methods: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    request_id: Option<&str>,
) -> String {
    let mut imports = BTreeSet::new();
    let mut variants = Vec::new();
    for (method, params) in methods {
        let mut variant = format!("{{ \"method\": \"{method}\", ");
        if let Some(request_id) = request_id {
            imports.insert(request_id.to_owned());
            let _ = write!(variant, "id: {request_id}, ");
        }
        if let Some(params) = params {
            imports.insert(params.to_owned());
            let _ = write!(variant, "params: {params}, ");
        }
        variant.push('}');
        variants.push(variant);
    }
    let mut out = format!("{TS_HEADER}\n");
    for import in &imports {
        let _ = writeln!(out, "import type {{ {import} }} from \"./{import}\";");
    }
    if !imports.is_empty() {
        out.push('\n');
    }
    let body = if variants.is_empty() {
        "never".to_owned()
    } else {
        variants.join(" | ")
    };
    let _ = writeln!(out, "export type {name} = {body};");
    out
}

/// `index.ts`: re-exports every exported type, so a reused output directory's stale files are
/// not picked up.
fn write_index(out_dir: &Path, mut names: Vec<String>) -> Result<(), ExportError> {
    names.sort();
    names.dedup();
    let mut out = format!("{TS_HEADER}\n");
    for name in names {
        let _ = writeln!(out, "export type {{ {name} }} from \"./{name}\";");
    }
    write_file(&out_dir.join("index.ts"), &out)
}

/// Removes one top-level field (and its doc comment) from a ts-rs object type declaration:
/// `export type T = { a: A, /** doc */ b: B, };` without `b` is `export type T = { a: A, };`.
fn strip_ts_field(text: &str, field: &str) -> String {
    let Some(open) = text.find("= {").map(|i| i + 3) else {
        return text.to_owned();
    };
    let Some(close) = text.rfind("};") else {
        return text.to_owned();
    };
    let body = &text[open..close];
    let kept: Vec<&str> = split_top_level_fields(body)
        .into_iter()
        .filter(|chunk| ts_field_name(chunk) != Some(field))
        .collect();
    format!("{}{}{}", &text[..open], kept.concat(), &text[close..])
}

/// Splits an object body into field chunks, each ending after its comma; commas nested inside
/// brackets, strings or comments do not split.
fn split_top_level_fields(body: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    let mut in_string = false;
    let mut in_comment = false;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if in_comment {
            if body[i..].starts_with("*/") {
                in_comment = false;
                i += 1;
            }
        } else if in_string {
            if byte == b'\\' {
                i += 1;
            } else if byte == b'"' {
                in_string = false;
            }
        } else {
            match byte {
                b'/' if body[i..].starts_with("/*") => in_comment = true,
                b'"' => in_string = true,
                b'{' | b'[' | b'(' | b'<' => depth += 1,
                b'}' | b']' | b')' | b'>' => depth -= 1,
                b',' if depth == 0 => {
                    chunks.push(&body[start..=i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    if start < body.len() {
        chunks.push(&body[start..]);
    }
    chunks
}

/// The name of the field a chunk declares, skipping its doc comment.
fn ts_field_name(chunk: &str) -> Option<&str> {
    let declaration = match chunk.rfind("*/") {
        Some(end) => &chunk[end + 2..],
        None => chunk,
    };
    let name = declaration.trim_start().split([':', '?']).next()?.trim();
    Some(name.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn stripping_a_ts_field_keeps_the_others_and_their_docs() {
        let text = "// header\nexport type T = { a: A,\n/**\n * Doc, with comma.\n */\nb?: Array<{ x: X, y: Y }> | null, c: \"q,r\", };\n";
        assert_eq!(
            strip_ts_field(text, "b"),
            "// header\nexport type T = { a: A, c: \"q,r\", };\n"
        );
        assert_eq!(
            strip_ts_field(text, "c"),
            "// header\nexport type T = { a: A,\n/**\n * Doc, with comma.\n */\nb?: Array<{ x: X, y: Y }> | null, };\n"
        );
        assert_eq!(strip_ts_field(text, "zzz"), text);
    }
}
