//! Cases, their participants, vendor responses and messages.

use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use vulnshare_core::case::{
    Case, CaseState, Embargo, MessageAudience, Participant, ParticipantRole, VendorResponse,
    VendorStatus,
};
use vulnshare_core::tlp::Tlp;

use crate::codec::{from_json, from_opt_ts, from_ts, new_id, to_json, ts};
use crate::{Result, Store, StoreError, WriteTx};

/// A stored case message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseMessage {
    /// Identifier.
    pub id: String,
    /// Author.
    pub author_user_id: String,
    /// Author's organization.
    pub author_org_id: String,
    /// Who may read it.
    pub audience: MessageAudience,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: Timestamp,
}

fn role_name(r: ParticipantRole) -> &'static str {
    match r {
        ParticipantRole::Reporter => "reporter",
        ParticipantRole::Vendor => "vendor",
        ParticipantRole::Upstream => "upstream",
        ParticipantRole::Coordinator => "coordinator",
    }
}

fn parse_role(s: &str) -> Result<ParticipantRole> {
    Ok(match s {
        "reporter" => ParticipantRole::Reporter,
        "vendor" => ParticipantRole::Vendor,
        "upstream" => ParticipantRole::Upstream,
        "coordinator" => ParticipantRole::Coordinator,
        other => return Err(StoreError::Corrupt(format!("participant role {other:?}"))),
    })
}

fn status_name(s: VendorStatus) -> &'static str {
    match s {
        VendorStatus::Affected => "affected",
        VendorStatus::NotAffected => "not_affected",
        VendorStatus::UnderInvestigation => "under_investigation",
        VendorStatus::Unknown => "unknown",
    }
}

fn parse_status(s: &str) -> Result<VendorStatus> {
    Ok(match s {
        "affected" => VendorStatus::Affected,
        "not_affected" => VendorStatus::NotAffected,
        "under_investigation" => VendorStatus::UnderInvestigation,
        "unknown" => VendorStatus::Unknown,
        other => return Err(StoreError::Corrupt(format!("vendor status {other:?}"))),
    })
}

fn case_row(row: &AnyRow) -> Result<Case> {
    let tlp: String = row.try_get("tlp")?;
    let state: String = row.try_get("state")?;
    let embargo = match (
        row.try_get::<Option<i64>, _>("embargo_ends_at")?,
        row.try_get::<Option<String>, _>("embargo_time_zone")?,
    ) {
        (Some(at), Some(time_zone)) => Some(Embargo {
            ends_at: from_ts(at)?,
            time_zone,
        }),
        _ => None,
    };
    Ok(Case {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("case TLP {tlp:?}")))?,
        state: CaseState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("case state {state:?}")))?,
        report_ids: Vec::new(),
        restricted_until: from_opt_ts(row.try_get("restricted_until")?)?,
        early_publication_approved_at: from_opt_ts(row.try_get("early_approval_at")?)?,
        created_at: from_ts(row.try_get("created_at")?)?,
        participants: Vec::new(),
        vendor_responses: Vec::new(),
        embargo,
    })
}

/// The ids of the reports case `case_id` groups, in id order, on any executor (pool or
/// transaction).
async fn report_ids<'e, E>(executor: E, case_id: &str) -> Result<Vec<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT report_id FROM case_reports WHERE case_id = $1 ORDER BY report_id")
        .bind(case_id)
        .fetch_all(executor)
        .await?
        .iter()
        .map(|r| r.try_get("report_id").map_err(Into::into))
        .collect()
}

const CASE_COLUMNS: &str = "id, title, tlp, state, embargo_ends_at, embargo_time_zone, restricted_until, early_approval_at, created_at";

impl WriteTx {
    /// Opens a case grouping `report_ids`, with its first participants.
    pub async fn create_case(&mut self, case: &Case, created_by: &str) -> Result<()> {
        self.write_fresh_reports().await?;
        sqlx::query(
            "INSERT INTO cases (id, title, tlp, state, embargo_ends_at, embargo_time_zone, restricted_until, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&case.id)
        .bind(&case.title)
        .bind(case.tlp.as_str())
        .bind(case.state.as_str())
        .bind(case.embargo.as_ref().map(|e| ts(e.ends_at)))
        .bind(case.embargo.as_ref().map(|e| e.time_zone.clone()))
        .bind(case.restricted_until.map(ts))
        .bind(created_by)
        .bind(ts(case.created_at))
        .execute(self.conn())
        .await?;
        for r in &case.report_ids {
            sqlx::query("INSERT INTO case_reports (case_id, report_id) VALUES ($1, $2)")
                .bind(&case.id)
                .bind(r)
                .execute(self.conn())
                .await?;
        }
        for p in &case.participants {
            self.upsert_participant(&case.id, p).await?;
        }
        for v in &case.vendor_responses {
            self.upsert_vendor_response(&case.id, v).await?;
        }
        Ok(())
    }

    /// Adds a participant, or updates its role, named users and tracking id.
    pub async fn upsert_participant(&mut self, case_id: &str, p: &Participant) -> Result<()> {
        self.insert_participant(
            case_id,
            p,
            "DO UPDATE SET role = excluded.role, named_users = excluded.named_users, tracking_id = excluded.tracking_id",
        )
        .await?;
        Ok(())
    }

    /// Adds `p` to the case unless its organization already takes part (whatever its role);
    /// returns whether it was added. Whether it takes part needs no read of the case, so the
    /// cost does not grow with the number of participants.
    pub async fn add_participant_if_absent(
        &mut self,
        case_id: &str,
        p: &Participant,
    ) -> Result<bool> {
        Ok(self.insert_participant(case_id, p, "DO NOTHING").await? == 1)
    }

    /// Inserts `p`, doing `on_conflict` when its organization already takes part; returns the
    /// rows inserted or updated.
    async fn insert_participant(
        &mut self,
        case_id: &str,
        p: &Participant,
        on_conflict: &'static str,
    ) -> Result<u64> {
        let sql = format!(
            "INSERT INTO case_participants (case_id, org_id, role, named_users, tracking_id, joined_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (case_id, org_id) {on_conflict}"
        );
        let rows = sqlx::query(&sql)
            .bind(case_id)
            .bind(&p.org_id)
            .bind(role_name(p.role))
            .bind(to_json(&p.named_users))
            .bind(p.tracking_id.as_deref())
            .bind(ts(p.joined_at))
            .execute(self.conn())
            .await?
            .rows_affected();
        if rows > 0 {
            self.advisory_catalog_changed();
        }
        Ok(rows)
    }

    /// The ids of the reports a case groups, in id order, as of this transaction.
    pub async fn case_report_ids(&mut self, case_id: &str) -> Result<Vec<String>> {
        report_ids(self.conn(), case_id).await
    }

    /// Records a vendor's status for one vulnerability.
    pub async fn upsert_vendor_response(
        &mut self,
        case_id: &str,
        v: &VendorResponse,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO vendor_responses (case_id, org_id, vulnerability, status, statement, responded_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (case_id, org_id, vulnerability) DO UPDATE SET status = excluded.status, statement = excluded.statement, responded_at = excluded.responded_at",
        )
        .bind(case_id)
        .bind(&v.org_id)
        .bind(&v.vulnerability)
        .bind(status_name(v.status))
        .bind(v.statement.as_deref())
        .bind(v.responded_at.map(ts))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Sets or clears the embargo.
    pub async fn set_embargo(
        &mut self,
        case_id: &str,
        embargo: Option<&Embargo>,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE cases SET embargo_ends_at = $1, embargo_time_zone = $2, updated_at = $3 WHERE id = $4")
            .bind(embargo.map(|e| ts(e.ends_at)))
            .bind(embargo.map(|e| e.time_zone.clone()))
            .bind(ts(now))
            .bind(case_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records the regulator's approval of early publication.
    pub async fn approve_early_publication(
        &mut self,
        case_id: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE cases SET early_approval_by = $1, early_approval_at = $2, updated_at = $2 WHERE id = $3")
            .bind(by)
            .bind(ts(now))
            .bind(case_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Changes the case's state.
    pub async fn set_case_state(
        &mut self,
        case_id: &str,
        state: CaseState,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(ts(now))
            .bind(case_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Posts a message.
    pub async fn add_case_message(
        &mut self,
        case_id: &str,
        author_user_id: &str,
        author_org_id: &str,
        audience: &MessageAudience,
        body: &str,
        now: Timestamp,
    ) -> Result<CaseMessage> {
        let m = CaseMessage {
            id: new_id("msg"),
            author_user_id: author_user_id.to_owned(),
            author_org_id: author_org_id.to_owned(),
            audience: audience.clone(),
            body: body.to_owned(),
            created_at: now,
        };
        sqlx::query("INSERT INTO case_messages (id, case_id, author_user_id, author_org_id, audience, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&m.id)
            .bind(case_id)
            .bind(&m.author_user_id)
            .bind(&m.author_org_id)
            .bind(to_json(&m.audience))
            .bind(&m.body)
            .bind(ts(now))
            .execute(self.conn())
            .await?;
        Ok(m)
    }
}

impl Store {
    /// Reads a case with its reports, participants and vendor responses.
    pub async fn case(&self, id: &str) -> Result<Case> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let mut case = crate::codec::fetch_by_id(&self.pool, &sql, id, "case", case_row).await?;
        case.report_ids = report_ids(&self.pool, id).await?;
        for row in sqlx::query("SELECT org_id, role, named_users, tracking_id, joined_at FROM case_participants WHERE case_id = $1 ORDER BY joined_at, org_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
        {
            case.participants.push(Participant {
                org_id: row.try_get("org_id")?,
                role: parse_role(&row.try_get::<String, _>("role")?)?,
                named_users: from_json("named users", &row.try_get::<String, _>("named_users")?)?,
                tracking_id: row.try_get("tracking_id")?,
                joined_at: from_ts(row.try_get("joined_at")?)?,
            });
        }
        for row in sqlx::query("SELECT org_id, vulnerability, status, statement, responded_at FROM vendor_responses WHERE case_id = $1 ORDER BY org_id, vulnerability")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
        {
            case.vendor_responses.push(VendorResponse {
                org_id: row.try_get("org_id")?,
                vulnerability: row.try_get("vulnerability")?,
                status: parse_status(&row.try_get::<String, _>("status")?)?,
                statement: row.try_get("statement")?,
                responded_at: from_opt_ts(row.try_get("responded_at")?)?,
            });
        }
        Ok(case)
    }

    /// Ids of the cases `org_id` takes part in (or every case for staff), newest first.
    pub async fn case_ids(&self, org_id: Option<&str>, limit: i64) -> Result<Vec<String>> {
        let rows = match org_id {
            Some(org) => sqlx::query("SELECT c.id FROM cases c JOIN case_participants p ON p.case_id = c.id WHERE p.org_id = $1 ORDER BY c.created_at DESC, c.id LIMIT $2")
                .bind(org)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?,
            None => sqlx::query("SELECT id FROM cases ORDER BY created_at DESC, id LIMIT $1").bind(limit).fetch_all(&self.pool).await?,
        };
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    /// The cases a report belongs to.
    pub async fn cases_of_report(&self, report_id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT case_id FROM case_reports WHERE report_id = $1 ORDER BY case_id")
                .bind(report_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
            .collect()
    }

    /// A case's messages, oldest first.
    pub async fn case_messages(&self, case_id: &str) -> Result<Vec<CaseMessage>> {
        let rows = sqlx::query("SELECT id, author_user_id, author_org_id, audience, body, created_at FROM case_messages WHERE case_id = $1 ORDER BY created_at, id LIMIT 10000")
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(CaseMessage {
                    id: row.try_get("id")?,
                    author_user_id: row.try_get("author_user_id")?,
                    author_org_id: row.try_get("author_org_id")?,
                    audience: from_json(
                        "message audience",
                        &row.try_get::<String, _>("audience")?,
                    )?,
                    body: row.try_get("body")?,
                    created_at: from_ts(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }
}

/// A new case id.
pub fn new_case_id() -> String {
    new_id("case")
}

/// A case attachment's description (the content is read separately).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    /// Identifier.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Flagged as exploit code: it never goes public.
    pub exploit_code: bool,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: Timestamp,
}

const ATTACHMENT_COLUMNS: &str =
    "id, case_id, name, media_type, exploit_code, size, sha256, uploaded_by, uploaded_at";

fn attachment_row(row: &AnyRow) -> Result<Attachment> {
    Ok(Attachment {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        name: row.try_get("name")?,
        media_type: row.try_get("media_type")?,
        exploit_code: row.try_get::<i64, _>("exploit_code")? != 0,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: from_ts(row.try_get("uploaded_at")?)?,
    })
}

impl WriteTx {
    /// Stores an attachment with its content.
    pub async fn add_attachment(&mut self, a: &Attachment, content: &[u8]) -> Result<()> {
        sqlx::query(&format!("INSERT INTO case_attachments ({ATTACHMENT_COLUMNS}, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(&a.id)
            .bind(&a.case_id)
            .bind(&a.name)
            .bind(&a.media_type)
            .bind(i64::from(a.exploit_code))
            .bind(a.size)
            .bind(&a.sha256)
            .bind(&a.uploaded_by)
            .bind(ts(a.uploaded_at))
            .bind(content.to_vec())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

impl Store {
    /// The attachments of a case, oldest first.
    pub async fn attachments_of(&self, case_id: &str) -> Result<Vec<Attachment>> {
        let rows = sqlx::query(&format!("SELECT {ATTACHMENT_COLUMNS} FROM case_attachments WHERE case_id = $1 ORDER BY uploaded_at, id LIMIT 1000"))
            .bind(case_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attachment_row).collect()
    }

    /// An attachment with its content.
    pub async fn attachment(&self, id: &str) -> Result<(Attachment, Vec<u8>)> {
        let row = sqlx::query(&format!(
            "SELECT {ATTACHMENT_COLUMNS}, content FROM case_attachments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("attachment"))?;
        Ok((attachment_row(&row)?, row.try_get("content")?))
    }
}

/// A new attachment id.
pub fn new_attachment_id() -> String {
    new_id("att")
}
