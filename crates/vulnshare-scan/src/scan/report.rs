//! The scan's results: components with their evidence, per-CVE status and advisory matches,
//! plus the warnings met; and the human-readable table.

use std::fmt::Write as _;

use serde::Serialize;

use super::fingerprint::{Family, Feature};
use super::limits::ScanWarning;

/// How a piece of evidence was obtained (CycloneDX `evidence.identity.methods.technique`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// Read from class files' bytecode.
    BinaryAnalysis,
    /// Read from pom.properties or MANIFEST.MF.
    ManifestAnalysis,
    /// Read from the file name.
    Filename,
}

/// One piece of evidence for a component's identity or version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// What it identifies: `name` or `version`.
    pub field: &'static str,
    /// How it was obtained.
    pub technique: Technique,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// What was seen, e.g. `org/apache/logging/log4j/core/net/JndiManager has "log4j2.enableJndi"`.
    pub value: String,
}

/// A CVE's status for one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The vulnerable code is present and reachable by configuration or input.
    Vulnerable,
    /// The version is affected but the vulnerable class was removed.
    Mitigated,
    /// The version or the class content carries the fix.
    Fixed,
    /// The CVE is not about this component.
    NotApplicable,
}

/// A CVE verdict for one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CveVerdict {
    /// The CVE identifier.
    pub cve: &'static str,
    /// The GitHub advisory identifier.
    pub ghsa: &'static str,
    /// The verdict.
    pub status: Status,
    /// CVSS base score.
    pub score: f32,
    /// Why, in a sentence.
    pub reason: String,
}

/// An OSV advisory that affects a component's version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryMatch {
    /// The advisory id.
    pub id: String,
    /// Its aliases (CVE ids).
    pub aliases: Vec<String>,
    /// The base score, when the advisory has a CVSS vector.
    pub score: Option<f32>,
    /// The qualitative severity (`critical`, `high`...), when known.
    pub severity: Option<String>,
    /// Which version was matched, and where it came from.
    pub matched_version: String,
}

/// One identified component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Maven group id.
    pub group: String,
    /// Maven artifact id.
    pub artifact: String,
    /// The best-supported version, if any.
    pub version: Option<String>,
    /// The versions the class content allows, when it was inferred (`2.1 to 2.14.1`).
    pub inferred_versions: Option<String>,
    /// The family recognised from class content, if any.
    pub family: Option<Family>,
    /// Package URL.
    pub purl: String,
    /// Nested location, `app.ear!/lib/x.war!/WEB-INF/lib/log4j-core-2.14.1.jar`.
    pub location: String,
    /// The path on disk holding it.
    pub file: String,
    /// SHA-256 of the jar bytes (absent for exploded classes).
    pub sha256: Option<String>,
    /// SHA-1 of the jar bytes.
    pub sha1: Option<String>,
    /// The package prefix when relocated (shaded), e.g. `shaded/org/apache/logging/`.
    pub relocated_prefix: Option<String>,
    /// Features seen in the class content.
    pub features: Vec<Feature>,
    /// Evidence for name and version.
    pub evidence: Vec<Evidence>,
    /// Overall identity confidence, 0.0 to 1.0.
    pub confidence: f32,
    /// Disagreements between sources (pom says one thing, classes another).
    pub conflicts: Vec<String>,
    /// Verdicts for the Log4Shell-era CVEs.
    pub cves: Vec<CveVerdict>,
    /// Matches from the OSV advisory set.
    pub advisories: Vec<AdvisoryMatch>,
}

impl Component {
    /// The highest score among vulnerable verdicts and advisory matches, if any.
    pub fn worst_score(&self) -> Option<f32> {
        let cves = self
            .cves
            .iter()
            .filter(|v| v.status == Status::Vulnerable)
            .map(|v| v.score);
        let advisories = self.advisories.iter().map(|a| {
            a.score
                .unwrap_or_else(|| score_of_severity(a.severity.as_deref()))
        });
        cves.chain(advisories).reduce(f32::max)
    }
}

/// A representative score for a qualitative severity (used when an advisory has no vector).
pub fn score_of_severity(severity: Option<&str>) -> f32 {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        Some("critical") => 9.0,
        Some("high") => 7.0,
        Some("moderate" | "medium") => 4.0,
        Some("low") => 0.1,
        _ => 5.0,
    }
}

/// Counters for the whole scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Files on disk looked at.
    pub files: u64,
    /// Bytes of the archives, classes and poms scanned (of a zip on disk, only the central
    /// directory and the entries that matter are read).
    pub bytes_read: u64,
    /// Archives and streams opened, at any depth.
    pub archives: u64,
    /// Class files parsed.
    pub classes_parsed: u64,
}

/// Everything a scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScanReport {
    /// Components, sorted by location.
    pub components: Vec<Component>,
    /// Problems met; the scan went on past each.
    pub warnings: Vec<ScanWarning>,
    /// Counters.
    pub stats: ScanStats,
}

impl ScanReport {
    /// The highest score of any vulnerable finding, if there is one.
    pub fn worst_score(&self) -> Option<f32> {
        self.components
            .iter()
            .filter_map(Component::worst_score)
            .reduce(f32::max)
    }

    /// A plain-text table: one line per component, then its non-fixed CVE verdicts.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        if self.components.is_empty() {
            out.push_str("No components identified.\n");
        }
        for c in &self.components {
            let version = c
                .version
                .clone()
                .or_else(|| c.inferred_versions.clone())
                .unwrap_or_else(|| "?".into());
            let _ = writeln!(
                out,
                "{}:{} {} (confidence {:.2})\n  at {}",
                c.group, c.artifact, version, c.confidence, c.location
            );
            if let Some(prefix) = &c.relocated_prefix {
                let _ = writeln!(out, "  relocated under {prefix}");
            }
            for conflict in &c.conflicts {
                let _ = writeln!(out, "  CONFLICT: {conflict}");
            }
            for v in c.cves.iter().filter(|v| v.status != Status::NotApplicable) {
                let status = match v.status {
                    Status::Vulnerable => "VULNERABLE",
                    Status::Mitigated => "mitigated",
                    Status::Fixed => "fixed",
                    Status::NotApplicable => "n/a",
                };
                let _ = writeln!(out, "  {:<16} {:<10} {}", v.cve, status, v.reason);
            }
            for a in &c.advisories {
                let _ = writeln!(
                    out,
                    "  {:<16} advisory   {} ({})",
                    a.id,
                    a.aliases.join(", "),
                    a.severity.as_deref().unwrap_or("unrated")
                );
            }
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}: {}", w.location, w.message);
        }
        let _ = writeln!(
            out,
            "{} files, {} archives, {} classes parsed, {} bytes read",
            self.stats.files, self.stats.archives, self.stats.classes_parsed, self.stats.bytes_read
        );
        out
    }
}
