//! Subscriptions and the outbox: notifications enqueued in the same transaction as the event
//! that causes them, then claimed and delivered by whichever node gets there first.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::subscription::{Channel, SubscriptionFilter};

use crate::codec::{fetch_by_id, from_json, from_opt_ts, from_ts, new_id, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// A stored subscription (the webhook secret is kept to sign deliveries; it is shown once).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subscription {
    /// Identifier.
    pub id: String,
    /// The subscribing organization.
    pub organization_id: String,
    /// The user who created it.
    pub user_id: String,
    /// Where notifications go.
    pub channel: Channel,
    /// Webhook URL, or the e-mail address for the e-mail channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Webhook signing secret (never serialized).
    #[serde(skip)]
    pub secret: Option<String>,
    /// What to be told about.
    pub filter: SubscriptionFilter,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was switched off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
}

/// One delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    /// Identifier (sent as the idempotency key).
    pub id: String,
    /// The subscription.
    pub subscription_id: String,
    /// Event kind, e.g. `advisory.published`.
    pub event_kind: String,
    /// The event's object id.
    pub event_id: String,
    /// The JSON body to send.
    pub payload: String,
    /// pending, sending, delivered or dead.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// Last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    /// The lease this node holds, set by [`Store::claim_delivery`]: its end, in microseconds,
    /// doubles as a fencing token, so a node whose lease ran out cannot record an outcome over
    /// the node that took the delivery over.
    #[serde(skip)]
    pub lease_until: Option<i64>,
}

const SUB_COLUMNS: &str =
    "id, organization_id, user_id, channel, url, secret, filter, created_at, disabled_at";
const DELIVERY_COLUMNS: &str =
    "id, subscription_id, event_kind, event_id, payload, state, attempts, last_error, delivered_at";

fn subscription(row: &AnyRow) -> Result<Subscription> {
    let channel: String = row.try_get("channel")?;
    Ok(Subscription {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        user_id: row.try_get("user_id")?,
        channel: match channel.as_str() {
            "webhook" => Channel::Webhook,
            "inbox" => Channel::Inbox,
            "email" => Channel::Email,
            other => return Err(StoreError::Corrupt(format!("channel {other:?}"))),
        },
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        filter: from_json("subscription filter", &row.try_get::<String, _>("filter")?)?,
        created_at: from_ts(row.try_get("created_at")?)?,
        disabled_at: from_opt_ts(row.try_get("disabled_at")?)?,
    })
}

fn delivery(row: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        subscription_id: row.try_get("subscription_id")?,
        event_kind: row.try_get("event_kind")?,
        event_id: row.try_get("event_id")?,
        payload: row.try_get("payload")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        delivered_at: from_opt_ts(row.try_get("delivered_at")?)?,
        lease_until: None,
    })
}

impl WriteTx {
    /// Stores a subscription.
    pub async fn create_subscription(&mut self, s: &Subscription) -> Result<()> {
        sqlx::query(&format!("INSERT INTO subscriptions ({SUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)"))
            .bind(&s.id)
            .bind(&s.organization_id)
            .bind(&s.user_id)
            .bind(match s.channel {
                Channel::Webhook => "webhook",
                Channel::Inbox => "inbox",
                Channel::Email => "email",
            })
            .bind(s.url.as_deref())
            .bind(s.secret.as_deref())
            .bind(to_json(&s.filter))
            .bind(ts(s.created_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Switches a subscription off.
    pub async fn disable_subscription(&mut self, id: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE subscriptions SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2",
        )
        .bind(ts(now))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Enqueues a delivery; `false` when this (subscription, event) was already enqueued.
    pub async fn enqueue(
        &mut self,
        subscription_id: &str,
        event_kind: &str,
        event_id: &str,
        payload: &serde_json::Value,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox (id, subscription_id, event_kind, event_id, payload, state, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) ON CONFLICT (subscription_id, event_kind, event_id) DO NOTHING",
        )
        .bind(new_id("dlv"))
        .bind(subscription_id)
        .bind(event_kind)
        .bind(event_id)
        .bind(to_json(payload))
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Reads a subscription.
    pub async fn subscription(&self, id: &str) -> Result<Subscription> {
        let sql = format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = $1");
        fetch_by_id(&self.pool, &sql, id, "subscription", subscription).await
    }

    /// Active subscriptions, of one organization or of all.
    pub async fn active_subscriptions(&self, org_id: Option<&str>) -> Result<Vec<Subscription>> {
        let rows = match org_id {
            Some(o) => sqlx::query(&format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE disabled_at IS NULL AND organization_id = $1 ORDER BY created_at, id"))
                .bind(o)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query(&format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE disabled_at IS NULL ORDER BY created_at, id"))
                .fetch_all(&self.pool)
                .await?,
        };
        rows.iter().map(subscription).collect()
    }

    /// Deliveries of a subscription, newest first.
    pub async fn deliveries_of(&self, subscription_id: &str) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE subscription_id = $1 ORDER BY created_at DESC, id LIMIT 1000"))
            .bind(subscription_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery).collect()
    }

    /// Ids of deliveries due at `now` (pending and due, or sending with an expired lease).
    pub async fn due_deliveries(&self, now: Timestamp, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    /// Claims a due delivery for `lease_seconds`; `None` if another node got it first. The
    /// claim is one conditional UPDATE, so of several nodes racing for a delivery exactly one
    /// wins; a lease that runs out (its node died mid-send) makes it due again.
    pub async fn claim_delivery(
        &self,
        id: &str,
        now: Timestamp,
        lease_seconds: i64,
    ) -> Result<Option<Delivery>> {
        let lease_until = ts(now) + lease_seconds * 1_000_000;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'sending', lease_until = $1 WHERE id = $2 AND ((state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND lease_until < $3))",
        )
        .bind(lease_until)
        .bind(id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE id = $1");
        let mut claimed = fetch_by_id(&self.pool, &sql, id, "delivery", delivery).await?;
        claimed.lease_until = Some(lease_until);
        Ok(Some(claimed))
    }

    /// Records the outcome of an attempt on a delivery this node claimed: delivered, retried at
    /// `retry_at`, or dead. Returns `false` (and changes nothing) when the lease had run out and
    /// another node claimed the delivery since.
    pub async fn finish_delivery(
        &self,
        claimed: &Delivery,
        outcome: Result<(), String>,
        now: Timestamp,
        retry_at: Option<Timestamp>,
    ) -> Result<bool> {
        let lease = claimed.lease_until.ok_or_else(|| {
            StoreError::Conflict(format!("delivery {} was not claimed", claimed.id))
        })?;
        let done = match outcome {
            Ok(()) => {
                sqlx::query("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, lease_until = NULL WHERE id = $2 AND state = 'sending' AND lease_until = $3")
                    .bind(ts(now))
                    .bind(&claimed.id)
                    .bind(lease)
                    .execute(&self.pool)
                    .await?
            }
            Err(error) => {
                let (state, next) = match retry_at {
                    Some(at) => ("pending", ts(at)),
                    None => ("dead", ts(now)),
                };
                sqlx::query("UPDATE outbox SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, lease_until = NULL WHERE id = $4 AND state = 'sending' AND lease_until = $5")
                    .bind(state)
                    .bind(next)
                    .bind(error.chars().take(1000).collect::<String>())
                    .bind(&claimed.id)
                    .bind(lease)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}

/// A new subscription id.
pub fn new_subscription_id() -> String {
    new_id("sub")
}
