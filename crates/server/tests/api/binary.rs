//! The `cairn` binary itself: first start, the admin token file, signals, the commands.

use crate::helpers::Backend;
use crate::on_both_backends;
use cairn_store::testing::TestDatabase;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

on_both_backends!(
    first_start_writes_a_private_admin_token_and_later_starts_keep_it,
    commands_create_users_and_tokens
);

struct Server {
    child: Child,
    base: String,
    printed: Vec<String>,
}

fn cairn(data_dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .env_remove("CAIRN_ADMIN_TOKEN")
        .env("CAIRN_DATA_DIR", data_dir)
        .env("CAIRN_DATABASE_URL", database_url)
        .current_dir(data_dir.parent().unwrap());
    command
}

/// Starts `cairn serve` on a free port and waits until it says where it listens.
fn start(data_dir: &Path, database_url: &str, admin_token: Option<&str>) -> Server {
    let mut command = cairn(data_dir, database_url);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(token) = admin_token {
        command.env("CAIRN_ADMIN_TOKEN", token);
    }
    let mut child = command.spawn().expect("cairn starts");
    let mut printed = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("cairn says where it listens")
            .expect("readable output");
        printed.push(line.clone());
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    Server { child, base, printed }
}

impl Server {
    /// SIGTERM, then the exit status: a clean shutdown is a success.
    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("cairn did not stop within 5 s of SIGTERM");
    }
}

async fn status_with(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v2/users/self"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn database(backend: Backend) -> (TestDatabase, PathBuf) {
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres().await.unwrap(),
    };
    let parent = std::env::temp_dir().join(format!("cairn-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&parent).unwrap();
    (db, parent.join("cairn-data"))
}

async fn first_start_writes_a_private_admin_token_and_later_starts_keep_it(backend: Backend) {
    let (db, data_dir) = database(backend).await;
    let server = start(&data_dir, &db.url, None);
    let token_file = data_dir.join("admin-token");
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains(&token_file.display().to_string())),
        "{:?}",
        server.printed
    );
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is readable by its owner only");
    let token = std::fs::read_to_string(&token_file).unwrap().trim().to_owned();
    assert_eq!(status_with(&server.base, &token).await, 200);
    assert_eq!(status_with(&server.base, &"f".repeat(64)).await, 401);
    assert!(server.terminate().success(), "SIGTERM is a clean shutdown");

    // A later start neither overwrites the file nor invalidates the token.
    let server = start(&data_dir, &db.url, None);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
    assert_eq!(status_with(&server.base, &token).await, 200);
    assert!(server.terminate().success());

    // CAIRN_ADMIN_TOKEN adds the operator's token; the first one keeps working.
    let configured = "0123456789abcdef".repeat(4);
    let server = start(&data_dir, &db.url, Some(&configured));
    assert_eq!(status_with(&server.base, &configured).await, 200);
    assert_eq!(status_with(&server.base, &token).await, 200);
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(data_dir.parent().unwrap());
}

async fn commands_create_users_and_tokens(backend: Backend) {
    let (db, data_dir) = database(backend).await;
    let migrate = cairn(&data_dir, &db.url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    let user = cairn(&data_dir, &db.url)
        .args([
            "user",
            "create",
            "soar-bot",
            "--group",
            "Administrators",
            "--email",
            "soar@example.org",
        ])
        .output()
        .unwrap();
    assert!(user.status.success(), "{}", String::from_utf8_lossy(&user.stderr));
    let missing = cairn(&data_dir, &db.url)
        .args(["user", "create", "x", "--group", "Nope"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no group named 'Nope'"));

    let token = cairn(&data_dir, &db.url)
        .args(["token", "create", "--user", "soar-bot", "--expires-in", "7"])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert_eq!(token.len(), 64);

    let server = start(&data_dir, &db.url, None);
    assert_eq!(status_with(&server.base, &token).await, 200);
    assert!(server.terminate().success());

    let bad = cairn(&data_dir, "mysql://nope").arg("migrate").output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("sqlite:// or postgres://"));
    let _ = std::fs::remove_dir_all(data_dir.parent().unwrap());
}
