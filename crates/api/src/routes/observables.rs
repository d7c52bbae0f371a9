//! `/api/v2/observables`: typed values (IPs, domains, hashes…), looked up by value.

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::envelope::{self, ListEnvelope, Single};
use crate::error::ApiError;
use crate::links::{Collection, Links};
use crate::query;
use crate::routes::path_int;
use crate::routes::{source_references, unusable_sources};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::entity::escape;
use cairn_domain::filter::{Op, TextMatch, Value as FilterValue};
use cairn_domain::observable::{self, Observable, ObservableWrite};
use cairn_domain::permission::Permission;
use cairn_domain::Problem;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Fields Cairn returns that clients may send back; ignored on writes.
const READ_ONLY: [&str; 4] = ["id", "entities", "created_at", "last_updated_at"];

/// An observable.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObservableDto {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    /// Normalized for its type.
    pub value: String,
    /// `{"maliciousness": "unknown" | "safe" | "low" | "medium" | "high"}`.
    #[schema(value_type = Object)]
    pub meta: Value,
    /// URLs of the entities you can see that mention it.
    pub entities: Vec<String>,
    /// URLs of the sources you can see it came from.
    pub sources: Vec<String>,
    pub created_at: String,
    pub last_updated_at: String,
}

impl ObservableDto {
    fn from_domain(o: Observable, links: &Links) -> Self {
        ObservableDto {
            id: o.id,
            kind: o.kind,
            value: o.value,
            meta: json!({"maliciousness": o.maliciousness}),
            entities: links.urls(Collection::Entities, o.entities),
            sources: links.urls(Collection::Sources, o.sources),
            created_at: o.created_at.to_string(),
            last_updated_at: o.last_updated_at.to_string(),
        }
    }
}

/// One observable payload `{type, value, meta?: {maliciousness}, sources?}` at `at`.
fn parse(item: &Value, at: &str, caller: &Caller, problems: &mut Vec<Problem>) -> Option<ObservableWrite> {
    let Some(object) = item.as_object() else {
        problems.push(Problem::at(
            at,
            "an observable is an object {\"type\": …, \"value\": …}",
        ));
        return None;
    };
    let before = problems.len();
    let mut maliciousness = None;
    let mut sources = None;
    for (key, value) in object {
        let here = format!("{at}/{}", escape(key));
        match key.as_str() {
            "type" | "value" => {}
            "meta" => match value.as_object() {
                Some(meta) => {
                    for (k, v) in meta {
                        match (k.as_str(), v.as_str()) {
                            ("maliciousness", Some(m)) if observable::MALICIOUSNESS.contains(&m) => {
                                maliciousness = observable::MALICIOUSNESS.iter().copied().find(|x| *x == m)
                            }
                            ("maliciousness", _) => problems.push(Problem::at(
                                format!("{here}/maliciousness"),
                                format!(
                                    "{v} is not a maliciousness (one of {})",
                                    observable::MALICIOUSNESS.join(", ")
                                ),
                            )),
                            _ => problems.push(Problem::at(
                                format!("{here}/{}", escape(k)),
                                format!("'{k}' is not an observable meta property"),
                            )),
                        }
                    }
                }
                None => problems.push(Problem::at(here, "meta must be an object {\"maliciousness\": …}")),
            },
            "sources" => sources = source_references(value, &here, problems),
            k if READ_ONLY.contains(&k) => {}
            _ => problems.push(Problem::at(here, format!("'{key}' is not a property of an observable"))),
        }
    }
    let kind = match object.get("type").and_then(Value::as_str).map(observable::check_type) {
        Some(Ok(kind)) => Some(kind),
        Some(Err(e)) => {
            problems.push(Problem::at(format!("{at}/type"), e));
            None
        }
        None => {
            problems.push(Problem::at(
                format!("{at}/type"),
                "type is required (an observable type)",
            ));
            None
        }
    };
    let value = match (kind, object.get("value")) {
        (_, None) => {
            problems.push(Problem::at(format!("{at}/value"), "value is required"));
            None
        }
        (Some(kind), Some(Value::String(v))) => observable::normalize(kind, v)
            .map_err(|e| problems.push(Problem::at(format!("{at}/value"), e)))
            .ok(),
        (Some(kind), Some(Value::Number(n))) => observable::normalize(kind, &n.to_string())
            .map_err(|e| problems.push(Problem::at(format!("{at}/value"), e)))
            .ok(),
        (Some(_), Some(_)) => {
            problems.push(Problem::at(format!("{at}/value"), "value must be a string"));
            None
        }
        (None, _) => None,
    };
    let sources = match sources {
        Some(s) => s,
        None => match caller.default_source {
            Some(s) => vec![s],
            None => {
                problems.push(Problem::at(
                    format!("{at}/sources"),
                    "name the observable's sources: you belong to no group, so you have no default source",
                ));
                Vec::new()
            }
        },
    };
    if problems.len() > before {
        return None;
    }
    Some(ObservableWrite {
        kind: kind?,
        value: value?,
        maliciousness,
        sources,
    })
}

async fn check_sources(
    state: &AppState,
    caller: &Caller,
    writes: &[(String, ObservableWrite)],
    problems: &mut Vec<Problem>,
) -> Result<(), ApiError> {
    let wanted: Vec<_> = writes.iter().flat_map(|(_, w)| w.sources.iter().copied()).collect();
    let unusable = unusable_sources(state, caller, &wanted).await?;
    for (at, write) in writes {
        for (i, source) in write.sources.iter().enumerate() {
            if unusable.contains(source) {
                problems.push(Problem::at(
                    format!("{at}/sources/{i}"),
                    format!("source {source} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// List the observables you can see. `filter[value]` matches the value as given and as each
/// type (or each `filter[type]`) normalizes it, so `Evil.COM.` finds the domain `evil.com`.
#[utoipa::path(get, path = "/api/v2/observables", tag = "observables",
    responses((status = 200, description = "Observables", body = ListEnvelope<ObservableDto>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("extracts"))?;
    let (mut query, attributes) = query::list_query(raw.as_deref(), &observable::SPEC)?;
    let kinds: Vec<String> = query
        .filter
        .0
        .iter()
        .filter(|c| c.field == "type" && c.op == Op::Eq)
        .flat_map(|c| c.values.iter())
        .filter_map(|v| match v {
            FilterValue::Enum(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    for condition in query.filter.0.iter_mut().filter(|c| c.field == "value") {
        let mut forms: Vec<FilterValue> = Vec::new();
        for value in &condition.values {
            if let FilterValue::Text(TextMatch::Exact(raw)) = value {
                for form in observable::lookup_forms(raw, &kinds) {
                    let form = FilterValue::Text(TextMatch::Exact(form));
                    if !forms.contains(&form) {
                        forms.push(form);
                    }
                }
            }
        }
        condition.values = forms;
    }
    query::hide_unseen_sources(&mut query, &caller.scope);
    let named = query::filtered_ids(&query, "entities");
    if !named.is_empty() {
        let seen: Vec<_> = state
            .store
            .entity_keys(&caller.scope, &named, &[])
            .await?
            .into_iter()
            .filter(|k| k.visible)
            .map(|k| k.id)
            .collect();
        query::hide_unseen_ids(&mut query, "entities", |e| seen.contains(e));
    }
    let page = state.store.list_observables(&caller.scope, &query).await?;
    Ok(envelope::list(page, &query, &attributes, |o| {
        ObservableDto::from_domain(o, &links)
    }))
}

/// One observable.
#[utoipa::path(get, path = "/api/v2/observables/{id}", tag = "observables",
    params(("id" = i64, Path, description = "The observable's id")),
    responses((status = 200, description = "The observable", body = Single<ObservableDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("extracts"))?;
    let o = state
        .store
        .get_observable(&caller.scope, path_int(&id, Collection::Observables)?)
        .await?;
    Ok(envelope::single(StatusCode::OK, ObservableDto::from_domain(o, &links)))
}

/// Report an observable: `{"data": {"type": …, "value": …, "meta": {"maliciousness": …}}}`.
/// If it is already known, your sources are added to it (the answer is the same either way).
#[utoipa::path(post, path = "/api/v2/observables", tag = "observables",
    request_body(content = inline(Single<Object>), description = "{\"data\": {type, value, meta?, sources?}}"),
    responses((status = 201, description = "The observable", body = Single<ObservableDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("extracts"))?;
    let mut stored = write(&state, &caller, &body, false).await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        ObservableDto::from_domain(stored.remove(0), &links),
    ))
}

/// Create or update many observables, matched by type and normalized value, all or none:
/// `{"data": [{type, value, meta?}, …]}`. The answer lists them in input order.
#[utoipa::path(put, path = "/api/v2/observables", tag = "observables",
    request_body(content = inline(Single<Vec<Object>>), description = "{\"data\": [{type, value, meta?, sources?}, …]}"),
    responses((status = 200, description = "The observables, in input order", body = inline(Single<Vec<ObservableDto>>))))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("extracts"))?;
    let stored = write(&state, &caller, &body, true).await?;
    let rendered: Vec<ObservableDto> = stored
        .into_iter()
        .map(|o| ObservableDto::from_domain(o, &links))
        .collect();
    Ok(envelope::single(StatusCode::OK, rendered))
}

async fn write(state: &AppState, caller: &Caller, body: &Value, bulk: bool) -> Result<Vec<Observable>, ApiError> {
    let mut problems = Vec::new();
    let items: Vec<(String, &Value)> = if bulk {
        super::bulk_items(body, "observable")?
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("/data/{i}"), v))
            .collect()
    } else {
        // (bulk_items already refuses keys beside data)
        if let Some(extra) = body.as_object().and_then(|o| o.keys().find(|k| *k != "data")) {
            problems.push(Problem::at(
                format!("/{}", escape(extra)),
                format!("'{extra}' belongs inside data"),
            ));
        }
        match body.get("data") {
            Some(item) if item.is_object() => vec![("/data".to_owned(), item)],
            _ => {
                return Err(ApiError::pointer(
                    "/",
                    "the body must be {\"data\": {\"type\": …, \"value\": …}}",
                ))
            }
        }
    };
    let mut writes = Vec::new();
    for (at, item) in items {
        if let Some(w) = parse(item, &at, caller, &mut problems) {
            writes.push((at, w));
        }
    }
    ApiError::check(std::mem::take(&mut problems))?;
    check_sources(state, caller, &writes, &mut problems).await?;
    ApiError::check(problems)?;
    let writes: Vec<ObservableWrite> = writes.into_iter().map(|(_, w)| w).collect();
    // The observables come back as the caller sees them; ones the caller just reported are
    // visible through the sources just tied to them.
    Ok(state.store.write_observables(&caller.scope, &writes).await?)
}

/// Set an observable's maliciousness: `{"data": {"meta": {"maliciousness": "high"}}}`.
#[utoipa::path(patch, path = "/api/v2/observables/{id}", tag = "observables",
    params(("id" = i64, Path, description = "The observable's id")),
    request_body(content = inline(Single<Object>), description = "{\"data\": {\"meta\": {\"maliciousness\": …}}}"),
    responses((status = 200, description = "The changed observable", body = Single<ObservableDto>)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("extracts"))?;
    let id = path_int(&id, Collection::Observables)?;
    state.store.get_observable(&caller.scope, id).await?;
    let data = body
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::pointer("/", "the body must be {\"data\": {\"meta\": {\"maliciousness\": …}}}"))?;
    let mut problems = Vec::new();
    for key in data
        .keys()
        .filter(|k| *k != "meta" && !READ_ONLY.contains(&k.as_str()) && *k != "type" && *k != "value")
    {
        problems.push(Problem::at(
            format!("/data/{}", escape(key)),
            format!("'{key}' cannot be changed on an observable"),
        ));
    }
    let maliciousness = data
        .get("meta")
        .and_then(|m| m.get("maliciousness"))
        .and_then(Value::as_str);
    let maliciousness = match maliciousness.and_then(|m| observable::MALICIOUSNESS.iter().find(|x| **x == m)) {
        Some(m) => Some(*m),
        None => {
            problems.push(Problem::at(
                "/data/meta/maliciousness",
                format!("maliciousness is one of {}", observable::MALICIOUSNESS.join(", ")),
            ));
            None
        }
    };
    ApiError::check(problems)?;
    let o = state
        .store
        .set_maliciousness(&caller.scope, id, maliciousness.unwrap_or("unknown"))
        .await?;
    Ok(envelope::single(StatusCode::OK, ObservableDto::from_domain(o, &links)))
}

/// Delete an observable; entities that mentioned it lose the link.
#[utoipa::path(delete, path = "/api/v2/observables/{id}", tag = "observables",
    params(("id" = i64, Path, description = "The observable's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("extracts"))?;
    state
        .store
        .delete_observable(&caller.scope, path_int(&id, Collection::Observables)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
