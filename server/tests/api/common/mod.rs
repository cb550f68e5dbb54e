//! Test harness: a real `nuvem-server` on a loopback port, on a real SQLite file or a fresh database
//! in a real PostgreSQL server (`NUVEM_TEST_POSTGRES_URL`, started by `infra/test.sh`).

#![allow(dead_code)]

use nuvem_sdk::{Client, Credentials};
use nuvem_server::config::Config;
use nuvem_server::server::{self, Running};
use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Cloud {
    pub server: Running,
    pub admin: Client,
    pub admin_password: String,
    pub backend: Backend,
    /// The PostgreSQL database of this test (None: SQLite in the data directory).
    pub database_url: Option<String>,
    _dir: tempfile::TempDir,
}

/// The PostgreSQL server for tests; `None` means skip (never in CI, where it is an error).
pub fn postgres_url() -> Option<String> {
    match std::env::var("NUVEM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(url),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("NUVEM_TEST_POSTGRES_URL must be set in CI (infra/test.sh starts PostgreSQL)")
        }
        None => {
            eprintln!(
                "SKIPPED on PostgreSQL: NUVEM_TEST_POSTGRES_URL is not set (infra/test.sh starts a server and sets it)"
            );
            None
        }
    }
}

/// Creates an empty database for one test, so tests never see each other's rows.
async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("nuvem_test_{}", uuid_like());
    let db = Database::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL");
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

impl Cloud {
    /// Starts a server; `None` when the backend is not available here (PostgreSQL outside CI).
    pub async fn start(backend: Backend) -> Option<Cloud> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database(&postgres_url()?).await),
        };
        Some(Self::start_in(backend, dir, url).await)
    }

    pub async fn start_in(backend: Backend, dir: tempfile::TempDir, url: Option<String>) -> Cloud {
        let config = Config::for_tests(dir.path(), url.clone());
        let server = server::start(config).await.expect("server starts");
        let admin_password = server
            .generated_admin_password()
            .expect("a fresh server creates admin")
            .to_owned();
        let admin = login(&server.url(), "admin", "root", &admin_password).await;
        Cloud {
            server,
            admin,
            admin_password,
            backend,
            database_url: url,
            _dir: dir,
        }
    }

    /// Stops the server and starts a new one on the same data directory and database.
    pub async fn restart(self) -> (Running, tempfile::TempDir) {
        let url = self.database_url.clone();
        let dir = self.stop().await;
        let server = server::start(Config::for_tests(dir.path(), url))
            .await
            .expect("server restarts");
        (server, dir)
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Client {
        Client::builder()
            .endpoint(self.url())
            .credentials(Credentials::Anonymous)
            .build()
            .unwrap()
    }

    pub async fn login(&self, account: &str, user: &str, password: &str) -> Client {
        login(&self.url(), account, user, password).await
    }

    /// Creates an account and returns a client signed in as its root user.
    pub async fn account(&self, name: &str) -> Client {
        let pw = format!("{name}-root-password");
        self.admin
            .create_account(name, Some(&pw))
            .await
            .expect("create account");
        self.login(name, "root", &pw).await
    }

    /// Creates an IAM user with a password in the account of `root` and signs in as it.
    pub async fn user(&self, root: &Client, account: &str, name: &str) -> Client {
        let pw = format!("{name}-password");
        root.create_user(name, Some(&pw))
            .await
            .expect("create user");
        self.login(account, name, &pw).await
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.server.stop().await;
        self._dir
    }
}

pub async fn login(url: &str, account: &str, user: &str, password: &str) -> Client {
    let anon = Client::builder()
        .endpoint(url)
        .credentials(Credentials::Anonymous)
        .build()
        .unwrap();
    let session = anon.login(account, user, password).await.expect("login");
    Client::builder()
        .endpoint(url)
        .credentials(Credentials::session(session.token))
        .build()
        .unwrap()
}

/// Runs each listed `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}
