//! `/api/v2/users/self/tokens`: the caller's own API tokens.

use crate::auth::Caller;
use crate::body::{DataEnvelope, JsonBody};
use crate::envelope::{self, Single};
use crate::error::{ApiError, Problems};
use crate::links::{Collection, Links};
use crate::routes::path_int;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_domain::identity::ApiToken;
use cairn_domain::token::TokenSecret;
use cairn_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Recorded at most once a minute.
    pub last_used_at: Option<String>,
    /// Present only in the answer to its creation: the secret is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenDto {
    fn from_domain(token: ApiToken, links: &Links, secret: Option<&TokenSecret>) -> Self {
        TokenDto {
            id: token.id,
            url: links.url(Collection::Tokens, token.id),
            name: token.name,
            created_at: token.created_at.to_string(),
            expires_at: token.expires_at.map(|t| t.to_string()),
            revoked_at: token.revoked_at.map(|t| t.to_string()),
            last_used_at: token.last_used_at.map(|t| t.to_string()),
            token: secret.map(|s| s.expose().to_owned()),
        }
    }
}

/// A new token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenDto {
    /// What the token is for, e.g. the integration using it.
    pub name: String,
    /// Days until it expires (1 to 3650); none means it does not expire.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// Your tokens, newest first.
#[utoipa::path(get, path = "/api/v2/users/self/tokens", tag = "identity",
    responses((status = 200, description = "Your tokens", body = inline(Single<Vec<TokenDto>>))))]
pub async fn list(State(state): State<AppState>, caller: Caller, links: Links) -> Result<Response, ApiError> {
    let tokens = state.store.list_tokens(caller.user_id).await?;
    let items: Vec<TokenDto> = tokens
        .into_iter()
        .map(|t| TokenDto::from_domain(t, &links, None))
        .collect();
    Ok(envelope::single(StatusCode::OK, items))
}

/// Create a token for yourself. The answer is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v2/users/self/tokens", tag = "identity",
    request_body = inline(Single<NewTokenDto>),
    responses((status = 201, description = "The token, with its secret", body = Single<TokenDto>)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    JsonBody(body): JsonBody<DataEnvelope<NewTokenDto>>,
) -> Result<Response, ApiError> {
    let mut problems = Problems::default();
    let name = body.data.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        problems.add(ApiError::pointer("/data/name", "a token name is 1 to 200 characters"));
    }
    if let Some(days) = body.data.expires_in_days {
        if !(1..=3650).contains(&days) {
            problems.add(ApiError::pointer(
                "/data/expires_in_days",
                "expires_in_days is a whole number from 1 to 3650",
            ));
        }
    }
    problems.finish()?;
    let secret = TokenSecret::generate();
    let expires_at = body.data.expires_in_days.map(|d| Timestamp::now().plus_days(d));
    let token = state
        .store
        .create_token(caller.user_id, &name, &secret.hash(), expires_at)
        .await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        TokenDto::from_domain(token, &links, Some(&secret)),
    ))
}

/// Revoke one of your tokens. It stops working at once.
#[utoipa::path(delete, path = "/api/v2/users/self/tokens/{id}", tag = "identity",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_int(&id, Collection::Tokens)?;
    state.store.revoke_token(caller.user_id, id).await?;
    state.principals.invalidate();
    Ok(StatusCode::NO_CONTENT.into_response())
}
