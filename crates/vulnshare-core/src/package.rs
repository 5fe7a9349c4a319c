//! Affected packages: an ecosystem, a name (and optionally a purl), and OSV-style version
//! ranges, validated so that every version in a range parses in its ecosystem.

use serde::{Deserialize, Serialize};

use crate::validation::{Collector, Invalid};
use crate::version;

/// A package ecosystem, named as OSV names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    /// Maven Central and other Maven repositories.
    Maven,
    /// The npm registry.
    #[serde(rename = "npm")]
    Npm,
    /// The Python Package Index.
    PyPI,
    /// crates.io.
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Go modules.
    Go,
    /// Debian packages.
    Debian,
}

impl Ecosystem {
    /// Every supported ecosystem.
    pub const ALL: [Ecosystem; 6] = [
        Ecosystem::Maven,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::CratesIo,
        Ecosystem::Go,
        Ecosystem::Debian,
    ];

    /// The OSV ecosystem name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Maven => "Maven",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Debian => "Debian",
        }
    }

    /// Parses an OSV ecosystem name. A Debian release suffix (`Debian:12`) is accepted.
    pub fn parse(s: &str) -> Option<Ecosystem> {
        let base = s.split(':').next().unwrap_or(s);
        Ecosystem::ALL.into_iter().find(|e| e.as_str() == base)
    }

    /// The package-URL type for this ecosystem.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Maven => "maven",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Go => "golang",
            Ecosystem::Debian => "deb",
        }
    }

    /// The ecosystem of a package-URL type.
    pub fn from_purl_type(t: &str) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.purl_type() == t)
    }
}

/// The kind of an OSV range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeType {
    /// Semantic Versioning 2.0 ordering.
    Semver,
    /// The ecosystem's own ordering.
    Ecosystem,
    /// Git commit hashes.
    Git,
}

/// One OSV range event; exactly one field is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RangeEvent {
    /// The version that introduced the vulnerability (`"0"` means from the beginning).
    Introduced(String),
    /// The first version without it.
    Fixed(String),
    /// The last version that has it.
    LastAffected(String),
    /// An upper bound beyond which the range says nothing.
    Limit(String),
}

impl RangeEvent {
    /// The version this event names.
    pub fn version(&self) -> &str {
        match self {
            RangeEvent::Introduced(v)
            | RangeEvent::Fixed(v)
            | RangeEvent::LastAffected(v)
            | RangeEvent::Limit(v) => v,
        }
    }
}

/// An OSV range: a type and an ordered list of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionRange {
    /// How versions are ordered.
    #[serde(rename = "type")]
    pub range_type: RangeType,
    /// The repository, for GIT ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events.
    pub events: Vec<RangeEvent>,
}

/// A package affected by a reported vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffectedPackage {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The package name as the ecosystem spells it (Maven: `group:artifact`).
    pub name: String,
    /// The package URL without version, e.g. `pkg:maven/org.apache.logging.log4j/log4j-core`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Affected version ranges.
    #[serde(default)]
    pub ranges: Vec<VersionRange>,
    /// Explicitly affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// Most ranges one package may list.
pub const MAX_RANGES: usize = 50;
/// Most events one range may list.
pub const MAX_EVENTS: usize = 100;
/// Most explicit versions one package may list.
pub const MAX_VERSIONS: usize = 1000;

impl AffectedPackage {
    /// Checks the package name, purl, and every range and version against the ecosystem.
    pub fn validate(self) -> Result<AffectedPackage, Invalid> {
        let mut c = Collector::default();
        let name = c.text("name", &self.name, 300);
        if self.ecosystem == Ecosystem::Maven && !name.is_empty() {
            let parts: Vec<_> = name.split(':').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                c.push("name", "a Maven package name is groupId:artifactId");
            }
        }
        let purl = self
            .purl
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if let Some(Err(message)) = purl.map(|p| check_purl(p, self.ecosystem, &name)) {
            c.push("purl", message);
        }
        c.max_items("ranges", &self.ranges, MAX_RANGES);
        c.max_items("versions", &self.versions, MAX_VERSIONS);
        if self.ranges.is_empty() && self.versions.is_empty() {
            c.push("ranges", "give at least one range or one explicit version");
        }
        for (i, range) in self.ranges.iter().enumerate().take(MAX_RANGES) {
            if let Err(e) = validate_range(self.ecosystem, range) {
                c.extend_prefixed(&format!("ranges[{i}]"), e);
            }
        }
        for (i, v) in self.versions.iter().enumerate().take(MAX_VERSIONS) {
            if let Err(message) = version::validate(self.ecosystem, v) {
                c.push(format!("versions[{i}]"), message);
            }
        }
        c.finish(AffectedPackage {
            name,
            purl: purl.map(str::to_owned),
            ..self
        })
    }
}

fn validate_range(ecosystem: Ecosystem, range: &VersionRange) -> Result<(), Invalid> {
    let mut c = Collector::default();
    if range.events.is_empty() {
        c.push("events", "a range needs at least one event");
    }
    if !c.max_items("events", &range.events, MAX_EVENTS) {
        return c.finish(());
    }
    if !range
        .events
        .iter()
        .any(|e| matches!(e, RangeEvent::Introduced(_)))
    {
        c.push("events", "a range needs an \"introduced\" event");
    }
    let limits = range
        .events
        .iter()
        .filter(|e| matches!(e, RangeEvent::Fixed(_) | RangeEvent::LastAffected(_)))
        .count();
    let has_fixed = range
        .events
        .iter()
        .any(|e| matches!(e, RangeEvent::Fixed(_)));
    let has_last = range
        .events
        .iter()
        .any(|e| matches!(e, RangeEvent::LastAffected(_)));
    if has_fixed && has_last && limits > 0 {
        c.push(
            "events",
            "a range may use \"fixed\" or \"last_affected\", not both",
        );
    }
    match range.range_type {
        RangeType::Git => {
            if range.repo.as_deref().is_none_or(|r| r.trim().is_empty()) {
                c.push("repo", "a GIT range needs the repository URL");
            }
        }
        RangeType::Semver | RangeType::Ecosystem => {
            if range.repo.is_some() {
                c.push("repo", "only GIT ranges name a repository");
            }
        }
    }
    for (i, event) in range.events.iter().enumerate() {
        let v = event.version();
        let field = format!("events[{i}]");
        if v.trim().is_empty() || v.len() > 200 {
            c.push(field, "the version must be 1 to 200 characters");
            continue;
        }
        let introduced_zero = matches!(event, RangeEvent::Introduced(z) if z == "0");
        if introduced_zero {
            continue;
        }
        let checked = match range.range_type {
            RangeType::Git => {
                if v.len() >= 7 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(())
                } else {
                    Err(format!("{v:?} is not a git commit hash"))
                }
            }
            RangeType::Semver => version::validate_semver(v),
            RangeType::Ecosystem => version::validate(ecosystem, v),
        };
        if let Err(message) = checked {
            c.push(field, message);
        }
    }
    c.finish(())
}

/// Checks that a purl parses, names the same ecosystem and package, and carries no version.
fn check_purl(purl: &str, ecosystem: Ecosystem, name: &str) -> Result<(), String> {
    use std::str::FromStr;
    if purl.len() > 500 {
        return Err("a purl is at most 500 characters".into());
    }
    let parsed = packageurl::PackageUrl::from_str(purl)
        .map_err(|e| format!("not a valid package URL: {e}"))?;
    if Ecosystem::from_purl_type(parsed.ty()) != Some(ecosystem) {
        return Err(format!(
            "purl type {:?} does not match ecosystem {} (expected pkg:{}/...)",
            parsed.ty(),
            ecosystem.as_str(),
            ecosystem.purl_type()
        ));
    }
    if parsed.version().is_some() {
        return Err("the purl of an affected package names no version; use ranges".into());
    }
    let purl_name = match parsed.namespace() {
        Some(ns) if ecosystem == Ecosystem::Maven => format!("{ns}:{}", parsed.name()),
        Some(ns) => format!("{ns}/{}", parsed.name()),
        None => parsed.name().to_owned(),
    };
    if !name.is_empty() && purl_name != name {
        return Err(format!(
            "purl names package {purl_name:?} but name is {name:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log4j() -> AffectedPackage {
        AffectedPackage {
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
        }
    }

    #[test]
    fn accepts_the_log4shell_ranges() {
        log4j().validate().unwrap();
    }

    #[test]
    fn parses_osv_json_events() {
        let json = r#"{"ecosystem":"Maven","name":"a:b","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}"#;
        let p: AffectedPackage = serde_json::from_str(json).unwrap();
        assert_eq!(p.ranges[0].events[1], RangeEvent::Fixed("1.0".into()));
        p.validate().unwrap();
    }

    #[test]
    fn refuses_mismatched_purl() {
        let mut p = log4j();
        p.purl = Some("pkg:npm/log4j-core".into());
        assert_eq!(p.validate().unwrap_err().0[0].field, "purl");
        let mut p = log4j();
        p.purl = Some("pkg:maven/org.apache.logging.log4j/log4j-api".into());
        assert_eq!(p.validate().unwrap_err().0[0].field, "purl");
        let mut p = log4j();
        p.purl = Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into());
        assert_eq!(p.validate().unwrap_err().0[0].field, "purl");
    }

    #[test]
    fn refuses_ranges_without_introduced_or_with_bad_versions() {
        let mut p = log4j();
        p.ranges[0].events = vec![RangeEvent::Fixed("2.15.0".into())];
        assert_eq!(p.validate().unwrap_err().0[0].field, "ranges[0].events");

        let mut p = log4j();
        p.ecosystem = Ecosystem::Npm;
        p.name = "left-pad".into();
        p.purl = None;
        p.ranges[0].events = vec![RangeEvent::Introduced("not a version".into())];
        assert_eq!(p.validate().unwrap_err().0[0].field, "ranges[0].events[0]");
    }

    #[test]
    fn refuses_unknown_event_keys() {
        let json = r#"{"ecosystem":"Maven","name":"a:b","ranges":[{"type":"ECOSYSTEM","events":[{"introduces":"0"}]}]}"#;
        assert!(serde_json::from_str::<AffectedPackage>(json).is_err());
    }
}
