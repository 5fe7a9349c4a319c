//! Test fixtures shared by the format modules: the canonical Log4Shell report and golden-file
//! comparison. Golden files under `tests/fixtures/` are written by this code: run the tests with
//! `VULNSHARE_BLESS=1` after an intended change of an export, then review the diff.

use std::path::PathBuf;

use jiff::Timestamp;
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent, RangeType, VersionRange};
use vulnshare_core::report::{
    AffectedProduct, ExploitationStatus, Report, ReportContent, ReportKind, ReportState,
};
use vulnshare_core::severity::Cwe;
use vulnshare_core::tlp::Tlp;

/// A timestamp from RFC 3339 text.
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixture timestamps are valid")
}

/// The path of a fixture file.
pub fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// Reads a fixture file.
pub fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixture_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Compares `actual` with the golden file, or rewrites it when `VULNSHARE_BLESS=1`.
pub fn golden(relative: &str, actual: &str) {
    let path = fixture_path(relative);
    if std::env::var_os("VULNSHARE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {}: {e}; run the tests with VULNSHARE_BLESS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the export; if the change is intended, rerun with VULNSHARE_BLESS=1 \
         and review the diff\n--- actual ---\n{actual}",
        path.display()
    );
}

/// The content of the canonical scenario's report: CVE-2021-44228 in log4j-core.
pub fn log4shell_content() -> ReportContent {
    ReportContent {
        kind: ReportKind::UpstreamComponent,
        title: "JNDI lookup in log4j-core allows remote code execution".into(),
        technical_characteristics: "Message lookup substitution resolves ${jndi:ldap://...} \
            in logged strings and loads a class from the attacker's server."
            .into(),
        harm: "Remote code execution as the user running the application.".into(),
        scope_of_impact: "Every Java application that logs attacker-controlled strings with \
            log4j-core 2.0-beta9 to 2.14.1."
            .into(),
        affected_products: vec![AffectedProduct {
            vendor: Some("Apache Software Foundation".into()),
            name: "Apache Log4j".into(),
            model: Some("log4j-core".into()),
            versions: vec!["2.0-beta9 to 2.14.1".into()],
            product_id: None,
        }],
        affected_packages: vec![AffectedPackage {
            ecosystem: Ecosystem::Maven,
            name: "org.apache.logging.log4j:log4j-core".into(),
            purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core".into()),
            ranges: vec![VersionRange {
                range_type: RangeType::Ecosystem,
                repo: None,
                events: vec![
                    RangeEvent::Introduced("2.0-beta9".into()),
                    RangeEvent::Fixed("2.3.1".into()),
                    RangeEvent::Introduced("2.4".into()),
                    RangeEvent::Fixed("2.12.2".into()),
                    RangeEvent::Introduced("2.13.0".into()),
                    RangeEvent::Fixed("2.15.0".into()),
                ],
            }],
            versions: vec![],
        }],
        cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into()),
        cwes: vec![Cwe(502), Cwe(917)],
        exploitation: ExploitationStatus::ExploitedInWild,
        aware_at: Some(ts("2021-11-24T02:00:00Z")),
        awareness_evidence: Some("mail from the reporter, 2021-11-24 10:00 CST".into()),
        tlp: Tlp::Clear,
        aliases: vec!["CVE-2021-44228".into(), "GHSA-jfh8-c2jp-5v3q".into()],
    }
}

/// The canonical report as stored, published state.
pub fn log4shell_report() -> Report {
    let content = log4shell_content()
        .validate(ts("2021-12-09T08:00:00Z"))
        .expect("the fixture report is valid");
    Report {
        id: "VS-2021-00001".into(),
        reporter_org_id: "org-a".into(),
        created_by: "user-a".into(),
        state: ReportState::Published,
        duplicate_of: None,
        rejection_reason: None,
        received_at: Some(ts("2021-12-09T08:00:00Z")),
        created_at: ts("2021-12-09T07:55:00Z"),
        updated_at: ts("2021-12-10T00:00:00Z"),
        content,
    }
}
