//! CVE JSON 5.1 records: a vulnshare report or published advisory as the CNA container of a published CVE record
//! (`cveMetadata` + `containers.cna` with affected, descriptions, problemTypes, metrics and
//! references), ready for CVE Services' `POST /cve/{id}/cna`.
//!
//! Affected packages are written with `collectionURL` + `packageName` as well as `vendor` +
//! `product`, one version entry per affected interval (`lessThan` for a fixed version,
//! `lessThanOrEqual` for a last affected one) and `defaultStatus: unaffected`. Products named
//! without a package list the vendor's version texts with `versionType: custom`.
//!
//! [`container`] checks CNA containers received through the CVE Services API.

pub mod container;

use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::advisory::Advisory;
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent};
use vulnshare_core::report::{AffectedProduct, Report};
use vulnshare_core::severity::{CvssScore, Cwe};

use crate::csaf::vulnerability::cwe_name;
use crate::error::FormatError;

const FORMAT: &str = "CVE";

/// What a CVE record needs beyond the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CveOptions {
    /// The CVE id, e.g. `CVE-2021-44228`.
    pub cve_id: String,
    /// The CNA's organization UUID.
    pub org_id: String,
    /// The CNA's short name.
    pub short_name: String,
    /// When the record was published.
    pub date_published: Timestamp,
    /// When the record last changed.
    pub date_updated: Timestamp,
    /// Reference URLs; CVE records need at least one.
    pub references: Vec<String>,
}

/// The registry a package ecosystem's packages are collected in (`collectionURL`).
pub fn collection_url(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Maven => "https://repo.maven.apache.org/maven2",
        Ecosystem::Npm => "https://www.npmjs.com",
        Ecosystem::PyPI => "https://pypi.org",
        Ecosystem::CratesIo => "https://crates.io",
        Ecosystem::Go => "https://pkg.go.dev",
        Ecosystem::Debian => "https://tracker.debian.org",
    }
}

/// Exports `report` as a published CVE JSON 5.1 record.
///
/// Fails when the CVE id is malformed, a reference is not an http(s) URL or there is none,
/// the org id is not a UUID, or the report names nothing affected.
pub fn report_to_cve(report: &Report, options: &CveOptions) -> Result<Value, FormatError> {
    let c = &report.content;
    let mut description = c.title.clone();
    for text in [&c.technical_characteristics, &c.harm, &c.scope_of_impact] {
        if !text.is_empty() {
            description.push_str("\n\n");
            description.push_str(text);
        }
    }
    record(
        &Content {
            title: &c.title,
            description,
            solution: None,
            packages: &c.affected_packages,
            products: &c.affected_products,
            cwes: &c.cwes,
            cvss: c.cvss(),
        },
        options,
    )
}

/// Exports a published advisory as a CVE JSON 5.1 record: its summary as the title, its
/// details as the description and its remediation under `solutions`.
///
/// Fails as [`report_to_cve`] does.
pub fn advisory_to_cve(advisory: &Advisory, options: &CveOptions) -> Result<Value, FormatError> {
    let description = if advisory.details.is_empty() {
        advisory.summary.clone()
    } else {
        advisory.details.clone()
    };
    record(
        &Content {
            title: &advisory.summary,
            description,
            solution: Some(&advisory.remediation).filter(|r| !r.is_empty()),
            packages: &advisory.affected_packages,
            products: &advisory.affected_products,
            cwes: &advisory.cwes,
            cvss: advisory
                .cvss_vector
                .as_deref()
                .and_then(|v| CvssScore::parse(v).ok()),
        },
        options,
    )
}

/// What a CVE record says, whether it comes from a report or an advisory.
struct Content<'a> {
    title: &'a str,
    description: String,
    solution: Option<&'a String>,
    packages: &'a [AffectedPackage],
    products: &'a [AffectedProduct],
    cwes: &'a [Cwe],
    cvss: Option<CvssScore>,
}

fn record(c: &Content<'_>, options: &CveOptions) -> Result<Value, FormatError> {
    check_options(options)?;
    let mut affected: Vec<Value> = c.packages.iter().map(package_entry).collect();
    for p in c.products {
        let product = match &p.model {
            Some(model) => format!("{} {model}", p.name),
            None => p.name.clone(),
        };
        let versions: Vec<Value> = p
            .versions
            .iter()
            .map(|v| json!({ "version": v, "status": "affected", "versionType": "custom" }))
            .collect();
        let mut entry = json!({
            "vendor": p.vendor.as_deref().unwrap_or("n/a"),
            "product": product,
            "defaultStatus": if versions.is_empty() { "affected" } else { "unknown" },
        });
        if !versions.is_empty() {
            entry["versions"] = json!(versions);
        }
        affected.push(entry);
    }
    if affected.is_empty() {
        return Err(FormatError::invalid(
            FORMAT,
            "containers.cna.affected",
            "a CVE record names at least one affected product or package",
        ));
    }

    let mut cna = json!({
        "providerMetadata": {
            "orgId": options.org_id,
            "shortName": options.short_name,
            "dateUpdated": options.date_updated.to_string(),
        },
        "title": c.title,
        "descriptions": [{ "lang": "en", "value": c.description }],
        "affected": affected,
        "references": options.references.iter().map(|u| json!({ "url": u })).collect::<Vec<_>>(),
    });
    if let Some(solution) = c.solution {
        cna["solutions"] = json!([{ "lang": "en", "value": solution }]);
    }
    if !c.cwes.is_empty() {
        let descriptions: Vec<Value> = c
            .cwes
            .iter()
            .map(|cwe| {
                let text = match cwe_name(cwe.0) {
                    Some(name) => format!("{cwe} {name}"),
                    None => cwe.to_string(),
                };
                json!({ "lang": "en", "type": "CWE", "cweId": cwe.to_string(), "description": text })
            })
            .collect();
        cna["problemTypes"] = json!([{ "descriptions": descriptions }]);
    }
    if let Some(score) = &c.cvss {
        let key = match score.version.as_str() {
            "3.0" => "cvssV3_0",
            "3.1" => "cvssV3_1",
            _ => "cvssV4_0",
        };
        cna["metrics"] = json!([{ key: {
            "version": score.version,
            "vectorString": score.vector,
            "baseScore": score.score,
            "baseSeverity": score.severity.to_uppercase(),
        }}]);
    }

    Ok(json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": options.cve_id,
            "assignerOrgId": options.org_id,
            "assignerShortName": options.short_name,
            "state": "PUBLISHED",
            "datePublished": options.date_published.to_string(),
            "dateUpdated": options.date_updated.to_string(),
        },
        "containers": { "cna": cna },
    }))
}

fn package_entry(p: &AffectedPackage) -> Value {
    let (vendor, product) = match p.ecosystem {
        Ecosystem::Maven => p.name.split_once(':').unwrap_or(("n/a", &p.name)),
        Ecosystem::Npm | Ecosystem::Go => p.name.rsplit_once('/').unwrap_or(("n/a", &p.name)),
        _ => ("n/a", p.name.as_str()),
    };
    let version_type = p.ecosystem.purl_type();
    let mut versions = Vec::new();
    for range in &p.ranges {
        let mut open: Option<&str> = None;
        for event in &range.events {
            match event {
                RangeEvent::Introduced(v) if open.is_none() => open = Some(v),
                RangeEvent::Fixed(v) | RangeEvent::LastAffected(v) => {
                    if let Some(start) = open.take() {
                        let bound = if matches!(event, RangeEvent::Fixed(_)) {
                            "lessThan"
                        } else {
                            "lessThanOrEqual"
                        };
                        versions.push(json!({
                            "version": start, bound: v,
                            "status": "affected", "versionType": version_type,
                        }));
                    }
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            versions.push(json!({
                "version": start, "lessThan": "*",
                "status": "affected", "versionType": version_type,
            }));
        }
    }
    for v in &p.versions {
        versions.push(json!({ "version": v, "status": "affected", "versionType": version_type }));
    }
    json!({
        "vendor": vendor,
        "product": product,
        "collectionURL": collection_url(p.ecosystem),
        "packageName": p.name,
        "versions": versions,
        "defaultStatus": "unaffected",
    })
}

fn check_options(o: &CveOptions) -> Result<(), FormatError> {
    let bad = |path: &str, message: &str| Err(FormatError::invalid(FORMAT, path, message));
    let id_ok = o
        .cve_id
        .strip_prefix("CVE-")
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(y, n)| {
            y.len() == 4
                && y.bytes().all(|b| b.is_ascii_digit())
                && (4..=19).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !id_ok {
        return bad(
            "cveMetadata.cveId",
            "write the id as CVE-YYYY-NNNN (4 to 19 digits)",
        );
    }
    let uuid_ok = o.org_id.len() == 36
        && o.org_id.char_indices().all(|(i, ch)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                ch == '-'
            } else {
                ch.is_ascii_hexdigit()
            }
        });
    if !uuid_ok {
        return bad("cveMetadata.assignerOrgId", "the CNA's org id is a UUID");
    }
    if o.short_name.is_empty() || o.short_name.len() > 32 {
        return bad(
            "cveMetadata.assignerShortName",
            "a short name is 1 to 32 characters",
        );
    }
    if o.references.is_empty() {
        return bad(
            "containers.cna.references",
            "give at least one reference URL",
        );
    }
    for (i, url) in o.references.iter().enumerate() {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
            return Err(FormatError::invalid(
                FORMAT,
                format!("containers.cna.references[{i}].url"),
                "a reference is an http(s) URL of at most 2048 characters",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{golden, log4shell_report, ts};

    fn options() -> CveOptions {
        CveOptions {
            cve_id: "CVE-2021-44228".into(),
            org_id: "8254265b-2729-46b6-b9e3-3dfca2d5bfca".into(),
            short_name: "vulnshare".into(),
            date_published: ts("2021-12-10T00:00:00Z"),
            date_updated: ts("2021-12-14T00:00:00Z"),
            references: vec!["https://logging.apache.org/log4j/2.x/security.html".into()],
        }
    }

    #[test]
    fn log4shell_record_matches_the_golden_file() {
        let record = report_to_cve(&log4shell_report(), &options()).unwrap();
        golden(
            "cve/CVE-2021-44228.json",
            &(serde_json::to_string_pretty(&record).unwrap() + "\n"),
        );
        let cna = &record["containers"]["cna"];
        let versions = cna["affected"][0]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[0]["version"], "2.0-beta9");
        assert_eq!(versions[0]["lessThan"], "2.3.1");
        assert_eq!(
            cna["affected"][0]["packageName"],
            "org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(cna["metrics"][0]["cvssV3_1"]["baseScore"], 10.0);
        assert_eq!(
            cna["problemTypes"][0]["descriptions"][0]["cweId"],
            "CWE-502"
        );
    }

    #[test]
    fn an_advisory_becomes_a_record_with_its_remediation_as_the_solution() {
        let c = log4shell_report().content;
        let advisory = Advisory {
            id: "VSA-2021-00001".into(),
            case_id: "CASE-2021-00001".into(),
            version: 1,
            tlp: vulnshare_core::tlp::Tlp::Clear,
            state: vulnshare_core::advisory::AdvisoryState::Published,
            summary: "Log4Shell: JNDI lookup RCE in log4j-core".into(),
            details: "Log4j 2 evaluates JNDI lookups in logged messages.".into(),
            remediation: "Upgrade log4j-core to 2.15.0 or later.".into(),
            aliases: vec!["CVE-2021-44228".into()],
            affected_packages: c.affected_packages.clone(),
            affected_products: Vec::new(),
            cvss_vector: c.cvss_vector.clone(),
            cwes: c.cwes.clone(),
            credits: Vec::new(),
            published_at: ts("2021-12-10T00:00:00Z"),
            updated_at: ts("2021-12-14T00:00:00Z"),
            withdrawn_reason: None,
            attachments: Vec::new(),
        };
        let record = advisory_to_cve(&advisory, &options()).unwrap();
        let cna = &record["containers"]["cna"];
        assert_eq!(cna["title"], advisory.summary.as_str());
        assert_eq!(cna["descriptions"][0]["value"], advisory.details.as_str());
        assert_eq!(cna["solutions"][0]["value"], advisory.remediation.as_str());
        assert_eq!(cna["metrics"][0]["cvssV3_1"]["baseScore"], 10.0);
        assert_eq!(
            cna["affected"][0]["packageName"],
            "org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(record["cveMetadata"]["cveId"], "CVE-2021-44228");
        // No remediation, no `solutions`; nothing affected, no record.
        let bare = Advisory {
            remediation: String::new(),
            ..advisory.clone()
        };
        assert!(
            advisory_to_cve(&bare, &options()).unwrap()["containers"]["cna"]
                .get("solutions")
                .is_none()
        );
        let nothing = Advisory {
            affected_packages: Vec::new(),
            ..advisory
        };
        assert!(advisory_to_cve(&nothing, &options()).is_err());
    }

    #[test]
    fn option_errors_name_the_field() {
        let check = |f: &dyn Fn(&mut CveOptions)| {
            let mut o = options();
            f(&mut o);
            report_to_cve(&log4shell_report(), &o)
                .unwrap_err()
                .path()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            check(&|o| o.cve_id = "CVE-21-1".into()),
            "cveMetadata.cveId"
        );
        assert_eq!(
            check(&|o| o.org_id = "acme".into()),
            "cveMetadata.assignerOrgId"
        );
        assert_eq!(
            check(&|o| o.references.clear()),
            "containers.cna.references"
        );
        assert_eq!(
            check(&|o| o.references = vec!["ftp://x".into()]),
            "containers.cna.references[0].url"
        );
    }

    #[test]
    fn a_report_with_nothing_affected_is_refused() {
        let mut r = log4shell_report();
        r.content.affected_packages.clear();
        r.content.affected_products.clear();
        let err = report_to_cve(&r, &options()).unwrap_err();
        assert_eq!(err.path(), Some("containers.cna.affected"));
    }
}
