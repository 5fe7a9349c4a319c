//! Reports submitted as they are filed are written many to a transaction by each node's
//! submission writer. These tests hold the audit head while a crowd of submissions arrives, so
//! that they wait together and are filed as one batch, and check that the platform ends up
//! exactly where it would have been had each been filed alone, in the same order: the same
//! duties, violations, notifications and audit trail.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::{Member, TestApp};
use serde_json::{Value, json};
use sqlx::Row;
use vulnshare_core::organization::OrganizationKind;
use vulnshare_core::user::Role;
use vulnshare_store::testing::test_databases;

/// The members of the scenario, created in this order on every app.
const MEMBERS: [(&str, OrganizationKind); 3] = [
    ("Vendor A", OrganizationKind::Provider),
    ("Vendor B", OrganizationKind::Provider),
    ("Monitor C", OrganizationKind::MonitoringInstitution),
];

async fn members(app: &TestApp) -> Vec<Member> {
    let mut out = Vec::new();
    for (name, kind) in MEMBERS {
        out.push(
            app.member(name, kind, &[Role::OrgAdmin, Role::Member])
                .await,
        );
    }
    // Vendor A told the Apache Software Foundation before it reports: the duties of that
    // notification are met or breached by the reports below.
    let (s, body) = app
        .call(
            "POST",
            "/api/v1/upstream-notifications",
            Some(&out[0].token),
            Some(json!({"notified_org": "Apache Software Foundation", "notified_at": "2021-11-24T14:00:00+08:00",
                        "evidence": "E-mail to security@apache.org", "aliases": ["CVE-2021-44228"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    out
}

/// Submission `i` of the crowd: who files it and what. Reports of one vulnerability by
/// different members, late and on time, and of another vulnerability, so that later reports
/// are evidence against earlier ones inside the same batch.
fn submission(i: usize) -> (usize, Value) {
    let mut report = common::log4shell_report();
    let member = i % 3;
    let aware = [
        "2021-11-24T10:00:00+08:00",
        "2021-12-08T09:00:00+08:00",
        "2021-12-01T12:00:00Z",
        "2021-12-09T07:00:00Z",
    ][i % 4];
    report["aware_at"] = json!(aware);
    report["title"] = json!(format!("Submission {i}"));
    if member == 2 {
        report["kind"] = json!("third_party_observation");
    }
    if i % 5 == 4 {
        report["aliases"] = json!(["CVE-2021-45046"]);
        report["affected_packages"] = json!([]);
    }
    (member, report)
}

const CROWD: usize = 18;

/// What the platform holds, with every random id replaced by what it stands for, so that two
/// platforms given the same submissions in the same order compare equal.
async fn outcome(app: &TestApp) -> BTreeMap<&'static str, Vec<String>> {
    let pool = app.store.pool();
    let names: BTreeMap<String, String> = sqlx::query("SELECT id, name FROM organizations")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("id"), r.get("name")))
        .collect();
    let mut labels = names.clone();
    for (i, row) in sqlx::query("SELECT id FROM upstream_notifications ORDER BY recorded_at, id")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .enumerate()
    {
        labels.insert(row.get("id"), format!("notification {i}"));
    }
    let label = |id: &str| labels.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let mut out = BTreeMap::new();
    let rows = |sql: &'static str| sqlx::query(sql).fetch_all(pool);

    let mut obligation_keys = BTreeMap::new();
    let mut obligations = Vec::new();
    for r in rows("SELECT id, party_org_id, subject, regime_id, rule_id, status, due_at, status_details, missing_content FROM obligations")
        .await
        .unwrap()
    {
        let key = format!(
            "{} {} {} {}",
            label(r.get("party_org_id")),
            label(r.get("subject")),
            r.get::<String, _>("regime_id"),
            r.get::<String, _>("rule_id")
        );
        obligation_keys.insert(r.get::<String, _>("id"), key.clone());
        obligations.push(format!(
            "{key}: {} due {:?} {} missing {}",
            r.get::<String, _>("status"),
            r.get::<Option<i64>, _>("due_at"),
            r.get::<String, _>("status_details"),
            r.get::<String, _>("missing_content")
        ));
    }
    obligations.sort();
    out.insert("obligations", obligations);

    let mut violation_keys = BTreeMap::new();
    let mut violations = Vec::new();
    for r in rows("SELECT id, obligation_id, party_org_id, evidence_kind, days_late, lateness_secs, details FROM violations")
        .await
        .unwrap()
    {
        let obligation = obligation_keys[&r.get::<String, _>("obligation_id")].clone();
        violation_keys.insert(r.get::<String, _>("id"), obligation.clone());
        let mut details: Value = serde_json::from_str(r.get("details")).unwrap();
        details["obligation_id"] = json!(obligation);
        relabel(&mut details, &label);
        violations.push(format!(
            "{obligation}: {} by {} {} days {} s {details}",
            r.get::<String, _>("evidence_kind"),
            label(r.get("party_org_id")),
            r.get::<i64, _>("days_late"),
            r.get::<i64, _>("lateness_secs")
        ));
    }
    violations.sort();
    out.insert("violations", violations);

    let mut notifications = Vec::new();
    for r in rows("SELECT organization_id, kind, subject_id FROM notifications")
        .await
        .unwrap()
    {
        let subject: String = r.get("subject_id");
        let subject = violation_keys.get(&subject).cloned().unwrap_or(subject);
        notifications.push(format!(
            "{} {} {subject}",
            label(r.get("organization_id")),
            r.get::<String, _>("kind")
        ));
    }
    notifications.sort();
    out.insert("notifications", notifications);

    let reports =
        rows("SELECT id, reporter_org_id, state, title, received_at FROM reports ORDER BY id")
            .await
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {:?}",
                    r.get::<String, _>("id"),
                    label(r.get("reporter_org_id")),
                    r.get::<String, _>("state"),
                    r.get::<String, _>("title"),
                    r.get::<Option<i64>, _>("received_at")
                )
            })
            .collect();
    out.insert("reports", reports);

    // The audit trail in chain order; ids of obligations and violations are random, so those
    // entries are named by what they are about. A report's duties are created at one instant
    // and then taken in id order, which is random, so within each report's stretch of the
    // trail the order is not compared, only the entries.
    let audit: Vec<String> =
        rows("SELECT action, object_type, object_id, actor_org_id FROM audit_log ORDER BY seq")
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let id: String = r.get("object_id");
                let object = obligation_keys
                    .get(&id)
                    .or_else(|| violation_keys.get(&id))
                    .cloned()
                    .unwrap_or_else(|| match r.get::<String, _>("object_type").as_str() {
                        "user" | "token" => String::new(),
                        _ => label(&id),
                    });
                format!(
                    "{} {} {object} by {}",
                    r.get::<String, _>("action"),
                    r.get::<String, _>("object_type"),
                    r.get::<Option<String>, _>("actor_org_id")
                        .map(|o| label(&o))
                        .unwrap_or_default()
                )
            })
            .collect();
    let mut stretches: Vec<Vec<String>> = Vec::new();
    for entry in audit {
        if entry.starts_with("report.create") || stretches.is_empty() {
            stretches.push(Vec::new());
        }
        stretches.last_mut().unwrap().push(entry);
    }
    let audit = stretches
        .into_iter()
        .map(|mut stretch| {
            stretch.sort();
            stretch.join("\n")
        })
        .collect();
    out.insert("audit", audit);
    out
}

/// Replaces every organization and notification id anywhere in `value` by its label.
fn relabel(value: &mut Value, label: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = label(s),
        Value::Array(items) => items.iter_mut().for_each(|v| relabel(v, label)),
        Value::Object(fields) => fields.values_mut().for_each(|v| relabel(v, label)),
        _ => {}
    }
}

/// Submits the crowd while the audit head is held, then lets it go; returns each answer's
/// status and body, in the order the submissions were made.
async fn crowd_at_once(app: &TestApp, members: &[Member]) -> Vec<(StatusCode, Value)> {
    let head = app.store.begin_write().await.expect("hold the audit head");
    let requests = (0..CROWD).map(|i| {
        let (member, report) = submission(i);
        let token = members[member].token.clone();
        async move {
            app.call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&token),
                Some(report),
            )
            .await
        }
    });
    let release = async {
        // Long enough for every request to reach the writer's queue behind the held head.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        head.rollback().await.expect("release the head");
    };
    let (answers, ()) = tokio::join!(futures_util::future::join_all(requests), release);
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_submissions_is_filed_as_each_would_be_alone() {
    for db in test_databases().await {
        let app = TestApp::start(&db).await;
        let crowd = members(&app).await;
        let answers = crowd_at_once(&app, &crowd).await;
        // Which submission got which report number: the order they were filed in.
        let mut filed = Vec::new();
        for (i, (status, body)) in answers.iter().enumerate() {
            assert_eq!(*status, StatusCode::CREATED, "submission {i}: {body}");
            assert!(body["receipt"]["signature"].is_string(), "{body}");
            assert_eq!(body["report"]["state"], "submitted");
            filed.push((body["report"]["id"].as_str().unwrap().to_owned(), i));
        }
        filed.sort();
        let (_, metrics) = app.call("GET", "/metrics", None, None).await;
        let metrics = metrics.as_str().unwrap_or_default().to_owned();
        let counter = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} in {metrics}"))
        };
        assert_eq!(counter("vulnshare_submissions_filed_total"), CROWD as u64);
        assert!(
            counter("vulnshare_submission_transactions_total") < CROWD as u64 / 2,
            "the crowd shared transactions: {metrics}"
        );
        let verified = app.store.verify_audit().await.unwrap();
        assert!(verified.error.is_none(), "{verified:?}");

        // The same submissions, each alone, in the order the crowd was filed.
        let reference_db = test_databases()
            .await
            .into_iter()
            .find(|d| d.backend == db.backend)
            .unwrap();
        let reference = TestApp::start(&reference_db).await;
        let alone = members(&reference).await;
        for (id, i) in &filed {
            let (member, report) = submission(*i);
            let (s, body) = reference
                .call(
                    "POST",
                    "/api/v1/reports?submit=true",
                    Some(&alone[member].token),
                    Some(report),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{body}");
            assert_eq!(body["report"]["id"], id.as_str());
        }
        let (batched, one_by_one) = (outcome(&app).await, outcome(&reference).await);
        assert!(
            batched["violations"].len() >= 4,
            "the scenario breaches duties: {:?}",
            batched["violations"]
        );
        for (part, rows) in &one_by_one {
            assert_eq!(
                &batched[part], rows,
                "{part} differ on {} (batched, then alone)",
                db.backend
            );
        }
        for (app, db) in [(app, db), (reference, reference_db)] {
            app.store.close().await;
            db.drop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_submission_failing_in_a_batch_fails_alone() {
    for db in test_databases().await {
        let app = TestApp::start(&db).await;
        let crowd = members(&app).await;
        // A report the database refuses only once it is written, inside the batch's
        // transaction (validation has long passed by then).
        let refuse = match db.backend {
            "postgres" => vec![
                "CREATE FUNCTION refuse_report() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_report BEFORE INSERT ON reports FOR EACH ROW WHEN (NEW.title = 'Submission 5') EXECUTE FUNCTION refuse_report()",
            ],
            _ => vec![
                "CREATE TRIGGER refuse_report BEFORE INSERT ON reports WHEN NEW.title = 'Submission 5' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            ],
        };
        for sql in refuse {
            sqlx::query(sql).execute(app.store.pool()).await.unwrap();
        }
        let answers = crowd_at_once(&app, &crowd).await;
        for (i, (status, body)) in answers.iter().enumerate() {
            if i == 5 {
                assert!(status.is_server_error(), "{status} {body}");
                assert!(body["report"].is_null(), "{body}");
            } else {
                assert_eq!(*status, StatusCode::CREATED, "submission {i}: {body}");
            }
        }
        assert_eq!(app.count("reports").await, CROWD as i64 - 1);
        let (_, metrics) = app.call("GET", "/metrics", None, None).await;
        assert!(
            metrics
                .as_str()
                .unwrap()
                .lines()
                .any(|l| l == "vulnshare_submission_batches_split_total 1"),
            "{metrics}"
        );
        let verified = app.store.verify_audit().await.unwrap();
        assert!(verified.error.is_none(), "{verified:?}");
        app.store.close().await;
        db.drop().await;
    }
}
