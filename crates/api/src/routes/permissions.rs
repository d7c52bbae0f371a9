//! `/api/v2/permissions`: the catalogue of permissions. Every authenticated caller may read
//! it: it names what can be granted, not anything stored.

use crate::auth::Caller;
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::ApiError;
use crate::links::Collection;
use crate::query;
use crate::routes::path_int;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cairn_domain::identity::PERMISSION_SPEC;
use cairn_domain::permission::Permission;
use serde::Serialize;
use utoipa::ToSchema;

/// A permission, e.g. `{"id": 1, "name": "read entities"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionDto {
    pub id: i64,
    pub name: String,
}

impl PermissionDto {
    pub fn from_domain(p: Permission) -> Self {
        PermissionDto {
            id: p.id(),
            name: p.to_string(),
        }
    }
}

/// List the permissions.
#[utoipa::path(get, path = "/api/v2/permissions", tag = "identity",
    responses((status = 200, description = "Permissions", body = ListEnvelope<PermissionDto>)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (query, attributes) = query::list_query(raw.as_deref(), &PERMISSION_SPEC)?;
    let page = state.store.list_permissions(&query).await?;
    Ok(envelope::list(page, &query, &attributes, PermissionDto::from_domain))
}

/// One permission.
#[utoipa::path(get, path = "/api/v2/permissions/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The permission's id")),
    responses((status = 200, description = "The permission", body = Single<PermissionDto>)))]
pub async fn get(_caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = path_int(&id, Collection::Permissions)?;
    let permission =
        Permission::from_id(id).ok_or_else(|| ApiError::not_found(format!("Permission {id} not found")))?;
    Ok(envelope::single(StatusCode::OK, PermissionDto::from_domain(permission)))
}
