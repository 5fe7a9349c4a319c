//! In-app notifications (deadline reminders, violations, suspension reviews). The key
//! (organization, kind, subject) is unique, so a reminder can never be delivered twice.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{from_json, from_opt_ts, from_ts, new_id, to_json, ts};
use crate::{Result, Store, WriteTx};

/// One in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Identifier.
    pub id: String,
    /// The organization notified.
    pub organization_id: String,
    /// A single user, when addressed to one.
    pub user_id: Option<String>,
    /// What it is about, e.g. `obligation.due_soon`.
    pub kind: String,
    /// The object it is about.
    pub subject_id: String,
    /// Details for display.
    pub payload: serde_json::Value,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was marked read.
    pub read_at: Option<Timestamp>,
}

fn notification(row: &AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        user_id: Some(row.try_get::<String, _>("user_id")?).filter(|u| !u.is_empty()),
        kind: row.try_get("kind")?,
        subject_id: row.try_get("subject_id")?,
        payload: from_json(
            "notification payload",
            &row.try_get::<String, _>("payload")?,
        )?,
        created_at: from_ts(row.try_get("created_at")?)?,
        read_at: from_opt_ts(row.try_get("read_at")?)?,
    })
}

/// A notification about a violation recorded in the same transaction, written at commit.
pub(crate) struct PendingNotification {
    id: String,
    organization_id: String,
    user_id: String,
    kind: String,
    subject_id: String,
    payload: String,
    created_at: Timestamp,
}

impl WriteTx {
    /// Writes the notifications kept until commit (several rows per statement).
    pub(crate) async fn write_fresh_notifications(&mut self) -> Result<()> {
        use crate::rows::{Rows, int, text};
        let pending = std::mem::take(&mut self.fresh_notifications);
        let mut rows = Rows::new(
            "notifications",
            &[
                "id",
                "organization_id",
                "user_id",
                "kind",
                "subject_id",
                "payload",
                "created_at",
            ],
        );
        for n in pending {
            rows.push([
                text(n.id),
                text(n.organization_id),
                text(n.user_id),
                text(n.kind),
                text(n.subject_id),
                text(n.payload),
                int(ts(n.created_at)),
            ]);
        }
        self.insert_rows(
            rows,
            "ON CONFLICT (organization_id, user_id, kind, subject_id) DO NOTHING",
        )
        .await
    }

    /// Adds a notification for the whole organization (`user_id` `None`) or one user; `false`
    /// if that recipient was already notified of this (kind, subject).
    pub async fn notify(
        &mut self,
        organization_id: &str,
        user_id: Option<&str>,
        kind: &str,
        subject_id: &str,
        payload: &serde_json::Value,
        now: Timestamp,
    ) -> Result<bool> {
        if self.fresh.is_fresh_violation(subject_id) {
            // About a violation recorded in this transaction: nothing stored can collide with
            // it, so it is written at commit with the violation; only one kept here can.
            let user_id = user_id.unwrap_or("");
            let known = self.fresh_notifications.iter().any(|n| {
                n.organization_id == organization_id
                    && n.user_id == user_id
                    && n.kind == kind
                    && n.subject_id == subject_id
            });
            if known {
                return Ok(false);
            }
            self.fresh_notifications.push(PendingNotification {
                id: new_id("ntf"),
                organization_id: organization_id.to_owned(),
                user_id: user_id.to_owned(),
                kind: kind.to_owned(),
                subject_id: subject_id.to_owned(),
                payload: to_json(payload),
                created_at: now,
            });
            return Ok(true);
        }
        let done = sqlx::query(
            "INSERT INTO notifications (id, organization_id, user_id, kind, subject_id, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (organization_id, user_id, kind, subject_id) DO NOTHING",
        )
        .bind(new_id("ntf"))
        .bind(organization_id)
        .bind(user_id.unwrap_or(""))
        .bind(kind)
        .bind(subject_id)
        .bind(to_json(payload))
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a notification read for `user_id` of `organization_id`; `false` if that user has
    /// no such notification.
    pub async fn mark_notification_read(
        &mut self,
        id: &str,
        organization_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND organization_id = $3 AND (user_id = '' OR user_id = $4)",
        )
        .bind(ts(now))
        .bind(id)
        .bind(organization_id)
        .bind(user_id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// The notifications of an organization visible to `user_id` (addressed to the whole
    /// organization or to that user), newest first.
    pub async fn notifications_for(
        &self,
        organization_id: &str,
        user_id: &str,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT id, organization_id, user_id, kind, subject_id, payload, created_at, read_at FROM notifications \
             WHERE organization_id = $1 AND (user_id = '' OR user_id = $2){} ORDER BY created_at DESC, id LIMIT $3",
            if unread_only {
                " AND read_at IS NULL"
            } else {
                ""
            }
        );
        let rows = sqlx::query(&sql)
            .bind(organization_id)
            .bind(user_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(notification).collect()
    }

    /// Every notification of a kind about a subject (tests and diagnostics).
    pub async fn notifications_about(
        &self,
        kind: &str,
        subject_id: &str,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, organization_id, user_id, kind, subject_id, payload, created_at, read_at FROM notifications \
             WHERE kind = $1 AND subject_id = $2 ORDER BY created_at, id",
        )
        .bind(kind)
        .bind(subject_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(notification).collect()
    }
}
