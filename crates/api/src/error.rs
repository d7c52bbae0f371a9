//! The error body every endpoint answers with, and the one place statuses are chosen.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_domain::{Problem, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// Where in the request a problem is.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum ErrorSource {
    /// A JSON pointer into the body, e.g. `/data/name`.
    Pointer(String),
    /// A query parameter, e.g. `filter[sources]`.
    Parameter(String),
}

/// One problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorObject {
    /// The HTTP status, as a string.
    pub status: String,
    /// The status's reason phrase.
    pub title: String,
    /// What is wrong, in words a user can act on.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub source: Option<ErrorSource>,
}

/// `{"errors": [...]}`: every problem found, not only the first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorObject>,
}

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<(String, Option<ErrorSource>)>,
}

impl ApiError {
    /// One problem with a status.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            errors: vec![(detail.into(), None)],
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A 400 about a query parameter.
    pub fn parameter(parameter: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            errors: vec![(detail.into(), Some(ErrorSource::Parameter(parameter.into())))],
        }
    }

    /// A 400 about a place in the body.
    pub fn pointer(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            errors: vec![(detail.into(), Some(ErrorSource::Pointer(pointer.into())))],
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// Several 400 problems at once; `None` when there are none.
    pub fn from_problems(problems: Vec<Problem>) -> Option<Self> {
        if problems.is_empty() {
            return None;
        }
        Some(ApiError {
            status: StatusCode::BAD_REQUEST,
            errors: problems
                .into_iter()
                .map(|p| (p.detail, p.pointer.map(ErrorSource::Pointer)))
                .collect(),
        })
    }

    /// `Ok` when there are no problems, else one 400 listing them all.
    pub fn check(problems: Vec<Problem>) -> Result<(), ApiError> {
        Self::from_problems(problems).map_or(Ok(()), Err)
    }

    /// Adds the problems of another 400 to this one.
    pub fn merge(mut self, other: ApiError) -> Self {
        self.errors.extend(other.errors);
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// Collects problems so that a request hears about all of them at once.
#[derive(Default)]
pub struct Problems(Option<ApiError>);

impl Problems {
    pub fn add(&mut self, error: ApiError) {
        self.0 = Some(match self.0.take() {
            Some(e) => e.merge(error),
            None => error,
        });
    }

    /// `Err` with every problem, if there was one.
    pub fn finish(self) -> Result<(), ApiError> {
        self.0.map_or(Ok(()), Err)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(format!("{} not found", capitalize(&what))),
            StoreError::Conflict(detail) => ApiError::conflict(capitalize(&detail)),
            StoreError::Invalid(problems) => {
                ApiError::from_problems(problems).unwrap_or_else(|| ApiError::bad_request("the request is not valid"))
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "storage unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable; try again shortly",
                )
            }
            StoreError::Internal(detail) => {
                tracing::error!(error = %detail, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server; it has been logged",
                )
            }
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = ErrorBody {
            errors: self
                .errors
                .into_iter()
                .map(|(detail, source)| ErrorObject {
                    status: self.status.as_u16().to_string(),
                    title: title.clone(),
                    detail,
                    source,
                })
                .collect(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
