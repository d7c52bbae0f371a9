//! The filter language of list queries, as a tree the store compiles to SQL.
//!
//! `filter[<op><field>]=<value>`: the same key repeated means OR, different keys mean AND.
//! Each resource declares which fields it filters and sorts on ([`ResourceSpec`]); a value is
//! parsed by its field's [`FieldKind`], so an id filter given a non-id is an error, not a
//! silent match on nothing.

use crate::time::Timestamp;
use uuid::Uuid;

/// How a field's values are written and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text: `*` wildcards, `"quoted"` exact, otherwise case-insensitive contains.
    Text,
    /// A string matched exactly (tags, STIX ids).
    Keyword,
    /// One of a closed set of values.
    Enum(&'static [&'static str]),
    /// A UUID, given bare or as the last segment of a URL.
    Uuid,
    /// An integer id, given bare or as the last segment of a URL.
    IntegerId,
    /// An RFC 3339 timestamp; takes `>`, `>=`, `<`, `<=`.
    Time,
    /// `true` or `false`.
    Boolean,
}

/// A field a resource can be filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The name after `filter[`.
    pub name: &'static str,
    pub kind: FieldKind,
}

/// The fields a resource's list filters and sorts on.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    pub filters: &'static [FieldSpec],
    pub sorts: &'static [&'static str],
}

impl ResourceSpec {
    /// The filter field named `name`.
    pub fn filter_field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.filters.iter().find(|f| f.name == name)
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    /// The operator's spelling inside the brackets (`""` for equality).
    pub fn prefix(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Ne => "!",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// How a text value matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    /// `"value"`: the whole text, exactly.
    Exact(String),
    /// A value with `*`: the whole text, `*` standing for any run of characters, ignoring case.
    Wildcard(String),
    /// Anything else: contained in the text, ignoring case.
    Contains(String),
}

/// A parsed filter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(TextMatch),
    Enum(String),
    Uuid(Uuid),
    Integer(i64),
    Time(Timestamp),
    Boolean(bool),
}

/// One `filter[...]` key with all its values (OR).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: &'static str,
    pub op: Op,
    pub values: Vec<Value>,
}

/// All conditions of a query (AND).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter(pub Vec<Condition>);

/// One sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: &'static str,
    pub descending: bool,
}

/// A list request after parsing: what to match, in which order, which page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Filter,
    /// Empty means the resource's default order (`-last_updated_at`, then id).
    pub sort: Vec<SortKey>,
    pub limit: u32,
    pub offset: u64,
    /// Only count the matches (`data=false`).
    pub count_only: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: Filter::default(),
            sort: Vec::new(),
            limit: 100,
            offset: 0,
            count_only: false,
        }
    }
}

/// A page of results with the number of all matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// `total` is the planner's estimate, because more than the count threshold matched.
    pub total_is_estimate: bool,
}

/// Bounds of list pages.
pub const MAX_LIMIT: u32 = 1000;
pub const DEFAULT_LIMIT: u32 = 100;

impl FieldKind {
    /// Whether `op` makes sense for this kind of field.
    pub fn accepts(self, op: Op) -> bool {
        match op {
            Op::Eq | Op::Ne => true,
            Op::Gt | Op::Ge | Op::Lt | Op::Le => matches!(self, FieldKind::Time),
        }
    }

    /// Parses one value written for a field of this kind.
    pub fn parse(self, raw: &str) -> Result<Value, String> {
        match self {
            FieldKind::Text => Ok(Value::Text(parse_text(raw))),
            FieldKind::Keyword => Ok(Value::Text(TextMatch::Exact(raw.to_owned()))),
            FieldKind::Enum(allowed) => {
                if allowed.contains(&raw) {
                    Ok(Value::Enum(raw.to_owned()))
                } else {
                    Err(format!("'{raw}' is not one of {}", allowed.join(", ")))
                }
            }
            FieldKind::Uuid => Uuid::parse_str(last_segment(raw))
                .map(Value::Uuid)
                .map_err(|_| format!("'{raw}' is not a valid ID: a UUID is expected")),
            FieldKind::IntegerId => last_segment(raw)
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Value::Integer)
                .ok_or_else(|| format!("'{raw}' is not a valid ID: a positive integer is expected")),
            FieldKind::Time => Timestamp::parse(raw).map(Value::Time).map_err(|e| e.to_string()),
            FieldKind::Boolean => match raw {
                "true" => Ok(Value::Boolean(true)),
                "false" => Ok(Value::Boolean(false)),
                _ => Err(format!("'{raw}' is not true or false")),
            },
        }
    }
}

/// An id may be given as the URL Cairn returns for it: keep what follows the last `/`.
fn last_segment(raw: &str) -> &str {
    raw.trim_end_matches('/').rsplit('/').next().unwrap_or(raw)
}

fn parse_text(raw: &str) -> TextMatch {
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        TextMatch::Exact(raw[1..raw.len() - 1].to_owned())
    } else if raw.contains('*') {
        TextMatch::Wildcard(raw.to_owned())
    } else {
        TextMatch::Contains(raw.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_choose_their_match() {
        assert_eq!(
            FieldKind::Text.parse("\"Testing Group\"").unwrap(),
            Value::Text(TextMatch::Exact("Testing Group".into()))
        );
        assert_eq!(
            FieldKind::Text.parse("Test*").unwrap(),
            Value::Text(TextMatch::Wildcard("Test*".into()))
        );
        assert_eq!(
            FieldKind::Text.parse("test").unwrap(),
            Value::Text(TextMatch::Contains("test".into()))
        );
    }

    #[test]
    fn id_kinds_reject_what_is_not_an_id() {
        let err = FieldKind::Uuid.parse("1111").unwrap_err();
        assert!(err.contains("not a valid ID"), "{err}");
        assert!(FieldKind::IntegerId.parse("abc").is_err());
        assert!(FieldKind::IntegerId.parse("0").is_err());
        assert!(FieldKind::IntegerId.parse("-3").is_err());
    }

    #[test]
    fn ids_may_be_urls() {
        let id = Uuid::new_v4();
        let url = format!("https://cairn.example/api/v2/sources/{id}");
        assert_eq!(FieldKind::Uuid.parse(&url).unwrap(), Value::Uuid(id));
        assert_eq!(
            FieldKind::IntegerId
                .parse("https://h/api/v2/observables/651905")
                .unwrap(),
            Value::Integer(651905)
        );
    }

    #[test]
    fn order_operators_only_for_times() {
        assert!(FieldKind::Time.accepts(Op::Gt));
        assert!(!FieldKind::Text.accepts(Op::Lt));
        assert!(FieldKind::Text.accepts(Op::Ne));
    }

    #[test]
    fn enums_list_what_is_allowed() {
        let err = FieldKind::Enum(&["group", "user"]).parse("feed").unwrap_err();
        assert!(err.contains("group, user"), "{err}");
    }
}
