//! The house rules that keep the domain typed: every vocabulary is an `enum` in
//! the OpenAPI document with the Rust enum's values, services bind states
//! instead of quoting them, no field is documented as a bare string where it is
//! not free text, and files stay small enough to read in one sitting.
use assist_market::domain::vocab;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn document() -> Value {
    serde_json::to_value(assist_market::openapi::document()).expect("doc")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn source(sub: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            (p, text)
        })
        .collect()
}

/// The `enum` of a schema, following one `$ref` and `oneOf`/`anyOf` wrappers (nullable).
fn enum_of<'a>(doc: &'a Value, schema: &'a Value) -> Option<Vec<String>> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next()?;
        return enum_of(doc, &doc["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array) {
            if let Some(e) = items.iter().find_map(|s| enum_of(doc, s)) {
                return Some(e);
            }
        }
    }
    if let Some(items) = schema.get("items") {
        return enum_of(doc, items);
    }
    let values = schema.get("enum")?.as_array()?;
    Some(values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

/// A string schema (nullable or not) with no `enum` and no reference.
fn is_bare_string(schema: &Value) -> bool {
    let ty = &schema["type"];
    let string = ty == "string" || ty.as_array().is_some_and(|a| a.iter().any(|t| t == "string"));
    string && schema.get("enum").is_none()
}

#[test]
fn every_vocabulary_in_the_document_is_the_rust_enum() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut found = 0;
    for (name, values) in vocab::all() {
        if let Some(schema) = schemas.get(name) {
            let got = enum_of(&doc, schema).unwrap_or_else(|| panic!("{name} is not an enum in the document"));
            assert_eq!(got, values, "{name}: the document's enum differs from the Rust enum");
            found += 1;
        }
    }
    assert!(found >= 15, "only {found} vocabularies are in the document");

    // Every property or parameter that carries a vocabulary is an enum.
    let vocab_fields = [
        "status",
        "kind",
        "level",
        "category",
        "unit",
        "credit_category",
        "poverty_status",
        "origin_poverty_status",
        "role",
        "group_by",
        "format",
    ];
    let mut bare = Vec::new();
    for (name, schema) in schemas {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (field, prop) in props {
                if vocab_fields.contains(&field.as_str()) && is_bare_string(prop) {
                    bare.push(format!("{name}.{field}"));
                }
            }
        }
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            for p in op.get("parameters").and_then(Value::as_array).into_iter().flatten() {
                let field = p["name"].as_str().unwrap_or("");
                if vocab_fields.contains(&field) && is_bare_string(&p["schema"]) {
                    bare.push(format!("{method} {path} ?{field}"));
                }
            }
        }
    }
    assert!(bare.is_empty(), "vocabularies documented as bare strings: {bare:?}");
}

#[test]
fn services_bind_states_instead_of_quoting_them() {
    let states: Vec<&str> = vocab::all()
        .into_iter()
        // States, not classifications such as a county's poverty status.
        .filter(|(name, _)| name.ends_with("Status") && *name != "PovertyStatus")
        .flat_map(|(_, values)| values)
        .collect();
    let mut quoted = Vec::new();
    for sub in ["services", "jobs"] {
        for (path, text) in source(sub) {
            // The OCDS export speaks the OCDS codelists, another standard's vocabulary.
            if path.ends_with("ocds.rs") {
                continue;
            }
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                // In SQL text a state is single-quoted; in Rust it is a string compared or stored.
                let rust_use = |q: &str| {
                    ["==", "!=", "Set(", "=> ", "matches!"]
                        .iter()
                        .any(|op| line.contains(op))
                        || line.contains(&format!("{q}.into()"))
                        || line.contains(&format!("{q}.to_string()"))
                };
                for s in &states {
                    let dq = format!("\"{s}\"");
                    if line.contains(&format!("'{s}'")) || (line.contains(&dq) && rust_use(&dq)) {
                        quoted.push(format!("{}:{}: {s}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        quoted.is_empty(),
        "states quoted in services (bind the enum instead):\n{}",
        quoted.join("\n")
    );
}

#[test]
fn no_amount_id_or_vocabulary_is_documented_as_a_bare_string() {
    let mut found = Vec::new();
    for (path, text) in source("") {
        for (n, line) in text.lines().enumerate() {
            if line.contains("value_type = String") || line.contains("value_type = Option<String>") {
                found.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "value_type = String outside free text:\n{}",
        found.join("\n")
    );
}

#[test]
fn source_files_stay_readable_in_one_sitting() {
    let long: Vec<String> = source("")
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 450)
        .map(|(p, text)| format!("{} ({} lines)", p.display(), text.lines().count()))
        .collect();
    assert!(long.is_empty(), "files over 450 lines: {long:?}");
}

/// Two types documented under one name: utoipa keeps one of them, and every route of the
/// other is then documented with the wrong body (as `ScanSummary` of alerts and of flags once
/// were, which schemathesis found).
#[test]
fn no_two_documented_types_share_a_name() {
    let mut seen: std::collections::HashMap<String, PathBuf> = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for (path, text) in source("") {
        let mut derived = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("ToSchema") {
                derived = true;
            } else if derived && (line.starts_with("pub struct ") || line.starts_with("pub enum ")) {
                derived = false;
                let name = line.split_whitespace().nth(2).unwrap_or("");
                let name: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if let Some(first) = seen.insert(name.clone(), path.clone()) {
                    clashes.push(format!("{name}: {} and {}", first.display(), path.display()));
                }
            } else if derived && !line.starts_with("#[") && !line.starts_with("///") {
                derived = false;
            }
        }
    }
    assert!(clashes.is_empty(), "documented twice: {clashes:#?}");
}
