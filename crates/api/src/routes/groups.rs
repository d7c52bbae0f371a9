//! `/api/v2/groups`: teams. Each owns a source and sees its allowed sources up to its
//! maximum TLP.

use crate::auth::Caller;
use crate::body::{DataEnvelope, JsonBody};
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::{ApiError, Problems};
use crate::links::{Collection, Links};
use crate::query;
use crate::routes::{path_int, require_existing, unusable_sources, uuid_references, Reference};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::identity::{validate_display_name, Group, GroupPatch, NewGroup, GROUP_SPEC};
use cairn_domain::permission::Permission;
use cairn_domain::source::SourceId;
use cairn_domain::TlpColor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    pub id: i64,
    pub name: String,
    /// The URL of the source the group owns.
    pub source: String,
    /// URLs of the other sources the group's members see.
    pub allowed_sources: Vec<String>,
    /// The most restricted TLP colour the group's members see.
    pub max_tlp: &'static str,
    pub created_at: String,
    pub last_updated_at: String,
}

impl GroupDto {
    pub fn from_domain(group: Group, links: &Links) -> Self {
        GroupDto {
            id: group.id,
            name: group.name,
            source: links.url(Collection::Sources, group.source),
            allowed_sources: links.urls(Collection::Sources, group.allowed_sources),
            max_tlp: group.max_tlp.as_str(),
            created_at: group.created_at.to_string(),
            last_updated_at: group.last_updated_at.to_string(),
        }
    }
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupDto {
    pub name: String,
    /// Source ids or URLs the group's members may see besides the group's own source.
    #[serde(default)]
    pub allowed_sources: Vec<Reference>,
    /// Default `AMBER`.
    #[serde(default)]
    pub max_tlp: Option<String>,
}

/// Changes to a group; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatchDto {
    pub name: Option<String>,
    pub allowed_sources: Option<Vec<Reference>>,
    pub max_tlp: Option<String>,
}

/// Resolves allowed sources: each must exist and be visible to the caller (a caller cannot
/// widen a group's view past their own).
async fn allowed_sources(
    state: &AppState,
    caller: &Caller,
    references: &[Reference],
    problems: &mut Problems,
) -> Result<Vec<SourceId>, ApiError> {
    let ids = uuid_references(references, Collection::Sources, "/data/allowed_sources", problems);
    let unusable = unusable_sources(state, caller, &ids).await?;
    let usable: Vec<SourceId> = ids.iter().copied().filter(|id| !unusable.contains(id)).collect();
    if ids.len() == references.len() {
        require_existing(&ids, &usable, Collection::Sources, "/data/allowed_sources", problems);
    }
    Ok(ids)
}

fn tlp(value: &str, problems: &mut Problems) -> Option<TlpColor> {
    value
        .parse()
        .map_err(|e: cairn_domain::tlp::BadTlpColor| problems.add(ApiError::pointer("/data/max_tlp", e.to_string())))
        .ok()
}

/// List groups.
#[utoipa::path(get, path = "/api/v2/groups", tag = "identity",
    responses((status = 200, description = "Groups", body = ListEnvelope<GroupDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("groups"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &GROUP_SPEC)?;
    let page = state.store.list_groups(&query).await?;
    Ok(envelope::list(page, &query, &attributes, |g| {
        GroupDto::from_domain(g, &links)
    }))
}

/// One group.
#[utoipa::path(get, path = "/api/v2/groups/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The group's id")),
    responses((status = 200, description = "The group", body = Single<GroupDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("groups"))?;
    let group = state.store.get_group(path_int(&id, Collection::Groups)?).await?;
    Ok(envelope::single(StatusCode::OK, GroupDto::from_domain(group, &links)))
}

/// Create a group and the source it owns.
#[utoipa::path(post, path = "/api/v2/groups", tag = "identity",
    request_body = inline(Single<NewGroupDto>),
    responses((status = 201, description = "The new group", body = Single<GroupDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<DataEnvelope<NewGroupDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("groups"))?;
    let mut problems = Problems::default();
    if let Err(detail) = validate_display_name(&body.data.name) {
        problems.add(ApiError::pointer("/data/name", detail));
    }
    let max_tlp = tlp(body.data.max_tlp.as_deref().unwrap_or("AMBER"), &mut problems);
    let allowed = allowed_sources(&state, &caller, &body.data.allowed_sources, &mut problems).await?;
    problems.finish()?;
    let new = NewGroup {
        name: body.data.name,
        allowed_sources: allowed,
        max_tlp: max_tlp.unwrap_or(TlpColor::Amber),
    };
    let group = state.store.create_group(&new).await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        GroupDto::from_domain(group, &links),
    ))
}

/// Change a group.
#[utoipa::path(patch, path = "/api/v2/groups/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The group's id")),
    request_body = inline(Single<GroupPatchDto>),
    responses((status = 200, description = "The changed group", body = Single<GroupDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DataEnvelope<GroupPatchDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("groups"))?;
    let id = path_int(&id, Collection::Groups)?;
    state.store.get_group(id).await?;
    let mut problems = Problems::default();
    if let Some(name) = &body.data.name {
        if let Err(detail) = validate_display_name(name) {
            problems.add(ApiError::pointer("/data/name", detail));
        }
    }
    let max_tlp = body.data.max_tlp.as_deref().and_then(|t| tlp(t, &mut problems));
    let allowed = match &body.data.allowed_sources {
        Some(references) => Some(allowed_sources(&state, &caller, references, &mut problems).await?),
        None => None,
    };
    problems.finish()?;
    let patch = GroupPatch {
        name: body.data.name,
        allowed_sources: allowed,
        max_tlp,
    };
    let group = state.store.patch_group(id, &patch).await?;
    state.principals.invalidate();
    Ok(envelope::single(StatusCode::OK, GroupDto::from_domain(group, &links)))
}

/// Delete a group. Its source stays, with everything tied to it.
#[utoipa::path(delete, path = "/api/v2/groups/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The group's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("groups"))?;
    state.store.delete_group(path_int(&id, Collection::Groups)?).await?;
    state.principals.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}
