//! The experimental gate.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::tern;

#[test]
fn experimental_methods_need_the_capability() {
    let mut tern = tern().spawn();
    tern.initialize();
    for method in ["mock/experimentalMethod", "server/diagnostics"] {
        let id = tern.request(method, json!({}));
        assert_eq!(
            tern.error(id),
            json!({"code": -32600, "message": format!("{method} requires experimentalApi capability")})
        );
    }
    // The connection keeps serving.
    let id = tern.request(
        "initialize",
        json!({"clientInfo": {"name": "x", "version": "1"}}),
    );
    assert_eq!(tern.error(id)["message"], "Already initialized");
}

#[test]
fn experimental_methods_work_once_negotiated() {
    let mut tern = tern().spawn();
    tern.initialize_with(json!({"experimentalApi": true}));
    let id = tern.request("mock/experimentalMethod", json!({"value": "ping"}));
    assert_eq!(tern.result(id), json!({"echoed": "ping"}));

    let id = tern.request("server/diagnostics", json!({}));
    let result = tern.result(id);
    assert_eq!(result["process"]["id"], tern.pid());
    assert_eq!(result["process"]["physicalFootprintBytes"], json!(null));
    let rss = result["process"]["residentMemoryBytes"].as_u64().unwrap();
    assert!(rss > 0);
    let gauges: Vec<_> = result["gauges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(
        gauges,
        [
            json!("app.requests.in_flight"),
            json!("app.connections.open")
        ]
    );
    // The diagnostics request itself is in flight while it runs.
    assert_eq!(result["gauges"][0]["value"], 1);
    assert_eq!(result["gauges"][1]["value"], 1);
}
