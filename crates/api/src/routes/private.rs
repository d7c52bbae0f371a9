//! `/private`: the older paths integrations in "v2 mode" still call.

use crate::auth::Caller;
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::ApiError;
use crate::query;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cairn_domain::identity::GROUP_SPEC;
use cairn_domain::permission::Permission;
use serde::Serialize;
use utoipa::ToSchema;

/// Who the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialCheck {
    pub username: String,
}

/// A group as `/private/groups` shows it: `source` is the bare source id, which clients put
/// into `sources: [{"source_id": …}]`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivateGroupDto {
    pub id: i64,
    pub name: String,
    #[schema(format = Uuid)]
    pub source: String,
}

/// Health as clients poll it.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusDto {
    /// `GREEN` when every service is up, else `RED`.
    pub health: &'static str,
    pub service_states: Vec<ServiceState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceState {
    pub name: &'static str,
    pub state: &'static str,
}

/// Credential check: 200 with a valid token.
#[utoipa::path(get, path = "/private", tag = "compatibility",
    responses((status = 200, description = "The token is valid", body = Single<CredentialCheck>)))]
pub async fn root(caller: Caller) -> Result<Response, ApiError> {
    Ok(envelope::single(
        StatusCode::OK,
        CredentialCheck {
            username: caller.username.clone(),
        },
    ))
}

/// Groups by name, with their source ids.
#[utoipa::path(get, path = "/private/groups", tag = "compatibility",
    responses((status = 200, description = "Groups", body = ListEnvelope<PrivateGroupDto>)))]
pub async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("groups"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &GROUP_SPEC)?;
    let page = state.store.list_groups(&query).await?;
    Ok(envelope::list(page, &query, &attributes, |g| PrivateGroupDto {
        id: g.id,
        name: g.name,
        source: g.source.to_string(),
    }))
}

/// Platform health.
#[utoipa::path(get, path = "/private/status", tag = "compatibility",
    responses((status = 200, description = "Health", body = Single<StatusDto>)))]
pub async fn status(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    let database = if state.store.is_ready().await { "GREEN" } else { "RED" };
    let status = StatusDto {
        health: database,
        service_states: vec![ServiceState {
            name: "database",
            state: database,
        }],
    };
    Ok(envelope::single(StatusCode::OK, status))
}
