//! Users, groups, roles, permissions and API tokens; and the principal a token acts as.

use crate::list::{Column, Listing};
use crate::sources::{self, parse_uuid};
use crate::sql::Sql;
use crate::Store;
use cairn_domain::filter::{ListPage, ListQuery};
use cairn_domain::identity::{
    ApiToken, Group, GroupId, GroupPatch, NewGroup, NewRole, NewUser, Principal, Role, RoleId, RolePatch, TokenId,
    User, UserId, UserPatch,
};
use cairn_domain::permission::Permission;
use cairn_domain::source::{SourceId, SourceType};
use cairn_domain::visibility::{Grant, VisibilityScope};
use cairn_domain::{StoreError, Timestamp, TlpColor};
use std::collections::BTreeSet;

/// What a presented token turned out to be.
#[derive(Debug)]
pub enum TokenCheck {
    /// No such token.
    Unknown,
    Expired,
    Revoked,
    /// The token's user is deactivated.
    Inactive,
    Valid {
        principal: Box<Principal>,
        expires_at: Option<Timestamp>,
    },
}

// ---- permissions -------------------------------------------------------------------------

const PERMISSIONS: Listing = Listing {
    from: "permissions p",
    id: "p.id",
    column: |field| {
        Some(Column::Plain(match field {
            "id" => "p.id",
            "name" => "p.name",
            _ => return None,
        }))
    },
    default_sort: &[("p.id", false)],
};

fn decode_permission((id, name): (i64, String)) -> Result<Permission, StoreError> {
    Permission::from_id(id)
        .filter(|p| p.to_string() == name)
        .ok_or_else(|| StoreError::Internal(format!("permission {id} '{name}' is not one this version knows")))
}

// ---- roles ---------------------------------------------------------------------------------

type RoleRow = (i64, String, Option<String>, i64, i64);
const ROLE_SELECT: &str = "r.id, r.name, r.description, r.created_at, r.last_updated_at";
const ROLES: Listing = Listing {
    from: "roles r",
    id: "r.id",
    column: |field| {
        Some(Column::Plain(match field {
            "id" => "r.id",
            "name" => "r.name",
            "created_at" => "r.created_at",
            "last_updated_at" => "r.last_updated_at",
            _ => return None,
        }))
    },
    default_sort: &[("r.last_updated_at", true)],
};

// ---- groups --------------------------------------------------------------------------------

type GroupRow = (i64, String, String, String, i64, i64);
const GROUP_SELECT: &str = "g.id, g.name, g.source_id, g.max_tlp, g.created_at, g.last_updated_at";
const GROUPS: Listing = Listing {
    from: "access_groups g",
    id: "g.id",
    column: |field| {
        Some(match field {
            "id" => Column::Plain("g.id"),
            "name" => Column::Plain("g.name"),
            "source" => Column::Plain("g.source_id"),
            "created_at" => Column::Plain("g.created_at"),
            "last_updated_at" => Column::Plain("g.last_updated_at"),
            "allowed_sources" => {
                Column::Exists("SELECT 1 FROM access_group_sources a WHERE a.group_id = g.id AND a.source_id")
            }
            _ => return None,
        })
    },
    default_sort: &[("g.last_updated_at", true)],
};

// ---- users ---------------------------------------------------------------------------------

type UserRow = (i64, String, Option<String>, bool, bool, i64, i64);
const USER_SELECT: &str = "u.id, u.username, u.email, u.is_active, u.is_admin, u.created_at, u.last_updated_at";
const USERS: Listing = Listing {
    from: "users u",
    id: "u.id",
    column: |field| {
        Some(match field {
            "id" => Column::Plain("u.id"),
            "username" => Column::Plain("u.username"),
            "email" => Column::Plain("u.email"),
            "is_active" => Column::Plain("u.is_active"),
            "is_admin" => Column::Plain("u.is_admin"),
            "created_at" => Column::Plain("u.created_at"),
            "last_updated_at" => Column::Plain("u.last_updated_at"),
            "groups" => Column::Exists("SELECT 1 FROM user_memberships m WHERE m.user_id = u.id AND m.group_id"),
            "roles" => Column::Exists("SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role_id"),
            _ => return None,
        })
    },
    default_sort: &[("u.last_updated_at", true)],
};

type TokenRow = (i64, i64, String, i64, Option<i64>, Option<i64>, Option<i64>);
const TOKEN_SELECT: &str = "id, user_id, name, created_at, expires_at, revoked_at, last_used_at";

fn decode_token(row: TokenRow) -> ApiToken {
    let (id, user_id, name, created_at, expires_at, revoked_at, last_used_at) = row;
    ApiToken {
        id,
        user_id,
        name,
        created_at: Timestamp::from_micros(created_at),
        expires_at: expires_at.map(Timestamp::from_micros),
        revoked_at: revoked_at.map(Timestamp::from_micros),
        last_used_at: last_used_at.map(Timestamp::from_micros),
    }
}

fn tlp(text: &str) -> Result<TlpColor, StoreError> {
    text.parse()
        .map_err(|e: cairn_domain::tlp::BadTlpColor| StoreError::Internal(e.to_string()))
}

/// Pairs `(owner, item)` grouped by owner, keeping the order they came in.
fn by_owner<T: Clone>(pairs: &[(i64, T)], owner: i64) -> Vec<T> {
    pairs
        .iter()
        .filter(|(o, _)| *o == owner)
        .map(|(_, t)| t.clone())
        .collect()
}

impl Store {
    // ---- permissions ---------------------------------------------------------------------

    /// The permission catalogue, filtered and paged.
    pub async fn list_permissions(&self, query: &ListQuery) -> Result<ListPage<Permission>, StoreError> {
        let page = self
            .list::<(i64, String)>(&PERMISSIONS, "p.id, p.name", Sql::new("1 = 1"), query)
            .await?;
        Ok(ListPage {
            items: page
                .items
                .into_iter()
                .map(decode_permission)
                .collect::<Result<_, _>>()?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    // ---- roles -----------------------------------------------------------------------------

    async fn role_permissions(&self, roles: &[RoleId]) -> Result<Vec<(i64, Permission)>, StoreError> {
        let mut sql = Sql::new(
            "SELECT rp.role_id, p.id, p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id \
             WHERE rp.role_id IN ",
        );
        sql.arg_list(roles.iter().copied()).push(" ORDER BY rp.role_id, p.id");
        let rows: Vec<(i64, i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, i64, String), sql))?;
        rows.into_iter()
            .map(|(role, id, name)| Ok((role, decode_permission((id, name))?)))
            .collect()
    }

    async fn complete_roles(&self, rows: Vec<RoleRow>) -> Result<Vec<Role>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let permissions = self.role_permissions(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, description, created_at, last_updated_at)| Role {
                id,
                name,
                description,
                permissions: by_owner(&permissions, id).into_iter().collect(),
                created_at: Timestamp::from_micros(created_at),
                last_updated_at: Timestamp::from_micros(last_updated_at),
            })
            .collect())
    }

    /// Roles, filtered and paged.
    pub async fn list_roles(&self, query: &ListQuery) -> Result<ListPage<Role>, StoreError> {
        let page = self
            .list::<RoleRow>(&ROLES, ROLE_SELECT, Sql::new("1 = 1"), query)
            .await?;
        Ok(ListPage {
            items: self.complete_roles(page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One role.
    pub async fn get_role(&self, id: RoleId) -> Result<Role, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {ROLE_SELECT} FROM roles r WHERE r.id = "));
        sql.arg(id);
        let row = on_reader!(self, |pool| fetch_optional!(pool, RoleRow, sql))?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("role {id}")))?;
        Ok(self.complete_roles(vec![row]).await?.remove(0))
    }

    /// Creates a role.
    pub async fn create_role(&self, role: &NewRole) -> Result<Role, StoreError> {
        let insert = role_insert(role, Timestamp::now());
        let id = in_transaction!(self, |tx| async {
            let id = returning_id!(&mut *tx, insert);
            for link in role_links(id, &role.permissions) {
                execute!(&mut *tx, link)?;
            }
            Ok::<_, StoreError>(id)
        }
        .await)
        .map_err(|e| name_taken(e, "role", &role.name))?;
        self.get_role(id).await
    }

    /// Changes a role.
    pub async fn patch_role(&self, id: RoleId, patch: &RolePatch) -> Result<Role, StoreError> {
        let mut update = Sql::new("UPDATE roles SET last_updated_at = ");
        update.arg(Timestamp::now().micros());
        if let Some(name) = &patch.name {
            update.push(", name = ").arg(name.as_str());
        }
        if let Some(description) = &patch.description {
            update.push(", description = ").arg(description.clone());
        }
        update.push(" WHERE id = ").arg(id);
        in_transaction!(self, |tx| async {
            if execute!(&mut *tx, update)? == 0 {
                return Err(StoreError::NotFound(format!("role {id}")));
            }
            if let Some(permissions) = &patch.permissions {
                let mut clear = Sql::new("DELETE FROM role_permissions WHERE role_id = ");
                clear.arg(id);
                execute!(&mut *tx, clear)?;
                for link in role_links(id, permissions) {
                    execute!(&mut *tx, link)?;
                }
            }
            Ok(())
        }
        .await)
        .map_err(|e| name_taken(e, "role", patch.name.as_deref().unwrap_or_default()))?;
        self.get_role(id).await
    }

    /// Deletes a role; its holders lose its permissions.
    pub async fn delete_role(&self, id: RoleId) -> Result<(), StoreError> {
        let mut sql = Sql::new("DELETE FROM roles WHERE id = ");
        sql.arg(id);
        match on_writer!(self, |pool| execute!(pool, sql))? {
            0 => Err(StoreError::NotFound(format!("role {id}"))),
            _ => Ok(()),
        }
    }

    /// Which of `ids` are roles.
    pub async fn existing_roles(&self, ids: &[RoleId]) -> Result<Vec<RoleId>, StoreError> {
        self.existing_ids("roles", ids).await
    }

    /// Which of `ids` are groups.
    pub async fn existing_groups(&self, ids: &[GroupId]) -> Result<Vec<GroupId>, StoreError> {
        self.existing_ids("access_groups", ids).await
    }

    pub(crate) async fn existing_ids(&self, table: &str, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT id FROM {table} WHERE id IN "));
        sql.arg_list(ids.iter().copied());
        let rows: Vec<(i64,)> = on_reader!(self, |pool| fetch_all!(pool, (i64,), sql))?;
        Ok(ids
            .iter()
            .copied()
            .filter(|id| rows.iter().any(|(r,)| r == id))
            .collect())
    }

    // ---- groups ----------------------------------------------------------------------------

    async fn complete_groups(&self, rows: Vec<GroupRow>) -> Result<Vec<Group>, StoreError> {
        let mut sql = Sql::new("SELECT group_id, source_id FROM access_group_sources WHERE group_id IN ");
        sql.arg_list(rows.iter().map(|r| r.0))
            .push(" ORDER BY group_id, source_id");
        let allowed: Vec<(i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, String), sql))?;
        rows.into_iter()
            .map(|(id, name, source, max_tlp, created_at, last_updated_at)| {
                Ok(Group {
                    id,
                    name,
                    source: parse_uuid(&source)?,
                    allowed_sources: by_owner(&allowed, id)
                        .iter()
                        .map(|s| parse_uuid(s))
                        .collect::<Result<_, _>>()?,
                    max_tlp: tlp(&max_tlp)?,
                    created_at: Timestamp::from_micros(created_at),
                    last_updated_at: Timestamp::from_micros(last_updated_at),
                })
            })
            .collect()
    }

    /// Groups, filtered and paged.
    pub async fn list_groups(&self, query: &ListQuery) -> Result<ListPage<Group>, StoreError> {
        let page = self
            .list::<GroupRow>(&GROUPS, GROUP_SELECT, Sql::new("1 = 1"), query)
            .await?;
        Ok(ListPage {
            items: self.complete_groups(page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One group.
    pub async fn get_group(&self, id: GroupId) -> Result<Group, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {GROUP_SELECT} FROM access_groups g WHERE g.id = "));
        sql.arg(id);
        let row = on_reader!(self, |pool| fetch_optional!(pool, GroupRow, sql))?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("group {id}")))?;
        Ok(self.complete_groups(vec![row]).await?.remove(0))
    }

    /// Creates a group and the source it owns (named after it).
    pub async fn create_group(&self, group: &NewGroup) -> Result<Group, StoreError> {
        let (source_insert, insert) = group_insert(group, Timestamp::now());
        let id = in_transaction!(self, |tx| async {
            execute!(&mut *tx, source_insert)?;
            let id = returning_id!(&mut *tx, insert);
            for link in group_links(id, &group.allowed_sources) {
                execute!(&mut *tx, link)?;
            }
            Ok::<_, StoreError>(id)
        }
        .await)
        .map_err(|e| name_taken(e, "group", &group.name))?;
        self.get_group(id).await
    }

    /// Changes a group. Renaming it renames its source too.
    pub async fn patch_group(&self, id: GroupId, patch: &GroupPatch) -> Result<Group, StoreError> {
        let now = Timestamp::now().micros();
        let mut update = Sql::new("UPDATE access_groups SET last_updated_at = ");
        update.arg(now);
        if let Some(name) = &patch.name {
            update.push(", name = ").arg(name.as_str());
        }
        if let Some(max_tlp) = patch.max_tlp {
            update.push(", max_tlp = ").arg(max_tlp.as_str());
        }
        update.push(" WHERE id = ").arg(id);
        in_transaction!(self, |tx| async {
            if execute!(&mut *tx, update)? == 0 {
                return Err(StoreError::NotFound(format!("group {id}")));
            }
            if let Some(name) = &patch.name {
                let mut rename = Sql::new("UPDATE sources SET name = ");
                rename.arg(name.as_str()).push(", last_updated_at = ").arg(now);
                rename
                    .push(" WHERE id = (SELECT source_id FROM access_groups WHERE id = ")
                    .arg(id)
                    .push(")");
                execute!(&mut *tx, rename)?;
            }
            if let Some(allowed) = &patch.allowed_sources {
                let mut clear = Sql::new("DELETE FROM access_group_sources WHERE group_id = ");
                clear.arg(id);
                execute!(&mut *tx, clear)?;
                for link in group_links(id, allowed) {
                    execute!(&mut *tx, link)?;
                }
            }
            Ok(())
        }
        .await)
        .map_err(|e| name_taken(e, "group", patch.name.as_deref().unwrap_or_default()))?;
        self.get_group(id).await
    }

    /// Deletes a group. Its source stays: intelligence tied to it keeps its provenance.
    pub async fn delete_group(&self, id: GroupId) -> Result<(), StoreError> {
        let mut sql = Sql::new("DELETE FROM access_groups WHERE id = ");
        sql.arg(id);
        match on_writer!(self, |pool| execute!(pool, sql))? {
            0 => Err(StoreError::NotFound(format!("group {id}"))),
            _ => Ok(()),
        }
    }

    // ---- users -----------------------------------------------------------------------------

    async fn complete_users(&self, rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut sql = Sql::new("SELECT user_id, group_id FROM user_memberships WHERE user_id IN ");
        sql.arg_list(ids.iter().copied()).push(" ORDER BY user_id, position");
        let groups: Vec<(i64, i64)> = on_reader!(self, |pool| fetch_all!(pool, (i64, i64), sql))?;
        let mut sql = Sql::new("SELECT user_id, role_id FROM user_roles WHERE user_id IN ");
        sql.arg_list(ids.iter().copied()).push(" ORDER BY user_id, role_id");
        let roles: Vec<(i64, i64)> = on_reader!(self, |pool| fetch_all!(pool, (i64, i64), sql))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, username, email, is_active, is_admin, created_at, last_updated_at)| User {
                    id,
                    username,
                    email,
                    is_active,
                    is_admin,
                    groups: by_owner(&groups, id),
                    roles: by_owner(&roles, id),
                    created_at: Timestamp::from_micros(created_at),
                    last_updated_at: Timestamp::from_micros(last_updated_at),
                },
            )
            .collect())
    }

    /// Users, filtered and paged.
    pub async fn list_users(&self, query: &ListQuery) -> Result<ListPage<User>, StoreError> {
        let page = self
            .list::<UserRow>(&USERS, USER_SELECT, Sql::new("1 = 1"), query)
            .await?;
        Ok(ListPage {
            items: self.complete_users(page.items).await?,
            total: page.total,
            total_is_estimate: page.total_is_estimate,
        })
    }

    /// One user by id.
    pub async fn get_user(&self, id: UserId) -> Result<User, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {USER_SELECT} FROM users u WHERE u.id = "));
        sql.arg(id);
        self.one_user(sql, || format!("user {id}")).await
    }

    /// One user by name.
    pub async fn get_user_by_name(&self, username: &str) -> Result<User, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {USER_SELECT} FROM users u WHERE u.username = "));
        sql.arg(username);
        self.one_user(sql, || format!("user '{username}'")).await
    }

    async fn one_user(&self, sql: Sql, what: impl FnOnce() -> String) -> Result<User, StoreError> {
        let row = on_reader!(self, |pool| fetch_optional!(pool, UserRow, sql))?;
        let row = row.ok_or_else(|| StoreError::NotFound(what()))?;
        Ok(self.complete_users(vec![row]).await?.remove(0))
    }

    /// Creates a user.
    pub async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let insert = user_insert(user, Timestamp::now());
        let id = in_transaction!(self, |tx| async {
            let id = returning_id!(&mut *tx, insert);
            for statement in memberships(id, Some(&user.groups), Some(&user.roles)) {
                execute!(&mut *tx, statement)?;
            }
            Ok::<_, StoreError>(id)
        }
        .await)
        .map_err(|e| name_taken(e, "user", &user.username))?;
        self.get_user(id).await
    }

    /// Changes a user.
    pub async fn patch_user(&self, id: UserId, patch: &UserPatch) -> Result<User, StoreError> {
        let mut update = Sql::new("UPDATE users SET last_updated_at = ");
        update.arg(Timestamp::now().micros());
        if let Some(username) = &patch.username {
            update.push(", username = ").arg(username.as_str());
        }
        if let Some(email) = &patch.email {
            update.push(", email = ").arg(email.clone());
        }
        if let Some(is_active) = patch.is_active {
            update.push(", is_active = ").arg(is_active);
        }
        if let Some(is_admin) = patch.is_admin {
            update.push(", is_admin = ").arg(is_admin);
        }
        update.push(" WHERE id = ").arg(id);
        in_transaction!(self, |tx| async {
            if execute!(&mut *tx, update)? == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            for statement in memberships(id, patch.groups.as_deref(), patch.roles.as_deref()) {
                execute!(&mut *tx, statement)?;
            }
            Ok(())
        }
        .await)
        .map_err(|e| name_taken(e, "user", patch.username.as_deref().unwrap_or_default()))?;
        self.get_user(id).await
    }

    /// The permissions each of `users` holds through their roles (administrators hold all,
    /// which callers account for).
    pub async fn permissions_of_users(&self, users: &[UserId]) -> Result<Vec<(UserId, Permission)>, StoreError> {
        let mut sql = Sql::new(
            "SELECT DISTINCT ur.user_id, p.id, p.name FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_id = ur.role_id \
             JOIN permissions p ON p.id = rp.permission_id WHERE ur.user_id IN ",
        );
        sql.arg_list(users.iter().copied()).push(" ORDER BY ur.user_id, p.id");
        let rows: Vec<(i64, i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, i64, String), sql))?;
        rows.into_iter()
            .map(|(user, id, name)| Ok((user, decode_permission((id, name))?)))
            .collect()
    }

    /// The source each of `groups` owns.
    pub async fn group_sources(&self, groups: &[GroupId]) -> Result<Vec<(GroupId, SourceId)>, StoreError> {
        let mut sql = Sql::new("SELECT id, source_id FROM access_groups WHERE id IN ");
        sql.arg_list(groups.iter().copied());
        let rows: Vec<(i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, String), sql))?;
        rows.into_iter().map(|(g, s)| Ok((g, parse_uuid(&s)?))).collect()
    }

    /// Deletes a user and their tokens.
    pub async fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        let mut sql = Sql::new("DELETE FROM users WHERE id = ");
        sql.arg(id);
        match on_writer!(self, |pool| execute!(pool, sql))? {
            0 => Err(StoreError::NotFound(format!("user {id}"))),
            _ => Ok(()),
        }
    }

    // ---- tokens ----------------------------------------------------------------------------

    /// Stores a token for a user by its hash ([`cairn_domain::token::TokenSecret::hash`]).
    pub async fn create_token(
        &self,
        user: UserId,
        name: &str,
        hash: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<ApiToken, StoreError> {
        let mut insert =
            Sql::new("INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (");
        insert
            .arg(user)
            .push(", ")
            .arg(name)
            .push(", ")
            .arg(hash)
            .push(", ")
            .arg(Timestamp::now().micros());
        insert
            .push(", ")
            .arg(expires_at.map(Timestamp::micros))
            .push(&format!(") RETURNING {TOKEN_SELECT}"));
        let row = on_writer!(self, |pool| fetch_optional!(pool, TokenRow, insert))?;
        row.map(decode_token)
            .ok_or_else(|| StoreError::Internal("INSERT returned no token".to_owned()))
    }

    /// A user's tokens, newest first, revoked ones included.
    pub async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {TOKEN_SELECT} FROM api_tokens WHERE user_id = "));
        sql.arg(user).push(" ORDER BY id DESC");
        let rows = on_reader!(self, |pool| fetch_all!(pool, TokenRow, sql))?;
        Ok(rows.into_iter().map(decode_token).collect())
    }

    /// Revokes one of a user's tokens (another user's token is "not found").
    pub async fn revoke_token(&self, user: UserId, token: TokenId) -> Result<ApiToken, StoreError> {
        let mut sql = Sql::new("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ");
        sql.arg(Timestamp::now().micros())
            .push(") WHERE id = ")
            .arg(token)
            .push(" AND user_id = ")
            .arg(user);
        sql.push(&format!(" RETURNING {TOKEN_SELECT}"));
        let row = on_writer!(self, |pool| fetch_optional!(pool, TokenRow, sql))?;
        row.map(decode_token)
            .ok_or_else(|| StoreError::NotFound(format!("token {token}")))
    }

    /// Whether a token hash is stored at all (bootstrap uses it to keep a configured token).
    pub async fn token_exists(&self, hash: &str) -> Result<bool, StoreError> {
        let mut sql = Sql::new("SELECT id FROM api_tokens WHERE token_hash = ");
        sql.arg(hash);
        Ok(on_reader!(self, |pool| fetch_optional!(pool, (i64,), sql))?.is_some())
    }

    /// Resolves a presented token (by hash) into the principal it acts as.
    pub async fn check_token(&self, hash: &str) -> Result<TokenCheck, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {TOKEN_SELECT} FROM api_tokens WHERE token_hash = "));
        sql.arg(hash);
        let Some(token) = on_reader!(self, |pool| fetch_optional!(pool, TokenRow, sql))?.map(decode_token) else {
            return Ok(TokenCheck::Unknown);
        };
        let now = Timestamp::now();
        if token.revoked_at.is_some() {
            return Ok(TokenCheck::Revoked);
        }
        if token.expires_at.is_some_and(|t| t <= now) {
            return Ok(TokenCheck::Expired);
        }
        let user = self.get_user(token.user_id).await?;
        if !user.is_active {
            return Ok(TokenCheck::Inactive);
        }
        // Recording use costs a write: once a minute per token is enough to tell stale tokens.
        if token
            .last_used_at
            .is_none_or(|t| t.micros() + 60_000_000 < now.micros())
        {
            let mut touch = Sql::new("UPDATE api_tokens SET last_used_at = ");
            touch.arg(now.micros()).push(" WHERE id = ").arg(token.id);
            on_writer!(self, |pool| execute!(pool, touch))?;
        }
        Ok(TokenCheck::Valid {
            principal: Box::new(self.principal(&user).await?),
            expires_at: token.expires_at,
        })
    }

    /// Everything needed to authorize requests made as `user`.
    pub async fn principal(&self, user: &User) -> Result<Principal, StoreError> {
        let mut sql = Sql::new(
            "SELECT DISTINCT p.id, p.name FROM user_roles ur \
             JOIN role_permissions rp ON rp.role_id = ur.role_id \
             JOIN permissions p ON p.id = rp.permission_id WHERE ur.user_id = ",
        );
        sql.arg(user.id);
        let rows: Vec<(i64, String)> = on_reader!(self, |pool| fetch_all!(pool, (i64, String), sql))?;
        let permissions: BTreeSet<Permission> = rows.into_iter().map(decode_permission).collect::<Result<_, _>>()?;

        let mut sql = Sql::new(&format!(
            "SELECT {GROUP_SELECT} FROM user_memberships m JOIN access_groups g ON g.id = m.group_id WHERE m.user_id = "
        ));
        sql.arg(user.id).push(" ORDER BY m.position");
        let rows = on_reader!(self, |pool| fetch_all!(pool, GroupRow, sql))?;
        let groups = self.complete_groups(rows).await?;
        let default_source = groups.first().map(|g| g.source);
        let scope = if user.is_admin {
            VisibilityScope::Everything
        } else {
            VisibilityScope::Grants(
                groups
                    .iter()
                    .map(|g| Grant {
                        sources: std::iter::once(g.source)
                            .chain(g.allowed_sources.iter().copied())
                            .collect(),
                        max_tlp: g.max_tlp,
                    })
                    .collect(),
            )
        };
        Ok(Principal {
            user_id: user.id,
            username: user.username.clone(),
            is_admin: user.is_admin,
            permissions,
            scope,
            default_source,
        })
    }
}

/// The `INSERT … RETURNING id` of a role.
pub(crate) fn role_insert(role: &NewRole, now: Timestamp) -> Sql {
    let mut sql = Sql::new("INSERT INTO roles (name, description, created_at, last_updated_at) VALUES (");
    sql.arg(role.name.as_str()).push(", ").arg(role.description.clone());
    sql.push(", ")
        .arg(now.micros())
        .push(", ")
        .arg(now.micros())
        .push(") RETURNING id");
    sql
}

/// The statements that give a role its permissions.
pub(crate) fn role_links<'a>(role: RoleId, permissions: impl IntoIterator<Item = &'a Permission>) -> Vec<Sql> {
    permissions
        .into_iter()
        .map(|p| {
            let mut link = Sql::new("INSERT INTO role_permissions (role_id, permission_id) VALUES (");
            link.arg(role).push(", ").arg(p.id()).push(")");
            link
        })
        .collect()
}

/// The `INSERT` of a group's own source, and the `INSERT … RETURNING id` of the group.
pub(crate) fn group_insert(group: &NewGroup, now: Timestamp) -> (Sql, Sql) {
    let source = uuid::Uuid::new_v4();
    let source_insert = sources::insert(source, &group.name, SourceType::Group, now);
    let mut insert =
        Sql::new("INSERT INTO access_groups (name, source_id, max_tlp, created_at, last_updated_at) VALUES (");
    insert
        .arg(group.name.as_str())
        .push(", ")
        .arg(source.to_string())
        .push(", ");
    insert
        .arg(group.max_tlp.as_str())
        .push(", ")
        .arg(now.micros())
        .push(", ")
        .arg(now.micros());
    insert.push(") RETURNING id");
    (source_insert, insert)
}

/// The statements that give a group its allowed sources.
pub(crate) fn group_links(group: GroupId, sources: &[SourceId]) -> Vec<Sql> {
    sources
        .iter()
        .map(|source| {
            let mut sql = Sql::new("INSERT INTO access_group_sources (group_id, source_id) VALUES (");
            sql.arg(group).push(", ").arg(source.to_string()).push(")");
            sql
        })
        .collect()
}

/// The `INSERT … RETURNING id` of a user (memberships come from [`memberships`]).
pub(crate) fn user_insert(user: &NewUser, now: Timestamp) -> Sql {
    let mut sql =
        Sql::new("INSERT INTO users (username, email, is_active, is_admin, created_at, last_updated_at) VALUES (");
    sql.arg(user.username.as_str())
        .push(", ")
        .arg(user.email.clone())
        .push(", ")
        .arg(true);
    sql.push(", ")
        .arg(user.is_admin)
        .push(", ")
        .arg(now.micros())
        .push(", ")
        .arg(now.micros())
        .push(") RETURNING id");
    sql
}

/// Statements that set a user's groups (in order) and roles, where given.
pub(crate) fn memberships(user: UserId, groups: Option<&[GroupId]>, roles: Option<&[RoleId]>) -> Vec<Sql> {
    let mut out = Vec::new();
    if let Some(groups) = groups {
        let mut clear = Sql::new("DELETE FROM user_memberships WHERE user_id = ");
        clear.arg(user);
        out.push(clear);
        let mut seen = Vec::new();
        for (position, group) in groups.iter().enumerate() {
            if seen.contains(group) {
                continue;
            }
            seen.push(*group);
            let mut link = Sql::new("INSERT INTO user_memberships (user_id, group_id, position) VALUES (");
            link.arg(user)
                .push(", ")
                .arg(*group)
                .push(", ")
                .arg(position as i64)
                .push(")");
            out.push(link);
        }
    }
    if let Some(roles) = roles {
        let mut clear = Sql::new("DELETE FROM user_roles WHERE user_id = ");
        clear.arg(user);
        out.push(clear);
        let unique: BTreeSet<RoleId> = roles.iter().copied().collect();
        for role in unique {
            let mut link = Sql::new("INSERT INTO user_roles (user_id, role_id) VALUES (");
            link.arg(user).push(", ").arg(role).push(")");
            out.push(link);
        }
    }
    out
}

/// A unique violation on a named object reads better with its name.
fn name_taken(e: StoreError, what: &str, name: &str) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("a {what} named '{name}' already exists")),
        other => other,
    }
}
