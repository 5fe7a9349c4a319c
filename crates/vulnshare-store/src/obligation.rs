//! Obligations and violations tables.
//!
//! Status changes the sweeper makes are *conditional* updates (`... WHERE status = 'pending'`)
//! whose row count says whether this caller made the change, so that with several server
//! nodes each transition happens, and is audited, exactly once.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vulnshare_core::obligation::{NewObligation, Obligation, ObligationStatus, Violation};

use crate::codec::{from_json, from_opt_ts, from_ts, new_id, to_json, ts};
use crate::rows::{Cell, Rows, int, opt_int, opt_text, text};
use crate::{Result, Store, WriteTx};

const COLUMNS: &str = "id, terms, status_details, report_id, created_at, updated_at, notified_before_at, notified_due_at";

/// An obligation with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObligationRecord {
    /// The obligation.
    #[serde(flatten)]
    pub obligation: Obligation,
    /// The report that triggered it, if a report did.
    pub report_id: Option<String>,
    /// When it was generated.
    pub created_at: Timestamp,
    /// When its status last changed.
    pub updated_at: Timestamp,
    /// When the "deadline approaching" reminder went out.
    pub notified_before_at: Option<Timestamp>,
    /// When the "deadline reached" reminder went out.
    pub notified_due_at: Option<Timestamp>,
}

fn record(row: &AnyRow) -> Result<ObligationRecord> {
    let terms: NewObligation = from_json("obligation terms", &row.try_get::<String, _>("terms")?)?;
    let status: ObligationStatus = from_json(
        "obligation status",
        &row.try_get::<String, _>("status_details")?,
    )?;
    Ok(ObligationRecord {
        obligation: Obligation {
            id: row.try_get("id")?,
            terms,
            status,
        },
        report_id: row.try_get("report_id")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
        notified_before_at: from_opt_ts(row.try_get("notified_before_at")?)?,
        notified_due_at: from_opt_ts(row.try_get("notified_due_at")?)?,
    })
}

fn status_name(status: &ObligationStatus) -> &'static str {
    match status {
        ObligationStatus::Pending => "pending",
        ObligationStatus::Met { .. } => "met",
        ObligationStatus::Overdue => "overdue",
        ObligationStatus::Waived { .. } => "waived",
    }
}

/// A recorded violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViolationRecord {
    /// Store-assigned identifier.
    pub id: String,
    /// The violation as the engine computed it.
    #[serde(flatten)]
    pub violation: Violation,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// Which reminder a sweeper claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// Before the deadline.
    Before,
    /// At the deadline.
    Due,
}

async fn by_query(
    conn: &mut AnyConnection,
    clause: &str,
    binds: &[&str],
) -> Result<Vec<ObligationRecord>> {
    // Prepared once per connection, and PostgreSQL soon keeps one generic plan for it. With an
    // `ORDER BY created_at` here, a plan made while the table was still small (a new platform)
    // read "party = $1 AND subject = $2" through the (party, created_at) index, for its order,
    // and then walked the member's whole history on every call for the life of the connection:
    // 0.8 ms per call after 5,000 obligations, growing. Without an order to offer, the index
    // that matches every equality wins from the first plan on, so rows are put in order here.
    let sql = format!("SELECT {COLUMNS} FROM obligations WHERE {clause}");
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(*b);
    }
    let mut records = q
        .fetch_all(conn)
        .await?
        .iter()
        .map(record)
        .collect::<Result<Vec<_>>>()?;
    in_stored_order(&mut records);
    Ok(records)
}

/// Puts obligations in the order every read gives them: by creation time, then id.
fn in_stored_order(records: &mut [ObligationRecord]) {
    records.sort_by(|a, b| (a.created_at, &a.obligation.id).cmp(&(b.created_at, &b.obligation.id)));
}

/// Obligations about reports created in the current transaction, and their violations.
///
/// No other transaction can see or change them before this one commits, so they are kept here
/// and written at commit, in a few multi-row statements, with every change made to them in the
/// meantime: filing a report that creates five duties, meets two and breaches both costs no
/// round trip until then. Reads of them are answered from here, in the order the database
/// would give (`created_at`, then id).
#[derive(Default)]
pub(crate) struct Fresh {
    /// Reports created in this transaction: obligations about them are kept here.
    subjects: HashSet<String>,
    obligations: Vec<FreshObligation>,
    by_id: HashMap<String, usize>,
    violations: Vec<(String, Violation, Timestamp)>,
}

struct FreshObligation {
    record: ObligationRecord,
    missing_content: Vec<String>,
}

impl Fresh {
    /// A report created in this transaction, whose obligations are kept until commit.
    pub(crate) fn add_subject(&mut self, report_id: &str) {
        self.subjects.insert(report_id.to_owned());
    }

    /// Whether a notification about `subject_id` is about a violation kept here (which no
    /// stored notification can be about).
    pub(crate) fn is_fresh_violation(&self, subject_id: &str) -> bool {
        self.violations.iter().any(|(id, _, _)| id == subject_id)
    }

    fn about(&self, org_id: &str, subject: &str) -> Vec<ObligationRecord> {
        let mut out: Vec<ObligationRecord> = self
            .obligations
            .iter()
            .map(|f| &f.record)
            .filter(|r| {
                r.obligation.terms.party_org == org_id && r.obligation.terms.subject == subject
            })
            .cloned()
            .collect();
        in_stored_order(&mut out);
        out
    }
}

const OBLIGATION_COLUMN_NAMES: [&str; 21] = [
    "id",
    "regime_id",
    "regime_version",
    "rule_id",
    "article",
    "duty",
    "party",
    "party_org_id",
    "subject",
    "report_id",
    "trigger_kind",
    "trigger_at",
    "due_at",
    "time_zone",
    "status",
    "status_details",
    "required_content",
    "missing_content",
    "terms",
    "created_at",
    "updated_at",
];

/// One obligations row in the order of [`OBLIGATION_COLUMN_NAMES`].
#[allow(clippy::too_many_arguments)]
fn obligation_row<'a>(
    id: &'a str,
    n: &'a NewObligation,
    report_id: Option<&'a str>,
    status: &ObligationStatus,
    missing_content: &[String],
    created_at: Timestamp,
    updated_at: Timestamp,
) -> [Cell<'a>; 21] {
    [
        text(id),
        text(n.regime_id.as_str()),
        text(n.regime_version.as_str()),
        text(n.rule_id.as_str()),
        text(n.article.as_str()),
        text(n.duty.as_str()),
        text(n.party.as_str()),
        text(n.party_org.as_str()),
        text(n.subject.as_str()),
        opt_text(report_id),
        text(n.trigger.to_string()),
        int(ts(n.trigger_at)),
        opt_int(n.due_at.map(ts)),
        text(n.time_zone.as_str()),
        text(status_name(status)),
        text(to_json(status)),
        text(to_json(&n.required_content)),
        text(to_json(&missing_content)),
        text(to_json(n)),
        int(ts(created_at)),
        int(ts(updated_at)),
    ]
}

impl WriteTx {
    /// Writes the obligations and violations kept in memory (see [`Fresh`]); called at commit,
    /// and before any statement that could see or change them in the database.
    pub(crate) async fn write_fresh(&mut self) -> Result<()> {
        let fresh = std::mem::take(&mut self.fresh);
        if fresh.obligations.is_empty() {
            return Ok(());
        }
        self.remembered.obligations_changed();
        let mut rows = Rows::new("obligations", &OBLIGATION_COLUMN_NAMES);
        for f in &fresh.obligations {
            let r = &f.record;
            rows.push(obligation_row(
                &r.obligation.id,
                &r.obligation.terms,
                r.report_id.as_deref(),
                &r.obligation.status,
                &f.missing_content,
                r.created_at,
                r.updated_at,
            ));
        }
        self.insert_rows(rows, "").await?;
        let mut rows = Rows::new(
            "violations",
            &[
                "id",
                "obligation_id",
                "party_org_id",
                "evidence_kind",
                "days_late",
                "lateness_secs",
                "details",
                "recorded_at",
            ],
        );
        for (id, v, at) in &fresh.violations {
            rows.push([
                text(id.as_str()),
                text(v.obligation_id.as_str()),
                text(v.party_org.as_str()),
                text(evidence_kind(v)),
                int(v.days_late),
                int(v.lateness.as_secs()),
                text(to_json(v)),
                int(ts(*at)),
            ]);
        }
        self.insert_rows(rows, "").await
    }

    /// Inserts several new obligations (in one statement, or none when they are about a
    /// report created in this transaction); for each, the obligation as created, or `None`
    /// where the party already has that duty about that subject.
    pub async fn insert_obligations(
        &mut self,
        new: &[NewObligation],
        report_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<Option<Obligation>>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        if new.iter().all(|n| self.fresh.subjects.contains(&n.subject)) {
            return Ok(new
                .iter()
                .map(|n| self.keep_fresh(n, report_id, now))
                .collect());
        }
        if new.iter().any(|n| self.fresh.subjects.contains(&n.subject)) {
            // Some about a fresh report, some not: everything to the database from here on.
            self.write_fresh().await?;
        }
        self.remembered.obligations_changed();
        let ids: Vec<String> = new.iter().map(|_| new_id("obl")).collect();
        let status = ObligationStatus::Pending;
        let mut rows = Rows::new("obligations", &OBLIGATION_COLUMN_NAMES);
        for (id, n) in ids.iter().zip(new) {
            rows.push(obligation_row(
                id,
                n,
                report_id,
                &status,
                &n.required_content,
                now,
                now,
            ));
        }
        let inserted: HashSet<String> = rows
            .insert_returning(
                self.conn(),
                "ON CONFLICT (party_org_id, regime_id, rule_id, subject) DO NOTHING RETURNING id",
                "id",
            )
            .await?
            .into_iter()
            .collect();
        Ok(ids
            .into_iter()
            .zip(new)
            .map(|(id, n)| {
                inserted
                    .contains(&id)
                    .then(|| n.clone().into_obligation(id))
            })
            .collect())
    }

    /// Keeps a new obligation about a fresh subject, unless the party already has that duty.
    fn keep_fresh(
        &mut self,
        n: &NewObligation,
        report_id: Option<&str>,
        now: Timestamp,
    ) -> Option<Obligation> {
        let taken = self.fresh.obligations.iter().any(|f| {
            let t = &f.record.obligation.terms;
            t.party_org == n.party_org
                && t.regime_id == n.regime_id
                && t.rule_id == n.rule_id
                && t.subject == n.subject
        });
        if taken {
            return None;
        }
        let obligation = n.clone().into_obligation(new_id("obl"));
        self.fresh
            .by_id
            .insert(obligation.id.clone(), self.fresh.obligations.len());
        self.fresh.obligations.push(FreshObligation {
            record: ObligationRecord {
                obligation: obligation.clone(),
                report_id: report_id.map(str::to_owned),
                created_at: now,
                updated_at: now,
                notified_before_at: None,
                notified_due_at: None,
            },
            missing_content: n.required_content.clone(),
        });
        Some(obligation)
    }

    /// The obligations of `org_id` about `subject` (a report or upstream notification id).
    pub async fn obligations_about(
        &mut self,
        org_id: &str,
        subject: &str,
    ) -> Result<Vec<ObligationRecord>> {
        if self.fresh.subjects.contains(subject) {
            return Ok(self.fresh.about(org_id, subject));
        }
        let key = (org_id.to_owned(), subject.to_owned());
        if let Some(known) = self.remembered.obligations_about.get(&key) {
            return Ok(known.clone());
        }
        let found = by_query(
            self.conn(),
            "party_org_id = $1 AND subject = $2",
            &[org_id, subject],
        )
        .await?;
        self.remembered.obligations_about.insert(key, found.clone());
        Ok(found)
    }

    /// Reads one obligation inside the transaction.
    pub async fn obligation(&mut self, id: &str) -> Result<ObligationRecord> {
        if let Some(&i) = self.fresh.by_id.get(id) {
            return Ok(self.fresh.obligations[i].record.clone());
        }
        by_query(self.conn(), "id = $1", &[id])
            .await?
            .into_iter()
            .next()
            .ok_or(crate::StoreError::NotFound("obligation"))
    }

    /// Records a new status (met or waived) with the missing content it found.
    pub async fn set_obligation_status(
        &mut self,
        id: &str,
        status: &ObligationStatus,
        now: Timestamp,
    ) -> Result<()> {
        let missing: Option<&Vec<String>> = match status {
            ObligationStatus::Met {
                missing_content, ..
            } => Some(missing_content),
            _ => None,
        };
        if let Some(&i) = self.fresh.by_id.get(id) {
            let f = &mut self.fresh.obligations[i];
            f.record.obligation.status = status.clone();
            f.record.updated_at = now;
            if let Some(missing) = missing {
                f.missing_content.clone_from(missing);
            }
            return Ok(());
        }
        self.remembered.obligations_changed();
        sqlx::query(
            "UPDATE obligations SET status = $1, status_details = $2, missing_content = COALESCE($3, missing_content), updated_at = $4 WHERE id = $5",
        )
        .bind(status_name(status))
        .bind(to_json(status))
        .bind(missing.map(to_json))
        .bind(ts(now))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a pending obligation whose deadline has passed to overdue. Returns `false` when
    /// another sweeper (or a fulfilment) changed it first: the caller must then do nothing.
    pub async fn mark_overdue(&mut self, id: &str, now: Timestamp) -> Result<bool> {
        self.write_fresh().await?;
        self.remembered.obligations_changed();
        let done = sqlx::query(
            "UPDATE obligations SET status = 'overdue', status_details = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending' AND due_at IS NOT NULL AND due_at <= $2",
        )
        .bind(to_json(&ObligationStatus::Overdue))
        .bind(ts(now))
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims sending a reminder; `false` when it was already sent.
    pub async fn claim_reminder(
        &mut self,
        id: &str,
        which: Reminder,
        now: Timestamp,
    ) -> Result<bool> {
        self.write_fresh().await?;
        self.remembered.obligations_changed();
        let sql = match which {
            Reminder::Before => {
                "UPDATE obligations SET notified_before_at = $1 WHERE id = $2 AND notified_before_at IS NULL AND status = 'pending'"
            }
            Reminder::Due => {
                "UPDATE obligations SET notified_due_at = $1 WHERE id = $2 AND notified_due_at IS NULL AND status IN ('pending', 'overdue')"
            }
        };
        let done = sqlx::query(sql)
            .bind(ts(now))
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a violation; `None` if the obligation already has one (the first evidence counts).
    pub async fn insert_violation(
        &mut self,
        violation: &Violation,
        now: Timestamp,
    ) -> Result<Option<String>> {
        if self.violated.contains(&violation.obligation_id) {
            return Ok(None);
        }
        let id = new_id("vio");
        if self.fresh.by_id.contains_key(&violation.obligation_id) {
            self.violated.insert(violation.obligation_id.clone());
            self.fresh
                .violations
                .push((id.clone(), violation.clone(), now));
            return Ok(Some(id));
        }
        let kind = evidence_kind(violation);
        let done = sqlx::query(
            "INSERT INTO violations (id, obligation_id, party_org_id, evidence_kind, days_late, lateness_secs, details, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (obligation_id) DO NOTHING",
        )
        .bind(&id)
        .bind(&violation.obligation_id)
        .bind(&violation.party_org)
        .bind(kind)
        .bind(violation.days_late)
        .bind(violation.lateness.as_secs())
        .bind(to_json(violation))
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        self.violated.insert(violation.obligation_id.clone());
        Ok((done.rows_affected() == 1).then_some(id))
    }
}

/// The kind of evidence a violation rests on, as its own column.
fn evidence_kind(violation: &Violation) -> String {
    serde_json::to_value(&violation.evidence)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    /// The obligations of an organization, oldest first; `status` filters by state name.
    pub async fn obligations_of(
        &self,
        org_id: &str,
        status: Option<&str>,
    ) -> Result<Vec<ObligationRecord>> {
        let mut conn = self.pool.acquire().await?;
        match status {
            Some(s) => by_query(&mut conn, "party_org_id = $1 AND status = $2", &[org_id, s]).await,
            None => by_query(&mut conn, "party_org_id = $1", &[org_id]).await,
        }
    }

    /// Every obligation (for the platform-wide compliance view).
    pub async fn all_obligations(&self) -> Result<Vec<ObligationRecord>> {
        let mut conn = self.pool.acquire().await?;
        by_query(&mut conn, "1 = 1", &[]).await
    }

    /// Pending obligations whose deadline is at or before `now`.
    pub async fn overdue_candidates(&self, now: Timestamp, limit: i64) -> Result<Vec<String>> {
        ids(
            self,
            "SELECT id FROM obligations WHERE status = 'pending' AND due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT $2",
            ts(now),
            limit,
        )
        .await
    }

    /// Open obligations whose deadline has come and whose "deadline reached" reminder has not
    /// gone out.
    pub async fn due_reminder_candidates(&self, now: Timestamp, limit: i64) -> Result<Vec<String>> {
        ids(
            self,
            "SELECT id FROM obligations WHERE status IN ('pending', 'overdue') AND notified_due_at IS NULL AND due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT $2",
            ts(now),
            limit,
        )
        .await
    }

    /// Pending obligations due within `lead` of `now` whose early reminder has not gone out.
    pub async fn early_reminder_candidates(
        &self,
        now: Timestamp,
        lead: SignedDuration,
        limit: i64,
    ) -> Result<Vec<String>> {
        let horizon = now.checked_add(lead).unwrap_or(now);
        let rows = sqlx::query(
            "SELECT id FROM obligations WHERE status = 'pending' AND notified_before_at IS NULL AND due_at IS NOT NULL \
             AND due_at > $1 AND due_at <= $2 ORDER BY due_at LIMIT $3",
        )
        .bind(ts(now))
        .bind(ts(horizon))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(Into::into))
            .collect()
    }

    /// Violations, newest first; `org_id` filters by the organization in breach.
    pub async fn violations(&self, org_id: Option<&str>) -> Result<Vec<ViolationRecord>> {
        let rows = match org_id {
            Some(org) => {
                sqlx::query("SELECT id, details, recorded_at FROM violations WHERE party_org_id = $1 ORDER BY recorded_at DESC, id")
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT id, details, recorded_at FROM violations ORDER BY recorded_at DESC, id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|row| {
                Ok(ViolationRecord {
                    id: row.try_get("id")?,
                    violation: from_json("violation", &row.try_get::<String, _>("details")?)?,
                    recorded_at: from_ts(row.try_get("recorded_at")?)?,
                })
            })
            .collect()
    }
}

async fn ids(store: &Store, sql: &str, at: i64, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(sql)
        .bind(at)
        .bind(limit)
        .fetch_all(&store.pool)
        .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(Into::into))
        .collect()
}
