//! What every handler shares.

use crate::auth::PrincipalCache;
use crate::metrics::Metrics;
use cairn_store::Store;
use std::sync::Arc;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The base of every URL in responses (`https://cairn.example`); else the request's Host.
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The largest attachment accepted, in bytes.
    pub attachment_limit: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            public_url: None,
            body_limit: 16 * 1024 * 1024,
            attachment_limit: 64 * 1024 * 1024,
        }
    }
}

/// The state handlers receive.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    pub principals: Arc<PrincipalCache>,
}

impl AppState {
    pub fn new(store: Store, config: ApiConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::default()),
            principals: Arc::new(PrincipalCache::default()),
        }
    }
}
