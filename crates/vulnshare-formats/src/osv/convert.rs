//! Between vulnshare reports and OSV records.
//!
//! Export puts what OSV has no field for (CWEs, TLP, exploitation status, the report kind and
//! products named without a package) into the top-level `database_specific` object under the
//! keys listed in [`keys`], following GitHub's `cwe_ids` convention, so an import of our own
//! export restores them. The reporter's awareness time and evidence are never exported: they
//! are compliance data, not advisory content.

use std::str::FromStr;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeType, VersionRange};
use vulnshare_core::report::{
    AffectedProduct, ExploitationStatus, MAX_LABELS, Report, ReportContent, ReportKind,
    normalise_alias,
};
use vulnshare_core::severity::{CvssScore, Cwe};
use vulnshare_core::tlp::Tlp;

use super::{
    FORMAT, OsvAffected, OsvPackage, OsvRange, OsvRecord, OsvSeverity, OsvSeverityType,
    SCHEMA_VERSION,
};
use crate::error::FormatError;

/// Keys vulnshare writes into and reads from the top-level `database_specific`.
pub mod keys {
    /// CWE ids as strings, e.g. `["CWE-917"]` (GitHub's spelling).
    pub const CWE_IDS: &str = "cwe_ids";
    /// The TLP label, e.g. `CLEAR`.
    pub const TLP: &str = "tlp";
    /// `none`, `poc` or `exploited_in_wild`.
    pub const EXPLOITATION: &str = "exploitation";
    /// The report kind, e.g. `upstream_component`.
    pub const REPORT_KIND: &str = "report_kind";
    /// The vulnshare report id the record was made from.
    pub const REPORT_ID: &str = "vulnshare_report_id";
    /// Products named by name, model and version rather than as packages.
    pub const AFFECTED_PRODUCTS: &str = "affected_products";
}

const TECHNICAL: &str = "## Technical characteristics";
const HARM: &str = "## Harm";
const SCOPE: &str = "## Scope of impact";

/// Exports a report as an OSV record with the given id and modification time.
///
/// `published` is left unset: a report has no publication time of its own, so the caller
/// (the advisory publisher) sets it. Aliases equal to `id` are dropped.
pub fn report_to_osv(report: &Report, id: &str, modified: Timestamp) -> OsvRecord {
    let c = &report.content;
    let mut details = String::new();
    for (heading, text) in [
        (TECHNICAL, &c.technical_characteristics),
        (HARM, &c.harm),
        (SCOPE, &c.scope_of_impact),
    ] {
        if !text.is_empty() {
            if !details.is_empty() {
                details.push_str("\n\n");
            }
            details.push_str(&format!("{heading}\n\n{text}"));
        }
    }
    let severity = c.cvss().and_then(|s| severity_of(&s)).into_iter().collect();

    let mut db = Map::new();
    if !c.cwes.is_empty() {
        let cwes: Vec<String> = c.cwes.iter().map(Cwe::to_string).collect();
        db.insert(keys::CWE_IDS.into(), json!(cwes));
    }
    db.insert(keys::TLP.into(), json!(c.tlp.as_str()));
    db.insert(keys::EXPLOITATION.into(), json!(c.exploitation));
    db.insert(keys::REPORT_KIND.into(), json!(c.kind.as_str()));
    db.insert(keys::REPORT_ID.into(), json!(report.id));
    if !c.affected_products.is_empty() {
        db.insert(keys::AFFECTED_PRODUCTS.into(), json!(c.affected_products));
    }

    OsvRecord {
        schema_version: Some(SCHEMA_VERSION.into()),
        id: id.to_owned(),
        modified,
        published: None,
        withdrawn: None,
        aliases: c.aliases.iter().filter(|a| *a != id).cloned().collect(),
        related: Vec::new(),
        summary: Some(c.title.clone()),
        details: (!details.is_empty()).then_some(details),
        severity,
        affected: c.affected_packages.iter().map(affected_of).collect(),
        references: Vec::new(),
        credits: Vec::new(),
        database_specific: Some(db),
        extra: Default::default(),
    }
}

fn severity_of(score: &CvssScore) -> Option<OsvSeverity> {
    let severity_type = match score.version.as_str() {
        "3.0" | "3.1" => OsvSeverityType::CvssV3,
        "4.0" => OsvSeverityType::CvssV4,
        _ => return None,
    };
    Some(OsvSeverity {
        severity_type,
        score: score.vector.clone(),
    })
}

fn affected_of(p: &AffectedPackage) -> OsvAffected {
    OsvAffected {
        package: Some(OsvPackage {
            ecosystem: p.ecosystem.as_str().into(),
            name: p.name.clone(),
            purl: p
                .purl
                .clone()
                .or_else(|| package_purl(p.ecosystem, &p.name)),
        }),
        severity: Vec::new(),
        ranges: p
            .ranges
            .iter()
            .map(|r| OsvRange {
                range_type: r.range_type,
                repo: r.repo.clone(),
                events: r.events.clone(),
                database_specific: None,
            })
            .collect(),
        versions: p.versions.clone(),
        ecosystem_specific: None,
        database_specific: None,
    }
}

/// The versionless package URL of a package, e.g. `pkg:maven/org.apache.logging.log4j/log4j-core`.
pub fn package_purl(ecosystem: Ecosystem, name: &str) -> Option<String> {
    let (namespace, base) = match ecosystem {
        Ecosystem::Maven => {
            let (g, a) = name.split_once(':')?;
            (Some(g), a)
        }
        Ecosystem::Npm | Ecosystem::Go => match name.rsplit_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, name),
        },
        Ecosystem::PyPI | Ecosystem::CratesIo | Ecosystem::Debian => (None, name),
    };
    let mut purl = packageurl::PackageUrl::new(ecosystem.purl_type(), base).ok()?;
    if let Some(ns) = namespace {
        purl.with_namespace(ns).ok()?;
    } else if ecosystem == Ecosystem::Debian {
        purl.with_namespace("debian").ok()?;
    }
    Some(purl.to_string())
}

/// Imports an OSV record as the content of a new vulnshare report.
///
/// Every `affected` entry must name a package of an ecosystem vulnshare orders (Maven, npm,
/// PyPI, crates.io, Go, Debian); others are refused with their path, since a report that
/// silently lost packages would be worse than none. Aliases that are not CVE, GHSA, CNVD or
/// CNNVD ids are dropped; a CVE or GHSA record id becomes an alias. Fields vulnshare wrote
/// into `database_specific` are restored; otherwise the kind is `third_party_observation`, the
/// TLP `CLEAR` (OSV data is public) and exploitation `none`. The result is what a reporter
/// would submit: run `ReportContent::validate` before storing it.
pub fn osv_to_report_content(record: &OsvRecord) -> Result<ReportContent, FormatError> {
    record.check()?;
    let db = record.database_specific.clone().unwrap_or_default();
    let db_str = |key: &str| db.get(key).and_then(Value::as_str);

    let mut affected_packages = Vec::new();
    for (i, a) in record.affected.iter().enumerate() {
        affected_packages.push(package_of(a, i)?);
    }

    let (mut technical, mut harm, mut scope) = (String::new(), String::new(), String::new());
    let details = record.details.as_deref().unwrap_or("").trim();
    if details.starts_with(TECHNICAL) || details.starts_with(HARM) || details.starts_with(SCOPE) {
        for section in details.split("\n\n## ") {
            let section = section.strip_prefix("## ").unwrap_or(section);
            let (heading, body) = section.split_once("\n\n").unwrap_or((section, ""));
            let target = match heading {
                "Technical characteristics" => &mut technical,
                "Harm" => &mut harm,
                "Scope of impact" => &mut scope,
                _ => &mut technical,
            };
            target.push_str(body.trim());
        }
    } else {
        technical = details.to_owned();
    }

    let title = record
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| details.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or(&record.id)
        .chars()
        .take(300)
        .collect();

    let cvss_vector = record
        .severity
        .iter()
        .chain(record.affected.iter().flat_map(|a| &a.severity))
        .filter(|s| {
            matches!(
                s.severity_type,
                OsvSeverityType::CvssV3 | OsvSeverityType::CvssV4
            )
        })
        .min_by_key(|s| s.severity_type == OsvSeverityType::CvssV4)
        .map(|s| s.score.clone());

    let mut cwes = Vec::new();
    if let Some(list) = db.get(keys::CWE_IDS).and_then(Value::as_array) {
        for (i, v) in list.iter().enumerate().take(MAX_LABELS) {
            let cwe = v.as_str().map(Cwe::parse).transpose().ok().flatten();
            match cwe {
                Some(cwe) => cwes.push(cwe),
                None => {
                    return Err(FormatError::invalid(
                        FORMAT,
                        format!("database_specific.{}[{i}]", keys::CWE_IDS),
                        "write CWE ids as strings like \"CWE-917\"",
                    ));
                }
            }
        }
    }

    let mut aliases: Vec<String> = std::iter::once(&record.id)
        .chain(&record.aliases)
        .filter_map(|a| normalise_alias(a).ok())
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases.truncate(MAX_LABELS);

    let affected_products: Vec<AffectedProduct> = match db.get(keys::AFFECTED_PRODUCTS) {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
            FormatError::invalid(
                FORMAT,
                format!("database_specific.{}", keys::AFFECTED_PRODUCTS),
                format!("not a list of vulnshare products: {e}"),
            )
        })?,
        None => Vec::new(),
    };

    Ok(ReportContent {
        kind: db_str(keys::REPORT_KIND)
            .and_then(ReportKind::parse)
            .unwrap_or(ReportKind::ThirdPartyObservation),
        title,
        technical_characteristics: technical,
        harm,
        scope_of_impact: scope,
        affected_products,
        affected_packages,
        cvss_vector,
        cwes,
        exploitation: db
            .get(keys::EXPLOITATION)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or(ExploitationStatus::None),
        aware_at: None,
        awareness_evidence: None,
        tlp: db_str(keys::TLP).and_then(Tlp::parse).unwrap_or(Tlp::Clear),
        aliases,
    })
}

fn package_of(a: &OsvAffected, i: usize) -> Result<AffectedPackage, FormatError> {
    let Some(p) = &a.package else {
        return Err(FormatError::invalid(
            FORMAT,
            format!("affected[{i}].package"),
            "vulnshare imports package advisories: name the package and its ecosystem",
        ));
    };
    let Some(ecosystem) = Ecosystem::parse(&p.ecosystem) else {
        let supported: Vec<&str> = Ecosystem::ALL.iter().map(|e| e.as_str()).collect();
        return Err(FormatError::invalid(
            FORMAT,
            format!("affected[{i}].package.ecosystem"),
            format!(
                "vulnshare cannot order versions of ecosystem {:?}; supported: {}",
                p.ecosystem,
                supported.join(", ")
            ),
        ));
    };
    let ranges = a
        .ranges
        .iter()
        // GIT ranges name commits: they cannot match a component version, and vulnshare
        // packages hold only ordered ranges plus explicit versions.
        .filter(|r| r.range_type != RangeType::Git)
        .map(|r| VersionRange {
            range_type: r.range_type,
            repo: None,
            events: r.events.clone(),
        })
        .collect();
    let purl = p
        .purl
        .as_deref()
        .map(|s| strip_purl_version(s).unwrap_or_else(|| s.to_owned()));
    let package = AffectedPackage {
        ecosystem,
        name: p.name.clone(),
        // vulnshare spells Debian purls without the vendor namespace (`pkg:deb/openssl`);
        // OSV's Debian records carry `pkg:deb/debian/...`, so the name alone identifies them.
        purl: purl.filter(|_| ecosystem != Ecosystem::Debian),
        ranges,
        versions: a.versions.clone(),
    };
    package.validate().map_err(|invalid| {
        let first = &invalid.0[0];
        let field = first.field.replace("purl", "package.purl");
        let field = if field == "name" {
            "package.name".into()
        } else {
            field
        };
        FormatError::invalid(FORMAT, format!("affected[{i}].{field}"), &first.message)
    })
}

/// Drops the version, qualifiers and subpath from a purl: affected packages are versionless.
fn strip_purl_version(purl: &str) -> Option<String> {
    let mut p = packageurl::PackageUrl::from_str(purl).ok()?;
    p.without_version().clear_qualifiers().without_subpath();
    Some(p.to_string())
}

/// An advisory as an OSV record: its id, aliases, summary, details with the remediation,
/// CVSS severity, affected packages, credits, publication and withdrawal times.
pub fn advisory_to_osv(advisory: &vulnshare_core::advisory::Advisory) -> OsvRecord {
    let mut details = advisory.details.clone();
    if !advisory.remediation.is_empty() {
        if !details.is_empty() {
            details.push_str("\n\n");
        }
        details.push_str(&format!("Remediation\n\n{}", advisory.remediation));
    }
    let severity = advisory
        .cvss_vector
        .as_deref()
        .and_then(|v| CvssScore::parse(v).ok())
        .and_then(|s| severity_of(&s))
        .into_iter()
        .collect();
    let mut db = Map::new();
    if !advisory.cwes.is_empty() {
        let cwes: Vec<String> = advisory.cwes.iter().map(Cwe::to_string).collect();
        db.insert(keys::CWE_IDS.into(), json!(cwes));
    }
    db.insert(keys::TLP.into(), json!(advisory.tlp.as_str()));
    OsvRecord {
        schema_version: Some(SCHEMA_VERSION.into()),
        id: advisory.id.clone(),
        modified: advisory.updated_at,
        published: Some(advisory.published_at),
        withdrawn: (advisory.state == vulnshare_core::advisory::AdvisoryState::Withdrawn)
            .then_some(advisory.updated_at),
        aliases: advisory
            .aliases
            .iter()
            .filter(|a| **a != advisory.id)
            .cloned()
            .collect(),
        related: Vec::new(),
        summary: Some(advisory.summary.clone()),
        details: (!details.is_empty()).then_some(details),
        severity,
        affected: advisory.affected_packages.iter().map(affected_of).collect(),
        references: Vec::new(),
        credits: advisory
            .credits
            .iter()
            .map(|name| super::OsvCredit {
                name: name.clone(),
                contact: Vec::new(),
                credit_type: None,
            })
            .collect(),
        database_specific: Some(db),
        extra: Default::default(),
    }
}
