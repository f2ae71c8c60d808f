//! One error type for the whole service, rendered as RFC 9457 problem+json.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// This occurrence: `urn:request:` and the response's `X-Request-Id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the resource changed since it was read (If-Match does not match its ETag)")]
    PreconditionFailed,
    #[error("this update requires an If-Match header with the resource's ETag")]
    PreconditionRequired,
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    /// A query string that does not parse: 400 naming each parameter in `errors`.
    #[error("{detail}")]
    BadQuery { detail: String, errors: Vec<FieldError> },
    #[error("too many requests; retry in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 422 naming a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let fe = FieldError::new(field, message);
        AppError::Validation {
            detail: format!("{}: {}", fe.field, fe.message),
            errors: vec![fe],
        }
    }

    /// A 422 with every invalid field; `Ok(())` when `errors` is empty.
    pub fn check(errors: Vec<FieldError>) -> AppResult<()> {
        if errors.is_empty() {
            return Ok(());
        }
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(AppError::Validation { detail, errors })
    }

    /// A 400 naming a query parameter that does not parse.
    pub fn query_param(name: impl Into<String>, message: impl Into<String>) -> Self {
        let fe = FieldError::new(name, message);
        AppError::BadQuery {
            detail: format!("query parameter `{}`: {}", fe.field, fe.message),
            errors: vec![fe],
        }
    }

    /// As `check`, for the parameters of a query string: a 400 naming each.
    pub fn check_query(errors: Vec<FieldError>) -> AppResult<()> {
        match AppError::check(errors) {
            Err(AppError::Validation { detail, errors }) => Err(AppError::BadQuery { detail, errors }),
            other => other,
        }
    }

    /// A 422 for an amount that could not be taken (grammar, sign or bound).
    pub fn amount(field: impl Into<String>, e: crate::domain::AmountError) -> Self {
        AppError::field(field, e.to_string())
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    fn slug(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad-request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not-found",
            AppError::Conflict(_) => "conflict",
            AppError::PreconditionFailed => "precondition-failed",
            AppError::PreconditionRequired => "precondition-required",
            AppError::Validation { .. } => "validation",
            AppError::BadQuery { .. } => "bad-query",
            AppError::TooManyRequests { .. } => "too-many-requests",
            AppError::PayloadTooLarge => "payload-too-large",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::MethodNotAllowed => "method-not-allowed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let detail = match self {
            AppError::Internal(_) => "an unexpected error occurred; it has been logged".to_string(),
            other => other.to_string(),
        };
        Problem {
            type_: format!("https://assist-market.local/problems/{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            errors: match self {
                AppError::Validation { errors, .. } | AppError::BadQuery { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
            instance: crate::conventions::problem_instance(),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::infra::db::is_acquire_timeout(&e) {
            crate::infra::pool_wait::acquire_timed_out();
        }
        if crate::infra::db::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            return AppError::Unavailable("the database cannot be reached; retry shortly".into());
        }
        AppError::Internal(format!("database: {e}"))
    }
}

/// Seconds a client is asked to wait after a 503 (`Retry-After`).
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadQuery { .. } => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(msg) = self {
            tracing::error!(error = %msg, "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let AppError::TooManyRequests { retry_after } = self {
            resp.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if matches!(self, AppError::Unavailable(_)) {
            resp.insert_header((header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE_SECS.to_string()));
        }
        if matches!(self, AppError::Unauthorized(_)) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(self.problem())
    }
}

/// Maps actix's body/query/path extractor errors to problem+json.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let app = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::PayloadTooLarge,
        J::ContentType => AppError::UnsupportedMediaType("expected application/json".into()),
        J::Deserialize(e) => {
            if e.is_data() {
                let msg = e.to_string();
                let field = field_from_serde(&msg);
                AppError::Validation {
                    detail: msg.clone(),
                    errors: vec![FieldError::new(field, msg)],
                }
            } else {
                AppError::BadRequest(format!("malformed JSON: {e}"))
            }
        }
        other => AppError::BadRequest(format!("could not read the body: {other}")),
    };
    app.into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    AppError::BadRequest(format!("invalid query string: {err}")).into()
}

pub fn path_error(err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    AppError::NotFound(match err {
        actix_web::error::PathError::Deserialize(_) => "resource",
        _ => "resource",
    })
    .into()
}

/// serde messages look like "unknown variant `x`, expected ... at line 1 column 20" or
/// "missing field `name` at ..."; pull out the field name when there is one.
fn field_from_serde(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some(end) = rest.find('`') {
            return rest[..end].to_string();
        }
    }
    "body".to_string()
}
