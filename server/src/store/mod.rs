//! The datastore: every query Nuvem makes, named `resource_verb`, over sea-orm on SQLite or
//! PostgreSQL. Services never build queries themselves; database errors become [`Error`] here.
//!
//! The connection is here; the queries are in the files beside it: `iam/` (one file per IAM
//! resource), `compute`, `vpc`, `security` (sign-out, quotas) and `saga` (the saga log); `column`
//! holds the typed columns (states read strictly, JSON).

pub mod apps;
pub mod billing;
pub mod column;
pub mod compute;
pub mod entity;
mod iam;
pub mod saga;
pub mod security;
pub mod storage;
pub mod vpc;

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::error::{Error, Result};
pub use iam::{AccessKeyRow, AccountRow, GroupRow, PolicyRow, PrincipalKind, UserRow};

/// One page of a list ordered by name.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

fn page<T>(mut rows: Vec<T>, limit: u64, name: impl Fn(&T) -> &str) -> Page<T> {
    let next_marker = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| name(r).to_string())
    } else {
        None
    };
    Page {
        items: rows,
        next_marker,
    }
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    generations: std::sync::Arc<Generations>,
}

/// Counters of the writes that caches of the S3 path depend on (see `crate::cache`): one for
/// IAM (accounts, users, groups, memberships, policies, attachments, access keys), one for
/// buckets (owner, policy, website). Bumped after each such write.
#[derive(Default)]
struct Generations {
    iam: std::sync::atomic::AtomicU64,
    buckets: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Closes the connection pool, for every clone of this store (at shutdown).
    pub async fn close(&self) {
        if let Err(e) = self.db.clone().close().await {
            tracing::warn!(error = %e, "closing the database pool failed");
        }
    }

    /// Connects, tunes SQLite for concurrent use, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, anyhow::Error> {
        use nuvem_migrations::{Migrator, MigratorTrait};
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .max_connections(if url.starts_with("sqlite") { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        let db = Database::connect(opts).await?;
        if db.get_database_backend() == DbBackend::Sqlite {
            // WAL (a property of the file, so once is enough) lets readers proceed while one
            // writer commits; sqlx gives every pooled connection a 5 s busy timeout, so a second
            // writer waits instead of failing with "database is locked".
            db.execute_unprepared("PRAGMA journal_mode=WAL;").await?;
        }
        Migrator::up(&db, None).await?;
        Ok(Store {
            db,
            generations: Default::default(),
        })
    }

    /// Changes at every IAM write that can change who may do what; read before a lookup whose
    /// result is cached.
    pub fn iam_generation(&self) -> u64 {
        self.generations
            .iam
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Changes at every write of a bucket row.
    pub fn bucket_generation(&self) -> u64 {
        self.generations
            .buckets
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Passes a write's result through, after counting it as an IAM change (failed writes
    /// too: a half-known outcome must not leave a cache trusted).
    fn iam_changed<T>(&self, result: T) -> T {
        self.generations
            .iam
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        result
    }

    fn buckets_changed<T>(&self, result: T) -> T {
        self.generations
            .buckets
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        result
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            DbBackend::MySql => "mysql",
        }
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await.map_err(Error::from)
    }
}
