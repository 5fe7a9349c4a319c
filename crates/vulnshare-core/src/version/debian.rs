//! Debian version ordering, Debian Policy 5.6.12: `[epoch:]upstream[-revision]`, compared
//! epoch first (numerically), then upstream and revision by the dpkg algorithm: alternate
//! non-digit and digit runs; non-digits compare by ASCII with letters before non-letters and
//! `~` before everything, even the end of the string; digit runs compare numerically, an
//! absent run counting as zero.
//!
//! Parsing uses the `debversion` crate; the comparison is done here because `debversion` 0.5
//! ranks an absent digit run below `0` (so `1.0` < `1.0-0`), where Policy makes them equal.

use std::cmp::Ordering;
use std::fmt;

/// A parsed Debian version.
#[derive(Debug, Clone)]
pub struct DebianVersion {
    epoch: u32,
    upstream: Box<str>,
    revision: Box<str>,
    original: Box<str>,
}

impl DebianVersion {
    /// Parses a Debian version as Policy 5.6.12 spells it.
    pub fn parse(version: &str) -> Result<DebianVersion, String> {
        let parsed: debversion::Version = version.parse().map_err(|e| format!("{e}"))?;
        Ok(DebianVersion {
            epoch: parsed.epoch.unwrap_or(0),
            upstream: parsed.upstream_version.into(),
            revision: parsed.debian_revision.unwrap_or_default().into(),
            original: version.into(),
        })
    }
}

/// The dpkg weight of a non-digit character: `~` lowest, then the end of a run, then letters,
/// then every other character.
fn weight(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Compares two upstream versions or two revisions the dpkg way.
fn compare_part(mut a: &[u8], mut b: &[u8]) -> Ordering {
    while !a.is_empty() || !b.is_empty() {
        let a_text = a.iter().take_while(|c| !c.is_ascii_digit()).count();
        let b_text = b.iter().take_while(|c| !c.is_ascii_digit()).count();
        for i in 0..a_text.max(b_text) {
            let ordering =
                weight(a[..a_text].get(i).copied()).cmp(&weight(b[..b_text].get(i).copied()));
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a = &a[a_text..];
        b = &b[b_text..];
        let a_digits = a.iter().take_while(|c| c.is_ascii_digit()).count();
        let b_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let ordering = compare_digits(&a[..a_digits], &b[..b_digits]);
        if ordering != Ordering::Equal {
            return ordering;
        }
        a = &a[a_digits..];
        b = &b[b_digits..];
    }
    Ordering::Equal
}

/// Compares digit runs of any length numerically; an empty run is zero.
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let a = &a[strip(a)..];
    let b = &b[strip(b)..];
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for DebianVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| compare_part(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DebianVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for DebianVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebianVersion {}

impl fmt::Display for DebianVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        DebianVersion::parse(a)
            .unwrap()
            .cmp(&DebianVersion::parse(b).unwrap())
    }

    #[test]
    fn follows_policy_5_6_12() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(cmp("1.0~~", "1.0~"), Ordering::Less);
        assert_eq!(cmp("1.0", "1.0a"), Ordering::Less);
        assert_eq!(cmp("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(cmp("1:0.1", "2.0"), Ordering::Greater);
        assert_eq!(cmp("1.10", "1.9"), Ordering::Greater);
        assert_eq!(cmp("2.30-1", "2.30-1+deb12u1"), Ordering::Less);
    }

    #[test]
    fn treats_absent_digits_as_zero() {
        assert_eq!(cmp("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(cmp("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("1.01", "1.1"), Ordering::Equal);
        assert_eq!(cmp("1.0-1", "1.0-01"), Ordering::Equal);
    }

    #[test]
    fn compares_numbers_longer_than_u64() {
        assert_eq!(
            cmp("1.123456789012345678901234567890", "1.99"),
            Ordering::Greater
        );
    }
}
