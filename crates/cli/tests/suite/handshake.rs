//! The `initialize` handshake and per-connection capabilities.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;

use tern_test_support::{DEFAULT_TIMEOUT, Received};

use super::tern;

#[test]
fn initialize_answers_with_home_platform_and_a_parseable_user_agent() {
    let mut tern = tern().env("TERM", "xterm-256color").spawn();
    let result = tern.initialize();
    let user_agent = result["userAgent"].as_str().unwrap();
    // SDKs read the version between the first `/` and the first space.
    let version = user_agent
        .strip_prefix("tern-tests/")
        .and_then(|rest| rest.split(' ').next())
        .unwrap();
    assert_eq!(version, "0.169.0");
    assert!(
        user_agent.contains(&format!("(tern {};", env!("CARGO_PKG_VERSION"))),
        "{user_agent}"
    );
    assert!(
        user_agent.ends_with(" xterm-256color (tern-tests; 0.0.1)"),
        "{user_agent}"
    );
    assert_eq!(
        result,
        json!({
            "userAgent": user_agent,
            "codexHome": tern.home().to_str().unwrap(),
            "platformFamily": "unix",
            "platformOs": "linux",
        })
    );
    tern.send(&json!({"method": "initialized"}));
    tern.assert_silent(Duration::from_millis(200));
}

#[test]
fn requests_before_initialize_fail_and_work_after_it() {
    let mut tern = tern().spawn();
    let id = tern.request("mock/experimentalMethod", json!({"value": "early"}));
    assert_eq!(
        tern.error(id),
        json!({"code": -32600, "message": "Not initialized"})
    );
    tern.initialize_with(json!({"experimentalApi": true}));
    let id = tern.request("mock/experimentalMethod", json!({"value": "late"}));
    assert_eq!(tern.result(id), json!({"echoed": "late"}));
}

#[test]
fn a_request_pipelined_behind_initialize_sees_the_initialized_connection() {
    let mut tern = tern().spawn();
    // Both lines in one write: the second must not race the handshake.
    tern.send_line(concat!(
        r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"x","version":"1"},"capabilities":{"experimentalApi":true}}}"#,
        "\n",
        r#"{"id":2,"method":"mock/experimentalMethod","params":{"value":"right behind"}}"#,
    ));
    assert_eq!(tern.response(2), Ok(json!({"echoed": "right behind"})));
}

#[test]
fn the_config_warning_comes_right_after_the_initialize_result() {
    let mut tern = tern().config_toml("bogus_key = 1\n").spawn();
    tern.send(&json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "x", "version": "1"}}}));
    assert!(matches!(tern.next_message(DEFAULT_TIMEOUT), Received::Result { id, .. } if id == 1));
    assert!(matches!(
        tern.next_message(DEFAULT_TIMEOUT),
        Received::Notification { method, .. } if method == "configWarning"
    ));
    tern.assert_silent(Duration::from_millis(200));
}

#[test]
fn a_second_initialize_fails_and_keeps_the_first_capabilities() {
    let mut tern = tern().spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let id = tern.request(
        "initialize",
        json!({"clientInfo": {"name": "other", "version": "2"}, "capabilities": {"experimentalApi": false}}),
    );
    assert_eq!(
        tern.error(id),
        json!({"code": -32600, "message": "Already initialized"})
    );
    let id = tern.request("mock/experimentalMethod", json!({"value": "still"}));
    assert_eq!(tern.result(id), json!({"echoed": "still"}));
}

#[test]
fn ids_are_echoed_verbatim_with_their_json_type() {
    let mut tern = tern().spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    for id in [
        json!("abc"),
        json!(-5),
        json!(9_007_199_254_740_993_i64),
        json!(0),
        json!(""),
    ] {
        tern.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "mock/experimentalMethod", "params": {}}),
        );
        assert_eq!(tern.result(id.clone()), json!({"echoed": null}), "id {id}");
    }
}

#[test]
fn absent_or_null_params_and_unknown_fields_are_accepted() {
    let mut tern = tern().spawn();
    tern.send(&json!({
        "id": 1,
        "method": "initialize",
        "params": {
            "clientInfo": {"name": "x", "version": "1", "title": null, "bogus": true},
            "capabilities": {"experimentalApi": true, "optOutNotificationMethods": null, "requestAttestation": null},
            "bogusField": 1,
        },
    }));
    tern.result(1);
    tern.send_line(r#"{"id":2,"method":"server/diagnostics"}"#);
    tern.result(2);
    tern.send_line(r#"{"id":3,"method":"mock/experimentalMethod","params":null}"#);
    assert_eq!(tern.result(3), json!({"echoed": null}));
}

#[test]
fn opt_out_suppresses_exactly_the_named_notifications() {
    let config = "bogus_key = 1\n";
    // Without opting out, the config warning arrives after the initialize result.
    let mut tern = tern().config_toml(config).spawn();
    tern.initialize_with(json!({"optOutNotificationMethods": ["configWarnin", "thread/started"]}));
    tern.notification("configWarning");

    let mut tern = super::tern().config_toml(config).spawn();
    tern.initialize_with(json!({"optOutNotificationMethods": ["configWarning"]}));
    tern.assert_silent(Duration::from_millis(300));
}
