//! CVE Services tables: CNAs (an organization's short name and id quota), reserved CVE ids and
//! the CNA containers of published or rejected records.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::cve::{CveId, CveState, FIRST_SEQUENCE};

use crate::codec::{from_json, from_opt_ts, from_ts, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// An organization acting as a CVE Numbering Authority.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cna {
    /// The organization.
    pub organization_id: String,
    /// Its CVE Services short name (`CVE-API-ORG`).
    pub short_name: String,
    /// How many ids it may hold in the RESERVED state at once.
    pub id_quota: i64,
    /// When it became a CNA.
    pub created_at: Timestamp,
    /// When its short name or quota last changed.
    pub updated_at: Timestamp,
}

/// A reserved (or since published or rejected) CVE id, with the names CVE Services shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCveId {
    /// `CVE-YYYY-NNNN`.
    pub cve_id: String,
    /// The year part.
    pub cve_year: i64,
    /// Where it stands.
    pub state: CveState,
    /// The owning organization.
    pub owning_org_id: String,
    /// The owning CNA's short name.
    pub owning_short_name: String,
    /// The short name of the CNA that asked for it.
    pub requested_by_short_name: String,
    /// The username (e-mail) of the user who asked for it.
    pub requested_by_username: String,
    /// When it was reserved.
    pub reserved_at: Timestamp,
    /// When its state last changed.
    pub updated_at: Timestamp,
    /// Whether a record (CNA container) exists for it.
    pub has_record: bool,
}

/// The CNA container of a published or rejected CVE id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCveRecord {
    /// The CVE id.
    pub cve_id: String,
    /// The container as received (with provider metadata set by the server).
    pub cna_container: serde_json::Value,
    /// When it was first published.
    pub date_published: Option<Timestamp>,
    /// When it was rejected.
    pub date_rejected: Option<Timestamp>,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Which CVE ids to list, CVE Services' `GET /cve-id` filters.
#[derive(Debug, Clone, Default)]
pub struct CveIdFilter {
    /// Only ids owned by this organization.
    pub owning_org_id: String,
    /// Only ids in this state.
    pub state: Option<CveState>,
    /// Only ids of this year.
    pub year: Option<i64>,
    /// Reserved before.
    pub reserved_before: Option<Timestamp>,
    /// Reserved after.
    pub reserved_after: Option<Timestamp>,
    /// Changed before.
    pub modified_before: Option<Timestamp>,
    /// Changed after.
    pub modified_after: Option<Timestamp>,
}

const ID_SELECT: &str = "SELECT i.cve_id, i.cve_year, i.state, i.owning_org_id, o.short_name AS owning_short_name, \
     COALESCE(r.short_name, o.short_name) AS requested_by_short_name, u.email AS requested_by_username, \
     i.reserved_at, i.updated_at, rec.cve_id AS record_id \
     FROM cve_ids i JOIN cve_cnas o ON o.organization_id = i.owning_org_id \
     LEFT JOIN cve_cnas r ON r.organization_id = i.requested_by_org_id \
     JOIN users u ON u.id = i.requested_by_user_id \
     LEFT JOIN cve_records rec ON rec.cve_id = i.cve_id";

fn cna(row: &AnyRow) -> Result<Cna> {
    Ok(Cna {
        organization_id: row.try_get("organization_id")?,
        short_name: row.try_get("short_name")?,
        id_quota: row.try_get("id_quota")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
    })
}

fn cve_id(row: &AnyRow) -> Result<StoredCveId> {
    let state: String = row.try_get("state")?;
    Ok(StoredCveId {
        cve_id: row.try_get("cve_id")?,
        cve_year: row.try_get("cve_year")?,
        state: CveState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("CVE id state {state:?}")))?,
        owning_org_id: row.try_get("owning_org_id")?,
        owning_short_name: row.try_get("owning_short_name")?,
        requested_by_short_name: row.try_get("requested_by_short_name")?,
        requested_by_username: row.try_get("requested_by_username")?,
        reserved_at: from_ts(row.try_get("reserved_at")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
        has_record: row.try_get::<Option<String>, _>("record_id")?.is_some(),
    })
}

fn record(row: &AnyRow) -> Result<StoredCveRecord> {
    Ok(StoredCveRecord {
        cve_id: row.try_get("cve_id")?,
        cna_container: from_json("CNA container", &row.try_get::<String, _>("cna_container")?)?,
        date_published: from_opt_ts(row.try_get("date_published")?)?,
        date_rejected: from_opt_ts(row.try_get("date_rejected")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
    })
}

/// `WHERE` clause and its text/number arguments for a filter (numbered from `$1`).
fn filter_sql(f: &CveIdFilter) -> (String, Vec<FilterArg>) {
    let mut clauses = vec!["i.owning_org_id = $1".to_owned()];
    let mut args = vec![FilterArg::Text(f.owning_org_id.clone())];
    let mut push = |clause: &str, arg: FilterArg| {
        args.push(arg);
        clauses.push(clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(s) = f.state {
        push("i.state = ?", FilterArg::Text(s.as_str().to_owned()));
    }
    if let Some(y) = f.year {
        push("i.cve_year = ?", FilterArg::Int(y));
    }
    if let Some(t) = f.reserved_before {
        push("i.reserved_at < ?", FilterArg::Int(ts(t)));
    }
    if let Some(t) = f.reserved_after {
        push("i.reserved_at > ?", FilterArg::Int(ts(t)));
    }
    if let Some(t) = f.modified_before {
        push("i.updated_at < ?", FilterArg::Int(ts(t)));
    }
    if let Some(t) = f.modified_after {
        push("i.updated_at > ?", FilterArg::Int(ts(t)));
    }
    (format!(" WHERE {}", clauses.join(" AND ")), args)
}

enum FilterArg {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &'q [FilterArg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            FilterArg::Text(s) => q.bind(s.as_str()),
            FilterArg::Int(n) => q.bind(*n),
        };
    }
    q
}

impl WriteTx {
    /// Makes an organization a CNA, or changes its short name and quota.
    pub async fn set_cna(
        &mut self,
        org_id: &str,
        short_name: &str,
        id_quota: i64,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO cve_cnas (organization_id, short_name, id_quota, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (organization_id) DO UPDATE SET short_name = $2, id_quota = $3, updated_at = $4",
        )
        .bind(org_id)
        .bind(short_name)
        .bind(id_quota)
        .bind(ts(now))
        .execute(self.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, || {
                format!("another organization already has the CNA short name {short_name:?}")
            })
        })?;
        Ok(())
    }

    /// How many ids `org_id` holds in the RESERVED state, read under the write lock so that
    /// concurrent reservations cannot both pass the quota check.
    pub async fn reserved_cve_count(&mut self, org_id: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM cve_ids WHERE owning_org_id = $1 AND state = 'RESERVED'",
        )
        .bind(org_id)
        .fetch_one(self.conn())
        .await?
        .try_get("n")?)
    }

    /// Takes the next `amount` sequential numbers of `year` (the first year starts at
    /// [`FIRST_SEQUENCE`]).
    pub async fn next_cve_sequences(&mut self, year: i16, amount: i64) -> Result<Vec<i64>> {
        let last: i64 = sqlx::query(
            "INSERT INTO cve_counters (year, last) VALUES ($1, $2) \
             ON CONFLICT (year) DO UPDATE SET last = cve_counters.last + $3 RETURNING last",
        )
        .bind(i64::from(year))
        .bind(FIRST_SEQUENCE - 1 + amount)
        .bind(amount)
        .fetch_one(self.conn())
        .await?
        .try_get("last")?;
        Ok((last - amount + 1..=last).collect())
    }

    /// Reserves `id` for `org_id`, asked by `user_id`; `false` when the number is taken.
    pub async fn insert_cve_id(
        &mut self,
        id: CveId,
        org_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO cve_ids (cve_id, cve_year, sequence, state, owning_org_id, requested_by_org_id, requested_by_user_id, reserved_at, updated_at) \
             VALUES ($1, $2, $3, 'RESERVED', $4, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(i64::from(id.year))
        .bind(id.sequence)
        .bind(org_id)
        .bind(user_id)
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a CVE id to `state`.
    pub async fn set_cve_id_state(
        &mut self,
        cve_id: &str,
        state: CveState,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE cve_ids SET state = $1, updated_at = $2 WHERE cve_id = $3")
            .bind(state.as_str())
            .bind(ts(now))
            .bind(cve_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("CVE id"));
        }
        Ok(())
    }

    /// Gives `cve_id` to the organization `org_id` (a transfer between CNAs).
    pub async fn set_cve_id_owner(
        &mut self,
        cve_id: &str,
        org_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE cve_ids SET owning_org_id = $1, updated_at = $2 WHERE cve_id = $3")
                .bind(org_id)
                .bind(ts(now))
                .bind(cve_id)
                .execute(self.conn())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("CVE id"));
        }
        Ok(())
    }

    /// Stores (or replaces) the CNA container of `cve_id`.
    pub async fn put_cve_record(&mut self, r: &StoredCveRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO cve_records (cve_id, cna_container, date_published, date_rejected, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (cve_id) DO UPDATE SET cna_container = $2, date_published = $3, date_rejected = $4, updated_at = $5",
        )
        .bind(&r.cve_id)
        .bind(to_json(&r.cna_container))
        .bind(r.date_published.map(ts))
        .bind(r.date_rejected.map(ts))
        .bind(ts(r.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Revokes every live token of `user_id` called `name` (an API key being replaced).
    pub async fn revoke_tokens_named(
        &mut self,
        user_id: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<u64> {
        self.credentials_changed();
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND name = $3 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(user_id)
        .bind(name)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// The CNA with `short_name`.
    pub async fn cna_by_short_name(&self, short_name: &str) -> Result<Cna> {
        let row = sqlx::query("SELECT organization_id, short_name, id_quota, created_at, updated_at FROM cve_cnas WHERE short_name = $1")
            .bind(short_name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(cna)
            .transpose()?
            .ok_or(StoreError::NotFound("CNA"))
    }

    /// How many ids `org_id` holds in the RESERVED state.
    pub async fn reserved_cve_count(&self, org_id: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM cve_ids WHERE owning_org_id = $1 AND state = 'RESERVED'",
        )
        .bind(org_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?)
    }

    /// How many ids across every CNA are in `state`.
    pub async fn cve_count(&self, state: CveState) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM cve_ids WHERE state = $1")
                .bind(state.as_str())
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    /// One CVE id.
    pub async fn cve_id(&self, id: &str) -> Result<StoredCveId> {
        let sql = format!("{ID_SELECT} WHERE i.cve_id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(cve_id)
            .transpose()?
            .ok_or(StoreError::NotFound("CVE id"))
    }

    /// A page of CVE ids matching `filter`, ordered by year and number, with the total count.
    pub async fn cve_ids(
        &self,
        filter: &CveIdFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<StoredCveId>, i64)> {
        let (where_sql, args) = filter_sql(filter);
        let count_sql = format!("SELECT COUNT(*) AS n FROM cve_ids i{where_sql}");
        let total: i64 = bind_all(sqlx::query(&count_sql), &args)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let n = args.len();
        let sql = format!(
            "{ID_SELECT}{where_sql} ORDER BY i.cve_year, i.sequence LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(&sql), &args)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        Ok((rows.iter().map(cve_id).collect::<Result<_>>()?, total))
    }

    /// The record of `cve_id`.
    pub async fn cve_record(&self, id: &str) -> Result<StoredCveRecord> {
        let row = sqlx::query("SELECT cve_id, cna_container, date_published, date_rejected, updated_at FROM cve_records WHERE cve_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(record)
            .transpose()?
            .ok_or(StoreError::NotFound("CVE record"))
    }
}
