//! Errors from loading a regime document, each pointing at the line and column to fix.

use std::fmt;

use serde::Serialize;

use crate::clock::{ClockMode, PeriodError};

/// A 1-based line and column in the regime document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column (in characters), starting at 1.
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What is wrong with one value of a regime document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegimeProblem {
    /// A required text is empty.
    #[error("`{0}` is empty; write a value")]
    Empty(String),
    /// A setting is neither on the rule nor on the regime.
    #[error("`{0}` is missing; set it on the rule or once for the whole regime")]
    Missing(String),
    /// A rule has no article.
    #[error("the rule has no `article`; every rule must name the article its duty comes from")]
    MissingArticle,
    /// Two rules share an id.
    #[error("rule id `{0}` is used twice; rule ids must be unique within a regime")]
    DuplicateRule(String),
    /// The document has no rules.
    #[error("the regime has no rules; add at least one `[[rules]]` table")]
    NoRules,
    /// The clock mode is not known.
    #[error("unknown clock mode `{0}`; use one of {modes}", modes = ClockMode::ALL.map(|m| m.as_str()).join(", "))]
    UnknownClockMode(String),
    /// The clock mode cannot count the period.
    #[error("clock mode `{mode}` cannot count `{period}`; {hint}")]
    PeriodNotCountable {
        /// The clock mode.
        mode: ClockMode,
        /// The period text.
        period: String,
        /// Which modes can.
        hint: String,
    },
    /// The period text is wrong.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// The trigger is not known.
    #[error(
        "unknown trigger `{0}`; use aware, platform_notified, fix_available, \
         materiality_determined or previous_duty_met:<rule id>"
    )]
    UnknownTrigger(String),
    /// A `previous_duty_met` trigger names a rule the regime does not have.
    #[error("trigger refers to rule `{0}`, which this regime does not define")]
    UnknownPreviousRule(String),
    /// The party is not known.
    #[error("unknown party `{0}`; use reporter, affected_provider, upstream_provider or operator")]
    UnknownParty(String),
    /// The time zone is not in the IANA database.
    #[error("unknown time zone `{0}`; use an IANA name such as Asia/Shanghai or Europe/Brussels")]
    UnknownTimeZone(String),
    /// The holiday calendar is not defined.
    #[error(
        "unknown holiday calendar `{0}`; use a built-in one (CN, US-FEDERAL, EU, NONE) or define it under [[calendars]]"
    )]
    UnknownCalendar(String),
    /// A date could not be read.
    #[error(
        "`{0}` is not a date; write YYYY-MM-DD (or YYYY-MM-DD..YYYY-MM-DD for a holiday range)"
    )]
    BadDate(String),
    /// A condition key is not known.
    #[error(
        "unknown condition `{0}`; use kind, exploitation, country, incident or platform_member"
    )]
    UnknownCondition(String),
    /// A condition value is not allowed.
    #[error("condition `{key}` cannot be `{value}`; {expected}")]
    BadConditionValue {
        /// The condition key.
        key: String,
        /// The value found.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
}

/// One problem, with the field path and where it is in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegimeIssue {
    /// Path of the offending value, e.g. `rules[2].clock`.
    pub field: String,
    /// Where it is; absent for JSON input, whose semantic errors are located by `field` only.
    pub location: Option<Location>,
    /// What is wrong.
    #[serde(serialize_with = "as_display")]
    pub problem: RegimeProblem,
}

fn as_display<S: serde::Serializer>(problem: &RegimeProblem, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(problem)
}

impl fmt::Display for RegimeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Why a regime document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegimeError {
    /// The text is not well-formed TOML/JSON or does not have the regime's shape (missing or
    /// unknown keys, wrong value types).
    #[error("{format} regime document is malformed{}: {message}", location.map(|l| format!(" at {l}")).unwrap_or_default())]
    Syntax {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// Where, when the parser knows.
        location: Option<Location>,
        /// The parser's description.
        message: String,
    },
    /// The document is well-formed but some values are wrong.
    #[error("regime document has {} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<RegimeIssue>),
}

impl RegimeError {
    /// The semantic issues (empty for a syntax error).
    pub fn issues(&self) -> Vec<RegimeIssue> {
        match self {
            RegimeError::Syntax { .. } => Vec::new(),
            RegimeError::Invalid(issues) => issues.clone(),
        }
    }

    /// The location of the first problem, if known.
    pub fn location(&self) -> Option<Location> {
        match self {
            RegimeError::Syntax { location, .. } => *location,
            RegimeError::Invalid(issues) => issues.iter().find_map(|i| i.location),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 6),
            Location { line: 2, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 9),
            Location { line: 2, column: 3 }
        );
    }
}
