//! Taxonomies: a tree of named categories (`malware/ransomware/lockbit`) entities are filed under.

use crate::filter::{FieldKind, FieldSpec, ResourceSpec};
use crate::time::Timestamp;

/// A taxonomy node.
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    pub id: i64,
    pub name: String,
    /// The names from the root down, joined by `/`.
    pub path: String,
    pub parent: Option<i64>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// Checks a taxonomy node's name: 1 to 200 characters, no `/` (it separates path levels).
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.contains('/') {
        return Err("a taxonomy name is 1 to 200 characters, not only spaces, without '/'".to_owned());
    }
    Ok(())
}

/// What `/taxonomies` filters and sorts on.
pub const SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "name",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "path",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "parent",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "created_at",
            kind: FieldKind::Time,
        },
        FieldSpec {
            name: "last_updated_at",
            kind: FieldKind::Time,
        },
    ],
    sorts: &["name", "path", "created_at", "last_updated_at"],
};

/// What `/tags` filters and sorts on.
pub const TAG_SPEC: ResourceSpec = ResourceSpec {
    filters: &[FieldSpec {
        name: "name",
        kind: FieldKind::Text,
    }],
    sorts: &["name", "count"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_hold_the_path_separator() {
        assert!(validate_name("ransomware").is_ok());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name(" ").is_err());
    }
}
