//! `/api/v2/entities`: intelligence objects of every type, one at a time or in bulk.

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::{ApiError, Problems};
use crate::links::{id_in_reference, Collection, Links};
use crate::query;
use crate::routes::{source_references, unusable_sources};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::entity::{self, Entity, EntityMeta, EntityWrite};
use cairn_domain::permission::Permission;
use cairn_domain::source::SourceId;
use cairn_domain::{Problem, Timestamp};
use cairn_store::entities::{EntityKey, EntityRef};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use utoipa::ToSchema;
use uuid::Uuid;

/// Top-level fields Cairn returns that clients may send back unchanged; they are ignored.
const READ_ONLY: [&str; 7] = [
    "observables",
    "datasets",
    "outgoing_feeds",
    "incoming_feed",
    "relevancy",
    "created_at",
    "last_updated_at",
];

/// Query parameters the API no longer supports.
const REMOVED_PARAMETERS: [&str; 2] = ["overwrite_tags", "overwrite_taxonomies"];

/// An entity.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityDto {
    #[schema(format = Uuid)]
    pub id: String,
    /// The entity's properties: `type`, `title`, `id` (STIX-style) and those of its type.
    #[schema(value_type = Object)]
    pub data: Value,
    /// TLP, estimated times, half-life, reliability, tags, taxonomies (URLs), alias, ingest time.
    #[schema(value_type = Object)]
    pub meta: Value,
    pub sources: Vec<String>,
    pub observables: Vec<String>,
    pub attachments: Vec<String>,
    pub datasets: Vec<String>,
    pub outgoing_feeds: Vec<String>,
    pub incoming_feed: Option<String>,
    /// `0.5^(age / half_life)`, from the estimated observed time (else the creation).
    pub relevancy: f64,
    pub created_at: String,
    pub last_updated_at: String,
}

impl EntityDto {
    pub fn from_domain(entity: Entity, links: &Links, now: Timestamp) -> Self {
        let mut meta = entity.meta;
        meta.insert("tags".into(), Value::from(entity.tags));
        meta.insert(
            "taxonomies".into(),
            Value::from(links.urls(Collection::Taxonomies, entity.taxonomies)),
        );
        meta.insert("ingest_time".into(), Value::String(entity.created_at.to_string()));
        EntityDto {
            id: entity.id.to_string(),
            data: Value::Object(entity.data),
            meta: Value::Object(meta),
            sources: links.urls(Collection::Sources, entity.sources),
            observables: links.urls(Collection::Observables, entity.observables),
            attachments: links.urls(Collection::Attachments, entity.attachments),
            datasets: Vec::new(),
            outgoing_feeds: Vec::new(),
            incoming_feed: None,
            relevancy: entity::relevancy(entity.observed_at, entity.half_life, now),
            created_at: entity.created_at.to_string(),
            last_updated_at: entity.last_updated_at.to_string(),
        }
    }
}

/// One entity payload after its own checks; references still to be checked against the store.
struct Parsed {
    id: Option<Uuid>,
    data: entity::EntityData,
    meta: EntityMeta,
    sources: Option<Vec<SourceId>>,
    taxonomies: Vec<i64>,
    /// `None` when the payload does not name them.
    attachments: Option<Vec<i64>>,
}

/// Checks the shape of one entity payload at `at`, collecting every problem.
fn parse(value: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<Parsed> {
    let Some(object) = value.as_object() else {
        problems.push(Problem::at(
            at,
            "an entity is an object {\"data\": {…}, \"meta\": {…}, \"sources\": […]}",
        ));
        return None;
    };
    let before = problems.len();
    let mut id = None;
    let mut sources = None;
    let mut taxonomies = Vec::new();
    let mut attachments = None;
    for (key, field) in object {
        let here = format!("{at}/{}", entity::escape(key));
        match key.as_str() {
            "type" => problems.push(Problem::at(
                here,
                "the entity type now lives inside data: send {\"data\": {\"type\": \"indicator\", \"title\": …}}",
            )),
            "data" | "meta" => {}
            "id" => match field
                .as_str()
                .and_then(|s| id_in_reference(s, Collection::Entities))
                .map(Uuid::parse_str)
            {
                Some(Ok(uuid)) => id = Some(uuid),
                _ => problems.push(Problem::at(
                    here,
                    format!("{field} is not an entity id (a UUID) or URL"),
                )),
            },
            "sources" => sources = source_references(field, &here, problems),
            "attachments" => match field.as_array() {
                Some(items) => {
                    let mut ids = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let id = match item {
                            Value::Number(n) => n.as_i64(),
                            Value::String(s) => {
                                id_in_reference(s, Collection::Attachments).and_then(|t| t.parse().ok())
                            }
                            _ => None,
                        };
                        match id.filter(|n| *n > 0) {
                            Some(id) => ids.push(id),
                            None => problems.push(Problem::at(
                                format!("{here}/{i}"),
                                format!("{item} is not an attachment id or URL"),
                            )),
                        }
                    }
                    attachments = Some(ids);
                }
                None => problems.push(Problem::at(
                    here,
                    "attachments must be a list of attachment ids or URLs",
                )),
            },
            k if READ_ONLY.contains(&k) => {}
            _ => problems.push(Problem::at(here, format!("'{key}' is not a property of an entity"))),
        }
    }
    let data_at = format!("{at}/data");
    let data = match object.get("data") {
        Some(Value::Object(d)) if d.contains_key("data") && !d.contains_key("type") => {
            problems.push(Problem::at(
                format!("{data_at}/data"),
                "entities are no longer wrapped in another data: send {\"data\": [{\"data\": {…}, \"meta\": {…}}]}",
            ));
            None
        }
        Some(d) => entity::validate_data(d, &data_at, problems),
        None => {
            problems.push(Problem::at(data_at, "data is required: {\"type\": …, \"title\": …}"));
            None
        }
    };
    let meta_at = format!("{at}/meta");
    let meta = entity::validate_meta(object.get("meta").unwrap_or(&Value::Null), &meta_at, problems);
    for (i, reference) in meta.taxonomies.iter().enumerate() {
        let id = match reference {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => id_in_reference(s, Collection::Taxonomies).and_then(|t| t.parse().ok()),
            _ => None,
        };
        match id.filter(|n| *n > 0) {
            Some(id) => taxonomies.push(id),
            None => problems.push(Problem::at(
                format!("{meta_at}/taxonomies/{i}"),
                format!("{reference} is not a taxonomy id or URL"),
            )),
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(Parsed {
        id,
        data: data?,
        meta,
        sources,
        taxonomies,
        attachments,
    })
}

/// Checks every reference the payloads make against the store, in one query per kind.
async fn check_references(
    state: &AppState,
    caller: &Caller,
    items: &[(String, Parsed)],
    problems: &mut Vec<Problem>,
) -> Result<(), ApiError> {
    let wanted_sources: Vec<SourceId> = items
        .iter()
        .flat_map(|(_, p)| p.sources.iter().flatten().copied())
        .collect();
    let unusable = unusable_sources(state, caller, &wanted_sources).await?;
    let usable = |s: &SourceId| !unusable.contains(s);
    let wanted_attachments: Vec<i64> = items
        .iter()
        .flat_map(|(_, p)| p.attachments.iter().flatten().copied())
        .collect();
    let attachments = state
        .store
        .visible_attachments(&caller.scope, caller.user_id, &wanted_attachments)
        .await?;
    for (at, parsed) in items {
        for (i, attachment) in parsed.attachments.iter().flatten().enumerate() {
            if !attachments.contains(attachment) {
                problems.push(Problem::at(
                    format!("{at}/attachments/{i}"),
                    format!("attachment {attachment} does not exist"),
                ));
            }
        }
    }
    let wanted_taxonomies: Vec<i64> = items.iter().flat_map(|(_, p)| p.taxonomies.iter().copied()).collect();
    let taxonomies = state.store.existing_taxonomies(&wanted_taxonomies).await?;
    for (at, parsed) in items {
        match &parsed.sources {
            Some(sources) => {
                for (i, source) in sources.iter().enumerate() {
                    if !usable(source) {
                        problems.push(Problem::at(
                            format!("{at}/sources/{i}"),
                            format!("source {source} does not exist"),
                        ));
                    }
                }
            }
            None if caller.default_source.is_none() => problems.push(Problem::at(
                format!("{at}/sources"),
                "name the entity's sources: you belong to no group, so you have no default source",
            )),
            None => {}
        }
        for (i, taxonomy) in parsed.taxonomies.iter().enumerate() {
            if !taxonomies.contains(taxonomy) {
                problems.push(Problem::at(
                    format!("{at}/meta/taxonomies/{i}"),
                    format!("taxonomy {taxonomy} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

fn reject_removed_parameters(raw: Option<&str>) -> Result<(), ApiError> {
    let mut problems = Problems::default();
    for (key, _) in query::pairs(raw) {
        if REMOVED_PARAMETERS.contains(&key.as_str()) {
            problems.add(ApiError::parameter(
                key.clone(),
                format!("{key} is no longer supported: send the full list of tags and taxonomies in meta"),
            ));
        }
    }
    problems.finish()
}

/// The state to write for a parsed payload.
fn write_for(parsed: Parsed, id: Uuid, exists: bool, existing: Option<&Entity>, caller: &Caller) -> EntityWrite {
    let entity::EntityData {
        entity_type,
        title,
        stix_id,
        mut document,
        extracts,
        ..
    } = parsed.data;
    let stix_id = stix_id
        .or_else(|| existing.map(|e| e.stix_id.clone()))
        .unwrap_or_else(|| entity::generate_stix_id(entity_type));
    document.insert("id".into(), Value::String(stix_id.clone()));
    let sources = parsed
        .sources
        .or_else(|| existing.map(|e| e.sources.clone()))
        .unwrap_or_else(|| caller.default_source.into_iter().collect());
    EntityWrite {
        id,
        exists,
        stix_id,
        entity_type: entity_type.to_owned(),
        title,
        data: document,
        meta: parsed.meta,
        sources,
        taxonomies: parsed.taxonomies,
        // A new entity links what it names; an existing one keeps its links unless extracts are given.
        extracts: if exists {
            extracts
        } else {
            Some(extracts.unwrap_or_default())
        },
        attachments: if exists {
            parsed.attachments
        } else {
            Some(parsed.attachments.unwrap_or_default())
        },
    }
}

/// The descriptions' images may show only the entity's own attachments (those the request
/// names, or for an update that names none, those it has).
fn image_problems(at: &str, parsed: &Parsed, current: &[i64]) -> Vec<Problem> {
    let attached = parsed.attachments.as_deref().unwrap_or(current);
    parsed
        .data
        .image_attachments
        .iter()
        .filter(|id| !attached.contains(id))
        .map(|id| {
            let field = if parsed.data.document.get("description").and_then(Value::as_str).is_some_and(|d| d.contains(&format!("entity-attachments/{id}/download"))) {
                "description"
            } else {
                "short_description"
            };
            Problem::at(
                format!("{at}/data/{field}"),
                format!("the {field} shows attachment {id}, which is not one of this entity's attachments: list it in attachments"),
            )
        })
        .collect()
}

fn entity_ref(raw: &str) -> EntityRef {
    match Uuid::parse_str(raw) {
        Ok(id) => EntityRef::Id(id),
        Err(_) => EntityRef::StixId(raw.to_owned()),
    }
}

/// List the entities you can see.
#[utoipa::path(get, path = "/api/v2/entities", tag = "entities",
    responses((status = 200, description = "Entities", body = ListEnvelope<EntityDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("entities"))?;
    reject_removed_parameters(raw.as_deref())?;
    let (mut query, attributes) = query::list_query(raw.as_deref(), &entity::SPEC)?;
    query::hide_unseen_sources(&mut query, &caller.scope);
    let page = state.store.list_entities(&caller.scope, &query).await?;
    let now = Timestamp::now();
    Ok(envelope::list(page, &query, &attributes, |e| {
        EntityDto::from_domain(e, &links, now)
    }))
}

/// One entity, by UUID or by `data.id`.
#[utoipa::path(get, path = "/api/v2/entities/{id}", tag = "entities",
    params(("id" = String, Path, description = "The entity's UUID or its data.id")),
    responses((status = 200, description = "The entity", body = Single<EntityDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("entities"))?;
    let entity = state.store.get_entity(&caller.scope, &entity_ref(&id)).await?;
    Ok(envelope::single(
        StatusCode::OK,
        EntityDto::from_domain(entity, &links, Timestamp::now()),
    ))
}

/// Create one entity: `{"data": {"data": {"type": …, "title": …}, "meta": {…}, "sources": […]}}`.
#[utoipa::path(post, path = "/api/v2/entities", tag = "entities",
    request_body(content = inline(Single<Object>), description = "{\"data\": <entity>}"),
    responses((status = 201, description = "The new entity", body = Single<EntityDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("entities"))?;
    reject_removed_parameters(raw.as_deref())?;
    let mut problems = Vec::new();
    let payload = envelope_data(&body, &mut problems);
    let parsed = payload.and_then(|p| parse(p, "/data", &mut problems));
    ApiError::check(std::mem::take(&mut problems))?;
    let parsed = parsed.ok_or_else(|| ApiError::bad_request("the entity is not valid"))?;
    let items = vec![("/data".to_owned(), parsed)];
    check_references(&state, &caller, &items, &mut problems).await?;
    ApiError::check(problems)?;
    let (_, parsed) = items
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("no entity"))?;
    let stix: Vec<String> = parsed.data.stix_id.iter().cloned().collect();
    let ids: Vec<Uuid> = parsed.id.into_iter().collect();
    if let Some(taken) = state.store.entity_keys(&caller.scope, &ids, &stix).await?.first() {
        return Err(ApiError::conflict(format!(
            "An entity with data.id {} already exists",
            taken.stix_id
        )));
    }
    let id = parsed.id.unwrap_or_else(Uuid::new_v4);
    ApiError::check(image_problems("/data", &parsed, &[]))?;
    let write = write_for(parsed, id, false, None, &caller);
    let stored = state.store.write_entities(&[write]).await?.remove(0);
    Ok(envelope::single(
        StatusCode::CREATED,
        EntityDto::from_domain(stored, &links, Timestamp::now()),
    ))
}

/// `body.data`, or a problem saying the body must be `{"data": …}`.
fn envelope_data<'a>(body: &'a Value, problems: &mut Vec<Problem>) -> Option<&'a Value> {
    match body.as_object() {
        Some(o) if o.contains_key("data") => {
            for key in o.keys().filter(|k| *k != "data") {
                problems.push(Problem::at(
                    format!("/{}", entity::escape(key)),
                    format!("'{key}' belongs inside data"),
                ));
            }
            o.get("data")
        }
        _ => {
            problems.push(Problem::at("/", "the body must be {\"data\": …}"));
            None
        }
    }
}

/// Create or update many entities at once, all or none: `{"data": [<entity>, …]}`. Each is
/// matched by `id`, else by `data.id`; the answer lists them in the order sent.
#[utoipa::path(put, path = "/api/v2/entities", tag = "entities",
    request_body(content = inline(Single<Vec<Object>>), description = "{\"data\": [<entity>, …]}"),
    responses((status = 200, description = "The entities as stored, in input order", body = inline(Single<Vec<EntityDto>>))))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("entities"))?;
    reject_removed_parameters(raw.as_deref())?;
    let mut problems = Vec::new();
    let items = super::bulk_items(&body, "entity")?;
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/data/{i}");
        if let Some(p) = parse(item, &at, &mut problems) {
            parsed.push((at, p));
        }
    }
    ApiError::check(std::mem::take(&mut problems))?;
    check_references(&state, &caller, &parsed, &mut problems).await?;

    // Match against what exists: by id, else by data.id.
    let ids: Vec<Uuid> = parsed.iter().filter_map(|(_, p)| p.id).collect();
    let stix_ids: Vec<String> = parsed.iter().filter_map(|(_, p)| p.data.stix_id.clone()).collect();
    let keys = state.store.entity_keys(&caller.scope, &ids, &stix_ids).await?;
    let mut seen_ids = HashSet::new();
    let mut seen_stix = HashSet::new();
    let mut plan: Vec<(String, Parsed, Uuid, bool)> = Vec::new();
    for (at, p) in parsed {
        let by_id = p.id.and_then(|id| keys.iter().find(|k| k.id == id && k.visible));
        let by_stix = p
            .data
            .stix_id
            .as_ref()
            .and_then(|s| keys.iter().find(|k| &k.stix_id == s));
        let target: Result<(Uuid, bool), Problem> = match (p.id, by_id, by_stix) {
            (Some(id), None, _) => Err(Problem::at(format!("{at}/id"), format!("entity {id} not found"))),
            (Some(_), Some(k), Some(other)) if other.id != k.id => Err(Problem::at(
                format!("{at}/data/id"),
                format!("data.id {} belongs to another entity", other.stix_id),
            )),
            (Some(_), Some(k), _) => Ok((k.id, true)),
            (None, _, Some(EntityKey { id, visible: true, .. })) => Ok((*id, true)),
            (None, _, Some(k)) => Err(Problem::at(
                format!("{at}/data/id"),
                format!("an entity with data.id {} already exists", k.stix_id),
            )),
            (None, _, None) => Ok((Uuid::new_v4(), false)),
        };
        match target {
            Ok((id, exists)) => {
                if !seen_ids.insert(id) || p.data.stix_id.as_ref().is_some_and(|s| !seen_stix.insert(s.clone())) {
                    problems.push(Problem::at(at, "the same entity appears twice in this request"));
                } else {
                    plan.push((at, p, id, exists));
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    ApiError::check(std::mem::take(&mut problems))?;
    let replaced: Vec<Uuid> = plan
        .iter()
        .filter(|(_, _, _, exists)| *exists)
        .map(|(_, _, id, _)| *id)
        .collect();
    let existing = state.store.entities_by_ids(&replaced).await?;
    for (at, p, id, _) in &plan {
        let current = existing
            .iter()
            .find(|e| e.id == *id)
            .map_or(&[][..], |e| e.attachments.as_slice());
        problems.extend(image_problems(at, p, current));
    }
    ApiError::check(problems)?;
    let writes: Vec<EntityWrite> = plan
        .into_iter()
        .map(|(_, p, id, exists)| {
            let current = existing.iter().find(|e| e.id == id);
            write_for(p, id, exists, current, &caller)
        })
        .collect();
    let stored = state.store.write_entities(&writes).await?;
    let now = Timestamp::now();
    let rendered: Vec<EntityDto> = stored
        .into_iter()
        .map(|e| EntityDto::from_domain(e, &links, now))
        .collect();
    Ok(envelope::single(StatusCode::OK, rendered))
}

/// Change one entity: top-level keys replace; `data` and `meta` merge key by key (`null`
/// removes a key); lists given replace lists.
#[utoipa::path(patch, path = "/api/v2/entities/{id}", tag = "entities",
    params(("id" = String, Path, description = "The entity's UUID or its data.id")),
    request_body(content = inline(Single<Object>), description = "{\"data\": <partial entity>}"),
    responses((status = 200, description = "The changed entity", body = Single<EntityDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("entities"))?;
    reject_removed_parameters(raw.as_deref())?;
    let current = state.store.get_entity(&caller.scope, &entity_ref(&id)).await?;
    let mut problems = Vec::new();
    let Some(Value::Object(changes)) = envelope_data(&body, &mut problems).cloned() else {
        problems.push(Problem::at(
            "/data",
            "a change is an object {\"data\": {\"data\": {…}, \"meta\": {…}}}",
        ));
        return Err(ApiError::from_problems(problems).unwrap_or_else(|| ApiError::bad_request("bad change")));
    };
    let merged = merge(&current, &changes);
    let parsed = parse(&Value::Object(merged), "/data", &mut problems);
    ApiError::check(std::mem::take(&mut problems))?;
    let mut parsed = parsed.ok_or_else(|| ApiError::bad_request("the entity is not valid"))?;
    if !changes.contains_key("sources") {
        parsed.sources = Some(current.sources.clone());
    }
    let items = vec![("/data".to_owned(), parsed)];
    check_references(&state, &caller, &items, &mut problems).await?;
    ApiError::check(std::mem::take(&mut problems))?;
    let (_, parsed) = items
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::bad_request("no entity"))?;
    if let Some(stix) = &parsed.data.stix_id {
        if *stix != current.stix_id
            && !state
                .store
                .entity_keys(&caller.scope, &[], std::slice::from_ref(stix))
                .await?
                .is_empty()
        {
            return Err(ApiError::conflict(format!(
                "An entity with data.id {stix} already exists"
            )));
        }
    }
    ApiError::check(image_problems("/data", &parsed, &current.attachments))?;
    let write = write_for(parsed, current.id, true, Some(&current), &caller);
    let stored = state.store.write_entities(&[write]).await?.remove(0);
    Ok(envelope::single(
        StatusCode::OK,
        EntityDto::from_domain(stored, &links, Timestamp::now()),
    ))
}

/// The entity as a payload, with `changes` applied.
fn merge(current: &Entity, changes: &Map<String, Value>) -> Map<String, Value> {
    let mut meta = current.meta.clone();
    meta.insert("tags".into(), Value::from(current.tags.clone()));
    meta.insert("taxonomies".into(), Value::from(current.taxonomies.clone()));
    let mut merged = Map::new();
    merged.insert("data".into(), Value::Object(current.data.clone()));
    merged.insert("meta".into(), Value::Object(meta));
    for (key, value) in changes {
        match (key.as_str(), value, merged.get_mut(key)) {
            ("data" | "meta", Value::Object(patch), Some(Value::Object(target))) => {
                for (k, v) in patch {
                    if v.is_null() {
                        target.remove(k);
                    } else {
                        target.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    merged
}

/// Delete an entity with its links; observables stay.
#[utoipa::path(delete, path = "/api/v2/entities/{id}", tag = "entities",
    params(("id" = String, Path, description = "The entity's UUID or its data.id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("entities"))?;
    let entity = state.store.get_entity(&caller.scope, &entity_ref(&id)).await?;
    state.store.delete_entity(&caller.scope, entity.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
