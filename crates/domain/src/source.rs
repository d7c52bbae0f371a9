//! Sources: where a piece of intelligence came from. Every object is tied to at least one.

use crate::filter::{FieldKind, FieldSpec, ResourceSpec};
use crate::time::Timestamp;
use std::str::FromStr;
use uuid::Uuid;

/// A source's identifier.
pub type SourceId = Uuid;

/// What kind of producer a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    Group,
    IncomingFeed,
    Enricher,
    User,
    KnowledgePack,
}

impl SourceType {
    /// Every kind in wire form.
    pub const NAMES: [&'static str; 5] = ["group", "incoming_feed", "enricher", "user", "knowledge_pack"];

    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Group => "group",
            SourceType::IncomingFeed => "incoming_feed",
            SourceType::Enricher => "enricher",
            SourceType::User => "user",
            SourceType::KnowledgePack => "knowledge_pack",
        }
    }
}

impl FromStr for SourceType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "group" => SourceType::Group,
            "incoming_feed" => SourceType::IncomingFeed,
            "enricher" => SourceType::Enricher,
            "user" => SourceType::User,
            "knowledge_pack" => SourceType::KnowledgePack,
            other => {
                return Err(format!(
                    "'{other}' is not a source type (expected one of {})",
                    SourceType::NAMES.join(", ")
                ))
            }
        })
    }
}

/// How far a source is trusted, from `A` (completely reliable) to `F` (cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reliability(char);

impl Reliability {
    /// The letter.
    pub fn as_char(self) -> char {
        self.0
    }
}

impl FromStr for Reliability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [c @ b'A'..=b'F'] => Ok(Reliability(char::from(*c))),
            _ => Err(format!("'{s}' is not a reliability (expected one letter A to F)")),
        }
    }
}

/// A source as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: SourceId,
    pub name: String,
    pub source_type: SourceType,
    pub reliability: Option<Reliability>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// The changes an administrator may make to a source.
#[derive(Debug, Clone, Default)]
pub struct SourcePatch {
    pub name: Option<String>,
    /// `Some(None)` clears the reliability.
    pub reliability: Option<Option<Reliability>>,
}

/// What `/sources` filters and sorts on.
pub const SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "name",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "source_type",
            kind: FieldKind::Enum(&SourceType::NAMES),
        },
        FieldSpec {
            name: "reliability",
            kind: FieldKind::Enum(&["A", "B", "C", "D", "E", "F"]),
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
    sorts: &["name", "created_at", "last_updated_at"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reliability_is_one_letter_a_to_f() {
        assert_eq!("C".parse::<Reliability>().unwrap().as_char(), 'C');
        for bad in ["G", "a", "AB", ""] {
            assert!(bad.parse::<Reliability>().is_err(), "{bad}");
        }
    }

    #[test]
    fn source_types_round_trip() {
        for name in SourceType::NAMES {
            assert_eq!(name.parse::<SourceType>().unwrap().as_str(), name);
        }
    }
}
