//! Storage for vulnshare: one code path over SQLite (the embedded default) and PostgreSQL
//! (for several server nodes), chosen by the database URL's scheme.
//!
//! All SQL is written once in the dialect both engines accept (`$N` placeholders, `BIGINT`
//! microsecond timestamps, JSON as `TEXT`); each engine has its own migrations folder because
//! DDL differs. Every write goes through a [`WriteTx`], which appends to the hash-chained audit
//! log in the same transaction, so no change is ever committed without its audit entry.
#![warn(missing_docs)]

mod advisory;
mod audit;
mod awareness;
mod backup;
mod case;
mod changes;
mod codec;
mod cve;
mod keys;
mod matching;
mod memo;
mod notification;
mod obligation;
mod organization;
mod outbox;
mod product;
mod regime;
mod report;
mod rows;
mod sanction;
mod sbom;
mod session;
mod stats;
mod taxii;
#[cfg(feature = "testing")]
pub mod testing;
mod user;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use vulnshare_core::audit::AuditEvent;

pub use advisory::AdvisoryVersion;
pub use audit::AuditVerification;
pub use awareness::{CorrelatedReport, VulnerabilityKeys};
pub use backup::{BackupSummary, ColumnKind, TableCount};
pub use case::{Attachment, CaseMessage, new_attachment_id, new_case_id};
pub use changes::ChangeFeed;
pub use cve::{Cna, CveIdFilter, StoredCveId, StoredCveRecord};
pub use matching::{ComponentPage, MatchingCursor};
pub use notification::Notification;
pub use obligation::{ObligationRecord, Reminder, ViolationRecord};
pub use outbox::{Delivery, Subscription, new_subscription_id};
pub use regime::{CustomRegimeSource, RegimeSettings};
pub use report::{ReportFilter, ReportPage, ReportScope};
pub use sanction::new_sanction_id;
pub use sbom::{ExposureRecord, SbomRecord, StoredComponent, new_sbom_id};
pub use session::{LockoutPolicy, WebSession};
pub use stats::{Backlog, Gauge};
pub use taxii::TaxiiObject;
pub use user::{Credentials, TokenActor};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Picks the engine from a database URL's scheme, refusing anything else clearly.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            other => Err(StoreError::UnsupportedUrl(format!(
                "database URL scheme {other:?} is not supported: use sqlite://PATH or postgres://HOST/DB"
            ))),
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL cannot be used.
    #[error("{0}")]
    UnsupportedUrl(String),
    /// The object does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was broken, e.g. a name already taken.
    #[error("{0}")]
    Conflict(String),
    /// Stored data does not decode: the database was changed outside vulnshare.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A backup cannot be written or restored; the message says why and what to do.
    #[error("{0}")]
    Backup(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] with `message`.
    fn conflict_on_unique(err: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(message())
            }
            _ => StoreError::Database(err),
        }
    }
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store: a connection pool and the engine it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: DatabaseUrl,
    feed: ChangeFeed,
    feed_task: Option<std::sync::Arc<changes::FeedTask>>,
    packages: sbom::PackageIds,
}

/// The URL a store connected with, kept for the change feed's own connection; it may hold a
/// password, so it never shows in debug output.
#[derive(Clone)]
struct DatabaseUrl(String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseUrl(…)")
    }
}

impl Store {
    /// Connects to `url`, creating a SQLite file (and its folder) if needed, and runs
    /// migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_up_to(url, i64::MAX).await
    }

    /// Connects and runs the migrations numbered up to `last` only (tests of a later
    /// migration start from rows in the shape it converts).
    async fn connect_up_to(url: &str, last: i64) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or_default();
            let folder = Some(path)
                .filter(|p| *p != ":memory:" && !p.is_empty())
                .and_then(|p| Path::new(p).parent())
                .filter(|d| !d.as_os_str().is_empty());
            if let Some(dir) = folder {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::UnsupportedUrl(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            backend,
            url: DatabaseUrl(url),
            feed: ChangeFeed::default(),
            feed_task: None,
            packages: sbom::PackageIds::default(),
        };
        store.migrate(last).await?;
        Ok(store)
    }

    async fn migrate(&self, last: i64) -> Result<()> {
        let mut migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        if last < i64::MAX {
            let wanted = migrator
                .migrations
                .iter()
                .filter(|m| m.version <= last)
                .cloned()
                .collect::<Vec<_>>();
            migrator.migrations = wanted.into();
        }
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The engine in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests that need to reach under the store (e.g. to tamper with rows).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// What this node knows of committed changes without asking the store ([`ChangeFeed`]).
    pub fn changes(&self) -> &ChangeFeed {
        &self.feed
    }

    /// Starts listening for the changes every node commits (PostgreSQL), so that hot read
    /// paths can trust what this node keeps in memory without a query per request; waits up
    /// to `wait` for the feed to go live and tells whether it did. On SQLite nothing starts
    /// and the feed stays off: readers keep asking the store, which costs no network there.
    pub async fn start_change_feed(&mut self, wait: Duration) -> Result<bool> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        if self.feed_task.is_none() {
            let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
                .fetch_one(&self.pool)
                .await?;
            self.feed_task = Some(std::sync::Arc::new(changes::spawn_listener(
                self.url.0.clone(),
                schema,
                self.feed.clone(),
                self.pool.clone(),
            )));
        }
        let deadline = tokio::time::Instant::now() + wait;
        while !self.feed.is_live() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(self.feed.is_live())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a write transaction. The audit head is locked first, which serialises writers
    /// on both engines and keeps the audit chain linear.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        self.begin_write_unlocked().await?.lock().await
    }

    /// Starts a write transaction that does not take the audit chain's head yet, for inserting
    /// rows that no other writer can touch (an SBOM and its components, under a new id) before
    /// [`UnlockedWriteTx::lock`] serialises it with every other writer. Its rows commit only
    /// through the locked transaction, with their audit entry.
    pub async fn begin_write_unlocked(&self) -> Result<UnlockedWriteTx> {
        Ok(UnlockedWriteTx {
            tx: self.pool.begin().await?,
            backend: self.backend,
            feed: self.feed.clone(),
            packages: self.packages.clone(),
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction that has not taken the audit chain's head yet
/// ([`Store::begin_write_unlocked`]).
pub struct UnlockedWriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    feed: ChangeFeed,
    packages: sbom::PackageIds,
}

impl UnlockedWriteTx {
    /// Takes the audit chain's head (waiting for any other writer to commit), which serialises
    /// writers on both engines and keeps the audit chain linear.
    pub async fn lock(mut self) -> Result<WriteTx> {
        // PostgreSQL locks the row without writing a new version of it (an `UPDATE` here left
        // a dead row per transaction for every later writer to step over until vacuum);
        // SQLite has no row locks, and its write lock comes with the first write.
        let sql = match self.backend {
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Backend::Sqlite => "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
        };
        let row: (i64, String) = sqlx::query_as(sql).fetch_one(&mut *self.tx).await?;
        Ok(WriteTx {
            tx: self.tx,
            head_seq: row.0,
            head_hash: row.1,
            pending: Vec::new(),
            catalog_changed: false,
            credentials_changed: false,
            feed: self.feed,
            violated: std::collections::HashSet::new(),
            remembered: memo::Remembered::default(),
            fresh: obligation::Fresh::default(),
            fresh_notifications: Vec::new(),
            report_numbers: None,
            fresh_reports: Vec::new(),
        })
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// A write transaction that carries the audit chain's head.
///
/// Audit entries are chained in memory as they are appended and written together just before
/// the commit (one multi-row insert instead of a round trip each), still inside the same
/// transaction: they commit or roll back with the changes they describe.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    head_seq: i64,
    head_hash: String,
    pending: Vec<vulnshare_core::audit::AuditEntry>,
    // The advisory catalog's generation is raised once, at commit, however many changes this
    // transaction made to advisories and case participants.
    catalog_changed: bool,
    // Tokens, users or organizations changed: cached token checks on this node are stale
    // once this commits.
    credentials_changed: bool,
    feed: ChangeFeed,
    // Obligations given their (only) violation in this transaction: a second attempt is known
    // to change nothing without asking the database.
    violated: std::collections::HashSet<String>,
    // What this transaction read and has not changed since.
    remembered: memo::Remembered,
    // Obligations and violations about reports created here, and notifications about those
    // violations: written at commit.
    fresh: obligation::Fresh,
    fresh_notifications: Vec<notification::PendingNotification>,
    // The last report number taken in this transaction, by year, written back at commit.
    report_numbers: Option<report::ReportNumbers>,
    // Reports created here, written at commit or before anything reads reports.
    fresh_reports: Vec<vulnshare_core::report::Report>,
}

impl WriteTx {
    /// Appends an audit entry for a change made in this transaction, at server time `at`;
    /// returns its sequence number.
    pub async fn audit(&mut self, at: Timestamp, event: AuditEvent) -> Result<i64> {
        let entry =
            vulnshare_core::audit::AuditEntry::chain(self.head_seq, &self.head_hash, at, event);
        self.head_seq = entry.seq;
        self.head_hash.clone_from(&entry.hash);
        self.pending.push(entry);
        Ok(self.head_seq)
    }

    /// Writes what this transaction has kept in memory so far (reports created, their
    /// obligations, violations and notifications, report numbers, audit entries), still inside
    /// the transaction. [`WriteTx::commit`] does this itself; calling it first separates a
    /// failure of these statements, after which nothing is committed, from a failure of the
    /// commit, after which nobody knows.
    pub async fn write_pending(&mut self) -> Result<()> {
        self.write_fresh_reports().await?;
        self.write_fresh().await?;
        self.write_fresh_notifications().await?;
        self.write_report_numbers().await?;
        let pending = std::mem::take(&mut self.pending);
        audit::insert_all(&mut self.tx, &pending).await
    }

    /// Commits the changes and their audit entries; returns once the commit is durable.
    pub async fn commit(mut self) -> Result<()> {
        self.write_pending().await?;
        let generation = match self.catalog_changed {
            true => Some(advisory::raise_catalog_generation(&mut self.tx).await?),
            false => None,
        };
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.head_seq)
            .bind(&self.head_hash)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        // After the commit, never before: a reader on this node that sees the new epoch must
        // find the change in the store.
        if let Some(generation) = generation {
            self.feed.saw_catalog_generation(generation);
        }
        if self.credentials_changed {
            self.feed.auth_changed();
        }
        Ok(())
    }

    /// Abandons the changes (and their audit entries), e.g. when a conditional update shows
    /// another node got there first.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Marks a change of API tokens, users or organizations, which cached token checks
    /// depend on.
    pub(crate) fn credentials_changed(&mut self) {
        self.credentials_changed = true;
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Inserts many rows in one statement (or a few), `suffix` after it.
    async fn insert_rows(&mut self, rows: rows::Rows<'_>, suffix: &str) -> Result<()> {
        rows.insert(&mut self.tx, suffix).await
    }
}

#[cfg(test)]
mod url_tests {
    use super::DatabaseUrl;

    #[test]
    fn a_stored_database_url_never_shows_its_password() {
        let url = DatabaseUrl("postgres://vulnshare:s3cret@db.example/vulnshare".into());
        let shown = format!("{url:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("db.example"),
            "{shown}"
        );
    }
}
