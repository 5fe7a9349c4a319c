//! Two real `vulnshare serve` nodes on one PostgreSQL schema, under load, one of them killed
//! with SIGKILL half-way: every obligation turns overdue exactly once (one audit entry, one of
//! each reminder), every webhook delivery is recorded delivered once with one delivery id per
//! (subscription, advisory), and the audit chain verifies. Needs `VULNSHARE_TEST_PG` (SQLite is
//! a single-node store); without it the test says so and passes.
//!
//! A webhook can reach its receiver twice only when the sending node died between sending and
//! recording: the other node sends it again, with the same `X-Vulnshare-Delivery` id, once the
//! lease runs out. The test allows that only for sends that began before the kill.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, Server};
use serde_json::{Value, json};

/// One webhook POST as the receiver saw it.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    delivery_id: String,
    advisory_id: String,
    at: Instant,
}

/// A webhook receiver on 127.0.0.1 that answers 200 after `delay`, recording every hit.
fn receiver(delay: Duration) -> (String, Arc<Mutex<Vec<Hit>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let record = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap_or(0);
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_owned();
                let (mut length, mut delivery_id) = (0usize, String::new());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap_or(("", ""));
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "x-vulnshare-delivery" => delivery_id = value.trim().to_owned(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
                let hit = Hit {
                    path,
                    delivery_id,
                    advisory_id: payload["advisory"]["id"].as_str().unwrap_or("").to_owned(),
                    at: Instant::now(),
                };
                std::thread::sleep(delay);
                record.lock().unwrap().push(hit);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    (base, hits)
}

fn report(k: usize) -> Value {
    json!({
        "kind": "upstream_component",
        "title": format!("JNDI lookup RCE variant {k}"),
        "technical_characteristics": "Lookups in logged messages fetch remote classes over LDAP.",
        "harm": "Unauthenticated remote code execution.",
        "scope_of_impact": "Every Java application logging attacker-controlled text.",
        "affected_products": [{"vendor": "Apache Software Foundation", "name": "Apache Log4j",
            "model": "log4j-core", "versions": ["2.0-beta9 to 2.14.1"]}],
        "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "cwes": ["CWE-917"], "exploitation": "poc",
        "aware_at": "2021-11-24T02:00:00Z", "tlp": "AMBER", "aliases": [format!("CVE-2099-{}", 1000 + k)]
    })
}

async fn scalar(store: &vulnshare_store::Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn two_nodes_one_killed_every_transition_and_delivery_once() {
    if std::env::var("VULNSHARE_TEST_PG").is_err() {
        eprintln!("skipped: set VULNSHARE_TEST_PG to run two nodes on PostgreSQL");
        return;
    }
    const ADVISORIES: usize = 10;
    const SUBSCRIPTIONS: usize = 6;
    const OVERDUE: usize = 12;
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pg = runtime
        .block_on(vulnshare_store::testing::test_databases())
        .into_iter()
        .find(|d| d.backend == "postgres")
        .unwrap();
    let (hook_base, hits) = receiver(Duration::from_millis(30));
    let node_args = [
        "--database-url",
        &pg.url,
        "--sweep-interval-secs",
        "1",
        "--outbox-interval-ms",
        "200",
        "--outbox-lease-secs",
        "2",
    ];
    let node_a = Server::launch(&[&["--demo"][..], &node_args[..]].concat());
    let mut node_b = Server::launch(&node_args);
    let provider = node_a.token("Alibaba Cloud").to_owned();
    let analyst = node_a.token("Platform Operator").to_owned();

    for i in 0..SUBSCRIPTIONS {
        let (status, body) = node_a.call(
            "POST",
            "/api/v1/subscriptions",
            &provider,
            Some(
                json!({"channel": "webhook", "url": format!("{hook_base}/hook/{i}"),
                "filter": {"purl_prefix": "pkg:maven/org.apache.logging.log4j/"}}),
            ),
        );
        assert_eq!(status, 201, "{body}");
    }

    // Load, spread over both nodes until B dies half-way: duties that are already late (the
    // sweepers turn them overdue) and published advisories (the outbox workers deliver them).
    // Thirty days back: late under every rule's clock. (Three days back is not always: a
    // period counted in civil-code days whose last day is a Saturday ends on the Monday, so
    // from Saturday midnight in Beijing a three-day-old duty was still pending.)
    let aware = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30);
    let notified = aware + jiff::SignedDuration::from_hours(1);
    let mut killed_at: Option<Instant> = None;
    let mut advisories = BTreeSet::new();
    for k in 0..ADVISORIES.max(OVERDUE) {
        let node = if killed_at.is_none() && k % 2 == 1 {
            &node_b
        } else {
            &node_a
        };
        if k < OVERDUE {
            let (status, body) = node.call(
                "POST",
                "/api/v1/upstream-notifications",
                &provider,
                Some(json!({"notified_org": "ASF", "aware_at": aware.to_string(),
                    "notified_at": notified.to_string(), "evidence": "mail",
                    "aliases": [format!("CVE-2098-{}", 1000 + k)]})),
            );
            assert_eq!(status, 201, "{body}");
        }
        if k < ADVISORIES {
            let (status, filed) = node.call(
                "POST",
                "/api/v1/reports?submit=true",
                &provider,
                Some(report(k)),
            );
            assert_eq!(status, 201, "{filed}");
            let (status, case) = node.call(
                "POST",
                "/api/v1/cases",
                &analyst,
                Some(json!({"title": format!("Case {k}"), "report_ids": [filed["report"]["id"]]})),
            );
            assert_eq!(status, 201, "{case}");
            let case_id = case["case"]["id"].as_str().unwrap();
            let (status, published) = node.call(
                "POST",
                &format!("/api/v1/cases/{case_id}/advisory"),
                &analyst,
                Some(json!({"tlp": "AMBER", "summary": format!("Advisory {k}")})),
            );
            assert_eq!(status, 201, "{published}");
            advisories.insert(published["advisory"]["id"].as_str().unwrap().to_owned());
        }
        if k == ADVISORIES / 2 {
            // Let both workers get going, then kill B without warning, most likely mid-pass.
            let deadline = Instant::now() + Duration::from_secs(5);
            while hits.lock().unwrap().len() < SUBSCRIPTIONS && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            node_b.kill();
            killed_at = Some(Instant::now());
        }
    }
    let killed_at = killed_at.unwrap();

    // Node A finishes everything, including what B had claimed when it died.
    let store = runtime.block_on(pg.store());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let delivered = runtime.block_on(scalar(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'",
        ));
        let overdue = runtime.block_on(scalar(
            &store,
            "SELECT COUNT(*) FROM obligations WHERE status = 'overdue' AND notified_due_at IS NOT NULL",
        ));
        if delivered as usize == ADVISORIES * SUBSCRIPTIONS && overdue as usize >= OVERDUE {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node A did not finish: {delivered} of {} delivered, {overdue} of {OVERDUE} overdue",
            ADVISORIES * SUBSCRIPTIONS
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A little longer, to catch anything sent twice after the books say done.
    std::thread::sleep(Duration::from_millis(1500));

    // Outbox: one row per (subscription, advisory), each delivered with one recorded attempt.
    let outbox: Vec<(String, String, String, i64)> = runtime
        .block_on(
            sqlx::query_as("SELECT id, subscription_id, event_id, attempts FROM outbox")
                .fetch_all(store.pool()),
        )
        .unwrap();
    assert_eq!(outbox.len(), ADVISORIES * SUBSCRIPTIONS);
    let pairs: BTreeSet<(&String, &String)> = outbox.iter().map(|o| (&o.1, &o.2)).collect();
    assert_eq!(
        pairs.len(),
        outbox.len(),
        "one delivery per (subscription, event)"
    );
    assert!(outbox.iter().all(|o| o.3 == 1), "{outbox:?}");

    // Receiver: every delivery arrived; a repeat only of a send that began before the kill.
    let hits = hits.lock().unwrap().clone();
    let mut by_id: BTreeMap<&str, Vec<&Hit>> = BTreeMap::new();
    for hit in &hits {
        by_id.entry(hit.delivery_id.as_str()).or_default().push(hit);
    }
    let ids: BTreeSet<&str> = outbox.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(by_id.keys().copied().collect::<BTreeSet<_>>(), ids);
    let mut repeated = 0;
    for (id, seen) in &by_id {
        if seen.len() > 1 {
            repeated += 1;
            assert_eq!(seen.len(), 2, "{id} sent {} times", seen.len());
            assert!(
                seen.iter()
                    .any(|h| h.at <= killed_at + Duration::from_millis(100)),
                "{id} was sent twice, and not because its node died: {seen:?}"
            );
        }
    }
    let per_target: BTreeSet<(&str, &str)> = by_id
        .values()
        .map(|seen| (seen[0].path.as_str(), seen[0].advisory_id.as_str()))
        .collect();
    assert_eq!(per_target.len(), ADVISORIES * SUBSCRIPTIONS);
    assert!(per_target.iter().all(|(_, a)| advisories.contains(*a)));

    // Sweepers: each overdue transition and each reminder audited exactly once.
    let twice = runtime.block_on(scalar(
        &store,
        "SELECT COUNT(*) FROM (SELECT object_id, details FROM audit_log WHERE action IN ('obligation.overdue', 'notification.send') GROUP BY object_id, details HAVING COUNT(*) > 1) AS t",
    ));
    assert_eq!(
        twice, 0,
        "an obligation transition or reminder happened twice"
    );
    let overdue_entries = runtime.block_on(scalar(
        &store,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'obligation.overdue'",
    ));
    let overdue_rows = runtime.block_on(scalar(
        &store,
        "SELECT COUNT(*) FROM obligations WHERE status = 'overdue'",
    ));
    assert_eq!(overdue_entries, overdue_rows);
    assert!(overdue_rows as usize >= OVERDUE);
    let due_notices = runtime.block_on(scalar(
        &store,
        "SELECT COUNT(*) FROM notifications WHERE kind = 'obligation.due'",
    ));
    let due_reminded = runtime.block_on(scalar(
        &store,
        "SELECT COUNT(*) FROM obligations WHERE notified_due_at IS NOT NULL",
    ));
    assert_eq!(due_notices, due_reminded);

    let out = std::process::Command::new(BIN)
        .args(["audit", "verify", "--database-url", &pg.url])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!(
        "two nodes: {} deliveries ({repeated} re-sent after the kill), {overdue_rows} overdue, {:.1} s",
        outbox.len(),
        started.elapsed().as_secs_f64()
    );
    drop(node_a);
    runtime.block_on(store.close());
    runtime.block_on(pg.drop());
}

/// Sign-in lockouts and token revocation are rows in the shared database, so what one node
/// decides holds on the other: failures spread over both nodes lock the account on both, and a
/// token revoked through one node is refused by the other at once.
#[test]
fn lockouts_and_revocations_hold_across_nodes() {
    if std::env::var("VULNSHARE_TEST_PG").is_err() {
        eprintln!("skipped: set VULNSHARE_TEST_PG to run two nodes on PostgreSQL");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pg = runtime
        .block_on(vulnshare_store::testing::test_databases())
        .into_iter()
        .find(|d| d.backend == "postgres")
        .unwrap();
    let args = ["--database-url", pg.url.as_str()];
    let node_a = Server::launch(&[&["--demo"][..], &args[..]].concat());
    let node_b = Server::launch(&args);
    let nodes = [&node_a, &node_b];
    let sign_in = |node: &Server, password: &str| {
        node.call(
            "POST",
            "/api/v1/auth/token",
            "",
            Some(json!({"email": "security@alibaba-cloud.example", "password": password})),
        )
    };
    // The right password works on B before anything goes wrong.
    assert_eq!(sign_in(&node_b, "vulnshare-demo-password").0, 201);
    for i in 0..5 {
        let (status, body) = sign_in(nodes[i % 2], &format!("wrong password {i}"));
        // The fifth failure is the one that locks, and says so.
        let expected = if i < 4 { 401 } else { 429 };
        assert_eq!(status, expected, "{body}");
    }
    for node in nodes {
        let (status, body) = sign_in(node, "vulnshare-demo-password");
        assert_eq!(status, 429, "locked on every node: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains("locked until"),
            "{body}"
        );
    }

    // A token issued and revoked through A is refused by B.
    let admin = node_a.token("Platform Operator").to_owned();
    let (status, issued) = node_a.call(
        "POST",
        "/api/v1/tokens",
        &admin,
        Some(json!({"name": "short-lived", "scopes": ["read"]})),
    );
    assert_eq!(status, 201, "{issued}");
    let secret = issued["secret"].as_str().unwrap();
    assert_eq!(node_b.call("GET", "/api/v1/me", secret, None).0, 200);
    let id = issued["id"].as_str().unwrap();
    let (status, body) = node_a.call("DELETE", &format!("/api/v1/tokens/{id}"), &admin, None);
    assert!(matches!(status, 200 | 204), "{status} {body}");
    assert_eq!(node_b.call("GET", "/api/v1/me", secret, None).0, 401);
}
