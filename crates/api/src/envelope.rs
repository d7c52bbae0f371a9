//! Response envelopes: `{"data": …}` for one object, the list envelope for many, and sparse
//! fieldsets (`attributes=`).

use crate::query::Attributes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::filter::{ListPage, ListQuery};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// `{"data": <object>}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Single<T> {
    pub data: T,
}

/// The list envelope. With `data=false` the `data` key is absent and `count` equals
/// `total_count`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListEnvelope<T> {
    /// Items in this page (with `data=false`: all matches).
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<T>>,
    pub limit: u32,
    pub offset: u64,
    /// All matches; an estimate when `total_count_is_estimate`.
    pub total_count: u64,
    /// More objects matched than the count threshold, so `total_count` is the database's estimate.
    pub total_count_is_estimate: bool,
}

/// A single object, answered with `status`.
pub fn single<T: Serialize>(status: StatusCode, data: T) -> Response {
    (status, axum::Json(Single { data })).into_response()
}

/// A page of results, rendered with `render` and trimmed to `attributes`.
pub fn list<T, D: Serialize>(
    page: ListPage<T>,
    query: &ListQuery,
    attributes: &Attributes,
    render: impl Fn(T) -> D,
) -> Response {
    let envelope = if query.count_only {
        ListEnvelope::<Value> {
            count: page.total,
            data: None,
            limit: query.limit,
            offset: query.offset,
            total_count: page.total,
            total_count_is_estimate: page.total_is_estimate,
        }
    } else {
        let items: Vec<Value> = page
            .items
            .into_iter()
            .map(|item| sparse(serde_json::to_value(render(item)).unwrap_or(Value::Null), attributes))
            .collect();
        ListEnvelope {
            count: items.len() as u64,
            data: Some(items),
            limit: query.limit,
            offset: query.offset,
            total_count: page.total,
            total_count_is_estimate: page.total_is_estimate,
        }
    };
    axum::Json(envelope).into_response()
}

/// Keeps only the dot paths in `attributes` (all of the object when there are none).
pub fn sparse(value: Value, attributes: &Attributes) -> Value {
    if attributes.0.is_empty() {
        return value;
    }
    let mut out = Map::new();
    for path in &attributes.0 {
        let parts: Vec<&str> = path.split('.').collect();
        copy_path(&value, &mut out, &parts);
    }
    Value::Object(out)
}

fn copy_path(from: &Value, into: &mut Map<String, Value>, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(found) = from.get(*first) else {
        return;
    };
    if rest.is_empty() {
        into.insert((*first).to_owned(), found.clone());
        return;
    }
    let slot = into
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(inner) = slot {
        copy_path(found, inner, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sparse_fieldsets_keep_dot_paths() {
        let v = json!({"id": 1, "data": {"title": "t", "description": "d"}, "meta": {}});
        let a = Attributes(vec!["id".into(), "data.title".into(), "nope.x".into()]);
        assert_eq!(sparse(v, &a), json!({"id": 1, "data": {"title": "t"}}));
    }
}
