//! CVE Services use cases: making an organization a CNA, reserving CVE ids within its quota,
//! publishing and rejecting records, and managing the CNA's users and API keys. Every change
//! is written with its audit entry in one transaction, like every other write of the platform.
//!
//! Errors carry CVE Services' own codes (`CVE_RECORD_EXISTS`, `EXCEEDED_ID_QUOTA`, …) because
//! its clients branch on them.

use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::cve::{
    BatchType, CveId, CveState, NONSEQUENTIAL_END, check_reservation, is_short_name, uuid_of,
};
use vulnshare_core::policy::Actor;
use vulnshare_core::token::TokenScope;
use vulnshare_core::user::{Role, User};
use vulnshare_formats::cve::container::{self, RecordMetadata};
use vulnshare_store::{Cna, Store, StoreError, StoredCveId, StoredCveRecord};

use super::audit_event;
use crate::auth::random_bytes;
use crate::error::AppError;

mod error;
mod users;

pub use error::{CveApiError, CveResult};
pub use users::*;

/// A caller of the CVE Services API: a platform user, through one of its API tokens, acting
/// for its organization's CNA.
#[derive(Debug, Clone)]
pub struct CnaActor {
    /// Who, for policy checks.
    pub actor: Actor,
    /// The user.
    pub user: User,
    /// The organization's CNA.
    pub cna: Cna,
}

impl CnaActor {
    /// Whether the caller's organization owns `id`.
    pub fn owns(&self, id: &StoredCveId) -> bool {
        id.owning_org_id == self.cna.organization_id
    }

    fn require(&self, scope: TokenScope) -> CveResult<()> {
        self.actor.require_scope(scope)?;
        if scope != TokenScope::Read && !self.actor.membership_active {
            return Err(CveApiError::new(
                403,
                "MEMBERSHIP_SUSPENDED",
                "your organization's membership is suspended; CVE ids cannot be reserved or changed until it is reinstated",
            ));
        }
        Ok(())
    }

    fn require_admin(&self) -> CveResult<()> {
        self.require(TokenScope::Admin)?;
        if self.actor.has(Role::OrgAdmin) || self.actor.has(Role::PlatformAdmin) {
            Ok(())
        } else {
            Err(CveApiError::new(
                403,
                "NOT_ORG_ADMIN_OR_SECRETARIAT",
                "only the organization's administrators (role ADMIN) manage its users",
            ))
        }
    }
}

/// Makes organization `org_id` a CNA with `short_name` and `id_quota`, or changes them
/// (operator command).
pub async fn set_cna(
    store: &Store,
    org_id: &str,
    short_name: &str,
    id_quota: i64,
    now: Timestamp,
) -> Result<(), AppError> {
    if !is_short_name(short_name) {
        return Err(AppError::field(
            "short_name",
            "use 2 to 32 letters, digits, _ or -",
        ));
    }
    if !(0..=100_000).contains(&id_quota) {
        return Err(AppError::field("id_quota", "must be between 0 and 100000"));
    }
    store.organization(org_id).await?;
    let mut tx = store.begin_write().await?;
    tx.set_cna(org_id, short_name, id_quota, now).await?;
    tx.audit(
        now,
        audit_event(
            None,
            "cna.set",
            "organization",
            org_id,
            json!({"short_name": short_name, "id_quota": id_quota}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A reservation request as CVE Services' query parameters give it.
#[derive(Debug, Clone, Default)]
pub struct ReserveRequest {
    /// `amount`.
    pub amount: Option<i64>,
    /// `cve_year`.
    pub cve_year: Option<i16>,
    /// `short_name`: the CNA the ids are for; must be the caller's.
    pub short_name: Option<String>,
    /// `batch_type`.
    pub batch_type: Option<String>,
}

/// Reserves CVE ids for the caller's CNA; returns them and the quota left.
pub async fn reserve(
    store: &Store,
    caller: &CnaActor,
    request: ReserveRequest,
    now: Timestamp,
) -> CveResult<(Vec<StoredCveId>, i64)> {
    caller.require(TokenScope::Write)?;
    let short_name = request.short_name.ok_or_else(|| {
        CveApiError::new(
            400,
            "NO_ORG_SHORTNAME",
            "the short_name query parameter is required to reserve CVE IDs",
        )
    })?;
    if short_name != caller.cna.short_name {
        return Err(CveApiError::new(
            403,
            "ORG_CANNOT_RESERVE_FOR_OTHER",
            "the organization of the CVE-API-ORG header may not reserve IDs for the organization in the short_name query parameter",
        ));
    }
    let year = request.cve_year.ok_or_else(|| {
        CveApiError::new(
            400,
            "NO_YEAR",
            "the cve_year query parameter is required (1999 to next year)",
        )
    })?;
    let amount = request.amount.ok_or_else(|| {
        CveApiError::new(
            400,
            "NO_AMOUNT",
            "the amount query parameter is required and needs to be above 0",
        )
    })?;
    let org_id = caller.cna.organization_id.as_str();
    let mut tx = store.begin_write().await?;
    let available = caller.cna.id_quota - tx.reserved_cve_count(org_id).await?;
    let reservation = check_reservation(
        amount,
        year,
        request.batch_type.as_deref(),
        available.max(0),
        now,
    )?;
    let mut ids = Vec::with_capacity(reservation.amount as usize);
    match reservation.batch {
        BatchType::Sequential => {
            for sequence in tx.next_cve_sequences(year, reservation.amount).await? {
                let id = CveId { year, sequence };
                if !tx.insert_cve_id(id, org_id, &caller.user.id, now).await? {
                    return Err(CveApiError::new(
                        403,
                        "YEAR_RANGE_FULL",
                        format!("{id} is already taken; the sequential range for {year} is full"),
                    ));
                }
                ids.push(id);
            }
        }
        BatchType::Nonsequential => {
            let mut attempts = 0;
            while (ids.len() as i64) < reservation.amount {
                attempts += 1;
                if attempts > 1000 {
                    return Err(CveApiError::new(
                        403,
                        "YEAR_RANGE_FULL",
                        format!("no free non-sequential number was found for {year}"),
                    ));
                }
                let id = CveId {
                    year,
                    sequence: random_sequence(),
                };
                if tx.insert_cve_id(id, org_id, &caller.user.id, now).await? {
                    ids.push(id);
                }
            }
        }
    }
    for id in &ids {
        tx.audit(
            now,
            audit_event(
                Some(&caller.actor),
                "cve_id.reserve",
                "cve_id",
                &id.to_string(),
                json!({"short_name": caller.cna.short_name}),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    let mut reserved = Vec::with_capacity(ids.len());
    for id in &ids {
        reserved.push(store.cve_id(&id.to_string()).await?);
    }
    Ok((reserved, available - reservation.amount))
}

/// A number in the non-sequential range, from the operating system's random source.
fn random_sequence() -> i64 {
    let bytes = random_bytes();
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    let start = 100_000;
    start + (n % (NONSEQUENTIAL_END - start) as u64) as i64
}

/// Reads a CVE id for `caller` (`None`: anonymous). Others see only published or rejected
/// ids; a RESERVED id of another CNA is answered as not found.
pub async fn read_id(
    store: &Store,
    caller: Option<&CnaActor>,
    id: &str,
) -> CveResult<(StoredCveId, bool)> {
    if let Some(c) = caller {
        c.require(TokenScope::Read)?;
    }
    let found = match store.cve_id(id).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Err(CveApiError::id_not_found(id)),
        Err(e) => return Err(e.into()),
    };
    let owner = caller.is_some_and(|c| c.owns(&found));
    if !owner && found.state == CveState::Reserved {
        return Err(CveApiError::id_not_found(id));
    }
    Ok((found, owner))
}

/// The id `id` of the caller's CNA, for a change: others' ids are not found when RESERVED
/// and forbidden otherwise.
async fn owned_id(store: &Store, caller: &CnaActor, id: &str) -> CveResult<StoredCveId> {
    if CveId::parse(id).is_none() {
        return Err(CveApiError::bad_input(
            "id",
            "must be a CVE id like CVE-2021-44228",
        ));
    }
    let (found, owner) = read_id(store, Some(caller), id).await?;
    if !owner {
        return Err(CveApiError::new(
            403,
            "NOT_OWNER_ORG",
            format!("{id} is owned by another CNA; only its owner may change it"),
        ));
    }
    Ok(found)
}

/// The full record of `id`, if one exists.
pub async fn record_of(store: &Store, id: &StoredCveId) -> CveResult<Option<Value>> {
    let stored = match store.cve_record(&id.cve_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(full_record(id, &stored)))
}

fn full_record(id: &StoredCveId, stored: &StoredCveRecord) -> Value {
    let meta = RecordMetadata {
        cve_id: id.cve_id.clone(),
        state: id.state.as_str(),
        assigner_org_id: uuid_of(&id.owning_org_id).unwrap_or_default(),
        assigner_short_name: id.owning_short_name.clone(),
        date_reserved: id.reserved_at,
        date_published: stored.date_published,
        date_rejected: stored.date_rejected,
        date_updated: stored.updated_at,
    };
    container::record(&meta, &stored.cna_container)
}

/// Whether a CNA container is for a published or a rejected record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `POST`/`PUT /cve/{id}/cna`.
    Published,
    /// `POST`/`PUT /cve/{id}/reject`.
    Rejected,
}

/// Creates (`update` false) or replaces (`update` true) the record of one of the caller's ids;
/// returns the full record.
pub async fn put_record(
    store: &Store,
    caller: &CnaActor,
    id: &str,
    kind: RecordKind,
    update: bool,
    body: Value,
    now: Timestamp,
) -> CveResult<Value> {
    caller.require(TokenScope::Write)?;
    let found = owned_id(store, caller, id).await?;
    let Some(mut cna) = body.get("cnaContainer").cloned() else {
        return Err(CveApiError::bad_input(
            "cnaContainer",
            "send the container as {\"cnaContainer\": {…}}",
        ));
    };
    let checked = match kind {
        RecordKind::Published => container::check_published(&cna),
        RecordKind::Rejected => container::check_rejected(&cna),
    };
    if let Err(e) = checked {
        let path = e.path().unwrap_or("cnaContainer").to_owned();
        return Err(CveApiError {
            details: Some(json!({"errors": [{"instancePath": path, "message": e.to_string()}]})),
            ..CveApiError::new(
                400,
                "INVALID_JSON_SCHEMA",
                format!("CVE JSON schema validation FAILED: {e}"),
            )
        });
    }
    let existing = match store.cve_record(id).await {
        Ok(r) => Some(r),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    match (kind, update, &existing) {
        (RecordKind::Published, false, Some(_)) => {
            return Err(CveApiError::new(
                403,
                "CVE_RECORD_EXISTS",
                "The cve record for the cve id already exists.",
            ));
        }
        (RecordKind::Rejected, false, Some(_)) => {
            return Err(CveApiError::new(
                400,
                "CVE_RECORD_EXISTS",
                "The cve record for the cve id already exists.",
            ));
        }
        (_, true, None) => {
            return Err(CveApiError::new(
                404,
                "CVE_RECORD_DNE",
                "The cve record for the cve id does not exist.",
            ));
        }
        _ => {}
    }
    if kind == RecordKind::Published && update && found.state != CveState::Published {
        return Err(CveApiError::new(
            400,
            "CVE_UNSUPPORTED_RECORD_STATE",
            format!(
                "Cannot update cve record in state {}; publish it with POST first.",
                found.state.as_str()
            ),
        ));
    }
    let org_uuid = uuid_of(&caller.cna.organization_id).unwrap_or_default();
    container::stamp_provider(&mut cna, &org_uuid, &caller.cna.short_name, now);
    let state = match kind {
        RecordKind::Published => CveState::Published,
        RecordKind::Rejected => CveState::Rejected,
    };
    let previous = existing.as_ref();
    let record = StoredCveRecord {
        cve_id: found.cve_id.clone(),
        cna_container: cna,
        date_published: match kind {
            RecordKind::Published => previous.and_then(|r| r.date_published).or(Some(now)),
            RecordKind::Rejected => previous.and_then(|r| r.date_published),
        },
        date_rejected: match kind {
            RecordKind::Published => None,
            RecordKind::Rejected => previous.and_then(|r| r.date_rejected).or(Some(now)),
        },
        updated_at: now,
    };
    let mut tx = store.begin_write().await?;
    tx.put_cve_record(&record).await?;
    tx.set_cve_id_state(&found.cve_id, state, now).await?;
    let action = match (kind, update) {
        (RecordKind::Published, false) => "cve_record.publish",
        (RecordKind::Published, true) => "cve_record.update",
        (RecordKind::Rejected, false) => "cve_record.reject",
        (RecordKind::Rejected, true) => "cve_record.update_rejected",
    };
    tx.audit(
        now,
        audit_event(
            Some(&caller.actor),
            action,
            "cve_id",
            &found.cve_id,
            json!({"state": state.as_str(), "previous_state": found.state.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    let updated = store.cve_id(&found.cve_id).await?;
    Ok(full_record(&updated, &record))
}

/// Moves one of the caller's ids between RESERVED and REJECTED without a record
/// (`PUT /cve-id/{id}?state=…`).
pub async fn set_id_state(
    store: &Store,
    caller: &CnaActor,
    id: &str,
    state: &str,
    now: Timestamp,
) -> CveResult<StoredCveId> {
    caller.require(TokenScope::Write)?;
    let found = owned_id(store, caller, id).await?;
    let to = CveState::parse(state)
        .filter(|s| *s != CveState::Published)
        .ok_or_else(|| {
            CveApiError::new(
                400,
                "INVALID_STATE",
                format!("State '{state}' is invalid: use REJECTED or RESERVED"),
            )
        })?;
    if found.has_record {
        return Err(CveApiError::new(
            403,
            "CANNOT_CHANGE_CVE_ID_WITH_RECORD",
            format!(
                "A record was found for {id}; its state follows the record (publish or reject it instead)."
            ),
        ));
    }
    let mut tx = store.begin_write().await?;
    if to == CveState::Reserved
        && found.state != CveState::Reserved
        && tx.reserved_cve_count(&caller.cna.organization_id).await? >= caller.cna.id_quota
    {
        return Err(CveApiError::new(
            403,
            "TRANSITION_STATE_RESERVED_NO_QUOTA",
            "A CVE ID state cannot be changed to RESERVED if the owning organization has no remaining quota.",
        ));
    }
    tx.set_cve_id_state(&found.cve_id, to, now).await?;
    tx.audit(
        now,
        audit_event(
            Some(&caller.actor),
            "cve_id.state",
            "cve_id",
            &found.cve_id,
            json!({"state": to.as_str(), "previous_state": found.state.as_str()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(store.cve_id(&found.cve_id).await?)
}

/// Gives one of the caller's ids to the CNA `to` (`PUT /cve-id/{id}?org=…`). A RESERVED id
/// counts against the receiving CNA's quota, so it must have room.
pub async fn transfer(
    store: &Store,
    caller: &CnaActor,
    id: &str,
    to: &str,
    now: Timestamp,
) -> CveResult<StoredCveId> {
    caller.require(TokenScope::Write)?;
    let found = owned_id(store, caller, id).await?;
    let receiver = match store.cna_by_short_name(to).await {
        Ok(cna) => cna,
        Err(StoreError::NotFound(_)) => {
            return Err(CveApiError::new(
                404,
                "ORG_DNE_PARAM",
                format!(
                    "The organization '{to}' designated by the org query parameter does not exist."
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if receiver.organization_id == found.owning_org_id {
        return Ok(found);
    }
    let mut tx = store.begin_write().await?;
    if found.state == CveState::Reserved
        && tx.reserved_cve_count(&receiver.organization_id).await? >= receiver.id_quota
    {
        return Err(CveApiError::new(
            403,
            "NO_QUOTA_REMAINING",
            format!("The organization '{to}' has no remaining quota for a RESERVED id."),
        ));
    }
    tx.set_cve_id_owner(&found.cve_id, &receiver.organization_id, now)
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(&caller.actor),
            "cve_id.transfer",
            "cve_id",
            &found.cve_id,
            json!({"from": caller.cna.short_name, "to": receiver.short_name}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(store.cve_id(&found.cve_id).await?)
}

/// The CNA `short_name`, if it is the caller's own (others are refused as CVE Services does).
pub fn own_cna<'a>(caller: &'a CnaActor, short_name: &str) -> CveResult<&'a Cna> {
    caller.require(TokenScope::Read)?;
    if caller.cna.short_name == short_name {
        Ok(&caller.cna)
    } else {
        Err(CveApiError::new(
            403,
            "NOT_SAME_ORG_OR_SECRETARIAT",
            "This information can only be viewed or modified by the organization itself.",
        ))
    }
}
