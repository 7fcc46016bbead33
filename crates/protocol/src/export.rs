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
//! plus the method unions (`ClientRequest`, `ServerNotification`, `ClientNotification`) and an
//! `index.ts`.
//!
//! Output is deterministic (sorted keys, sorted files), so the vendored copies under
//! `crates/protocol/schema/` diff cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
use ts_rs::TS;

use crate::experimental::{EXPERIMENTAL_FIELDS, ExperimentalField};
use crate::jsonrpc::RequestId;
use crate::methods::{
    ClientNotification, Method, Stability, visit_client_requests, visit_server_notifications,
};

/// File name of the JSON Schema bundle.
pub const SCHEMA_BUNDLE_FILE: &str = "codex_app_server_protocol.schemas.json";

const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";
const TS_HEADER: &str = "// GENERATED CODE! DO NOT MODIFY BY HAND!\n";

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

// ---------------------------------------------------------------------------------------------
// JSON Schema

/// Collects definitions and the method unions while walking the tables.
struct SchemaCollector {
    generator: SchemaGenerator,
    experimental: bool,
    client_requests: Vec<Value>,
    server_notifications: Vec<Value>,
    /// Types that get a file of their own: every params, response and notification type.
    roots: BTreeSet<String>,
}

impl SchemaCollector {
    fn new(experimental: bool) -> Self {
        Self {
            generator: SchemaGenerator::new(SchemaSettings::draft07()),
            experimental,
            client_requests: Vec::new(),
            server_notifications: Vec::new(),
            roots: BTreeSet::new(),
        }
    }

    /// Adds `T` to the definitions and returns the schema that refers to it.
    fn reference<T: JsonSchema>(&mut self) -> Value {
        let schema = self.generator.subschema_for::<T>();
        if let Some(name) = ref_name(schema.as_value()) {
            self.roots.insert(name.to_owned());
        }
        schema.to_value()
    }
}

/// The definition a `{"$ref": "#/definitions/Name"}` schema points at.
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/definitions/")
}

/// One variant of a method union: `{method: enum[name], params: …}` plus `id` for requests.
fn method_variant(title: &str, method: &str, docs: &str, params: Value, with_id: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    if with_id {
        properties.insert("id".into(), json!({"$ref": "#/definitions/RequestId"}));
        required.push("id");
    }
    properties.insert(
        "method".into(),
        json!({"type": "string", "enum": [method], "title": format!("{title}Method")}),
    );
    properties.insert("params".into(), params);
    required.extend(["method", "params"]);
    let mut variant = json!({
        "type": "object",
        "title": title,
        "properties": properties,
        "required": required,
    });
    if !docs.trim().is_empty() {
        variant["description"] = docs.trim().into();
    }
    variant
}

/// `thread/start` → `Thread/start`, the way the reference titles its union variants.
fn variant_title(method: &str, suffix: &str) -> String {
    let mut chars = method.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!(
        "{}{}{suffix}",
        first.into_iter().collect::<String>(),
        chars.as_str()
    )
}

impl MethodVisitor for SchemaCollector {
    fn client_request<M: Method>(&mut self, docs: &str) {
        if !is_included(M::STABILITY, self.experimental) {
            return;
        }
        let params = self.reference::<M::Params>();
        self.reference::<M::Response>();
        let title = variant_title(M::NAME, "Request");
        self.client_requests
            .push(method_variant(&title, M::NAME, docs, params, true));
    }

    fn server_notification<P: JsonSchema + TS + 'static>(
        &mut self,
        method: &str,
        stability: Stability,
        docs: &str,
    ) {
        if !is_included(stability, self.experimental) {
            return;
        }
        let params = self.reference::<P>();
        let title = variant_title(method, "Notification");
        self.server_notifications
            .push(method_variant(&title, method, docs, params, false));
    }
}

/// Builds every definition of the schema, keyed by name.
pub fn schema_definitions(experimental: bool) -> BTreeMap<String, Value> {
    build_schema(experimental).0
}

/// The definitions, and the names of the types that get a file of their own.
fn build_schema(experimental: bool) -> (BTreeMap<String, Value>, BTreeSet<String>) {
    let mut collector = SchemaCollector::new(experimental);
    visit_client_requests(&mut collector);
    visit_server_notifications(&mut collector);
    collector.reference::<RequestId>();

    let SchemaCollector {
        mut generator,
        client_requests,
        server_notifications,
        mut roots,
        ..
    } = collector;
    let mut definitions: BTreeMap<String, Value> =
        generator.take_definitions(true).into_iter().collect();
    let unions = [
        (
            "ClientRequest",
            "Request from the client to the server.",
            client_requests,
        ),
        (
            "ServerNotification",
            "Notification from the server to the client.",
            server_notifications,
        ),
        (
            "ClientNotification",
            "Notification from the client to the server.",
            ClientNotification::METHODS
                .iter()
                .map(|method| {
                    let title = variant_title(method, "Notification");
                    let mut variant = method_variant(&title, method, "", Value::Null, false);
                    // Client notifications carry no params.
                    variant["properties"]
                        .as_object_mut()
                        .map(|p| p.remove("params"));
                    variant["required"] = json!(["method"]);
                    variant
                })
                .collect(),
        ),
    ];
    for (name, description, variants) in unions {
        definitions.insert(
            name.into(),
            json!({"description": description, "oneOf": variants}),
        );
        roots.insert(name.into());
    }
    if !experimental {
        strip_schema_fields(&mut definitions, EXPERIMENTAL_FIELDS);
    }
    let reachable = reachable_from(&definitions, roots.iter().map(String::as_str));
    definitions.retain(|name, _| reachable.contains(name));
    (definitions, roots)
}

/// Removes experimental fields from their owners' `properties` and `required`.
fn strip_schema_fields(definitions: &mut BTreeMap<String, Value>, fields: &[ExperimentalField]) {
    for field in fields {
        let Some(definition) = definitions.get_mut(field.type_name) else {
            continue;
        };
        if let Some(properties) = definition
            .get_mut("properties")
            .and_then(Value::as_object_mut)
        {
            properties.remove(field.field);
        }
        if let Some(required) = definition.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|name| name != field.field);
        }
    }
}

/// Every definition reachable from `roots` through `$ref`s.
fn reachable_from<'a>(
    definitions: &BTreeMap<String, Value>,
    roots: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = roots.into_iter().map(str::to_owned).collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(definition) = definitions.get(&name) {
            collect_refs(definition, &mut pending);
        }
    }
    seen
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = ref_name(value) {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Writes the schema files into `out_dir` (created if missing).
pub fn generate_json_schema(out_dir: &Path, experimental: bool) -> Result<(), ExportError> {
    create_dir(out_dir)?;
    let (definitions, roots) = build_schema(experimental);
    for name in &roots {
        let Some(definition) = definitions.get(name) else {
            continue;
        };
        let mut document = definition.clone();
        let referenced = reachable_from(&definitions, [name.as_str()]);
        let embedded: Map<String, Value> = referenced
            .iter()
            .filter(|dep| *dep != name)
            .filter_map(|dep| Some((dep.clone(), definitions.get(dep)?.clone())))
            .collect();
        if let Value::Object(object) = &mut document {
            object.insert("$schema".into(), DRAFT_07.into());
            object.insert("title".into(), name.clone().into());
            if !embedded.is_empty() {
                object.insert("definitions".into(), Value::Object(embedded));
            }
        }
        write_json(&out_dir.join(format!("{name}.json")), &document)?;
    }
    let bundle = json!({
        "$schema": DRAFT_07,
        "title": "CodexAppServerProtocol",
        "type": "object",
        "definitions": definitions,
    });
    write_json(&out_dir.join(SCHEMA_BUNDLE_FILE), &bundle)
}

fn write_json(path: &Path, value: &Value) -> Result<(), ExportError> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_file(path, &text)
}

// ---------------------------------------------------------------------------------------------
// TypeScript

/// Exports types with ts-rs and builds the method unions while walking the tables.
struct TsCollector {
    cfg: ts_rs::Config,
    experimental: bool,
    client_requests: Vec<(String, String)>,
    server_notifications: Vec<(String, String)>,
    error: Option<ts_rs::ExportError>,
}

impl TsCollector {
    /// Writes `T` and its dependencies; returns its TypeScript name.
    fn export<T: TS + 'static>(&mut self) -> String {
        if self.error.is_none() {
            self.error = T::export_all(&self.cfg).err();
        }
        T::name(&self.cfg)
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
        error: None,
    };
    visit_client_requests(&mut collector);
    visit_server_notifications(&mut collector);
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
    write_index(out_dir)
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

/// `index.ts`: re-exports every type file in the directory.
fn write_index(out_dir: &Path) -> Result<(), ExportError> {
    let entries = fs::read_dir(out_dir).map_err(|source| ExportError::Io {
        path: out_dir.display().to_string(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()?
                .strip_suffix(".ts")
                .map(str::to_owned)
        })
        .filter(|name| name != "index")
        .collect();
    names.sort();
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

    #[test]
    fn stripping_schema_fields_removes_property_and_requirement() {
        let mut definitions = BTreeMap::from([(
            "T".to_owned(),
            json!({"properties": {"a": {}, "b": {}}, "required": ["a", "b"]}),
        )]);
        let field = ExperimentalField {
            type_name: "T",
            field: "b",
            descriptor: "t.b",
        };
        strip_schema_fields(&mut definitions, &[field]);
        assert_eq!(
            definitions["T"],
            json!({"properties": {"a": {}}, "required": ["a"]})
        );
    }

    #[test]
    fn stable_schema_leaves_experimental_methods_and_their_types_out() {
        let stable = schema_definitions(false);
        let experimental = schema_definitions(true);
        let methods = |definitions: &BTreeMap<String, Value>| -> Vec<String> {
            definitions["ClientRequest"]["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    v["properties"]["method"]["enum"][0]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(methods(&stable), ["initialize"]);
        assert_eq!(
            methods(&experimental),
            [
                "initialize",
                "server/diagnostics",
                "mock/experimentalMethod"
            ]
        );
        assert!(!stable.contains_key("ServerDiagnosticsResponse"));
        assert!(experimental.contains_key("ServerDiagnosticsResponse"));
    }

    #[test]
    fn every_experimental_field_names_a_real_property() {
        let definitions = schema_definitions(true);
        for field in EXPERIMENTAL_FIELDS {
            let properties = &definitions[field.type_name]["properties"];
            assert!(
                properties.get(field.field).is_some(),
                "{}.{} is listed as experimental but does not exist",
                field.type_name,
                field.field
            );
        }
    }
}
