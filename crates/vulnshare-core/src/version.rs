//! Version ordering and OSV range matching per ecosystem.
//!
//! Each ecosystem orders versions by its own scheme ([`Scheme`]): Maven by `ComparableVersion`
//! ([`maven`]), npm, crates.io and Go by Semantic Versioning ([`semver`]), PyPI by PEP 440
//! (`pep440_rs`) and Debian by Policy 5.6.12 ([`debian`]). [`compare`] orders two strings;
//! [`ParsedVersion`] parses once for matching many components against many advisories, and
//! [`range`] evaluates OSV `affected` entries ([`is_affected`], [`AffectedMatcher`]).

pub mod debian;
pub mod maven;
pub mod range;
pub mod semver;

use std::cmp::Ordering;
use std::fmt;

use crate::package::{Ecosystem, RangeType};

pub use self::debian::DebianVersion;
pub use self::maven::MavenVersion;
pub use self::range::{AffectedMatcher, is_affected};
pub use self::semver::SemverVersion;

/// Longest version string accepted, in bytes.
pub const MAX_VERSION_LEN: usize = 200;

/// How an ecosystem spells and orders its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Apache Maven `ComparableVersion` ordering.
    Maven,
    /// Semantic Versioning 2.0, read leniently (npm, crates.io, Go, OSV `SEMVER` ranges).
    Semver,
    /// PEP 440 (PyPI).
    PyPI,
    /// Debian Policy 5.6.12.
    Debian,
}

impl Scheme {
    /// The scheme an ecosystem's own versions use.
    pub fn of(ecosystem: Ecosystem) -> Scheme {
        match ecosystem {
            Ecosystem::Maven => Scheme::Maven,
            Ecosystem::Npm | Ecosystem::CratesIo | Ecosystem::Go => Scheme::Semver,
            Ecosystem::PyPI => Scheme::PyPI,
            Ecosystem::Debian => Scheme::Debian,
        }
    }

    /// The scheme an OSV range of `range_type` uses in `ecosystem`; `None` for GIT ranges.
    pub fn of_range(range_type: RangeType, ecosystem: Ecosystem) -> Option<Scheme> {
        match range_type {
            RangeType::Semver => Some(Scheme::Semver),
            RangeType::Ecosystem => Some(Scheme::of(ecosystem)),
            RangeType::Git => None,
        }
    }

    /// An example of well-formed versions, for error messages.
    fn hint(self) -> &'static str {
        match self {
            Scheme::Maven => "Maven versions look like 2.14.1 or 2.0-beta9",
            Scheme::Semver => {
                "write major.minor.patch with an optional -prerelease, e.g. 1.4.2 or 2.0.0-rc.1"
            }
            Scheme::PyPI => "PyPI versions follow PEP 440, e.g. 1.4.2, 2.0rc1 or 1!2.0.post1",
            Scheme::Debian => {
                "Debian versions are [epoch:]upstream[-revision], e.g. 1:2.36-9+deb12u4"
            }
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Maven => "Maven",
            Scheme::Semver => "semantic",
            Scheme::PyPI => "PEP 440",
            Scheme::Debian => "Debian",
        })
    }
}

/// Why a version could not be read or a range could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string is empty, too long or contains whitespace.
    #[error("{version:?} is not a version: write 1 to 200 characters without spaces")]
    Malformed {
        /// The rejected string.
        version: String,
    },
    /// The string does not follow the scheme's syntax.
    #[error("{version:?} is not a {scheme} version ({reason}); {hint}", hint = scheme.hint())]
    Unparsable {
        /// The scheme the version was read in.
        scheme: Scheme,
        /// The rejected string.
        version: String,
        /// What the parser objected to.
        reason: String,
    },
    /// An event of an OSV range does not parse, so the range cannot be evaluated.
    #[error(
        "package {package:?}, ranges[{range}].events[{event}]: {problem}; fix the advisory's range"
    )]
    RangeEvent {
        /// The affected package's name.
        package: String,
        /// Index of the range in `ranges`.
        range: usize,
        /// Index of the event in `events`.
        event: usize,
        /// What is wrong with the event's version.
        problem: Box<VersionError>,
    },
}

/// A version parsed once in its scheme, for repeated comparison.
///
/// Versions of the same scheme are ordered; versions of different schemes are not
/// (`partial_cmp` gives `None`).
#[derive(Debug, Clone)]
pub enum ParsedVersion {
    /// A Maven version.
    Maven(MavenVersion),
    /// A semantic version.
    Semver(SemverVersion),
    /// A PEP 440 version.
    PyPI(pep440_rs::Version),
    /// A Debian version.
    Debian(DebianVersion),
}

impl ParsedVersion {
    /// Parses `version` in `scheme`; surrounding whitespace is ignored.
    pub fn parse(scheme: Scheme, version: &str) -> Result<ParsedVersion, VersionError> {
        let v = version.trim();
        if v.is_empty() || v.len() > MAX_VERSION_LEN || v.chars().any(char::is_whitespace) {
            return Err(VersionError::Malformed {
                version: version.to_owned(),
            });
        }
        let unparsable = |reason: String| VersionError::Unparsable {
            scheme,
            version: v.to_owned(),
            reason,
        };
        match scheme {
            Scheme::Maven => Ok(ParsedVersion::Maven(MavenVersion::parse(v))),
            Scheme::Semver => SemverVersion::parse(v)
                .map(ParsedVersion::Semver)
                .map_err(unparsable),
            Scheme::PyPI => v
                .parse::<pep440_rs::Version>()
                .map(ParsedVersion::PyPI)
                .map_err(|e| unparsable(e.to_string())),
            Scheme::Debian => DebianVersion::parse(v)
                .map(ParsedVersion::Debian)
                .map_err(unparsable),
        }
    }

    /// The scheme this version was parsed in.
    pub fn scheme(&self) -> Scheme {
        match self {
            ParsedVersion::Maven(_) => Scheme::Maven,
            ParsedVersion::Semver(_) => Scheme::Semver,
            ParsedVersion::PyPI(_) => Scheme::PyPI,
            ParsedVersion::Debian(_) => Scheme::Debian,
        }
    }
}

impl PartialOrd for ParsedVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (ParsedVersion::Maven(a), ParsedVersion::Maven(b)) => Some(a.cmp(b)),
            (ParsedVersion::Semver(a), ParsedVersion::Semver(b)) => Some(a.cmp(b)),
            (ParsedVersion::PyPI(a), ParsedVersion::PyPI(b)) => Some(a.cmp(b)),
            (ParsedVersion::Debian(a), ParsedVersion::Debian(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl PartialEq for ParsedVersion {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl fmt::Display for ParsedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParsedVersion::Maven(v) => v.fmt(f),
            ParsedVersion::Semver(v) => v.fmt(f),
            ParsedVersion::PyPI(v) => v.fmt(f),
            ParsedVersion::Debian(v) => v.fmt(f),
        }
    }
}

/// Parses `version` as a version of `ecosystem`.
pub fn parse(ecosystem: Ecosystem, version: &str) -> Result<ParsedVersion, VersionError> {
    ParsedVersion::parse(Scheme::of(ecosystem), version)
}

/// Orders two versions of `ecosystem`; the error names the version that does not parse.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = parse(ecosystem, a)?;
    let b = parse(ecosystem, b)?;
    Ok(a.partial_cmp(&b)
        .expect("both versions use the ecosystem's scheme"))
}

/// Checks that `version` is a version string of `ecosystem`; the error says why not.
pub fn validate(ecosystem: Ecosystem, version: &str) -> Result<(), String> {
    parse(ecosystem, version)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Checks that `version` is a Semantic Versioning 2.0 version (a leading `v` is allowed).
pub fn validate_semver(version: &str) -> Result<(), String> {
    ParsedVersion::parse(Scheme::Semver, version)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
