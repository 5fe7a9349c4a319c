use super::*;
use crate::package::{RangeType, VersionRange};

fn package(ecosystem: Ecosystem, ranges: Vec<VersionRange>, versions: &[&str]) -> AffectedPackage {
    AffectedPackage {
        ecosystem,
        name: "example".into(),
        purl: None,
        ranges,
        versions: versions.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn range(range_type: RangeType, events: Vec<RangeEvent>) -> VersionRange {
    VersionRange {
        range_type,
        repo: None,
        events,
    }
}

fn introduced(v: &str) -> RangeEvent {
    RangeEvent::Introduced(v.into())
}
fn fixed(v: &str) -> RangeEvent {
    RangeEvent::Fixed(v.into())
}
fn last_affected(v: &str) -> RangeEvent {
    RangeEvent::LastAffected(v.into())
}
fn limit(v: &str) -> RangeEvent {
    RangeEvent::Limit(v.into())
}

/// CVE-2021-44228 (GHSA-jfh8-c2jp-5v3q) as OSV lists it for log4j-core.
fn log4shell() -> AffectedPackage {
    let mut p = package(
        Ecosystem::Maven,
        vec![range(
            RangeType::Ecosystem,
            vec![
                introduced("2.0-beta9"),
                fixed("2.3.1"),
                introduced("2.4"),
                fixed("2.12.2"),
                introduced("2.13.0"),
                fixed("2.15.0"),
            ],
        )],
        &[],
    );
    p.name = "org.apache.logging.log4j:log4j-core".into();
    p
}

fn affected(p: &AffectedPackage, v: &str) -> bool {
    is_affected(p.ecosystem, p, v).unwrap()
}

#[test]
fn log4shell_ranges_hold_the_right_versions() {
    let p = log4shell();
    for v in [
        "2.14.1",
        "2.0-beta9",
        "2.12.1",
        "2.3",
        "2.0",
        "2.0-rc1",
        "2.13.0",
        "2.4",
        "2.11.2",
    ] {
        assert!(affected(&p, v), "{v} should be affected");
    }
    for v in [
        "2.15.0",
        "2.12.2",
        "2.3.1",
        "2.0-beta8",
        "2.16.0",
        "1.2.17",
        "2.3.2",
        "2.12.4",
        "2.17.1",
    ] {
        assert!(!affected(&p, v), "{v} should not be affected");
    }
}

#[test]
fn event_order_in_the_advisory_does_not_matter() {
    let mut p = log4shell();
    p.ranges[0].events.reverse();
    assert!(affected(&p, "2.14.1"));
    assert!(affected(&p, "2.3"));
    assert!(!affected(&p, "2.3.1"));
    assert!(!affected(&p, "2.15.0"));
}

#[test]
fn introduced_zero_is_the_beginning_of_time() {
    let p = package(
        Ecosystem::Npm,
        vec![range(
            RangeType::Semver,
            vec![introduced("0"), fixed("1.2.3")],
        )],
        &[],
    );
    assert!(affected(&p, "0.0.0"));
    assert!(affected(&p, "1.2.3-rc.1"));
    assert!(!affected(&p, "1.2.3"));
    let open = package(
        Ecosystem::Npm,
        vec![range(RangeType::Semver, vec![introduced("0")])],
        &[],
    );
    assert!(affected(&open, "99.0.0"));
}

#[test]
fn last_affected_is_inclusive() {
    let p = package(
        Ecosystem::PyPI,
        vec![range(
            RangeType::Ecosystem,
            vec![introduced("1.0"), last_affected("1.4")],
        )],
        &[],
    );
    assert!(affected(&p, "1.4"));
    assert!(affected(&p, "1.4.0"));
    assert!(!affected(&p, "1.4.post1"));
    assert!(!affected(&p, "1.5"));
    assert!(!affected(&p, "1.0rc1"));
}

#[test]
fn limit_caps_the_range() {
    let p = package(
        Ecosystem::Go,
        vec![range(
            RangeType::Semver,
            vec![introduced("0"), limit("2.0.0")],
        )],
        &[],
    );
    assert!(affected(&p, "1.9.9"));
    assert!(!affected(&p, "2.0.0"));
    let star = package(
        Ecosystem::Go,
        vec![range(
            RangeType::Semver,
            vec![introduced("1.0.0"), limit("*")],
        )],
        &[],
    );
    assert!(affected(&star, "v7.0.0"));
}

#[test]
fn ranges_are_or_ed_and_git_ranges_are_skipped() {
    let mut git = range(
        RangeType::Git,
        vec![introduced("0"), fixed("abcdef1234567")],
    );
    git.repo = Some("https://example.org/repo.git".into());
    let p = package(
        Ecosystem::CratesIo,
        vec![
            git,
            range(
                RangeType::Ecosystem,
                vec![introduced("1.0.0"), fixed("1.0.5")],
            ),
            range(
                RangeType::Ecosystem,
                vec![introduced("2.0.0"), fixed("2.1.0")],
            ),
        ],
        &[],
    );
    assert!(affected(&p, "1.0.4"));
    assert!(affected(&p, "2.0.9"));
    assert!(!affected(&p, "1.5.0"));
    assert!(!affected(&p, "0.9.0"));
}

#[test]
fn explicit_versions_match_by_equality_or_verbatim() {
    let p = package(Ecosystem::Maven, vec![], &["1.0", "weird version"]);
    assert!(affected(&p, "1.0.0"));
    assert!(affected(&p, "1.0"));
    assert!(!affected(&p, "1.0.1"));
    let debian = package(
        Ecosystem::Debian,
        vec![],
        &["not/a/debian/version", "1.2-3"],
    );
    assert!(affected(&debian, "1.2-3"));
    assert!(!affected(&debian, "1.2-4"));
}

#[test]
fn semver_ranges_use_semver_rules_in_any_ecosystem() {
    let p = package(
        Ecosystem::PyPI,
        vec![range(
            RangeType::Semver,
            vec![introduced("1.0.0"), fixed("1.2.0")],
        )],
        &[],
    );
    assert!(affected(&p, "1.1"));
    assert!(!affected(&p, "1.2"));
    // A valid PEP 440 version that is not a semantic version cannot be inside a SEMVER range.
    assert!(!affected(&p, "1.1.post1"));
}

#[test]
fn equal_versions_keep_the_advisory_order() {
    let p = package(
        Ecosystem::Npm,
        vec![range(
            RangeType::Semver,
            vec![
                introduced("0"),
                fixed("1.0.0"),
                introduced("1.0.0"),
                fixed("2.0.0"),
            ],
        )],
        &[],
    );
    assert!(affected(&p, "1.0.0"));
    assert!(!affected(&p, "2.0.0"));
}

#[test]
fn debian_ranges_follow_dpkg_order() {
    let p = package(
        Ecosystem::Debian,
        vec![range(
            RangeType::Ecosystem,
            vec![introduced("0"), fixed("2.36-9+deb12u4")],
        )],
        &[],
    );
    assert!(affected(&p, "2.36-9+deb12u3"));
    assert!(affected(&p, "2.36-9"));
    assert!(!affected(&p, "2.36-9+deb12u4"));
    assert!(!affected(&p, "1:2.30-1"));
}

#[test]
fn errors_name_the_bad_event_or_version() {
    let p = package(
        Ecosystem::Npm,
        vec![range(
            RangeType::Ecosystem,
            vec![introduced("0"), fixed("not-a-version")],
        )],
        &[],
    );
    let err = is_affected(Ecosystem::Npm, &p, "1.0.0").unwrap_err();
    assert!(
        matches!(
            err,
            VersionError::RangeEvent {
                range: 0,
                event: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ranges[0].events[1]"), "{err}");

    let err = is_affected(Ecosystem::Maven, &log4shell(), "2.14 .1").unwrap_err();
    assert!(matches!(err, VersionError::Malformed { .. }), "{err}");
}

#[test]
fn a_matcher_is_reusable_across_many_versions() {
    let matcher = AffectedMatcher::new(Ecosystem::Maven, &log4shell()).unwrap();
    let versions: Vec<_> = (0..20)
        .map(|minor| ParsedVersion::parse(matcher.scheme(), &format!("2.{minor}.0")).unwrap())
        .collect();
    let hits: Vec<bool> = versions.iter().map(|v| matcher.matches(v)).collect();
    let expected: Vec<bool> = (0..20)
        .map(|minor| minor <= 3 || (4..=12).contains(&minor) || (13..15).contains(&minor))
        .collect();
    assert_eq!(hits, expected);
}
