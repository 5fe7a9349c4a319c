//! SBOM tests over fixtures written by `scripts/check-sbom.py generate` with
//! cyclonedx-python-lib and spdx-tools (so the documents are the tools' own, not ours).

use serde_json::{Value, json};
use vulnshare_core::package::Ecosystem;
use vulnshare_core::version::AffectedMatcher;

use super::*;
use crate::fixtures::{log4shell_report, read_fixture};

fn parts(sbom: &Sbom) -> Vec<(Ecosystem, String, String)> {
    let mut p: Vec<_> = sbom
        .components
        .iter()
        .filter_map(Component::purl_parts)
        .collect();
    p.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    p
}

fn expected_parts() -> Vec<(Ecosystem, String, String)> {
    let mut v: Vec<(Ecosystem, String, String)> = [
        (Ecosystem::Go, "github.com/gin-gonic/gin", "v1.7.0"),
        (
            Ecosystem::Maven,
            "com.fasterxml.jackson.core:jackson-databind",
            "2.13.0",
        ),
        (
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-api",
            "2.14.1",
        ),
        (
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
        ),
        (Ecosystem::PyPI, "django", "3.2.0"),
        (Ecosystem::CratesIo, "regex", "1.5.4"),
        (Ecosystem::Npm, "lodash", "4.17.20"),
    ]
    .into_iter()
    .map(|(e, n, v)| (e, n.to_owned(), v.to_owned()))
    .collect();
    v.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    v
}

#[test]
fn reads_every_cyclonedx_version_with_nested_components() {
    for version in cyclonedx::SPEC_VERSIONS {
        let bytes = read_fixture(&format!("sbom/cyclonedx-{version}.json"));
        let sbom = parse_sbom(&bytes, &SbomLimits::default()).unwrap();
        assert_eq!(sbom.format, SbomFormat::CycloneDx);
        assert_eq!(sbom.spec_version, version);
        assert_eq!(
            sbom.components.len(),
            7,
            "{version}: log4j-api is nested in log4j-core"
        );
        assert_eq!(parts(&sbom), expected_parts(), "{version}");
        let core = sbom
            .components
            .iter()
            .find(|c| c.name == "log4j-core")
            .unwrap();
        assert_eq!(core.group.as_deref(), Some("org.apache.logging.log4j"));
        assert_eq!(core.scope.as_deref(), Some("required"));
        assert_eq!(core.hashes[0].algorithm, "SHA-256");
        let app = sbom
            .dependencies
            .iter()
            .find(|d| d.bom_ref == "app")
            .unwrap();
        assert_eq!(app.depends_on.len(), 6);
    }
}

#[test]
fn reads_spdx_with_purl_external_refs() {
    let sbom = parse_sbom(&read_fixture("sbom/spdx-2.3.json"), &SbomLimits::default()).unwrap();
    assert_eq!(sbom.format, SbomFormat::Spdx);
    assert_eq!(sbom.spec_version, "2.3");
    assert_eq!(
        sbom.components.len(),
        8,
        "the described application is a package too"
    );
    assert_eq!(parts(&sbom), expected_parts());
    let core = sbom
        .components
        .iter()
        .find(|c| c.name.ends_with("log4j-core"))
        .unwrap();
    assert_eq!(core.group.as_deref(), Some("org.apache.logging.log4j"));
    assert_eq!(core.hashes[0].algorithm, "SHA256");
    let app = sbom
        .dependencies
        .iter()
        .find(|d| d.bom_ref == "SPDXRef-app")
        .unwrap();
    assert_eq!(app.depends_on.len(), 6);
}

#[test]
fn log4j_core_2_14_1_matches_the_log4shell_ranges() {
    let report = log4shell_report();
    let package = &report.content.affected_packages[0];
    let matcher = AffectedMatcher::new(package.ecosystem, package).unwrap();
    for file in ["sbom/cyclonedx-1.6.json", "sbom/spdx-2.3.json"] {
        let sbom = parse_sbom(&read_fixture(file), &SbomLimits::default()).unwrap();
        let hits: Vec<String> = sbom
            .components
            .iter()
            .filter_map(Component::purl_parts)
            .filter(|(e, n, v)| {
                *e == package.ecosystem && *n == package.name && matcher.matches_str(v).unwrap()
            })
            .map(|(_, n, v)| format!("{n}@{v}"))
            .collect();
        assert_eq!(
            hits,
            ["org.apache.logging.log4j:log4j-core@2.14.1"],
            "{file}"
        );
    }
}

fn cdx(components: Value) -> Vec<u8> {
    json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components})
        .to_string()
        .into_bytes()
}

#[test]
fn limits_bound_count_depth_and_size() {
    let limits = SbomLimits {
        max_components: 3,
        max_depth: 2,
        ..SbomLimits::default()
    };
    let four = cdx(
        json!([{"type":"library","name":"a"},{"type":"library","name":"b"},
        {"type":"library","name":"c","components":[{"type":"library","name":"d"}]}]),
    );
    let err = parse_sbom(&four, &limits).unwrap_err();
    assert!(
        matches!(err, FormatError::TooMany { limit: 3, .. }),
        "{err}"
    );

    let deep = cdx(json!([{"type":"library","name":"a","components":[
        {"type":"library","name":"b","components":[{"type":"library","name":"c"}]}]}]));
    let err = parse_sbom(&deep, &limits).unwrap_err();
    assert_eq!(
        err.path(),
        Some("components[0].components[0].components"),
        "{err}"
    );

    let small = SbomLimits {
        max_bytes: 10,
        ..SbomLimits::default()
    };
    assert!(matches!(
        parse_sbom(&four, &small),
        Err(FormatError::TooLarge { .. })
    ));
}

#[test]
fn errors_name_the_json_path() {
    let bad = cdx(json!([{"type":"library","name":"a"},{"type":"library","version":"1"}]));
    let err = parse_sbom(&bad, &SbomLimits::default()).unwrap_err();
    assert_eq!(err.path(), Some("components[1]"), "{err}");
    assert!(err.to_string().contains("name"), "{err}");

    let bad = cdx(json!([{"type":"library","name":"a","hashes":[{"alg":"MD5"}]}]));
    let err = parse_sbom(&bad, &SbomLimits::default()).unwrap_err();
    assert_eq!(err.path(), Some("components[0].hashes[0]"), "{err}");

    let old = br#"{"bomFormat":"CycloneDX","specVersion":"1.2","components":[]}"#;
    let err = parse_sbom(old, &SbomLimits::default()).unwrap_err();
    assert_eq!(err.path(), Some("specVersion"));

    let spdx = br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"x","name":1}]}"#;
    let err = parse_sbom(spdx, &SbomLimits::default()).unwrap_err();
    assert_eq!(err.path(), Some("packages[0].name"), "{err}");

    let err = parse_sbom(b"{\"hello\":1}", &SbomLimits::default()).unwrap_err();
    assert!(err.to_string().contains("CycloneDX"), "{err}");
}

#[test]
fn purl_parts_map_types_to_ecosystem_names() {
    let c = |purl: &str, version: Option<&str>| Component {
        name: "x".into(),
        version: version.map(str::to_owned),
        purl: Some(purl.into()),
        group: None,
        hashes: vec![],
        bom_ref: None,
        scope: None,
    };
    let p = |purl: &str, version: Option<&str>| c(purl, version).purl_parts();
    assert_eq!(
        p("pkg:npm/%40babel/core@7.0.0", None),
        Some((Ecosystem::Npm, "@babel/core".into(), "7.0.0".into()))
    );
    assert_eq!(
        p("pkg:pypi/Zope.Interface", Some("5.0")),
        Some((Ecosystem::PyPI, "zope-interface".into(), "5.0".into()))
    );
    assert_eq!(
        p("pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u4?arch=amd64", None),
        Some((
            Ecosystem::Debian,
            "openssl".into(),
            "1.1.1n-0+deb11u4".into()
        ))
    );
    assert_eq!(
        p("pkg:cargo/serde@1.0.0", None),
        Some((Ecosystem::CratesIo, "serde".into(), "1.0.0".into()))
    );
    assert_eq!(
        p("pkg:maven/log4j-core@2.14.1", None),
        None,
        "Maven needs a group"
    );
    assert_eq!(
        p("pkg:gem/rails@7.0.0", None),
        None,
        "RubyGems is not ordered by vulnshare"
    );
    assert_eq!(p("pkg:npm/lodash", None), None, "no version anywhere");
    assert_eq!(p("not a purl", Some("1")), None);
}
