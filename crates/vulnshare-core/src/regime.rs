//! Reporting regimes: legal rules as data, each naming its article, period and clock.
//!
//! A regime is a versioned TOML (or JSON) document: who must do what, triggered by which event,
//! within which period, counted by which [`Clock`]. The built-in regimes live in
//! `src/regime/builtin/*.toml` and are compiled in; operators load their own (or amended copies)
//! at run time with [`Regime::from_toml`] / [`Regime::from_json`]. Bad input is refused with the
//! line and column of the offending key.

mod error;
mod raw;

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, ClockError, ClockMode, HolidayCalendar, Period};
use crate::report::{ExploitationStatus, ReportKind};

pub use error::{Location, RegimeError, RegimeIssue, RegimeProblem};

/// The built-in regime documents, compiled into the binary: (file name, TOML text).
pub const BUILTIN_SOURCES: [(&str, &str); 6] = [
    (
        "cn-miit-2021.toml",
        include_str!("regime/builtin/cn-miit-2021.toml"),
    ),
    (
        "cn-platform-membership.toml",
        include_str!("regime/builtin/cn-platform-membership.toml"),
    ),
    (
        "eu-cra-2024.toml",
        include_str!("regime/builtin/eu-cra-2024.toml"),
    ),
    (
        "eu-nis2-2022.toml",
        include_str!("regime/builtin/eu-nis2-2022.toml"),
    ),
    (
        "in-cert-in-2022.toml",
        include_str!("regime/builtin/in-cert-in-2022.toml"),
    ),
    (
        "us-sec-8k-2023.toml",
        include_str!("regime/builtin/us-sec-8k-2023.toml"),
    ),
];

/// The built-in holiday calendars (CN, US-FEDERAL, EU, NONE) as TOML.
pub const BUILTIN_CALENDARS: &str = include_str!("regime/builtin/calendars.toml");

/// Who bears a duty, relative to the vulnerability or incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The organization that discovered or reported it.
    Reporter,
    /// The provider of the affected product.
    AffectedProvider,
    /// The provider of an affected upstream product or component.
    UpstreamProvider,
    /// An operator running affected systems (or the entity suffering an incident).
    Operator,
}

impl Party {
    /// Every party, in a stable order.
    pub const ALL: [Party; 4] = [
        Party::Reporter,
        Party::AffectedProvider,
        Party::UpstreamProvider,
        Party::Operator,
    ];

    /// The stable name used in regime files.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Reporter => "reporter",
            Party::AffectedProvider => "affected_provider",
            Party::UpstreamProvider => "upstream_provider",
            Party::Operator => "operator",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<Party> {
        Party::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// The event that starts a rule's clock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The party became aware of (discovered or learned of) the vulnerability or incident.
    Aware,
    /// The platform notified the party.
    PlatformNotified,
    /// A fix, corrective or mitigating measure became available.
    FixAvailable,
    /// The party determined the incident is material (SEC 8-K).
    MaterialityDetermined,
    /// Another duty of the same regime was met (e.g. "one month after the notification").
    PreviousDutyMet {
        /// The rule whose fulfilment starts this clock.
        rule_id: String,
    },
}

impl Trigger {
    const PREVIOUS: &'static str = "previous_duty_met:";

    /// Parses `aware`, `platform_notified`, `fix_available`, `materiality_determined` or
    /// `previous_duty_met:<rule id>`.
    pub fn parse(text: &str) -> Option<Trigger> {
        Some(match text {
            "aware" => Trigger::Aware,
            "platform_notified" => Trigger::PlatformNotified,
            "fix_available" => Trigger::FixAvailable,
            "materiality_determined" => Trigger::MaterialityDetermined,
            other => {
                let rule_id = other.strip_prefix(Trigger::PREVIOUS)?.trim();
                if rule_id.is_empty() {
                    return None;
                }
                Trigger::PreviousDutyMet {
                    rule_id: rule_id.to_owned(),
                }
            }
        })
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Aware => f.write_str("aware"),
            Trigger::PlatformNotified => f.write_str("platform_notified"),
            Trigger::FixAvailable => f.write_str("fix_available"),
            Trigger::MaterialityDetermined => f.write_str("materiality_determined"),
            Trigger::PreviousDutyMet { rule_id } => write!(f, "{}{rule_id}", Trigger::PREVIOUS),
        }
    }
}

impl Serialize for Trigger {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Trigger, D::Error> {
        let text = String::deserialize(deserializer)?;
        Trigger::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(RegimeProblem::UnknownTrigger(text)))
    }
}

/// Facts about the report or incident that rule conditions (`applies_when`) look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportFacts {
    /// What the report is about.
    pub kind: Option<ReportKind>,
    /// How far exploitation has gone.
    pub exploitation: Option<ExploitationStatus>,
    /// ISO 3166-1 alpha-2 country of the party.
    pub country: Option<String>,
    /// Incident classes the facts establish, e.g. `significant` (NIS2), `severe` (CRA),
    /// `cert_in_reportable` (CERT-In Annex I).
    pub incident: BTreeSet<String>,
    /// Whether the party is a member of the sharing platform.
    pub platform_member: bool,
}

/// One condition of a rule's `applies_when` table; all conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The report kind is one of these.
    Kind(Vec<ReportKind>),
    /// The exploitation status is one of these.
    Exploitation(Vec<ExploitationStatus>),
    /// The party's country is one of these.
    Country(Vec<String>),
    /// The facts establish at least one of these incident classes.
    Incident(Vec<String>),
    /// Platform membership equals this value.
    PlatformMember(bool),
}

impl Condition {
    /// Whether `facts` satisfy the condition (a missing fact never does).
    pub fn matches(&self, facts: &ReportFacts) -> bool {
        match self {
            Condition::Kind(kinds) => facts.kind.is_some_and(|k| kinds.contains(&k)),
            Condition::Exploitation(states) => {
                facts.exploitation.is_some_and(|e| states.contains(&e))
            }
            Condition::Country(countries) => facts
                .country
                .as_ref()
                .is_some_and(|c| countries.iter().any(|x| x.eq_ignore_ascii_case(c))),
            Condition::Incident(classes) => classes.iter().any(|c| facts.incident.contains(c)),
            Condition::PlatformMember(member) => facts.platform_member == *member,
        }
    }
}

/// One rule of a regime: a duty with its article, party, trigger, period and clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Identifier, unique within the regime.
    pub id: String,
    /// The article the duty comes from, e.g. `Art. 7(2)`.
    pub article: String,
    /// What must be done, in plain words.
    pub duty: String,
    /// Who must do it.
    pub party: Party,
    /// What starts the clock.
    pub trigger: Trigger,
    /// How long the party has.
    pub period: Period,
    /// How the period is counted.
    pub clock: Clock,
    /// IANA name of the clock's time zone (kept for display and serialization).
    pub time_zone: String,
    /// Content items the report must contain.
    pub required_content: Vec<String>,
    /// Conditions on the facts; empty means always.
    pub applies_when: Vec<Condition>,
}

impl Rule {
    /// Whether the rule applies to these facts.
    pub fn applies_to(&self, facts: &ReportFacts) -> bool {
        self.applies_when.iter().all(|c| c.matches(facts))
    }

    /// When the duty falls due if triggered at `trigger_at` (`None` for no fixed clock).
    pub fn due_at(&self, trigger_at: Timestamp) -> Result<Option<Timestamp>, ClockError> {
        self.clock.due_at(trigger_at, self.period)
    }

    /// Switches the clock reading (e.g. CN `civil_code` vs `strict_hours`), refusing a mode
    /// that cannot count this rule's period.
    pub fn set_clock_mode(&mut self, mode: ClockMode) -> Result<(), ClockError> {
        if !mode.accepts(self.period) {
            return Err(ClockError::UnsupportedPeriod {
                mode,
                period: self.period,
            });
        }
        self.clock.mode = mode;
        Ok(())
    }
}

/// A versioned set of rules from one legal instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Regime {
    /// Identifier, e.g. `CN-MIIT-2021`.
    pub id: String,
    /// Version of the legal text or of this encoding of it.
    pub version: String,
    /// Human-readable name.
    pub name: String,
    /// Jurisdiction, e.g. `CN`, `EU`, `US`.
    pub jurisdiction: String,
    /// First day (in the regime's time zone) on which triggers create obligations.
    pub effective_from: Date,
    /// First day on which it no longer applies, if superseded.
    pub effective_until: Option<Date>,
    /// The regime's default time zone (IANA name).
    pub time_zone: String,
    /// The rules.
    pub rules: Vec<Rule>,
    zone: TimeZone,
}

impl Regime {
    /// Parses and validates a regime from TOML, using the built-in calendars.
    pub fn from_toml(text: &str) -> Result<Regime, RegimeError> {
        raw::parse_toml(text, &builtin_calendars())
    }

    /// Parses and validates a regime from JSON with the same shape as the TOML form.
    pub fn from_json(text: &str) -> Result<Regime, RegimeError> {
        raw::parse_json(text, &builtin_calendars())
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// A mutable handle on the rule with this id (to change its clock reading).
    pub fn rule_mut(&mut self, id: &str) -> Option<&mut Rule> {
        self.rules.iter_mut().find(|r| r.id == id)
    }

    /// Whether a trigger at `at` falls within the regime's time of application.
    pub fn is_in_force(&self, at: Timestamp) -> bool {
        let day = Zoned::new(at, self.zone.clone()).date();
        day >= self.effective_from && self.effective_until.is_none_or(|until| day < until)
    }
}

/// Every built-in regime, parsed from the compiled-in TOML.
///
/// Fails only if the build is broken or the system's IANA time zone database (e.g.
/// `/usr/share/zoneinfo`) lacks a zone the regimes name; install `tzdata` in that case.
pub fn builtin_regimes() -> Result<Vec<Regime>, RegimeError> {
    let calendars = builtin_calendars();
    BUILTIN_SOURCES
        .iter()
        .map(|(_, text)| raw::parse_toml(text, &calendars))
        .collect()
}

/// The built-in holiday calendars.
pub fn builtin_calendars() -> Vec<HolidayCalendar> {
    raw::parse_calendars(BUILTIN_CALENDARS).expect("built-in calendars.toml is valid (tested)")
}

#[cfg(test)]
mod tests;
