//! `/api/v2/users`: people and integrations; `/api/v2/users/self`: the caller.

use crate::auth::Caller;
use crate::body::{nullable, DataEnvelope, JsonBody};
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::{ApiError, Problems};
use crate::links::{Collection, Links};
use crate::query;
use crate::routes::roles::ensure_grantable;
use crate::routes::{int_references, path_int, require_existing, Reference};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::filter::ListPage;
use cairn_domain::identity::{validate_username, NewUser, User, UserId, UserPatch, USER_SPEC};
use cairn_domain::permission::Permission;
use cairn_domain::source::SourceId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_active: bool,
    /// Administrators hold every permission and see every object.
    pub is_admin: bool,
    /// URLs of the user's groups, the first being where their default source comes from.
    pub groups: Vec<String>,
    /// URLs of the user's roles.
    pub roles: Vec<String>,
    /// URLs of every permission the user holds.
    pub permissions: Vec<String>,
    /// URL of the source the user's new objects are tied to when they name none.
    pub default_source: Option<String>,
    pub created_at: String,
    pub last_updated_at: String,
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    /// Only administrators may create administrators.
    #[serde(default)]
    pub is_admin: bool,
    /// Group ids or URLs, in order: the first gives the default source.
    #[serde(default)]
    pub groups: Vec<Reference>,
    /// Role ids or URLs.
    #[serde(default)]
    pub roles: Vec<Reference>,
}

/// Changes to a user; absent fields stay as they are, lists given replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchDto {
    pub username: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub is_admin: Option<bool>,
    pub groups: Option<Vec<Reference>>,
    pub roles: Option<Vec<Reference>>,
}

/// Renders users with their permissions and default sources, fetched for the whole page.
async fn render(state: &AppState, users: Vec<User>, links: &Links) -> Result<Vec<UserDto>, ApiError> {
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let permissions = state.store.permissions_of_users(&ids).await?;
    let first_groups: Vec<i64> = users.iter().filter_map(|u| u.groups.first().copied()).collect();
    let sources = state.store.group_sources(&first_groups).await?;
    Ok(users
        .into_iter()
        .map(|user| {
            let held: Vec<i64> = if user.is_admin {
                Permission::all().map(Permission::id).collect()
            } else {
                permissions
                    .iter()
                    .filter(|(u, _)| *u == user.id)
                    .map(|(_, p)| p.id())
                    .collect()
            };
            let default_source: Option<SourceId> = user
                .groups
                .first()
                .and_then(|g| sources.iter().find(|(group, _)| group == g).map(|(_, s)| *s));
            UserDto {
                id: user.id,
                username: user.username,
                email: user.email,
                is_active: user.is_active,
                is_admin: user.is_admin,
                groups: links.urls(Collection::Groups, user.groups),
                roles: links.urls(Collection::Roles, user.roles),
                permissions: links.urls(Collection::Permissions, held),
                default_source: default_source.map(|s| links.url(Collection::Sources, s)),
                created_at: user.created_at.to_string(),
                last_updated_at: user.last_updated_at.to_string(),
            }
        })
        .collect())
}

async fn render_one(state: &AppState, user: User, links: &Links) -> Result<UserDto, ApiError> {
    Ok(render(state, vec![user], links).await?.remove(0))
}

/// Checks group and role references, and that the caller may hand out those roles.
async fn memberships(
    state: &AppState,
    groups: Option<&[Reference]>,
    roles: Option<&[Reference]>,
    problems: &mut Problems,
) -> Result<(Option<Vec<i64>>, Option<Vec<i64>>), ApiError> {
    let group_ids = groups.map(|g| int_references(g, Collection::Groups, "/data/groups", problems));
    if let (Some(ids), Some(refs)) = (&group_ids, groups) {
        if ids.len() == refs.len() {
            let existing = state.store.existing_groups(ids).await?;
            require_existing(ids, &existing, Collection::Groups, "/data/groups", problems);
        }
    }
    let role_ids = roles.map(|r| int_references(r, Collection::Roles, "/data/roles", problems));
    if let (Some(ids), Some(refs)) = (&role_ids, roles) {
        if ids.len() == refs.len() {
            let existing = state.store.existing_roles(ids).await?;
            require_existing(ids, &existing, Collection::Roles, "/data/roles", problems);
        }
    }
    Ok((group_ids, role_ids))
}

async fn ensure_roles_grantable(state: &AppState, caller: &Caller, roles: &[i64]) -> Result<(), ApiError> {
    for role in roles {
        let role = state.store.get_role(*role).await?;
        ensure_grantable(caller, &role.permissions)?;
    }
    Ok(())
}

fn check_email(email: Option<&str>, problems: &mut Problems) {
    if let Some(email) = email {
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid {
            problems.add(ApiError::pointer(
                "/data/email",
                format!("'{email}' is not an email address"),
            ));
        }
    }
}

/// The caller.
#[utoipa::path(get, path = "/api/v2/users/self", tag = "identity",
    responses((status = 200, description = "You", body = Single<UserDto>)))]
pub async fn me(State(state): State<AppState>, caller: Caller, links: Links) -> Result<Response, ApiError> {
    let user = state.store.get_user(caller.user_id).await?;
    Ok(envelope::single(
        StatusCode::OK,
        render_one(&state, user, &links).await?,
    ))
}

/// List users.
#[utoipa::path(get, path = "/api/v2/users", tag = "identity",
    responses((status = 200, description = "Users", body = ListEnvelope<UserDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("users"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &USER_SPEC)?;
    let page = state.store.list_users(&query).await?;
    let items = render(&state, page.items, &links).await?;
    let page = ListPage {
        items,
        total: page.total,
        total_is_estimate: page.total_is_estimate,
    };
    Ok(envelope::list(page, &query, &attributes, |u| u))
}

/// One user.
#[utoipa::path(get, path = "/api/v2/users/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = Single<UserDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("users"))?;
    let user = state.store.get_user(path_int(&id, Collection::Users)?).await?;
    Ok(envelope::single(
        StatusCode::OK,
        render_one(&state, user, &links).await?,
    ))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v2/users", tag = "identity",
    request_body = inline(Single<NewUserDto>),
    responses((status = 201, description = "The new user", body = Single<UserDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<DataEnvelope<NewUserDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("users"))?;
    let data = body.data;
    let mut problems = Problems::default();
    if let Err(detail) = validate_username(&data.username) {
        problems.add(ApiError::pointer("/data/username", detail));
    }
    check_email(data.email.as_deref(), &mut problems);
    let (groups, roles) = memberships(&state, Some(&data.groups), Some(&data.roles), &mut problems).await?;
    problems.finish()?;
    if data.is_admin && !caller.is_admin {
        return Err(ApiError::forbidden("Only administrators can create administrators"));
    }
    let roles = roles.unwrap_or_default();
    ensure_roles_grantable(&state, &caller, &roles).await?;
    let user = state
        .store
        .create_user(&NewUser {
            username: data.username,
            email: data.email,
            is_admin: data.is_admin,
            groups: groups.unwrap_or_default(),
            roles,
        })
        .await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        render_one(&state, user, &links).await?,
    ))
}

/// Change a user.
#[utoipa::path(patch, path = "/api/v2/users/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = inline(Single<UserPatchDto>),
    responses((status = 200, description = "The changed user", body = Single<UserDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DataEnvelope<UserPatchDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("users"))?;
    let id = path_int(&id, Collection::Users)?;
    let target = state.store.get_user(id).await?;
    let data = body.data;
    let mut problems = Problems::default();
    if let Some(username) = &data.username {
        if let Err(detail) = validate_username(username) {
            problems.add(ApiError::pointer("/data/username", detail));
        }
    }
    check_email(data.email.as_ref().and_then(Option::as_deref), &mut problems);
    if id == caller.user_id && data.is_active == Some(false) {
        problems.add(ApiError::pointer("/data/is_active", "you cannot deactivate yourself"));
    }
    let (groups, roles) = memberships(&state, data.groups.as_deref(), data.roles.as_deref(), &mut problems).await?;
    problems.finish()?;
    if (target.is_admin || data.is_admin.is_some()) && !caller.is_admin {
        return Err(ApiError::forbidden(
            "Only administrators can change an administrator or who is one",
        ));
    }
    if id == caller.user_id && data.is_admin == Some(false) {
        return Err(ApiError::conflict("You cannot take administration away from yourself"));
    }
    if let Some(roles) = &roles {
        ensure_roles_grantable(&state, &caller, roles).await?;
    }
    let patch = UserPatch {
        username: data.username,
        email: data.email,
        is_active: data.is_active,
        is_admin: data.is_admin,
        groups,
        roles,
    };
    let user = state.store.patch_user(id, &patch).await?;
    state.principals.invalidate();
    Ok(envelope::single(
        StatusCode::OK,
        render_one(&state, user, &links).await?,
    ))
}

/// Delete a user and their tokens.
#[utoipa::path(delete, path = "/api/v2/users/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The user's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("users"))?;
    let id = path_int(&id, Collection::Users)?;
    let target = state.store.get_user(id).await?;
    if id == caller.user_id {
        return Err(ApiError::conflict("You cannot delete your own user"));
    }
    if target.is_admin && !caller.is_admin {
        return Err(ApiError::forbidden("Only administrators can delete an administrator"));
    }
    state.store.delete_user(id).await?;
    state.principals.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}
