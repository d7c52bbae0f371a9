//! Entities: the intelligence objects (indicators, malware, threat actors, reports…), their
//! types, the schema of each type's `data`, and the `meta` every entity carries.
//!
//! An entity's `data` is a JSON document: STIX 2.1-aligned types take the properties of the
//! STIX SDO of the same name (its `name` carried as `title`), platform types their documented
//! fields. Validation reports every problem with a JSON pointer and normalizes what it keeps.

use crate::error::Problem;
use crate::filter::{FieldKind, FieldSpec, ResourceSpec};
use crate::observable;
use crate::time::Timestamp;
use crate::tlp::TlpColor;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Every entity type, in wire spelling.
pub const TYPES: [&str; 19] = [
    "campaign",
    "course-of-action",
    "eclecticiq-sighting",
    "exploit-target",
    "incident",
    "indicator",
    "report",
    "threat-actor",
    "ttp",
    "note",
    "attack-pattern",
    "location",
    "malware",
    "tool",
    "infrastructure",
    "intrusion-set",
    "identity",
    "malware-analysis",
    "vulnerability",
];

/// Default half-life in days of an entity type: how fast its relevancy decays.
pub fn default_half_life(entity_type: &str) -> i64 {
    match entity_type {
        "indicator" => 30,
        "campaign" | "threat-actor" | "intrusion-set" => 1000,
        "ttp" | "attack-pattern" => 720,
        _ => 182,
    }
}

/// How relevant an entity still is: `0.5^(age / half_life)`, 1 for observations in the future.
pub fn relevancy(observed: Timestamp, half_life_days: i64, now: Timestamp) -> f64 {
    let age_days = (now.micros() - observed.micros()) as f64 / 86_400_000_000.0;
    if age_days <= 0.0 || half_life_days <= 0 {
        return 1.0;
    }
    0.5f64.powf(age_days / half_life_days as f64)
}

/// What a property's value must be.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Time,
    Bool,
    Integer,
    Number {
        min: f64,
        max: f64,
    },
    TextList,
    Closed(&'static [&'static str]),
    /// A STIX identifier `<type>--<uuid>`.
    Ref,
    Refs,
    KillChains,
    ExternalReferences,
    Object,
    List,
    Any,
    Confidence,
}

use Kind::*;

/// Accepted on every type.
const COMMON: &[(&str, Kind)] = &[
    ("description", Text),
    ("description_structuring_format", Text),
    ("short_description", Text),
    ("short_description_structuring_format", Text),
    ("timestamp", Time),
    ("confidence", Confidence),
    ("created", Time),
    ("modified", Time),
    ("spec_version", Text),
    ("created_by_ref", Ref),
    ("revoked", Bool),
    ("labels", TextList),
    ("lang", Text),
    ("external_references", ExternalReferences),
    ("object_marking_refs", Refs),
    ("granular_markings", List),
    ("extensions", Object),
    ("information_source", Any),
    ("handling", List),
];

const KILL_CHAIN: (&str, Kind) = ("kill_chain_phases", KillChains);

const IDENTITY_CLASSES: &[&str] = &["individual", "group", "system", "organization", "class", "unknown"];
const REGIONS: &[&str] = &[
    "africa",
    "eastern-africa",
    "middle-africa",
    "northern-africa",
    "southern-africa",
    "western-africa",
    "americas",
    "latin-america-caribbean",
    "south-america",
    "caribbean",
    "central-america",
    "northern-america",
    "asia",
    "central-asia",
    "eastern-asia",
    "southern-asia",
    "south-eastern-asia",
    "western-asia",
    "europe",
    "eastern-europe",
    "northern-europe",
    "southern-europe",
    "western-europe",
    "oceania",
    "antarctica",
    "australia-new-zealand",
    "melanesia",
    "micronesia",
    "polynesia",
];
const ANALYSIS_RESULTS: &[&str] = &["malicious", "suspicious", "benign", "unknown"];

/// The properties of each type beyond [`COMMON`].
fn properties(entity_type: &str) -> &'static [(&'static str, Kind)] {
    match entity_type {
        "attack-pattern" => &[("aliases", TextList), KILL_CHAIN, ("x_capec_id", Text)],
        "campaign" => &[
            ("aliases", TextList),
            ("first_seen", Time),
            ("last_seen", Time),
            ("objective", Text),
            ("status", Any),
            ("intended_effects", List),
            ("names", List),
            ("related_ttps", List),
            ("attribution", List),
            ("associated_campaigns", List),
            ("activity", List),
        ],
        "course-of-action" => &[
            ("action", Any),
            ("action_type", Text),
            ("os_execution_envs", TextList),
            ("action_bin", Text),
            ("action_reference", Object),
            ("stage", Any),
            ("type", Any),
            ("objective", Any),
            ("impact", Any),
            ("cost", Any),
            ("efficacy", Any),
            ("parameter_observables", Any),
            ("structured_coa", Any),
            ("related_coas", List),
        ],
        "eclecticiq-sighting" => &[
            ("security_control", Any),
            ("impact", Any),
            ("first_seen", Time),
            ("last_seen", Time),
            ("count", Integer),
            ("sighting_of_ref", Ref),
            ("observed_data_refs", Refs),
            ("where_sighted_refs", Refs),
            ("summary", Bool),
            ("reporter", Any),
            ("source", Any),
            ("related_observables", List),
        ],
        "exploit-target" => &[
            ("vulnerabilities", List),
            ("weaknesses", List),
            ("configuration", List),
            ("potential_coas", List),
            ("related_exploit_targets", List),
        ],
        "incident" => &[
            ("time", Any),
            ("categories", List),
            ("reporter", Any),
            ("responders", List),
            ("coordinators", List),
            ("victims", List),
            ("affected_assets", List),
            ("impact_assessment", Any),
            ("status", Any),
            ("security_compromise", Any),
            ("discovery_methods", List),
            ("intended_effects", List),
            ("leveraged_ttps", List),
            ("attributed_threat_actors", List),
            ("related_incidents", List),
            ("coa_requested", List),
            ("coa_taken", List),
            ("contact", List),
            ("history", List),
            ("first_seen", Time),
            ("last_seen", Time),
        ],
        "indicator" => &[
            ("types", List),
            ("likely_impact", Any),
            ("valid_time_positions", List),
            ("indicated_ttps", List),
            ("test_mechanisms", List),
            ("suggested_coas", List),
            ("sightings", Any),
            ("producer", Any),
            ("observable", Any),
            ("composite_indicator_expression", Any),
            ("related_indicators", List),
            ("related_campaigns", List),
            ("negate", Bool),
            ("alternative_ids", TextList),
            ("pattern", Text),
            ("pattern_type", Text),
            ("pattern_version", Text),
            ("valid_from", Time),
            ("valid_until", Time),
            ("indicator_types", TextList),
            KILL_CHAIN,
        ],
        "infrastructure" => &[
            ("infrastructure_types", TextList),
            ("aliases", TextList),
            KILL_CHAIN,
            ("first_seen", Time),
            ("last_seen", Time),
        ],
        "intrusion-set" => &[
            ("aliases", TextList),
            ("first_seen", Time),
            ("last_seen", Time),
            ("goals", TextList),
            ("resource_level", Text),
            ("primary_motivation", Text),
            ("secondary_motivations", TextList),
        ],
        "identity" => &[
            ("identity_class", Closed(IDENTITY_CLASSES)),
            ("roles", TextList),
            ("sectors", TextList),
            ("contact_information", Text),
        ],
        "location" => &[
            ("region", Closed(REGIONS)),
            ("country", Text),
            ("administrative_area", Text),
            ("city", Text),
            ("street_address", Text),
            ("postal_code", Text),
            ("latitude", Number { min: -90.0, max: 90.0 }),
            (
                "longitude",
                Number {
                    min: -180.0,
                    max: 180.0,
                },
            ),
            (
                "precision",
                Number {
                    min: 0.0,
                    max: f64::MAX,
                },
            ),
        ],
        "malware" => &[
            ("malware_types", TextList),
            ("is_family", Bool),
            ("aliases", TextList),
            KILL_CHAIN,
            ("first_seen", Time),
            ("last_seen", Time),
            ("operating_system_refs", Refs),
            ("architecture_execution_envs", TextList),
            ("implementation_languages", TextList),
            ("capabilities", TextList),
            ("sample_refs", Refs),
        ],
        "malware-analysis" => &[
            ("product", Text),
            ("version", Text),
            ("host_vm_ref", Ref),
            ("operating_system_ref", Ref),
            ("installed_software_refs", Refs),
            ("configuration_version", Text),
            ("modules", TextList),
            ("analysis_engine_version", Text),
            ("analysis_definition_version", Text),
            ("submitted", Time),
            ("analysis_started", Time),
            ("analysis_ended", Time),
            ("result_name", Text),
            ("result", Closed(ANALYSIS_RESULTS)),
            ("analysis_sco_refs", Refs),
            ("sample_ref", Ref),
        ],
        "note" => &[
            ("abstract", Text),
            ("content", Text),
            ("authors", TextList),
            ("object_refs", Refs),
        ],
        "report" => &[
            ("report_types", TextList),
            ("published", Time),
            ("object_refs", Refs),
            ("intents", List),
            ("header", Any),
            ("related_packages", List),
        ],
        "threat-actor" => &[
            ("threat_actor_types", TextList),
            ("aliases", TextList),
            ("first_seen", Time),
            ("last_seen", Time),
            ("roles", TextList),
            ("goals", TextList),
            ("sophistication", Text),
            ("resource_level", Text),
            ("primary_motivation", Text),
            ("secondary_motivations", TextList),
            ("personal_motivations", TextList),
        ],
        "tool" => &[
            ("tool_types", TextList),
            ("aliases", TextList),
            KILL_CHAIN,
            ("tool_version", Text),
        ],
        "ttp" => &[
            ("behavior", Any),
            ("resources", Any),
            ("victim_targeting", Any),
            ("exploit_targets", List),
            ("related_ttps", List),
            KILL_CHAIN,
            ("intended_effects", List),
        ],
        "vulnerability" => &[],
        _ => &[],
    }
}

/// The old STIX-1-style threat-actor fields, refused with the new schema's names.
const OLD_THREAT_ACTOR_FIELDS: [&str; 9] = [
    "types",
    "identity",
    "motivations",
    "sophistications",
    "intended_effects",
    "planning_and_operational_supports",
    "observed_ttps",
    "associated_campaigns",
    "associated_actors",
];

/// Confidence words, in their stored spelling.
const CONFIDENCE: [&str; 5] = ["None", "Unknown", "Low", "Medium", "High"];

/// An observable an entity's `data.extracts` names.
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    pub kind: &'static str,
    /// Normalized.
    pub value: String,
    pub link_type: Option<&'static str>,
    pub maliciousness: Option<&'static str>,
}

/// An entity's `data` after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityData {
    pub entity_type: &'static str,
    pub title: String,
    /// `data.id` as given, if it was.
    pub stix_id: Option<String>,
    /// The document to store: everything given, normalized, without `extracts`.
    pub document: Map<String, Value>,
    /// `None` when the payload named no extracts.
    pub extracts: Option<Vec<Extract>>,
    /// Attachments the descriptions' images show: each must be one of the entity's attachments.
    pub image_attachments: std::collections::BTreeSet<i64>,
}

/// Validates an entity's `data` (at JSON pointer `at`), adding every problem to `problems`.
pub fn validate_data(data: &Value, at: &str, problems: &mut Vec<Problem>) -> Option<EntityData> {
    let Some(object) = data.as_object() else {
        problems.push(Problem::at(at, "data must be an object"));
        return None;
    };
    let before = problems.len();
    let entity_type = match object.get("type") {
        None => {
            problems.push(Problem::at(
                format!("{at}/type"),
                "type is required (one of the entity types)",
            ));
            None
        }
        Some(Value::String(t)) => match TYPES.iter().find(|k| *k == t) {
            Some(k) => Some(*k),
            None => {
                problems.push(Problem::at(
                    format!("{at}/type"),
                    format!("'{t}' is not an entity type; expected one of {}", TYPES.join(", ")),
                ));
                None
            }
        },
        Some(_) => {
            problems.push(Problem::at(format!("{at}/type"), "type must be a string"));
            None
        }
    };
    let title = match object.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t.clone()),
        Some(Value::String(_)) => {
            problems.push(Problem::at(format!("{at}/title"), "title cannot be empty"));
            None
        }
        Some(_) => {
            problems.push(Problem::at(format!("{at}/title"), "title must be a string"));
            None
        }
        None => {
            problems.push(Problem::at(
                format!("{at}/title"),
                "title is required for every entity type",
            ));
            None
        }
    };
    let stix_id = match object.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => match check_stix_id(id, entity_type) {
            Ok(()) => Some(id.clone()),
            Err(detail) => {
                problems.push(Problem::at(format!("{at}/id"), detail));
                None
            }
        },
        Some(_) => {
            problems.push(Problem::at(
                format!("{at}/id"),
                "id must be a string like <type>--<uuid>",
            ));
            None
        }
    };
    let mut document = Map::new();
    let mut extracts = None;
    let mut image_attachments = std::collections::BTreeSet::new();
    for (key, value) in object {
        let pointer = format!("{at}/{}", escape(key));
        match key.as_str() {
            "type" | "title" | "id" => {
                document.insert(key.clone(), value.clone());
                continue;
            }
            "extracts" => {
                extracts = Some(validate_extracts(value, &pointer, problems));
                continue;
            }
            _ => {}
        }
        if key.starts_with("x_") || key.starts_with("x-") {
            document.insert(key.clone(), value.clone());
            continue;
        }
        let Some(entity_type) = entity_type else { continue };
        let kind = COMMON
            .iter()
            .chain(properties(entity_type))
            .find(|(name, _)| name == key)
            .map(|(_, k)| *k);
        match kind {
            Some(kind) => match check(kind, value) {
                Ok(Value::String(html)) if key == "description" || key == "short_description" => {
                    let safe = crate::html::sanitize(&html);
                    image_attachments.extend(safe.attachments);
                    document.insert(key.clone(), Value::String(safe.html));
                }
                Ok(normalized) => {
                    document.insert(key.clone(), normalized);
                }
                Err(detail) => problems.push(Problem::at(pointer, format!("{key}: {detail}"))),
            },
            None if entity_type == "threat-actor" && OLD_THREAT_ACTOR_FIELDS.contains(&key.as_str()) => {
                problems.push(Problem::at(
                    pointer,
                    format!(
                        "'{key}' belongs to the old threat-actor schema, which is no longer accepted; use the STIX 2.1 \
                         properties (threat_actor_types, aliases, roles, goals, sophistication, resource_level, \
                         primary_motivation, secondary_motivations, personal_motivations)"
                    ),
                ));
            }
            None if key == "name" => problems.push(Problem::at(pointer, "an entity's name is carried as data.title")),
            None => problems.push(Problem::at(
                pointer,
                format!("'{key}' is not a property of {entity_type} (custom properties start with x_)"),
            )),
        }
    }
    if entity_type == Some("malware-analysis") && !object.contains_key("product") {
        problems.push(Problem::at(
            format!("{at}/product"),
            "product is required for malware-analysis",
        ));
    }
    if problems.len() > before {
        return None;
    }
    Some(EntityData {
        entity_type: entity_type?,
        title: title?,
        stix_id,
        document,
        extracts,
        image_attachments,
    })
}

/// `<type>--<uuid>`, `<type>-<uuid>` or `{<namespace>}<type>-<uuid>`, the type matching.
fn check_stix_id(id: &str, entity_type: Option<&str>) -> Result<(), String> {
    let bare = match id.strip_prefix('{') {
        Some(rest) => rest
            .split_once('}')
            .map(|(_, r)| r)
            .ok_or_else(|| format!("'{id}' is not an id like <type>--<uuid>"))?,
        None => id,
    };
    if bare.len() < 37 {
        return Err(format!("'{id}' is not an id like <type>--<uuid>"));
    }
    let (prefix, uuid) = bare.split_at(bare.len() - 36);
    let prefix = prefix
        .strip_suffix("--")
        .or_else(|| prefix.strip_suffix('-'))
        .unwrap_or("");
    if Uuid::parse_str(uuid).is_err() || prefix.is_empty() {
        return Err(format!("'{id}' is not an id like <type>--<uuid>"));
    }
    if let Some(t) = entity_type {
        if prefix != t && !(t == "eclecticiq-sighting" && prefix == "sighting") {
            return Err(format!("'{id}' names a {prefix}, but this entity is a {t}"));
        }
    }
    Ok(())
}

/// The STIX-style id Cairn gives an entity that came without one.
pub fn generate_stix_id(entity_type: &str) -> String {
    format!("{entity_type}--{}", Uuid::new_v4())
}

fn check(kind: Kind, value: &Value) -> Result<Value, String> {
    let fail = |what: &str| Err(format!("expected {what}, not {value}"));
    match kind {
        Any => Ok(value.clone()),
        Text => {
            if value.is_string() {
                Ok(value.clone())
            } else {
                fail("a string")
            }
        }
        Time => match value.as_str() {
            Some(t) if Timestamp::parse(t).is_ok() => Ok(value.clone()),
            Some(t) => Err(format!("'{t}' is not an RFC 3339 timestamp")),
            None => fail("an RFC 3339 timestamp"),
        },
        Bool => {
            if value.is_boolean() {
                Ok(value.clone())
            } else {
                fail("true or false")
            }
        }
        Integer => {
            if value.is_i64() || value.is_u64() {
                Ok(value.clone())
            } else {
                fail("a whole number")
            }
        }
        Number { min, max } => match value.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(value.clone()),
            Some(n) => Err(format!("{n} is outside {min} to {max}")),
            None => fail("a number"),
        },
        TextList => match value.as_array() {
            Some(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
            _ => fail("a list of strings"),
        },
        Closed(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => Ok(value.clone()),
            Some(s) => Err(format!("'{s}' is not one of {}", allowed.join(", "))),
            None => fail("a string"),
        },
        Ref => match value.as_str() {
            Some(s) if check_stix_id(s, None).is_ok() => Ok(value.clone()),
            _ => fail("a STIX id like identity--<uuid>"),
        },
        Refs => match value.as_array() {
            Some(items)
                if items
                    .iter()
                    .all(|i| i.as_str().is_some_and(|s| check_stix_id(s, None).is_ok())) =>
            {
                Ok(value.clone())
            }
            _ => fail("a list of STIX ids"),
        },
        KillChains => match value.as_array() {
            Some(items)
                if items
                    .iter()
                    .all(|i| i["kill_chain_name"].is_string() && i["phase_name"].is_string()) =>
            {
                Ok(value.clone())
            }
            _ => fail("a list of {kill_chain_name, phase_name}"),
        },
        ExternalReferences => match value.as_array() {
            Some(items) if items.iter().all(|i| i["source_name"].is_string()) => Ok(value.clone()),
            _ => fail("a list of external references, each with a source_name"),
        },
        Object => {
            if value.is_object() {
                Ok(value.clone())
            } else {
                fail("an object")
            }
        }
        List => {
            if value.is_array() {
                Ok(value.clone())
            } else {
                fail("a list")
            }
        }
        Confidence => confidence(value),
    }
}

/// STIX 2.1's integer 0..=100 stays as it is; the platform's words (bare or as
/// `{"type": "confidence", "value": …}`) are stored as that object with the word capitalized.
fn confidence(value: &Value) -> Result<Value, String> {
    let word = match value {
        Value::Number(n) => {
            return match n.as_u64() {
                Some(v) if v <= 100 => Ok(value.clone()),
                _ => Err(format!(
                    "{n} is not a confidence (0 to 100, or None, Unknown, Low, Medium, High)"
                )),
            };
        }
        Value::String(s) => s.as_str(),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("confidence") => {
            o.get("value").and_then(Value::as_str).unwrap_or("")
        }
        _ => "",
    };
    match CONFIDENCE.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        Some(c) => Ok(serde_json::json!({"type": "confidence", "value": c})),
        None => Err(format!(
            "{value} is not a confidence (None, Unknown, Low, Medium, High, or 0 to 100)"
        )),
    }
}

fn validate_extracts(value: &Value, at: &str, problems: &mut Vec<Problem>) -> Vec<Extract> {
    let Some(items) = value.as_array() else {
        problems.push(Problem::at(at, "extracts must be a list of {kind, value}"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}/{i}");
        let Some(object) = item.as_object() else {
            problems.push(Problem::at(
                here,
                "an extract is an object {kind, value, link_type?, maliciousness?}",
            ));
            continue;
        };
        for key in object.keys() {
            if ![
                "kind",
                "value",
                "link_type",
                "maliciousness",
                "classification",
                "confidence",
            ]
            .contains(&key.as_str())
            {
                problems.push(Problem::at(
                    format!("{here}/{}", escape(key)),
                    format!("'{key}' is not a property of an extract"),
                ));
            }
        }
        let kind = match object.get("kind").and_then(Value::as_str).map(observable::check_type) {
            Some(Ok(k)) => Some(k),
            Some(Err(e)) => {
                problems.push(Problem::at(format!("{here}/kind"), e));
                None
            }
            None => {
                problems.push(Problem::at(
                    format!("{here}/kind"),
                    "kind is required (an observable type)",
                ));
                None
            }
        };
        let value = match (kind, object.get("value")) {
            (Some(k), Some(Value::String(v))) => match observable::normalize(k, v) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(Problem::at(format!("{here}/value"), e));
                    None
                }
            },
            (Some(k), Some(Value::Number(n))) => observable::normalize(k, &n.to_string())
                .map_err(|e| problems.push(Problem::at(format!("{here}/value"), e)))
                .ok(),
            (_, None) => {
                problems.push(Problem::at(format!("{here}/value"), "value is required"));
                None
            }
            (None, _) => None,
            (Some(_), Some(_)) => {
                problems.push(Problem::at(format!("{here}/value"), "value must be a string"));
                None
            }
        };
        let link_type = one_of(
            object.get("link_type"),
            &observable::LINK_TYPES,
            &format!("{here}/link_type"),
            problems,
        );
        let maliciousness = one_of(
            object.get("maliciousness").or_else(|| object.get("classification")),
            &observable::MALICIOUSNESS,
            &format!("{here}/maliciousness"),
            problems,
        );
        if let (Some(kind), Some(value)) = (kind, value) {
            out.push(Extract {
                kind,
                value,
                link_type,
                maliciousness,
            });
        }
    }
    out
}

fn one_of(
    value: Option<&Value>,
    allowed: &[&'static str],
    at: &str,
    problems: &mut Vec<Problem>,
) -> Option<&'static str> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match allowed.iter().find(|a| **a == s) {
            Some(a) => Some(*a),
            None => {
                problems.push(Problem::at(at, format!("'{s}' is not one of {}", allowed.join(", "))));
                None
            }
        },
        Some(other) => {
            problems.push(Problem::at(
                at,
                format!("expected one of {}, not {other}", allowed.join(", ")),
            ));
            None
        }
    }
}

/// A key as a JSON pointer segment.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// An entity's `meta` after validation (taxonomies still as given: the caller resolves them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityMeta {
    pub tlp_color: Option<TlpColor>,
    pub estimated_observed_time: Option<Timestamp>,
    pub estimated_threat_start_time: Option<Timestamp>,
    pub estimated_threat_end_time: Option<Timestamp>,
    pub half_life: Option<i64>,
    pub source_reliability: Option<char>,
    pub tags: Vec<String>,
    pub taxonomies: Vec<Value>,
    pub attacks: Vec<Value>,
    pub title: Option<String>,
}

/// Read-only `meta` fields that clients echo back; accepted and ignored.
const META_READ_ONLY: [&str; 2] = ["ingest_time", "relevancy"];

/// Validates an entity's `meta` (at `at`).
pub fn validate_meta(meta: &Value, at: &str, problems: &mut Vec<Problem>) -> EntityMeta {
    let mut out = EntityMeta::default();
    let Some(object) = meta.as_object() else {
        if !meta.is_null() {
            problems.push(Problem::at(at, "meta must be an object"));
        }
        return out;
    };
    for (key, value) in object {
        let here = format!("{at}/{}", escape(key));
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "tlp_color" => out.tlp_color = meta_tlp(value, &here, problems),
            "estimated_observed_time" => out.estimated_observed_time = meta_time(key, value, &here, problems),
            "estimated_threat_start_time" => out.estimated_threat_start_time = meta_time(key, value, &here, problems),
            "estimated_threat_end_time" => out.estimated_threat_end_time = meta_time(key, value, &here, problems),
            "half_life" => match value.as_i64() {
                Some(days) if (1..=36_500).contains(&days) => out.half_life = Some(days),
                _ => problems.push(Problem::at(
                    here,
                    format!("half_life is a whole number of days from 1 to 36500, not {value}"),
                )),
            },
            "source_reliability" => match value.as_str().map(|s| s.as_bytes()) {
                Some([c @ b'A'..=b'F']) => out.source_reliability = Some(char::from(*c)),
                _ => problems.push(Problem::at(
                    here,
                    format!("{value} is not a reliability (one letter A to F)"),
                )),
            },
            "tags" => match value.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        match item.as_str().map(str::trim) {
                            Some(tag) if !tag.is_empty() && tag.chars().count() <= 256 => {
                                if !out.tags.iter().any(|t| t == tag) {
                                    out.tags.push(tag.to_owned());
                                }
                            }
                            _ => problems.push(Problem::at(
                                format!("{here}/{i}"),
                                "a tag is a string of 1 to 256 characters",
                            )),
                        }
                    }
                }
                None => problems.push(Problem::at(here, "tags must be a list of strings")),
            },
            "taxonomies" => match value.as_array() {
                Some(items) => out.taxonomies = items.clone(),
                None => problems.push(Problem::at(here, "taxonomies must be a list of taxonomy ids or URLs")),
            },
            "attacks" => match value.as_array() {
                Some(items) => out.attacks = items.clone(),
                None => problems.push(Problem::at(here, "attacks must be a list")),
            },
            "title" => match value.as_str() {
                Some(alias) => out.title = Some(alias.to_owned()),
                None => problems.push(Problem::at(here, "title (the alias) must be a string")),
            },
            k if META_READ_ONLY.contains(&k) => {}
            _ => problems.push(Problem::at(here, format!("'{key}' is not a meta property"))),
        }
    }
    check_threat_window(
        out.estimated_threat_start_time,
        out.estimated_threat_end_time,
        at,
        problems,
    );
    out
}

/// A `meta` timestamp field (RFC 3339), or a problem at `here`.
pub fn meta_time(key: &str, value: &Value, here: &str, problems: &mut Vec<Problem>) -> Option<Timestamp> {
    match value.as_str().map(Timestamp::parse) {
        Some(Ok(t)) => Some(t),
        _ => {
            problems.push(Problem::at(
                here,
                format!("{key} must be an RFC 3339 timestamp, not {value}"),
            ));
            None
        }
    }
}

/// A `meta.tlp_color`, or a problem at `here`.
pub fn meta_tlp(value: &Value, here: &str, problems: &mut Vec<Problem>) -> Option<TlpColor> {
    match value.as_str().map(str::parse::<TlpColor>) {
        Some(Ok(t)) => Some(t),
        _ => {
            problems.push(Problem::at(
                here,
                format!("{value} is not a TLP colour (one of {})", TlpColor::NAMES.join(", ")),
            ));
            None
        }
    }
}

/// A threat cannot end before it starts (`meta_at` is the `meta` object's pointer).
pub fn check_threat_window(
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    meta_at: &str,
    problems: &mut Vec<Problem>,
) {
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            problems.push(Problem::at(
                format!("{meta_at}/estimated_threat_end_time"),
                "the threat cannot end before it starts",
            ));
        }
    }
}

impl EntityMeta {
    /// The stored form of the fields Cairn keeps as given (tags and taxonomies are stored as
    /// links, `ingest_time` is the creation time).
    pub fn stored(&self) -> Map<String, Value> {
        let mut meta = Map::new();
        let time = |t: Option<Timestamp>| t.map_or(Value::Null, |t| Value::String(t.to_string()));
        meta.insert(
            "tlp_color".into(),
            self.tlp_color.map_or(Value::Null, |t| Value::String(t.as_str().into())),
        );
        meta.insert("estimated_observed_time".into(), time(self.estimated_observed_time));
        meta.insert(
            "estimated_threat_start_time".into(),
            time(self.estimated_threat_start_time),
        );
        meta.insert("estimated_threat_end_time".into(), time(self.estimated_threat_end_time));
        meta.insert("half_life".into(), self.half_life.map_or(Value::Null, Value::from));
        meta.insert(
            "source_reliability".into(),
            self.source_reliability
                .map_or(Value::Null, |c| Value::String(c.to_string())),
        );
        meta.insert("attacks".into(), Value::Array(self.attacks.clone()));
        meta.insert("title".into(), self.title.clone().map_or(Value::Null, Value::String));
        meta
    }
}

/// An entity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: Uuid,
    pub stix_id: String,
    pub entity_type: String,
    pub title: String,
    /// The `data` document (with its `id`).
    pub data: Map<String, Value>,
    /// The stored meta ([`EntityMeta::stored`]).
    pub meta: Map<String, Value>,
    /// When relevancy starts decaying: the estimated observed time, else the creation.
    pub observed_at: Timestamp,
    pub half_life: i64,
    pub sources: Vec<Uuid>,
    pub tags: Vec<String>,
    pub taxonomies: Vec<i64>,
    pub observables: Vec<i64>,
    pub attachments: Vec<i64>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// The whole state an entity is written with (created or replaced).
#[derive(Debug, Clone)]
pub struct EntityWrite {
    pub id: Uuid,
    /// Whether this replaces an existing entity.
    pub exists: bool,
    pub stix_id: String,
    pub entity_type: String,
    pub title: String,
    pub data: Map<String, Value>,
    pub meta: EntityMeta,
    pub sources: Vec<Uuid>,
    /// Resolved taxonomy ids.
    pub taxonomies: Vec<i64>,
    /// `None` keeps the observable links an existing entity has; `Some` replaces them.
    pub extracts: Option<Vec<Extract>>,
    /// `None` keeps an existing entity's attachments; `Some` replaces them (`[]` unlinks all).
    pub attachments: Option<Vec<i64>>,
}

/// What `/entities` filters and sorts on.
pub const SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "type",
            kind: FieldKind::Enum(&TYPES),
        },
        FieldSpec {
            name: "data.type",
            kind: FieldKind::Enum(&TYPES),
        },
        FieldSpec {
            name: "data.id",
            kind: FieldKind::Keyword,
        },
        FieldSpec {
            name: "data.title",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "observables",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "sources",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "tags",
            kind: FieldKind::Keyword,
        },
        FieldSpec {
            name: "meta.tags",
            kind: FieldKind::Keyword,
        },
        FieldSpec {
            name: "taxonomies",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "meta.taxonomies",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "meta.tlp_color",
            kind: FieldKind::Enum(&TlpColor::NAMES),
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
    sorts: &["created_at", "last_updated_at", "data.title", "relevancy"],
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems_of(data: Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        validate_data(&data, "/data", &mut problems);
        problems
    }

    #[test]
    fn type_and_title_are_required() {
        let p = problems_of(json!({"description": "x"}));
        let pointers: Vec<_> = p.iter().map(|p| p.pointer.clone().unwrap()).collect();
        assert_eq!(pointers, ["/data/type", "/data/title"]);
    }

    #[test]
    fn stix_malware_is_accepted_and_kept() {
        let data = json!({"type": "malware", "title": "Poison Ivy", "is_family": true, "malware_types": ["remote-access-trojan"],
            "id": "malware--591f0cb7-d66f-4e14-a8e6-5927b597f920", "x_vendor": {"a": 1},
            "kill_chain_phases": [{"kill_chain_name": "mandiant", "phase_name": "establish-foothold"}]});
        let mut p = Vec::new();
        let valid = validate_data(&data, "/data", &mut p).expect("valid");
        assert!(p.is_empty());
        assert_eq!(Value::Object(valid.document), data);
        assert_eq!(
            valid.stix_id.as_deref(),
            Some("malware--591f0cb7-d66f-4e14-a8e6-5927b597f920")
        );
    }

    #[test]
    fn old_threat_actor_fields_are_refused_by_name() {
        let p = problems_of(
            json!({"type": "threat-actor", "title": "APT", "motivations": [{"value": "Ego"}], "types": []}),
        );
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.detail.contains("old threat-actor schema")));
    }

    #[test]
    fn closed_enums_unknown_properties_and_bad_ids() {
        let p = problems_of(
            json!({"type": "identity", "title": "ACME", "identity_class": "company", "colour": "red",
            "id": "malware--591f0cb7-d66f-4e14-a8e6-5927b597f920"}),
        );
        let pointers: Vec<_> = p.iter().map(|p| p.pointer.clone().unwrap()).collect();
        assert_eq!(pointers.len(), 3, "{p:?}");
        assert!(pointers.contains(&"/data/identity_class".to_owned()));
        assert!(pointers.contains(&"/data/colour".to_owned()));
        assert!(pointers.contains(&"/data/id".to_owned()));
    }

    #[test]
    fn confidence_forms() {
        assert_eq!(
            confidence(&json!("high")).unwrap(),
            json!({"type": "confidence", "value": "High"})
        );
        assert_eq!(
            confidence(&json!({"type": "confidence", "value": "Low"})).unwrap(),
            json!({"type": "confidence", "value": "Low"})
        );
        assert_eq!(confidence(&json!(85)).unwrap(), json!(85));
        for bad in [
            json!("very high"),
            json!(101),
            json!(-1),
            json!({"value": "High"}),
            json!(true),
        ] {
            assert!(confidence(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extracts_are_normalized_and_checked() {
        let mut p = Vec::new();
        let data = json!({"type": "indicator", "title": "t", "extracts": [
            {"kind": "ipv4", "value": " 10.0.0.1 ", "link_type": "observed", "maliciousness": "high"},
            {"kind": "domain", "value": "Evil.COM."},
            {"kind": "ipv4", "value": "999.1.1.1"},
            {"kind": "nonsense", "value": "x"}]});
        assert!(validate_data(&data, "/data", &mut p).is_none());
        let pointers: Vec<_> = p.iter().map(|p| p.pointer.clone().unwrap()).collect();
        assert_eq!(pointers, ["/data/extracts/2/value", "/data/extracts/3/kind"]);
        let ok = json!({"type": "indicator", "title": "t", "extracts": [{"kind": "domain", "value": "Evil.COM."}]});
        let valid = validate_data(&ok, "/data", &mut Vec::new()).unwrap();
        assert_eq!(valid.extracts.unwrap()[0].value, "evil.com");
        assert!(!valid.document.contains_key("extracts"));
    }

    #[test]
    fn stix_ids_accept_the_documented_forms() {
        let u = "591f0cb7-d66f-4e14-a8e6-5927b597f920";
        for id in [
            format!("indicator--{u}"),
            format!("indicator-{u}"),
            format!("{{https://example.org}}indicator-{u}"),
        ] {
            assert!(check_stix_id(&id, Some("indicator")).is_ok(), "{id}");
        }
        assert!(check_stix_id(&format!("sighting--{u}"), Some("eclecticiq-sighting")).is_ok());
        assert!(check_stix_id("indicator--123", Some("indicator")).is_err());
    }

    #[test]
    fn relevancy_halves_every_half_life() {
        let now = Timestamp::now();
        assert!((relevancy(now.plus_days(-30), 30, now) - 0.5).abs() < 1e-9);
        assert_eq!(relevancy(now.plus_days(5), 30, now), 1.0);
    }

    #[test]
    fn meta_is_checked() {
        let mut p = Vec::new();
        let meta = validate_meta(
            &json!({"tlp_color": "AMBER+STRICT", "tags": ["a", " a ", "b"], "half_life": 0,
            "estimated_observed_time": "2024-01-01T00:00:00Z", "ingest_time": "whatever", "colour": 1}),
            "/meta",
            &mut p,
        );
        assert_eq!(meta.tlp_color, Some(TlpColor::AmberStrict));
        assert_eq!(meta.tags, ["a", "b"]);
        let pointers: Vec<_> = p.iter().map(|p| p.pointer.clone().unwrap()).collect();
        assert_eq!(pointers, ["/meta/half_life", "/meta/colour"]);
    }
}
