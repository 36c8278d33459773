//! The OpenAPI 3 document of the staff API (`openapi.json`, written by hand next to this
//! file) and the test that keeps it true to the route table.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::routes::routes;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    /// `(METHOD, path)` of every operation in the document.
    fn operations() -> Vec<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        let paths = doc["paths"].as_object().expect("paths");
        let mut out = Vec::new();
        for (path, item) in paths {
            for method in METHODS {
                if item.get(method).is_some() {
                    out.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn every_route_is_in_the_document_and_nothing_else() {
        let documented = operations();
        let routed: Vec<(String, String)> = routes()
            .into_iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        let missing: Vec<_> = routed.iter().filter(|r| !documented.contains(r)).collect();
        let extra: Vec<_> = documented.iter().filter(|d| !routed.contains(d)).collect();
        assert!(
            missing.is_empty(),
            "routes missing from openapi.json: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "openapi.json documents routes that do not exist: {extra:?}"
        );
    }

    #[test]
    fn every_operation_has_an_id_a_summary_and_responses() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let mut ids = std::collections::HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let id = op["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path}: operationId"));
                assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
                assert!(op["summary"].is_string(), "{method} {path}: summary");
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}: responses"
                );
                if path.contains("{id}") {
                    let params = serde_json::to_string(&op["parameters"]).unwrap_or_default()
                        + &serde_json::to_string(&item["parameters"]).unwrap_or_default();
                    assert!(
                        params.contains("\"id\""),
                        "{method} {path}: path parameter id"
                    );
                }
            }
        }
    }
}
