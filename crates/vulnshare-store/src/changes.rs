//! What a node knows of the store's changes without asking the store.
//!
//! Hot read paths (OSV queries, API token checks) would otherwise ask the database on every
//! request whether what this node keeps in memory is still current. On PostgreSQL a listener
//! connection subscribes to the changes every node commits (`LISTEN`; triggers on the tables
//! send them, migration 0011), so a node learns of them as they commit, without a query per
//! request:
//! - the advisory catalog's generation, which compiled copies of the catalog compare against;
//! - an epoch raised by every change to API tokens, users or organizations (a revocation, a
//!   suspension), which cached token checks compare against.
//!
//! The node's own commits update it at once (in [`crate::WriteTx::commit`]), before the
//! committing request answers. Other nodes' commits arrive with PostgreSQL's notification,
//! normally within a millisecond. While the listener is not connected (and on SQLite, whose
//! one process sees every change itself but which has no listener), the feed is not live and
//! readers ask the store as before; losing the connection also raises the epoch, so nothing
//! cached before the gap is trusted after it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgListener;

/// The channel prefix; each schema has its own channel (`vulnshare_changes_<schema>`), so
/// stores in different schemas of one database do not hear each other.
const CHANNEL_PREFIX: &str = "vulnshare_changes_";

/// The longest wait between two attempts to connect the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The change feed of one node (cheap to clone; clones share it).
#[derive(Debug, Clone, Default)]
pub struct ChangeFeed {
    inner: Arc<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    live: AtomicBool,
    catalog_generation: AtomicI64,
    auth_epoch: AtomicU64,
}

impl ChangeFeed {
    /// True while every committed change reaches this node through the feed.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }

    /// The advisory catalog's generation as of the latest change this node heard of, when
    /// the feed is live; `None` means: ask the store.
    pub fn catalog_generation(&self) -> Option<i64> {
        let generation = self.inner.catalog_generation.load(Ordering::Acquire);
        self.is_live().then_some(generation)
    }

    /// The epoch of credentials, users and organizations: whatever was read from the store
    /// under one epoch is current as long as the epoch stays the same and the feed is live.
    /// Read it before reading the store, and keep what was read under that epoch.
    pub fn auth_epoch(&self) -> u64 {
        self.inner.auth_epoch.load(Ordering::Acquire)
    }

    /// True when something read under `epoch` is still current.
    pub fn still_current(&self, epoch: u64) -> bool {
        self.is_live() && self.auth_epoch() == epoch
    }

    pub(crate) fn saw_catalog_generation(&self, generation: i64) {
        self.inner
            .catalog_generation
            .fetch_max(generation, Ordering::AcqRel);
    }

    pub(crate) fn auth_changed(&self) {
        self.inner.auth_epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn set_live(&self, live: bool) {
        // Whatever was cached is not trusted across a gap in the feed, either way.
        self.auth_changed();
        self.inner.live.store(live, Ordering::Release);
    }

    /// Applies one notification's payload: `auth`, or `catalog <generation>`.
    fn apply(&self, payload: &str) {
        match payload.split_once(' ') {
            Some(("catalog", generation)) => match generation.parse() {
                Ok(generation) => self.saw_catalog_generation(generation),
                Err(_) => self.auth_changed(),
            },
            _ => self.auth_changed(),
        }
    }
}

/// Stops the listener task when the last clone of the store that started it is dropped.
#[derive(Debug)]
pub(crate) struct FeedTask(tokio::task::JoinHandle<()>);

impl Drop for FeedTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listens on PostgreSQL at `url` for the changes of `schema`, feeding `feed`, reconnecting
/// after any loss of the connection; `pool` reads the catalog's generation
/// after each subscription.
pub(crate) fn spawn_listener(
    url: String,
    schema: String,
    feed: ChangeFeed,
    pool: sqlx::AnyPool,
) -> FeedTask {
    FeedTask(tokio::spawn(async move {
        let channel = format!("{CHANNEL_PREFIX}{schema}");
        let mut backoff = Duration::from_millis(100);
        loop {
            match subscribe(&url, &channel, &feed, &pool).await {
                Ok(mut listener) => {
                    backoff = Duration::from_millis(100);
                    tracing::debug!(channel, "change feed live");
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(note)) => feed.apply(note.payload()),
                            Ok(None) => {
                                tracing::warn!(
                                    "change feed: connection lost; reading the store until it is back"
                                );
                                break;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed: listener failed");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "change feed: cannot subscribe"),
            }
            feed.set_live(false);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }))
}

/// Connects and subscribes, then reads the generation (so a change committed before the
/// subscription is not missed), and only then declares the feed live.
async fn subscribe(
    url: &str,
    channel: &str,
    feed: &ChangeFeed,
    pool: &sqlx::AnyPool,
) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(channel).await?;
    let generation: Option<i64> =
        sqlx::query_scalar("SELECT generation FROM advisory_catalog WHERE id = 1")
            .fetch_optional(pool)
            .await?;
    feed.saw_catalog_generation(generation.unwrap_or(0));
    feed.set_live(true);
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_that_is_not_live_answers_nothing_from_memory() {
        let feed = ChangeFeed::default();
        feed.saw_catalog_generation(7);
        assert_eq!(feed.catalog_generation(), None);
        let epoch = feed.auth_epoch();
        assert!(!feed.still_current(epoch));
        feed.set_live(true);
        assert_eq!(feed.catalog_generation(), Some(7));
        let epoch = feed.auth_epoch();
        assert!(feed.still_current(epoch));
    }

    #[test]
    fn notifications_raise_the_generation_and_the_epoch() {
        let feed = ChangeFeed::default();
        feed.set_live(true);
        let epoch = feed.auth_epoch();
        feed.apply("catalog 12");
        feed.apply("catalog 9"); // arrives late: never goes back
        assert_eq!(feed.catalog_generation(), Some(12));
        assert!(feed.still_current(epoch));
        feed.apply("auth");
        assert!(!feed.still_current(epoch));
        let epoch = feed.auth_epoch();
        feed.apply("something new");
        assert!(!feed.still_current(epoch), "an unknown payload is a change");
    }

    #[test]
    fn losing_the_feed_invalidates_what_was_read_before() {
        let feed = ChangeFeed::default();
        feed.set_live(true);
        let epoch = feed.auth_epoch();
        feed.set_live(false);
        feed.set_live(true);
        assert!(!feed.still_current(epoch));
    }
}
