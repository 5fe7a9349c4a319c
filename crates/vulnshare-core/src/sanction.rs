//! Sanction decisions: what a regulator decides about a member in breach (warning, suspension
//! for N months, expulsion, reinstatement) and the membership that results.
//!
//! Pure: the decision time is passed in; the store records the decision and the new membership
//! in one audited transaction.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::organization::Membership;

/// Longest suspension a single decision may impose.
pub const MAX_SUSPENSION_MONTHS: u32 = 60;

/// What a regulator decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionKind {
    /// A formal warning; membership is unchanged.
    Warning,
    /// Suspension for a number of months: the member sees public information only.
    Suspension,
    /// Expulsion from the platform.
    Expulsion,
    /// Reinstatement after review: membership becomes active again.
    Reinstatement,
}

impl SanctionKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SanctionKind::Warning => "warning",
            SanctionKind::Suspension => "suspension",
            SanctionKind::Expulsion => "expulsion",
            SanctionKind::Reinstatement => "reinstatement",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<SanctionKind> {
        [
            SanctionKind::Warning,
            SanctionKind::Suspension,
            SanctionKind::Expulsion,
            SanctionKind::Reinstatement,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A decision as requested by the regulator, before it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanctionRequest {
    /// What is decided.
    pub kind: SanctionKind,
    /// Length of a suspension in calendar months (required for, and only for, a suspension).
    #[serde(default)]
    pub months: Option<u32>,
    /// The reasons, as they will be shown to the member.
    pub reason: String,
    /// The violations the decision rests on.
    #[serde(default)]
    pub violation_ids: Vec<String>,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanctionDecision {
    /// Store-assigned identifier.
    pub id: String,
    /// The organization concerned.
    pub organization_id: String,
    /// What was decided.
    pub kind: SanctionKind,
    /// Suspension length in months.
    pub months: Option<u32>,
    /// The reasons.
    pub reason: String,
    /// The violations it rests on.
    pub violation_ids: Vec<String>,
    /// The regulator user who decided.
    pub decided_by: String,
    /// That user's organization.
    pub decided_by_org_id: String,
    /// When it was decided (server time).
    pub decided_at: Timestamp,
    /// When it takes effect.
    pub effective_from: Timestamp,
    /// When it ends (suspensions).
    pub effective_until: Option<Timestamp>,
}

/// Why a decision cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SanctionError {
    /// The reason is empty or too long.
    #[error("give the reasons for the decision (1 to 5000 characters)")]
    Reason,
    /// A suspension needs a length, other decisions must not have one.
    #[error(
        "a suspension gives its length in months (1 to {MAX_SUSPENSION_MONTHS}); other decisions have none"
    )]
    Months,
    /// Reinstating a member that is not suspended or expelled.
    #[error("the organization's membership is already active; there is nothing to reinstate")]
    NothingToReinstate,
    /// Sanctioning an expelled member again.
    #[error("the organization is expelled; only a reinstatement can change that")]
    Expelled,
}

impl SanctionRequest {
    /// Checks the request and returns the membership it leads to from `current` at `now`,
    /// with the decision's end (for suspensions). `decision_id` is recorded in the suspension.
    pub fn apply(
        &self,
        current: &Membership,
        now: Timestamp,
        decision_id: &str,
    ) -> Result<(Membership, Option<Timestamp>), SanctionError> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 5000 {
            return Err(SanctionError::Reason);
        }
        let months_ok = match self.kind {
            SanctionKind::Suspension => self
                .months
                .is_some_and(|m| (1..=MAX_SUSPENSION_MONTHS).contains(&m)),
            _ => self.months.is_none(),
        };
        if !months_ok {
            return Err(SanctionError::Months);
        }
        if matches!(current, Membership::Expelled { .. })
            && self.kind != SanctionKind::Reinstatement
        {
            return Err(SanctionError::Expelled);
        }
        Ok(match self.kind {
            SanctionKind::Warning => (current.clone(), None),
            SanctionKind::Suspension => {
                let until = add_months(now, self.months.unwrap_or(1));
                (
                    Membership::Suspended {
                        from: now,
                        until,
                        reason: reason.to_owned(),
                        decision_id: Some(decision_id.to_owned()),
                    },
                    Some(until),
                )
            }
            SanctionKind::Expulsion => (
                Membership::Expelled {
                    from: now,
                    reason: reason.to_owned(),
                },
                None,
            ),
            SanctionKind::Reinstatement => {
                if current.is_active() {
                    return Err(SanctionError::NothingToReinstate);
                }
                (Membership::Active, None)
            }
        })
    }
}

/// `at` plus `months` calendar months, counted in UTC (the end of a shorter month if the day
/// does not exist).
pub fn add_months(at: Timestamp, months: u32) -> Timestamp {
    let zoned = at.to_zoned(TimeZone::UTC);
    zoned
        .checked_add(i64::from(months).months())
        .map(|z| z.timestamp())
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: SanctionKind, months: Option<u32>) -> SanctionRequest {
        SanctionRequest {
            kind,
            months,
            reason: "Late report of CVE-2021-44228".into(),
            violation_ids: vec![],
        }
    }

    #[test]
    fn suspension_for_six_months_ends_six_calendar_months_later() {
        let now: Timestamp = "2021-12-22T02:00:00Z".parse().unwrap();
        let (membership, until) = request(SanctionKind::Suspension, Some(6))
            .apply(&Membership::Active, now, "dec-1")
            .unwrap();
        assert_eq!(until, Some("2022-06-22T02:00:00Z".parse().unwrap()));
        assert!(!membership.is_active());
        assert!(
            matches!(membership, Membership::Suspended { decision_id: Some(ref d), .. } if d == "dec-1")
        );
    }

    #[test]
    fn bad_requests_are_refused() {
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(
            request(SanctionKind::Suspension, None).apply(&Membership::Active, now, "d"),
            Err(SanctionError::Months)
        );
        assert_eq!(
            request(SanctionKind::Warning, Some(3)).apply(&Membership::Active, now, "d"),
            Err(SanctionError::Months)
        );
        assert_eq!(
            request(SanctionKind::Reinstatement, None).apply(&Membership::Active, now, "d"),
            Err(SanctionError::NothingToReinstate)
        );
        let mut empty = request(SanctionKind::Warning, None);
        empty.reason = "  ".into();
        assert_eq!(
            empty.apply(&Membership::Active, now, "d"),
            Err(SanctionError::Reason)
        );
        let expelled = Membership::Expelled {
            from: now,
            reason: "r".into(),
        };
        assert_eq!(
            request(SanctionKind::Warning, None).apply(&expelled, now, "d"),
            Err(SanctionError::Expelled)
        );
        let (back, _) = request(SanctionKind::Reinstatement, None)
            .apply(&expelled, now, "d")
            .unwrap();
        assert!(back.is_active());
    }
}
