//! Reports table, with the alias and package indexes used for search and correlation.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::report::{Report, ReportContent, ReportKind, ReportState, report_id};
use vulnshare_core::tlp::Tlp;

use crate::codec::{fetch_by_id, from_json, from_opt_ts, from_ts, to_json, ts};
use crate::rows::{Rows, int, opt_float, opt_int, text};
use crate::{Result, Store, StoreError, WriteTx};

const COLUMNS: &str = "seq, id, reporter_org_id, created_by, state, content, duplicate_of, rejection_reason, received_at, created_at, updated_at";

fn report(row: &AnyRow) -> Result<Report> {
    let state: String = row.try_get("state")?;
    Ok(Report {
        id: row.try_get("id")?,
        reporter_org_id: row.try_get("reporter_org_id")?,
        created_by: row.try_get("created_by")?,
        state: ReportState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("report state {state:?}")))?,
        duplicate_of: row.try_get("duplicate_of")?,
        rejection_reason: row.try_get("rejection_reason")?,
        received_at: from_opt_ts(row.try_get("received_at")?)?,
        created_at: from_ts(row.try_get("created_at")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
        content: from_json("report content", &row.try_get::<String, _>("content")?)?,
    })
}

/// Which reports a listing may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Only the reports of one organization (drafts included).
    Organization(String),
    /// Platform staff: every submitted report, plus their own organization's drafts.
    Staff {
        /// The staff member's organization.
        own_org: String,
    },
}

/// Filters for listing reports; `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Only this state.
    pub state: Option<ReportState>,
    /// Only this kind.
    pub kind: Option<ReportKind>,
    /// Only this TLP label.
    pub tlp: Option<Tlp>,
    /// Only reports filed by this organization.
    pub reporter_org_id: Option<String>,
    /// Only reports carrying this alias (e.g. a CVE id).
    pub alias: Option<String>,
    /// Only reports naming this package (ecosystem, name).
    pub package: Option<(String, String)>,
    /// Title contains this text (case-insensitive).
    pub title_contains: Option<String>,
    /// Received at or after.
    pub received_from: Option<Timestamp>,
    /// Received before.
    pub received_until: Option<Timestamp>,
}

/// One page of reports, newest first.
#[derive(Debug, Clone)]
pub struct ReportPage {
    /// The reports.
    pub items: Vec<Report>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<i64>,
}

/// Report numbers taken in one transaction: the first from the database, the rest counted on
/// in memory and written back at commit.
pub(crate) struct ReportNumbers {
    year: i64,
    last: i64,
    written: i64,
}

impl WriteTx {
    /// Writes back the last report number taken in this transaction.
    pub(crate) async fn write_report_numbers(&mut self) -> Result<()> {
        let Some(n) = &mut self.report_numbers else {
            return Ok(());
        };
        if n.last > n.written {
            let (year, last) = (n.year, n.last);
            n.written = last;
            sqlx::query("UPDATE report_counters SET last = $1 WHERE year = $2")
                .bind(last)
                .bind(year)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Files a new report. `received_at` is set when it is submitted straight away.
    pub async fn create_report(
        &mut self,
        reporter_org_id: &str,
        created_by: &str,
        content: &ReportContent,
        state: ReportState,
        received_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Report> {
        let civil_year = now.to_zoned(jiff::tz::TimeZone::UTC).year();
        let year = i64::from(civil_year);
        let number = match &mut self.report_numbers {
            // Another report this year in this transaction: the counter's row is ours until
            // commit (the audit head keeps every other writer out), so count on in memory.
            Some(n) if n.year == year => {
                n.last += 1;
                n.last
            }
            _ => {
                self.write_report_numbers().await?;
                let last: i64 = sqlx::query(
                    "INSERT INTO report_counters (year, last) VALUES ($1, 1) \
                     ON CONFLICT (year) DO UPDATE SET last = report_counters.last + 1 RETURNING last",
                )
                .bind(year)
                .fetch_one(self.conn())
                .await?
                .try_get("last")?;
                self.report_numbers = Some(ReportNumbers {
                    year,
                    last,
                    written: last,
                });
                last
            }
        };
        let r = Report {
            id: report_id(civil_year, number),
            reporter_org_id: reporter_org_id.to_owned(),
            created_by: created_by.to_owned(),
            state,
            duplicate_of: None,
            rejection_reason: None,
            received_at,
            created_at: now,
            updated_at: now,
            content: content.clone(),
        };
        // Written at commit (or before anything else in this transaction reads reports), with
        // the other reports filed in it: see `write_fresh_reports`.
        self.fresh_reports.push(r.clone());
        self.fresh.add_subject(&r.id);
        Ok(r)
    }

    /// Writes the reports created in this transaction, with the aliases and packages they
    /// are found by: several rows per statement. Until then only `reports_matching_of_others`
    /// (which adds them from memory) and `report`, `update_report_content`,
    /// `set_report_state` and `create_case` (which call this first) could look for them.
    pub(crate) async fn write_fresh_reports(&mut self) -> Result<()> {
        let fresh = std::mem::take(&mut self.fresh_reports);
        if fresh.is_empty() {
            return Ok(());
        }
        self.remembered.reports_changed();
        let mut rows = Rows::new(
            "reports",
            &[
                "id",
                "reporter_org_id",
                "created_by",
                "kind",
                "state",
                "tlp",
                "title",
                "cvss_score",
                "content",
                "content_hash",
                "aware_at",
                "received_at",
                "created_at",
                "updated_at",
            ],
        );
        let (mut aliases, mut packages) = (alias_rows(), package_rows());
        for r in &fresh {
            let content = &r.content;
            rows.push([
                text(r.id.as_str()),
                text(r.reporter_org_id.as_str()),
                text(r.created_by.as_str()),
                text(content.kind.as_str()),
                text(r.state.as_str()),
                text(content.tlp.as_str()),
                text(content.title.as_str()),
                opt_float(content.cvss().map(|c| c.score)),
                text(to_json(content)),
                text(content.content_hash()),
                opt_int(content.aware_at.map(ts)),
                opt_int(r.received_at.map(ts)),
                int(ts(r.created_at)),
                int(ts(r.updated_at)),
            ]);
            push_index_rows(
                &mut aliases,
                &mut packages,
                &r.id,
                &r.reporter_org_id,
                content,
            );
        }
        self.insert_rows(rows, "").await?;
        self.insert_rows(aliases, "").await?;
        self.insert_rows(packages, "").await?;
        Ok(())
    }

    /// Replaces the aliases and packages a report of `reporter_org_id` is found by.
    async fn reindex_report(
        &mut self,
        id: &str,
        reporter_org_id: &str,
        content: &ReportContent,
    ) -> Result<()> {
        sqlx::query("DELETE FROM report_aliases WHERE report_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM report_packages WHERE report_id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        let (mut aliases, mut packages) = (alias_rows(), package_rows());
        push_index_rows(&mut aliases, &mut packages, id, reporter_org_id, content);
        self.insert_rows(aliases, "").await?;
        self.insert_rows(packages, "").await
    }

    /// Reads a report inside the transaction (writers are serialised, so it cannot change
    /// under us before commit).
    pub async fn report(&mut self, id: &str) -> Result<Report> {
        self.write_fresh_reports().await?;
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1");
        fetch_by_id(self.conn(), &sql, id, "report", report).await
    }

    /// Replaces a report's content.
    pub async fn update_report_content(
        &mut self,
        id: &str,
        content: &ReportContent,
        now: Timestamp,
    ) -> Result<()> {
        self.write_fresh_reports().await?;
        self.remembered.reports_changed();
        let updated = sqlx::query(
            "UPDATE reports SET kind = $1, tlp = $2, title = $3, cvss_score = CAST($4 AS DOUBLE PRECISION), content = $5, content_hash = $6, aware_at = $7, updated_at = $8 WHERE id = $9 RETURNING reporter_org_id",
        )
        .bind(content.kind.as_str())
        .bind(content.tlp.as_str())
        .bind(&content.title)
        .bind(cvss_score_param(content))
        .bind(to_json(content))
        .bind(content.content_hash())
        .bind(content.aware_at.map(ts))
        .bind(ts(now))
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        match updated {
            Some(row) => {
                let org: String = row.try_get("reporter_org_id")?;
                self.reindex_report(id, &org, content).await
            }
            None => Ok(()),
        }
    }

    /// Records a state change (with the details some states carry).
    pub async fn set_report_state(&mut self, r: &Report, now: Timestamp) -> Result<()> {
        self.write_fresh_reports().await?;
        self.remembered.reports_changed();
        sqlx::query(
            "UPDATE reports SET state = $1, received_at = $2, duplicate_of = $3, rejection_reason = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(r.state.as_str())
        .bind(r.received_at.map(ts))
        .bind(r.duplicate_of.as_deref())
        .bind(r.rejection_reason.as_deref())
        .bind(ts(now))
        .bind(&r.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

fn alias_rows() -> Rows<'static> {
    Rows::new("report_aliases", &["report_id", "alias", "reporter_org_id"])
}

fn package_rows() -> Rows<'static> {
    Rows::new(
        "report_packages",
        &["report_id", "ecosystem", "name", "reporter_org_id"],
    )
}

/// The rows a report is found by: each alias, and each (ecosystem, package name) once.
fn push_index_rows<'a>(
    aliases: &mut Rows<'a>,
    packages: &mut Rows<'a>,
    id: &'a str,
    reporter_org_id: &'a str,
    content: &'a ReportContent,
) {
    for alias in &content.aliases {
        aliases.push([text(id), text(alias.as_str()), text(reporter_org_id)]);
    }
    let mut seen = std::collections::HashSet::new();
    for p in &content.affected_packages {
        if seen.insert((p.ecosystem, p.name.as_str())) {
            packages.push([
                text(id),
                text(p.ecosystem.as_str()),
                text(p.name.as_str()),
                text(reporter_org_id),
            ]);
        }
    }
}

impl Store {
    /// Reads a report.
    pub async fn report(&self, id: &str) -> Result<Report> {
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1");
        fetch_by_id(&self.pool, &sql, id, "report", report).await
    }

    /// Lists reports visible in `scope` that match `filter`, newest first, after `cursor`.
    pub async fn reports(
        &self,
        scope: &ReportScope,
        filter: &ReportFilter,
        cursor: Option<i64>,
        limit: i64,
    ) -> Result<ReportPage> {
        let mut q = Sql::new(format!("SELECT {COLUMNS} FROM reports r WHERE 1 = 1"));
        match scope {
            ReportScope::Organization(org) => {
                q.push(" AND r.reporter_org_id = ?", Value::Text(org.clone()))
            }
            ReportScope::Staff { own_org } => q.push(
                " AND (r.state <> 'draft' OR r.reporter_org_id = ?)",
                Value::Text(own_org.clone()),
            ),
        }
        if let Some(s) = filter.state {
            q.push(" AND r.state = ?", Value::Text(s.as_str().into()));
        }
        if let Some(k) = filter.kind {
            q.push(" AND r.kind = ?", Value::Text(k.as_str().into()));
        }
        if let Some(t) = filter.tlp {
            q.push(" AND r.tlp = ?", Value::Text(t.as_str().into()));
        }
        if let Some(o) = &filter.reporter_org_id {
            q.push(" AND r.reporter_org_id = ?", Value::Text(o.clone()));
        }
        if let Some(a) = &filter.alias {
            q.push(
                " AND r.id IN (SELECT report_id FROM report_aliases WHERE alias = ?)",
                Value::Text(a.clone()),
            );
        }
        if let Some((eco, name)) = &filter.package {
            q.push(
                " AND r.id IN (SELECT report_id FROM report_packages WHERE ecosystem = ?",
                Value::Text(eco.clone()),
            );
            q.push(" AND name = ?)", Value::Text(name.clone()));
        }
        if let Some(text) = &filter.title_contains {
            let escaped = text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(
                " AND LOWER(r.title) LIKE ? ESCAPE '\\'",
                Value::Text(format!("%{escaped}%")),
            );
        }
        if let Some(t) = filter.received_from {
            q.push(" AND r.received_at >= ?", Value::Int(ts(t)));
        }
        if let Some(t) = filter.received_until {
            q.push(" AND r.received_at < ?", Value::Int(ts(t)));
        }
        if let Some(c) = cursor {
            q.push(" AND r.seq < ?", Value::Int(c));
        }
        q.push(" ORDER BY r.seq DESC LIMIT ?", Value::Int(limit + 1));

        let mut query = sqlx::query(&q.sql);
        for v in q.values {
            query = match v {
                Value::Text(t) => query.bind(t),
                Value::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut last_seq = None;
        for row in rows.iter().take(limit as usize) {
            items.push(report(row)?);
            last_seq = Some(row.try_get::<i64, _>("seq")?);
        }
        let next_cursor = if rows.len() as i64 > limit {
            last_seq
        } else {
            None
        };
        Ok(ReportPage { items, next_cursor })
    }
}

/// A bind value of a dynamically built query.
enum Value {
    Text(String),
    Int(i64),
}

/// SQL built clause by clause; each `?` in a clause becomes the next `$N` placeholder, which
/// both engines accept.
struct Sql {
    sql: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(sql: String) -> Sql {
        Sql {
            sql,
            values: Vec::new(),
        }
    }

    fn push(&mut self, clause: &str, value: Value) {
        self.values.push(value);
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.values.len())));
    }
}

/// The CVSS score as a text parameter cast to DOUBLE PRECISION in SQL. sqlx's Any driver sends a
/// NULL `f64` to PostgreSQL as a `float4` parameter, and a statement prepared that way on a pooled
/// connection then refuses a later non-NULL `float8` ("incorrect binary data format"); a text
/// parameter has the same type whether or not it is NULL. Rust prints `f64` so that it parses
/// back to the same value.
fn cvss_score_param(content: &ReportContent) -> Option<String> {
    content.cvss().map(|c| c.score.to_string())
}
