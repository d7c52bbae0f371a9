//! Who is calling: `Authorization: Bearer <token>` → [`Caller`], or 401.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cairn_domain::identity::Principal;
use cairn_domain::permission::Permission;
use cairn_domain::token::TokenSecret;
use cairn_domain::Timestamp;
use cairn_store::TokenCheck;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a resolved token is trusted without asking the database again. Changes made
/// through this process (revocations, deactivations, group and role edits) take effect at
/// once; those made through another process sharing the database, within this time.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(5);
const CACHE_CAPACITY: usize = 10_000;

/// Tokens recently resolved into principals, so that hot endpoints (observable lookups)
/// do not pay for identity queries on every request.
#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<String, Cached>>,
    generation: AtomicU64,
}

/// A resolved token: when, under which generation of identities, until when it is valid.
struct Cached {
    at: Instant,
    generation: u64,
    expires_at: Option<Timestamp>,
    principal: Principal,
}

impl PrincipalCache {
    fn get(&self, hash: &str) -> Option<Principal> {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.lock().ok()?;
        let cached = entries.get(hash)?;
        let fresh = cached.at.elapsed() < PRINCIPAL_TTL
            && cached.generation == generation
            && cached.expires_at.is_none_or(|t| t > Timestamp::now());
        fresh.then(|| cached.principal.clone())
    }

    fn put(&self, hash: String, principal: Principal, expires_at: Option<Timestamp>) {
        let generation = self.generation.load(Ordering::Acquire);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(
                hash,
                Cached {
                    at: Instant::now(),
                    generation,
                    expires_at,
                    principal,
                },
            );
        }
    }

    /// Forgets every resolved token: identities or access changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// Continues only if the caller holds `permission`; otherwise 403 naming it.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This needs the permission '{permission}', which your roles do not grant"
            )))
        }
    }
}

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("Authentication required: send the header 'Authorization: Bearer <token>'")
        })?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("The Authorization header is not readable text"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(ApiError::unauthorized(
                    "The Authorization header must be 'Bearer <token>'",
                ))
            }
        };
        let secret = TokenSecret::parse(token).map_err(|_| {
            ApiError::unauthorized("The token is malformed: a token is 64 lowercase hexadecimal characters")
        })?;
        let hash = secret.hash();
        if let Some(principal) = state.principals.get(&hash) {
            let caller = Caller(principal);
            parts.extensions.insert(caller.clone());
            return Ok(caller);
        }
        let principal = match state.store.check_token(&hash).await? {
            TokenCheck::Valid { principal, expires_at } => {
                state.principals.put(hash, (*principal).clone(), expires_at);
                *principal
            }
            TokenCheck::Unknown => return Err(ApiError::unauthorized("The token is not valid")),
            TokenCheck::Expired => return Err(ApiError::unauthorized("The token has expired; create a new one")),
            TokenCheck::Revoked => return Err(ApiError::unauthorized("The token has been revoked")),
            TokenCheck::Inactive => return Err(ApiError::unauthorized("The token's user is deactivated")),
        };
        let caller = Caller(principal);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_domain::visibility::VisibilityScope;

    fn principal() -> Principal {
        Principal {
            user_id: 7,
            username: "soar".into(),
            is_admin: false,
            permissions: [Permission::read("extracts")].into(),
            scope: VisibilityScope::Grants(vec![]),
            default_source: None,
        }
    }

    #[test]
    fn a_resolved_token_is_served_until_identities_change() {
        let cache = PrincipalCache::default();
        cache.put("hash".into(), principal(), None);
        assert_eq!(cache.get("hash").map(|p| p.user_id), Some(7));
        assert!(cache.get("other").is_none());
        cache.invalidate();
        assert!(cache.get("hash").is_none(), "a revocation or a group change clears it");
    }

    #[test]
    fn an_expired_token_is_never_served_from_the_cache() {
        let cache = PrincipalCache::default();
        cache.put("hash".into(), principal(), Some(Timestamp::now().plus_days(-1)));
        assert!(cache.get("hash").is_none());
        cache.put("hash".into(), principal(), Some(Timestamp::now().plus_days(1)));
        assert!(cache.get("hash").is_some());
    }
}
