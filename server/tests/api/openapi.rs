//! The OpenAPI document is checked in at docs/openapi.json; this fails when it is stale.
//! Refresh it with `UPDATE_OPENAPI=1 cargo test -p nuvem-server --test api openapi`.

#[test]
fn openapi_document_is_checked_in_and_current() {
    let generated = nuvem_server::http::openapi_json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p nuvem-server --test api openapi` and commit it"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_and_a_summary() {
    let doc: serde_json::Value = serde_json::from_str(&nuvem_server::http::openapi_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for field in ["operationId", "tags", "summary"] {
                assert!(op.get(field).is_some(), "{method} {path} has no {field}");
            }
        }
    }
}
