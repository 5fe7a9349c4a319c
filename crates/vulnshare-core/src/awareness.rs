//! Awareness on record: a member's notification of an upstream provider, which both fulfils
//! the "notify upstream without delay" duty and proves when the member knew of a
//! vulnerability (so a later third-party report can show it reported late).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::package::Ecosystem;
use crate::report::{ExploitationStatus, ReportKind, normalise_alias};
use crate::validation::{Collector, Invalid};

/// A package named in an upstream notification (for correlation with other reports).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageName {
    /// The ecosystem, e.g. `Maven`.
    pub ecosystem: Ecosystem,
    /// The package name, e.g. `org.apache.logging.log4j:log4j-core`.
    pub name: String,
}

/// An upstream notification as a member records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpstreamNotification {
    /// The member's report this notification belongs to, if it filed one.
    #[serde(default)]
    pub report_id: Option<String>,
    /// The upstream provider notified (a name; it need not be a platform member).
    pub notified_org: String,
    /// When it was notified.
    pub notified_at: Timestamp,
    /// When the member became aware (defaults to `notified_at`).
    #[serde(default)]
    pub aware_at: Option<Timestamp>,
    /// What proves it, e.g. the e-mail's date and message id.
    pub evidence: String,
    /// The vulnerability's identifiers (CVE, GHSA, CNVD).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The affected packages.
    #[serde(default)]
    pub packages: Vec<PackageName>,
    /// How the member relates to the vulnerability (default: found in someone else's product).
    #[serde(default)]
    pub kind: Option<ReportKind>,
    /// How far exploitation has gone, as far as the member knows.
    #[serde(default)]
    pub exploitation: Option<ExploitationStatus>,
}

/// An upstream notification on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamNotification {
    /// Store-assigned identifier.
    pub id: String,
    /// The member that notified.
    pub organization_id: String,
    /// The validated content.
    #[serde(flatten)]
    pub content: NewUpstreamNotification,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it was recorded (server time).
    pub recorded_at: Timestamp,
}

impl UpstreamNotification {
    /// When the member demonstrably knew.
    pub fn aware_at(&self) -> Timestamp {
        self.content.aware_at.unwrap_or(self.content.notified_at)
    }
}

impl NewUpstreamNotification {
    /// Checks the record against the server time `now`: times not in the future, awareness
    /// not after the notification, evidence given, aliases well-formed.
    pub fn validate(mut self, now: Timestamp) -> Result<NewUpstreamNotification, Invalid> {
        let mut c = Collector::default();
        self.notified_org = self.notified_org.trim().to_owned();
        if self.notified_org.is_empty() || self.notified_org.chars().count() > 200 {
            c.push(
                "notified_org",
                "name the upstream provider (1 to 200 characters)",
            );
        }
        self.evidence = self.evidence.trim().to_owned();
        if self.evidence.is_empty() || self.evidence.chars().count() > 5000 {
            c.push(
                "evidence",
                "describe what proves the notification (1 to 5000 characters)",
            );
        }
        if self.notified_at > now {
            c.push(
                "notified_at",
                "is in the future; record notifications once sent",
            );
        }
        if self.aware_at.is_some_and(|aware| aware > self.notified_at) {
            c.push(
                "aware_at",
                "is after notified_at; you cannot notify before knowing",
            );
        }
        let mut aliases = Vec::new();
        for (i, alias) in self.aliases.iter().enumerate() {
            match normalise_alias(alias) {
                Ok(a) if !aliases.contains(&a) => aliases.push(a),
                Ok(_) => {}
                Err(m) => c.push(format!("aliases[{i}]"), m),
            }
        }
        self.aliases = aliases;
        for (i, p) in self.packages.iter_mut().enumerate() {
            p.name = p.name.trim().to_owned();
            if p.name.is_empty() || p.name.chars().count() > 300 {
                c.push(
                    format!("packages[{i}].name"),
                    "name the package (1 to 300 characters)",
                );
            }
        }
        if self.aliases.len() > 50 || self.packages.len() > 50 {
            c.push("aliases", "at most 50 aliases and 50 packages");
        }
        c.finish(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(notified: &str) -> NewUpstreamNotification {
        NewUpstreamNotification {
            report_id: None,
            notified_org: " Apache Software Foundation ".into(),
            notified_at: notified.parse().unwrap(),
            aware_at: None,
            evidence: "E-mail to security@apache.org".into(),
            aliases: vec!["cve-2021-44228".into()],
            packages: vec![],
            kind: None,
            exploitation: None,
        }
    }

    #[test]
    fn validates_times_and_normalises() {
        let now = "2021-11-24T12:00:00Z".parse().unwrap();
        let ok = record("2021-11-24T06:00:00Z").validate(now).unwrap();
        assert_eq!(ok.notified_org, "Apache Software Foundation");
        assert_eq!(ok.aliases, ["CVE-2021-44228"]);
        let future = record("2021-11-25T06:00:00Z").validate(now).unwrap_err();
        assert_eq!(future.0[0].field, "notified_at");
        let mut late = record("2021-11-24T06:00:00Z");
        late.aware_at = Some("2021-11-24T07:00:00Z".parse().unwrap());
        assert_eq!(late.validate(now).unwrap_err().0[0].field, "aware_at");
    }
}
