//! The obligations engine end to end, purely: regimes -> obligations -> status -> violations,
//! with the canonical Log4Shell scenario, CRA, SEC and NIS2 clocks, operator regime files, and
//! property tests of the clocks.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use vulnshare_core::clock::{Clock, ClockMode, Period, PeriodError};
use vulnshare_core::obligation::{
    AwarenessProof, NewObligation, Obligation, ObligationStatus, ThirdPartyReport, TriggerEvent,
    ViolationEvidence, evaluate, fulfil, generate, violation_from_third_party, violation_of,
};
use vulnshare_core::regime::{
    Party, Regime, RegimeError, RegimeProblem, ReportFacts, Trigger, builtin_calendars,
    builtin_regimes,
};
use vulnshare_core::report::{ExploitationStatus, ReportKind};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/regimes/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn event(kind: Trigger, at: &str, org: &str, roles: &[Party], facts: ReportFacts) -> TriggerEvent {
    TriggerEvent {
        kind,
        at: ts(at),
        party_org: org.to_owned(),
        roles: roles.to_vec(),
        subject: "VS-2021-00001".to_owned(),
        facts,
    }
}

fn by_rule<'a>(obligations: &'a [NewObligation], rule_id: &str) -> &'a NewObligation {
    obligations
        .iter()
        .find(|o| o.rule_id == rule_id)
        .unwrap_or_else(|| panic!("no obligation for {rule_id} in {obligations:#?}"))
}

fn rule_ids(obligations: &[NewObligation]) -> Vec<&str> {
    obligations.iter().map(|o| o.rule_id.as_str()).collect()
}

#[test]
fn canonical_log4shell_membership_violation() {
    let regimes = builtin_regimes().unwrap();
    // Member A finds the JNDI RCE in Apache's log4j-core: a third-party observation for A.
    let facts = ReportFacts {
        kind: Some(ReportKind::ThirdPartyObservation),
        exploitation: Some(ExploitationStatus::Poc),
        country: Some("CN".into()),
        platform_member: true,
        ..ReportFacts::default()
    };
    let aware = event(
        Trigger::Aware,
        "2021-11-24T10:00:00+08:00",
        "member-a",
        &[Party::Reporter],
        facts,
    );
    let generated = generate(&regimes, &aware);
    // A is not log4j's provider: only the membership duty, no CN Art. 7 duty.
    assert_eq!(rule_ids(&generated), ["membership-report"]);
    let membership = generated[0].clone().into_obligation("ob-membership");
    assert_eq!(
        membership.terms.due_at,
        Some(ts("2021-11-27T00:00:00+08:00")),
        "2021-11-26 24:00 CST"
    );
    assert!(
        membership.terms.warnings.is_empty(),
        "{:?}",
        membership.terms.warnings
    );

    assert_eq!(
        evaluate(&membership, ts("2021-11-26T23:59:59+08:00")),
        ObligationStatus::Pending
    );
    let overdue = evaluate(&membership, ts("2021-11-27T00:00:01+08:00"));
    assert_eq!(overdue, ObligationStatus::Overdue);
    let membership = Obligation {
        status: overdue,
        ..membership
    };

    // A notified the upstream provider (ASF) the same day: that proves awareness on 2021-11-24.
    let proof = AwarenessProof::UpstreamNotification {
        notified_org: "apache-software-foundation".into(),
        at: ts("2021-11-24T18:00:00+08:00"),
    };
    assert!(proof.aware_at() >= aware.at);
    let m_report = ThirdPartyReport {
        report_id: "VS-2021-00042".into(),
        org: "monitoring-institution-m".into(),
        received_at: ts("2021-12-09T11:00:00+08:00"),
    };
    let violation =
        violation_from_third_party(&membership, proof.clone(), m_report.clone()).unwrap();
    assert_eq!(violation.days_late, 13);
    assert_eq!(violation.party_org, "member-a");
    assert_eq!(
        violation.article,
        "Membership agreement, vulnerability reporting clause"
    );
    assert_eq!(violation.due_at, ts("2021-11-27T00:00:00+08:00"));
    assert_eq!(violation.lateness, SignedDuration::from_hours(12 * 24 + 11));
    assert!(matches!(
        violation.evidence,
        ViolationEvidence::EarlierAwareness { .. }
    ));
    let json = serde_json::to_value(&violation).unwrap();
    assert_eq!(json["days_late"], 13);
    assert_eq!(json["evidence"]["kind"], "earlier_awareness");

    // The sweeper sees the same breach without the third party, measured to its own clock.
    let swept = violation_of(&membership, ts("2021-12-09T11:00:00+08:00")).unwrap();
    assert_eq!(swept.days_late, 13);
}

#[test]
fn cn_art_7_for_a_provider_embedding_log4j() {
    let regimes = builtin_regimes().unwrap();
    let facts = ReportFacts {
        kind: Some(ReportKind::UpstreamComponent),
        ..ReportFacts::default()
    };
    // Friday 2021-12-10 09:00: a provider learns its product embeds vulnerable log4j-core.
    let aware = event(
        Trigger::Aware,
        "2021-12-10T09:00:00+08:00",
        "provider-p",
        &[Party::AffectedProvider],
        facts,
    );
    let generated = generate(&regimes, &aware);
    assert_eq!(
        rule_ids(&generated),
        [
            "cn-miit-7-1-verify",
            "cn-miit-7-1-notify-upstream",
            "cn-miit-7-2-report",
            "cn-miit-7-3-fix"
        ]
    );
    let report = by_rule(&generated, "cn-miit-7-2-report");
    // 48 h strict ends Sunday 09:00; the civil reading would roll past the weekend to 12-14 00:00.
    assert_eq!(report.due_at, Some(ts("2021-12-12T09:00:00+08:00")));
    assert_eq!(report.article, "Art. 7(2)");
    assert_eq!(report.required_content.len(), 6);

    let notify = by_rule(&generated, "cn-miit-7-1-notify-upstream")
        .clone()
        .into_obligation("ob-n");
    assert_eq!(
        notify.terms.due_at, None,
        "immediately has no computable clock"
    );
    let status = fulfil(&notify, ts("2021-12-10T15:00:00+08:00"), "mail-to-asf", &[]);
    assert!(matches!(
        status,
        ObligationStatus::Met {
            lateness: None,
            days_late: None,
            ..
        }
    ));
    assert_eq!(
        evaluate(&notify, ts("2030-01-01T00:00Z")),
        ObligationStatus::Pending
    );

    // The operator's civil-code-only copy of the regime gives the Civil Code date.
    let civil = Regime::from_toml(&fixture("cn-miit-2021-civil-2026.toml")).unwrap();
    let generated = generate(std::slice::from_ref(&civil), &aware);
    assert_eq!(generated[0].due_at, Some(ts("2021-12-14T00:00:00+08:00")));
    // Its calendar extension makes National Day 2026 a rest day: Sep 29 + 2 = Oct 1 -> Oct 8.
    let later = TriggerEvent {
        at: ts("2026-09-29T09:00:00+08:00"),
        ..aware
    };
    let generated = generate(&[civil], &later);
    assert_eq!(generated[0].due_at, Some(ts("2026-10-09T00:00:00+08:00")));
    assert!(
        generated[0].warnings[0].contains("2026"),
        "2026 is not a covered year"
    );
}

#[test]
fn cra_actively_exploited_vulnerability() {
    let regimes = builtin_regimes().unwrap();
    let facts = ReportFacts {
        kind: Some(ReportKind::OwnProduct),
        exploitation: Some(ExploitationStatus::ExploitedInWild),
        ..ReportFacts::default()
    };
    let aware = event(
        Trigger::Aware,
        "2026-10-01T10:00:00Z",
        "maker",
        &[Party::AffectedProvider],
        facts.clone(),
    );
    let generated = generate(&regimes, &aware);
    let cra: Vec<&NewObligation> = generated
        .iter()
        .filter(|o| o.regime_id == "EU-CRA-2024")
        .collect();
    assert_eq!(cra.len(), 2);
    let early = by_rule(&generated, "cra-14-2-a-early-warning");
    assert_eq!(early.due_at, Some(ts("2026-10-02T10:00:00Z")));
    let notification = by_rule(&generated, "cra-14-2-b-notification");
    assert_eq!(
        notification.due_at,
        Some(ts("2026-10-04T10:00:00Z")),
        "hour periods do not roll"
    );

    let fixed = event(
        Trigger::FixAvailable,
        "2026-10-20T12:00:00Z",
        "maker",
        &[Party::AffectedProvider],
        facts.clone(),
    );
    let generated = generate(&regimes, &fixed);
    let final_report = by_rule(&generated, "cra-14-2-c-final-report");
    // 14 days from Tuesday 2026-10-20: last day Tuesday 2026-11-03, ends 24:00 Brussels (CET).
    assert_eq!(final_report.due_at, Some(ts("2026-11-04T00:00:00+01:00")));

    // Before Art. 14 applies (2026-09-11) nothing is generated.
    let early_days = TriggerEvent {
        at: ts("2026-09-10T10:00:00Z"),
        ..aware
    };
    assert!(
        generate(&regimes, &early_days)
            .iter()
            .all(|o| o.regime_id != "EU-CRA-2024")
    );
}

#[test]
fn cra_severe_incident_final_report_follows_the_notification() {
    let regimes = builtin_regimes().unwrap();
    let facts = ReportFacts {
        incident: ["severe".to_owned()].into(),
        ..ReportFacts::default()
    };
    let aware = event(
        Trigger::Aware,
        "2026-10-01T10:00:00Z",
        "maker",
        &[Party::AffectedProvider],
        facts,
    );
    let generated = generate(&regimes, &aware);
    assert_eq!(
        rule_ids(&generated),
        ["cra-14-4-a-early-warning", "cra-14-4-b-notification"]
    );
    let notification = by_rule(&generated, "cra-14-4-b-notification")
        .clone()
        .into_obligation("ob-b");
    let status = fulfil(
        &notification,
        ts("2026-10-03T09:00:00Z"),
        "csirt-notification",
        &[],
    );
    let met = Obligation {
        status,
        ..notification
    };
    let follow_up = generate(&regimes, &met.follow_up_trigger().unwrap());
    assert_eq!(rule_ids(&follow_up), ["cra-14-4-c-final-report"]);
    // One month after Saturday 2026-10-03 is Tuesday 2026-11-03, ending 24:00 Brussels.
    assert_eq!(follow_up[0].due_at, Some(ts("2026-11-04T00:00:00+01:00")));
}

#[test]
fn sec_8k_four_business_days_skip_labor_day() {
    let regimes = builtin_regimes().unwrap();
    // Friday 2026-09-04, before Labor Day (Monday 2026-09-07).
    let materiality = event(
        Trigger::MaterialityDetermined,
        "2026-09-04T15:00:00-04:00",
        "registrant",
        &[Party::Operator],
        ReportFacts::default(),
    );
    let generated = generate(&regimes, &materiality);
    assert_eq!(rule_ids(&generated), ["sec-8k-1-05"]);
    // Tue 8, Wed 9, Thu 10, Fri 11 -> due at the end of Friday 2026-09-11, New York time.
    assert_eq!(generated[0].due_at, Some(ts("2026-09-12T00:00:00-04:00")));
    let ob = generated[0].clone().into_obligation("ob-sec");
    let waived = ObligationStatus::Waived {
        reason: "Attorney General delay request".into(),
    };
    let ob = Obligation {
        status: waived.clone(),
        ..ob
    };
    assert_eq!(evaluate(&ob, ts("2026-10-01T00:00Z")), waived);
    assert_eq!(violation_of(&ob, ts("2026-10-01T00:00Z")), None);
}

#[test]
fn cert_in_six_hours_and_nis2_from_json() {
    let regimes = builtin_regimes().unwrap();
    let facts = ReportFacts {
        incident: ["cert_in_reportable".to_owned()].into(),
        ..ReportFacts::default()
    };
    let noticed = event(
        Trigger::Aware,
        "2023-03-01T22:30:00+05:30",
        "isp",
        &[Party::Operator],
        facts,
    );
    let generated = generate(&regimes, &noticed);
    assert_eq!(rule_ids(&generated), ["cert-in-incident-6h"]);
    assert_eq!(generated[0].due_at, Some(ts("2023-03-02T04:30:00+05:30")));

    let nis2 = Regime::from_json(&fixture("nis2-json.json")).unwrap();
    let facts = ReportFacts {
        incident: ["significant".to_owned()].into(),
        ..ReportFacts::default()
    };
    let aware = event(
        Trigger::Aware,
        "2025-01-30T08:00:00Z",
        "operator",
        &[Party::Operator],
        facts,
    );
    let generated = generate(std::slice::from_ref(&nis2), &aware);
    let notification = by_rule(&generated, "nis2-23-4-b-notification")
        .clone()
        .into_obligation("n");
    let met = Obligation {
        status: fulfil(&notification, ts("2025-01-31T08:00:00Z"), "r", &[]),
        ..notification
    };
    let final_report = generate(&[nis2], &met.follow_up_trigger().unwrap());
    // One month after 2025-01-31: no 31 February, so the last day is Friday 28 February.
    assert_eq!(
        final_report[0].due_at,
        Some(ts("2025-03-01T00:00:00+01:00"))
    );
}

#[test]
fn invalid_operator_regime_names_lines() {
    let error = Regime::from_toml(&fixture("invalid-unknown-clock.toml")).unwrap_err();
    let RegimeError::Invalid(issues) = &error else {
        panic!("{error}")
    };
    let found: Vec<(usize, &RegimeProblem)> = issues
        .iter()
        .map(|i| (i.location.unwrap().line, &i.problem))
        .collect();
    assert!(
        found.contains(&(15, &RegimeProblem::UnknownClockMode("sundial".into()))),
        "{error}"
    );
    assert!(
        found.contains(&(17, &RegimeProblem::MissingArticle)),
        "{error}"
    );
    assert!(
        found.contains(&(21, &RegimeProblem::UnknownTrigger("rumour_heard".into()))),
        "{error}"
    );
    assert!(
        found
            .iter()
            .any(|(line, p)| *line == 22 && matches!(p, RegimeProblem::Period(_))),
        "{error}"
    );
    assert!(
        found.contains(&(
            24,
            &RegimeProblem::UnknownTimeZone("Europe/Atlantis".into())
        )),
        "{error}"
    );
}

// ---- clock readings ----

#[test]
fn parses_and_prints_periods() {
    for (text, period) in [
        ("2 days", Period::Days(2)),
        ("24 hours", Period::Hours(24)),
        ("1 hour", Period::Hours(1)),
        ("1 month", Period::Months(1)),
        ("4 business days", Period::BusinessDays(4)),
        ("immediately", Period::Immediately),
        ("promptly", Period::Promptly),
    ] {
        assert_eq!(text.parse::<Period>().unwrap(), period);
        assert_eq!(period.to_string(), text);
    }
    assert!(matches!(
        "-2 days".parse::<Period>(),
        Err(PeriodError::Negative(_))
    ));
    assert!(matches!(
        "0 hours".parse::<Period>(),
        Err(PeriodError::Zero(_))
    ));
    assert!(matches!(
        "2 fortnights".parse::<Period>(),
        Err(PeriodError::Unrecognised(_))
    ));
    assert!(matches!(
        "99999 days".parse::<Period>(),
        Err(PeriodError::TooLong(_))
    ));
}

#[test]
fn calendar_months_keep_the_day_or_end_the_month() {
    let brussels = TimeZone::get("Europe/Brussels").unwrap();
    let clock = Clock::new(ClockMode::CalendarMonths, brussels);
    let due = clock
        .due_at(ts("2026-03-15T10:00+01:00"), Period::Months(1))
        .unwrap();
    assert_eq!(due, Some(ts("2026-04-15T10:00+02:00")));
    let due = clock
        .due_at(ts("2026-01-31T10:00+01:00"), Period::Months(1))
        .unwrap();
    assert_eq!(due, Some(ts("2026-03-01T00:00+01:00")));
}

#[test]
fn eu_1182_rolls_day_periods_but_not_hour_periods() {
    let brussels = TimeZone::get("Europe/Brussels").unwrap();
    let clock = Clock::new(ClockMode::Eu1182, brussels);
    // Thursday + 2 days = Saturday -> Monday 24:00.
    let due = clock
        .due_at(ts("2026-10-01T10:00Z"), Period::Days(2))
        .unwrap();
    assert_eq!(due, Some(ts("2026-10-06T00:00+02:00")));
    // 72 hours ending on a Sunday stay on the Sunday.
    let due = clock
        .due_at(ts("2026-10-01T10:00Z"), Period::Hours(72))
        .unwrap();
    assert_eq!(due, Some(ts("2026-10-04T10:00Z")));
}

// ---- property tests: every clock is monotone and never earlier than its trigger ----

const ZONES: [&str; 4] = [
    "Asia/Shanghai",
    "Europe/Brussels",
    "America/New_York",
    "Asia/Kolkata",
];

/// DST transitions (and one ordinary instant) to cluster triggers around.
const PIVOTS: [&str; 5] = [
    "2026-03-29T01:00:00Z", // Europe/Brussels spring forward
    "2026-10-25T01:00:00Z", // Europe/Brussels fall back
    "2026-03-08T07:00:00Z", // America/New_York spring forward
    "2026-11-01T06:00:00Z", // America/New_York fall back
    "2021-11-24T02:00:00Z",
];

fn periods() -> Vec<Period> {
    let mut periods = Vec::new();
    for n in [1, 2, 6, 24, 72] {
        periods.push(Period::Hours(n));
    }
    for n in [1, 2, 14, 30] {
        periods.push(Period::Days(n));
        periods.push(Period::BusinessDays(n));
    }
    for n in [1, 2, 12] {
        periods.push(Period::Months(n));
    }
    periods
}

fn trigger_strategy() -> impl Strategy<Value = i64> {
    let pivots: Vec<i64> = PIVOTS.iter().map(|p| ts(p).as_second()).collect();
    prop_oneof![
        // Anywhere in 2020..2030.
        1_577_836_800i64..1_893_456_000i64,
        // Within 3 days of a DST transition (second resolution, so folds and gaps are hit).
        (0..pivots.len(), -259_200i64..259_200i64).prop_map(move |(i, d)| pivots[i] + d),
    ]
}

fn clocks() -> Vec<Clock> {
    let calendars = builtin_calendars();
    let mut clocks = Vec::new();
    for zone in ZONES {
        let zone = TimeZone::get(zone).unwrap();
        for mode in ClockMode::ALL {
            for calendar in &calendars {
                clocks.push(Clock::new(mode, zone.clone()).with_calendar(calendar.clone()));
            }
        }
    }
    clocks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn due_times_are_monotone_and_not_before_the_trigger(a in trigger_strategy(), gap in 0i64..200_000) {
        let earlier = Timestamp::from_second(a).unwrap();
        let later = Timestamp::from_second(a + gap).unwrap();
        for clock in clocks() {
            for period in periods().into_iter().filter(|p| clock.mode.accepts(*p)) {
                let first = clock.due_at(earlier, period).unwrap().unwrap();
                let second = clock.due_at(later, period).unwrap().unwrap();
                prop_assert!(first >= earlier, "{:?} {period}: {first} < trigger {earlier}", clock.mode);
                prop_assert!(
                    first <= second,
                    "{:?} {period} in {:?}: {earlier} -> {first} but {later} -> {second}",
                    clock.mode, clock.time_zone.iana_name(),
                );
            }
        }
    }
}
