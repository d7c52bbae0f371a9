//! Reproducible v2 payloads from a seed: entities of every type with 0–5 extracts drawn from
//! a shared pool (so observables repeat across entities, as in real feeds), and
//! relationships between them.

use serde_json::{json, Value};

/// splitmix64: small, fast, and the same sequence for the same seed everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Skewed towards small numbers: a few observables are in many entities.
    pub fn skewed(&mut self, n: u64) -> u64 {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }
}

const TYPES: [(&str, u64); 10] = [
    ("indicator", 50),
    ("malware", 10),
    ("attack-pattern", 8),
    ("threat-actor", 5),
    ("campaign", 5),
    ("report", 8),
    ("tool", 5),
    ("intrusion-set", 3),
    ("vulnerability", 4),
    ("course-of-action", 2),
];
const WORDS: [&str; 16] = [
    "shadow", "bear", "panda", "kitten", "spider", "loader", "dropper", "stealer", "beacon", "phish", "ransom",
    "wiper", "botnet", "proxy", "exploit", "backdoor",
];
const TLP: [&str; 4] = ["CLEAR", "GREEN", "AMBER", "RED"];

/// The `i`-th value of the shared observable pool, as `(kind, normalized value)`.
pub fn observable(i: u64) -> (&'static str, String) {
    match i % 5 {
        0 => ("ipv4", format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)),
        1 => ("domain", format!("host{i}.{}.example", WORDS[(i % 16) as usize])),
        2 => ("hash-sha256", format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))),
        3 => ("uri", format!("https://cdn{i}.example/payload/{}.bin", i % 97)),
        _ => ("email", format!("sender{i}@{}.example", WORDS[(i % 16) as usize])),
    }
}

/// One generated entity.
pub struct Generated {
    pub kind: &'static str,
    pub stix_id: String,
    pub payload: Value,
    /// Indices into the observable pool.
    pub extracts: Vec<u64>,
}

/// `count` entities from `seed`, drawing extracts from a pool of `count * 2` observables.
pub fn entities(seed: u64, count: u64) -> Vec<Generated> {
    let mut rng = Rng::new(seed);
    let pool = (count * 2).max(10);
    let total: u64 = TYPES.iter().map(|(_, w)| w).sum();
    (0..count)
        .map(|i| {
            let mut pick = rng.below(total);
            let kind = TYPES.iter().find(|(_, w)| if pick < *w { true } else { pick -= w; false }).map_or("indicator", |(k, _)| k);
            let stix_id = format!("{kind}--{}", uuid_from(&mut rng));
            let extracts: Vec<u64> = (0..rng.below(6)).map(|_| rng.skewed(pool)).collect();
            let title = format!("{} {} {i}", WORDS[rng.below(16) as usize], WORDS[rng.below(16) as usize]);
            let confidence = ["Low", "Medium", "High"][rng.below(3) as usize];
            let payload = json!({
                "data": {
                    "type": kind,
                    "title": title,
                    "id": stix_id,
                    "description": format!("Generated {kind} number {i} for benchmarks."),
                    "confidence": confidence,
                    "extracts": extracts.iter().map(|o| {
                        let (kind, value) = observable(*o);
                        json!({"kind": kind, "value": value, "link_type": "observed"})
                    }).collect::<Vec<_>>(),
                },
                "meta": {
                    "tlp_color": TLP[rng.below(4) as usize],
                    "tags": [format!("feed-{}", rng.below(20))],
                    "estimated_observed_time": format!("2026-{:02}-{:02}T12:00:00Z", 1 + rng.below(11), 1 + rng.below(28)),
                },
            });
            Generated { kind, stix_id, payload, extracts }
        })
        .collect()
}

/// A version 4 UUID from the generator.
pub fn uuid_from(rng: &mut Rng) -> uuid::Uuid {
    let bytes = (u128::from(rng.next()) << 64) | u128::from(rng.next());
    uuid::Builder::from_random_bytes(bytes.to_be_bytes()).into_uuid()
}

/// Relationship keys the generator uses, weighted towards the common ones.
const KEYS: [&str; 5] = ["indicates", "uses", "related-to", "targets", "attributed-to"];

/// `count` relationships between generated entities `(source index, key, target index)`,
/// never an entity to itself and never the same triple twice.
pub fn relationships(seed: u64, entities: u64, count: u64) -> Vec<(u64, &'static str, u64)> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    while (out.len() as u64) < count.min(entities.saturating_mul(entities.saturating_sub(1))) {
        let (s, t) = (rng.below(entities), rng.below(entities));
        let key = KEYS[rng.below(KEYS.len() as u64) as usize];
        if s != t && seen.insert((s, key, t)) {
            out.push((s, key, t));
        }
    }
    out
}
