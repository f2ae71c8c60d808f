//! The OpenAPI 3.1 document, collected from the handlers by utoipa-actix-web,
//! then completed: the bearer scheme on every non-public operation and the
//! problem+json error responses on every operation.
use crate::error::{FieldError, Problem};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, ResponseBuilder};
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
    components(schemas(Problem, FieldError, crate::domain::ReportFormat)),
    tags(
        (name = "health"), (name = "auth"), (name = "organizations"), (name = "regions"), (name = "products"),
        (name = "catalog"), (name = "orders"), (name = "agreements"), (name = "ledger"), (name = "quotas"),
        (name = "pairings"), (name = "reconciliations"), (name = "reports"), (name = "alerts"),
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
            if !public {
                op.security = Some(vec![SecurityRequirement::new("bearer_auth", Vec::<String>::new())]);
            }
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, desc: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| problem_response(desc).into());
            };
            if path.starts_with("/api/v1") {
                add("400", "Malformed request (bad JSON, query or header)");
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
        }
    }
    api
}
