//! Reporting clocks: how a legal period (hours, calendar days, business days) turns a trigger
//! time into a due time in a named time zone.
//!
//! Every function here takes the trigger time as an argument; nothing reads the system clock.
//! A due time is always an *exclusive* instant: an obligation is late when `now >= due_at`.
//! A period that "ends at 24:00 of day D" is therefore represented as the start of day D + 1.
//!
//! The modes follow the legal texts the regimes cite:
//!
//! * [`ClockMode::StrictHours`]: exact elapsed time, `N days` meaning `N × 24 h`.
//! * [`ClockMode::CivilCode`]: PRC Civil Code Art. 200–204: the start day is not counted, the
//!   period ends at 24:00 local time of its last day, and a last day that is a rest day (statutory
//!   holiday or weekend that is not a make-up working day) moves to the first working day after.
//! * [`ClockMode::StricterOfCivilCodeAndHours`]: the earlier of the two readings above, the
//!   default for the CN `2日` clock because no official interpretation settles it.
//! * [`ClockMode::BusinessDays`]: count only working days, ending at 24:00 of the Nth one.
//! * [`ClockMode::CalendarMonths`]: "one month after": the same day of the month N months later
//!   at the same point of the day; if that day does not exist, the end of that month.
//! * [`ClockMode::Eu1182`]: Regulation (EEC, Euratom) No 1182/71: day, working-day and month
//!   periods end at 24:00 and roll from a rest day to the next working day; hour periods are
//!   exact and never roll. (Art. 3(1) would start an hour period at the next full hour; we use
//!   the trigger instant itself, which is never later.)

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};

/// Largest count accepted in a period, so that date arithmetic can never leave jiff's range.
pub const MAX_PERIOD_COUNT: u32 = 10_000;

/// How a clock turns a period into a due time; see the module documentation for each reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// Exact elapsed time from the trigger instant.
    StrictHours,
    /// PRC Civil Code Art. 200–204 calendar reading with holiday roll-over.
    CivilCode,
    /// The earlier of [`ClockMode::CivilCode`] and [`ClockMode::StrictHours`].
    StricterOfCivilCodeAndHours,
    /// Working days only (weekends and listed holidays skipped), ending at 24:00.
    BusinessDays,
    /// Same day of the month N months later, at the same point of the day.
    CalendarMonths,
    /// EU Regulation 1182/71: day periods roll from rest days to the next working day.
    Eu1182,
}

impl ClockMode {
    /// Every mode, in a stable order (for messages and tests).
    pub const ALL: [ClockMode; 6] = [
        ClockMode::StrictHours,
        ClockMode::CivilCode,
        ClockMode::StricterOfCivilCodeAndHours,
        ClockMode::BusinessDays,
        ClockMode::CalendarMonths,
        ClockMode::Eu1182,
    ];

    /// The stable name used in regime files.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockMode::StrictHours => "strict_hours",
            ClockMode::CivilCode => "civil_code",
            ClockMode::StricterOfCivilCodeAndHours => "stricter_of_civil_code_and_hours",
            ClockMode::BusinessDays => "business_days",
            ClockMode::CalendarMonths => "calendar_months",
            ClockMode::Eu1182 => "eu_1182_71",
        }
    }

    /// Parses the stable name.
    pub fn parse(name: &str) -> Option<ClockMode> {
        ClockMode::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether this mode can count `period` (e.g. business days need a working-day calendar).
    pub fn accepts(self, period: Period) -> bool {
        use ClockMode as M;
        use Period::*;
        let civil = matches!(self, M::CivilCode | M::StricterOfCivilCodeAndHours);
        match period {
            Immediately | Promptly => true,
            Hours(_) => self != M::BusinessDays,
            Days(_) => civil || matches!(self, M::StrictHours | M::Eu1182),
            BusinessDays(_) => matches!(self, M::BusinessDays | M::Eu1182),
            Months(_) => civil || matches!(self, M::CalendarMonths | M::Eu1182),
        }
    }
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A legal period as written in a rule: `24 hours`, `2 days`, `4 business days`, `1 month`,
/// or one without a fixed clock (`immediately`, `promptly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// "Immediately" (立即): no computable due time, but the most urgent duty.
    Immediately,
    /// "Promptly" / "without undue delay" (及时): no computable due time.
    Promptly,
    /// N hours.
    Hours(u32),
    /// N calendar days.
    Days(u32),
    /// N working days.
    BusinessDays(u32),
    /// N calendar months.
    Months(u32),
}

impl Period {
    /// Whether the period yields a due time at all.
    pub fn has_fixed_clock(self) -> bool {
        !matches!(self, Period::Immediately | Period::Promptly)
    }
}

/// Why a period string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The count was negative.
    #[error("period `{0}` is negative; write a positive count such as `2 days`")]
    Negative(String),
    /// The count was zero.
    #[error("period `{0}` is zero; write `immediately` for a duty without delay")]
    Zero(String),
    /// The count was too large.
    #[error("period `{0}` is longer than {MAX_PERIOD_COUNT} units; check the number")]
    TooLong(String),
    /// The text did not match `<count> <unit>` or a keyword.
    #[error(
        "period `{0}` is not understood; write `<count> <unit>` with unit hours, days, \
         business days or months, or `immediately` / `promptly`"
    )]
    Unrecognised(String),
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Period, PeriodError> {
        let normalised = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match normalised.to_ascii_lowercase().as_str() {
            "immediately" => return Ok(Period::Immediately),
            "promptly" => return Ok(Period::Promptly),
            _ => {}
        }
        let unrecognised = || PeriodError::Unrecognised(text.to_owned());
        let (count, unit) = normalised.split_once(' ').ok_or_else(unrecognised)?;
        let count: i64 = count.parse().map_err(|_| unrecognised())?;
        let make: fn(u32) -> Period = match unit.to_ascii_lowercase().as_str() {
            "hour" | "hours" | "h" => Period::Hours,
            "day" | "days" => Period::Days,
            "business day" | "business days" | "working day" | "working days" => {
                Period::BusinessDays
            }
            "month" | "months" => Period::Months,
            _ => return Err(unrecognised()),
        };
        if count < 0 {
            return Err(PeriodError::Negative(text.to_owned()));
        }
        if count == 0 {
            return Err(PeriodError::Zero(text.to_owned()));
        }
        let count = u32::try_from(count)
            .ok()
            .filter(|c| *c <= MAX_PERIOD_COUNT)
            .ok_or_else(|| PeriodError::TooLong(text.to_owned()))?;
        Ok(make(count))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *self {
            Period::Immediately => f.write_str("immediately"),
            Period::Promptly => f.write_str("promptly"),
            Period::Hours(n) => write!(f, "{n} hour{}", plural(n)),
            Period::Days(n) => write!(f, "{n} day{}", plural(n)),
            Period::BusinessDays(n) => write!(f, "{n} business day{}", plural(n)),
            Period::Months(n) => write!(f, "{n} month{}", plural(n)),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Rest days as data: listed holidays, weekends, and weekend days that are working days
/// (CN 调休 make-up days such as 2021-09-18).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayCalendar {
    /// Identifier used by regime rules, e.g. `CN` or `US-FEDERAL`.
    pub id: String,
    /// Whether Saturdays and Sundays are rest days unless listed in `working_days`.
    #[serde(default = "default_true")]
    pub weekends_are_rest_days: bool,
    /// Days off (statutory holidays, including the weekend days inside a holiday block).
    #[serde(default)]
    pub holidays: BTreeSet<Date>,
    /// Weekend days that are working days.
    #[serde(default)]
    pub working_days: BTreeSet<Date>,
    /// Years whose holidays are listed; outside them only weekends count as rest days.
    #[serde(default)]
    pub covered_years: BTreeSet<i16>,
}

fn default_true() -> bool {
    true
}

impl HolidayCalendar {
    /// A calendar with weekends as the only rest days.
    pub fn weekends_only(id: impl Into<String>) -> HolidayCalendar {
        HolidayCalendar {
            id: id.into(),
            weekends_are_rest_days: true,
            holidays: BTreeSet::new(),
            working_days: BTreeSet::new(),
            covered_years: BTreeSet::new(),
        }
    }

    /// Whether `date` is a rest day (a listed holiday, or a weekend day not made a working day).
    pub fn is_rest_day(&self, date: Date) -> bool {
        if self.holidays.contains(&date) {
            return true;
        }
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        weekend && self.weekends_are_rest_days && !self.working_days.contains(&date)
    }

    /// Whether the holidays of `year` are listed.
    pub fn covers(&self, year: i16) -> bool {
        self.covered_years.contains(&year)
    }

    /// Adds another calendar's dates and years to this one (an operator extending built-ins).
    pub fn extend(&mut self, other: &HolidayCalendar) {
        self.holidays.extend(other.holidays.iter().copied());
        self.working_days.extend(other.working_days.iter().copied());
        self.covered_years
            .extend(other.covered_years.iter().copied());
    }
}

/// Why a due time could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The mode cannot count this kind of period.
    #[error("clock mode `{mode}` cannot count `{period}`; pick a mode that counts this unit")]
    UnsupportedPeriod {
        /// The clock mode.
        mode: ClockMode,
        /// The period it was asked to count.
        period: Period,
    },
    /// The result would fall outside the representable time range.
    #[error("the due time of `{period}` from {trigger} is outside the supported time range")]
    OutOfRange {
        /// The period.
        period: Period,
        /// The trigger instant.
        trigger: Timestamp,
    },
}

/// A reporting clock: a mode, a named IANA time zone and a holiday calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Clock {
    /// How periods are counted.
    pub mode: ClockMode,
    /// The zone whose local days the clock counts.
    pub time_zone: TimeZone,
    /// Rest days for roll-over and business-day counting.
    pub calendar: HolidayCalendar,
}

impl Clock {
    /// A clock with a weekends-only calendar.
    pub fn new(mode: ClockMode, time_zone: TimeZone) -> Clock {
        Clock {
            mode,
            time_zone,
            calendar: HolidayCalendar::weekends_only("weekends"),
        }
    }

    /// The same clock with another holiday calendar.
    pub fn with_calendar(mut self, calendar: HolidayCalendar) -> Clock {
        self.calendar = calendar;
        self
    }

    /// The instant by which a duty triggered at `trigger` must be met (exclusive), or `None`
    /// for periods without a fixed clock (`immediately`, `promptly`).
    pub fn due_at(
        &self,
        trigger: Timestamp,
        period: Period,
    ) -> Result<Option<Timestamp>, ClockError> {
        if !self.mode.accepts(period) {
            return Err(ClockError::UnsupportedPeriod {
                mode: self.mode,
                period,
            });
        }
        let out_of_range = |_| ClockError::OutOfRange { period, trigger };
        let due = match (self.mode, period) {
            (_, Period::Immediately | Period::Promptly) => return Ok(None),
            (_, Period::Hours(n)) => add_hours(trigger, i64::from(n)),
            (ClockMode::StrictHours, Period::Days(n)) => add_hours(trigger, 24 * i64::from(n)),
            (ClockMode::StricterOfCivilCodeAndHours, Period::Days(n)) => {
                let strict = add_hours(trigger, 24 * i64::from(n));
                let civil = self.civil_days(trigger, n, true);
                strict.and_then(|s| civil.map(|c| s.min(c)))
            }
            (ClockMode::StricterOfCivilCodeAndHours, Period::Months(n)) => {
                let strict = self.same_point_months_later(trigger, n);
                let civil = self.civil_months(trigger, n, true);
                strict.and_then(|s| civil.map(|c| s.min(c)))
            }
            (ClockMode::CivilCode | ClockMode::Eu1182, Period::Days(n)) => {
                self.civil_days(trigger, n, true)
            }
            (ClockMode::CivilCode | ClockMode::Eu1182, Period::Months(n)) => {
                self.civil_months(trigger, n, true)
            }
            (_, Period::BusinessDays(n)) => self.business_days(trigger, n),
            (ClockMode::CalendarMonths, Period::Months(n)) => {
                self.same_point_months_later(trigger, n)
            }
            (mode, period) => unreachable!("{mode} accepts {period} but has no rule"),
        };
        due.map(Some).map_err(out_of_range)
    }

    /// The years whose holidays the computation from `trigger` to `due_at` relied on but the
    /// calendar does not list; callers should warn that the due time assumed weekends only.
    pub fn uncovered_years(&self, trigger: Timestamp, due_at: Timestamp) -> Vec<i16> {
        if !uses_calendar(self.mode) {
            return Vec::new();
        }
        let first = self.local_date(trigger).year();
        let last = self.local_date(due_at).year();
        (first..=last)
            .filter(|y| !self.calendar.covers(*y))
            .collect()
    }

    /// The local calendar date of `at` in this clock's zone.
    pub fn local_date(&self, at: Timestamp) -> Date {
        at.to_zoned(self.time_zone.clone()).date()
    }

    fn start_of(&self, date: Date) -> Result<Timestamp, jiff::Error> {
        Ok(date.to_zoned(self.time_zone.clone())?.timestamp())
    }

    /// Start day not counted; ends at 24:00 of the last day, optionally rolled past rest days.
    fn civil_days(&self, trigger: Timestamp, n: u32, roll: bool) -> Result<Timestamp, jiff::Error> {
        let last = self
            .local_date(trigger)
            .checked_add(Span::new().days(i64::from(n)))?;
        self.end_of_period(last, roll)
    }

    /// Civil Code Art. 202: the corresponding day of the last month, or its last day.
    fn civil_months(
        &self,
        trigger: Timestamp,
        n: u32,
        roll: bool,
    ) -> Result<Timestamp, jiff::Error> {
        // jiff clamps a missing day (31 January + 1 month) to the end of the month.
        let last = self
            .local_date(trigger)
            .checked_add(Span::new().months(i64::from(n)))?;
        self.end_of_period(last, roll)
    }

    fn end_of_period(&self, mut last: Date, roll: bool) -> Result<Timestamp, jiff::Error> {
        while roll && self.calendar.is_rest_day(last) {
            last = last.tomorrow()?;
        }
        self.start_of(last.tomorrow()?)
    }

    fn business_days(&self, trigger: Timestamp, n: u32) -> Result<Timestamp, jiff::Error> {
        let mut day = self.local_date(trigger);
        let mut counted = 0;
        while counted < n {
            day = day.tomorrow()?;
            if !self.calendar.is_rest_day(day) {
                counted += 1;
            }
        }
        self.start_of(day.tomorrow()?)
    }

    /// The same elapsed time into the corresponding day N months later, capped at that day's
    /// end so that DST days of different length cannot reorder due times; a day that does not
    /// exist in the target month gives the end of that month.
    fn same_point_months_later(
        &self,
        trigger: Timestamp,
        n: u32,
    ) -> Result<Timestamp, jiff::Error> {
        let start_date = self.local_date(trigger);
        let elapsed = trigger.duration_since(self.start_of(start_date)?);
        let target = start_date.checked_add(Span::new().months(i64::from(n)))?;
        let next_day_start = self.start_of(target.tomorrow()?)?;
        if target.day() != start_date.day() {
            return Ok(next_day_start);
        }
        Ok(self
            .start_of(target)?
            .checked_add(elapsed)?
            .min(next_day_start))
    }
}

fn uses_calendar(mode: ClockMode) -> bool {
    matches!(
        mode,
        ClockMode::CivilCode
            | ClockMode::StricterOfCivilCodeAndHours
            | ClockMode::BusinessDays
            | ClockMode::Eu1182
    )
}

fn add_hours(at: Timestamp, hours: i64) -> Result<Timestamp, jiff::Error> {
    at.checked_add(SignedDuration::from_hours(hours))
}

/// How late `met_at` is against the exclusive deadline `due_at`: `Some(met_at - due_at)` when
/// `met_at >= due_at` (meeting a duty exactly at 24:00 is already late), `None` when on time.
pub fn lateness(due_at: Timestamp, met_at: Timestamp) -> Option<SignedDuration> {
    (met_at >= due_at).then(|| met_at.duration_since(due_at))
}

/// Whole calendar days late in the canonical reading: the local date of `met_at` minus the
/// last day of the period (the local date just before `due_at`), both in `time_zone`.
///
/// A deadline of 2021-11-26 24:00 CST met on 2021-12-09 is 13 days late; met at 24:00 exactly
/// it is 1 day late. A strict-hours deadline missed by hours on the same date is 0 days late
/// (while [`lateness`] still reports the hours). `None` when on time.
pub fn days_late(due_at: Timestamp, met_at: Timestamp, time_zone: &TimeZone) -> Option<i64> {
    lateness(due_at, met_at)?;
    let last_day = due_at
        .checked_sub(SignedDuration::from_nanos(1))
        .unwrap_or(due_at)
        .to_zoned(time_zone.clone())
        .date();
    let met_day = met_at.to_zoned(time_zone.clone()).date();
    Some(met_day.duration_since(last_day).as_hours().div_euclid(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn cn_2021() -> HolidayCalendar {
        let mut calendar = HolidayCalendar::weekends_only("CN");
        calendar
            .holidays
            .extend((1..=7).map(|d| Date::new(2021, 10, d).unwrap()));
        calendar.working_days.insert(date("2021-09-26"));
        calendar.working_days.insert(date("2021-10-09"));
        calendar.covered_years.insert(2021);
        calendar
    }

    #[test]
    fn civil_code_two_days_ends_at_midnight_after_the_last_day() {
        let clock = Clock::new(ClockMode::CivilCode, shanghai());
        for aware in [
            "2021-11-24T00:00:00+08:00",
            "2021-11-24T10:00+08:00",
            "2021-11-24T23:59:59+08:00",
        ] {
            let due = clock.due_at(ts(aware), Period::Days(2)).unwrap().unwrap();
            assert_eq!(due, ts("2021-11-27T00:00:00+08:00"), "aware {aware}");
        }
    }

    #[test]
    fn stricter_of_takes_the_48_hour_reading_when_earlier() {
        let clock = Clock::new(ClockMode::StricterOfCivilCodeAndHours, shanghai());
        let due = clock
            .due_at(ts("2021-11-24T10:00+08:00"), Period::Days(2))
            .unwrap();
        assert_eq!(due, Some(ts("2021-11-26T10:00+08:00")));
    }

    #[test]
    fn civil_code_rolls_a_holiday_last_day_to_the_day_after_the_holiday() {
        let clock = Clock::new(ClockMode::CivilCode, shanghai()).with_calendar(cn_2021());
        // Last day 2021-10-01 is in the National Day block; 2021-10-08 is the first working day.
        let due = clock
            .due_at(ts("2021-09-29T09:00+08:00"), Period::Days(2))
            .unwrap();
        assert_eq!(due, Some(ts("2021-10-09T00:00:00+08:00")));
        // A make-up working Sunday is not a rest day: last day 2021-09-26 stays.
        let due = clock
            .due_at(ts("2021-09-24T09:00+08:00"), Period::Days(2))
            .unwrap();
        assert_eq!(due, Some(ts("2021-09-27T00:00:00+08:00")));
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let clock = Clock::new(ClockMode::BusinessDays, shanghai()).with_calendar(cn_2021());
        // Thursday 2021-09-30: working days 2021-10-08 (Fri) and 2021-10-09 (make-up Sat).
        let due = clock
            .due_at(ts("2021-09-30T12:00+08:00"), Period::BusinessDays(2))
            .unwrap();
        assert_eq!(due, Some(ts("2021-10-10T00:00:00+08:00")));
    }

    #[test]
    fn unsupported_combinations_and_open_periods() {
        let clock = Clock::new(ClockMode::StrictHours, shanghai());
        let err = clock.due_at(ts("2021-11-24T10:00+08:00"), Period::BusinessDays(4));
        assert!(matches!(err, Err(ClockError::UnsupportedPeriod { .. })));
        let open = clock
            .due_at(ts("2021-11-24T10:00+08:00"), Period::Promptly)
            .unwrap();
        assert_eq!(open, None);
    }

    #[test]
    fn canonical_days_late() {
        let due = ts("2021-11-27T00:00:00+08:00");
        assert_eq!(
            days_late(due, ts("2021-12-09T15:00+08:00"), &shanghai()),
            Some(13)
        );
        assert_eq!(days_late(due, due, &shanghai()), Some(1));
        assert_eq!(
            days_late(due, ts("2021-11-26T23:59+08:00"), &shanghai()),
            None
        );
        assert_eq!(lateness(due, due), Some(SignedDuration::ZERO));
    }

    #[test]
    fn uncovered_years_are_reported() {
        let clock = Clock::new(ClockMode::CivilCode, shanghai()).with_calendar(cn_2021());
        let years =
            clock.uncovered_years(ts("2021-12-31T10:00+08:00"), ts("2022-01-03T00:00+08:00"));
        assert_eq!(years, vec![2022]);
    }
}
