//! OSV range evaluation: is a version inside an `affected` entry?
//!
//! This follows the OSV schema's evaluation algorithm. A version is affected when it is listed
//! in `versions` or lies inside any range (ranges are OR-ed). Within one range the events are
//! sorted by version, `introduced: "0"` standing for minus infinity, and walked in order:
//! `introduced` at or below the version opens the range, `fixed` at or below closes it
//! (fixed versions are not affected), and `last_affected` strictly below closes it (the last
//! affected version itself is). So one range can hold several intervals, like log4j-core's
//! `[2.0-beta9, 2.3.1) [2.4, 2.12.2) [2.13.0, 2.15.0)`. When a range has `limit` events, the
//! version must also lie below one of them (`"*"` is no limit). GIT ranges name commits, not
//! versions, so they never match a version. `SEMVER` ranges compare by Semantic Versioning
//! whatever the ecosystem; `ECOSYSTEM` ranges by the ecosystem's own scheme.
//!
//! Events with equal versions keep the order the advisory gives them, so `fixed: 1.0` followed
//! by `introduced: 1.0` re-opens the range at 1.0.

use std::cmp::Ordering;

use super::{ParsedVersion, Scheme, SemverVersion, VersionError};
use crate::package::{AffectedPackage, Ecosystem, RangeEvent};

/// An `affected` entry compiled for fast matching: parse once, match many versions.
#[derive(Debug, Clone)]
pub struct AffectedMatcher {
    scheme: Scheme,
    explicit: Vec<(Box<str>, Option<ParsedVersion>)>,
    ranges: Vec<CompiledRange>,
}

#[derive(Debug, Clone)]
struct CompiledRange {
    scheme: Scheme,
    events: Vec<(Kind, Bound)>,
    has_limits: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

#[derive(Debug, Clone)]
enum Bound {
    /// `introduced: "0"`.
    MinusInfinity,
    At(ParsedVersion),
    /// `limit: "*"`.
    PlusInfinity,
}

impl Bound {
    /// Orders `version` against this bound.
    fn compare_version(&self, version: &ParsedVersion) -> Ordering {
        match self {
            Bound::MinusInfinity => Ordering::Greater,
            Bound::PlusInfinity => Ordering::Less,
            Bound::At(bound) => version.partial_cmp(bound).unwrap_or(Ordering::Less),
        }
    }

    fn compare(&self, other: &Bound) -> Ordering {
        match (self, other) {
            (Bound::MinusInfinity, Bound::MinusInfinity)
            | (Bound::PlusInfinity, Bound::PlusInfinity) => Ordering::Equal,
            (Bound::MinusInfinity, _) | (_, Bound::PlusInfinity) => Ordering::Less,
            (_, Bound::MinusInfinity) | (Bound::PlusInfinity, _) => Ordering::Greater,
            (Bound::At(a), Bound::At(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
        }
    }
}

impl CompiledRange {
    fn contains(&self, version: &ParsedVersion) -> bool {
        if self.has_limits
            && !self
                .events
                .iter()
                .any(|(kind, bound)| *kind == Kind::Limit && bound.compare_version(version).is_lt())
        {
            return false;
        }
        let mut affected = false;
        for (kind, bound) in &self.events {
            let ordering = bound.compare_version(version);
            match kind {
                Kind::Introduced if ordering.is_ge() => affected = true,
                Kind::Fixed if ordering.is_ge() => affected = false,
                Kind::LastAffected if ordering.is_gt() => affected = false,
                _ => {}
            }
        }
        affected
    }
}

/// Sorts events by version, keeping the advisory's order among equals.
///
/// Insertion sort on purpose: ranges are short (at most 100 events), it is stable, and unlike
/// `slice::sort_by` it cannot panic if a scheme's order is not total (Maven's is not, on odd
/// mixes of `.` and `-` qualifiers).
fn sort_events(events: &mut [(Kind, Bound)]) {
    for i in 1..events.len() {
        let mut j = i;
        while j > 0 && events[j - 1].1.compare(&events[j].1).is_gt() {
            events.swap(j - 1, j);
            j -= 1;
        }
    }
}

impl AffectedMatcher {
    /// Compiles `package` for versions of `ecosystem`; fails if a range event does not parse.
    ///
    /// Explicit `versions` that do not parse are kept and match by exact string only.
    pub fn new(
        ecosystem: Ecosystem,
        package: &AffectedPackage,
    ) -> Result<AffectedMatcher, VersionError> {
        let scheme = Scheme::of(ecosystem);
        let explicit = package
            .versions
            .iter()
            .map(|v| (v.trim().into(), ParsedVersion::parse(scheme, v).ok()))
            .collect();
        let mut ranges = Vec::with_capacity(package.ranges.len());
        for (range_index, range) in package.ranges.iter().enumerate() {
            let Some(range_scheme) = Scheme::of_range(range.range_type, ecosystem) else {
                continue;
            };
            let mut events = Vec::with_capacity(range.events.len());
            for (event_index, event) in range.events.iter().enumerate() {
                let (kind, text) = match event {
                    RangeEvent::Introduced(v) => (Kind::Introduced, v),
                    RangeEvent::Fixed(v) => (Kind::Fixed, v),
                    RangeEvent::LastAffected(v) => (Kind::LastAffected, v),
                    RangeEvent::Limit(v) => (Kind::Limit, v),
                };
                let bound =
                    match (kind, text.trim()) {
                        (Kind::Introduced, "0") => Bound::MinusInfinity,
                        (Kind::Limit, "*") => Bound::PlusInfinity,
                        _ => Bound::At(ParsedVersion::parse(range_scheme, text).map_err(
                            |problem| VersionError::RangeEvent {
                                package: package.name.clone(),
                                range: range_index,
                                event: event_index,
                                problem: Box::new(problem),
                            },
                        )?),
                    };
                events.push((kind, bound));
            }
            sort_events(&mut events);
            let has_limits = events.iter().any(|(kind, _)| *kind == Kind::Limit);
            ranges.push(CompiledRange {
                scheme: range_scheme,
                events,
                has_limits,
            });
        }
        Ok(AffectedMatcher {
            scheme,
            explicit,
            ranges,
        })
    }

    /// The scheme candidate versions must be parsed in (see [`ParsedVersion::parse`]).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether `version` (parsed in [`AffectedMatcher::scheme`]) is affected.
    ///
    /// A `SEMVER` range in an ecosystem with another scheme re-reads the version as a
    /// semantic version; if it is not one, that range does not match.
    pub fn matches(&self, version: &ParsedVersion) -> bool {
        let listed = self.explicit.iter().any(|(text, parsed)| match parsed {
            Some(parsed) => parsed == version,
            None => **text == *version.to_string(),
        });
        if listed {
            return true;
        }
        let mut as_semver: Option<Option<ParsedVersion>> = None;
        self.ranges.iter().any(|range| {
            if range.scheme == version.scheme() {
                return range.contains(version);
            }
            if range.scheme != Scheme::Semver {
                return false;
            }
            let converted = as_semver.get_or_insert_with(|| {
                SemverVersion::parse(&version.to_string())
                    .ok()
                    .map(ParsedVersion::Semver)
            });
            converted.as_ref().is_some_and(|v| range.contains(v))
        })
    }

    /// Parses `version` in this matcher's scheme and says whether it is affected.
    pub fn matches_str(&self, version: &str) -> Result<bool, VersionError> {
        let parsed = ParsedVersion::parse(self.scheme, version)?;
        let listed_verbatim = self
            .explicit
            .iter()
            .any(|(text, _)| **text == *version.trim());
        Ok(listed_verbatim || self.matches(&parsed))
    }
}

/// Whether `version` of `ecosystem` is affected by `package` under the OSV schema's rules.
///
/// Fails if `version` is not a version of `ecosystem` or a range event does not parse. To
/// match many versions against the same package, build an [`AffectedMatcher`] once instead.
pub fn is_affected(
    ecosystem: Ecosystem,
    package: &AffectedPackage,
    version: &str,
) -> Result<bool, VersionError> {
    AffectedMatcher::new(ecosystem, package)?.matches_str(version)
}

#[cfg(test)]
mod tests;
