//! `/api/v2/taxonomies`: the category tree entities are filed under; `/api/v2/tags`: the
//! free-text tags in use.

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
use cairn_domain::permission::Permission;
use cairn_domain::taxonomy::{self, Taxonomy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A taxonomy node.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyDto {
    pub id: i64,
    pub name: String,
    /// The names from the root down, joined by `/`.
    pub path: String,
    /// The parent's URL, or null at the root.
    pub parent: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub last_updated_at: String,
}

impl TaxonomyDto {
    fn from_domain(t: Taxonomy, links: &Links) -> Self {
        TaxonomyDto {
            id: t.id,
            name: t.name,
            path: t.path,
            parent: t.parent.map(|p| links.url(Collection::Taxonomies, p)),
            description: t.description,
            created_at: t.created_at.to_string(),
            last_updated_at: t.last_updated_at.to_string(),
        }
    }
}

/// A new taxonomy node.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaxonomyDto {
    pub name: String,
    /// The parent's id or URL; none for a root.
    #[serde(default)]
    pub parent: Option<Reference>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Changes to a taxonomy node: renaming moves its descendants' paths along.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyPatchDto {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// A tag in use, with how many entities you can see carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagDto {
    pub name: String,
    pub count: i64,
}

/// List taxonomies.
#[utoipa::path(get, path = "/api/v2/taxonomies", tag = "entities",
    responses((status = 200, description = "Taxonomies", body = ListEnvelope<TaxonomyDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("taxonomies"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &taxonomy::SPEC)?;
    let page = state.store.list_taxonomies(&query).await?;
    Ok(envelope::list(page, &query, &attributes, |t| {
        TaxonomyDto::from_domain(t, &links)
    }))
}

/// One taxonomy.
#[utoipa::path(get, path = "/api/v2/taxonomies/{id}", tag = "entities",
    params(("id" = i64, Path, description = "The taxonomy's id")),
    responses((status = 200, description = "The taxonomy", body = Single<TaxonomyDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("taxonomies"))?;
    let t = state.store.get_taxonomy(path_int(&id, Collection::Taxonomies)?).await?;
    Ok(envelope::single(StatusCode::OK, TaxonomyDto::from_domain(t, &links)))
}

/// Create a taxonomy node.
#[utoipa::path(post, path = "/api/v2/taxonomies", tag = "entities",
    request_body = inline(Single<NewTaxonomyDto>),
    responses((status = 201, description = "The new taxonomy", body = Single<TaxonomyDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<DataEnvelope<NewTaxonomyDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("taxonomies"))?;
    let mut problems = Problems::default();
    if let Err(detail) = taxonomy::validate_name(&body.data.name) {
        problems.add(ApiError::pointer("/data/name", detail));
    }
    let parent = match &body.data.parent {
        None => None,
        Some(reference) => {
            let id = match reference {
                Reference::Id(n) => Some(*n),
                Reference::Text(t) => id_in_reference(t, Collection::Taxonomies).and_then(|i| i.parse().ok()),
            };
            match id.filter(|n| *n > 0) {
                Some(id) if !state.store.existing_taxonomies(&[id]).await?.is_empty() => Some(id),
                Some(id) => {
                    problems.add(ApiError::pointer(
                        "/data/parent",
                        format!("taxonomy {id} does not exist"),
                    ));
                    None
                }
                None => {
                    problems.add(ApiError::pointer("/data/parent", "parent is a taxonomy id or URL"));
                    None
                }
            }
        }
    };
    problems.finish()?;
    let t = state
        .store
        .create_taxonomy(body.data.name.trim(), parent, body.data.description)
        .await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        TaxonomyDto::from_domain(t, &links),
    ))
}

/// Rename a taxonomy node or change its description.
#[utoipa::path(patch, path = "/api/v2/taxonomies/{id}", tag = "entities",
    params(("id" = i64, Path, description = "The taxonomy's id")),
    request_body = inline(Single<TaxonomyPatchDto>),
    responses((status = 200, description = "The changed taxonomy", body = Single<TaxonomyDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DataEnvelope<TaxonomyPatchDto>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("taxonomies"))?;
    let id = path_int(&id, Collection::Taxonomies)?;
    state.store.get_taxonomy(id).await?;
    if let Some(name) = &body.data.name {
        taxonomy::validate_name(name).map_err(|d| ApiError::pointer("/data/name", d))?;
    }
    let t = state
        .store
        .patch_taxonomy(id, body.data.name.as_deref().map(str::trim), body.data.description)
        .await?;
    Ok(envelope::single(StatusCode::OK, TaxonomyDto::from_domain(t, &links)))
}

/// Delete a taxonomy node without children; entities filed under it lose the link.
#[utoipa::path(delete, path = "/api/v2/taxonomies/{id}", tag = "entities",
    params(("id" = i64, Path, description = "The taxonomy's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("taxonomies"))?;
    state
        .store
        .delete_taxonomy(path_int(&id, Collection::Taxonomies)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Tags in use on the entities you can see, most used first.
#[utoipa::path(get, path = "/api/v2/tags", tag = "entities",
    responses((status = 200, description = "Tags with counts", body = ListEnvelope<TagDto>)))]
pub async fn tags(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("entities"))?;
    let (query, attributes) = query::list_query(raw.as_deref(), &taxonomy::TAG_SPEC)?;
    let page = state.store.list_tags(&caller.scope, &query).await?;
    Ok(envelope::list(page, &query, &attributes, |(name, count)| TagDto {
        name,
        count,
    }))
}
