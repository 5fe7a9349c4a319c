//! Version ordering against fixture lists, and OSV range matching on real advisories.
//!
//! Each file under `tests/fixtures/versions/` lists versions of one scheme in ascending order,
//! equal spellings on one line separated by " = ", with a header citing where the ordering
//! facts come from. From each list this test derives every ordered pair: every version on an
//! earlier line is less than every version on a later line (checked both ways round), and
//! versions on one line are equal. A list of n versions yields about n² checks.

use std::cmp::Ordering;
use std::path::PathBuf;

use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent, RangeType, VersionRange};
use vulnshare_core::version::{self, AffectedMatcher, ParsedVersion, Scheme};

/// Reads a fixture: one `Vec` of equal versions per line, lines in ascending order.
fn read_fixture(name: &str) -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/versions")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.starts_with("# "),
        "{name} must start with a header comment citing its sources"
    );
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split(" = ").map(str::to_owned).collect())
        .collect()
}

/// Checks every ordered pair the fixture implies and returns how many pairs were checked.
fn check_all_pairs(ecosystem: Ecosystem, name: &str) -> usize {
    let groups = read_fixture(name);
    let parsed: Vec<Vec<(String, ParsedVersion)>> = groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|v| {
                    let p = version::parse(ecosystem, v)
                        .unwrap_or_else(|e| panic!("{name}: {v} does not parse: {e}"));
                    (v.clone(), p)
                })
                .collect()
        })
        .collect();
    let flat: Vec<(usize, &(String, ParsedVersion))> = parsed
        .iter()
        .enumerate()
        .flat_map(|(line, group)| group.iter().map(move |v| (line, v)))
        .collect();
    let mut failures = Vec::new();
    let mut pairs = 0;
    for (i, (line_a, (a, pa))) in flat.iter().enumerate() {
        for (line_b, (b, pb)) in &flat[i..] {
            let expected = line_a.cmp(line_b);
            let forward = pa.partial_cmp(pb);
            let backward = pb.partial_cmp(pa);
            if forward != Some(expected) || backward != Some(expected.reverse()) {
                failures.push(format!(
                    "{a} vs {b}: expected {expected:?}, got {forward:?}/{backward:?}"
                ));
            }
            // The string API must agree with the parsed one.
            if i % 7 == 0 {
                assert_eq!(
                    version::compare(ecosystem, a, b).unwrap(),
                    expected,
                    "{a} vs {b}"
                );
            }
            pairs += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} wrong pairs:\n{}",
        failures.len(),
        failures.join("\n")
    );
    pairs
}

#[test]
fn maven_fixture_is_ordered() {
    assert!(check_all_pairs(Ecosystem::Maven, "maven.txt") > 5000);
}

#[test]
fn pypi_fixture_is_ordered() {
    assert!(check_all_pairs(Ecosystem::PyPI, "pypi.txt") > 5000);
}

#[test]
fn debian_fixture_is_ordered() {
    assert!(check_all_pairs(Ecosystem::Debian, "debian.txt") > 3000);
}

#[test]
fn semver_fixture_is_ordered_for_npm_and_crates_io() {
    assert!(check_all_pairs(Ecosystem::Npm, "semver.txt") > 3000);
    assert!(check_all_pairs(Ecosystem::CratesIo, "semver.txt") > 3000);
}

#[test]
fn go_fixture_is_ordered() {
    assert!(check_all_pairs(Ecosystem::Go, "go.txt") > 2500);
}

/// CVE-2021-44228 / GHSA-jfh8-c2jp-5v3q for org.apache.logging.log4j:log4j-core, as OSV has it.
fn log4shell() -> AffectedPackage {
    let json = r#"{
        "ecosystem": "Maven",
        "name": "org.apache.logging.log4j:log4j-core",
        "purl": "pkg:maven/org.apache.logging.log4j/log4j-core",
        "ranges": [{"type": "ECOSYSTEM", "events": [
            {"introduced": "2.0-beta9"}, {"fixed": "2.3.1"},
            {"introduced": "2.4"}, {"fixed": "2.12.2"},
            {"introduced": "2.13.0"}, {"fixed": "2.15.0"}
        ]}]
    }"#;
    serde_json::from_str(json).unwrap()
}

#[test]
fn log4shell_affects_exactly_the_osv_ranges() {
    let p = log4shell().validate().unwrap();
    for v in ["2.14.1", "2.0-beta9", "2.12.1", "2.3"] {
        assert!(
            version::is_affected(Ecosystem::Maven, &p, v).unwrap(),
            "{v} is affected"
        );
    }
    for v in ["2.15.0", "2.12.2", "2.3.1", "2.0-beta8", "2.16.0", "1.2.17"] {
        assert!(
            !version::is_affected(Ecosystem::Maven, &p, v).unwrap(),
            "{v} is not affected"
        );
    }
}

#[test]
fn log4shell_over_the_whole_maven_fixture() {
    // Every version in the Maven fixture, judged against the three intervals by `compare`.
    let matcher = AffectedMatcher::new(Ecosystem::Maven, &log4shell()).unwrap();
    let inside = |v: &str, lo: &str, hi: &str| {
        version::compare(Ecosystem::Maven, v, lo).unwrap() != Ordering::Less
            && version::compare(Ecosystem::Maven, v, hi).unwrap() == Ordering::Less
    };
    let mut affected = 0;
    for v in read_fixture("maven.txt").into_iter().flatten() {
        let expected = inside(&v, "2.0-beta9", "2.3.1")
            || inside(&v, "2.4", "2.12.2")
            || inside(&v, "2.13.0", "2.15.0");
        let parsed = ParsedVersion::parse(matcher.scheme(), &v).unwrap();
        assert_eq!(matcher.matches(&parsed), expected, "{v}");
        affected += usize::from(expected);
    }
    assert!(
        affected > 30,
        "the fixture should exercise the affected stretch"
    );
}

#[test]
fn semver_range_on_a_pypi_package_uses_semver() {
    let p = AffectedPackage {
        ecosystem: Ecosystem::PyPI,
        name: "example".into(),
        purl: None,
        ranges: vec![VersionRange {
            range_type: RangeType::Semver,
            repo: None,
            events: vec![
                RangeEvent::Introduced("0".into()),
                RangeEvent::LastAffected("2.0.0".into()),
            ],
        }],
        versions: vec![],
    };
    let matcher = AffectedMatcher::new(Ecosystem::PyPI, &p).unwrap();
    assert_eq!(matcher.scheme(), Scheme::PyPI);
    assert!(matcher.matches_str("2.0").unwrap());
    assert!(!matcher.matches_str("2.0.1").unwrap());
}
