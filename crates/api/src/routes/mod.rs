//! The endpoints, one module per resource.

pub mod attachments;
pub mod entities;
pub mod groups;
pub mod observables;
pub mod ops;
pub mod permissions;
pub mod private;
pub mod relationships;
pub mod roles;
pub mod sources;
pub mod taxonomies;
pub mod tokens;
pub mod users;

use crate::auth::Caller;
use crate::error::{ApiError, Problems};
use crate::links::{id_in_reference, Collection};
use crate::state::AppState;
use cairn_domain::source::SourceId;
use cairn_domain::Problem;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// The most objects one bulk request may carry.
pub const MAX_BULK: usize = 10_000;

/// The items of a bulk body `{"data": [<noun>, …]}`, at most [`MAX_BULK`] of them.
pub fn bulk_items<'a>(body: &'a serde_json::Value, noun: &str) -> Result<&'a [serde_json::Value], ApiError> {
    if let Some(extra) = body.as_object().and_then(|o| o.keys().find(|k| *k != "data")) {
        return Err(ApiError::pointer(
            format!("/{extra}"),
            format!("'{extra}' belongs inside data"),
        ));
    }
    match body.get("data") {
        Some(serde_json::Value::Array(items)) if items.len() <= MAX_BULK => Ok(items),
        Some(serde_json::Value::Array(items)) => Err(ApiError::pointer(
            "/data",
            format!("{} items in one request; at most {MAX_BULK}", items.len()),
        )),
        _ => Err(ApiError::pointer(
            "/",
            format!("the body must be {{\"data\": [<{noun}>, …]}}"),
        )),
    }
}

/// A reference to another object in a request body: its id, or the URL Cairn gave for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Reference {
    Id(i64),
    Text(String),
}

/// An integer id from a URL path; a malformed one names no object (404).
pub fn path_int(raw: &str, collection: Collection) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::not_found(format!(
            "No {} with id '{raw}': its ids are positive integers",
            collection.noun()
        ))
    })
}

/// A UUID from a URL path; a malformed one names no object (404).
pub fn path_uuid(raw: &str, collection: Collection) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::not_found(format!("No {} with id '{raw}': its ids are UUIDs", collection.noun())))
}

/// Integer ids from references at `pointer/<index>`, recording each bad one.
pub fn int_references(
    references: &[Reference],
    collection: Collection,
    pointer: &str,
    problems: &mut Problems,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, reference) in references.iter().enumerate() {
        let id = match reference {
            Reference::Id(n) => Some(*n).filter(|n| *n > 0),
            Reference::Text(text) => id_in_reference(text, collection)
                .and_then(|t| t.parse().ok())
                .filter(|n: &i64| *n > 0),
        };
        match id {
            Some(id) => ids.push(id),
            None => problems.add(ApiError::pointer(
                format!("{pointer}/{i}"),
                format!("{} is not a {} id or URL", describe(reference), collection.noun()),
            )),
        }
    }
    ids
}

/// UUIDs from references at `pointer/<index>`, recording each bad one.
pub fn uuid_references(
    references: &[Reference],
    collection: Collection,
    pointer: &str,
    problems: &mut Problems,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for (i, reference) in references.iter().enumerate() {
        let id = match reference {
            Reference::Id(_) => None,
            Reference::Text(text) => id_in_reference(text, collection).and_then(|t| Uuid::parse_str(t).ok()),
        };
        match id {
            Some(id) => ids.push(id),
            None => problems.add(ApiError::pointer(
                format!("{pointer}/{i}"),
                format!(
                    "{} is not a {} id (UUID) or URL",
                    describe(reference),
                    collection.noun()
                ),
            )),
        }
    }
    ids
}

/// Records a problem for each id in `wanted` missing from `existing`.
pub fn require_existing<T: PartialEq + std::fmt::Display>(
    wanted: &[T],
    existing: &[T],
    collection: Collection,
    pointer: &str,
    problems: &mut Problems,
) {
    for (i, id) in wanted.iter().enumerate() {
        if !existing.contains(id) {
            problems.add(ApiError::pointer(
                format!("{pointer}/{i}"),
                format!("{} {id} does not exist", collection.noun()),
            ));
        }
    }
}

/// `[{"source_id": id} | id | url]`.
pub(crate) fn source_references(value: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<Vec<SourceId>> {
    let Some(items) = value.as_array() else {
        problems.push(Problem::at(
            at,
            "sources must be a list of source ids, URLs or {\"source_id\": …}",
        ));
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let text = match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("source_id").and_then(Value::as_str),
            _ => None,
        };
        match text
            .and_then(|t| id_in_reference(t, Collection::Sources))
            .map(Uuid::parse_str)
        {
            Some(Ok(id)) => out.push(id),
            _ => problems.push(Problem::at(
                format!("{at}/{i}"),
                format!("{item} is not a source id, URL or {{\"source_id\": …}}"),
            )),
        }
    }
    Some(out)
}

/// The sources among `wanted` that the caller cannot tie objects to: those that do not exist
/// and those the caller cannot see (which, to the caller, do not exist either).
pub(crate) async fn unusable_sources(
    state: &AppState,
    caller: &Caller,
    wanted: &[SourceId],
) -> Result<Vec<SourceId>, ApiError> {
    let existing = state.store.existing_sources(wanted).await?;
    let visible = caller.scope.visible_sources();
    Ok(wanted
        .iter()
        .copied()
        .filter(|s| !existing.contains(s) || visible.as_ref().is_some_and(|v| !v.contains(s)))
        .collect())
}

fn describe(reference: &Reference) -> String {
    match reference {
        Reference::Id(n) => n.to_string(),
        Reference::Text(t) => format!("'{t}'"),
    }
}
