//! The harness: a real `cairn` server (the same start-up path as `cairn serve`) on a real
//! socket, over a fresh SQLite or PostgreSQL database per test.

use cairn::config::{Config, FileConfig, Overrides};
use cairn_domain::token::TokenSecret;
use cairn_domain::Timestamp;
use cairn_store::testing::TestDatabase;
use cairn_store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;

pub use cairn_store::Backend;

/// Runs an `async fn(Backend)` scenario once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn sqlite() {
                super::$scenario($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                if cairn_store::testing::postgres_configured() {
                    super::$scenario($crate::helpers::Backend::Postgres).await;
                }
            }
        }
    )*};
}

/// Settings a test may change.
#[derive(Default, Clone)]
pub struct Settings {
    pub public_url: Option<String>,
    pub body_limit: Option<usize>,
    pub attachment_limit: Option<usize>,
    pub count_threshold: Option<u64>,
}

/// A running server.
pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub store: Store,
    pub data_dir: PathBuf,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _database: TestDatabase,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// `errors[i].detail`.
    pub fn detail(&self, i: usize) -> &str {
        self.body["errors"][i]["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no errors[{i}].detail in {}", self.body))
    }

    /// `errors[i].source.parameter` or `.pointer`.
    pub fn source(&self, i: usize) -> &str {
        let source = &self.body["errors"][i]["source"];
        source["parameter"]
            .as_str()
            .or(source["pointer"].as_str())
            .unwrap_or_else(|| panic!("no errors[{i}].source in {}", self.body))
    }

    /// Every `errors[].source` (parameter or pointer).
    pub fn sources(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["source"]["parameter"].as_str().or(e["source"]["pointer"].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Settings::default()).await
    }

    pub async fn spawn_with(backend: Backend, settings: Settings) -> TestApp {
        // Server logs (warnings and errors) show in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_test_writer()
            .try_init();
        let database = match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres().await.expect("PostgreSQL is not configured"),
        };
        let data_dir = std::env::temp_dir().join(format!("cairn-data-{}", uuid::Uuid::new_v4().simple()));
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".to_owned()),
            data_dir: Some(data_dir.clone()),
            database_url: Some(database.url.clone()),
            public_url: settings.public_url,
            body_limit: settings.body_limit,
            attachment_limit: settings.attachment_limit,
            count_threshold: settings.count_threshold,
            max_connections: Some(4),
        };
        let config = Config::resolve(overrides, FileConfig::default()).expect("test configuration");
        let admin = TokenSecret::generate();
        let store = cairn::prepare(&config, Some(&admin), &mut Vec::new())
            .await
            .expect("start-up");
        let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = store.clone();
        tokio::spawn(async move {
            let _ = cairn::serve(served, &config, listener, async {
                let _ = stopped.await;
            })
            .await;
        });
        TestApp {
            base,
            admin: admin.expose().to_owned(),
            store,
            data_dir,
            client: reqwest::Client::new(),
            stop: Some(stop),
            _database: database,
        }
    }

    /// Sends a request; a body is sent as JSON. A 500 fails the test: no input may cause one.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.finish(request).await
    }

    /// Sends a prepared request (raw bodies, odd headers).
    pub async fn finish(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        assert_ne!(status, 500, "the server failed: {text}");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer { status, body, headers }
    }

    /// A request builder for this server.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a group as the administrator; returns it.
    pub async fn group(&self, name: &str, allowed_sources: &[&str], max_tlp: &str) -> Value {
        let answer = self
            .post(
                "/api/v2/groups",
                &self.admin,
                json!({"data": {"name": name, "allowed_sources": allowed_sources, "max_tlp": max_tlp}}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body["data"].clone()
    }

    /// Creates a user holding exactly `permissions`, in `groups` (ids); returns their token.
    pub async fn user(&self, username: &str, permissions: &[&str], groups: &[i64]) -> String {
        let role = self
            .post(
                "/api/v2/roles",
                &self.admin,
                json!({"data": {"name": format!("role of {username}"), "permissions": permissions}}),
            )
            .await;
        assert_eq!(role.status, 201, "{}", role.body);
        let user = self
            .post(
                "/api/v2/users",
                &self.admin,
                json!({"data": {"username": username, "groups": groups, "roles": [role.data()["id"]]}}),
            )
            .await;
        assert_eq!(user.status, 201, "{}", user.body);
        self.token_for(user.data()["id"].as_i64().expect("user id"), None).await
    }

    /// A new token for a user, optionally expiring at a given time (which may be past).
    pub async fn token_for(&self, user: i64, expires_at: Option<Timestamp>) -> String {
        let secret = TokenSecret::generate();
        self.store
            .create_token(user, "test", &secret.hash(), expires_at)
            .await
            .expect("token");
        secret.expose().to_owned()
    }

    /// The id at the end of a URL.
    pub fn id_of(url: &Value) -> String {
        url.as_str()
            .and_then(|u| u.rsplit('/').next())
            .expect("a URL")
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
