//! The `cairn` binary's library: configuration, start-up (migrations, first-start
//! bootstrap), serving with graceful shutdown, and the administrative commands.

pub mod cli;
pub mod config;

use anyhow::{bail, Context};
use cairn_domain::filter::{Condition, Filter, ListQuery, Op, TextMatch, Value};
use cairn_domain::identity::NewUser;
use cairn_domain::token::TokenSecret;
use cairn_domain::Timestamp;
use cairn_store::{AdminToken, Store, StoreOptions};
use config::{redact, Config};
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// The variable that sets the administrator's token (64 lowercase hex).
pub const ADMIN_TOKEN_VAR: &str = "CAIRN_ADMIN_TOKEN";

/// The administrator token the environment sets, if any.
pub fn configured_admin_token() -> anyhow::Result<Option<TokenSecret>> {
    match std::env::var(ADMIN_TOKEN_VAR) {
        Ok(value) if !value.is_empty() => TokenSecret::parse(&value)
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{ADMIN_TOKEN_VAR} must be 64 lowercase hexadecimal characters")),
        _ => Ok(None),
    }
}

/// Opens the store the configuration names, creating the data directory, applying
/// migrations and bootstrapping the administrator (with `admin_token` as their token when
/// given). Messages for the operator go to `out`.
pub async fn prepare(config: &Config, admin_token: Option<&TokenSecret>, out: &mut dyn Write) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    let options = StoreOptions {
        count_threshold: config.count_threshold,
        max_connections: config.max_connections,
    };
    let store = Store::connect(&config.database_url, options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&config.database_url)))?;
    let applied = store.migrate().await.context("cannot migrate the database")?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    let boot = store
        .bootstrap(admin_token)
        .await
        .context("cannot create the administrator")?;
    let token_file = admin_token_path(&config.data_dir);
    match boot.token {
        AdminToken::Generated(secret) => {
            write_secret(&token_file, secret.expose())?;
            writeln!(
                out,
                "The administrator 'admin' was created; their token is in {} (readable only by you).",
                token_file.display()
            )?;
        }
        AdminToken::Configured => {
            writeln!(out, "The administrator's token is the one set in {ADMIN_TOKEN_VAR}.")?;
        }
        AdminToken::Unchanged if token_file.exists() => {
            writeln!(out, "The administrator's first token is in {}.", token_file.display())?;
        }
        AdminToken::Unchanged => {}
    }
    Ok(store)
}

/// Where the first administrator token is written.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin-token")
}

/// Writes a secret to a file only its owner can read.
fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// flight and closes the database.
pub async fn serve(
    store: Store,
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let api_config = cairn_api::ApiConfig {
        public_url: config.public_url.clone(),
        body_limit: config.body_limit,
        attachment_limit: config.attachment_limit,
    };
    let app = cairn_api::app(cairn_api::AppState::new(store.clone(), api_config));
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the server failed")?;
    store.close().await;
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = interrupt.await;
            return;
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `cairn user create`.
pub async fn create_user(
    store: &Store,
    username: &str,
    email: Option<String>,
    groups: &[String],
    roles: &[String],
    admin: bool,
) -> anyhow::Result<i64> {
    cairn_domain::identity::validate_username(username).map_err(anyhow::Error::msg)?;
    let mut group_ids = Vec::new();
    for name in groups {
        let page = store.list_groups(&by_exact_name("name", name)).await?;
        match page.items.first() {
            Some(g) => group_ids.push(g.id),
            None => bail!("there is no group named '{name}'"),
        }
    }
    let mut role_ids = Vec::new();
    for name in roles {
        let page = store.list_roles(&by_exact_name("name", name)).await?;
        match page.items.first() {
            Some(r) => role_ids.push(r.id),
            None => bail!("there is no role named '{name}'"),
        }
    }
    let user = store
        .create_user(&NewUser {
            username: username.to_owned(),
            email,
            is_admin: admin,
            groups: group_ids,
            roles: role_ids,
        })
        .await?;
    Ok(user.id)
}

/// `cairn token create`: returns the secret to print.
pub async fn create_token(
    store: &Store,
    username: &str,
    name: &str,
    expires_in: Option<i64>,
) -> anyhow::Result<TokenSecret> {
    if let Some(days) = expires_in {
        if !(1..=3650).contains(&days) {
            bail!("--expires-in is a number of days from 1 to 3650");
        }
    }
    let user = store
        .get_user_by_name(username)
        .await
        .map_err(|_| anyhow::anyhow!("there is no user named '{username}'"))?;
    let secret = TokenSecret::generate();
    store
        .create_token(
            user.id,
            name,
            &secret.hash(),
            expires_in.map(|d| Timestamp::now().plus_days(d)),
        )
        .await?;
    Ok(secret)
}

fn by_exact_name(field: &'static str, name: &str) -> ListQuery {
    ListQuery {
        filter: Filter(vec![Condition {
            field,
            op: Op::Eq,
            values: vec![Value::Text(TextMatch::Exact(name.to_owned()))],
        }]),
        limit: 1,
        ..ListQuery::default()
    }
}
