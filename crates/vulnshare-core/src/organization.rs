//! Organizations: the members of the platform, what kind of party each is, and whether its
//! membership is active, suspended or ended.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::validation::{Collector, Invalid};

/// What role an organization plays in vulnerability handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// Makes network products or components (CN Provisions: 网络产品提供者).
    Provider,
    /// Runs networks or systems (网络运营者).
    Operator,
    /// Independent security researchers or research teams.
    Researcher,
    /// A third-party monitoring institution that observes threats.
    MonitoringInstitution,
    /// The authority that receives reports and decides sanctions.
    Regulator,
    /// A coordinator (CERT, CSIRT or the platform operator itself).
    Coordinator,
}

impl OrganizationKind {
    /// Stable name used in storage and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Operator => "operator",
            Self::Researcher => "researcher",
            Self::MonitoringInstitution => "monitoring_institution",
            Self::Regulator => "regulator",
            Self::Coordinator => "coordinator",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "provider" => Self::Provider,
            "operator" => Self::Operator,
            "researcher" => Self::Researcher,
            "monitoring_institution" => Self::MonitoringInstitution,
            "regulator" => Self::Regulator,
            "coordinator" => Self::Coordinator,
            _ => return None,
        })
    }
}

/// The state of an organization's platform membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Membership {
    /// Full member.
    Active,
    /// Suspended by a regulator's decision: sees public (TLP:CLEAR) information only.
    Suspended {
        /// When the suspension started.
        from: Timestamp,
        /// When it ends (a reinstatement review is due then).
        until: Timestamp,
        /// The reason given in the decision.
        reason: String,
        /// The decision that imposed it.
        decision_id: Option<String>,
    },
    /// Expelled: no access to non-public information.
    Expelled {
        /// When the expulsion took effect.
        from: Timestamp,
        /// The reason given in the decision.
        reason: String,
    },
}

impl Membership {
    /// Whether the member may see non-public shared information at `now`.
    ///
    /// A suspension whose end has passed still counts until a reinstatement decision is
    /// recorded: reinstatement is a reviewed act, not an automatic one.
    pub fn is_active(&self) -> bool {
        matches!(self, Membership::Active)
    }

    /// Short status name.
    pub fn status(&self) -> &'static str {
        match self {
            Membership::Active => "active",
            Membership::Suspended { .. } => "suspended",
            Membership::Expelled { .. } => "expelled",
        }
    }
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Stable identifier.
    pub id: String,
    /// Display name, unique on the platform.
    pub name: String,
    /// What kind of party it is.
    pub kind: OrganizationKind,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Membership state.
    pub membership: Membership,
    /// When it joined.
    pub created_at: Timestamp,
}

/// Input to create an organization, as it arrives from a client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// Kind of party.
    pub kind: OrganizationKind,
    /// ISO 3166-1 alpha-2 country code, e.g. `CN`.
    pub country: String,
}

impl NewOrganization {
    /// Validates and normalises the input.
    pub fn validate(self) -> Result<NewOrganization, Invalid> {
        let mut c = Collector::default();
        let name = c.text("name", &self.name, 200);
        let country = self.country.trim().to_ascii_uppercase();
        if !is_country_code(&country) {
            c.push(
                "country",
                "must be an ISO 3166-1 alpha-2 code of two letters, e.g. CN",
            );
        }
        c.finish(NewOrganization {
            name,
            kind: self.kind,
            country,
        })
    }
}

/// Whether `s` has the shape of an ISO 3166-1 alpha-2 code.
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [
            OrganizationKind::Provider,
            OrganizationKind::Operator,
            OrganizationKind::Researcher,
            OrganizationKind::MonitoringInstitution,
            OrganizationKind::Regulator,
            OrganizationKind::Coordinator,
        ] {
            assert_eq!(OrganizationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrganizationKind::parse("vendor"), None);
    }

    #[test]
    fn new_organization_normalises_country_and_rejects_bad_ones() {
        let ok = NewOrganization {
            name: " Example Cloud ".into(),
            kind: OrganizationKind::Provider,
            country: "cn".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "Example Cloud");
        assert_eq!(ok.country, "CN");
        let err = NewOrganization {
            name: "x".into(),
            kind: OrganizationKind::Provider,
            country: "China".into(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.0[0].field, "country");
    }

    #[test]
    fn only_active_membership_grants_access() {
        assert!(Membership::Active.is_active());
        let t = Timestamp::UNIX_EPOCH;
        assert!(
            !Membership::Suspended {
                from: t,
                until: t,
                reason: "late".into(),
                decision_id: None
            }
            .is_active()
        );
        assert!(
            !Membership::Expelled {
                from: t,
                reason: "x".into()
            }
            .is_active()
        );
    }
}
