//! List query strings: `limit`, `offset`, `sort`, `attributes`, `data` and `filter[...]`,
//! parsed against a resource's spec into the domain's [`ListQuery`].
//!
//! Query strings are read raw, so brackets and spaces may arrive unescaped, and hundreds of
//! repeated keys are fine.

use crate::error::{ApiError, Problems};
use cairn_domain::filter::{Condition, ListQuery, Op, ResourceSpec, SortKey, DEFAULT_LIMIT, MAX_LIMIT};
use percent_encoding::percent_decode_str;

/// The query's `attributes=`: dot paths to keep in each item (empty = everything).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(pub Vec<String>);

/// Splits a raw query string into decoded `(key, value)` pairs, in order.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = split_pair(pair);
            (decode(k), decode(v))
        })
        .collect()
}

/// Splits `key=value` at the first `=` outside brackets: in `filter[>=created_at]=…` the
/// operator's `=` belongs to the key.
fn split_pair(pair: &str) -> (&str, &str) {
    let mut depth = 0usize;
    for (i, b) in pair.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'=' if depth == 0 => return (&pair[..i], &pair[i + 1..]),
            _ => {}
        }
    }
    (pair, "")
}

fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Filters on related objects must not reveal links to objects the caller cannot see: each
/// id in a `field` condition for which `visible` is false becomes the nil UUID, which
/// matches nothing.
pub fn hide_unseen_ids(query: &mut ListQuery, field: &str, visible: impl Fn(&uuid::Uuid) -> bool) {
    use cairn_domain::filter::Value;
    for condition in query.filter.0.iter_mut().filter(|c| c.field == field) {
        for value in condition.values.iter_mut() {
            if let Value::Uuid(id) = value {
                if !visible(id) {
                    *id = uuid::Uuid::nil();
                }
            }
        }
    }
}

/// [`hide_unseen_ids`] for `filter[sources]`: sources outside the caller's scope match nothing.
pub fn hide_unseen_sources(query: &mut ListQuery, scope: &cairn_domain::visibility::VisibilityScope) {
    let visible = scope.visible_sources();
    hide_unseen_ids(query, "sources", |s| visible.as_ref().is_none_or(|v| v.contains(s)));
}

/// The UUIDs a query's `field` conditions name.
pub fn filtered_ids(query: &ListQuery, field: &str) -> Vec<uuid::Uuid> {
    use cairn_domain::filter::Value;
    query
        .filter
        .0
        .iter()
        .filter(|c| c.field == field)
        .flat_map(|c| c.values.iter())
        .filter_map(|v| if let Value::Uuid(id) = v { Some(*id) } else { None })
        .collect()
}

/// Parses a list request's query string, reporting every bad parameter at once.
pub fn list_query(raw: Option<&str>, spec: &ResourceSpec) -> Result<(ListQuery, Attributes), ApiError> {
    let mut query = ListQuery::default();
    let mut attributes = Attributes::default();
    let mut problems = Problems::default();
    for (key, value) in pairs(raw) {
        match key.as_str() {
            "limit" => match value.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => query.limit = n,
                _ => problems.add(ApiError::parameter(
                    "limit",
                    format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}), not '{value}'"
                    ),
                )),
            },
            "offset" => match value.trim().parse::<u64>() {
                Ok(n) if n <= i64::MAX as u64 => query.offset = n,
                _ => problems.add(ApiError::parameter(
                    "offset",
                    format!("offset must be a whole number of 0 or more, not '{value}'"),
                )),
            },
            "data" => match value.as_str() {
                "false" => query.count_only = true,
                "true" => query.count_only = false,
                _ => problems.add(ApiError::parameter(
                    "data",
                    format!("data must be true or false, not '{value}'"),
                )),
            },
            "sort" => match sort_keys(&value, spec) {
                Ok(keys) => query.sort = keys,
                Err(e) => problems.add(e),
            },
            "attributes" => {
                attributes.0 = value
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            _ => {
                if let Some(inner) = key.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) {
                    match condition(&key, inner, &value, spec) {
                        Ok((field, op, v)) => {
                            match query.filter.0.iter_mut().find(|c| c.field == field && c.op == op) {
                                Some(existing) => existing.values.push(v),
                                None => query.filter.0.push(Condition {
                                    field,
                                    op,
                                    values: vec![v],
                                }),
                            }
                        }
                        Err(e) => problems.add(e),
                    }
                } else if key.starts_with("filter") {
                    problems.add(ApiError::parameter(
                        key.clone(),
                        format!("'{key}' is not a filter: write filter[<field>]=<value>"),
                    ));
                }
                // Any other parameter is not ours to judge: integrations send extras.
            }
        }
    }
    problems.finish()?;
    Ok((query, attributes))
}

fn sort_keys(value: &str, spec: &ResourceSpec) -> Result<Vec<SortKey>, ApiError> {
    let mut keys = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part.strip_prefix('+').unwrap_or(part)),
        };
        let field = spec.sorts.iter().find(|s| **s == name).ok_or_else(|| {
            ApiError::parameter(
                "sort",
                format!(
                    "cannot sort by '{name}'; sortable fields: {} (prefix - for descending)",
                    spec.sorts.join(", ")
                ),
            )
        })?;
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

fn condition(
    key: &str,
    inner: &str,
    value: &str,
    spec: &ResourceSpec,
) -> Result<(&'static str, Op, cairn_domain::filter::Value), ApiError> {
    let (op, name) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("!", Op::Ne),
    ]
    .iter()
    .find_map(|(prefix, op)| inner.strip_prefix(prefix).map(|rest| (*op, rest)))
    .unwrap_or((Op::Eq, inner));
    let field = spec.filter_field(name).ok_or_else(|| {
        let known: Vec<&str> = spec.filters.iter().map(|f| f.name).collect();
        ApiError::parameter(
            key,
            format!("cannot filter on '{name}'; filterable fields: {}", known.join(", ")),
        )
    })?;
    if !field.kind.accepts(op) {
        return Err(ApiError::parameter(
            key,
            format!(
                "the operator '{}' does not apply to '{name}'; use filter[{name}]=<value> or filter[!{name}]",
                op.prefix()
            ),
        ));
    }
    let parsed = field
        .kind
        .parse(value)
        .map_err(|detail| ApiError::parameter(key, format!("{key}: {detail}")))?;
    Ok((field.name, op, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_domain::filter::{FieldKind, FieldSpec, TextMatch, Value};

    const SPEC: ResourceSpec = ResourceSpec {
        filters: &[
            FieldSpec {
                name: "name",
                kind: FieldKind::Text,
            },
            FieldSpec {
                name: "entities",
                kind: FieldKind::Uuid,
            },
            FieldSpec {
                name: "last_updated_at",
                kind: FieldKind::Time,
            },
        ],
        sorts: &["name", "last_updated_at"],
    };

    #[test]
    fn raw_brackets_and_spaces_are_read() {
        let (q, _) = list_query(Some("filter[name]=Testing Group"), &SPEC).unwrap();
        assert_eq!(
            q.filter.0[0].values,
            vec![Value::Text(TextMatch::Contains("Testing Group".into()))]
        );
        let (q, _) = list_query(Some("filter%5Bname%5D=Testing+Group"), &SPEC).unwrap();
        assert_eq!(
            q.filter.0[0].values,
            vec![Value::Text(TextMatch::Contains("Testing Group".into()))]
        );
    }

    #[test]
    fn repeated_keys_are_alternatives() {
        let (q, _) = list_query(
            Some("filter[name]=a&filter[name]=b&filter[>last_updated_at]=2024-01-01T00:00:00Z"),
            &SPEC,
        )
        .unwrap();
        assert_eq!(q.filter.0.len(), 2);
        assert_eq!(q.filter.0[0].values.len(), 2);
        assert_eq!(q.filter.0[1].op, Op::Gt);
    }

    #[test]
    fn every_bad_parameter_is_reported() {
        let err = list_query(
            Some("limit=0&offset=-1&sort=colour&filter[entities]=1111&filter[colour]=red"),
            &SPEC,
        )
        .unwrap_err();
        let text = format!("{err:?}");
        for parameter in [
            "\"limit\"",
            "\"offset\"",
            "\"sort\"",
            "\"filter[entities]\"",
            "\"filter[colour]\"",
        ] {
            assert!(text.contains(parameter), "{parameter} missing in {text}");
        }
    }

    #[test]
    fn operators_with_equals_signs_stay_in_the_key() {
        let (q, _) = list_query(
            Some("filter[>=last_updated_at]=2024-01-01T00:00:00Z&filter[<=last_updated_at]=2025-01-01T00:00:00Z"),
            &SPEC,
        )
        .unwrap();
        assert_eq!(
            q.filter.0.iter().map(|c| c.op).collect::<Vec<_>>(),
            vec![Op::Ge, Op::Le]
        );
        assert_eq!(
            pairs(Some("filter[name]=a=b")),
            vec![("filter[name]".to_owned(), "a=b".to_owned())]
        );
    }

    #[test]
    fn sort_descending_with_minus() {
        let (q, _) = list_query(Some("sort=-last_updated_at,name"), &SPEC).unwrap();
        assert_eq!(
            q.sort,
            vec![
                SortKey {
                    field: "last_updated_at",
                    descending: true
                },
                SortKey {
                    field: "name",
                    descending: false
                }
            ]
        );
    }
}
