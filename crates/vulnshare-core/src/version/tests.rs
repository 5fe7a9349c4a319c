use std::cmp::Ordering::{self, Equal, Greater, Less};

use proptest::prelude::*;

use super::*;

fn cmp(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    compare(ecosystem, a, b).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn maven_follows_comparable_version() {
    let m = |a, b| cmp(Ecosystem::Maven, a, b);
    assert_eq!(m("2.0-beta9", "2.0-rc1"), Less);
    assert_eq!(m("2.0-rc1", "2.0"), Less);
    assert_eq!(m("2.0", "2.0.1"), Less);
    assert_eq!(m("1.0", "1.0.0"), Equal);
    assert_eq!(m("1.0", "1-ga"), Equal);
    assert_eq!(m("1.0.0.Final", "1"), Equal);
    assert_eq!(m("1.0-SNAPSHOT", "1.0"), Less);
    assert_eq!(m("2.12.2", "2.13.0"), Less);
    assert_eq!(m("2.3.1", "2.4"), Less);
    assert_eq!(m("1.0-alpha1", "1.0a1"), Equal);
    assert_eq!(m("1.0-cr1", "1.0-rc1"), Equal);
    assert_eq!(m("1.0-sp1", "1.0"), Greater);
    assert_eq!(m("1.0-foo", "1.0-sp"), Greater);
    assert_eq!(m("1.0-bar", "1.0-foo"), Less);
    assert_eq!(m("1.0-1", "1.0.1"), Less);
    assert_eq!(m("1.0-1", "1.0"), Greater);
    assert_eq!(m("1.0.RELEASE", "1.0"), Equal);
    assert_eq!(m("1.10", "1.9"), Greater);
    assert_eq!(m("1.0.0-M1", "1.0.0-milestone-1"), Equal);
    assert_eq!(m("4.2.3.SP1", "4.2.3"), Greater);
    assert_eq!(m("5.0.0.CR1", "5.0.0"), Less);
    assert_eq!(m("5.0.0.Beta2", "5.0.0.CR1"), Less);
    assert_eq!(m("1.0.01", "1.0.1"), Equal);
    assert_eq!(m("1.123456789012345678901234567890", "1.99"), Greater);
}

#[test]
fn maven_reproduces_maven_s_own_intransitive_corner() {
    // Maven's ComparableVersion gives 1 < 1-1 < 1.0.alpha < 1; we reproduce it (see maven.rs).
    let m = |a, b| cmp(Ecosystem::Maven, a, b);
    assert_eq!(m("1", "1-1"), Less);
    assert_eq!(m("1-1", "1.0.alpha"), Less);
    assert_eq!(m("1.0.alpha", "1"), Less);
}

#[test]
fn semver_ecosystems_accept_prefixes_and_short_versions() {
    assert_eq!(cmp(Ecosystem::Npm, "v1.2.3", "=1.2.3"), Equal);
    assert_eq!(cmp(Ecosystem::CratesIo, "1.2", "1.2.0"), Equal);
    assert_eq!(cmp(Ecosystem::CratesIo, "1.0.0-alpha", "1.0.0"), Less);
    assert_eq!(cmp(Ecosystem::Go, "v1.2.3", "1.2.3"), Equal);
    assert_eq!(cmp(Ecosystem::Go, "v0.0.0-20211209-abcdef", "v0.0.1"), Less);
}

#[test]
fn pypi_follows_pep_440() {
    let p = |a, b| cmp(Ecosystem::PyPI, a, b);
    assert_eq!(p("1.0.dev1", "1.0a1"), Less);
    assert_eq!(p("1.0rc1", "1.0"), Less);
    assert_eq!(p("1.0", "1.0.post1"), Less);
    assert_eq!(p("1.0", "1.0.0"), Equal);
    assert_eq!(p("1!0.1", "2.0"), Greater);
    assert_eq!(p("v1.0", "1.0"), Equal);
}

#[test]
fn debian_follows_policy() {
    assert_eq!(cmp(Ecosystem::Debian, "1.0~rc1-1", "1.0-1"), Less);
    assert_eq!(cmp(Ecosystem::Debian, "1:1.0", "2.0"), Greater);
}

#[test]
fn validate_keeps_its_contract() {
    assert!(validate(Ecosystem::Maven, "2.0-beta9").is_ok());
    assert!(validate(Ecosystem::Maven, " 2.0 ").is_ok());
    assert!(validate(Ecosystem::Maven, "").is_err());
    assert!(validate(Ecosystem::Maven, "2.0 beta").is_err());
    assert!(validate(Ecosystem::Maven, &"1".repeat(201)).is_err());
    assert!(validate(Ecosystem::Go, "v1.2.3").is_ok());
    assert!(validate(Ecosystem::Go, "master").is_err());
    assert!(validate(Ecosystem::Npm, "not a version").is_err());
    assert!(validate(Ecosystem::PyPI, "1.0rc1").is_ok());
    assert!(validate(Ecosystem::PyPI, "1.0-foo-bar").is_err());
    assert!(validate(Ecosystem::Debian, "1:2.36-9+deb12u4").is_ok());
    assert!(validate(Ecosystem::Debian, "1.0/2").is_err());
    assert!(validate_semver("v1.2.3").is_ok());
    assert!(validate_semver("1.2").is_ok());
    assert!(validate_semver("1.2.3.4").is_err());
}

#[test]
fn errors_say_what_to_write() {
    let err = compare(Ecosystem::PyPI, "1.0", "one").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"one\" is not a PEP 440 version"), "{text}");
    assert!(text.contains("e.g. 1.4.2"), "{text}");
    let err = compare(Ecosystem::Npm, "", "1.0.0").unwrap_err();
    assert_eq!(
        err,
        VersionError::Malformed {
            version: String::new()
        }
    );
}

#[test]
fn parsed_versions_of_different_schemes_are_unordered() {
    let a = ParsedVersion::parse(Scheme::Maven, "1.0").unwrap();
    let b = ParsedVersion::parse(Scheme::Semver, "1.0").unwrap();
    assert_eq!(a.partial_cmp(&b), None);
    assert_ne!(a, b);
    assert_eq!(a.scheme(), Scheme::Maven);
}

/// Realistic versions per ecosystem. Maven sticks to `-` qualifiers (plus `.Final` style
/// suffixes that trim away), where Maven's order is a total order.
fn versions(ecosystem: Ecosystem) -> BoxedStrategy<String> {
    let pattern = match ecosystem {
        Ecosystem::Maven => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((-|)(alpha|a|beta|b|milestone|m|rc|cr|snapshot|ga|final|sp|foo|zz|)[0-9]{0,2}){0,2}(\\.(Final|RELEASE|GA))?"
        }
        Ecosystem::Npm | Ecosystem::CratesIo => {
            "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-(alpha|beta|rc|[0-9]{1,2})(\\.(alpha|[1-9][0-9]?|0)){0,2})?(\\+build[0-9])?"
        }
        Ecosystem::Go => {
            "v[0-9]\\.[0-9]{1,2}\\.[0-9](-(0\\.)?20[0-9]{12}-[0-9a-f]{12}|-rc\\.[0-9]|\\+incompatible)?"
        }
        Ecosystem::PyPI => {
            "([1-9]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?(\\+local[0-9])?"
        }
        Ecosystem::Debian => "([1-3]:)?[0-9]{1,2}(\\.[0-9a-z~+]{1,3}){0,3}(-[0-9a-z~+.]{1,5})?",
    };
    proptest::string::string_regex(pattern).unwrap().boxed()
}

fn ecosystem_and_three() -> impl Strategy<Value = (Ecosystem, String, String, String)> {
    proptest::sample::select(Ecosystem::ALL.to_vec())
        .prop_flat_map(|e| (Just(e), versions(e), versions(e), versions(e)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn order_is_reflexive_antisymmetric_and_transitive((e, a, b, c) in ecosystem_and_three()) {
        let (Ok(_), Ok(_), Ok(_)) = (parse(e, &a), parse(e, &b), parse(e, &c)) else {
            // The Debian pattern can produce strings Policy forbids; those are not versions.
            return Ok(());
        };
        prop_assert_eq!(cmp(e, &a, &a), Equal);
        let ab = cmp(e, &a, &b);
        prop_assert_eq!(ab, cmp(e, &b, &a).reverse());
        let bc = cmp(e, &b, &c);
        let ac = cmp(e, &a, &c);
        if ab != Greater && bc != Greater {
            prop_assert_ne!(ac, Greater, "{} <= {} <= {} but not {} <= {}", a, b, c, a, c);
        }
        if ab == Equal && bc == Equal {
            prop_assert_eq!(ac, Equal);
        }
    }

    #[test]
    fn maven_accepts_any_token_string(s in "[0-9A-Za-z._+-]{1,30}") {
        prop_assert!(validate(Ecosystem::Maven, &s).is_ok());
        prop_assert_eq!(cmp(Ecosystem::Maven, &s, &s), Equal);
        let t = format!("{s}.1");
        prop_assert_eq!(cmp(Ecosystem::Maven, &s, &t), cmp(Ecosystem::Maven, &t, &s).reverse());
    }
}
