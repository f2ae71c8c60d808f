//! The OpenAPI 3.1 document, collected from the handlers by utoipa-actix-web,
//! then completed: the bearer scheme on every non-public operation and the
//! problem+json error responses on every operation.
use crate::error::{FieldError, Problem};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, RefOr, ResponseBuilder, Type};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Assist Market API",
        version = "1.0.0",
        description = "Certified products from poverty-stricken counties for institutional buyers, the consumption-assistance ledger, and unsold-produce alerts.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "The server that serves this document")),
    components(schemas(Problem, FieldError, crate::domain::ReportFormat, crate::domain::TraceFormat)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Log in, refresh and revoke tokens; the caller's identity"),
        (name = "organizations", description = "Buyers, suppliers, county offices and evaluators, and their users"),
        (name = "regions", description = "GB/T 2260 regions and their poverty status"),
        (name = "products", description = "Products, their certification, lots and stock"),
        (name = "catalog", description = "The public catalogue of certified products"),
        (name = "orders", description = "Bulk orders, supplier orders and their lifecycle, returns and ratings"),
        (name = "agreements", description = "Standing purchase agreements"),
        (name = "ledger", description = "The hash-chained consumption-assistance ledger"),
        (name = "quotas", description = "Buyers' yearly quotas and the reserved-share floor"),
        (name = "pairings", description = "Pairings of helper organisations with helped counties"),
        (name = "reconciliations", description = "Reconciliation statements of a pairing's year"),
        (name = "reports", description = "Summary reports (JSON, CSV, XLSX) and the OCDS release package"),
        (name = "alerts", description = "Unsold-produce alerts, their rules and pledges"),
        (name = "outbox", description = "Outgoing email: what failed to send, and sending it again (admin)"),
        (name = "audit", description = "The append-only audit log of security events"),
        (name = "payments", description = "Invoices, payments against supplier orders, and the ageing report"),
        (name = "documents", description = "Suppliers' licences and the expiry of documents and certificates"),
        (name = "scorecards", description = "Supplier scorecards: delivery, acceptance, returns, ratings, pledges, documents"),
    )
)]
pub struct ApiDoc;

/// Paths callable without a token.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/api/v1/auth/login" | "/api/v1/auth/refresh"
    ) || path.starts_with("/api/v1/catalog")
        || path.starts_with("/api/v1/regions") && !path.contains("{code}")
        || path == "/api/v1/regions/{code}"
        || matches!(
            path,
            "/api/v1/ledger/checkpoint"
                | "/api/v1/ledger/checkpoints"
                | "/api/v1/ledger/verifier-key"
                | "/api/v1/ledger/consistency"
        )
}

/// The complete document, exactly as served at `/api-docs/openapi.json`.
pub fn document() -> Doc {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::health::configure)
        .service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::api_v1))
        .split_for_parts();
    finish(api)
}

fn problem_response(desc: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(desc)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn finish(mut api: Doc) -> Doc {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer_auth",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    for (name, description) in SHARED_HEADERS {
        components
            .headers
            .insert(name.to_string(), string_header(description).into());
    }
    // Lists: the schemas whose objects carry a `next_cursor` (answered with `Link`).
    let pages: std::collections::BTreeSet<String> = components
        .schemas
        .iter()
        .filter(|(_, s)| match s {
            RefOr::T(utoipa::openapi::schema::Schema::Object(o)) => o.properties.contains_key("next_cursor"),
            _ => false,
        })
        .map(|(name, _)| name.clone())
        .collect();
    let put_regions_public = false;
    for (path, item) in api.paths.paths.iter_mut() {
        let ops: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let public = is_public(path) && (method == "get" || put_regions_public || path.contains("/auth/"));
            // Public operations carry no `security` (not even `[{}]`, which generators such as
            // openapi-python-client read as "needs a token"); redocly.yaml lists them.
            if !public {
                op.security = Some(vec![SecurityRequirement::new("bearer_auth", Vec::<String>::new())]);
            }
            // Any URL the middleware refuses (a NUL in it, say) is a 400, probes included; so is
            // a query parameter that does not parse (named in `errors`).
            let has_query = op.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query),
                RefOr::Ref(_) => false,
            });
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, desc: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| problem_response(desc).into());
            };
            add(
                "400",
                if has_query {
                    "Malformed request: a query parameter that does not parse (`errors` names it), bad JSON, a bad header or URL"
                } else {
                    "Malformed request (bad JSON, query, header or URL)"
                },
            );
            if path.starts_with("/api/v1") {
                if method != "get" {
                    add("415", "The body is not application/json");
                    add("413", "The body is too large");
                }
                add("422", "Validation failed; `errors` names each field");
                if !public {
                    add("401", "Missing, invalid, expired or revoked token");
                    add(
                        "403",
                        "The caller's role may not do this, or its organisation is suspended",
                    );
                }
                if path.contains('{') {
                    add("404", "No such resource, or not the caller's to see");
                }
            }
            add("500", "Unexpected error (logged)");
            if method == "get" && path.starts_with("/api/v1") {
                conditional_get(op, &pages);
            }
            if path == "/api/v1/auth/login" {
                for response in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = response {
                        for name in ["RateLimit-Policy", "RateLimit"] {
                            r.headers.entry(name.to_string()).or_insert_with(|| shared_header(name));
                        }
                    }
                }
            }
            let responses = &mut op.responses.responses;
            for (code, response) in responses.iter_mut() {
                if let RefOr::T(response) = response {
                    complete_response(code, response);
                }
            }
        }
    }
    api
}

/// A read answers with `ETag` (and `Link` when it is a page of a list), and a 304 to a
/// matching `If-None-Match`.
fn conditional_get(op: &mut Operation, pages: &std::collections::BTreeSet<String>) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::Required;
    let params = op.parameters.get_or_insert_with(Vec::new);
    let named = |p: &RefOr<utoipa::openapi::path::Parameter>| match p {
        RefOr::T(p) => p.name.eq_ignore_ascii_case("If-None-Match"),
        RefOr::Ref(_) => false,
    };
    if !params.iter().any(named) {
        params.push(
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("An `ETag` from an earlier answer: 304 when it still matches"))
                .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::String)))
                .build()
                .into(),
        );
    }
    let responses = &mut op.responses.responses;
    let Some(RefOr::T(ok)) = responses.get_mut("200") else {
        return;
    };
    let is_page = ok.content.get("application/json").is_some_and(|c| match c {
        RefOr::T(c) => match &c.schema {
            Some(RefOr::Ref(r)) => pages.iter().any(|p| r.ref_location.ends_with(&format!("/{p}"))),
            _ => false,
        },
        RefOr::Ref(_) => false,
    });
    // The same test as the middleware's (`conventions::representation`): JSON Lines too.
    if !ok.content.keys().any(|k| k.starts_with("application/json")) {
        return;
    }
    ok.headers
        .entry("ETag".to_string())
        .or_insert_with(|| shared_header("ETag"));
    if is_page {
        ok.headers
            .entry("Link".to_string())
            .or_insert_with(|| shared_header("Link"));
    }
    responses.entry("304".to_string()).or_insert_with(|| {
        ResponseBuilder::new()
            .description(default_description("304"))
            .build()
            .into()
    });
}

/// What a status means when a handler's attribute does not say more.
fn default_description(code: &str) -> &'static str {
    match code {
        "200" => "OK",
        "201" => "Created; `Location` names the new resource",
        "204" => "Done; no content",
        "304" => "Not modified since the `ETag` given in `If-None-Match`",
        "400" => "Malformed request",
        "401" => "Missing, invalid, expired or revoked token",
        "403" => "The caller may not do this",
        "404" => "No such resource, or not the caller's to see",
        "409" => "The resource's current state does not allow this",
        "412" => "`If-Match` no longer matches the resource's `ETag`",
        "422" => "Validation failed; `errors` names each field",
        "428" => "This request requires `If-Match`",
        "429" => "Too many requests; see `Retry-After`",
        "503" => "Temporarily unavailable; retry later",
        _ => "Unexpected error",
    }
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// Headers many responses carry, declared once under `components/headers`.
const SHARED_HEADERS: [(&str, &str); 7] = [
    ("Location", "The URL of the new resource"),
    (
        "ETag",
        "The representation's tag: send it back in `If-None-Match` for a 304, or in `If-Match` to update",
    ),
    (
        "Link",
        "RFC 8288 `<url>; rel=\"next\"` to the next page, when there is one",
    ),
    (
        "RateLimit-Policy",
        "The failed-login allowances (draft-ietf-httpapi-ratelimit-headers-09)",
    ),
    (
        "RateLimit",
        "What is left of the failed-login allowances (draft-ietf-httpapi-ratelimit-headers-09)",
    ),
    ("Retry-After", "Seconds to wait before trying again"),
    (
        "X-Request-Id",
        "The request's id, as written in the logs and in problems: the caller's `X-Request-Id` when it is a sane token, else generated",
    ),
];

fn shared_header(name: &str) -> RefOr<utoipa::openapi::header::Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

/// Every response described; every error a problem+json; the headers every
/// response of its kind carries.
fn complete_response(code: &str, response: &mut utoipa::openapi::Response) {
    if response.description.trim().is_empty() {
        response.description = default_description(code).to_string();
    }
    let is_error = code.starts_with('4') || code.starts_with('5');
    if is_error && response.content.is_empty() {
        response.content.insert(
            "application/problem+json".to_string(),
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
                .into(),
        );
    }
    let mut add = |name: &str| {
        response
            .headers
            .entry(name.to_string())
            .or_insert_with(|| shared_header(name));
    };
    if code == "201" {
        add("Location");
    }
    if code == "429" {
        add("Retry-After");
    }
    add("X-Request-Id");
}
