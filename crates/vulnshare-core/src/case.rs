//! Coordinated-disclosure cases: the reports about one vulnerability, the organizations taking
//! part, each vendor's status per vulnerability, the embargo and the threaded messages.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::tlp::Tlp;
use crate::validation::{Collector, Invalid};

/// How an organization takes part in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    /// Filed a report in the case.
    Reporter,
    /// Makes an affected (or possibly affected) product.
    Vendor,
    /// Provides the upstream component the flaw is in.
    Upstream,
    /// Runs the coordination.
    Coordinator,
}

/// One organization in a case, with the people named for TLP:RED material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// The organization.
    pub org_id: String,
    /// Its role.
    pub role: ParticipantRole,
    /// Users who may see TLP:RED material of the case.
    #[serde(default)]
    pub named_users: Vec<String>,
    /// The vendor's own tracking id for the case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// When it joined the case.
    pub joined_at: Timestamp,
}

/// A vendor's statement about one vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorStatus {
    /// At least one of its products is affected.
    Affected,
    /// None of its products is affected.
    NotAffected,
    /// It is looking into it.
    UnderInvestigation,
    /// Nothing known.
    Unknown,
}

/// The status of one vendor for one vulnerability. A vendor that never answered keeps
/// `responded_at: None`, which is never confused with a statement of `not_affected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorResponse {
    /// The vendor.
    pub org_id: String,
    /// The vulnerability (an alias such as a CVE id, or a report id).
    pub vulnerability: String,
    /// The status.
    pub status: VendorStatus,
    /// The vendor's statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// When the vendor said so; `None` when it has never responded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
}

impl VendorResponse {
    /// The initial, unanswered status of a vendor added to a case.
    pub fn awaiting(org_id: &str, vulnerability: &str) -> VendorResponse {
        VendorResponse {
            org_id: org_id.to_owned(),
            vulnerability: vulnerability.to_owned(),
            status: VendorStatus::Unknown,
            statement: None,
            responded_at: None,
        }
    }

    /// Whether the vendor has never responded.
    pub fn never_responded(&self) -> bool {
        self.responded_at.is_none()
    }
}

/// The end of an embargo: an instant, and the time zone it was agreed in (so that everyone
/// sees "2021-12-10 00:00 Asia/Shanghai", not just a UTC instant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embargo {
    /// When the embargo ends.
    pub ends_at: Timestamp,
    /// IANA time-zone name the end was agreed in.
    pub time_zone: String,
}

impl Embargo {
    /// Validates the time zone and that the end is in the future at `now`.
    pub fn new(ends_at: Timestamp, time_zone: &str, now: Timestamp) -> Result<Embargo, Invalid> {
        let mut c = Collector::default();
        if TimeZone::get(time_zone).is_err() {
            c.push(
                "embargo.time_zone",
                format!("{time_zone:?} is not an IANA time zone such as Asia/Shanghai"),
            );
        }
        if ends_at <= now {
            c.push("embargo.ends_at", "an embargo ends in the future");
        }
        c.finish(Embargo {
            ends_at,
            time_zone: time_zone.to_owned(),
        })
    }

    /// Whether the embargo is still in force at `now`.
    pub fn in_force(&self, now: Timestamp) -> bool {
        now < self.ends_at
    }

    /// The end in its own time zone, e.g. `2021-12-10T00:00:00+08:00[Asia/Shanghai]`.
    pub fn local_end(&self) -> String {
        TimeZone::get(&self.time_zone)
            .map(|tz| self.ends_at.to_zoned(tz).to_string())
            .unwrap_or_else(|_| self.ends_at.to_string())
    }
}

/// Who may read a case message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum MessageAudience {
    /// Every participant.
    AllParticipants,
    /// Only these organizations (plus the author's and the coordinator).
    Organizations {
        /// The organizations.
        org_ids: Vec<String>,
    },
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Coordination under way.
    Open,
    /// An advisory has been published.
    Published,
    /// Finished.
    Closed,
}

impl CaseState {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Published => "published",
            CaseState::Closed => "closed",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<CaseState> {
        [CaseState::Open, CaseState::Published, CaseState::Closed]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A case: a coordinated disclosure of one vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// Sharing label of the case's material.
    pub tlp: Tlp,
    /// Where it stands.
    pub state: CaseState,
    /// The reports grouped in it.
    pub report_ids: Vec<String>,
    /// End of a restricted period during which publication needs the regulator's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_until: Option<Timestamp>,
    /// When the regulator approved publication before a fix or the embargo's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_publication_approved_at: Option<Timestamp>,
    /// When it was opened.
    pub created_at: Timestamp,
    /// Participants.
    pub participants: Vec<Participant>,
    /// Per (vendor, vulnerability) status.
    pub vendor_responses: Vec<VendorResponse>,
    /// Embargo, if one is agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo: Option<Embargo>,
}

impl Case {
    /// The participant record of `org_id`.
    pub fn participant(&self, org_id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.org_id == org_id)
    }

    /// Whether `org_id` takes part.
    pub fn is_participant(&self, org_id: &str) -> bool {
        self.participant(org_id).is_some()
    }

    /// Whether `user_id` of `org_id` may read TLP:RED material: named users of a participant;
    /// an organization that named nobody lets all its users read.
    pub fn may_read_red(&self, org_id: &str, user_id: &str) -> bool {
        self.participant(org_id)
            .is_some_and(|p| p.named_users.is_empty() || p.named_users.iter().any(|u| u == user_id))
    }

    /// Whether a message for `audience` by `author_org` is visible to `org_id`.
    pub fn message_visible(
        &self,
        audience: &MessageAudience,
        author_org: &str,
        org_id: &str,
    ) -> bool {
        if !self.is_participant(org_id) {
            return false;
        }
        match audience {
            MessageAudience::AllParticipants => true,
            MessageAudience::Organizations { org_ids } => {
                org_id == author_org
                    || org_ids.iter().any(|o| o == org_id)
                    || self
                        .participant(org_id)
                        .is_some_and(|p| p.role == ParticipantRole::Coordinator)
            }
        }
    }

    /// Vendors that never responded about any vulnerability of the case.
    pub fn silent_vendors(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .participants
            .iter()
            .filter(|p| p.role == ParticipantRole::Vendor)
            .filter(|p| {
                self.vendor_responses
                    .iter()
                    .filter(|r| r.org_id == p.org_id)
                    .all(VendorResponse::never_responded)
            })
            .map(|p| p.org_id.as_str())
            .collect();
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn case() -> Case {
        let joined_at = t("2021-11-24T02:00:00Z");
        Case {
            id: "case-1".into(),
            title: "log4j".into(),
            tlp: Tlp::Amber,
            state: CaseState::Open,
            report_ids: vec!["VS-2021-00001".into()],
            restricted_until: None,
            early_publication_approved_at: None,
            created_at: joined_at,
            participants: vec![
                Participant {
                    org_id: "alibaba".into(),
                    role: ParticipantRole::Reporter,
                    named_users: vec![],
                    tracking_id: None,
                    joined_at,
                },
                Participant {
                    org_id: "asf".into(),
                    role: ParticipantRole::Upstream,
                    named_users: vec!["ralph".into()],
                    tracking_id: Some("LOG4J2-3198".into()),
                    joined_at,
                },
                Participant {
                    org_id: "vendor-a".into(),
                    role: ParticipantRole::Vendor,
                    named_users: vec![],
                    tracking_id: None,
                    joined_at,
                },
                Participant {
                    org_id: "vendor-b".into(),
                    role: ParticipantRole::Vendor,
                    named_users: vec![],
                    tracking_id: None,
                    joined_at,
                },
                Participant {
                    org_id: "cert".into(),
                    role: ParticipantRole::Coordinator,
                    named_users: vec![],
                    tracking_id: None,
                    joined_at,
                },
            ],
            vendor_responses: vec![
                VendorResponse::awaiting("vendor-a", "CVE-2021-44228"),
                VendorResponse {
                    org_id: "vendor-b".into(),
                    vulnerability: "CVE-2021-44228".into(),
                    status: VendorStatus::NotAffected,
                    statement: Some("we ship logback".into()),
                    responded_at: Some(joined_at),
                },
            ],
            embargo: None,
        }
    }

    #[test]
    fn silence_is_not_the_same_as_not_affected() {
        let c = case();
        assert_eq!(c.silent_vendors(), ["vendor-a"]);
        assert_eq!(c.vendor_responses[0].status, VendorStatus::Unknown);
    }

    #[test]
    fn red_material_goes_to_named_users_only() {
        let c = case();
        assert!(c.may_read_red("asf", "ralph"));
        assert!(!c.may_read_red("asf", "someone-else"));
        assert!(c.may_read_red("alibaba", "anyone-at-alibaba"));
        assert!(!c.may_read_red("outsider", "x"));
    }

    #[test]
    fn directed_messages_reach_their_audience_the_author_and_the_coordinator() {
        let c = case();
        let to_asf = MessageAudience::Organizations {
            org_ids: vec!["asf".into()],
        };
        assert!(c.message_visible(&to_asf, "alibaba", "asf"));
        assert!(c.message_visible(&to_asf, "alibaba", "alibaba"));
        assert!(c.message_visible(&to_asf, "alibaba", "cert"));
        assert!(!c.message_visible(&to_asf, "alibaba", "vendor-a"));
        assert!(!c.message_visible(&MessageAudience::AllParticipants, "alibaba", "outsider"));
    }

    #[test]
    fn embargo_shows_its_zone_and_must_end_in_the_future() {
        let now = t("2021-12-01T00:00:00Z");
        let e = Embargo::new(t("2021-12-09T16:00:00Z"), "Asia/Shanghai", now).unwrap();
        assert_eq!(e.local_end(), "2021-12-10T00:00:00+08:00[Asia/Shanghai]");
        assert!(e.in_force(now));
        assert!(!e.in_force(t("2021-12-09T16:00:00Z")));
        let err = Embargo::new(t("2021-11-01T00:00:00Z"), "Mars/Olympus", now).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["embargo.time_zone", "embargo.ends_at"]);
    }
}
