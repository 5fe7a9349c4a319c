//! Exposure matching: which components (from members' SBOMs) fall inside which advisories'
//! affected ranges. Advisories are compiled once into an index keyed by package; each
//! component costs one hash look-up, and a version parse only when its package is named.

use std::collections::HashMap;

use serde::Serialize;

use crate::package::{AffectedPackage, Ecosystem};
use crate::version::{AffectedMatcher, ParsedVersion, Scheme, VersionError};

/// A component to match: one entry of an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef<'a> {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name as the ecosystem spells it (Maven: `group:artifact`).
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
}

/// One match: component `component` (an index into the slice matched) is affected by
/// advisory `advisory_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    /// Index of the component in the input.
    pub component: usize,
    /// The advisory.
    pub advisory_id: String,
}

/// An advisory whose ranges could not be compiled (and so match nothing).
#[derive(Debug)]
pub struct SkippedAdvisory {
    /// The advisory.
    pub advisory_id: String,
    /// Why.
    pub error: VersionError,
}

/// The compiled advisories.
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    ids: Vec<String>,
    by_package: HashMap<(Ecosystem, String), Vec<(usize, AffectedMatcher)>>,
}

/// The key under which a package name is compared: PyPI names are normalised (PEP 503), npm
/// names are lower case; Maven, Go, crates.io and Debian names are kept as they are.
pub fn package_key(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::PyPI => {
            let mut out = String::with_capacity(name.len());
            let mut last_dash = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !last_dash {
                        out.push('-');
                    }
                    last_dash = true;
                } else {
                    out.extend(c.to_lowercase());
                    last_dash = false;
                }
            }
            out
        }
        Ecosystem::Npm => name.trim().to_lowercase(),
        _ => name.trim().to_owned(),
    }
}

impl AdvisoryIndex {
    /// Compiles advisories, each an id with its affected packages.
    pub fn build<'a>(
        advisories: impl IntoIterator<Item = (&'a str, &'a [AffectedPackage])>,
    ) -> (AdvisoryIndex, Vec<SkippedAdvisory>) {
        let mut index = AdvisoryIndex::default();
        let mut skipped = Vec::new();
        for (id, packages) in advisories {
            let n = index.ids.len();
            let mut compiled = Vec::with_capacity(packages.len());
            let mut failed = None;
            for p in packages {
                match AffectedMatcher::new(p.ecosystem, p) {
                    Ok(m) => compiled.push(((p.ecosystem, package_key(p.ecosystem, &p.name)), m)),
                    Err(error) => {
                        failed = Some(error);
                        break;
                    }
                }
            }
            if let Some(error) = failed {
                skipped.push(SkippedAdvisory {
                    advisory_id: id.to_owned(),
                    error,
                });
                continue;
            }
            index.ids.push(id.to_owned());
            for (key, matcher) in compiled {
                index.by_package.entry(key).or_default().push((n, matcher));
            }
        }
        (index, skipped)
    }

    /// How many advisories are indexed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no advisory is indexed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The advisories affecting one component version (a version that does not parse in its
    /// ecosystem matches only advisories that list it verbatim).
    pub fn advisories_for(&self, ecosystem: Ecosystem, name: &str, version: &str) -> Vec<&str> {
        let Some(entries) = self
            .by_package
            .get(&(ecosystem, package_key(ecosystem, name)))
        else {
            return Vec::new();
        };
        let parsed = ParsedVersion::parse(Scheme::of(ecosystem), version).ok();
        let mut out: Vec<&str> = entries
            .iter()
            .filter(|(_, m)| match &parsed {
                Some(v) => m.matches(v),
                None => m.matches_str(version).unwrap_or(false),
            })
            .map(|(i, _)| self.ids[*i].as_str())
            .collect();
        out.dedup();
        out
    }

    /// Every (component, advisory) exposure in `components`.
    pub fn match_components(&self, components: &[ComponentRef<'_>]) -> Vec<Exposure> {
        let mut out = Vec::new();
        for (i, c) in components.iter().enumerate() {
            for id in self.advisories_for(c.ecosystem, c.name, c.version) {
                out.push(Exposure {
                    component: i,
                    advisory_id: id.to_owned(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{RangeEvent, RangeType, VersionRange};

    fn pkg(ecosystem: Ecosystem, name: &str, events: &[(&str, &str)]) -> AffectedPackage {
        AffectedPackage {
            ecosystem,
            name: name.into(),
            purl: None,
            ranges: vec![VersionRange {
                range_type: RangeType::Ecosystem,
                repo: None,
                events: events
                    .iter()
                    .map(|(k, v)| match *k {
                        "introduced" => RangeEvent::Introduced((*v).into()),
                        "fixed" => RangeEvent::Fixed((*v).into()),
                        _ => RangeEvent::LastAffected((*v).into()),
                    })
                    .collect(),
            }],
            versions: vec![],
        }
    }

    #[test]
    fn log4shell_matches_only_affected_log4j_core_versions() {
        let log4j = "org.apache.logging.log4j:log4j-core";
        let advisories = [
            (
                "GHSA-jfh8-c2jp-5v3q",
                vec![pkg(
                    Ecosystem::Maven,
                    log4j,
                    &[
                        ("introduced", "2.0-beta9"),
                        ("fixed", "2.3.1"),
                        ("introduced", "2.4"),
                        ("fixed", "2.12.2"),
                        ("introduced", "2.13.0"),
                        ("fixed", "2.15.0"),
                    ],
                )],
            ),
            (
                "GHSA-7rjr-3q55-vv33",
                vec![pkg(
                    Ecosystem::Maven,
                    log4j,
                    &[("introduced", "2.13.0"), ("fixed", "2.16.0")],
                )],
            ),
            (
                "PYSEC-1",
                vec![pkg(
                    Ecosystem::PyPI,
                    "Django_Rest.Framework",
                    &[("introduced", "0"), ("fixed", "3.0")],
                )],
            ),
        ];
        let (index, skipped) =
            AdvisoryIndex::build(advisories.iter().map(|(id, p)| (*id, p.as_slice())));
        assert!(skipped.is_empty());
        let comps = [
            ComponentRef {
                ecosystem: Ecosystem::Maven,
                name: log4j,
                version: "2.14.1",
            },
            ComponentRef {
                ecosystem: Ecosystem::Maven,
                name: log4j,
                version: "2.15.0",
            },
            ComponentRef {
                ecosystem: Ecosystem::Maven,
                name: log4j,
                version: "2.12.2",
            },
            ComponentRef {
                ecosystem: Ecosystem::Maven,
                name: "org.apache.logging.log4j:log4j-api",
                version: "2.14.1",
            },
            ComponentRef {
                ecosystem: Ecosystem::PyPI,
                name: "django-rest-framework",
                version: "2.9",
            },
            ComponentRef {
                ecosystem: Ecosystem::Npm,
                name: "org.apache.logging.log4j:log4j-core",
                version: "2.14.1",
            },
        ];
        let found: Vec<(usize, &str)> = index
            .match_components(&comps)
            .iter()
            .map(|e| {
                (
                    e.component,
                    advisories.iter().find(|a| a.0 == e.advisory_id).unwrap().0,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (0, "GHSA-jfh8-c2jp-5v3q"),
                (0, "GHSA-7rjr-3q55-vv33"),
                (1, "GHSA-7rjr-3q55-vv33"),
                (4, "PYSEC-1")
            ]
        );
    }

    #[test]
    fn advisories_with_unparsable_ranges_are_reported_not_matched() {
        let bad = vec![pkg(
            Ecosystem::PyPI,
            "x",
            &[("introduced", "not a version!")],
        )];
        let (index, skipped) = AdvisoryIndex::build([("BAD-1", bad.as_slice())]);
        assert!(index.is_empty());
        assert_eq!(skipped[0].advisory_id, "BAD-1");
    }

    #[test]
    fn package_keys_normalise_where_the_ecosystem_does() {
        assert_eq!(
            package_key(Ecosystem::PyPI, "Zope.Interface__x"),
            "zope-interface-x"
        );
        assert_eq!(package_key(Ecosystem::Npm, "LeftPad"), "leftpad");
        assert_eq!(package_key(Ecosystem::Maven, "Org:A"), "Org:A");
    }
}
