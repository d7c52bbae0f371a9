//! `/api/v2/roles`: named sets of permissions.

use crate::auth::Caller;
use crate::body::{nullable, DataEnvelope, JsonBody};
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::{ApiError, Problems};
use crate::links::{id_in_reference, Collection, Links};
use crate::query;
use crate::routes::{path_int, Reference};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::identity::{validate_display_name, NewRole, Role, RolePatch, ROLE_SPEC};
use cairn_domain::permission::Permission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// A role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleDto {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// URLs of the role's permissions.
    pub permissions: Vec<String>,
    pub created_at: String,
    pub last_updated_at: String,
}

impl RoleDto {
    pub fn from_domain(role: Role, links: &Links) -> Self {
        RoleDto {
            id: role.id,
            name: role.name,
            description: role.description,
            permissions: links.urls(Collection::Permissions, role.permissions.iter().map(|p| p.id())),
            created_at: role.created_at.to_string(),
            last_updated_at: role.last_updated_at.to_string(),
        }
    }
}

/// A new role. Permissions are given by id, URL or name (`"read entities"`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleDto {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Reference>,
}

/// Changes to a role; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePatchDto {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<Reference>>,
}

/// Resolves permission references given by id, URL or name.
fn permissions(references: &[Reference], problems: &mut Problems) -> BTreeSet<Permission> {
    let mut out = BTreeSet::new();
    for (i, reference) in references.iter().enumerate() {
        let found = match reference {
            Reference::Id(n) => Permission::from_id(*n),
            Reference::Text(text) => text.parse::<Permission>().ok().or_else(|| {
                id_in_reference(text, Collection::Permissions)
                    .and_then(|id| id.parse().ok())
                    .and_then(Permission::from_id)
            }),
        };
        match found {
            Some(p) => {
                out.insert(p);
            }
            None => problems.add(ApiError::pointer(
                format!("/data/permissions/{i}"),
                "not a permission id, URL or name such as 'read entities'",
            )),
        }
    }
    out
}

/// Nobody grants a permission they do not hold themselves (through a role or otherwise).
pub fn ensure_grantable<'a>(
    caller: &Caller,
    permissions: impl IntoIterator<Item = &'a Permission>,
) -> Result<(), ApiError> {
    match permissions.into_iter().find(|p| !caller.has(**p)) {
        None => Ok(()),
        Some(p) => Err(ApiError::forbidden(format!(
            "You cannot grant the permission '{p}', which you do not hold yourself"
        ))),
    }
}

/// List roles.
#[utoipa::path(get, path = "/api/v2/roles", tag = "identity",
    responses((status = 200, description = "Roles", body = ListEnvelope<RoleDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("roles"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &ROLE_SPEC)?;
    let page = state.store.list_roles(&query).await?;
    Ok(envelope::list(page, &query, &attributes, |r| {
        RoleDto::from_domain(r, &links)
    }))
}

/// One role.
#[utoipa::path(get, path = "/api/v2/roles/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The role's id")),
    responses((status = 200, description = "The role", body = Single<RoleDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("roles"))?;
    let role = state.store.get_role(path_int(&id, Collection::Roles)?).await?;
    Ok(envelope::single(StatusCode::OK, RoleDto::from_domain(role, &links)))
}

/// Create a role.
#[utoipa::path(post, path = "/api/v2/roles", tag = "identity",
    request_body = inline(Single<NewRoleDto>),
    responses((status = 201, description = "The new role", body = Single<RoleDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<DataEnvelope<NewRoleDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("roles"))?;
    let mut problems = Problems::default();
    if let Err(detail) = validate_display_name(&body.data.name) {
        problems.add(ApiError::pointer("/data/name", detail));
    }
    let permissions = permissions(&body.data.permissions, &mut problems);
    problems.finish()?;
    ensure_grantable(&caller, &permissions)?;
    let role = state
        .store
        .create_role(&NewRole {
            name: body.data.name,
            description: body.data.description,
            permissions,
        })
        .await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        RoleDto::from_domain(role, &links),
    ))
}

/// Change a role.
#[utoipa::path(patch, path = "/api/v2/roles/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The role's id")),
    request_body = inline(Single<RolePatchDto>),
    responses((status = 200, description = "The changed role", body = Single<RoleDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DataEnvelope<RolePatchDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("roles"))?;
    let id = path_int(&id, Collection::Roles)?;
    state.store.get_role(id).await?;
    let mut problems = Problems::default();
    if let Some(name) = &body.data.name {
        if let Err(detail) = validate_display_name(name) {
            problems.add(ApiError::pointer("/data/name", detail));
        }
    }
    let permissions = body.data.permissions.as_deref().map(|p| permissions(p, &mut problems));
    problems.finish()?;
    ensure_grantable(&caller, permissions.iter().flatten())?;
    let patch = RolePatch {
        name: body.data.name,
        description: body.data.description,
        permissions,
    };
    let role = state.store.patch_role(id, &patch).await?;
    state.principals.invalidate();
    Ok(envelope::single(StatusCode::OK, RoleDto::from_domain(role, &links)))
}

/// Delete a role.
#[utoipa::path(delete, path = "/api/v2/roles/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The role's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("roles"))?;
    state.store.delete_role(path_int(&id, Collection::Roles)?).await?;
    state.principals.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}
