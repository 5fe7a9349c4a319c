use crate::clock::PeriodError;
use jiff::Timestamp;

use super::*;

const MINIMAL: &str = r#"id = "TEST"
version = "1"
name = "Test regime"
jurisdiction = "CN"
effective_from = "2021-01-01"
time_zone = "Asia/Shanghai"
clock = "civil_code"

[[rules]]
id = "r1"
article = "Art. 1"
duty = "Report."
party = "reporter"
trigger = "aware"
period = "2 days"
"#;

fn refused(text: &str) -> RegimeError {
    Regime::from_toml(text).expect_err("document should be refused")
}

fn only_issue(error: &RegimeError) -> RegimeIssue {
    let issues = error.issues();
    assert_eq!(issues.len(), 1, "{error}");
    issues[0].clone()
}

#[test]
fn builtin_regimes_parse_and_name_their_articles() {
    let regimes = builtin_regimes().unwrap();
    let ids: Vec<&str> = regimes.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CN-MIIT-2021",
            "CN-PLATFORM-MEMBERSHIP",
            "EU-CRA-2024",
            "EU-NIS2-2022",
            "IN-CERT-IN-2022",
            "US-SEC-8K-105"
        ]
    );
    for regime in &regimes {
        for rule in &regime.rules {
            assert!(!rule.article.is_empty(), "{}", rule.id);
        }
    }
    let cn = &regimes[0];
    let report = cn.rule("cn-miit-7-2-report").unwrap();
    assert_eq!(report.period, Period::Days(2));
    assert_eq!(report.clock.mode, ClockMode::StricterOfCivilCodeAndHours);
    assert_eq!(report.required_content.len(), 6);
    assert!(report.clock.calendar.covers(2021));
}

#[test]
fn builtin_calendars_know_cn_2021_make_up_days() {
    let cn = builtin_calendars()
        .into_iter()
        .find(|c| c.id == "CN")
        .unwrap();
    assert!(cn.is_rest_day("2021-10-01".parse().unwrap()));
    assert!(cn.is_rest_day("2021-09-19".parse().unwrap()));
    assert!(
        !cn.is_rest_day("2021-09-18".parse().unwrap()),
        "make-up Saturday"
    );
    assert!(!cn.is_rest_day("2021-11-26".parse().unwrap()));
    assert!(!cn.covers(2026));
}

#[test]
fn minimal_document_loads_and_respects_effective_dates() {
    let regime = Regime::from_toml(MINIMAL).unwrap();
    assert!(regime.is_in_force("2021-01-01T00:00+08:00".parse::<Timestamp>().unwrap()));
    assert!(!regime.is_in_force("2020-12-31T23:59+08:00".parse::<Timestamp>().unwrap()));
}

#[test]
fn unknown_clock_mode_names_its_line() {
    let error = refused(&MINIMAL.replace("clock = \"civil_code\"", "clock = \"lunar\""));
    let issue = only_issue(&error);
    assert_eq!(
        issue.problem,
        RegimeProblem::UnknownClockMode("lunar".into())
    );
    assert_eq!(issue.location, Some(Location { line: 7, column: 9 }));
    assert!(error.to_string().contains("line 7, column 9"), "{error}");
}

#[test]
fn negative_period_is_refused_at_its_key() {
    let error = refused(&MINIMAL.replace("\"2 days\"", "\"-2 days\""));
    let issue = only_issue(&error);
    assert_eq!(issue.field, "rules[0].period");
    assert!(matches!(
        issue.problem,
        RegimeProblem::Period(PeriodError::Negative(_))
    ));
    assert_eq!(issue.location.unwrap().line, 15);
}

#[test]
fn missing_article_points_at_the_rule() {
    let error = refused(&MINIMAL.replace("article = \"Art. 1\"\n", ""));
    let issue = only_issue(&error);
    assert_eq!(issue.problem, RegimeProblem::MissingArticle);
    assert_eq!(issue.location.unwrap().line, 9, "the [[rules]] header");
}

#[test]
fn unknown_trigger_and_time_zone_are_refused() {
    let error = refused(&MINIMAL.replace("trigger = \"aware\"", "trigger = \"rumour\""));
    assert_eq!(
        only_issue(&error).problem,
        RegimeProblem::UnknownTrigger("rumour".into())
    );
    assert_eq!(error.location().unwrap().line, 14);

    let error = refused(&MINIMAL.replace("Asia/Shanghai", "Asia/Beijing"));
    let issues = error.issues();
    assert!(
        issues
            .iter()
            .all(|i| i.problem == RegimeProblem::UnknownTimeZone("Asia/Beijing".into()))
    );
    assert_eq!(
        issues[0].location,
        Some(Location {
            line: 6,
            column: 13
        })
    );

    let text = MINIMAL.replace("\"aware\"", "\"previous_duty_met:nope\"");
    assert_eq!(
        only_issue(&refused(&text)).problem,
        RegimeProblem::UnknownPreviousRule("nope".into())
    );
}

#[test]
fn uncountable_period_and_unknown_condition() {
    let text = MINIMAL.replace("\"2 days\"", "\"4 business days\"");
    let issue = only_issue(&refused(&text));
    assert!(
        matches!(issue.problem, RegimeProblem::PeriodNotCountable { .. }),
        "{issue}"
    );

    let text = format!("{MINIMAL}applies_when = {{ colour = \"red\" }}\n");
    let issue = only_issue(&refused(&text));
    assert_eq!(
        issue.problem,
        RegimeProblem::UnknownCondition("colour".into())
    );
    assert_eq!(issue.location.unwrap().line, 16);

    let text = format!("{MINIMAL}applies_when = {{ exploitation = \"rampant\" }}\n");
    assert!(matches!(
        only_issue(&refused(&text)).problem,
        RegimeProblem::BadConditionValue { .. }
    ));
}

#[test]
fn syntax_and_shape_errors_carry_lines() {
    let error = refused("id = \"X\"\nversion = \n");
    assert!(
        matches!(
            error,
            RegimeError::Syntax {
                location: Some(Location { line: 2, .. }),
                ..
            }
        ),
        "{error}"
    );
    let error = refused(&MINIMAL.replace("period = ", "perod = "));
    assert!(
        matches!(
            error,
            RegimeError::Syntax {
                location: Some(Location { line: 15, .. }),
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn operators_extend_calendars_in_the_regime_file() {
    let text = MINIMAL.replace(
        "[[rules]]",
        "holiday_calendar = \"CN\"\n\n[[calendars]]\nid = \"CN\"\ncovered_years = [2026]\nholidays = [\"2026-10-01..2026-10-07\"]\n\n[[rules]]",
    );
    let regime = Regime::from_toml(&text).unwrap();
    let calendar = &regime.rules[0].clock.calendar;
    assert!(calendar.covers(2026) && calendar.covers(2021));
    assert!(calendar.is_rest_day("2026-10-07".parse().unwrap()));
    let bad = text.replace("2026-10-07\"", "2026-13-07\"");
    assert!(matches!(
        only_issue(&refused(&bad)).problem,
        RegimeProblem::BadDate(_)
    ));
}

#[test]
fn json_documents_load_and_name_fields() {
    let json = r#"{
      "id": "J", "version": "1", "name": "JSON regime", "jurisdiction": "IN",
      "effective_from": "2022-06-27", "time_zone": "Asia/Kolkata", "clock": "strict_hours",
      "rules": [{ "id": "six", "article": "Direction (ii)", "duty": "Report.", "party": "operator",
                  "trigger": "aware", "period": "6 hours", "applies_when": { "country": "in" } }]
    }"#;
    let regime = Regime::from_json(json).unwrap();
    assert_eq!(
        regime.rules[0].applies_when,
        vec![Condition::Country(vec!["IN".into()])]
    );
    let error = Regime::from_json(&json.replace("6 hours", "-6 hours")).unwrap_err();
    assert_eq!(only_issue(&error).field, "rules[0].period");
    let error = Regime::from_json("{\n  \"id\": }").unwrap_err();
    assert!(matches!(
        error,
        RegimeError::Syntax {
            location: Some(Location { line: 2, .. }),
            ..
        }
    ));
}

#[test]
fn triggers_round_trip_and_clock_can_be_switched() {
    for text in [
        "aware",
        "fix_available",
        "previous_duty_met:x-1",
        "materiality_determined",
    ] {
        assert_eq!(Trigger::parse(text).unwrap().to_string(), text);
    }
    assert_eq!(Trigger::parse("previous_duty_met:"), None);
    let mut regime = Regime::from_toml(MINIMAL).unwrap();
    let rule = regime.rule_mut("r1").unwrap();
    rule.set_clock_mode(ClockMode::StrictHours).unwrap();
    assert!(rule.set_clock_mode(ClockMode::BusinessDays).is_err());
}
