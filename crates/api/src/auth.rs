//! Who is calling: `Authorization: Bearer <token>` → [`Caller`], or 401.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cairn_domain::identity::Principal;
use cairn_domain::permission::Permission;
use cairn_domain::token::TokenSecret;
use cairn_store::TokenCheck;

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
        let principal = match state.store.check_token(&secret.hash()).await? {
            TokenCheck::Valid(principal) => *principal,
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
