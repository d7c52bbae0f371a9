//! Users, groups, roles and API tokens, and the [`Principal`] a request acts as.

use crate::filter::{FieldKind, FieldSpec, ResourceSpec};
use crate::permission::Permission;
use crate::source::SourceId;
use crate::time::Timestamp;
use crate::tlp::TlpColor;
use crate::visibility::VisibilityScope;
use std::collections::BTreeSet;

pub type UserId = i64;
pub type GroupId = i64;
pub type RoleId = i64;
pub type TokenId = i64;

/// A person or an integration that logs in with tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub is_active: bool,
    /// Administrators hold every permission and see every object.
    pub is_admin: bool,
    /// In membership order: the first group's source is the user's default source.
    pub groups: Vec<GroupId>,
    pub roles: Vec<RoleId>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// What a new user is made of.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub is_admin: bool,
    pub groups: Vec<GroupId>,
    pub roles: Vec<RoleId>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub is_admin: Option<bool>,
    pub groups: Option<Vec<GroupId>>,
    pub roles: Option<Vec<RoleId>>,
}

/// A team. It owns one source (what its members create is tied to it) and sees its allowed
/// sources up to its maximum TLP.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub source: SourceId,
    pub allowed_sources: Vec<SourceId>,
    pub max_tlp: TlpColor,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// What a new group is made of.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub allowed_sources: Vec<SourceId>,
    pub max_tlp: TlpColor,
}

/// Changes to a group.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub allowed_sources: Option<Vec<SourceId>>,
    pub max_tlp: Option<TlpColor>,
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub description: Option<String>,
    pub permissions: BTreeSet<Permission>,
    pub created_at: Timestamp,
    pub last_updated_at: Timestamp,
}

/// What a new role is made of.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    pub description: Option<String>,
    pub permissions: BTreeSet<Permission>,
}

/// Changes to a role.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub permissions: Option<BTreeSet<Permission>>,
}

/// An API token as stored: never its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// Who a request acts as, with everything needed to authorize it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub username: String,
    pub is_admin: bool,
    /// The union of the user's roles' permissions.
    pub permissions: BTreeSet<Permission>,
    pub scope: VisibilityScope,
    /// Where the user's new objects go when they name no source.
    pub default_source: Option<SourceId>,
}

impl Principal {
    /// Whether the caller holds a permission (administrators hold them all).
    pub fn has(&self, permission: Permission) -> bool {
        self.is_admin || self.permissions.contains(&permission)
    }

    /// The permissions in effect (for administrators: every one).
    pub fn effective_permissions(&self) -> BTreeSet<Permission> {
        if self.is_admin {
            Permission::all().collect()
        } else {
            self.permissions.clone()
        }
    }
}

/// Checks a user name: 1 to 150 characters of letters, digits and `.`, `_`, `-`, `@`, `+`.
pub fn validate_username(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_alphanumeric() || ".-_@+".contains(c);
    if name.is_empty() || name.chars().count() > 150 || !name.chars().all(ok_char) {
        return Err(format!(
            "'{name}' is not a user name (1 to 150 letters, digits or . _ - @ +)"
        ));
    }
    Ok(())
}

/// Checks the name of a group or role: 1 to 200 characters, not only spaces.
pub fn validate_display_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err("a name is 1 to 200 characters and not only spaces".to_owned());
    }
    Ok(())
}

/// What `/users` filters and sorts on.
pub const USER_SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "username",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "email",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "is_active",
            kind: FieldKind::Boolean,
        },
        FieldSpec {
            name: "is_admin",
            kind: FieldKind::Boolean,
        },
        FieldSpec {
            name: "groups",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "roles",
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
    sorts: &["username", "created_at", "last_updated_at"],
};

/// What `/groups` filters and sorts on.
pub const GROUP_SPEC: ResourceSpec = ResourceSpec {
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
            name: "source",
            kind: FieldKind::Uuid,
        },
        FieldSpec {
            name: "allowed_sources",
            kind: FieldKind::Uuid,
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

/// What `/roles` filters and sorts on.
pub const ROLE_SPEC: ResourceSpec = ResourceSpec {
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

/// What `/permissions` filters and sorts on.
pub const PERMISSION_SPEC: ResourceSpec = ResourceSpec {
    filters: &[
        FieldSpec {
            name: "id",
            kind: FieldKind::IntegerId,
        },
        FieldSpec {
            name: "name",
            kind: FieldKind::Text,
        },
    ],
    sorts: &["id", "name"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_hold_every_permission() {
        let p = Principal {
            user_id: 1,
            username: "admin".into(),
            is_admin: true,
            permissions: BTreeSet::new(),
            scope: VisibilityScope::Everything,
            default_source: None,
        };
        assert!(p.has(Permission::modify("users")));
        assert_eq!(p.effective_permissions().len(), Permission::all().count());
    }

    #[test]
    fn others_hold_what_their_roles_give() {
        let p = Principal {
            user_id: 2,
            username: "analyst".into(),
            is_admin: false,
            permissions: [Permission::read("sources")].into(),
            scope: VisibilityScope::Grants(vec![]),
            default_source: None,
        };
        assert!(p.has(Permission::read("sources")));
        assert!(!p.has(Permission::modify("sources")));
    }

    #[test]
    fn user_names() {
        assert!(validate_username("soar.bot@example.org").is_ok());
        for bad in ["", "has space", "semi;colon", &"x".repeat(151)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}
