//! Upstream notifications on record, and the lookups that correlate a new report with earlier
//! awareness of the same vulnerability (shared alias, or same ecosystem and package name).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::awareness::{NewUpstreamNotification, UpstreamNotification};
use vulnshare_core::report::{Report, ReportState};

use crate::codec::{from_json, from_opt_ts, from_ts, new_id, to_json, ts};
use crate::{Result, Store, WriteTx};

const COLUMNS: &str = "id, organization_id, details, recorded_by, recorded_at";

fn upstream(row: &AnyRow) -> Result<UpstreamNotification> {
    let content: NewUpstreamNotification = from_json(
        "upstream notification",
        &row.try_get::<String, _>("details")?,
    )?;
    Ok(UpstreamNotification {
        id: row.try_get("id")?,
        organization_id: row.try_get("organization_id")?,
        content,
        recorded_by: row.try_get("recorded_by")?,
        recorded_at: from_ts(row.try_get("recorded_at")?)?,
    })
}

/// A submitted report of another organization that names the same vulnerability: what
/// correlation needs of it, read in one query rather than report by report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelatedReport {
    /// The report's id.
    pub id: String,
    /// Who filed it.
    pub reporter_org_id: String,
    /// When its reporter says it learned of the vulnerability.
    pub aware_at: Option<Timestamp>,
    /// When the platform received it.
    pub received_at: Option<Timestamp>,
}

/// What identifies a vulnerability for correlation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VulnerabilityKeys {
    /// Normalised aliases (CVE, GHSA, CNVD).
    pub aliases: BTreeSet<String>,
    /// (ecosystem, package name) pairs.
    pub packages: BTreeSet<(String, String)>,
}

impl VulnerabilityKeys {
    /// The keys of a report.
    pub fn of_report(report: &Report) -> VulnerabilityKeys {
        VulnerabilityKeys {
            aliases: report.content.aliases.iter().cloned().collect(),
            packages: report
                .content
                .affected_packages
                .iter()
                .map(|p| (p.ecosystem.as_str().to_owned(), p.name.clone()))
                .collect(),
        }
    }

    /// The keys of an upstream notification.
    pub fn of_upstream(n: &NewUpstreamNotification) -> VulnerabilityKeys {
        VulnerabilityKeys {
            aliases: n.aliases.iter().cloned().collect(),
            packages: n
                .packages
                .iter()
                .map(|p| (p.ecosystem.as_str().to_owned(), p.name.clone()))
                .collect(),
        }
    }

    /// Whether there is nothing to correlate on.
    pub fn is_empty(&self) -> bool {
        self.aliases.is_empty() && self.packages.is_empty()
    }
}

impl WriteTx {
    /// Records an upstream notification (validated by core) with its correlation keys.
    pub async fn insert_upstream_notification(
        &mut self,
        organization_id: &str,
        content: &NewUpstreamNotification,
        recorded_by: &str,
        now: jiff::Timestamp,
    ) -> Result<UpstreamNotification> {
        self.remembered.upstream_notifications.clear();
        let n = UpstreamNotification {
            id: new_id("upn"),
            organization_id: organization_id.to_owned(),
            content: content.clone(),
            recorded_by: recorded_by.to_owned(),
            recorded_at: now,
        };
        sqlx::query(
            "INSERT INTO upstream_notifications (id, organization_id, report_id, notified_org, notified_at, aware_at, evidence, details, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&n.id)
        .bind(&n.organization_id)
        .bind(n.content.report_id.as_deref())
        .bind(&n.content.notified_org)
        .bind(ts(n.content.notified_at))
        .bind(ts(n.aware_at()))
        .bind(&n.content.evidence)
        .bind(to_json(&n.content))
        .bind(&n.recorded_by)
        .bind(ts(n.recorded_at))
        .execute(self.conn())
        .await?;
        let keys = VulnerabilityKeys::of_upstream(&n.content);
        for alias in &keys.aliases {
            sqlx::query("INSERT INTO upstream_notification_aliases (notification_id, alias) VALUES ($1, $2)")
                .bind(&n.id)
                .bind(alias)
                .execute(self.conn())
                .await?;
        }
        for (eco, name) in &keys.packages {
            sqlx::query("INSERT INTO upstream_notification_packages (notification_id, ecosystem, name) VALUES ($1, $2, $3)")
                .bind(&n.id)
                .bind(eco)
                .bind(name)
                .execute(self.conn())
                .await?;
        }
        Ok(n)
    }

    /// Upstream notifications sharing an alias or package with `keys`.
    pub async fn upstream_notifications_matching(
        &mut self,
        keys: &VulnerabilityKeys,
    ) -> Result<Vec<UpstreamNotification>> {
        if let Some(known) = self.remembered.upstream_notifications.get(keys) {
            return Ok(known.clone());
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for every key: each alias and each package is an index lookup.
        let mut n = 0;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        let mut branches = Vec::new();
        for _ in &keys.aliases {
            branches.push(format!(
                "SELECT notification_id FROM upstream_notification_aliases WHERE alias = {}",
                param()
            ));
        }
        for _ in &keys.packages {
            branches.push(format!(
                "SELECT notification_id FROM upstream_notification_packages WHERE ecosystem = {} AND name = {}",
                param(),
                param()
            ));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM upstream_notifications WHERE id IN ({}) ORDER BY id",
            branches.join(" UNION ")
        );
        let mut query = sqlx::query(&sql);
        for alias in &keys.aliases {
            query = query.bind(alias);
        }
        for (eco, name) in &keys.packages {
            query = query.bind(eco).bind(name);
        }
        let found = query
            .fetch_all(self.conn())
            .await?
            .iter()
            .map(upstream)
            .collect::<Result<Vec<_>>>()?;
        self.remembered
            .upstream_notifications
            .insert(keys.clone(), found.clone());
        Ok(found)
    }

    /// The submitted reports of organizations other than `other_than` that share an alias or
    /// an (ecosystem, package) with `keys`, in id order. Each key is one indexed query, however
    /// many reports match: on the day everyone reports the same CVE this runs under the write
    /// lock once per submission.
    pub async fn reports_matching_of_others(
        &mut self,
        keys: &VulnerabilityKeys,
        other_than: &str,
    ) -> Result<Vec<CorrelatedReport>> {
        let key = (keys.clone(), other_than.to_owned());
        let stored = match self.remembered.reports_matching.get(&key) {
            Some(known) => known.clone(),
            None => {
                let stored = self.stored_reports_matching(keys, other_than).await?;
                self.remembered.reports_matching.insert(key, stored.clone());
                stored
            }
        };
        let mut found: BTreeMap<String, CorrelatedReport> =
            stored.into_iter().map(|r| (r.id.clone(), r)).collect();
        // Reports created in this transaction and not written yet, found as the query finds
        // stored ones: not drafts, of another organization, sharing an alias or a package.
        for r in &self.fresh_reports {
            let shares = r.content.aliases.iter().any(|a| keys.aliases.contains(a))
                || r.content.affected_packages.iter().any(|p| {
                    keys.packages
                        .iter()
                        .any(|(eco, name)| eco == p.ecosystem.as_str() && *name == p.name)
                });
            if shares && r.state != ReportState::Draft && r.reporter_org_id != other_than {
                found
                    .entry(r.id.clone())
                    .or_insert_with(|| CorrelatedReport {
                        id: r.id.clone(),
                        reporter_org_id: r.reporter_org_id.clone(),
                        aware_at: r.content.aware_at,
                        received_at: r.received_at,
                    });
            }
        }
        Ok(found.into_values().collect())
    }

    /// [`WriteTx::reports_matching_of_others`] among the reports already written.
    async fn stored_reports_matching(
        &mut self,
        keys: &VulnerabilityKeys,
        other_than: &str,
    ) -> Result<Vec<CorrelatedReport>> {
        const COLUMNS: &str = "r.id, r.reporter_org_id, r.aware_at, r.received_at";
        let mut found = BTreeMap::new();
        let mut take = |rows: Vec<AnyRow>| -> Result<()> {
            for row in rows {
                let id: String = row.try_get("id")?;
                if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(id) {
                    let r = CorrelatedReport {
                        id: slot.key().clone(),
                        reporter_org_id: row.try_get("reporter_org_id")?,
                        aware_at: from_opt_ts(row.try_get("aware_at")?)?,
                        received_at: from_opt_ts(row.try_get("received_at")?)?,
                    };
                    slot.insert(r);
                }
            }
            Ok(())
        };
        // Two index ranges per key, organizations sorting before and after `other_than`,
        // rather than `<>`, which would walk every report of the vulnerability, its own
        // included; every key's ranges in one statement.
        let mut n = 1; // $1 is `other_than`
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        let mut branches = Vec::new();
        for _ in &keys.aliases {
            let alias = param();
            for side in ["<", ">"] {
                branches.push(format!(
                    "SELECT {COLUMNS} FROM report_aliases a JOIN reports r ON r.id = a.report_id \
                     WHERE a.alias = {alias} AND a.reporter_org_id {side} $1 AND r.state <> 'draft'"
                ));
            }
        }
        for _ in &keys.packages {
            let (eco, name) = (param(), param());
            for side in ["<", ">"] {
                branches.push(format!(
                    "SELECT {COLUMNS} FROM report_packages p JOIN reports r ON r.id = p.report_id \
                     WHERE p.ecosystem = {eco} AND p.name = {name} AND p.reporter_org_id {side} $1 AND r.state <> 'draft'"
                ));
            }
        }
        if branches.is_empty() {
            return Ok(Vec::new());
        }
        let sql = branches.join(" UNION ALL ");
        let mut query = sqlx::query(&sql).bind(other_than);
        for alias in &keys.aliases {
            query = query.bind(alias);
        }
        for (eco, name) in &keys.packages {
            query = query.bind(eco).bind(name);
        }
        take(query.fetch_all(self.conn()).await?)?;
        Ok(found.into_values().collect())
    }
}

impl Store {
    /// The upstream notifications an organization has recorded, newest first.
    pub async fn upstream_notifications_of(
        &self,
        org_id: &str,
    ) -> Result<Vec<UpstreamNotification>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM upstream_notifications WHERE organization_id = $1 ORDER BY recorded_at DESC, id"
        );
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter().map(upstream).collect()
    }
}
