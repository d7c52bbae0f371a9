//! Relationships between entities: keys, subtypes, and whether a relationship is one the
//! STIX 2.1 or STIX 1.2 specifications define (`strict_stix_2` / `strict_stix_1`).

use crate::filter::{FieldKind, FieldSpec, ResourceSpec};

/// The entity types that are STIX 2.1 SDOs.
pub const STIX2_TYPES: [&str; 16] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The entity types that are STIX 1.2 constructs (a sighting is `eclecticiq-sighting`).
pub const STIX1_TYPES: [&str; 9] = [
    "campaign",
    "course-of-action",
    "exploit-target",
    "incident",
    "indicator",
    "report",
    "threat-actor",
    "ttp",
    "eclecticiq-sighting",
];

/// Relationship types STIX 2.1 defines between any two SDOs.
const STIX2_COMMON: [&str; 3] = ["related-to", "derived-from", "duplicate-of"];

/// The STIX 2.1 relationship summary tables: (source type, relationship type, target types).
/// Targets that are not entity types (SCOs, observed-data) are left out.
const STIX2: &[(&str, &str, &[&str])] = &[
    ("attack-pattern", "delivers", &["malware"]),
    ("attack-pattern", "targets", &["identity", "location", "vulnerability"]),
    ("attack-pattern", "uses", &["malware", "tool"]),
    ("campaign", "attributed-to", &["intrusion-set", "threat-actor"]),
    ("campaign", "compromises", &["infrastructure"]),
    ("campaign", "originates-from", &["location"]),
    ("campaign", "targets", &["identity", "location", "vulnerability"]),
    (
        "campaign",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("course-of-action", "investigates", &["indicator"]),
    (
        "course-of-action",
        "mitigates",
        &["attack-pattern", "indicator", "malware", "tool", "vulnerability"],
    ),
    ("course-of-action", "remediates", &["malware", "vulnerability"]),
    ("identity", "located-at", &["location"]),
    (
        "indicator",
        "indicates",
        &[
            "attack-pattern",
            "campaign",
            "infrastructure",
            "intrusion-set",
            "malware",
            "threat-actor",
            "tool",
        ],
    ),
    ("infrastructure", "communicates-with", &["infrastructure"]),
    ("infrastructure", "consists-of", &["infrastructure"]),
    ("infrastructure", "controls", &["infrastructure", "malware"]),
    ("infrastructure", "delivers", &["malware"]),
    ("infrastructure", "has", &["vulnerability"]),
    ("infrastructure", "hosts", &["tool", "malware"]),
    ("infrastructure", "located-at", &["location"]),
    ("infrastructure", "uses", &["infrastructure"]),
    ("intrusion-set", "attributed-to", &["threat-actor"]),
    ("intrusion-set", "compromises", &["infrastructure"]),
    ("intrusion-set", "hosts", &["infrastructure"]),
    ("intrusion-set", "owns", &["infrastructure"]),
    ("intrusion-set", "originates-from", &["location"]),
    ("intrusion-set", "targets", &["identity", "location", "vulnerability"]),
    (
        "intrusion-set",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("malware", "authored-by", &["threat-actor", "intrusion-set"]),
    ("malware", "beacons-to", &["infrastructure"]),
    ("malware", "exfiltrate-to", &["infrastructure"]),
    ("malware", "communicates-with", &[]),
    ("malware", "controls", &["malware"]),
    ("malware", "downloads", &["malware", "tool"]),
    ("malware", "drops", &["malware", "tool"]),
    ("malware", "exploits", &["vulnerability"]),
    ("malware", "originates-from", &["location"]),
    (
        "malware",
        "targets",
        &["identity", "infrastructure", "location", "vulnerability"],
    ),
    (
        "malware",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("malware", "variant-of", &["malware"]),
    ("malware-analysis", "characterizes", &["malware"]),
    ("malware-analysis", "analysis-of", &["malware"]),
    ("malware-analysis", "static-analysis-of", &["malware"]),
    ("malware-analysis", "dynamic-analysis-of", &["malware"]),
    ("malware-analysis", "av-analysis-of", &["malware"]),
    ("threat-actor", "attributed-to", &["identity"]),
    ("threat-actor", "compromises", &["infrastructure"]),
    ("threat-actor", "hosts", &["infrastructure"]),
    ("threat-actor", "owns", &["infrastructure"]),
    ("threat-actor", "impersonates", &["identity"]),
    ("threat-actor", "located-at", &["location"]),
    ("threat-actor", "targets", &["identity", "location", "vulnerability"]),
    (
        "threat-actor",
        "uses",
        &["attack-pattern", "infrastructure", "malware", "tool"],
    ),
    ("tool", "delivers", &["malware"]),
    ("tool", "drops", &["malware"]),
    ("tool", "has", &["vulnerability"]),
    (
        "tool",
        "targets",
        &["identity", "infrastructure", "location", "vulnerability"],
    ),
    ("tool", "uses", &["infrastructure"]),
];

/// The relations STIX 1.2 constructs define, keyed by their field names in kebab case:
/// (source type, key, target types). `related-to` joins any two constructs.
const STIX1: &[(&str, &str, &[&str])] = &[
    ("campaign", "related-ttp", &["ttp"]),
    ("campaign", "related-incident", &["incident"]),
    ("campaign", "related-indicator", &["indicator"]),
    ("campaign", "attribution", &["threat-actor"]),
    ("campaign", "attributed-to", &["threat-actor"]),
    ("campaign", "associated-campaign", &["campaign"]),
    ("campaign", "coa-taken", &["course-of-action"]),
    ("indicator", "indicated-ttp", &["ttp"]),
    ("indicator", "suggested-coa", &["course-of-action"]),
    ("indicator", "related-indicator", &["indicator"]),
    ("indicator", "related-campaign", &["campaign"]),
    ("incident", "leveraged-ttp", &["ttp"]),
    ("incident", "related-indicator", &["indicator"]),
    ("incident", "attributed-threat-actor", &["threat-actor"]),
    ("incident", "related-incident", &["incident"]),
    ("incident", "coa-requested", &["course-of-action"]),
    ("incident", "coa-taken", &["course-of-action"]),
    ("ttp", "exploit-target", &["exploit-target"]),
    ("ttp", "related-ttp", &["ttp"]),
    ("threat-actor", "observed-ttp", &["ttp"]),
    ("threat-actor", "associated-campaign", &["campaign"]),
    ("threat-actor", "associated-actor", &["threat-actor"]),
    ("exploit-target", "potential-coa", &["course-of-action"]),
    ("exploit-target", "related-exploit-target", &["exploit-target"]),
    ("course-of-action", "related-coa", &["course-of-action"]),
    ("report", "related-report", &["report"]),
    ("eclecticiq-sighting", "sighting-of", &["indicator"]),
];

/// Whether STIX 2.1 defines `source --key--> target` (both ends STIX 2.1 SDOs).
pub fn strict_stix_2(source: &str, key: &str, target: &str) -> bool {
    STIX2_TYPES.contains(&source)
        && STIX2_TYPES.contains(&target)
        && (STIX2_COMMON.contains(&key)
            || STIX2
                .iter()
                .any(|(s, k, targets)| *s == source && *k == key && targets.contains(&target)))
}

/// Whether STIX 1.2 defines `source --key--> target` (both ends STIX 1.2 constructs).
pub fn strict_stix_1(source: &str, key: &str, target: &str) -> bool {
    STIX1_TYPES.contains(&source)
        && STIX1_TYPES.contains(&target)
        && (key == "related-to"
            || STIX1
                .iter()
                .any(|(s, k, targets)| *s == source && *k == key && targets.contains(&target)))
}

/// Checks a relationship key: ASCII `a-z`, `0-9` and `-`, 1 to 256 characters.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty()
        || key.len() > 256
        || !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        let shown: String = key.chars().take(40).collect();
        return Err(format!(
            "'{shown}' is not a relationship key: 1 to 256 characters of lowercase a-z, 0-9 and '-' (e.g. 'indicates'), got {} characters",
            key.chars().count()
        ));
    }
    Ok(())
}

/// The one relationship subtype there is.
pub const SUBTYPES: [&str; 1] = ["stix_update_of"];

/// What `/relationships` filters and sorts on.
pub const SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "data.source",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "data.target",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "data.key",
            kind: FieldKind::Keyword,
        },
        FieldSpec {
            name: "sources",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "meta.tlp_color",
            kind: FieldKind::Enum(&crate::tlp::TlpColor::NAMES),
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
    sorts: &["created_at", "last_updated_at", "data.key"],
};

/// A relationship as stored, with its ends' current types.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub id: uuid::Uuid,
    pub source: uuid::Uuid,
    pub target: uuid::Uuid,
    pub source_type: String,
    pub target_type: String,
    pub key: String,
    pub subtype: Option<String>,
    pub description: Option<String>,
    pub stix_id: String,
    pub tlp_color: Option<crate::TlpColor>,
    pub estimated_threat_start_time: Option<crate::Timestamp>,
    pub estimated_threat_end_time: Option<crate::Timestamp>,
    pub sources: Vec<uuid::Uuid>,
    pub created_at: crate::Timestamp,
    pub last_updated_at: crate::Timestamp,
}

/// The whole state a relationship is written with.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipWrite {
    pub id: uuid::Uuid,
    pub exists: bool,
    pub source: uuid::Uuid,
    pub target: uuid::Uuid,
    pub key: String,
    pub subtype: Option<String>,
    pub description: Option<String>,
    pub stix_id: String,
    pub tlp_color: Option<crate::TlpColor>,
    pub estimated_threat_start_time: Option<crate::Timestamp>,
    pub estimated_threat_end_time: Option<crate::Timestamp>,
    pub sources: Vec<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stix_2_tables_follow_the_specification() {
        assert!(strict_stix_2("malware", "uses", "attack-pattern"));
        assert!(strict_stix_2("indicator", "indicates", "malware"));
        assert!(!strict_stix_2("malware", "indicates", "indicator"));
        assert!(strict_stix_2("threat-actor", "attributed-to", "identity"));
        assert!(!strict_stix_2("threat-actor", "attributed-to", "malware"));
        assert!(strict_stix_2("course-of-action", "mitigates", "vulnerability"));
        assert!(strict_stix_2("intrusion-set", "uses", "tool"));
        assert!(strict_stix_2("malware-analysis", "characterizes", "malware"));
    }

    #[test]
    fn common_relationships_join_any_two_sdos_but_not_stix_1_constructs() {
        assert!(strict_stix_2("report", "related-to", "location"));
        assert!(strict_stix_2("note", "derived-from", "malware"));
        assert!(
            !strict_stix_2("ttp", "related-to", "malware"),
            "a ttp end is not STIX 2.1"
        );
        assert!(!strict_stix_2("malware", "uses", "ttp"));
        assert!(!strict_stix_2("eclecticiq-sighting", "related-to", "indicator"));
    }

    #[test]
    fn stix_1_relations() {
        assert!(strict_stix_1("indicator", "indicated-ttp", "ttp"));
        assert!(strict_stix_1("threat-actor", "observed-ttp", "ttp"));
        assert!(strict_stix_1("eclecticiq-sighting", "sighting-of", "indicator"));
        assert!(strict_stix_1("ttp", "related-to", "exploit-target"));
        assert!(
            !strict_stix_1("indicator", "indicates", "malware"),
            "malware is not a STIX 1.2 construct"
        );
        assert!(!strict_stix_1("ttp", "indicated-ttp", "indicator"));
    }

    #[test]
    fn keys_are_lowercase_ascii_digits_and_hyphens() {
        assert!(validate_key("indicates").is_ok());
        assert!(validate_key("x-custom-2").is_ok());
        assert!(validate_key(&"a".repeat(256)).is_ok());
        for bad in ["Indicates", "related_to", "related to", "relaté", "", &"a".repeat(257)] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
