//! Publication gates (CN Provisions Art. 9): what must be true before vulnerability details go
//! public or leave the country. The server enforces these and shows the refusals verbatim.

use jiff::Timestamp;
use serde::Serialize;

use crate::case::Embargo;
use crate::tlp::Tlp;

/// An attachment to a case or advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentFlags {
    /// File name.
    pub name: String,
    /// Flagged as exploit code or an attack tool.
    pub exploit_code: bool,
}

/// Everything the gates look at when an advisory is to be published.
#[derive(Debug, Clone)]
pub struct PublicationRequest<'a> {
    /// When.
    pub now: Timestamp,
    /// The label it is to be published under; only `CLEAR` is public.
    pub tlp: Tlp,
    /// Whether the product provider has a fix or mitigation.
    pub fix_available: bool,
    /// The fix or mitigation text published with the advisory.
    pub remediation: Option<&'a str>,
    /// Attachments to be published.
    pub attachments: &'a [AttachmentFlags],
    /// The case's embargo.
    pub embargo: Option<&'a Embargo>,
    /// The regulator approved publication before a fix / before the embargo ends.
    pub regulator_approved_early: bool,
    /// End of a restricted period during which publication needs the regulator's approval.
    pub restricted_until: Option<Timestamp>,
}

/// Why publication is refused; each says which rule and what would satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum GateRefusal {
    /// No fix or mitigation exists yet.
    #[error(
        "Art. 9(1): details may not be made public before the product provider has a fix or mitigation, unless the regulator approves early publication"
    )]
    NoFixYet,
    /// The advisory carries no fix or mitigation.
    #[error(
        "Art. 9(5): a public advisory publishes the fix or mitigation with it; add the remediation"
    )]
    NoRemediation,
    /// An attachment is flagged as exploit code.
    #[error(
        "Art. 9(4): attachment {name:?} is flagged as exploit code and never goes public; remove it"
    )]
    ExploitCode {
        /// The attachment.
        name: String,
    },
    /// The embargo has not ended.
    #[error("the embargo ends {local_end}; publish after it, or with the regulator's approval")]
    EmbargoInForce {
        /// The end in its own time zone.
        local_end: String,
    },
    /// A restricted period is in force.
    #[error("publication is restricted until {until}: it needs the regulator's approval")]
    RestrictedPeriod {
        /// End of the period.
        until: Timestamp,
    },
    /// Undisclosed details may not go to a foreign organization other than the provider.
    #[error(
        "Art. 9(7): undisclosed vulnerability details may not be shared with an organization in {country} other than the affected product's provider"
    )]
    ForeignRecipient {
        /// The recipient's country.
        country: String,
    },
}

/// Checks every gate for a publication; returns all refusals, not just the first.
pub fn check_publication(req: &PublicationRequest<'_>) -> Result<(), Vec<GateRefusal>> {
    let mut refusals = Vec::new();
    if req.tlp != Tlp::Clear {
        // Sharing within the community is governed by TLP, not by the publication rules.
        return Ok(());
    }
    if !req.fix_available && !req.regulator_approved_early {
        refusals.push(GateRefusal::NoFixYet);
    }
    if req.remediation.is_none_or(|r| r.trim().is_empty()) {
        refusals.push(GateRefusal::NoRemediation);
    }
    for a in req.attachments.iter().filter(|a| a.exploit_code) {
        refusals.push(GateRefusal::ExploitCode {
            name: a.name.clone(),
        });
    }
    if !req.regulator_approved_early {
        if let Some(e) = req.embargo.filter(|e| e.in_force(req.now)) {
            refusals.push(GateRefusal::EmbargoInForce {
                local_end: e.local_end(),
            });
        }
        if let Some(until) = req.restricted_until.filter(|u| req.now < *u) {
            refusals.push(GateRefusal::RestrictedPeriod { until });
        }
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// Checks sharing undisclosed details with an organization of `recipient_country` on a
/// platform in `platform_country`: foreign organizations receive them only as the affected
/// product's provider.
pub fn check_share_abroad(
    platform_country: &str,
    recipient_country: &str,
    recipient_is_product_provider: bool,
    disclosed: bool,
) -> Result<(), GateRefusal> {
    if disclosed || recipient_country == platform_country || recipient_is_product_provider {
        Ok(())
    } else {
        Err(GateRefusal::ForeignRecipient {
            country: recipient_country.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn request<'a>(
        attachments: &'a [AttachmentFlags],
        embargo: Option<&'a Embargo>,
    ) -> PublicationRequest<'a> {
        PublicationRequest {
            now: t("2021-12-09T00:00:00Z"),
            tlp: Tlp::Clear,
            fix_available: true,
            remediation: Some("Upgrade to 2.15.0 or remove JndiLookup.class"),
            attachments,
            embargo,
            regulator_approved_early: false,
            restricted_until: None,
        }
    }

    #[test]
    fn a_fixed_remediated_clean_advisory_passes() {
        assert_eq!(check_publication(&request(&[], None)), Ok(()));
    }

    #[test]
    fn every_failing_gate_is_reported() {
        let attachments = [
            AttachmentFlags {
                name: "poc.py".into(),
                exploit_code: true,
            },
            AttachmentFlags {
                name: "timeline.pdf".into(),
                exploit_code: false,
            },
        ];
        let embargo = Embargo {
            ends_at: t("2021-12-10T00:00:00Z"),
            time_zone: "Asia/Shanghai".into(),
        };
        let mut req = request(&attachments, Some(&embargo));
        req.fix_available = false;
        req.remediation = None;
        req.restricted_until = Some(t("2021-12-31T00:00:00Z"));
        let refusals = check_publication(&req).unwrap_err();
        assert_eq!(
            refusals,
            vec![
                GateRefusal::NoFixYet,
                GateRefusal::NoRemediation,
                GateRefusal::ExploitCode {
                    name: "poc.py".into()
                },
                GateRefusal::EmbargoInForce {
                    local_end: "2021-12-10T08:00:00+08:00[Asia/Shanghai]".into()
                },
                GateRefusal::RestrictedPeriod {
                    until: t("2021-12-31T00:00:00Z")
                },
            ]
        );
        assert!(refusals[0].to_string().starts_with("Art. 9(1)"));
    }

    #[test]
    fn regulator_approval_lifts_timing_gates_but_never_the_exploit_gate() {
        let attachments = [AttachmentFlags {
            name: "exp.jar".into(),
            exploit_code: true,
        }];
        let embargo = Embargo {
            ends_at: t("2021-12-10T00:00:00Z"),
            time_zone: "UTC".into(),
        };
        let mut req = request(&attachments, Some(&embargo));
        req.fix_available = false;
        req.regulator_approved_early = true;
        assert_eq!(
            check_publication(&req),
            Err(vec![GateRefusal::ExploitCode {
                name: "exp.jar".into()
            }])
        );
    }

    #[test]
    fn community_sharing_is_not_publication() {
        let mut req = request(&[], None);
        req.tlp = Tlp::Green;
        req.fix_available = false;
        assert_eq!(check_publication(&req), Ok(()));
    }

    #[test]
    fn undisclosed_details_stay_home_unless_for_the_provider() {
        assert!(check_share_abroad("CN", "CN", false, false).is_ok());
        assert!(check_share_abroad("CN", "US", true, false).is_ok());
        assert!(check_share_abroad("CN", "US", false, true).is_ok());
        assert_eq!(
            check_share_abroad("CN", "US", false, false),
            Err(GateRefusal::ForeignRecipient {
                country: "US".into()
            })
        );
    }
}
