//! Verdicts for the Log4Shell-era CVEs, from class content where there is some and from the
//! version otherwise.
//!
//! Class content beats version strings: a jar whose JndiLookup was deleted by hand is
//! *mitigated* for CVE-2021-44228 and CVE-2021-45046 (and only those), and a vendor-patched
//! log4j 1.2.17 whose SocketNode filters deserialisation is *fixed* for CVE-2019-17571 even
//! though its version says otherwise.

use std::cmp::Ordering;

use vulnshare_core::package::Ecosystem;
use vulnshare_core::version::compare;

use super::fingerprint::{Family, Feature, log4j_core_level};
use super::report::{CveVerdict, Status};

/// A CVE the scanner judges itself.
#[derive(Debug, Clone, Copy)]
pub struct KnownCve {
    /// CVE id.
    pub cve: &'static str,
    /// GHSA id.
    pub ghsa: &'static str,
    /// CVSS base score (NVD).
    pub score: f32,
    /// The family it concerns.
    pub family: Family,
    /// Affected intervals `[introduced, fixed)`; an empty `fixed` means no fix in that line.
    pub ranges: &'static [(&'static str, &'static str)],
    /// What the CVE is, in a few words.
    pub summary: &'static str,
}

/// The CVEs judged, with the ranges from the GHSA/OSV records.
pub const KNOWN_CVES: &[KnownCve] = &[
    KnownCve {
        cve: "CVE-2021-44228",
        ghsa: "GHSA-jfh8-c2jp-5v3q",
        score: 10.0,
        family: Family::Log4jCore,
        ranges: &[
            ("2.0-beta9", "2.3.1"),
            ("2.4", "2.12.2"),
            ("2.13.0", "2.15.0"),
        ],
        summary: "JNDI lookup remote code execution (Log4Shell)",
    },
    KnownCve {
        cve: "CVE-2021-45046",
        ghsa: "GHSA-7rjr-3q55-vv33",
        score: 9.0,
        family: Family::Log4jCore,
        ranges: &[
            ("2.0-beta9", "2.3.1"),
            ("2.4", "2.12.2"),
            ("2.13.0", "2.16.0"),
        ],
        summary: "JNDI lookup through context lookups in non-default patterns",
    },
    KnownCve {
        cve: "CVE-2021-45105",
        ghsa: "GHSA-p6xc-xr62-6r2g",
        score: 5.9,
        family: Family::Log4jCore,
        ranges: &[
            ("2.0-alpha1", "2.3.1"),
            ("2.4", "2.12.3"),
            ("2.13.0", "2.17.0"),
        ],
        summary: "uncontrolled recursion in self-referential lookups",
    },
    KnownCve {
        cve: "CVE-2021-44832",
        ghsa: "GHSA-8489-44mv-ggj8",
        score: 6.6,
        family: Family::Log4jCore,
        ranges: &[
            ("2.0-beta7", "2.3.2"),
            ("2.4", "2.12.4"),
            ("2.13.0", "2.17.1"),
        ],
        summary: "JDBC appender JNDI data source under attacker-controlled configuration",
    },
    KnownCve {
        cve: "CVE-2021-4104",
        ghsa: "GHSA-fp5r-v3w9-4333",
        score: 7.5,
        family: Family::Log4j1,
        ranges: &[("1.2", "")],
        summary: "JMSAppender JNDI lookup",
    },
    KnownCve {
        cve: "CVE-2019-17571",
        ghsa: "GHSA-2qrg-x229-3v8q",
        score: 9.8,
        family: Family::Log4j1,
        ranges: &[("1.2", "")],
        summary: "SocketServer deserialisation",
    },
    KnownCve {
        cve: "CVE-2022-23302",
        ghsa: "GHSA-w9p3-5cr8-m3jj",
        score: 8.8,
        family: Family::Log4j1,
        ranges: &[("0", "")],
        summary: "JMSSink deserialisation through JNDI",
    },
    KnownCve {
        cve: "CVE-2022-23305",
        ghsa: "GHSA-65fg-84f6-3jq3",
        score: 9.8,
        family: Family::Log4j1,
        ranges: &[("0", "")],
        summary: "JDBCAppender SQL injection",
    },
    KnownCve {
        cve: "CVE-2022-23307",
        ghsa: "GHSA-f7vh-qwp3-x37m",
        score: 8.8,
        family: Family::Log4j1,
        ranges: &[("0", "")],
        summary: "Chainsaw deserialisation",
    },
];

/// Whether `version` lies in one of `ranges` (Maven ordering); `None` if it does not parse.
pub fn in_ranges(version: &str, ranges: &[(&str, &str)]) -> Option<bool> {
    for (introduced, fixed) in ranges {
        let above = *introduced == "0"
            || compare(Ecosystem::Maven, version, introduced).ok()? != Ordering::Less;
        let below =
            fixed.is_empty() || compare(Ecosystem::Maven, version, fixed).ok()? == Ordering::Less;
        if above && below {
            return Some(true);
        }
    }
    Some(false)
}

/// What is known about one component when judging it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The family, if it is one of the logging libraries.
    pub family: Option<Family>,
    /// The Maven artifact id (`reload4j` is judged fixed).
    pub artifact: &'a str,
    /// Features from class content (empty when there were no classes).
    pub features: &'a [Feature],
    /// The version from pom.properties or the manifest.
    pub version: Option<&'a str>,
}

/// Verdicts for every known CVE; empty unless the component is log4j-core or log4j 1.
pub fn verdicts(subject: Subject<'_>) -> Vec<CveVerdict> {
    let Some(family) = subject.family else {
        return Vec::new();
    };
    if family == Family::LogbackClassic {
        return Vec::new();
    }
    KNOWN_CVES
        .iter()
        .map(|known| {
            let (status, reason) = if known.family != family {
                (Status::NotApplicable, "concerns another library".to_owned())
            } else if family == Family::Log4j1 && subject.artifact == "reload4j" {
                (Status::Fixed, "reload4j carries the fix".to_owned())
            } else if !subject.features.is_empty() {
                judge_by_classes(known, subject.features, subject.version)
            } else {
                judge_by_version(known, subject.version)
            };
            CveVerdict {
                cve: known.cve,
                ghsa: known.ghsa,
                status,
                score: known.score,
                reason,
            }
        })
        .collect()
}

fn judge_by_version(known: &KnownCve, version: Option<&str>) -> (Status, String) {
    let Some(version) = version else {
        return (
            Status::Vulnerable,
            format!("{}; version unknown, assumed affected", known.summary),
        );
    };
    match in_ranges(version, known.ranges) {
        Some(true) => (
            Status::Vulnerable,
            format!("{}: version {version} is affected", known.summary),
        ),
        Some(false) if below_all(version, known.ranges) => (
            Status::NotApplicable,
            format!("version {version} predates the flaw"),
        ),
        Some(false) => (Status::Fixed, format!("version {version} carries the fix")),
        None => (
            Status::Vulnerable,
            format!("version {version:?} is not a Maven version; assumed affected"),
        ),
    }
}

fn below_all(version: &str, ranges: &[(&str, &str)]) -> bool {
    ranges.iter().all(|(introduced, _)| {
        *introduced != "0"
            && compare(Ecosystem::Maven, version, introduced).ok() == Some(Ordering::Less)
    })
}

fn judge_by_classes(
    known: &KnownCve,
    features: &[Feature],
    version: Option<&str>,
) -> (Status, String) {
    use Feature::*;
    let has = |f| features.contains(&f);
    let present_or_removed = |class: Feature, fixed: Option<Feature>, name: &str| {
        if !has(class) {
            (Status::Mitigated, format!("{name} is absent (removed)"))
        } else if fixed.is_some_and(has) {
            (Status::Fixed, format!("{name} carries the patched code"))
        } else {
            (
                Status::Vulnerable,
                format!("{}: {name} is present", known.summary),
            )
        }
    };
    match known.cve {
        "CVE-2021-4104" => {
            present_or_removed(JmsAppenderClass, Some(JndiRestricted), "JMSAppender")
        }
        "CVE-2019-17571" => {
            present_or_removed(SocketServerClass, Some(SocketNodeHardened), "SocketServer")
        }
        "CVE-2022-23302" => present_or_removed(JmsSinkClass, None, "JMSSink"),
        "CVE-2022-23305" => {
            present_or_removed(JdbcAppenderClass, Some(JdbcPrepared), "JDBCAppender")
        }
        "CVE-2022-23307" => present_or_removed(ChainsawClass, Some(ChainsawHardened), "Chainsaw"),
        cve => {
            let level = log4j_core_level(features);
            if level == 0 && !has(JndiLookupClass) {
                // Only anchors: nothing version-specific; lean on the version if there is one.
                if version.is_some() {
                    return judge_by_version(known, version);
                }
            }
            let needed = match cve {
                "CVE-2021-44228" => 2,
                "CVE-2021-45046" => 3,
                "CVE-2021-45105" => 4,
                _ => 5,
            };
            let jndi_only = matches!(cve, "CVE-2021-44228" | "CVE-2021-45046");
            if level >= needed {
                (
                    Status::Fixed,
                    format!("class content shows the fix (level {level})"),
                )
            } else if jndi_only && !has(JndiLookupClass) {
                (
                    Status::Mitigated,
                    "affected version, but JndiLookup was removed".to_owned(),
                )
            } else {
                (
                    Status::Vulnerable,
                    format!("{}: class content predates the fix", known.summary),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Feature::*;

    fn statuses(features: &[Feature], version: Option<&str>, family: Family) -> Vec<Status> {
        verdicts(Subject {
            family: Some(family),
            artifact: "x",
            features,
            version,
        })
        .into_iter()
        .map(|v| v.status)
        .collect()
    }

    #[test]
    fn removing_jndilookup_mitigates_only_44228_and_45046() {
        use Status::*;
        let s = statuses(&[Anchor, JndiManagerClass], None, Family::Log4jCore);
        assert_eq!(&s[..4], &[Mitigated, Mitigated, Vulnerable, Vulnerable]);
        assert_eq!(s[4..].iter().filter(|s| **s == NotApplicable).count(), 5);
    }

    #[test]
    fn versions_follow_the_ghsa_ranges() {
        use Status::*;
        let s = statuses(&[], Some("2.12.2"), Family::Log4jCore);
        assert_eq!(&s[..4], &[Fixed, Fixed, Vulnerable, Vulnerable]);
        let s = statuses(&[], Some("2.0-beta8"), Family::Log4jCore);
        assert_eq!(
            &s[..4],
            &[NotApplicable, NotApplicable, Vulnerable, Vulnerable]
        );
        let s = statuses(&[], Some("1.2.17"), Family::Log4j1);
        assert!(s[4..].iter().all(|s| *s == Vulnerable));
    }
}
