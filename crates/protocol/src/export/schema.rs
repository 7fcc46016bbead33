//! JSON Schema export: draft-07 definitions from schemars, the method unions built here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
use ts_rs::TS;

use super::{ExportError, MethodVisitor, create_dir, is_included, write_file};
use crate::experimental::{EXPERIMENTAL_FIELDS, ExperimentalField};
use crate::jsonrpc::RequestId;
use crate::methods::{
    ClientNotification, Method, ServerMethod, Stability, visit_client_requests,
    visit_server_notifications, visit_server_requests,
};

/// File name of the JSON Schema bundle.
pub const SCHEMA_BUNDLE_FILE: &str = "codex_app_server_protocol.schemas.json";

const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// Collects definitions and the method unions while walking the tables.
struct SchemaCollector {
    generator: SchemaGenerator,
    experimental: bool,
    client_requests: Vec<Value>,
    server_notifications: Vec<Value>,
    server_requests: Vec<Value>,
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
            server_requests: Vec::new(),
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

    fn server_request<M: ServerMethod>(&mut self, docs: &str) {
        let params = self.reference::<M::Params>();
        self.reference::<M::Response>();
        let title = variant_title(M::NAME, "Request");
        self.server_requests
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
    visit_server_requests(&mut collector);
    collector.reference::<RequestId>();

    let SchemaCollector {
        mut generator,
        client_requests,
        server_notifications,
        server_requests,
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
            "ServerRequest",
            "Request from the server to the client.",
            server_requests,
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

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

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
        let stable_methods = methods(&stable);
        let experimental_methods = methods(&experimental);
        assert!(stable_methods.contains(&"initialize".to_owned()));
        for method in ["server/diagnostics", "mock/experimentalMethod"] {
            assert!(!stable_methods.contains(&method.to_owned()), "{method}");
            assert!(
                experimental_methods.contains(&method.to_owned()),
                "{method}"
            );
        }
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
