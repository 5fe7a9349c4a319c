//! CVE Services use cases: making an organization a CNA, reserving CVE ids within its quota,
//! publishing and rejecting records, and managing the CNA's users and API keys. Every change
//! is written with its audit entry in one transaction, like every other write of the platform.
//!
//! Errors carry CVE Services' own codes (`CVE_RECORD_EXISTS`, `EXCEEDED_ID_QUOTA`, …) because
//! its clients branch on them.

use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::cve::{
    BatchType, CveId, CveState, NONSEQUENTIAL_END, ReservationError, check_reservation,
    is_short_name, uuid_of,
};
use vulnshare_core::policy::{Actor, Denied};
use vulnshare_core::token::{NewToken, TokenScope, hash_secret, secret_from_random};
use vulnshare_core::user::{NewUser, Role, User};
use vulnshare_formats::cve::container::{self, RecordMetadata};
use vulnshare_store::{Cna, Store, StoreError, StoredCveId, StoredCveRecord};

use super::audit_event;
use crate::auth::random_bytes;
use crate::error::AppError;

/// Name of the platform API tokens that serve as CVE Services API keys.
pub const CVE_KEY_NAME: &str = "cve-services";
/// Lifetime of an API key issued through CVE Services, in days.
pub const CVE_KEY_DAYS: i64 = 366;

/// A refusal in CVE Services' shape: HTTP status, error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CveApiError {
    /// HTTP status.
    pub status: u16,
    /// CVE Services' error code, e.g. `CVE_ID_NOT_FOUND`.
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// Per-field problems, when there are some.
    pub details: Option<Value>,
    /// The cause of a server error, logged and never shown.
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl CveApiError {
    /// A refusal with `status`, `code` and `message`.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> CveApiError {
        CveApiError {
            status,
            code,
            message: message.into(),
            details: None,
            cause: None,
        }
    }

    /// `404 CVE_ID_NOT_FOUND`, also for ids another CNA holds in the RESERVED state.
    pub fn id_not_found(id: &str) -> CveApiError {
        CveApiError::new(404, "CVE_ID_NOT_FOUND", format!("{id} not found"))
    }

    /// `400 BAD_INPUT` for one parameter.
    pub fn bad_input(field: &str, message: impl Into<String>) -> CveApiError {
        let message = message.into();
        CveApiError {
            details: Some(json!([{"param": field, "msg": message}])),
            ..CveApiError::new(400, "BAD_INPUT", format!("{field}: {message}"))
        }
    }
}

impl From<AppError> for CveApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => CveApiError {
                details: Some(json!(
                    errors
                        .iter()
                        .map(|e| json!({"param": e.field, "msg": e.message}))
                        .collect::<Vec<_>>()
                )),
                ..CveApiError::new(
                    400,
                    "BAD_INPUT",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            },
            AppError::MalformedBody { message, field } => match field {
                Some(f) => CveApiError::bad_input(&f, message),
                None => CveApiError::new(400, "BAD_INPUT", message),
            },
            AppError::TooLarge(n) => CveApiError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("the request body is larger than {n} bytes"),
            ),
            AppError::Unauthenticated(m) => CveApiError::new(401, "UNAUTHORIZED", m),
            AppError::Forbidden(m) => CveApiError::new(403, "FORBIDDEN", m),
            AppError::NotFound(what) => {
                CveApiError::new(404, "NOT_FOUND", format!("{what} not found"))
            }
            AppError::Conflict(m) => CveApiError::new(409, "CONFLICT", m),
            AppError::Internal(cause) => CveApiError {
                cause: Some(cause),
                ..CveApiError::new(500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
            },
        }
    }
}

impl From<StoreError> for CveApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<Denied> for CveApiError {
    fn from(d: Denied) -> Self {
        AppError::from(d).into()
    }
}

impl From<ReservationError> for CveApiError {
    fn from(e: ReservationError) -> Self {
        let status = match e {
            ReservationError::OverQuota { .. }
            | ReservationError::OverNonsequentialMax
            | ReservationError::Year(_) => 403,
            _ => 400,
        };
        let details = match &e {
            ReservationError::OverQuota { available } => Some(json!({"available": available})),
            _ => None,
        };
        CveApiError {
            details,
            ..CveApiError::new(status, e.code(), e.to_string())
        }
    }
}

/// Result alias for CVE Services use cases.
pub type CveResult<T> = Result<T, CveApiError>;

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

/// A user of the caller's CNA by username (e-mail).
pub async fn cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
) -> CveResult<User> {
    let cna = own_cna(caller, short_name)?;
    let user = match store
        .credentials(&username.trim().to_ascii_lowercase())
        .await
    {
        Ok(c) if c.user.organization_id == cna.organization_id => c.user,
        Ok(_) | Err(StoreError::NotFound(_)) => {
            return Err(CveApiError::new(
                404,
                "USER_DNE",
                format!("The user '{username}' does not exist in '{short_name}'."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(user)
}

/// A new user as CVE Services describes one.
#[derive(Debug, Clone, Default)]
pub struct NewCnaUser {
    /// The username: an e-mail address here.
    pub username: String,
    /// First name.
    pub first: String,
    /// Last name.
    pub last: String,
    /// Whether the user gets the ADMIN role.
    pub admin: bool,
}

/// Display name from CVE Services' first and last names (the username when both are empty).
pub fn display_name(first: &str, last: &str, username: &str) -> String {
    let name = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned();
    if name.is_empty() {
        username.to_owned()
    } else {
        name
    }
}

/// Creates a user in the caller's CNA with an API key; returns the user and the key (shown once).
pub async fn create_cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    new: NewCnaUser,
    now: Timestamp,
) -> CveResult<(User, String)> {
    let cna = own_cna(caller, short_name)?.clone();
    caller.require_admin()?;
    // The user signs in to the platform only after an administrator sets a password; the
    // random one here is never shown.
    let password = hex::encode(random_bytes());
    let roles = if new.admin {
        vec![Role::Member, Role::OrgAdmin]
    } else {
        vec![Role::Member]
    };
    let user = super::create_user(
        store,
        Some(&caller.actor),
        &cna.organization_id,
        NewUser {
            display_name: display_name(&new.first, &new.last, &new.username),
            email: new.username,
            password,
            roles,
        },
        now,
    )
    .await?;
    let secret = issue_key(store, caller, &user, now).await?;
    Ok((user, secret))
}

/// Issues a new API key for `user`, revoking the previous CVE Services keys.
async fn issue_key(
    store: &Store,
    caller: &CnaActor,
    user: &User,
    now: Timestamp,
) -> CveResult<String> {
    let mut scopes = vec![TokenScope::Read, TokenScope::Write];
    if user.has(Role::OrgAdmin) {
        scopes.push(TokenScope::Admin);
    }
    let request = NewToken {
        name: CVE_KEY_NAME.into(),
        scopes,
        expires_in_days: Some(CVE_KEY_DAYS),
    }
    .validate(now)
    .map_err(AppError::from)?;
    let secret = secret_from_random(random_bytes());
    let mut tx = store.begin_write().await?;
    let revoked = tx.revoke_tokens_named(&user.id, CVE_KEY_NAME, now).await?;
    let token = tx
        .create_token(&user.id, &request, &hash_secret(&secret), now)
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(&caller.actor),
            "token.create",
            "token",
            &token.id,
            json!({"name": token.name, "scopes": token.scopes, "expires_at": token.expires_at, "for_user": user.id, "revoked_previous": revoked}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Replaces a user's API key: the user themself or an administrator of the CNA.
pub async fn reset_secret(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
    now: Timestamp,
) -> CveResult<String> {
    let user = cna_user(store, caller, short_name, username).await?;
    if user.id == caller.user.id {
        caller.require(TokenScope::Write)?;
    } else {
        caller.require_admin()?;
    }
    issue_key(store, caller, &user, now).await
}

/// Changes to a user, from CVE Services' query parameters.
#[derive(Debug, Clone, Default)]
pub struct CnaUserUpdate {
    /// `active`.
    pub active: Option<bool>,
    /// `name.first`.
    pub first: Option<String>,
    /// `name.last`.
    pub last: Option<String>,
    /// `active_roles.add=ADMIN`.
    pub add_admin: bool,
    /// `active_roles.remove=ADMIN`.
    pub remove_admin: bool,
}

/// Updates a user of the caller's CNA. Users may change their own name; everything else
/// needs the ADMIN role.
pub async fn update_cna_user(
    store: &Store,
    caller: &CnaActor,
    short_name: &str,
    username: &str,
    update: CnaUserUpdate,
    now: Timestamp,
) -> CveResult<User> {
    let user = cna_user(store, caller, short_name, username).await?;
    let only_name = update.active.is_none() && !update.add_admin && !update.remove_admin;
    if only_name && user.id == caller.user.id {
        caller.require(TokenScope::Write)?;
    } else {
        caller.require_admin()?;
    }
    let mut user = user;
    if let Some(active) = update.active {
        if active == user.disabled {
            user = super::set_user_disabled(store, &caller.actor, &user.id, !active, now).await?;
        }
    }
    if update.first.is_some() || update.last.is_some() || update.add_admin || update.remove_admin {
        let (old_first, old_last) = user
            .display_name
            .split_once(' ')
            .unwrap_or((user.display_name.as_str(), ""));
        let first = update.first.clone().unwrap_or_else(|| old_first.to_owned());
        let last = update.last.clone().unwrap_or_else(|| old_last.to_owned());
        let name = display_name(&first, &last, &user.email);
        if name.chars().count() > 200 {
            return Err(CveApiError::bad_input(
                "name",
                "must be at most 200 characters",
            ));
        }
        let mut roles = user.roles.clone();
        if update.add_admin && !roles.contains(&Role::OrgAdmin) {
            roles.push(Role::OrgAdmin);
        }
        if update.remove_admin {
            if user.id == caller.user.id {
                return Err(CveApiError::new(
                    403,
                    "FORBIDDEN",
                    "you cannot remove your own ADMIN role",
                ));
            }
            roles.retain(|r| *r != Role::OrgAdmin);
        }
        roles.sort();
        let mut tx = store.begin_write().await?;
        tx.set_user_profile(&user.id, &name, &roles).await?;
        tx.audit(
            now,
            audit_event(
                Some(&caller.actor),
                "user.update",
                "user",
                &user.id,
                json!({"display_name": name, "roles": roles}),
            ),
        )
        .await?;
        tx.commit().await?;
        user.display_name = name;
        user.roles = roles;
    }
    Ok(user)
}
