//! Compliance: which event fulfils which duty, which regimes an organization is under, how
//! the CN `2日` clock is read, and the read models (countdowns, on-time rate, median lateness)
//! the compliance views show.
//!
//! Pure: the current time is always an argument.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::clock::ClockMode;
use crate::obligation::{Obligation, ObligationStatus};
use crate::regime::Regime;
use crate::report::ReportContent;

/// The regime whose `2日` clock the CN interpretation setting changes.
pub const CN_MIIT_REGIME: &str = "CN-MIIT-2021";
/// The platform membership duty regime.
pub const MEMBERSHIP_REGIME: &str = "CN-PLATFORM-MEMBERSHIP";

/// The event that fulfils a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillingEvent {
    /// A report submitted to this platform.
    PlatformReport,
    /// A notification of the upstream provider on record.
    UpstreamNotification,
    /// A fix or mitigation became available (the report moved to `fix_available`).
    FixAvailable,
}

/// The event that fulfils `rule_id`, if the platform can observe it. Duties met outside the
/// platform (e.g. a CRA notification to ENISA) are tracked but not fulfilled automatically.
///
/// Custom regimes that amend a built-in one keep its rule ids and so its fulfilment; a rule id
/// ending in `-platform-report`, `-notify-upstream` or `-fix` opts a new rule in.
pub fn fulfilled_by(rule_id: &str) -> Option<FulfillingEvent> {
    match rule_id {
        "cn-miit-7-2-report" | "membership-report" => Some(FulfillingEvent::PlatformReport),
        "cn-miit-7-1-notify-upstream" => Some(FulfillingEvent::UpstreamNotification),
        "cn-miit-7-3-fix" => Some(FulfillingEvent::FixAvailable),
        id if id.ends_with("-platform-report") => Some(FulfillingEvent::PlatformReport),
        id if id.ends_with("-notify-upstream") => Some(FulfillingEvent::UpstreamNotification),
        id if id.ends_with("-fix") => Some(FulfillingEvent::FixAvailable),
        _ => None,
    }
}

/// The required content items that `content` lacks. Items the report form has no field for
/// (e.g. CRA `member_states_concerned`) count as missing.
pub fn missing_content(content: &ReportContent, required: &[String]) -> Vec<String> {
    let cn_missing = content.cn_article_7_missing();
    required
        .iter()
        .filter(|item| match item.as_str() {
            "product_name"
            | "product_model"
            | "product_version"
            | "technical_characteristics"
            | "harm"
            | "scope_of_impact" => cn_missing.contains(&item.as_str()),
            "description" => content.technical_characteristics.is_empty(),
            "severity" => content.cvss_vector.is_none(),
            "impact" => content.scope_of_impact.is_empty(),
            _ => true,
        })
        .cloned()
        .collect()
}

/// How the CN Provisions' `2日` (2 days) is counted for an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CnInterpretation {
    /// The earlier of the Civil Code reading and 48 hours (default: no official reading exists).
    #[default]
    StricterOf,
    /// Civil Code Art. 200–204: start day not counted, ends 24:00 of the last day.
    CivilCode,
    /// 48 hours from awareness.
    StrictHours,
}

impl CnInterpretation {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CnInterpretation::StricterOf => "stricter_of",
            CnInterpretation::CivilCode => "civil_code",
            CnInterpretation::StrictHours => "strict_hours",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<CnInterpretation> {
        [
            CnInterpretation::StricterOf,
            CnInterpretation::CivilCode,
            CnInterpretation::StrictHours,
        ]
        .into_iter()
        .find(|i| i.as_str() == s)
    }

    /// The clock mode this reading uses.
    pub fn clock_mode(self) -> ClockMode {
        match self {
            CnInterpretation::StricterOf => ClockMode::StricterOfCivilCodeAndHours,
            CnInterpretation::CivilCode => ClockMode::CivilCode,
            CnInterpretation::StrictHours => ClockMode::StrictHours,
        }
    }

    /// Re-reads the day periods of the CN Provisions under this interpretation; other regimes
    /// (the membership duty is a contract read under the Civil Code) are left as written.
    pub fn apply(self, regime: &mut Regime) {
        if regime.id != CN_MIIT_REGIME {
            return;
        }
        for rule in &mut regime.rules {
            if rule.period.has_fixed_clock() {
                // A period the mode cannot count keeps the regime's own reading.
                let _ = rule.set_clock_mode(self.clock_mode());
            }
        }
    }
}

/// The regimes enabled for an organization that has not chosen: CN organizations are under
/// the CN Provisions and the platform membership duty; others opt in.
pub fn default_regimes(country: &str) -> Vec<String> {
    if country.eq_ignore_ascii_case("CN") {
        vec![CN_MIIT_REGIME.to_owned(), MEMBERSHIP_REGIME.to_owned()]
    } else {
        Vec::new()
    }
}

/// How much time is left on an obligation, for the compliance views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Countdown {
    /// Seconds until the deadline (negative once passed); `None` without a fixed deadline or
    /// once the obligation is met or waived.
    pub seconds_remaining: Option<i64>,
    /// The deadline in UTC.
    pub due_at: Option<Timestamp>,
    /// The deadline in the rule's time zone, e.g. `2021-11-27T00:00:00+08:00[Asia/Shanghai]`.
    pub due_at_local: Option<String>,
    /// The last day of the period in the rule's time zone, e.g. `2021-11-26` for "24:00 on the 26th".
    pub last_day_local: Option<String>,
}

/// The countdown of `obligation` at `now`.
pub fn countdown(obligation: &Obligation, now: Timestamp) -> Countdown {
    let zone = TimeZone::get(&obligation.terms.time_zone).unwrap_or(TimeZone::UTC);
    let due = obligation.terms.due_at;
    let open = matches!(
        obligation.status,
        ObligationStatus::Pending | ObligationStatus::Overdue
    );
    Countdown {
        seconds_remaining: due
            .filter(|_| open)
            .map(|d| d.duration_since(now).as_secs()),
        due_at: due,
        due_at_local: due.map(|d| d.to_zoned(zone.clone()).to_string()),
        last_day_local: due.map(|d| {
            d.checked_sub(SignedDuration::from_nanos(1))
                .unwrap_or(d)
                .to_zoned(zone.clone())
                .date()
                .to_string()
        }),
    }
}

/// Compliance figures of one organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrganizationCompliance {
    /// The organization.
    pub organization_id: String,
    /// Obligations with a fixed deadline.
    pub with_deadline: u64,
    /// Met before the deadline.
    pub met_on_time: u64,
    /// Met after the deadline.
    pub met_late: u64,
    /// Overdue and not met.
    pub overdue: u64,
    /// Pending, deadline not passed.
    pub pending: u64,
    /// Waived.
    pub waived: u64,
    /// `met_on_time / (met_on_time + met_late + overdue)`; `None` before any deadline passed.
    pub on_time_rate: Option<f64>,
    /// Median lateness in seconds over late and overdue obligations (overdue ones measured to
    /// `now`); `None` when none was late.
    pub median_lateness_secs: Option<i64>,
}

/// Per-organization compliance figures at `now`, ordered by organization id.
pub fn summarize(obligations: &[Obligation], now: Timestamp) -> Vec<OrganizationCompliance> {
    let mut by_org: BTreeMap<&str, (OrganizationCompliance, Vec<i64>)> = BTreeMap::new();
    for ob in obligations {
        let Some(due) = ob.terms.due_at else { continue };
        let (entry, late) = by_org
            .entry(ob.terms.party_org.as_str())
            .or_insert_with(|| {
                (
                    OrganizationCompliance {
                        organization_id: ob.terms.party_org.clone(),
                        ..Default::default()
                    },
                    Vec::new(),
                )
            });
        entry.with_deadline += 1;
        match &ob.status {
            ObligationStatus::Met { at, .. } if *at < due => entry.met_on_time += 1,
            ObligationStatus::Met { at, .. } => {
                entry.met_late += 1;
                late.push(at.duration_since(due).as_secs());
            }
            ObligationStatus::Waived { .. } => entry.waived += 1,
            ObligationStatus::Overdue => {
                entry.overdue += 1;
                late.push(now.duration_since(due).as_secs().max(0));
            }
            ObligationStatus::Pending if now >= due => {
                entry.overdue += 1;
                late.push(now.duration_since(due).as_secs());
            }
            ObligationStatus::Pending => entry.pending += 1,
        }
    }
    by_org
        .into_values()
        .map(|(mut entry, mut late)| {
            let decided = entry.met_on_time + entry.met_late + entry.overdue;
            entry.on_time_rate = (decided > 0).then(|| entry.met_on_time as f64 / decided as f64);
            entry.median_lateness_secs = median(&mut late);
            entry
        })
        .collect()
}

fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obligation::{TriggerEvent, generate};
    use crate::regime::{Party, ReportFacts, Trigger, builtin_regimes};
    use crate::report::ReportKind;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn obligations(org: &str, aware: &str, kind: ReportKind) -> Vec<Obligation> {
        let mut regimes = builtin_regimes().unwrap();
        regimes.retain(|r| default_regimes("CN").contains(&r.id));
        let trigger = TriggerEvent {
            kind: Trigger::Aware,
            at: ts(aware),
            party_org: org.into(),
            roles: vec![Party::Reporter, Party::AffectedProvider],
            subject: "VS-2021-00001".into(),
            facts: ReportFacts {
                kind: Some(kind),
                platform_member: true,
                ..ReportFacts::default()
            },
        };
        generate(&regimes, &trigger)
            .into_iter()
            .enumerate()
            .map(|(i, o)| o.into_obligation(format!("ob-{i}")))
            .collect()
    }

    #[test]
    fn cn_interpretation_changes_only_the_provisions_clock() {
        let mut regimes = builtin_regimes().unwrap();
        for r in &mut regimes {
            CnInterpretation::CivilCode.apply(r);
        }
        let cn = regimes.iter().find(|r| r.id == CN_MIIT_REGIME).unwrap();
        let report = cn.rule("cn-miit-7-2-report").unwrap();
        assert_eq!(report.clock.mode, ClockMode::CivilCode);
        // Wednesday 10:00 CST: civil code ends Friday 24:00, 48 h ends Friday 10:00.
        let aware = ts("2021-11-24T10:00:00+08:00");
        assert_eq!(
            report.due_at(aware).unwrap(),
            Some(ts("2021-11-27T00:00:00+08:00"))
        );
        let mut strict = builtin_regimes().unwrap();
        for r in &mut strict {
            CnInterpretation::StrictHours.apply(r);
        }
        let cn = strict.iter().find(|r| r.id == CN_MIIT_REGIME).unwrap();
        assert_eq!(
            cn.rule("cn-miit-7-2-report")
                .unwrap()
                .due_at(aware)
                .unwrap(),
            Some(ts("2021-11-26T10:00:00+08:00"))
        );
        let membership = strict.iter().find(|r| r.id == MEMBERSHIP_REGIME).unwrap();
        assert_eq!(membership.rules[0].clock.mode, ClockMode::CivilCode);
    }

    #[test]
    fn fulfilment_and_missing_content() {
        assert_eq!(
            fulfilled_by("membership-report"),
            Some(FulfillingEvent::PlatformReport)
        );
        assert_eq!(
            fulfilled_by("cn-miit-7-1-notify-upstream"),
            Some(FulfillingEvent::UpstreamNotification)
        );
        assert_eq!(
            fulfilled_by("cn-miit-7-3-fix"),
            Some(FulfillingEvent::FixAvailable)
        );
        assert_eq!(fulfilled_by("cra-14-2-a-early-warning"), None);
        let content = ReportContent {
            kind: ReportKind::ThirdPartyObservation,
            title: "t".into(),
            technical_characteristics: "x".into(),
            harm: String::new(),
            scope_of_impact: "s".into(),
            affected_products: vec![],
            affected_packages: vec![],
            cvss_vector: None,
            cwes: vec![],
            exploitation: Default::default(),
            aware_at: None,
            awareness_evidence: None,
            tlp: Default::default(),
            aliases: vec![],
        };
        let required: Vec<String> = ["harm", "scope_of_impact", "member_states_concerned"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            missing_content(&content, &required),
            ["harm", "member_states_concerned"]
        );
    }

    #[test]
    fn countdown_and_summary() {
        let mut obs = obligations(
            "a",
            "2021-11-24T10:00:00+08:00",
            ReportKind::ThirdPartyObservation,
        );
        assert_eq!(obs.len(), 1);
        let now = ts("2021-11-26T23:00:00+08:00");
        let c = countdown(&obs[0], now);
        assert_eq!(c.seconds_remaining, Some(3600));
        assert_eq!(c.last_day_local.as_deref(), Some("2021-11-26"));
        assert!(c.due_at_local.unwrap().contains("Asia/Shanghai"));
        let mut b = obligations(
            "b",
            "2021-11-24T10:00:00+08:00",
            ReportKind::ThirdPartyObservation,
        );
        b[0].status = ObligationStatus::Met {
            at: ts("2021-11-25T10:00:00+08:00"),
            by_report: "r".into(),
            lateness: None,
            days_late: None,
            missing_content: vec![],
        };
        obs.append(&mut b);
        let later = ts("2021-11-28T00:00:00+08:00");
        let summary = summarize(&obs, later);
        assert_eq!(summary.len(), 2);
        assert_eq!(summary[0].overdue, 1);
        assert_eq!(summary[0].on_time_rate, Some(0.0));
        assert_eq!(summary[0].median_lateness_secs, Some(86_400));
        assert_eq!(summary[1].met_on_time, 1);
        assert_eq!(summary[1].on_time_rate, Some(1.0));
        assert_eq!(summary[1].median_lateness_secs, None);
    }
}
