//! Advisories: what a case publishes, assembled from its reports, versioned, withdrawable.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::package::AffectedPackage;
use crate::report::{AffectedProduct, ReportContent};
use crate::severity::Cwe;
use crate::tlp::Tlp;
use crate::validation::{Collector, Invalid};

/// Whether an advisory stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvisoryState {
    /// Published.
    Published,
    /// Withdrawn (kept, marked, with a reason).
    Withdrawn,
}

/// A published advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// Stable identifier `VSA-YYYY-NNNNN`.
    pub id: String,
    /// The case it comes from.
    pub case_id: String,
    /// Revision, from 1.
    pub version: i64,
    /// Sharing label; `CLEAR` is public.
    pub tlp: Tlp,
    /// State.
    pub state: AdvisoryState,
    /// One-line summary.
    pub summary: String,
    /// Full description.
    pub details: String,
    /// The fix or mitigation.
    pub remediation: String,
    /// CVE, GHSA, CNVD identifiers.
    pub aliases: Vec<String>,
    /// Affected packages with OSV ranges.
    pub affected_packages: Vec<AffectedPackage>,
    /// Affected products.
    pub affected_products: Vec<AffectedProduct>,
    /// CVSS vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// Weaknesses.
    pub cwes: Vec<Cwe>,
    /// Who is credited.
    pub credits: Vec<String>,
    /// First publication.
    pub published_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// Why it was withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    /// Case attachments published with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<PublishedAttachment>,
}

/// An attachment published with an advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedAttachment {
    /// The case attachment's id.
    pub id: String,
    /// File name.
    pub name: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// What the publisher writes; the rest comes from the case's reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAdvisory {
    /// Sharing label.
    pub tlp: Tlp,
    /// One-line summary.
    pub summary: String,
    /// Full description; defaults to the reports' technical characteristics.
    #[serde(default)]
    pub details: Option<String>,
    /// The fix or mitigation (required for public advisories by the publication gates).
    #[serde(default)]
    pub remediation: Option<String>,
    /// Credits.
    #[serde(default)]
    pub credits: Vec<String>,
    /// Ids of case attachments to publish with it.
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl NewAdvisory {
    /// Validates the publisher's fields.
    pub fn validate(self) -> Result<NewAdvisory, Invalid> {
        let mut c = Collector::default();
        let summary = c.text("summary", &self.summary, 300);
        let details = c.optional_text("details", self.details.as_deref(), 50_000);
        let remediation = c.optional_text("remediation", self.remediation.as_deref(), 20_000);
        c.max_items("credits", &self.credits, 50);
        let credits = self
            .credits
            .iter()
            .enumerate()
            .take(50)
            .map(|(i, cr)| c.text(&format!("credits[{i}]"), cr, 200))
            .collect();
        c.max_items("attachments", &self.attachments, 20);
        c.finish(NewAdvisory {
            tlp: self.tlp,
            summary,
            details,
            remediation,
            credits,
            attachments: self.attachments,
        })
    }
}

/// Assembles an advisory from the publisher's fields and the case's reports: aliases, CWEs,
/// packages and products are the union; the CVSS vector is the first one given.
pub fn assemble(
    id: &str,
    case_id: &str,
    new: NewAdvisory,
    reports: &[&ReportContent],
    now: Timestamp,
) -> Advisory {
    let mut aliases: Vec<String> = reports
        .iter()
        .flat_map(|r| r.aliases.iter().cloned())
        .collect();
    aliases.sort();
    aliases.dedup();
    let mut cwes: Vec<Cwe> = reports
        .iter()
        .flat_map(|r| r.cwes.iter().copied())
        .collect();
    cwes.sort();
    cwes.dedup();
    let mut affected_packages: Vec<AffectedPackage> = Vec::new();
    for p in reports.iter().flat_map(|r| r.affected_packages.iter()) {
        if !affected_packages.contains(p) {
            affected_packages.push(p.clone());
        }
    }
    let mut affected_products: Vec<AffectedProduct> = Vec::new();
    for p in reports.iter().flat_map(|r| r.affected_products.iter()) {
        if !affected_products.contains(p) {
            affected_products.push(p.clone());
        }
    }
    let details = new.details.unwrap_or_else(|| {
        reports
            .iter()
            .map(|r| r.technical_characteristics.as_str())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    });
    Advisory {
        id: id.to_owned(),
        case_id: case_id.to_owned(),
        version: 1,
        tlp: new.tlp,
        state: AdvisoryState::Published,
        summary: new.summary,
        details,
        remediation: new.remediation.unwrap_or_default(),
        aliases,
        affected_packages,
        affected_products,
        cvss_vector: reports.iter().find_map(|r| r.cvss_vector.clone()),
        cwes,
        credits: new.credits,
        published_at: now,
        updated_at: now,
        withdrawn_reason: None,
        attachments: Vec::new(),
    }
}

/// Builds an advisory id from the year and the per-year number.
pub fn advisory_id(year: i16, number: i64) -> String {
    format!("VSA-{year}-{number:05}")
}
