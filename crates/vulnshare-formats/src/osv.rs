//! OSV schema 1.6 records: the types, a bounded parser whose errors carry the JSON path, and the
//! schema's rules checked in code.
//!
//! Unknown top-level fields are **preserved** in [`OsvRecord::extra`] and written back out, as
//! the OSV spec asks of consumers (newer schema versions add fields such as `upstream`). Unknown
//! fields inside nested objects are ignored, except in range events, where anything but one of
//! `introduced`, `fixed`, `last_affected` or `limit` is refused; the free-form
//! `ecosystem_specific` and `database_specific` objects are kept as JSON.
//!
//! [`convert`] turns vulnshare reports into OSV records and back; [`archive`] writes the
//! per-ecosystem `all.zip` that osv.dev offers for offline scanning.

pub mod archive;
pub mod convert;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vulnshare_core::package::{RangeEvent, RangeType};

use crate::error::{FormatError, check_count, null_as_default, parse_json};

pub use archive::{records_by_ecosystem, write_ecosystem_zip};
pub use convert::{advisory_to_osv, osv_to_report_content, report_to_osv};

/// The OSV schema version vulnshare writes.
pub const SCHEMA_VERSION: &str = "1.6.0";
/// Largest OSV record accepted, in bytes.
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// Most `affected` entries one record may have.
pub const MAX_AFFECTED: usize = 1_000;
/// Most ranges one `affected` entry may have.
pub const MAX_RANGES: usize = 100;
/// Most events one range may have.
pub const MAX_EVENTS: usize = 1_000;
/// Most explicit versions one `affected` entry may list (PyPI advisories list many).
pub const MAX_VERSIONS: usize = 20_000;
/// Most aliases, related ids, severities, references or credits.
pub const MAX_LIST: usize = 1_000;

const FORMAT: &str = "OSV";

/// One OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRecord {
    /// The OSV schema version the record follows, e.g. `1.6.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// The record's id in its home database, e.g. `GHSA-jfh8-c2jp-5v3q` or `VS-2021-00001`.
    pub id: String,
    /// When the record last changed (RFC 3339, UTC).
    pub modified: Timestamp,
    /// When the record was first published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Timestamp>,
    /// When the record was withdrawn, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Timestamp>,
    /// Ids of the same vulnerability in other databases.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids of related but different vulnerabilities.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<String>,
    /// A one-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Details in CommonMark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity scores of the whole vulnerability.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<OsvSeverity>,
    /// The affected packages and versions.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<OsvAffected>,
    /// Links to advisories, fixes, reports.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<OsvReference>,
    /// People and organizations credited.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credits: Vec<OsvCredit>,
    /// Free-form data of the home database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Map<String, Value>>,
    /// Top-level fields this version of vulnshare does not know, kept as they came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The kind of an OSV severity score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OsvSeverityType {
    /// A CVSS v2 vector.
    #[serde(rename = "CVSS_V2")]
    CvssV2,
    /// A CVSS v3.0 or v3.1 vector.
    #[serde(rename = "CVSS_V3")]
    CvssV3,
    /// A CVSS v4.0 vector.
    #[serde(rename = "CVSS_V4")]
    CvssV4,
    /// Ubuntu's priority words.
    Ubuntu,
}

/// One severity score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvSeverity {
    /// The scoring system.
    #[serde(rename = "type")]
    pub severity_type: OsvSeverityType,
    /// The vector or value, e.g. `CVSS:3.1/AV:N/...`.
    pub score: String,
}

/// The package an `affected` entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvPackage {
    /// The OSV ecosystem name, e.g. `Maven` or `Debian:12`; any ecosystem OSV knows parses.
    pub ecosystem: String,
    /// The package name as the ecosystem spells it.
    pub name: String,
    /// The package URL without version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// One range of affected versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRange {
    /// How the events' versions are ordered.
    #[serde(rename = "type")]
    pub range_type: RangeType,
    /// The repository URL of a GIT range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events: introduced, fixed, last_affected, limit.
    pub events: Vec<RangeEvent>,
    /// Free-form data of the home database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Map<String, Value>>,
}

/// One affected package with its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvAffected {
    /// The package (absent only in some GIT-only records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<OsvPackage>,
    /// Severity specific to this package.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<OsvSeverity>,
    /// Version ranges.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed affected versions.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
    /// Ecosystem-defined data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Map<String, Value>>,
    /// Database-defined data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Map<String, Value>>,
}

/// The kind of a reference link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OsvReferenceType {
    /// A published security advisory.
    Advisory,
    /// An article or blog post.
    Article,
    /// A tool or rule that detects the vulnerability.
    Detection,
    /// A discussion, e.g. a mailing-list thread.
    Discussion,
    /// A report, e.g. an issue.
    Report,
    /// A source-code fix.
    Fix,
    /// The change that introduced it.
    Introduced,
    /// A package home page.
    Package,
    /// Evidence of exploitability or exploitation.
    Evidence,
    /// Anything else.
    Web,
    /// A git repository (deprecated in the schema, still read).
    Git,
}

/// One reference link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvReference {
    /// What the link points at.
    #[serde(rename = "type")]
    pub reference_type: OsvReferenceType,
    /// The URL.
    pub url: String,
}

/// The role of a credited party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OsvCreditType {
    /// Found the vulnerability.
    Finder,
    /// Reported it.
    Reporter,
    /// Analysed it.
    Analyst,
    /// Coordinated its disclosure.
    Coordinator,
    /// Wrote the fix.
    RemediationDeveloper,
    /// Reviewed the fix.
    RemediationReviewer,
    /// Verified the fix.
    RemediationVerifier,
    /// A tool.
    Tool,
    /// Funded the work.
    Sponsor,
    /// Any other role.
    Other,
}

/// One credited person or organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvCredit {
    /// The name.
    pub name: String,
    /// Contact URLs or addresses.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contact: Vec<String>,
    /// The role.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub credit_type: Option<OsvCreditType>,
}

/// Parses and checks one OSV record; the error names the JSON path of the first problem.
pub fn parse_osv(bytes: &[u8]) -> Result<OsvRecord, FormatError> {
    let record: OsvRecord = parse_json(FORMAT, bytes, MAX_RECORD_BYTES)?;
    record.check()?;
    Ok(record)
}

impl OsvRecord {
    /// Checks the rules of the OSV schema that the types cannot express, and vulnshare's limits.
    pub fn check(&self) -> Result<(), FormatError> {
        let bad = |path: String, message: &str| Err(FormatError::invalid(FORMAT, path, message));
        let id = self.id.trim();
        if id.is_empty() || id.len() > 200 || id.chars().any(|c| c.is_whitespace() || c == '/') {
            return bad(
                "id".into(),
                "an id is 1 to 200 characters without spaces or '/'",
            );
        }
        for (name, list) in [("aliases", &self.aliases), ("related", &self.related)] {
            check_count(FORMAT, || name.into(), list, MAX_LIST)?;
        }
        check_count(FORMAT, || "severity".into(), &self.severity, MAX_LIST)?;
        check_count(FORMAT, || "references".into(), &self.references, MAX_LIST)?;
        check_count(FORMAT, || "credits".into(), &self.credits, MAX_LIST)?;
        check_count(FORMAT, || "affected".into(), &self.affected, MAX_AFFECTED)?;
        for (i, r) in self.references.iter().enumerate() {
            if !(r.url.starts_with("https://") || r.url.starts_with("http://")) {
                return bad(
                    format!("references[{i}].url"),
                    "a reference is an http(s) URL",
                );
            }
        }
        for (i, c) in self.credits.iter().enumerate() {
            if c.name.trim().is_empty() {
                return bad(format!("credits[{i}].name"), "a credit names someone");
            }
        }
        for (i, a) in self.affected.iter().enumerate() {
            check_affected(a, i)?;
        }
        Ok(())
    }

    /// The record as pretty JSON, as osv.dev serves it.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("an OSV record always serializes")
    }
}

fn check_affected(a: &OsvAffected, i: usize) -> Result<(), FormatError> {
    let at = |rest: &str| format!("affected[{i}]{rest}");
    let bad = |path: String, message: &str| Err(FormatError::invalid(FORMAT, path, message));
    if let Some(p) = &a.package {
        if p.ecosystem.trim().is_empty() {
            return bad(
                at(".package.ecosystem"),
                "name the ecosystem, e.g. Maven or PyPI",
            );
        }
        if p.name.trim().is_empty() {
            return bad(at(".package.name"), "name the package");
        }
    }
    check_count(FORMAT, || at(".ranges"), &a.ranges, MAX_RANGES)?;
    check_count(FORMAT, || at(".versions"), &a.versions, MAX_VERSIONS)?;
    for (j, r) in a.ranges.iter().enumerate() {
        let path = at(&format!(".ranges[{j}]"));
        check_count(FORMAT, || format!("{path}.events"), &r.events, MAX_EVENTS)?;
        if r.events.is_empty() {
            return bad(format!("{path}.events"), "a range needs at least one event");
        }
        if !r
            .events
            .iter()
            .any(|e| matches!(e, RangeEvent::Introduced(_)))
        {
            return bad(
                format!("{path}.events"),
                "a range needs an \"introduced\" event",
            );
        }
        let fixed = r.events.iter().any(|e| matches!(e, RangeEvent::Fixed(_)));
        let last = r
            .events
            .iter()
            .any(|e| matches!(e, RangeEvent::LastAffected(_)));
        if fixed && last {
            return bad(
                format!("{path}.events"),
                "a range uses \"fixed\" or \"last_affected\", not both: split it into two ranges",
            );
        }
        if r.range_type == RangeType::Git && r.repo.as_deref().is_none_or(str::is_empty) {
            return bad(
                format!("{path}.repo"),
                "a GIT range names its repository URL",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
