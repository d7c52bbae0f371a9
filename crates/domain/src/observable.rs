//! Observables: typed values (an IP, a domain, a hash…) validated and normalized per type,
//! so that the same value written two ways is one observable.

use crate::filter::{FieldKind, FieldSpec, ResourceSpec};
use crate::time::Timestamp;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Every observable type, in wire spelling.
pub const TYPES: [&str; 76] = [
    "actor-id",
    "address",
    "asn",
    "bank-account",
    "card",
    "card-owner",
    "cce",
    "certificate-serial-number",
    "city",
    "company",
    "country",
    "country-code",
    "cpu-architecture",
    "crypto-address",
    "cve",
    "cwe",
    "domain",
    "email",
    "email-subject",
    "eui-64",
    "file",
    "file-size",
    "forum-name",
    "forum-room",
    "forum-thread",
    "geo",
    "geo-lat",
    "geo-long",
    "handle",
    "hash-authentihash",
    "hash-imphash",
    "hash-md5",
    "hash-rich-pe-header",
    "hash-sha1",
    "hash-sha224",
    "hash-sha256",
    "hash-sha384",
    "hash-sha512",
    "hash-ssdeep",
    "hash-vhash",
    "host",
    "industry",
    "inetnum",
    "ipv4",
    "ipv4-cidr",
    "ipv6",
    "ipv6-cidr",
    "ja3-full",
    "ja3-hash",
    "ja3s-full",
    "ja3s-hash",
    "mac-48",
    "malware",
    "malware-key",
    "mutex",
    "name",
    "nationality",
    "netname",
    "organization",
    "person",
    "port",
    "postcode",
    "process",
    "process-name",
    "product",
    "region",
    "registrar",
    "rule",
    "snort",
    "street",
    "telephone",
    "uri",
    "uri-hash-sha256",
    "user-agent",
    "winregistry",
    "yara",
];

/// How malicious an observable is judged to be.
pub const MALICIOUSNESS: [&str; 5] = ["unknown", "safe", "low", "medium", "high"];

/// Link types between an entity and an observable it mentions.
pub const LINK_TYPES: [&str; 13] = [
    "observed",
    "sighted",
    "related",
    "affected",
    "configuration",
    "vulnerability",
    "weakness",
    "affected-asset",
    "parameter",
    "test-mechanism",
    "identity",
    "malicious-infrastructure",
    "targeted-victim",
];

/// The longest value any observable may have, in bytes.
pub const MAX_VALUE_LEN: usize = 8192;

/// An observable as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Observable {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub maliciousness: String,
    /// Visible entities that mention it.
    pub entities: Vec<uuid::Uuid>,
    /// Visible sources it came from.
    pub sources: Vec<uuid::Uuid>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// An observable to create or update (matched by type and normalized value).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservableWrite {
    pub kind: &'static str,
    /// Normalized.
    pub value: String,
    /// `None` keeps an existing observable's maliciousness (new ones are `unknown`).
    pub maliciousness: Option<&'static str>,
    pub sources: Vec<uuid::Uuid>,
}

/// Every form a looked-up value may be stored in: as given (trimmed) and as each of `kinds`
/// (all types when empty) normalizes it.
pub fn lookup_forms(value: &str, kinds: &[&str]) -> Vec<String> {
    let mut forms = vec![value.trim().to_owned()];
    let kinds: Vec<&str> = if kinds.is_empty() {
        TYPES.to_vec()
    } else {
        kinds.to_vec()
    };
    for kind in kinds {
        if let Ok(form) = normalize(kind, value) {
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// What `/observables` filters and sorts on.
pub const SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "type",
            kind: FieldKind::Enum(&TYPES),
        },
        FieldSpec {
            name: "value",
            kind: FieldKind::Keyword,
        },
        FieldSpec {
            name: "entities",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "sources",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "meta.maliciousness",
            kind: FieldKind::Enum(&MALICIOUSNESS),
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
    sorts: &["created_at", "last_updated_at", "value", "type"],
};

/// Checks that `kind` is an observable type.
pub fn check_type(kind: &str) -> Result<&'static str, String> {
    TYPES
        .iter()
        .copied()
        .find(|t| *t == kind)
        .ok_or_else(|| format!("'{kind}' is not an observable type"))
}

/// The canonical form of `value` as an observable of type `kind`, or what is wrong with it.
pub fn normalize(kind: &str, value: &str) -> Result<String, String> {
    let kind = check_type(kind)?;
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("a {kind} value cannot be empty"));
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(format!("a {kind} value is at most {MAX_VALUE_LEN} bytes"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!(
            "'{}' has control characters, which no {kind} value may hold",
            v.escape_debug()
        ));
    }
    match kind {
        "ipv4" => Ipv4Addr::from_str(v)
            .map(|ip| ip.to_string())
            .map_err(|_| format!("'{v}' is not an IPv4 address")),
        "ipv6" => Ipv6Addr::from_str(v)
            .map(|ip| ip.to_string())
            .map_err(|_| format!("'{v}' is not an IPv6 address")),
        "ipv4-cidr" => cidr(v, 32, |a| {
            Ipv4Addr::from_str(a).ok().map(|ip| (u128::from(u32::from(ip)), 32))
        })
        .map(|(bits, len)| format!("{}/{len}", Ipv4Addr::from(bits as u32)))
        .map_err(|e| format!("'{v}' is not an IPv4 CIDR ({e})")),
        "ipv6-cidr" => cidr(v, 128, |a| Ipv6Addr::from_str(a).ok().map(|ip| (u128::from(ip), 128)))
            .map(|(bits, len)| format!("{}/{len}", Ipv6Addr::from(bits)))
            .map_err(|e| format!("'{v}' is not an IPv6 CIDR ({e})")),
        "domain" | "host" => hostname(v).ok_or_else(|| format!("'{v}' is not a {kind} name")),
        "email" => {
            let (local, domain) = v
                .rsplit_once('@')
                .ok_or_else(|| format!("'{v}' is not an email address (no @)"))?;
            if local.is_empty() || local.contains(char::is_whitespace) {
                return Err(format!("'{v}' is not an email address"));
            }
            let domain = hostname(domain).ok_or_else(|| format!("'{v}' is not an email address (bad domain)"))?;
            Ok(format!("{local}@{domain}"))
        }
        "hash-md5" | "hash-imphash" | "ja3-hash" | "ja3s-hash" => hex_digest(v, 32, kind),
        "hash-sha1" => hex_digest(v, 40, kind),
        "hash-sha224" => hex_digest(v, 56, kind),
        "hash-sha256" | "hash-authentihash" | "uri-hash-sha256" => hex_digest(v, 64, kind),
        "hash-sha384" => hex_digest(v, 96, kind),
        "hash-sha512" => hex_digest(v, 128, kind),
        "port" => match v.parse::<u32>() {
            Ok(n) if n <= 65535 => Ok(n.to_string()),
            _ => Err(format!("'{v}' is not a port (a whole number from 0 to 65535)")),
        },
        "asn" => {
            let digits = v.strip_prefix("AS").or_else(|| v.strip_prefix("as")).unwrap_or(v);
            match digits.parse::<u32>() {
                Ok(n) => Ok(n.to_string()),
                Err(_) => Err(format!("'{v}' is not an AS number (e.g. 64512 or AS64512)")),
            }
        }
        "file-size" => v
            .parse::<u64>()
            .map(|n| n.to_string())
            .map_err(|_| format!("'{v}' is not a file size in bytes")),
        "cve" => {
            let upper = v.to_ascii_uppercase();
            let ok = upper
                .strip_prefix("CVE-")
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(year, number)| {
                    year.len() == 4
                        && year.bytes().all(|b| b.is_ascii_digit())
                        && number.len() >= 4
                        && number.bytes().all(|b| b.is_ascii_digit())
                });
            if ok {
                Ok(upper)
            } else {
                Err(format!("'{v}' is not a CVE id (e.g. CVE-2021-44228)"))
            }
        }
        "cwe" => {
            let upper = v.to_ascii_uppercase();
            let ok = upper
                .strip_prefix("CWE-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if ok {
                Ok(upper)
            } else {
                Err(format!("'{v}' is not a CWE id (e.g. CWE-79)"))
            }
        }
        "mac-48" => {
            let hex: String = v.chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
            if hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let hex = hex.to_ascii_lowercase();
                Ok((0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect::<Vec<_>>().join(":"))
            } else {
                Err(format!("'{v}' is not a MAC-48 address"))
            }
        }
        "country-code" => {
            if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(v.to_ascii_uppercase())
            } else {
                Err(format!("'{v}' is not a two-letter country code"))
            }
        }
        "geo-lat" => coordinate(v, 90.0).ok_or_else(|| format!("'{v}' is not a latitude (-90 to 90)")),
        "geo-long" => coordinate(v, 180.0).ok_or_else(|| format!("'{v}' is not a longitude (-180 to 180)")),
        _ => Ok(v.to_owned()),
    }
}

fn hex_digest(v: &str, len: usize, kind: &str) -> Result<String, String> {
    if v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(format!("'{v}' is not a {kind} value ({len} hexadecimal characters)"))
    }
}

/// Lowercase, without a trailing dot; labels of letters, digits, `-` and `_`, 1 to 63 long.
fn hostname(v: &str) -> Option<String> {
    let name = v.strip_suffix('.').unwrap_or(v).to_lowercase();
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    };
    name.split('.').all(label_ok).then_some(name)
}

/// Parses `address/len`, zeroing the host bits; `parse` gives the address bits and width.
fn cidr(v: &str, max: u32, parse: impl Fn(&str) -> Option<(u128, u32)>) -> Result<(u128, u32), &'static str> {
    let (address, len) = v.split_once('/').ok_or("no /prefix length")?;
    let len: u32 = len.parse().map_err(|_| "bad prefix length")?;
    if len > max {
        return Err("prefix length too long");
    }
    let (bits, width) = parse(address).ok_or("bad address")?;
    let mask = if len == 0 {
        0
    } else {
        (!0u128 >> (128 - width)) & !((1u128 << (width - len)) - 1)
    };
    Ok((bits & mask, len))
}

fn coordinate(v: &str, limit: f64) -> Option<String> {
    let n: f64 = v.parse().ok()?;
    (n.is_finite() && n.abs() <= limit).then(|| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kind: &str, given: &str, expected: &str) {
        assert_eq!(normalize(kind, given).as_deref(), Ok(expected), "{kind} {given}");
    }

    fn bad(kind: &str, given: &str) {
        assert!(normalize(kind, given).is_err(), "{kind} {given} should be refused");
    }

    #[test]
    fn addresses() {
        ok("ipv4", " 192.168.0.1 ", "192.168.0.1");
        ok("ipv6", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
        ok("ipv6", "::FFFF:1.2.3.4", "::ffff:1.2.3.4");
        ok("ipv4-cidr", "10.1.2.3/8", "10.0.0.0/8");
        ok("ipv4-cidr", "0.0.0.0/0", "0.0.0.0/0");
        ok("ipv6-cidr", "2001:DB8::1/32", "2001:db8::/32");
        bad("ipv4", "256.1.1.1");
        bad("ipv4", "01.2.3.4");
        bad("ipv4-cidr", "10.0.0.0/33");
        bad("ipv6", "2001:db8::g");
    }

    #[test]
    fn names() {
        ok("domain", "Example.COM.", "example.com");
        ok("host", "WWW.example.org", "www.example.org");
        ok("email", "John.Doe@Example.COM", "John.Doe@example.com");
        bad("domain", "exa mple.com");
        bad("domain", "-bad.example");
        bad("email", "nobody");
    }

    #[test]
    fn digests_and_numbers() {
        ok(
            "hash-md5",
            "D41D8CD98F00B204E9800998ECF8427E",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        bad("hash-sha1", "d41d8cd98f00b204e9800998ecf8427e");
        bad("hash-sha256", &"z".repeat(64));
        ok("port", "0443", "443");
        bad("port", "65536");
        ok("asn", "AS64512", "64512");
        ok("cve", "cve-2021-44228", "CVE-2021-44228");
        ok("mac-48", "00-1A-2B-3C-4D-5E", "00:1a:2b:3c:4d:5e");
    }

    #[test]
    fn lookups_try_every_form() {
        let forms = lookup_forms(" Evil.COM. ", &[]);
        assert!(forms.contains(&"evil.com".to_owned()));
        assert!(forms.contains(&"Evil.COM.".to_owned()));
        assert_eq!(lookup_forms("Evil.COM.", &["domain"]), ["Evil.COM.", "evil.com"]);
    }

    #[test]
    fn unknown_types_and_empty_values() {
        assert!(normalize("ip", "1.2.3.4")
            .unwrap_err()
            .contains("not an observable type"));
        bad("uri", "   ");
        ok("uri", " http://Example.com/A ", "http://Example.com/A");
    }
}
