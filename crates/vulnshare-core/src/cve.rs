//! CVE numbering as CVE Services does it: organizations acting as CNAs (CVE Numbering
//! Authorities) reserve CVE ids within a quota, then publish or reject a record for each.
//!
//! The wire names (`RESERVED`, `nonsequential`, `short_name`) are CVE Services' own, so that
//! its clients (`cve` from cvelib) work against vulnshare unchanged.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// The lowest sequence number handed out in a year (CVE ids have at least four digits).
pub const FIRST_SEQUENCE: i64 = 1000;
/// Non-sequential ids are drawn from `FIRST_SEQUENCE..NONSEQUENTIAL_END`.
pub const NONSEQUENTIAL_END: i64 = 10_000_000;
/// Most ids one non-sequential request may reserve (as CVE Services).
pub const NONSEQUENTIAL_MAX_AMOUNT: i64 = 10;
/// The first year CVE ids were assigned.
pub const FIRST_YEAR: i16 = 1999;

/// Where a CVE id stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CveState {
    /// Reserved by a CNA; known only to that CNA.
    Reserved,
    /// A record has been published; public.
    Published,
    /// Rejected (with or without a record); public.
    Rejected,
}

impl CveState {
    /// The name CVE Services uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CveState::Reserved => "RESERVED",
            CveState::Published => "PUBLISHED",
            CveState::Rejected => "REJECTED",
        }
    }

    /// Parses the name CVE Services uses.
    pub fn parse(s: &str) -> Option<CveState> {
        match s {
            "RESERVED" => Some(CveState::Reserved),
            "PUBLISHED" => Some(CveState::Published),
            "REJECTED" => Some(CveState::Rejected),
            _ => None,
        }
    }
}

/// A well-formed CVE id: `CVE-YYYY-NNNN…` with a year from 1999 and four to nineteen digits,
/// no leading zero beyond four digits and never `0000` (the rule `cve` itself checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CveId {
    /// The year part.
    pub year: i16,
    /// The number part.
    pub sequence: i64,
}

impl CveId {
    /// Parses `CVE-YYYY-NNNN`; `None` when the text is not a CVE id.
    pub fn parse(s: &str) -> Option<CveId> {
        let rest = s.strip_prefix("CVE-")?;
        let (year, number) = rest.split_once('-')?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || !digits(number) {
            return None;
        }
        if !(4..=19).contains(&number.len()) || (number.len() > 4 && number.starts_with('0')) {
            return None;
        }
        let year: i16 = year.parse().ok()?;
        let sequence: i64 = number.parse().ok()?;
        (year >= FIRST_YEAR && sequence > 0).then_some(CveId { year, sequence })
    }
}

impl std::fmt::Display for CveId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CVE-{}-{:04}", self.year, self.sequence)
    }
}

/// How a batch of ids is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchType {
    /// Consecutive numbers after the last one handed out.
    Sequential,
    /// Random numbers, so that the ids reveal nothing about how many the CNA reserves.
    Nonsequential,
}

impl BatchType {
    /// Parses CVE Services' `batch_type` (`sequential`, `nonsequential`, `non-sequential`).
    pub fn parse(s: &str) -> Option<BatchType> {
        match s {
            "sequential" => Some(BatchType::Sequential),
            "nonsequential" | "non-sequential" => Some(BatchType::Nonsequential),
            _ => None,
        }
    }
}

/// Whether ids of `year` may be reserved at `now`: from 1999 to next year, as CVE Services.
pub fn reservable_year(year: i16, now: Timestamp) -> bool {
    let this_year = now.to_zoned(TimeZone::UTC).year();
    (FIRST_YEAR..=this_year + 1).contains(&year)
}

/// Whether `s` can be a CNA short name: 2 to 32 letters, digits, `_` or `-`.
pub fn is_short_name(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The UUID under which an organization or user appears in CVE Services (`orgId`,
/// `assignerOrgId`, `UUID`): vulnshare ids are a prefix (`org_`, `usr_`) and a version 4 UUID
/// without dashes, so the UUID is that id with its dashes put back. `None` for another shape.
pub fn uuid_of(id: &str) -> Option<String> {
    let (_, hex) = id.split_once('_')?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// Why a reservation is refused, with CVE Services' error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    /// No amount or not above zero.
    #[error("the amount query parameter is required and needs to be above 0")]
    InvalidAmount,
    /// Several ids without a batch type.
    #[error(
        "the batch_type query parameter must be given when reserving more than one CVE ID: sequential or nonsequential"
    )]
    NoBatchType,
    /// Unknown batch type.
    #[error("the batch_type is invalid: use sequential, nonsequential or non-sequential")]
    InvalidBatchType,
    /// Too many random ids in one request.
    #[error("at most {NONSEQUENTIAL_MAX_AMOUNT} non-sequential ids can be reserved at a time")]
    OverNonsequentialMax,
    /// Year outside 1999..=next year.
    #[error("CVE IDs for year {0} cannot be reserved: use a year from 1999 to next year")]
    Year(i16),
    /// Quota exceeded.
    #[error(
        "the amount requested would exceed the organization's ID quota ({available} available); publish or reject reserved IDs first, or ask the platform operator for a larger quota"
    )]
    OverQuota {
        /// How many ids could still be reserved.
        available: i64,
    },
}

impl ReservationError {
    /// CVE Services' error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReservationError::InvalidAmount => "INVALID_AMOUNT",
            ReservationError::NoBatchType => "NO_BATCH_TYPE",
            ReservationError::InvalidBatchType => "INVALID_BATCH_TYPE",
            ReservationError::OverNonsequentialMax => "OVER_NONSEQUENTIAL_MAX_AMOUNT",
            ReservationError::Year(_) => "CANNOT_RESERVE_FOR_YEAR",
            ReservationError::OverQuota { .. } => "EXCEEDED_ID_QUOTA",
        }
    }
}

/// A checked reservation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// How many ids.
    pub amount: i64,
    /// Their year.
    pub year: i16,
    /// How they are numbered.
    pub batch: BatchType,
}

/// Checks a reservation of `amount` ids of `year` against the CNA's `available` quota.
/// One id needs no batch type (it is numbered sequentially).
pub fn check_reservation(
    amount: i64,
    year: i16,
    batch_type: Option<&str>,
    available: i64,
    now: Timestamp,
) -> Result<Reservation, ReservationError> {
    if amount <= 0 {
        return Err(ReservationError::InvalidAmount);
    }
    let batch = match batch_type {
        None if amount > 1 => return Err(ReservationError::NoBatchType),
        None => BatchType::Sequential,
        Some(t) => BatchType::parse(t).ok_or(ReservationError::InvalidBatchType)?,
    };
    if !reservable_year(year, now) {
        return Err(ReservationError::Year(year));
    }
    if amount > available {
        return Err(ReservationError::OverQuota { available });
    }
    if batch == BatchType::Nonsequential && amount > NONSEQUENTIAL_MAX_AMOUNT {
        return Err(ReservationError::OverNonsequentialMax);
    }
    Ok(Reservation {
        amount,
        year,
        batch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn ids_parse_like_the_cve_client_checks_them() {
        let id = CveId::parse("CVE-2021-44228").unwrap();
        assert_eq!((id.year, id.sequence), (2021, 44228));
        assert_eq!(id.to_string(), "CVE-2021-44228");
        assert_eq!(
            CveId::parse("CVE-2024-0001").unwrap().to_string(),
            "CVE-2024-0001"
        );
        for bad in [
            "CVE-2021-0000",
            "CVE-1998-1234",
            "CVE-2021-123",
            "CVE-2021-01234",
            "cve-2021-1234",
            "CVE-2021-12a4",
            "CVE-21-1234",
        ] {
            assert_eq!(CveId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reservations_follow_cve_services_rules() {
        assert_eq!(
            check_reservation(1, 2026, None, 5, now()).unwrap().batch,
            BatchType::Sequential
        );
        assert_eq!(
            check_reservation(0, 2026, None, 5, now()),
            Err(ReservationError::InvalidAmount)
        );
        assert_eq!(
            check_reservation(2, 2026, None, 5, now()),
            Err(ReservationError::NoBatchType)
        );
        assert_eq!(
            check_reservation(2, 2026, Some("random"), 5, now()),
            Err(ReservationError::InvalidBatchType)
        );
        assert_eq!(
            check_reservation(1, 2028, None, 5, now()),
            Err(ReservationError::Year(2028))
        );
        assert!(check_reservation(1, 2027, None, 5, now()).is_ok());
        assert_eq!(
            check_reservation(6, 2026, Some("sequential"), 5, now()),
            Err(ReservationError::OverQuota { available: 5 })
        );
        assert_eq!(
            check_reservation(11, 2026, Some("non-sequential"), 50, now()),
            Err(ReservationError::OverNonsequentialMax)
        );
        assert_eq!(
            ReservationError::OverQuota { available: 0 }.code(),
            "EXCEEDED_ID_QUOTA"
        );
    }

    #[test]
    fn organization_ids_map_to_version_4_uuids() {
        assert_eq!(
            uuid_of("org_8254265b272946b6b9e33dfca2d5bfca").as_deref(),
            Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca")
        );
        assert_eq!(uuid_of("acme"), None);
        assert!(is_short_name("vulnshare_cna-1"));
        assert!(!is_short_name("a") && !is_short_name("has space"));
    }
}
