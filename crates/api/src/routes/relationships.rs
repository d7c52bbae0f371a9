//! `/api/v2/relationships`: typed links between entities, with their STIX alignment.

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::ApiError;
use crate::links::{id_in_reference, Collection, Links};
use crate::query;
use crate::routes::path_uuid;
use crate::routes::{source_references, unusable_sources};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::entity::{self, escape};
use cairn_domain::permission::Permission;
use cairn_domain::relationship::{self, Relationship, RelationshipWrite};
use cairn_domain::source::SourceId;
use cairn_domain::{Problem, Timestamp, TlpColor};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// Fields Cairn returns that clients may send back; ignored on writes.
const READ_ONLY: [&str; 4] = ["strict_stix_1", "strict_stix_2", "created_at", "last_updated_at"];

/// A relationship.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipDto {
    #[schema(format = Uuid)]
    pub id: String,
    /// `{source: url, target: url, key, subtype, description, timestamp}`.
    #[schema(value_type = Object)]
    pub data: Value,
    /// `{estimated_threat_start_time, estimated_threat_end_time, stix_id, tlp_color, source_reliability}`.
    #[schema(value_type = Object)]
    pub meta: Value,
    pub sources: Vec<String>,
    /// The (source type, key, target type) is a relationship STIX 1.2 defines.
    pub strict_stix_1: bool,
    /// The (source type, key, target type) is a relationship STIX 2.1 defines.
    pub strict_stix_2: bool,
    pub created_at: String,
    pub last_updated_at: String,
}

impl RelationshipDto {
    fn from_domain(r: Relationship, links: &Links) -> Self {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        RelationshipDto {
            id: r.id.to_string(),
            data: json!({
                "source": links.url(Collection::Entities, r.source),
                "target": links.url(Collection::Entities, r.target),
                "key": r.key,
                "subtype": r.subtype,
                "description": r.description,
                "timestamp": r.created_at.to_string(),
            }),
            meta: json!({
                "estimated_threat_start_time": time(r.estimated_threat_start_time),
                "estimated_threat_end_time": time(r.estimated_threat_end_time),
                "stix_id": r.stix_id,
                "tlp_color": r.tlp_color.map(TlpColor::as_str),
                "source_reliability": null,
            }),
            sources: links.urls(Collection::Sources, r.sources),
            strict_stix_1: relationship::strict_stix_1(&r.source_type, &r.key, &r.target_type),
            strict_stix_2: relationship::strict_stix_2(&r.source_type, &r.key, &r.target_type),
            created_at: r.created_at.to_string(),
            last_updated_at: r.last_updated_at.to_string(),
        }
    }
}

/// One relationship payload after its own checks.
struct Parsed {
    id: Option<Uuid>,
    source: Uuid,
    target: Uuid,
    key: String,
    subtype: Option<String>,
    description: Option<String>,
    tlp_color: Option<TlpColor>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    sources: Vec<SourceId>,
}

fn entity_end(value: Option<&Value>, at: String, problems: &mut Vec<Problem>) -> Option<Uuid> {
    match value
        .and_then(Value::as_str)
        .and_then(|s| id_in_reference(s, Collection::Entities))
        .map(Uuid::parse_str)
    {
        Some(Ok(id)) => Some(id),
        _ if value.is_none() => {
            problems.push(Problem::at(at, "required: an entity id (UUID) or URL"));
            None
        }
        _ => {
            problems.push(Problem::at(
                at,
                format!("{} is not an entity id (UUID) or URL", value.unwrap_or(&Value::Null)),
            ));
            None
        }
    }
}

fn parse(value: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<Parsed> {
    let Some(object) = value.as_object() else {
        problems.push(Problem::at(
            at,
            "a relationship is an object {\"data\": {…}, \"sources\": […]}",
        ));
        return None;
    };
    let before = problems.len();
    let mut id = None;
    let mut sources = None;
    for (key, field) in object {
        let here = format!("{at}/{}", escape(key));
        match key.as_str() {
            "data" | "meta" => {}
            "id" => match field
                .as_str()
                .and_then(|s| id_in_reference(s, Collection::Relationships))
                .map(Uuid::parse_str)
            {
                Some(Ok(uuid)) => id = Some(uuid),
                _ => problems.push(Problem::at(
                    here,
                    format!("{field} is not a relationship id (a UUID) or URL"),
                )),
            },
            "sources" => sources = source_references(field, &here, problems),
            k if READ_ONLY.contains(&k) => {}
            _ => problems.push(Problem::at(
                here,
                format!("'{key}' is not a property of a relationship"),
            )),
        }
    }
    let sources = match sources {
        Some(s) if !s.is_empty() => s,
        Some(_) => {
            problems.push(Problem::at(
                format!("{at}/sources"),
                "sources cannot be empty: name at least one source id",
            ));
            Vec::new()
        }
        None if problems
            .iter()
            .all(|p| p.pointer.as_deref() != Some(&format!("{at}/sources"))) =>
        {
            problems.push(Problem::at(
                format!("{at}/sources"),
                "sources is required: a list of source ids or URLs",
            ));
            Vec::new()
        }
        None => Vec::new(),
    };
    let data_at = format!("{at}/data");
    let empty = Map::new();
    let data = match object.get("data") {
        Some(Value::Object(d)) => d,
        Some(_) => {
            problems.push(Problem::at(&data_at, "data must be an object {source, target, key}"));
            &empty
        }
        None => {
            problems.push(Problem::at(
                &data_at,
                "data is required: {\"source\": …, \"target\": …, \"key\": …}",
            ));
            &empty
        }
    };
    let mut subtype = None;
    let mut description = None;
    let mut key = None;
    for (k, v) in data {
        let here = format!("{data_at}/{}", escape(k));
        match (k.as_str(), v) {
            ("source" | "target", _) | ("timestamp", _) => {}
            ("key", Value::String(s)) => match relationship::validate_key(s) {
                Ok(()) => key = Some(s.clone()),
                Err(e) => problems.push(Problem::at(here, e)),
            },
            ("key", other) => problems.push(Problem::at(here, format!("key must be a string, not {other}"))),
            ("subtype", Value::Null) => {}
            ("subtype", Value::String(s)) if relationship::SUBTYPES.contains(&s.as_str()) => subtype = Some(s.clone()),
            ("subtype", other) => problems.push(Problem::at(
                here,
                format!("{other} is not a subtype: the only one is \"stix_update_of\" (or null)"),
            )),
            ("description", Value::Null) => {}
            ("description", Value::String(s)) => description = Some(s.clone()),
            ("description", other) => {
                problems.push(Problem::at(here, format!("description must be a string, not {other}")))
            }
            _ => problems.push(Problem::at(
                here,
                format!("'{k}' is not a property of a relationship's data"),
            )),
        }
    }
    if !data.contains_key("key") && object.get("data").is_some_and(Value::is_object) {
        problems.push(Problem::at(
            format!("{data_at}/key"),
            "key is required, e.g. \"indicates\"",
        ));
    }
    let source = entity_end(data.get("source"), format!("{data_at}/source"), problems);
    let target = entity_end(data.get("target"), format!("{data_at}/target"), problems);
    let mut tlp_color = None;
    let (mut start, mut end) = (None, None);
    if let Some(meta) = object.get("meta") {
        let meta_at = format!("{at}/meta");
        match meta.as_object() {
            Some(meta) => {
                for (k, v) in meta {
                    let here = format!("{meta_at}/{}", escape(k));
                    if v.is_null() {
                        continue;
                    }
                    match k.as_str() {
                        "estimated_threat_start_time" => start = entity::meta_time(k, v, &here, problems),
                        "estimated_threat_end_time" => end = entity::meta_time(k, v, &here, problems),
                        "tlp_color" => tlp_color = entity::meta_tlp(v, &here, problems),
                        "stix_id" | "source_reliability" => {}
                        _ => problems.push(Problem::at(here, format!("'{k}' is not a relationship meta property"))),
                    }
                }
                entity::check_threat_window(start, end, &meta_at, problems);
            }
            None => problems.push(Problem::at(meta_at, "meta must be an object")),
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Parsed {
        id,
        source: source?,
        target: target?,
        key: key?,
        subtype,
        description,
        tlp_color,
        start,
        end,
        sources,
    })
}

/// Checks that each end is an entity the caller sees and each source one they may use.
async fn check_references(
    state: &AppState,
    caller: &Caller,
    items: &[(String, Parsed)],
    problems: &mut Vec<Problem>,
) -> Result<(), ApiError> {
    let ends: Vec<Uuid> = items.iter().flat_map(|(_, p)| [p.source, p.target]).collect();
    let seen: HashSet<Uuid> = state
        .store
        .entity_keys(&caller.scope, &ends, &[])
        .await?
        .into_iter()
        .filter(|k| k.visible)
        .map(|k| k.id)
        .collect();
    let wanted: Vec<SourceId> = items.iter().flat_map(|(_, p)| p.sources.iter().copied()).collect();
    let unusable = unusable_sources(state, caller, &wanted).await?;
    for (at, p) in items {
        for (end, id) in [("source", p.source), ("target", p.target)] {
            if !seen.contains(&id) {
                problems.push(Problem::at(
                    format!("{at}/data/{end}"),
                    format!("entity {id} does not exist"),
                ));
            }
        }
        for (i, s) in p.sources.iter().enumerate() {
            if unusable.contains(s) {
                problems.push(Problem::at(
                    format!("{at}/sources/{i}"),
                    format!("source {s} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

fn write_for(p: Parsed, id: Uuid, exists: bool, stix_id: Option<String>) -> RelationshipWrite {
    RelationshipWrite {
        id,
        exists,
        source: p.source,
        target: p.target,
        key: p.key,
        subtype: p.subtype,
        description: p.description,
        stix_id: stix_id.unwrap_or_else(|| format!("relationship--{}", Uuid::new_v4())),
        tlp_color: p.tlp_color,
        estimated_threat_start_time: p.start,
        estimated_threat_end_time: p.end,
        sources: p.sources,
    }
}

/// List the relationships you can see (both ends included).
#[utoipa::path(get, path = "/api/v2/relationships", tag = "relationships",
    responses((status = 200, description = "Relationships", body = ListEnvelope<RelationshipDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("relationships"))?;
    let (mut query, attributes) = query::list_query(raw.as_deref(), &relationship::SPEC)?;
    query::hide_unseen_sources(&mut query, &caller.scope);
    let page = state.store.list_relationships(&caller.scope, &query).await?;
    Ok(envelope::list(page, &query, &attributes, |r| {
        RelationshipDto::from_domain(r, &links)
    }))
}

/// One relationship.
#[utoipa::path(get, path = "/api/v2/relationships/{id}", tag = "relationships",
    params(("id" = String, Path, description = "The relationship's UUID")),
    responses((status = 200, description = "The relationship", body = Single<RelationshipDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("relationships"))?;
    let r = state
        .store
        .get_relationship(&caller.scope, path_uuid(&id, Collection::Relationships)?)
        .await?;
    Ok(envelope::single(
        StatusCode::OK,
        RelationshipDto::from_domain(r, &links),
    ))
}

/// Create a relationship: `{"data": {"data": {"source", "target", "key"}, "sources": [id]}}`.
#[utoipa::path(post, path = "/api/v2/relationships", tag = "relationships",
    request_body(content = inline(Single<Object>), description = "{\"data\": <relationship>}; sources is required"),
    responses((status = 201, description = "The new relationship", body = Single<RelationshipDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("relationships"))?;
    let mut problems = Vec::new();
    let Some(item) = body.get("data") else {
        return Err(ApiError::pointer("/", "the body must be {\"data\": <relationship>}"));
    };
    let parsed = parse(item, "/data", &mut problems);
    ApiError::check(std::mem::take(&mut problems))?;
    let items = vec![(
        "/data".to_owned(),
        parsed.ok_or_else(|| ApiError::bad_request("invalid relationship"))?,
    )];
    check_references(&state, &caller, &items, &mut problems).await?;
    ApiError::check(problems)?;
    let (_, p) = items
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("no relationship"))?;
    if !state
        .store
        .relationship_keys(&caller.scope, &[(p.source, p.key.clone(), p.target)])
        .await?
        .is_empty()
    {
        return Err(ApiError::conflict(format!(
            "A relationship {} --{}--> {} already exists",
            p.source, p.key, p.target
        )));
    }
    let id = p.id.unwrap_or_else(Uuid::new_v4);
    let mut stored = state
        .store
        .write_relationships(&caller.scope, &[write_for(p, id, false, None)])
        .await?;
    let r = stored
        .pop()
        .ok_or_else(|| ApiError::not_found("Relationship not found"))?;
    Ok(envelope::single(
        StatusCode::CREATED,
        RelationshipDto::from_domain(r, &links),
    ))
}

/// Create or update many relationships, all or none: `{"data": [<relationship>, …]}`, each
/// matched by `id`, else by (source, key, target). The answer lists them in input order.
#[utoipa::path(put, path = "/api/v2/relationships", tag = "relationships",
    request_body(content = inline(Single<Vec<Object>>), description = "{\"data\": [<relationship>, …]}"),
    responses((status = 200, description = "The relationships, in input order", body = inline(Single<Vec<RelationshipDto>>))))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("relationships"))?;
    let items = super::bulk_items(&body, "relationship")?;
    let mut problems = Vec::new();
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/data/{i}");
        if let Some(p) = parse(item, &at, &mut problems) {
            parsed.push((at, p));
        }
    }
    ApiError::check(std::mem::take(&mut problems))?;
    check_references(&state, &caller, &parsed, &mut problems).await?;
    let ids: Vec<Uuid> = parsed.iter().filter_map(|(_, p)| p.id).collect();
    let by_id = state.store.relationships_by_ids(&caller.scope, &ids).await?;
    let triples: Vec<(Uuid, String, Uuid)> = parsed
        .iter()
        .map(|(_, p)| (p.source, p.key.clone(), p.target))
        .collect();
    let existing = state.store.relationship_keys(&caller.scope, &triples).await?;
    let mut seen_ids = HashSet::new();
    let mut seen_triples = HashSet::new();
    let mut writes = Vec::new();
    for (at, p) in parsed {
        let same_triple = existing
            .iter()
            .find(|(_, s, k, t, _)| *s == p.source && *k == p.key && *t == p.target);
        let target = match (p.id, same_triple) {
            (Some(id), _) if !by_id.iter().any(|r| r.id == id) => {
                Err(Problem::at(format!("{at}/id"), format!("relationship {id} not found")))
            }
            (Some(id), Some((other, ..))) if *other != id => Err(Problem::at(
                at.clone(),
                "another relationship has the same source, key and target",
            )),
            (Some(id), _) => Ok((id, true, by_id.iter().find(|r| r.id == id).map(|r| r.stix_id.clone()))),
            (None, Some((id, .., true))) => {
                let stix = state.store.get_relationship(&caller.scope, *id).await?.stix_id;
                Ok((*id, true, Some(stix)))
            }
            (None, Some(_)) => Err(Problem::at(
                at.clone(),
                "a relationship with the same source, key and target already exists",
            )),
            (None, None) => Ok((Uuid::new_v4(), false, None)),
        };
        match target {
            Ok((id, exists, stix))
                if seen_ids.insert(id) && seen_triples.insert((p.source, p.key.clone(), p.target)) =>
            {
                writes.push(write_for(p, id, exists, stix))
            }
            Ok(_) => problems.push(Problem::at(at, "the same relationship appears twice in this request")),
            Err(problem) => problems.push(problem),
        }
    }
    ApiError::check(problems)?;
    let stored = state.store.write_relationships(&caller.scope, &writes).await?;
    let rendered: Vec<RelationshipDto> = stored
        .into_iter()
        .map(|r| RelationshipDto::from_domain(r, &links))
        .collect();
    Ok(envelope::single(StatusCode::OK, rendered))
}

/// Change one relationship: `data` and `meta` merge key by key; `sources` is required.
#[utoipa::path(patch, path = "/api/v2/relationships/{id}", tag = "relationships",
    params(("id" = String, Path, description = "The relationship's UUID")),
    request_body(content = inline(Single<Object>), description = "{\"data\": {\"data\": {…}, \"meta\": {…}, \"sources\": […]}}"),
    responses((status = 200, description = "The changed relationship", body = Single<RelationshipDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("relationships"))?;
    let current = state
        .store
        .get_relationship(&caller.scope, path_uuid(&id, Collection::Relationships)?)
        .await?;
    let Some(Value::Object(changes)) = body.get("data") else {
        return Err(ApiError::pointer(
            "/",
            "the body must be {\"data\": {\"data\": {…}, \"meta\": {…}, \"sources\": […]}}",
        ));
    };
    let rendered = RelationshipDto::from_domain(current.clone(), &links);
    let mut merged = json!({"data": rendered.data, "meta": rendered.meta});
    for (key, value) in changes {
        match (merged.get_mut(key.as_str()), value) {
            (Some(Value::Object(target)), Value::Object(patch)) if key == "data" || key == "meta" => {
                for (k, v) in patch {
                    target.insert(k.clone(), v.clone());
                }
            }
            _ => {
                merged[key.as_str()] = value.clone();
            }
        }
    }
    let mut problems = Vec::new();
    let parsed = parse(&merged, "/data", &mut problems);
    ApiError::check(std::mem::take(&mut problems))?;
    let items = vec![(
        "/data".to_owned(),
        parsed.ok_or_else(|| ApiError::bad_request("invalid relationship"))?,
    )];
    check_references(&state, &caller, &items, &mut problems).await?;
    ApiError::check(problems)?;
    let (_, p) = items
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("no relationship"))?;
    let clash = state
        .store
        .relationship_keys(&caller.scope, &[(p.source, p.key.clone(), p.target)])
        .await?;
    if clash.iter().any(|(other, ..)| *other != current.id) {
        return Err(ApiError::conflict(
            "Another relationship has the same source, key and target",
        ));
    }
    let mut stored = state
        .store
        .write_relationships(&caller.scope, &[write_for(p, current.id, true, Some(current.stix_id))])
        .await?;
    let r = stored
        .pop()
        .ok_or_else(|| ApiError::not_found("Relationship not found"))?;
    Ok(envelope::single(
        StatusCode::OK,
        RelationshipDto::from_domain(r, &links),
    ))
}

/// Delete a relationship.
#[utoipa::path(delete, path = "/api/v2/relationships/{id}", tag = "relationships",
    params(("id" = String, Path, description = "The relationship's UUID")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("relationships"))?;
    state
        .store
        .delete_relationship(&caller.scope, path_uuid(&id, Collection::Relationships)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
