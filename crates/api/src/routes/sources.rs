//! `/api/v2/sources`: where intelligence comes from. Visibility applies to every read.

use crate::auth::Caller;
use crate::body::{nullable, DataEnvelope, JsonBody};
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::{ApiError, Problems};
use crate::links::Collection;
use crate::query;
use crate::routes::path_uuid;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use cairn_domain::permission::Permission;
use cairn_domain::source::{self, Source, SourcePatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A source of intelligence.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDto {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    /// `group`, `incoming_feed`, `enricher`, `user` or `knowledge_pack`.
    pub source_type: &'static str,
    /// `A` (completely reliable) to `F` (cannot be judged), or null.
    pub reliability: Option<String>,
    pub created_at: String,
    pub last_updated_at: String,
}

impl SourceDto {
    pub fn from_domain(source: Source) -> Self {
        SourceDto {
            id: source.id.to_string(),
            name: source.name,
            source_type: source.source_type.as_str(),
            reliability: source.reliability.map(|r| r.as_char().to_string()),
            created_at: source.created_at.to_string(),
            last_updated_at: source.last_updated_at.to_string(),
        }
    }
}

/// Changes an administrator may make to a source.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcePatchDto {
    pub name: Option<String>,
    /// `A` to `F`, or null to clear.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub reliability: Option<Option<String>>,
}

/// List the sources you can see.
#[utoipa::path(get, path = "/api/v2/sources", tag = "sources",
    responses((status = 200, description = "The sources you can see", body = ListEnvelope<SourceDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("sources"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &source::SPEC)?;
    let page = state.store.list_sources(&caller.scope, &query).await?;
    Ok(envelope::list(page, &query, &attributes, SourceDto::from_domain))
}

/// One source.
#[utoipa::path(get, path = "/api/v2/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "The source's UUID")),
    responses((status = 200, description = "The source", body = Single<SourceDto>)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    caller.require(Permission::read("sources"))?;
    let id = path_uuid(&id, Collection::Sources)?;
    let source = state.store.get_source(&caller.scope, id).await?;
    Ok(envelope::single(StatusCode::OK, SourceDto::from_domain(source)))
}

/// Rename a source or set its reliability.
#[utoipa::path(patch, path = "/api/v2/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "The source's UUID")),
    request_body = inline(Single<SourcePatchDto>),
    responses((status = 200, description = "The changed source", body = Single<SourceDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DataEnvelope<SourcePatchDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("sources"))?;
    let id = path_uuid(&id, Collection::Sources)?;
    state.store.get_source(&caller.scope, id).await?;
    let mut problems = Problems::default();
    let mut patch = SourcePatch::default();
    if let Some(name) = body.data.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            problems.add(ApiError::pointer(
                "/data/name",
                "a source name is 1 to 200 characters and not only spaces",
            ));
        }
        patch.name = Some(name);
    }
    if let Some(reliability) = body.data.reliability {
        match reliability.map(|r| r.parse()).transpose() {
            Ok(r) => patch.reliability = Some(r),
            Err(detail) => problems.add(ApiError::pointer("/data/reliability", detail)),
        }
    }
    problems.finish()?;
    let source = state.store.patch_source(id, &patch).await?;
    Ok(envelope::single(StatusCode::OK, SourceDto::from_domain(source)))
}
