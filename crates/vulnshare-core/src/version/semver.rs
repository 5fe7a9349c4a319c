//! Semantic Versioning 2.0 ordering (semver.org), parsed leniently the way OSV data needs:
//! a leading `v` or `=` is dropped (npm, Go), and a missing minor or patch is read as zero
//! (`1` is `1.0.0`, `1.2-rc.1` is `1.2.0-rc.1`). Build metadata never affects the order
//! (semver.org item 10), so Go's `+incompatible` versions sort with their base version.
//! Go pseudo-versions (`v0.0.0-20210101000000-abcdef123456`) are ordinary pre-releases.

use std::cmp::Ordering;
use std::fmt;

/// A parsed semantic version, ordered by precedence (build metadata ignored).
#[derive(Debug, Clone)]
pub struct SemverVersion(pub ::semver::Version);

impl SemverVersion {
    /// Parses a semantic version leniently (leading `v`/`=`, missing minor or patch).
    pub fn parse(version: &str) -> Result<SemverVersion, String> {
        let trimmed = version.strip_prefix('=').unwrap_or(version);
        let trimmed = trimmed
            .strip_prefix('v')
            .or_else(|| trimmed.strip_prefix('V'))
            .unwrap_or(trimmed);
        let core_end = trimmed.find(['-', '+']).unwrap_or(trimmed.len());
        let (core, suffix) = trimmed.split_at(core_end);
        let mut numbers = [0u64; 3];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return Err("a semantic version has at most three numbers: major.minor.patch".into());
        }
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{part:?} is not a number; write major.minor.patch, e.g. 1.4.2"
                ));
            }
            *slot = part
                .parse()
                .map_err(|_| format!("{part:?} is too large for a version number"))?;
        }
        let [major, minor, patch] = numbers;
        ::semver::Version::parse(&format!("{major}.{minor}.{patch}{suffix}"))
            .map(SemverVersion)
            .map_err(|e| e.to_string())
    }
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_precedence(&other.0)
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SemverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemverVersion {}

impl fmt::Display for SemverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemverVersion {
        SemverVersion::parse(s).unwrap()
    }

    #[test]
    fn pads_missing_minor_and_patch() {
        assert_eq!(v("1"), v("1.0.0"));
        assert_eq!(v("v1.2"), v("1.2.0"));
        assert_eq!(v("=1.2.3"), v("1.2.3"));
        assert_eq!(v("1.2-rc.1").0.pre.as_str(), "rc.1");
    }

    #[test]
    fn ignores_build_metadata_in_the_order() {
        assert_eq!(v("2.0.0+incompatible"), v("v2.0.0"));
        assert!(v("1.0.0-rc.1+build.5") < v("1.0.0"));
    }

    #[test]
    fn orders_go_pseudo_versions_as_prereleases() {
        assert!(v("v0.0.0-20200101000000-abcdef123456") < v("v0.0.0-20210101000000-abcdef123456"));
        assert!(v("v1.2.4-0.20210101000000-abcdef123456") > v("v1.2.3"));
        assert!(v("v1.2.4-0.20210101000000-abcdef123456") < v("v1.2.4"));
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        for bad in [
            "", "v", "1.2.3.4", "a.b.c", "1..2", "1.2.3-", "1.2.3-01", "latest",
        ] {
            assert!(SemverVersion::parse(bad).is_err(), "{bad} parsed");
        }
    }
}
