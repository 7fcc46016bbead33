//! Conformance with the reference implementation's schema in `../shared/upstream-schema/`.
//!
//! 1. Every definition we export that upstream also defines has sample instances here, produced
//!    by our serializers, and each validates against upstream's definition.
//! 2. Wire names match: each property we define exists upstream under the same name, each
//!    property upstream requires exists in ours, and our enum values are upstream's.

#![allow(clippy::unwrap_used, reason = "a failed conversion fails the test")]

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};
use tern_protocol::export::schema_definitions;
use tern_protocol::v2::{
    AbsolutePathBuf, ClientInfo, ConfigWarningNotification, InitializeCapabilities,
    InitializeParams, InitializeResponse, MockExperimentalMethodParams,
    MockExperimentalMethodResponse, ServerDiagnosticsGauge, ServerDiagnosticsParams,
    ServerDiagnosticsProcess, ServerDiagnosticsResponse, TextPosition, TextRange,
};
use tern_protocol::{NotificationEnvelope, ServerNotification};
use tern_test_support::schema::UpstreamSchema;

fn value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

fn client_info() -> ClientInfo {
    ClientInfo {
        name: "codex_vscode".into(),
        title: Some("VS Code".into()),
        version: "1.2.3".into(),
    }
}

fn config_warning() -> ConfigWarningNotification {
    ConfigWarningNotification {
        summary: "tern is ignoring 1 unrecognized configuration setting: `x`.".into(),
        details: Some("details".into()),
        path: Some("/home/u/.tern/config.toml".into()),
        range: Some(TextRange {
            start: TextPosition { line: 1, column: 1 },
            end: TextPosition { line: 1, column: 5 },
        }),
    }
}

/// (definition name, instance) pairs, several per type where shapes differ.
fn samples() -> Vec<(&'static str, Value)> {
    let home = AbsolutePathBuf::try_from(std::path::PathBuf::from("/home/u/.tern")).unwrap();
    let capabilities = InitializeCapabilities {
        experimental_api: true,
        opt_out_notification_methods: Some(vec!["thread/started".into()]),
        request_attestation: false,
    };
    let initialize = InitializeParams {
        client_info: client_info(),
        capabilities: Some(capabilities.clone()),
    };
    let process = ServerDiagnosticsProcess {
        id: 42,
        resident_memory_bytes: Some(4_000_000),
        physical_footprint_bytes: None,
    };
    let gauge = ServerDiagnosticsGauge {
        name: "app.requests.in_flight".into(),
        value: 1,
    };
    let minimal_warning = ConfigWarningNotification {
        summary: "s".into(),
        details: None,
        path: None,
        range: None,
    };
    let notification = ServerNotification::ConfigWarning(config_warning());
    vec![
        ("AbsolutePathBuf", value(&home)),
        ("ClientInfo", value(client_info())),
        ("ClientInfo", json!({"name": "x", "title": null, "version": "1"})),
        ("InitializeCapabilities", value(&capabilities)),
        ("InitializeCapabilities", value(InitializeCapabilities::default())),
        ("InitializeParams", value(&initialize)),
        (
            "InitializeParams",
            value(InitializeParams {
                client_info: client_info(),
                capabilities: None,
            }),
        ),
        (
            "InitializeResponse",
            value(InitializeResponse {
                user_agent: "codex_vscode/0.169.0 (tern 0.1.0; debian 12; x86_64) xterm (codex_vscode; 1.2.3)".into(),
                codex_home: home,
                platform_family: "unix".into(),
                platform_os: "linux".into(),
            }),
        ),
        ("ConfigWarningNotification", value(config_warning())),
        ("ConfigWarningNotification", value(&minimal_warning)),
        ("TextRange", value(config_warning().range)),
        ("TextPosition", value(TextPosition { line: 3, column: 7 })),
        ("ServerDiagnosticsParams", value(ServerDiagnosticsParams {})),
        ("ServerDiagnosticsProcess", value(&process)),
        ("ServerDiagnosticsGauge", value(&gauge)),
        (
            "ServerDiagnosticsResponse",
            value(ServerDiagnosticsResponse {
                gauges: vec![gauge],
                process,
            }),
        ),
        ("MockExperimentalMethodParams", value(MockExperimentalMethodParams { value: Some("v".into()) })),
        ("MockExperimentalMethodResponse", value(MockExperimentalMethodResponse { echoed: None })),
        ("RequestId", json!(7)),
        ("RequestId", json!("seven")),
        ("ClientRequest", json!({"id": 1, "method": "initialize", "params": value(&initialize)})),
        ("ClientRequest", json!({"id": "d", "method": "server/diagnostics", "params": {}})),
        ("ClientRequest", json!({"id": 2, "method": "mock/experimentalMethod", "params": {"value": null}})),
        ("ClientNotification", json!({"method": "initialized"})),
        ("ServerNotification", {
            let mut message = value(NotificationEnvelope {
                notification: &notification,
                emitted_at_ms: 1,
            });
            // Upstream's union describes `{method, params}`; the stamp is checked by the harness.
            message.as_object_mut().unwrap().remove("emittedAtMs");
            message
        }),
    ]
}

#[test]
fn every_shared_definition_has_samples_that_validate_upstream() {
    let upstream = UpstreamSchema::get(true);
    let ours = schema_definitions(true);
    let samples = samples();
    let sampled_types: BTreeSet<&str> = samples.iter().map(|(name, _)| *name).collect();
    let missing: Vec<&String> = ours
        .keys()
        .filter(|name| {
            upstream.definition(name).is_some() && !sampled_types.contains(name.as_str())
        })
        .collect();
    assert!(missing.is_empty(), "add samples for {missing:?}");

    let mut failures = Vec::new();
    for (name, instance) in &samples {
        assert!(ours.contains_key(*name), "{name} is not an exported type");
        if let Err(err) = upstream.validate(name, instance) {
            failures.push(format!("{err:#}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every method and notification we implement exists upstream.
#[test]
fn every_method_exists_upstream_with_the_same_params_type() {
    let upstream = UpstreamSchema::get(true);
    let ours = schema_definitions(true);
    for union in ["ClientRequest", "ServerNotification", "ClientNotification"] {
        for variant in ours[union]["oneOf"].as_array().unwrap() {
            let method = variant["properties"]["method"]["enum"][0].as_str().unwrap();
            let params = variant["properties"]["params"]["$ref"]
                .as_str()
                .map(|r| r.rsplit('/').next().unwrap().to_owned());
            assert_eq!(
                upstream.params_type_of(union, method),
                params,
                "{union} `{method}`: params type differs from upstream"
            );
        }
    }
}

/// Properties of an object schema, following upstream's and schemars' layouts.
fn properties(definition: &Value) -> BTreeSet<String> {
    definition["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn required(definition: &Value) -> BTreeSet<String> {
    definition["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn enum_values(definition: &Value) -> BTreeSet<String> {
    let mut values: BTreeSet<String> = definition["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for variant in definition["oneOf"].as_array().into_iter().flatten() {
        if let Some(value) = variant["const"].as_str().or(variant["enum"][0].as_str()) {
            values.insert(value.to_owned());
        }
    }
    values
}

#[test]
fn wire_names_and_enum_values_match_upstream() {
    let upstream = UpstreamSchema::get(true);
    let mut problems = Vec::new();
    for (name, ours) in schema_definitions(true) {
        // The method unions are compared method by method above.
        if ["ClientRequest", "ServerNotification", "ClientNotification"].contains(&name.as_str()) {
            continue;
        }
        let Some(theirs) = upstream.definition(&name) else {
            continue;
        };
        let (our_props, their_props) = (properties(&ours), properties(theirs));
        for extra in our_props.difference(&their_props) {
            problems.push(format!("{name}.{extra}: not an upstream field"));
        }
        for missing in required(theirs).difference(&our_props) {
            problems.push(format!("{name}.{missing}: required upstream, missing here"));
        }
        for stricter in required(&ours).difference(&required(theirs)) {
            problems.push(format!(
                "{name}.{stricter}: required here, optional upstream"
            ));
        }
        for extra in enum_values(&ours).difference(&enum_values(theirs)) {
            problems.push(format!("{name}: enum value `{extra}` is not upstream's"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
