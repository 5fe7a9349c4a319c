//! CSAF tests: golden exports (which `scripts/check-csaf.sh` validates with the CSAF mandatory
//! tests), TLP mapping, the product tree and the option checks.

use std::path::PathBuf;

use serde_json::Value;
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent, RangeType, VersionRange};
use vulnshare_core::report::{ExploitationStatus, Report};
use vulnshare_core::tlp::Tlp;

use super::*;
use crate::fixtures::{golden, log4shell_report, ts};

fn options() -> CsafOptions {
    CsafOptions {
        tracking_id: "VS-ADV-2021-0001".into(),
        publisher: CsafPublisher {
            category: PublisherCategory::Coordinator,
            name: "vulnshare test platform".into(),
            namespace: "https://vulnshare.example".into(),
            contact_details: Some("psirt@vulnshare.example".into()),
        },
        status: TrackingStatus::Final,
        revisions: vec![
            CsafRevision {
                number: 1,
                date: ts("2021-12-10T00:00:00Z"),
                summary: "Initial release.".into(),
            },
            CsafRevision {
                number: 2,
                date: ts("2021-12-14T00:00:00Z"),
                summary: "Added the 2.12.2 and 2.3.1 fixes.".into(),
            },
        ],
        self_url: Some(
            "https://vulnshare.example/.well-known/csaf/white/2021/vs-adv-2021-0001.json".into(),
        ),
        mitigation: Some("Remove the JndiLookup class from the classpath.".into()),
    }
}

fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap() + "\n"
}

/// A second report: two packages, explicit versions, last_affected, AMBER+STRICT, CVSS 4.
fn mixed_report() -> Report {
    let mut r = log4shell_report();
    r.id = "VS-2022-00042".into();
    let c = &mut r.content;
    c.tlp = Tlp::AmberStrict;
    c.exploitation = ExploitationStatus::Poc;
    c.cvss_vector = Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into());
    c.cwes = vec![
        vulnshare_core::severity::Cwe(1333),
        vulnshare_core::severity::Cwe(400),
    ];
    c.aliases = vec!["CVE-2022-0001".into(), "CVE-2022-0002".into()];
    c.affected_products[0].versions = vec!["5.1".into(), "5.2 and earlier".into()];
    c.affected_packages = vec![
        AffectedPackage {
            ecosystem: Ecosystem::Npm,
            name: "@scope/parser".into(),
            purl: None,
            ranges: vec![VersionRange {
                range_type: RangeType::Semver,
                repo: None,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::LastAffected("1.4.2".into()),
                ],
            }],
            versions: vec!["2.0.0-rc.1".into()],
        },
        AffectedPackage {
            ecosystem: Ecosystem::PyPI,
            name: "parser-py".into(),
            purl: None,
            ranges: vec![VersionRange {
                range_type: RangeType::Ecosystem,
                repo: None,
                events: vec![
                    RangeEvent::Introduced("1.0".into()),
                    RangeEvent::Fixed("1.0.5".into()),
                    RangeEvent::Introduced("2.0".into()),
                ],
            }],
            versions: vec![],
        },
    ];
    r
}

fn exports() -> Vec<(String, Value)> {
    let log4shell = log4shell_report();
    let mixed = mixed_report();
    let mut draft = options();
    draft.tracking_id = "VS-ADV-2022-0042".into();
    draft.status = TrackingStatus::Draft;
    draft.revisions = vec![CsafRevision {
        number: 0,
        date: ts("2022-03-01T09:30:00Z"),
        summary: "Draft for the participants.".into(),
    }];
    draft.self_url = None;
    draft.mitigation = None;
    let mut out = Vec::new();
    for (category, suffix) in [
        (CsafCategory::SecurityAdvisory, "advisory"),
        (CsafCategory::Vex, "vex"),
    ] {
        out.push((
            format!("log4shell-{suffix}.json"),
            report_to_csaf(&log4shell, category, &options()).unwrap(),
        ));
        out.push((
            format!("mixed-{suffix}.json"),
            report_to_csaf(&mixed, category, &draft).unwrap(),
        ));
    }
    out
}

#[test]
fn exports_match_the_golden_files() {
    for (name, doc) in exports() {
        golden(&format!("csaf/{name}"), &pretty(&doc));
    }
}

/// Writes every export to `$VULNSHARE_CSAF_OUT` (or a temporary folder) for
/// `scripts/check-csaf.sh`, which runs the CSAF mandatory tests over them.
#[test]
fn exports_are_written_for_the_external_validator() {
    let temp;
    let dir = match std::env::var_os("VULNSHARE_CSAF_OUT") {
        Some(dir) => PathBuf::from(dir),
        None => {
            temp = tempfile::tempdir().unwrap();
            temp.path().to_owned()
        }
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (name, doc) in exports() {
        let path = dir.join(name);
        std::fs::write(&path, pretty(&doc)).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(back, doc);
    }
}

#[test]
fn log4shell_advisory_has_the_expected_parts() {
    let doc = report_to_csaf(&log4shell_report(), CsafCategory::Vex, &options()).unwrap();
    assert_eq!(doc["document"]["category"], "csaf_vex");
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "WHITE");
    assert_eq!(doc["document"]["tracking"]["version"], "2");
    assert_eq!(
        doc["document"]["tracking"]["initial_release_date"],
        "2021-12-10T00:00:00Z"
    );
    let v = &doc["vulnerabilities"][0];
    assert_eq!(v["cve"], "CVE-2021-44228");
    assert_eq!(v["cwe"]["id"], "CWE-502");
    assert_eq!(v["scores"][0]["cvss_v3"]["baseScore"], 10.0);
    assert_eq!(v["scores"][0]["cvss_v3"]["baseSeverity"], "CRITICAL");
    assert_eq!(v["threats"][0]["category"], "exploit_status");
    // Three affected ranges plus the named product; three fixed versions.
    assert_eq!(
        v["product_status"]["known_affected"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(v["product_status"]["fixed"].as_array().unwrap().len(), 3);
    let text = doc.to_string();
    assert!(text.contains("vers:maven/>=2.0-beta9|<2.3.1"), "{text}");
    assert!(text.contains("pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0"));
    assert!(text.contains("Upgrade org.apache.logging.log4j:log4j-core to 2.12.2 or later."));
    assert!(!text.contains("aware"), "awareness data never leaves");
}

#[test]
fn every_known_affected_product_has_a_remediation() {
    for (name, doc) in exports() {
        let v = &doc["vulnerabilities"][0];
        let remediated: Vec<&Value> = v["remediations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["product_ids"].as_array().unwrap())
            .collect();
        for id in v["product_status"]["known_affected"].as_array().unwrap() {
            assert!(remediated.contains(&id), "{name}: {id} has no remediation");
        }
    }
}

#[test]
fn tlp_maps_to_csaf_2_0_labels() {
    assert_eq!(csaf_tlp(Tlp::Clear), ("WHITE", None));
    assert_eq!(csaf_tlp(Tlp::Red), ("RED", None));
    let (label, text) = csaf_tlp(Tlp::AmberStrict);
    assert_eq!(label, "AMBER");
    assert!(text.unwrap().contains("AMBER+STRICT"));
    let mixed = exports().remove(1).1;
    assert_eq!(mixed["document"]["distribution"]["tlp"]["label"], "AMBER");
    assert!(
        mixed["document"]["distribution"]["text"]
            .as_str()
            .unwrap()
            .contains("STRICT")
    );
}

#[test]
fn mixed_report_uses_ranges_ids_and_notes() {
    let doc = exports().remove(1).1;
    let text = doc.to_string();
    assert!(
        text.contains("vers:npm/<=1.4.2"),
        "introduced 0 has no lower bound"
    );
    assert!(
        text.contains("vers:pypi/>=2.0"),
        "an open interval has no upper bound"
    );
    assert!(text.contains("pkg:npm/%40scope/parser@2.0.0-rc.1"));
    assert!(
        text.contains("\"product_version_range\",\"name\":\"5.2 and earlier\""),
        "{text}"
    );
    let v = &doc["vulnerabilities"][0];
    assert_eq!(v["cve"], "CVE-2022-0001");
    assert_eq!(v["ids"][0]["text"], "CVE-2022-0002");
    assert_eq!(v["cwe"]["id"], "CWE-400", "CWE-1333 has no known name here");
    assert!(
        v.get("scores").is_none(),
        "CVSS 4 has no place in CSAF 2.0 scores"
    );
    assert!(text.contains("CVSS:4.0/"), "it is kept as a note");
}

#[test]
fn option_errors_name_the_field() {
    let check = |f: &dyn Fn(&mut CsafOptions)| {
        let mut o = options();
        f(&mut o);
        report_to_csaf(&log4shell_report(), CsafCategory::SecurityAdvisory, &o)
            .unwrap_err()
            .path()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        check(&|o| o.revisions.clear()),
        "document.tracking.revision_history"
    );
    assert_eq!(
        check(&|o| o.revisions[1].number = 3),
        "document.tracking.revision_history[1].number"
    );
    assert_eq!(
        check(&|o| o.revisions[1].date = ts("2021-01-01T00:00:00Z")),
        "document.tracking.revision_history[1].date"
    );
    assert_eq!(
        check(&|o| o.status = TrackingStatus::Draft),
        "document.tracking.status"
    );
    assert_eq!(
        check(&|o| o.publisher.namespace = "vulnshare".into()),
        "document.publisher.namespace"
    );
    assert_eq!(
        check(&|o| o.tracking_id = " ".into()),
        "document.tracking.id"
    );
}

#[test]
fn file_names_follow_section_5_1() {
    assert_eq!(csaf_file_name("VS-ADV-2021-0001"), "vs-adv-2021-0001.json");
    assert_eq!(
        csaf_file_name("Example Co: SA/2021+1"),
        "example_co_sa_2021+1.json"
    );
}
