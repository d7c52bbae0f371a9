//! Permissions: `read <resource>` and `modify <resource>` for every kind of object Cairn holds.

use std::fmt;
use std::str::FromStr;

/// The kinds of object a permission can name, in their wire spelling.
///
/// `extracts` are observables and `intel-sets` are datasets: the names integrations already use.
pub const RESOURCES: [&str; 17] = [
    "entities",
    "extracts",
    "relationships",
    "sources",
    "taxonomies",
    "entity-rules",
    "intel-sets",
    "workspaces",
    "tickets",
    "outgoing-feeds",
    "incoming-feeds",
    "tasks",
    "knowledge-packs",
    "users",
    "groups",
    "roles",
    "permissions",
];

/// What a permission allows on its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Read,
    Modify,
}

/// One permission, e.g. `read entities`. Only names from [`RESOURCES`] can be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    pub access: Access,
    pub resource: &'static str,
}

impl Permission {
    /// `read <resource>`; panics only on a resource name missing from [`RESOURCES`], a bug.
    pub const fn read(resource: &'static str) -> Self {
        Permission {
            access: Access::Read,
            resource,
        }
    }

    /// `modify <resource>`.
    pub const fn modify(resource: &'static str) -> Self {
        Permission {
            access: Access::Modify,
            resource,
        }
    }

    /// Every permission, in a fixed order: the order gives each its numeric id, so new
    /// resources are only ever appended to [`RESOURCES`].
    pub fn all() -> impl Iterator<Item = Permission> {
        RESOURCES
            .iter()
            .flat_map(|r| [Permission::read(r), Permission::modify(r)])
    }

    /// The permission's stable numeric id (1-based).
    pub fn id(self) -> i64 {
        let index = RESOURCES.iter().position(|r| *r == self.resource).unwrap_or(0) as i64;
        index * 2 + if self.access == Access::Read { 1 } else { 2 }
    }

    /// The permission with a numeric id, if there is one.
    pub fn from_id(id: i64) -> Option<Permission> {
        Permission::all().find(|p| p.id() == id)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.access {
            Access::Read => "read",
            Access::Modify => "modify",
        };
        write!(f, "{verb} {}", self.resource)
    }
}

/// A permission name that Cairn does not know.
#[derive(Debug, Clone, thiserror::Error)]
#[error("'{0}' is not a permission (expected 'read <resource>' or 'modify <resource>')")]
pub struct UnknownPermission(pub String);

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownPermission(s.to_owned());
        let (verb, resource) = s.split_once(' ').ok_or_else(unknown)?;
        let resource = RESOURCES.iter().find(|r| **r == resource).ok_or_else(unknown)?;
        match verb {
            "read" => Ok(Permission::read(resource)),
            "modify" => Ok(Permission::modify(resource)),
            _ => Err(unknown()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::all() {
            assert_eq!(p.to_string().parse::<Permission>().unwrap(), p);
        }
        assert_eq!(Permission::all().count(), RESOURCES.len() * 2);
    }

    #[test]
    fn ids_are_dense_and_stable() {
        assert_eq!(Permission::read("entities").id(), 1);
        assert_eq!(Permission::modify("entities").id(), 2);
        for (i, p) in Permission::all().enumerate() {
            assert_eq!(p.id(), i as i64 + 1);
            assert_eq!(Permission::from_id(p.id()), Some(p));
        }
        assert_eq!(Permission::from_id(0), None);
    }

    #[test]
    fn the_names_integrations_use_exist() {
        for name in [
            "read entities",
            "modify entities",
            "read extracts",
            "read intel-sets",
            "modify knowledge-packs",
        ] {
            assert!(name.parse::<Permission>().is_ok(), "{name}");
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for name in ["read", "write entities", "read entity", "READ entities", ""] {
            assert!(name.parse::<Permission>().is_err(), "{name}");
        }
    }
}
