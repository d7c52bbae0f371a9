//! Cairn's HTTP API: `/api/v2`, the `/private` compatibility paths, the probes and the
//! OpenAPI document.
//!
//! This crate is the only one that knows HTTP and the JSON wire shapes. Handlers parse
//! requests into domain values, call the store, and render domain results as DTOs; every
//! convention of the API (errors, envelopes, list parameters, URLs, auth) lives in one
//! module here and no handler re-implements it.

pub mod auth;
pub mod body;
pub mod envelope;
pub mod error;
pub mod links;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod query;
pub mod routes;
pub mod state;

pub use state::{ApiConfig, AppState};

use axum::body::Body;
use axum::http::{header, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::ApiError;
use routes::{
    attachments, entities, groups, observables, ops, permissions, private, relationships, roles, sources, taxonomies,
    tokens, users,
};
use std::sync::Arc;
use tower::util::MapRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The whole HTTP application, ready to serve (trailing slashes already tolerated).
pub type App = MapRequest<Router, fn(Request<Body>) -> Request<Body>>;

/// Builds the application over a state.
pub fn app(state: AppState) -> App {
    MapRequest::new(router(state), middleware::trim_trailing_slash::<Body> as fn(_) -> _)
}

/// The routes, with the OpenAPI document they generate served beside them.
pub fn router(state: AppState) -> Router {
    let (routes, mut api) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(sources::list))
        .routes(routes!(sources::get, sources::patch))
        .routes(routes!(permissions::list))
        .routes(routes!(permissions::get))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::patch, roles::delete))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::patch, groups::delete))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::me))
        .routes(routes!(users::get, users::patch, users::delete))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(entities::list, entities::create, entities::put))
        .routes(routes!(entities::get, entities::patch, entities::delete))
        .routes(routes!(attachments::upload))
        .routes(routes!(attachments::get))
        .routes(routes!(attachments::download))
        .routes(routes!(attachments::private_download))
        .routes(routes!(observables::list, observables::create, observables::put))
        .routes(routes!(observables::get, observables::patch, observables::delete))
        .routes(routes!(relationships::list, relationships::create, relationships::put))
        .routes(routes!(relationships::get, relationships::patch, relationships::delete))
        .routes(routes!(taxonomies::list, taxonomies::create))
        .routes(routes!(taxonomies::get, taxonomies::patch, taxonomies::delete))
        .routes(routes!(taxonomies::tags))
        .routes(routes!(private::root))
        .routes(routes!(private::groups))
        .routes(routes!(private::status))
        .split_for_parts();
    openapi::finish(&mut api);
    let document: Arc<str> = openapi::document(&api).into();
    routes
        .route(
            "/api/v2/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], document.to_string()).into_response() }
            }),
        )
        .route("/api/v2/docs", get(docs))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Our extractors enforce their own limits; axum's own (multipart) allows an attachment.
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.attachment_limit.saturating_add(1 << 20),
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

async fn docs() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            ),
        ],
        openapi::DOCS_HTML,
    )
        .into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("There is no endpoint {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}", uri.path()),
    )
}
