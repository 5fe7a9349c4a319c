//! The audit log table: appending chained entries and verifying the whole chain.

use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::audit::{AuditEntry, AuditEvent, ChainBreak, ChainVerifier};

use crate::codec::{from_ts, ts};
use crate::{Result, Store};

/// Writes chained entries in order, many rows per statement ([`crate::rows`]).
pub(crate) async fn insert_all(
    conn: &mut sqlx::AnyConnection,
    entries: &[AuditEntry],
) -> Result<()> {
    use crate::rows::{int, opt_text, text};
    const COLUMNS: [&str; 10] = [
        "seq",
        "at",
        "actor_user_id",
        "actor_org_id",
        "action",
        "object_type",
        "object_id",
        "details",
        "prev_hash",
        "hash",
    ];
    let mut rows = crate::rows::Rows::new("audit_log", &COLUMNS);
    for e in entries {
        rows.push([
            int(e.seq),
            int(ts(e.at)),
            opt_text(e.event.actor_user_id.as_deref()),
            opt_text(e.event.actor_org_id.as_deref()),
            text(e.event.action.as_str()),
            text(e.event.object_type.as_str()),
            text(e.event.object_id.as_str()),
            text(e.event.details.as_str()),
            text(e.prev_hash.as_str()),
            text(e.hash.as_str()),
        ]);
    }
    rows.insert(conn, "").await
}

fn entry(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: from_ts(row.try_get("at")?)?,
        event: AuditEvent {
            actor_user_id: row.try_get("actor_user_id")?,
            actor_org_id: row.try_get("actor_org_id")?,
            action: row.try_get("action")?,
            object_type: row.try_get("object_type")?,
            object_id: row.try_get("object_id")?,
            details: row.try_get("details")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const COLUMNS: &str = "seq, at, actor_user_id, actor_org_id, action, object_type, object_id, details, prev_hash, hash";

/// The outcome of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditVerification {
    /// How many entries were checked.
    pub entries: i64,
    /// The head's sequence number.
    pub head_seq: i64,
    /// The head's hash.
    pub head_hash: String,
    /// The first break found, if any.
    pub error: Option<String>,
}

impl Store {
    /// Walks the whole chain in order and checks every link and the recorded head.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut conn = self.pool.acquire().await?;
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
        let mut verifier = ChainVerifier::default();
        let mut checked = 0i64;
        let mut broken: Option<ChainBreak> = None;
        {
            let sql = format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq");
            let mut rows = sqlx::query(&sql).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await? {
                let e = entry(&row)?;
                if let Err(b) = verifier.push(&e) {
                    broken = Some(b);
                    break;
                }
                checked += 1;
            }
        }
        let error = match broken {
            Some(b) => Some(b.to_string()),
            None => verifier
                .finish(head_seq, &head_hash)
                .err()
                .map(|b| b.to_string()),
        };
        Ok(AuditVerification {
            entries: checked,
            head_seq,
            head_hash,
            error,
        })
    }

    /// Audit entries after `after_seq`, oldest first, at most `limit`; optionally for one object.
    pub async fn audit_entries(
        &self,
        after_seq: i64,
        limit: i64,
        object: Option<(&str, &str)>,
    ) -> Result<Vec<AuditEntry>> {
        let rows = match object {
            Some((object_type, object_id)) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND object_type = $2 AND object_id = $3 ORDER BY seq LIMIT $4"
                );
                sqlx::query(&sql)
                    .bind(after_seq)
                    .bind(object_type)
                    .bind(object_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql =
                    format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
                sqlx::query(&sql)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(entry).collect()
    }
}
