//! Coordinated-disclosure cases: opening, participants, vendor statements, embargo, messages.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use vulnshare_core::case::{
    Case, CaseState, Embargo, MessageAudience, Participant, ParticipantRole, VendorResponse,
    VendorStatus,
};
use vulnshare_core::gate::check_share_abroad;
use vulnshare_core::policy::Actor;
use vulnshare_core::report::ReportState;
use vulnshare_core::sharing::{can_coordinate, can_read_case, can_respond_for};
use vulnshare_core::tlp::Tlp;
use vulnshare_core::user::Role;
use vulnshare_store::CaseMessage;

use super::audit_event;
use super::report::read_report;
use crate::AppState;
use crate::error::{AppError, AppResult};

/// The country whose rules (CN Provisions Art. 9(7)) decide what may go abroad.
pub const PLATFORM_COUNTRY: &str = "CN";

/// A request to open a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// Title.
    pub title: String,
    /// The submitted reports to group (at least one).
    pub report_ids: Vec<String>,
    /// Sharing label of the case's material (default AMBER).
    #[serde(default)]
    pub tlp: Tlp,
    /// Embargo end, with the zone it was agreed in.
    #[serde(default)]
    pub embargo: Option<EmbargoRequest>,
}

/// An embargo as requested.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbargoRequest {
    /// When it ends.
    pub ends_at: Timestamp,
    /// IANA time zone, e.g. Asia/Shanghai.
    pub time_zone: String,
}

/// Opens a case. Platform staff may group any submitted reports; a member may open a case for
/// its own reports (vendors start coordination themselves) and becomes its coordinator.
pub async fn open_case(state: &AppState, actor: &Actor, new: NewCase) -> AppResult<Case> {
    actor.require_scope(vulnshare_core::token::TokenScope::Write)?;
    let now = state.clock.now();
    let mut c = vulnshare_core::validation::Collector::default();
    let title = c.text("title", &new.title, 300);
    if new.report_ids.is_empty() || new.report_ids.len() > 50 {
        c.push("report_ids", "give 1 to 50 report ids");
    }
    let embargo = match &new.embargo {
        Some(e) => match Embargo::new(e.ends_at, &e.time_zone, now) {
            Ok(e) => Some(e),
            Err(invalid) => {
                for f in invalid.0 {
                    c.push(f.field, f.message);
                }
                None
            }
        },
        None => None,
    };
    c.finish(())?;
    let mut participants: Vec<Participant> = Vec::new();
    let mut report_ids = Vec::new();
    for (i, id) in new.report_ids.iter().enumerate() {
        let report = read_report(state, actor, id).await.map_err(|_| {
            AppError::field(
                format!("report_ids[{i}]"),
                format!("no report {id} that you may see"),
            )
        })?;
        if report.state == ReportState::Draft || report.state == ReportState::Rejected {
            return Err(AppError::field(
                format!("report_ids[{i}]"),
                format!(
                    "report {id} is {}: only submitted reports are coordinated",
                    report.state.as_str()
                ),
            ));
        }
        if !actor.is_staff() && report.reporter_org_id != actor.org_id {
            return Err(AppError::field(
                format!("report_ids[{i}]"),
                "members open cases for their own reports",
            ));
        }
        if !participants
            .iter()
            .any(|p| p.org_id == report.reporter_org_id)
        {
            participants.push(Participant {
                org_id: report.reporter_org_id.clone(),
                role: ParticipantRole::Reporter,
                named_users: vec![],
                tracking_id: None,
                joined_at: now,
            });
        }
        if !report_ids.contains(&report.id) {
            report_ids.push(report.id);
        }
    }
    // The opener's organization coordinates (the platform operator when staff open it).
    match participants.iter_mut().find(|p| p.org_id == actor.org_id) {
        Some(p) => p.role = ParticipantRole::Coordinator,
        None => participants.push(Participant {
            org_id: actor.org_id.clone(),
            role: ParticipantRole::Coordinator,
            named_users: vec![],
            tracking_id: None,
            joined_at: now,
        }),
    }
    let case = Case {
        id: vulnshare_store::new_case_id(),
        title,
        tlp: new.tlp,
        state: CaseState::Open,
        report_ids,
        restricted_until: None,
        early_publication_approved_at: None,
        created_at: now,
        participants,
        vendor_responses: vec![],
        embargo,
    };
    let mut tx = state.store.begin_write().await?;
    tx.create_case(&case, &actor.user_id).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "case.open",
            "case",
            &case.id,
            json!({"reports": case.report_ids, "tlp": case.tlp, "embargo": case.embargo}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(case)
}

/// Reads a case the caller may see (an embargoed or restricted case is for participants and
/// staff only).
pub async fn read_case(state: &AppState, actor: &Actor, id: &str) -> AppResult<Case> {
    let case = state
        .store
        .case(id)
        .await
        .map_err(|_| AppError::NotFound("case"))?;
    can_read_case(actor, &case, state.clock.now())?;
    Ok(case)
}

/// A participant to add.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewParticipant {
    /// The organization.
    pub org_id: String,
    /// Its role (vendor, upstream, reporter or coordinator).
    pub role: ParticipantRole,
    /// Users who may read TLP:RED material.
    #[serde(default)]
    pub named_users: Vec<String>,
    /// Vulnerabilities (aliases or report ids) the vendor is asked about.
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
}

/// Adds (or updates) a participant. Undisclosed details go abroad only to product providers.
pub async fn add_participant(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    new: NewParticipant,
) -> AppResult<Case> {
    let case = read_case(state, actor, case_id).await?;
    can_coordinate(actor, &case)?;
    let org = state
        .store
        .organization(&new.org_id)
        .await
        .map_err(|_| AppError::field("org_id", "no such organization"))?;
    let provider = matches!(
        new.role,
        ParticipantRole::Vendor | ParticipantRole::Upstream
    );
    check_share_abroad(
        PLATFORM_COUNTRY,
        &org.country,
        provider,
        case.state != CaseState::Open,
    )
    .map_err(|refusal| AppError::Forbidden(refusal.to_string()))?;
    if new.named_users.len() > 100 || new.vulnerabilities.len() > 50 {
        return Err(AppError::field(
            "named_users",
            "at most 100 named users and 50 vulnerabilities",
        ));
    }
    for (i, u) in new.named_users.iter().enumerate() {
        let user = state
            .store
            .user(u)
            .await
            .map_err(|_| AppError::field(format!("named_users[{i}]"), "no such user"))?;
        if user.organization_id != org.id {
            return Err(AppError::field(
                format!("named_users[{i}]"),
                "a named user belongs to the participant organization",
            ));
        }
    }
    let now = state.clock.now();
    let participant = Participant {
        org_id: org.id.clone(),
        role: new.role,
        named_users: new.named_users,
        tracking_id: case
            .participant(&org.id)
            .and_then(|p| p.tracking_id.clone()),
        joined_at: case
            .participant(&org.id)
            .map(|p| p.joined_at)
            .unwrap_or(now),
    };
    let mut tx = state.store.begin_write().await?;
    tx.upsert_participant(case_id, &participant).await?;
    let vulnerabilities = if new.vulnerabilities.is_empty() {
        case.report_ids.clone()
    } else {
        new.vulnerabilities
    };
    if provider {
        for v in &vulnerabilities {
            if !case
                .vendor_responses
                .iter()
                .any(|r| r.org_id == org.id && &r.vulnerability == v)
            {
                tx.upsert_vendor_response(case_id, &VendorResponse::awaiting(&org.id, v))
                    .await?;
            }
        }
    }
    tx.notify(
        &org.id,
        None,
        "case.invited",
        case_id,
        &json!({"case_id": case_id, "title": case.title, "role": participant.role}),
        now,
    )
    .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "case.participant",
            "case",
            case_id,
            json!({"org_id": org.id, "role": participant.role}),
        ),
    )
    .await?;
    tx.commit().await?;
    read_case(state, actor, case_id).await
}

/// A vendor's statement.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorStatement {
    /// The vulnerability (alias or report id).
    pub vulnerability: String,
    /// Status.
    pub status: VendorStatus,
    /// Statement text.
    #[serde(default)]
    pub statement: Option<String>,
    /// The vendor's own tracking id for the case.
    #[serde(default)]
    pub tracking_id: Option<String>,
}

/// Records a vendor's status for one vulnerability.
pub async fn respond(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    vendor_org_id: &str,
    s: VendorStatement,
) -> AppResult<Case> {
    let case = read_case(state, actor, case_id).await?;
    can_respond_for(actor, &case, vendor_org_id)?;
    let Some(participant) = case.participant(vendor_org_id) else {
        return Err(AppError::NotFound("participant"));
    };
    let mut c = vulnshare_core::validation::Collector::default();
    let vulnerability = c.text("vulnerability", &s.vulnerability, 100);
    let statement = c.optional_text("statement", s.statement.as_deref(), 10_000);
    let tracking_id = c.optional_text("tracking_id", s.tracking_id.as_deref(), 100);
    c.finish(())?;
    let now = state.clock.now();
    let response = VendorResponse {
        org_id: vendor_org_id.to_owned(),
        vulnerability,
        status: s.status,
        statement,
        responded_at: Some(now),
    };
    let mut tx = state.store.begin_write().await?;
    tx.upsert_vendor_response(case_id, &response).await?;
    if tracking_id.is_some() {
        let mut p = participant.clone();
        p.tracking_id = tracking_id;
        tx.upsert_participant(case_id, &p).await?;
    }
    tx.audit(now, audit_event(Some(actor), "case.vendor_status", "case", case_id, json!({"vendor": vendor_org_id, "vulnerability": response.vulnerability, "status": response.status})))
        .await?;
    tx.commit().await?;
    read_case(state, actor, case_id).await
}

/// Sets or lifts the embargo.
pub async fn set_embargo(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    embargo: Option<EmbargoRequest>,
) -> AppResult<Case> {
    let case = read_case(state, actor, case_id).await?;
    can_coordinate(actor, &case)?;
    let now = state.clock.now();
    let embargo = embargo
        .map(|e| Embargo::new(e.ends_at, &e.time_zone, now))
        .transpose()?;
    let mut tx = state.store.begin_write().await?;
    tx.set_embargo(case_id, embargo.as_ref(), now).await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "case.embargo",
            "case",
            case_id,
            json!({"embargo": embargo}),
        ),
    )
    .await?;
    tx.commit().await?;
    read_case(state, actor, case_id).await
}

/// The regulator approves publishing before a fix exists or the embargo ends.
pub async fn approve_early_publication(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
) -> AppResult<Case> {
    let case = read_case(state, actor, case_id).await?;
    actor.require_scope(vulnshare_core::token::TokenScope::Write)?;
    if !actor.has(Role::Regulator) {
        return Err(AppError::Forbidden(
            "only the regulator approves early publication".into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    tx.approve_early_publication(&case.id, &actor.user_id, now)
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "case.early_publication_approved",
            "case",
            &case.id,
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    read_case(state, actor, case_id).await
}

/// A message to post.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Text.
    pub body: String,
    /// Audience (default: all participants).
    #[serde(default)]
    pub audience: Option<MessageAudience>,
}

/// Posts a message to the case.
pub async fn post_message(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    m: NewMessage,
) -> AppResult<CaseMessage> {
    let case = read_case(state, actor, case_id).await?;
    actor.require_scope(vulnshare_core::token::TokenScope::Write)?;
    let mut c = vulnshare_core::validation::Collector::default();
    let body = c.text("body", &m.body, 20_000);
    let audience = m.audience.unwrap_or(MessageAudience::AllParticipants);
    if let MessageAudience::Organizations { org_ids } = &audience {
        c.max_items("audience.org_ids", org_ids, 100);
        for (i, o) in org_ids.iter().enumerate() {
            if !case.is_participant(o) {
                c.push(
                    format!("audience.org_ids[{i}]"),
                    "not a participant of this case",
                );
            }
        }
    }
    c.finish(())?;
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    let message = tx
        .add_case_message(
            case_id,
            &actor.user_id,
            &actor.org_id,
            &audience,
            &body,
            now,
        )
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "case.message",
            "case",
            case_id,
            json!({"message_id": message.id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(message)
}

/// The messages of a case the caller may read.
pub async fn messages(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
) -> AppResult<Vec<CaseMessage>> {
    let case = read_case(state, actor, case_id).await?;
    let all = state.store.case_messages(case_id).await?;
    Ok(all
        .into_iter()
        .filter(|m| {
            actor.is_staff() || case.message_visible(&m.audience, &m.author_org_id, &actor.org_id)
        })
        .collect())
}

/// Whether a fix or mitigation exists for the case: one of its reports says so.
pub async fn fix_available(state: &AppState, case: &Case) -> AppResult<bool> {
    for id in &case.report_ids {
        let r = state.store.report(id).await?;
        if matches!(
            r.state,
            ReportState::FixAvailable | ReportState::Published | ReportState::Closed
        ) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An attachment as uploaded (content in base64 inside the JSON body).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAttachment {
    /// File name.
    pub name: String,
    /// Media type (default application/octet-stream).
    #[serde(default)]
    pub media_type: Option<String>,
    /// The content, base64.
    pub content_base64: String,
    /// Whether it is exploit code (then it never goes public).
    #[serde(default)]
    pub exploit_code: bool,
}

/// Largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 4 << 20;

/// Attaches a file to a case (any participant may).
pub async fn attach(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    new: NewAttachment,
) -> AppResult<vulnshare_store::Attachment> {
    use base64::Engine;
    use sha2::Digest;
    let case = read_case(state, actor, case_id).await?;
    actor.require_scope(vulnshare_core::token::TokenScope::Write)?;
    let mut c = vulnshare_core::validation::Collector::default();
    let name = c.text("name", &new.name, 200);
    if name.contains(['/', '\\']) {
        c.push("name", "a file name without folders");
    }
    let media_type = c
        .optional_text("media_type", new.media_type.as_deref(), 100)
        .unwrap_or_else(|| "application/octet-stream".into());
    let content = match base64::engine::general_purpose::STANDARD.decode(new.content_base64.trim())
    {
        Ok(bytes) if bytes.len() <= MAX_ATTACHMENT_BYTES => bytes,
        Ok(_) => {
            c.push(
                "content_base64",
                format!("an attachment is at most {MAX_ATTACHMENT_BYTES} bytes"),
            );
            Vec::new()
        }
        Err(e) => {
            c.push("content_base64", format!("not base64: {e}"));
            Vec::new()
        }
    };
    c.finish(())?;
    let now = state.clock.now();
    let a = vulnshare_store::Attachment {
        id: vulnshare_store::new_attachment_id(),
        case_id: case.id.clone(),
        name,
        media_type,
        exploit_code: new.exploit_code,
        size: content.len() as i64,
        sha256: hex::encode(sha2::Sha256::digest(&content)),
        uploaded_by: actor.user_id.clone(),
        uploaded_at: now,
    };
    let mut tx = state.store.begin_write().await?;
    tx.add_attachment(&a, &content).await?;
    tx.audit(now, audit_event(Some(actor), "case.attachment", "case", &case.id, json!({"attachment_id": a.id, "name": a.name, "exploit_code": a.exploit_code, "sha256": a.sha256})))
        .await?;
    tx.commit().await?;
    Ok(a)
}
