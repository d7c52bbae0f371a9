//! `cairn`: serve the API, migrate the database, manage users and tokens.

use anyhow::Context;
use cairn::cli::{Cli, Command, TokenCommand, UserCommand};
use cairn::config::{redact, Config, FileConfig};
use clap::Parser;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("cairn: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let file = FileConfig::load(cli.storage.config.as_deref())?;
    let config = Config::resolve(cli.overrides(), file)?;
    // Messages for the operator; `token create` keeps standard output for the token alone.
    let mut out: Box<dyn std::io::Write> = match cli.command {
        Command::Serve(_) => Box::new(std::io::stdout()),
        _ => Box::new(std::io::stderr()),
    };
    let admin_token = cairn::configured_admin_token()?;
    let store = cairn::prepare(&config, admin_token.as_ref(), &mut *out).await?;
    match cli.command {
        Command::Serve(_) => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let address = listener.local_addr()?;
            tracing::info!(%address, database = %redact(&config.database_url), "serving");
            println!("Cairn is listening on http://{address} (API docs at http://{address}/api/v2/docs)");
            cairn::serve(store, &config, listener, cairn::shutdown_signal()).await?;
        }
        Command::Migrate => {
            println!("The database is migrated ({}).", redact(&config.database_url));
        }
        Command::User(UserCommand::Create {
            username,
            email,
            groups,
            roles,
            admin,
        }) => {
            let id = cairn::create_user(&store, &username, email, &groups, &roles, admin).await?;
            println!("Created user '{username}' (id {id}).");
        }
        Command::Token(TokenCommand::Create { user, expires_in, name }) => {
            let secret = cairn::create_token(&store, &user, &name, expires_in).await?;
            println!("{}", secret.expose());
        }
    }
    Ok(())
}

/// Logs go to standard error: `CAIRN_LOG` sets the level (default `info`),
/// `CAIRN_LOG_FORMAT=json` makes them one JSON object a line.
fn init_logging() {
    let level = std::env::var("CAIRN_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    if std::env::var("CAIRN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
