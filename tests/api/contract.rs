//! The OpenAPI document is a contract clients are generated from: every
//! operation has a unique, verb-first operationId, every response a
//! description, every error a problem+json, and every header it answers with
//! declared. (The validators themselves run once in `tests/run`.)
use serde_json::Value;
use std::collections::BTreeMap;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Verbs an operationId may start with: what the caller does, not what the handler is named.
const VERBS: &[&str] = &[
    "accept",
    "acknowledge",
    "add",
    "adjust",
    "approve",
    "cancel",
    "certify",
    "check",
    "confirm",
    "create",
    "deactivate",
    "delete",
    "deliver",
    "dismiss",
    "get",
    "list",
    "login",
    "logout",
    "place",
    "pledge",
    "rate",
    "refresh",
    "reinstate",
    "reject",
    "report",
    "resolve",
    "retry",
    "return",
    "revoke",
    "run",
    "scan",
    "search",
    "set",
    "ship",
    "submit",
    "suspend",
    "update",
    "verify",
    "withdraw",
];

fn document() -> Value {
    serde_json::to_value(assist_market::openapi::document()).expect("doc")
}

/// (method, path, operation) for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_string(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn verb_of(id: &str) -> &str {
    let end = id.find(|c: char| c.is_ascii_uppercase()).unwrap_or(id.len());
    &id[..end]
}

#[test]
fn operation_ids_are_unique_camel_case_and_verb_first() {
    let doc = document();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bad = Vec::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{} {path}", method.to_uppercase());
        let Some(id) = op["operationId"].as_str() else {
            bad.push(format!("{at}: no operationId"));
            continue;
        };
        let camel =
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && id.chars().all(|c| c.is_ascii_alphanumeric());
        if !camel {
            bad.push(format!("{at}: `{id}` is not lowerCamelCase"));
        }
        if !VERBS.contains(&verb_of(id)) {
            bad.push(format!("{at}: `{id}` does not start with a verb of {VERBS:?}"));
        }
        seen.entry(id.to_string()).or_default().push(at);
    }
    for (id, ats) in &seen {
        if ats.len() > 1 {
            bad.push(format!("`{id}` is used by {ats:?}"));
        }
    }
    assert!(bad.is_empty(), "operationIds:\n{}", bad.join("\n"));
    assert!(
        seen.contains_key("placeOrder")
            && seen.contains_key("acceptSupplierOrder")
            && seen.contains_key("listProducts")
    );
}

#[test]
fn every_response_is_described_and_every_error_is_a_problem() {
    let doc = document();
    let mut bad = Vec::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{} {path}", method.to_uppercase());
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{at} has no responses");
        for (code, r) in responses {
            if r["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                bad.push(format!("{at} {code}: no description"));
            }
            let is_error = code.starts_with('4') || code.starts_with('5');
            // readyz answers its own health body with its 503.
            if is_error && path != "/readyz" {
                let schema = &r["content"]["application/problem+json"]["schema"]["$ref"];
                if schema != "#/components/schemas/Problem" {
                    bad.push(format!(
                        "{at} {code}: not application/problem+json with the Problem schema"
                    ));
                }
            }
            if r["headers"]["X-Request-Id"].is_null() {
                bad.push(format!("{at} {code}: X-Request-Id not declared"));
            }
        }
    }
    assert!(bad.is_empty(), "responses:\n{}", bad.join("\n"));
    // One Problem schema, with field problems in `errors[]`.
    let problem = &doc["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["errors"].is_object(), "{problem}");
}

#[test]
fn headers_are_declared_where_they_apply() {
    let doc = document();
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();
    let header_param = |op: &Value, name: &str| -> Option<Value> {
        op["parameters"]
            .as_array()?
            .iter()
            .find(|p| p["in"] == "header" && p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .cloned()
    };
    // Every 201 names its new resource.
    for (method, path, o) in operations(&doc) {
        if let Some(created) = o["responses"].get("201") {
            assert!(
                created["headers"]["Location"].is_object(),
                "{method} {path}: 201 without Location"
            );
        }
    }
    let place = op("post", "/api/v1/orders");
    assert_eq!(
        header_param(&place, "Idempotency-Key").expect("Idempotency-Key")["required"],
        true
    );
    assert!(place["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    let pledge = op("post", "/api/v1/alerts/{id}/pledges");
    assert_eq!(
        header_param(&pledge, "Idempotency-Key").expect("Idempotency-Key")["required"],
        true
    );
    let patch = op("patch", "/api/v1/products/{id}");
    assert_eq!(header_param(&patch, "If-Match").expect("If-Match")["required"], true);
    assert!(patch["responses"]["200"]["headers"]["ETag"].is_object());
    assert!(op("get", "/api/v1/products/{id}")["responses"]["200"]["headers"]["ETag"].is_object());
    let put_quota = op("put", "/api/v1/buyers/{org_id}/quotas/{year}");
    let if_match = header_param(&put_quota, "If-Match").expect("If-Match on quotas");
    assert_ne!(if_match["required"], true, "If-Match is needed only to replace a quota");
    assert!(put_quota["responses"]["428"].is_object());
    assert!(op("get", "/api/v1/buyers/{org_id}/quotas/{year}")["responses"]["200"]["headers"]["ETag"].is_object());
    let login = op("post", "/api/v1/auth/login");
    assert!(login["responses"]["429"]["headers"]["Retry-After"].is_object());
}

#[test]
fn bodies_and_media_types_are_as_the_routes_take_and_answer_them() {
    let doc = document();
    for action in ["confirm", "reject", "ship", "deliver", "cancel"] {
        let path = format!("/api/v1/supplier-orders/{{id}}/{action}");
        let body = &doc["paths"][&path]["post"]["requestBody"];
        assert!(body.is_object(), "{path} documents its optional note");
        assert_ne!(body["required"], true, "{path}: the note is optional");
    }
    let accept = &doc["paths"]["/api/v1/supplier-orders/{id}/accept"]["post"]["requestBody"];
    assert_eq!(accept["required"], true);
    // The purchase flow's bodies carry examples (redocly lint checks them against their schemas).
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/products"),
        ("post", "/api/v1/orders"),
        ("post", "/api/v1/supplier-orders/{id}/accept"),
    ] {
        let example = &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["example"];
        assert!(example.is_object(), "{method} {path} has no example");
    }
    let ok = &doc["paths"]["/api/v1/reports/summary"]["get"]["responses"]["200"]["content"];
    for media in [
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ] {
        assert!(ok.get(media).is_some(), "the summary's 200 lacks {media}: {ok}");
    }
}

#[test]
fn the_public_operations_are_exactly_those_redocly_yaml_exempts() {
    let doc = document();
    let config =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../redocly.yaml")).expect("redocly.yaml");
    let mut exempt = Vec::new();
    let mut path = None;
    for line in config.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("- path: ") {
            path = Some(p.to_string());
        } else if let (Some(m), Some(p)) = (line.strip_prefix("methods: ["), path.take()) {
            for method in m.trim_end_matches(']').split(',') {
                exempt.push(format!("{} {p}", method.trim()));
            }
        }
    }
    exempt.sort();
    let mut public: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| op["security"].is_null())
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    public.sort();
    assert_eq!(
        public, exempt,
        "operations without `security` vs the exceptions of redocly.yaml"
    );
}

#[test]
fn conditional_reads_pages_and_login_limits_are_declared() {
    let doc = document();
    let has_header = |resp: &Value, name: &str| resp["headers"].get(name).is_some();
    for (path, method, op) in operations(&doc) {
        if method != "get" || !path.starts_with("/api/v1") {
            continue;
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "If-None-Match" && p["in"] == "header"),
            "GET {path} declares no If-None-Match"
        );
        assert!(op["responses"].get("304").is_some(), "GET {path} declares no 304");
        let ok = &op["responses"]["200"];
        if ok["content"].get("application/json").is_some() {
            assert!(has_header(ok, "ETag"), "GET {path} 200 declares no ETag");
        }
        let schema = ok["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or("");
        let name = schema.rsplit('/').next().unwrap_or("");
        let is_page = doc["components"]["schemas"][name]["properties"]
            .get("next_cursor")
            .is_some();
        if is_page {
            assert!(has_header(ok, "Link"), "GET {path} is a list but declares no Link");
        }
    }
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
    for code in ["200", "401", "429"] {
        for h in ["RateLimit-Policy", "RateLimit"] {
            assert!(has_header(&login[code], h), "login {code} declares no {h}");
        }
    }
}
