//! The raw shape of a regime document, as deserialized with spans, and its validation into a
//! [`Regime`]. Raw and validated types are kept apart so that every refusal can point at the
//! offending key.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::Range;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::error::{Location, RegimeError, RegimeIssue, RegimeProblem};
use super::{Condition, Party, Regime, Rule, Trigger};
use crate::clock::{Clock, ClockMode, HolidayCalendar, Period};
use crate::report::{ExploitationStatus, ReportKind};

/// Longest holiday range accepted, to catch typos such as a wrong year.
const MAX_RANGE_DAYS: i32 = 400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegime {
    id: Spanned<String>,
    version: Spanned<String>,
    name: Spanned<String>,
    jurisdiction: Spanned<String>,
    effective_from: Spanned<Value>,
    effective_until: Option<Spanned<Value>>,
    time_zone: Spanned<String>,
    clock: Option<Spanned<String>>,
    holiday_calendar: Option<Spanned<String>>,
    #[serde(default)]
    calendars: Vec<Spanned<RawCalendar>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    article: Option<Spanned<String>>,
    duty: Spanned<String>,
    party: Spanned<String>,
    trigger: Spanned<String>,
    period: Spanned<String>,
    clock: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    holiday_calendar: Option<Spanned<String>>,
    #[serde(default)]
    required_content: Vec<Spanned<String>>,
    #[serde(default)]
    applies_when: BTreeMap<Spanned<String>, Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    id: Spanned<String>,
    weekends_are_rest_days: Option<bool>,
    #[serde(default)]
    covered_years: Vec<i16>,
    #[serde(default)]
    holidays: Vec<Spanned<Value>>,
    #[serde(default)]
    working_days: Vec<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendarFile {
    calendars: Vec<Spanned<RawCalendar>>,
}

/// Collects issues; `text` is the TOML source when spans refer to what the user wrote.
struct Checker<'a> {
    text: Option<&'a str>,
    issues: Vec<RegimeIssue>,
}

impl Checker<'_> {
    fn push(&mut self, field: impl Into<String>, span: Range<usize>, problem: RegimeProblem) {
        let location = self.text.map(|t| Location::of_offset(t, span.start));
        self.issues.push(RegimeIssue {
            field: field.into(),
            location,
            problem,
        });
    }

    fn text(&mut self, field: &str, value: &Spanned<String>) -> String {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            self.push(field, value.span(), RegimeProblem::Empty(field.to_owned()));
        }
        trimmed.to_owned()
    }

    fn time_zone(&mut self, field: &str, name: &Spanned<String>) -> Option<TimeZone> {
        let zone = TimeZone::get(name.get_ref()).ok();
        if zone.is_none() {
            let problem = RegimeProblem::UnknownTimeZone(name.get_ref().clone());
            self.push(field, name.span(), problem);
        }
        zone
    }

    fn clock_mode(&mut self, field: &str, name: &Spanned<String>) -> Option<ClockMode> {
        let mode = ClockMode::parse(name.get_ref());
        if mode.is_none() {
            let problem = RegimeProblem::UnknownClockMode(name.get_ref().clone());
            self.push(field, name.span(), problem);
        }
        mode
    }

    fn date(&mut self, field: &str, value: &Spanned<Value>) -> Option<Date> {
        let date = value_text(value.get_ref()).and_then(|t| t.parse::<Date>().ok());
        if date.is_none() {
            let problem = RegimeProblem::BadDate(value_display(value.get_ref()));
            self.push(field, value.span(), problem);
        }
        date
    }

    /// A single date or an inclusive `A..B` range.
    fn dates(&mut self, field: &str, value: &Spanned<Value>, into: &mut BTreeSet<Date>) {
        let range = value_text(value.get_ref()).and_then(|t| parse_range(&t));
        let Some((first, last)) = range else {
            let problem = RegimeProblem::BadDate(value_display(value.get_ref()));
            self.push(field, value.span(), problem);
            return;
        };
        let mut day = first;
        while day <= last {
            into.insert(day);
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
    }
}

fn parse_range(text: &str) -> Option<(Date, Date)> {
    let (first, last): (Date, Date) = match text.split_once("..") {
        None => {
            let day = text.trim().parse().ok()?;
            (day, day)
        }
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
    };
    let days = last.since(first).ok()?.get_days();
    (0..=MAX_RANGE_DAYS)
        .contains(&days)
        .then_some((first, last))
}

/// A TOML string or date-only datetime as text.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => Some(dt.to_string()),
        _ => None,
    }
}

fn value_display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn exploitation(name: &str) -> Option<ExploitationStatus> {
    match name {
        "none" => Some(ExploitationStatus::None),
        "poc" => Some(ExploitationStatus::Poc),
        "exploited_in_wild" => Some(ExploitationStatus::ExploitedInWild),
        _ => None,
    }
}

fn condition(key: &str, value: &Value) -> Result<Condition, RegimeProblem> {
    let bad = |expected| RegimeProblem::BadConditionValue {
        key: key.to_owned(),
        value: value_display(value),
        expected,
    };
    let list = || strings(value).filter(|l| !l.is_empty());
    match key {
        "kind" => {
            let expected = "use own_product, upstream_component, third_party_observation or threat";
            let names = list().ok_or_else(|| bad(expected))?;
            let kinds = names
                .iter()
                .map(|n| ReportKind::parse(n))
                .collect::<Option<_>>();
            kinds.map(Condition::Kind).ok_or_else(|| bad(expected))
        }
        "exploitation" => {
            let expected = "use none, poc or exploited_in_wild";
            let names = list().ok_or_else(|| bad(expected))?;
            let states = names.iter().map(|n| exploitation(n)).collect::<Option<_>>();
            states
                .map(Condition::Exploitation)
                .ok_or_else(|| bad(expected))
        }
        "country" => {
            let expected = "use ISO 3166-1 alpha-2 codes such as CN";
            let codes = list().ok_or_else(|| bad(expected))?;
            let valid = codes
                .iter()
                .all(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()));
            let codes = codes.iter().map(|c| c.to_ascii_uppercase()).collect();
            valid
                .then_some(Condition::Country(codes))
                .ok_or_else(|| bad(expected))
        }
        "incident" => list()
            .map(Condition::Incident)
            .ok_or_else(|| bad("use incident class names such as significant or severe")),
        "platform_member" => value
            .as_bool()
            .map(Condition::PlatformMember)
            .ok_or_else(|| bad("use true or false")),
        other => Err(RegimeProblem::UnknownCondition(other.to_owned())),
    }
}

fn calendar(check: &mut Checker<'_>, field: &str, raw: &RawCalendar) -> HolidayCalendar {
    let mut calendar = HolidayCalendar::weekends_only(check.text(&format!("{field}.id"), &raw.id));
    if let Some(weekends) = raw.weekends_are_rest_days {
        calendar.weekends_are_rest_days = weekends;
    }
    calendar
        .covered_years
        .extend(raw.covered_years.iter().copied());
    for (i, value) in raw.holidays.iter().enumerate() {
        check.dates(
            &format!("{field}.holidays[{i}]"),
            value,
            &mut calendar.holidays,
        );
    }
    for (i, value) in raw.working_days.iter().enumerate() {
        check.dates(
            &format!("{field}.working_days[{i}]"),
            value,
            &mut calendar.working_days,
        );
    }
    calendar
}

/// Parses the built-in (or an operator's) calendar file.
pub(super) fn parse_calendars(text: &str) -> Result<Vec<HolidayCalendar>, RegimeError> {
    let raw: RawCalendarFile = toml::from_str(text).map_err(|e| toml_syntax(text, &e))?;
    let mut check = Checker {
        text: Some(text),
        issues: Vec::new(),
    };
    let calendars = raw
        .calendars
        .iter()
        .enumerate()
        .map(|(i, c)| calendar(&mut check, &format!("calendars[{i}]"), c.get_ref()))
        .collect();
    if check.issues.is_empty() {
        Ok(calendars)
    } else {
        Err(RegimeError::Invalid(check.issues))
    }
}

fn toml_syntax(text: &str, error: &toml::de::Error) -> RegimeError {
    RegimeError::Syntax {
        format: "TOML",
        location: error.span().map(|s| Location::of_offset(text, s.start)),
        message: error.message().trim().to_owned(),
    }
}

/// Parses a TOML regime; `calendars` are the ones rules may name besides the document's own.
pub(super) fn parse_toml(text: &str, calendars: &[HolidayCalendar]) -> Result<Regime, RegimeError> {
    let raw: RawRegime = toml::from_str(text).map_err(|e| toml_syntax(text, &e))?;
    validate(raw, Some(text), calendars)
}

/// Parses a JSON regime by converting it to the TOML data model first; semantic issues then
/// carry the field path but no line (the spans would point into the converted text).
pub(super) fn parse_json(text: &str, calendars: &[HolidayCalendar]) -> Result<Regime, RegimeError> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| RegimeError::Syntax {
        format: "JSON",
        location: Some(Location {
            line: e.line(),
            column: e.column(),
        }),
        message: e.to_string(),
    })?;
    let json_shape = |message: String| RegimeError::Syntax {
        format: "JSON",
        location: None,
        message,
    };
    let value = json_to_toml(&json, "").map_err(json_shape)?;
    let converted = toml::to_string(&value).map_err(|e| json_shape(e.to_string()))?;
    let raw: RawRegime =
        toml::from_str(&converted).map_err(|e| json_shape(e.message().trim().to_owned()))?;
    validate(raw, None, calendars)
}

fn json_to_toml(value: &serde_json::Value, path: &str) -> Result<Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => return Err(format!("`{path}` is null; leave the key out instead")),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| json_to_toml(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(map) => Value::Table(
            map.iter()
                .map(|(k, v)| {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    Ok((k.clone(), json_to_toml(v, &sub)?))
                })
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn validate(
    raw: RawRegime,
    text: Option<&str>,
    builtin: &[HolidayCalendar],
) -> Result<Regime, RegimeError> {
    let mut check = Checker {
        text,
        issues: Vec::new(),
    };
    let id = check.text("id", &raw.id);
    let version = check.text("version", &raw.version);
    let name = check.text("name", &raw.name);
    let jurisdiction = check.text("jurisdiction", &raw.jurisdiction);
    let effective_from = check.date("effective_from", &raw.effective_from);
    let effective_until = raw
        .effective_until
        .as_ref()
        .map(|v| check.date("effective_until", v));
    let zone = check.time_zone("time_zone", &raw.time_zone);
    let default_mode = raw.clock.as_ref().map(|c| check.clock_mode("clock", c));

    let mut calendars: BTreeMap<String, HolidayCalendar> =
        builtin.iter().map(|c| (c.id.clone(), c.clone())).collect();
    for (i, raw_calendar) in raw.calendars.iter().enumerate() {
        let own = calendar(
            &mut check,
            &format!("calendars[{i}]"),
            raw_calendar.get_ref(),
        );
        match calendars.get_mut(&own.id) {
            Some(existing) => existing.extend(&own),
            None => {
                calendars.insert(own.id.clone(), own);
            }
        }
    }

    if raw.rules.is_empty() {
        check.push("rules", raw.id.span(), RegimeProblem::NoRules);
    }
    let rule_ids: HashSet<&str> = raw
        .rules
        .iter()
        .map(|r| r.get_ref().id.get_ref().trim())
        .collect();
    let mut seen = HashSet::new();
    let mut rules = Vec::new();
    for (i, spanned) in raw.rules.iter().enumerate() {
        let context = RuleContext {
            index: i,
            span: spanned.span(),
            zone: &raw.time_zone,
            mode: raw.clock.as_ref().zip(default_mode.flatten()),
            mode_given: raw.clock.is_some(),
            calendar: raw.holiday_calendar.as_ref(),
            calendars: &calendars,
            rule_ids: &rule_ids,
        };
        let rule = validate_rule(&mut check, spanned.get_ref(), &context);
        if let Some(rule) = rule {
            if !seen.insert(rule.id.clone()) {
                let problem = RegimeProblem::DuplicateRule(rule.id.clone());
                check.push(
                    format!("rules[{i}].id"),
                    spanned.get_ref().id.span(),
                    problem,
                );
            }
            rules.push(rule);
        }
    }

    match (
        check.issues.is_empty(),
        effective_from,
        effective_until,
        zone,
    ) {
        (true, Some(effective_from), until, Some(zone)) => Ok(Regime {
            id,
            version,
            name,
            jurisdiction,
            effective_from,
            effective_until: until.flatten(),
            time_zone: raw.time_zone.get_ref().clone(),
            rules,
            zone,
        }),
        _ => Err(RegimeError::Invalid(check.issues)),
    }
}

struct RuleContext<'a> {
    index: usize,
    span: Range<usize>,
    zone: &'a Spanned<String>,
    mode: Option<(&'a Spanned<String>, ClockMode)>,
    mode_given: bool,
    calendar: Option<&'a Spanned<String>>,
    calendars: &'a BTreeMap<String, HolidayCalendar>,
    rule_ids: &'a HashSet<&'a str>,
}

fn validate_rule(
    check: &mut Checker<'_>,
    raw: &RawRule,
    context: &RuleContext<'_>,
) -> Option<Rule> {
    let field = |name: &str| format!("rules[{}].{name}", context.index);
    let before = check.issues.len();
    let id = check.text(&field("id"), &raw.id);
    let duty = check.text(&field("duty"), &raw.duty);
    let article = match &raw.article {
        Some(article) => check.text(&field("article"), article),
        None => {
            check.push(
                field("article"),
                context.span.clone(),
                RegimeProblem::MissingArticle,
            );
            String::new()
        }
    };
    let party = Party::parse(raw.party.get_ref());
    if party.is_none() {
        let problem = RegimeProblem::UnknownParty(raw.party.get_ref().clone());
        check.push(field("party"), raw.party.span(), problem);
    }
    let trigger = Trigger::parse(raw.trigger.get_ref().trim());
    match &trigger {
        None => {
            let problem = RegimeProblem::UnknownTrigger(raw.trigger.get_ref().clone());
            check.push(field("trigger"), raw.trigger.span(), problem);
        }
        Some(Trigger::PreviousDutyMet { rule_id })
            if !context.rule_ids.contains(rule_id.as_str()) =>
        {
            let problem = RegimeProblem::UnknownPreviousRule(rule_id.clone());
            check.push(field("trigger"), raw.trigger.span(), problem);
        }
        Some(_) => {}
    }
    let period = match raw.period.get_ref().parse::<Period>() {
        Ok(period) => Some(period),
        Err(error) => {
            check.push(field("period"), raw.period.span(), error.into());
            None
        }
    };
    let mode = match &raw.clock {
        Some(name) => check.clock_mode(&field("clock"), name).map(|m| (name, m)),
        None => context.mode,
    };
    if raw.clock.is_none() && !context.mode_given {
        let problem = RegimeProblem::Missing("clock".to_owned());
        check.push(field("clock"), context.span.clone(), problem);
    }
    if let (Some((name, mode)), Some(period)) = (mode, period)
        && !mode.accepts(period)
    {
        let able: Vec<&str> = ClockMode::ALL
            .into_iter()
            .filter(|m| m.accepts(period))
            .map(ClockMode::as_str)
            .collect();
        let problem = RegimeProblem::PeriodNotCountable {
            mode,
            period: period.to_string(),
            hint: format!("use one of {}", able.join(", ")),
        };
        check.push(field("clock"), name.span(), problem);
    }
    let zone_name = raw.time_zone.as_ref().unwrap_or(context.zone);
    let zone = check.time_zone(&field("time_zone"), zone_name);
    let calendar = match raw.holiday_calendar.as_ref().or(context.calendar) {
        None => Some(HolidayCalendar::weekends_only("weekends")),
        Some(name) => {
            let found = context.calendars.get(name.get_ref().as_str()).cloned();
            if found.is_none() {
                let problem = RegimeProblem::UnknownCalendar(name.get_ref().clone());
                check.push(field("holiday_calendar"), name.span(), problem);
            }
            found
        }
    };
    let mut required_content = Vec::new();
    for (i, item) in raw.required_content.iter().enumerate() {
        required_content.push(check.text(&field(&format!("required_content[{i}]")), item));
    }
    let mut applies_when = Vec::new();
    for (key, value) in &raw.applies_when {
        match condition(key.get_ref(), value.get_ref()) {
            Ok(c) => applies_when.push(c),
            Err(problem) => {
                let span = match problem {
                    RegimeProblem::UnknownCondition(_) => key.span(),
                    _ => value.span(),
                };
                check.push(
                    field(&format!("applies_when.{}", key.get_ref())),
                    span,
                    problem,
                );
            }
        }
    }
    if check.issues.len() > before {
        return None;
    }
    let (_, mode) = mode?;
    Some(Rule {
        id,
        article,
        duty,
        party: party?,
        trigger: trigger?,
        period: period?,
        clock: Clock {
            mode,
            time_zone: zone?,
            calendar: calendar?,
        },
        time_zone: zone_name.get_ref().clone(),
        required_content,
        applies_when,
    })
}
