//! OSV tests: parsing with paths, the schema's rules, export, import and `all.zip`.

use std::io::{Cursor, Read};

use serde_json::Value;
use vulnshare_core::package::{Ecosystem, RangeEvent};
use vulnshare_core::report::ReportKind;
use vulnshare_core::severity::Cwe;
use vulnshare_core::tlp::Tlp;
use vulnshare_core::version::is_affected;

use super::*;
use crate::fixtures::{golden, log4shell_report, read_fixture, ts};

fn export() -> OsvRecord {
    report_to_osv(
        &log4shell_report(),
        "VS-2021-00001",
        ts("2021-12-10T00:00:00Z"),
    )
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&read_fixture("schemas/osv-1.6-constraints.schema.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn schema_errors(doc: &Value) -> Vec<String> {
    schema_validator()
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn export_matches_the_golden_file() {
    golden(
        "osv/VS-2021-00001.json",
        &(export().to_json_pretty() + "\n"),
    );
}

#[test]
fn exports_validate_against_the_schema() {
    let doc = serde_json::to_value(export()).unwrap();
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    let ghsa: Value =
        serde_json::from_slice(&read_fixture("osv/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    assert_eq!(schema_errors(&ghsa), Vec::<String>::new());
}

#[test]
fn the_schema_catches_what_it_should() {
    let mut doc = serde_json::to_value(export()).unwrap();
    doc["affected"][0]["ranges"][0]["events"] =
        serde_json::json!([{"fixed": "1"}, {"last_affected": "2"}]);
    doc["modified"] = "2021-12-10 00:00".into();
    let errors = schema_errors(&doc);
    assert!(
        errors.iter().any(|e| e.starts_with("/modified")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("/affected/0/ranges/0")),
        "{errors:?}"
    );
}

#[test]
fn export_carries_what_osv_has_no_field_for() {
    let r = export();
    assert_eq!(r.schema_version.as_deref(), Some(SCHEMA_VERSION));
    assert_eq!(r.aliases, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(r.severity[0].severity_type, OsvSeverityType::CvssV3);
    let db = r.database_specific.as_ref().unwrap();
    assert_eq!(db["cwe_ids"], serde_json::json!(["CWE-502", "CWE-917"]));
    assert_eq!(db["exploitation"], "exploited_in_wild");
    assert!(
        !r.to_json_pretty().contains("aware"),
        "awareness data never leaves"
    );
    let purl = r.affected[0].package.as_ref().unwrap().purl.as_deref();
    assert_eq!(purl, Some("pkg:maven/org.apache.logging.log4j/log4j-core"));
}

#[test]
fn round_trip_restores_the_report_content() {
    let original = log4shell_report().content;
    let json = export().to_json_pretty();
    let back = osv_to_report_content(&parse_osv(json.as_bytes()).unwrap()).unwrap();
    let back = back.validate(ts("2021-12-10T00:00:00Z")).unwrap();
    assert_eq!(back.title, original.title);
    assert_eq!(
        back.technical_characteristics,
        original.technical_characteristics
    );
    assert_eq!(back.harm, original.harm);
    assert_eq!(back.scope_of_impact, original.scope_of_impact);
    assert_eq!(back.affected_packages, original.affected_packages);
    assert_eq!(back.affected_products, original.affected_products);
    assert_eq!(back.cvss_vector, original.cvss_vector);
    assert_eq!(back.cwes, original.cwes);
    assert_eq!(back.exploitation, original.exploitation);
    assert_eq!(back.tlp, original.tlp);
    assert_eq!(back.kind, original.kind);
    assert_eq!(back.aliases, original.aliases);
    assert_eq!(back.aware_at, None);
}

#[test]
fn imports_a_ghsa_record_and_its_ranges_match() {
    let record = parse_osv(&read_fixture("osv/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    assert!(
        record.extra.contains_key("upstream"),
        "unknown fields are kept"
    );
    let out = serde_json::to_value(&record).unwrap();
    assert_eq!(out["upstream"], serde_json::json!(["CVE-2021-44228"]));

    let content = osv_to_report_content(&record).unwrap();
    let content = content.validate(ts("2024-03-16T00:00:00Z")).unwrap();
    assert_eq!(content.kind, ReportKind::ThirdPartyObservation);
    assert_eq!(content.tlp, Tlp::Clear);
    assert_eq!(content.aliases, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
    assert_eq!(content.cwes, [Cwe(20), Cwe(400), Cwe(502), Cwe(917)]);
    let package = &content.affected_packages[0];
    assert_eq!(package.ecosystem, Ecosystem::Maven);
    for (version, affected) in [
        ("2.14.1", true),
        ("2.0-beta9", true),
        ("2.0-beta8", false),
        ("2.3.1", false),
        ("2.12.1", true),
        ("2.12.2", false),
        ("2.15.0", false),
    ] {
        assert_eq!(
            is_affected(Ecosystem::Maven, package, version).unwrap(),
            affected,
            "{version}"
        );
    }
}

#[test]
fn parse_errors_name_the_json_path() {
    let mut doc: Value =
        serde_json::from_slice(&read_fixture("osv/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    doc["affected"][0]["ranges"][1]["events"][1] = serde_json::json!({"fixd": "2.12.2"});
    let err = parse_osv(doc.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.path(), Some("affected[0].ranges[1].events[1]"), "{err}");

    let mut doc: Value =
        serde_json::from_slice(&read_fixture("osv/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    doc["severity"][0]["type"] = "CVSS_V9".into();
    let err = parse_osv(doc.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.path(), Some("severity[0].type"), "{err}");

    let err = parse_osv(br#"{"id":"X-1","modified":"yesterday"}"#).unwrap_err();
    assert_eq!(err.path(), Some("modified"), "{err}");
    let err = parse_osv(br#"{"id":"X-1"}"#).unwrap_err();
    assert!(err.to_string().contains("modified"), "{err}");
}

#[test]
fn schema_rules_are_checked_with_paths() {
    let base = export();
    let mut r = base.clone();
    r.affected[0].ranges[0].events = vec![RangeEvent::Fixed("2.15.0".into())];
    assert_eq!(
        r.check().unwrap_err().path(),
        Some("affected[0].ranges[0].events")
    );

    let mut r = base.clone();
    r.affected[0].ranges[0]
        .events
        .push(RangeEvent::LastAffected("2.16".into()));
    assert_eq!(
        r.check().unwrap_err().path(),
        Some("affected[0].ranges[0].events")
    );

    let mut r = base.clone();
    r.affected[0].ranges[0].range_type = vulnshare_core::package::RangeType::Git;
    assert_eq!(
        r.check().unwrap_err().path(),
        Some("affected[0].ranges[0].repo")
    );

    let mut r = base.clone();
    r.id = "../etc/passwd".into();
    assert_eq!(r.check().unwrap_err().path(), Some("id"));

    let mut r = base;
    r.affected[0].versions = vec!["1".into(); MAX_VERSIONS + 1];
    assert!(matches!(
        r.check().unwrap_err(),
        FormatError::TooMany { .. }
    ));
}

#[test]
fn null_lists_and_nested_unknown_fields_are_accepted() {
    let json = br#"{"id":"PYSEC-2021-1","modified":"2021-01-01T00:00:00.123Z","aliases":null,
        "affected":[{"package":{"ecosystem":"PyPI","name":"Django","x":1},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.2.1"}]}]}]}"#;
    let r = parse_osv(json).unwrap();
    assert!(r.aliases.is_empty());
    let content = osv_to_report_content(&r).unwrap();
    assert!(
        content.aliases.is_empty(),
        "PYSEC ids are not vulnshare aliases"
    );
    assert_eq!(content.title, "PYSEC-2021-1");
}

#[test]
fn import_refuses_ecosystems_vulnshare_cannot_order() {
    let json = br#"{"id":"UBUNTU-CVE-2021-1","modified":"2021-01-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"openssl"},"versions":["1.0"]}]}"#;
    let err = osv_to_report_content(&parse_osv(json).unwrap()).unwrap_err();
    assert_eq!(err.path(), Some("affected[0].package.ecosystem"));
    assert!(err.to_string().contains("supported: Maven"), "{err}");
}

#[test]
fn import_names_a_bad_version_by_path() {
    let json = br#"{"id":"X-1","modified":"2021-01-01T00:00:00Z",
        "affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
        "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not a version"}]}]}]}"#;
    let err = osv_to_report_content(&parse_osv(json).unwrap()).unwrap_err();
    assert_eq!(err.path(), Some("affected[0].ranges[0].events[1]"), "{err}");
}

#[test]
fn oversized_records_are_refused_before_parsing() {
    let big = vec![b' '; MAX_RECORD_BYTES + 1];
    assert!(matches!(parse_osv(&big), Err(FormatError::TooLarge { .. })));
}

#[test]
fn package_purls_follow_the_ecosystem_conventions() {
    use convert::package_purl;
    assert_eq!(
        package_purl(Ecosystem::Npm, "@babel/core").as_deref(),
        Some("pkg:npm/%40babel/core")
    );
    assert_eq!(
        package_purl(Ecosystem::Go, "github.com/gin-gonic/gin").as_deref(),
        Some("pkg:golang/github.com/gin-gonic/gin")
    );
    assert_eq!(
        package_purl(Ecosystem::PyPI, "Django_X").as_deref(),
        Some("pkg:pypi/django-x")
    );
    assert_eq!(package_purl(Ecosystem::Maven, "no-colon"), None);
}

#[test]
fn ecosystem_zip_holds_one_file_per_record() {
    let a = export();
    let b = parse_osv(&read_fixture("osv/GHSA-jfh8-c2jp-5v3q.json")).unwrap();
    let groups = records_by_ecosystem([&a, &b]);
    assert_eq!(groups.keys().copied().collect::<Vec<_>>(), ["Maven"]);
    let bytes = write_ecosystem_zip(groups["Maven"].iter().copied(), Cursor::new(Vec::new()))
        .unwrap()
        .into_inner();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["GHSA-jfh8-c2jp-5v3q.json", "VS-2021-00001.json"]);
    let mut text = String::new();
    zip.by_name("VS-2021-00001.json")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(parse_osv(text.as_bytes()).unwrap(), a);

    let err = write_ecosystem_zip([&a, &a], Cursor::new(Vec::new())).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    let mut evil = a.clone();
    evil.id = "../x".into();
    assert!(write_ecosystem_zip([&evil], Cursor::new(Vec::new())).is_err());
}
