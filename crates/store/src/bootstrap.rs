//! The first start: an `admin` user holding every permission, in an `Administrators` group.

use crate::{identity, Store};
use cairn_domain::identity::{NewGroup, NewRole, NewUser, User};
use cairn_domain::permission::Permission;
use cairn_domain::token::TokenSecret;
use cairn_domain::{StoreError, Timestamp, TlpColor};

pub const ADMIN_USER: &str = "admin";
const ADMIN_ROLE: &str = "Administrator";
const ADMIN_GROUP: &str = "Administrators";

/// How the administrator's token came about.
#[derive(Debug)]
pub enum AdminToken {
    /// The operator configured it (`CAIRN_ADMIN_TOKEN`); it is stored if it was not yet.
    Configured,
    /// The administrator was just created and this fresh token is theirs: show it once.
    Generated(TokenSecret),
    /// The administrator existed already; their tokens are as they were.
    Unchanged,
}

/// What bootstrapping did.
#[derive(Debug)]
pub struct Bootstrap {
    pub admin: User,
    pub admin_created: bool,
    pub token: AdminToken,
}

impl Store {
    /// Creates the administrator on first start. Safe to call on every start and from several
    /// processes at once: whoever loses the race finds what the winner made.
    pub async fn bootstrap(&self, configured_token: Option<&TokenSecret>) -> Result<Bootstrap, StoreError> {
        let (admin, admin_created) = match self.get_user_by_name(ADMIN_USER).await {
            Ok(user) => (user, false),
            Err(StoreError::NotFound(_)) => match self.create_admin().await {
                Ok(user) => (user, true),
                Err(StoreError::Conflict(_)) => (self.get_user_by_name(ADMIN_USER).await?, false),
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let token = match configured_token {
            Some(secret) => {
                if !self.token_exists(&secret.hash()).await? {
                    self.create_token(admin.id, "CAIRN_ADMIN_TOKEN", &secret.hash(), None)
                        .await?;
                }
                AdminToken::Configured
            }
            None if admin_created => {
                let secret = TokenSecret::generate();
                self.create_token(admin.id, "bootstrap", &secret.hash(), None).await?;
                AdminToken::Generated(secret)
            }
            None => AdminToken::Unchanged,
        };
        Ok(Bootstrap {
            admin,
            admin_created,
            token,
        })
    }

    /// The administrator, their role and their group, in one transaction: a concurrent start
    /// either sees all of it or none of it.
    async fn create_admin(&self) -> Result<User, StoreError> {
        let now = Timestamp::now();
        let role = NewRole {
            name: ADMIN_ROLE.to_owned(),
            description: Some("Every permission.".to_owned()),
            permissions: Permission::all().collect(),
        };
        let group = NewGroup {
            name: ADMIN_GROUP.to_owned(),
            allowed_sources: Vec::new(),
            max_tlp: TlpColor::Red,
        };
        let user = NewUser {
            username: ADMIN_USER.to_owned(),
            email: None,
            is_admin: true,
            groups: vec![],
            roles: vec![],
        };
        let (role_insert, (source_insert, group_insert), user_insert) = (
            identity::role_insert(&role, now),
            identity::group_insert(&group, now),
            identity::user_insert(&user, now),
        );
        let id = in_transaction!(self, |tx| async {
            let role_id = returning_id!(&mut *tx, role_insert);
            for link in identity::role_links(role_id, &role.permissions) {
                execute!(&mut *tx, link)?;
            }
            execute!(&mut *tx, source_insert)?;
            let group_id = returning_id!(&mut *tx, group_insert);
            let user_id = returning_id!(&mut *tx, user_insert);
            for link in identity::memberships(user_id, Some(&[group_id]), Some(&[role_id])) {
                execute!(&mut *tx, link)?;
            }
            Ok::<_, StoreError>(user_id)
        }
        .await)?;
        self.get_user(id).await
    }
}
