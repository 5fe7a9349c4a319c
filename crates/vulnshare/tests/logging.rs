//! What `vulnshare serve --log-json` writes: one JSON line per request naming its id, route,
//! status and latency, and never a secret (tokens, passwords, Basic credentials, CVE API keys),
//! even at debug level. Also the rate limit flags, end to end over TCP.

mod common;

use std::time::Duration;

use base64::Engine;
use common::Server;
use serde_json::Value;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The e-mail address of a demo account, from the server's start-up lines.
fn demo_email(server: &Server, organization: &str) -> String {
    let line = server
        .stderr_lines()
        .into_iter()
        .find(|l| l.starts_with(&format!("demo account: {organization} ")))
        .expect("demo account line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "password").unwrap();
    words[at - 1].to_owned()
}

#[test]
fn json_request_logs_name_the_request_and_never_carry_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &dir.path().join("data"),
        &["--log-json"],
        &[("RUST_LOG", "debug")],
    );
    let base = &server.base_url;
    let admin = server.token("Platform Operator").to_owned();
    let member = server.token("Example Operator").to_owned();
    let email = demo_email(&server, "Example Operator");
    let http = agent();

    let mut me = http
        .get(format!("{base}/api/v1/me"))
        .header("Authorization", format!("Bearer {member}"))
        .header("X-Request-Id", "logging-test-1")
        .call()
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["x-request-id"], "logging-test-1");
    let me: Value = serde_json::from_str(&me.body_mut().read_to_string().unwrap()).unwrap();
    let org_id = me["organization"]["id"].as_str().unwrap().to_owned();

    // Sign in: the right password (a new token comes back), then a wrong one.
    let wrong_password = "wrong-password-Zq9xv";
    let mut signed_in = http
        .post(format!("{base}/api/v1/auth/token"))
        .content_type("application/json")
        .send(
            serde_json::json!({"email": email, "password": vulnshare_server::demo::DEMO_PASSWORD})
                .to_string(),
        )
        .unwrap();
    assert_eq!(signed_in.status(), 201);
    let issued: Value =
        serde_json::from_str(&signed_in.body_mut().read_to_string().unwrap()).unwrap();
    let issued = issued["secret"].as_str().unwrap().to_owned();
    let refused = http
        .post(format!("{base}/api/v1/auth/token"))
        .content_type("application/json")
        .send(serde_json::json!({"email": email, "password": wrong_password}).to_string())
        .unwrap();
    assert_eq!(refused.status(), 401);

    // A new user's password in a body, by an administrator.
    let new_password = "new-user-password-Kp27wq";
    let created = http
        .post(format!("{base}/api/v1/organizations/{org_id}/users"))
        .header("Authorization", format!("Bearer {admin}"))
        .content_type("application/json")
        .send(serde_json::json!({"email": "new@example.org", "display_name": "New", "password": new_password}).to_string())
        .unwrap();
    assert_eq!(created.status(), 201);

    // TAXII with HTTP Basic, and CVE Services with CVE-API-KEY.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{issued}"));
    let taxii = http
        .get(format!("{base}/taxii2/api1/collections/"))
        .header("Authorization", format!("Basic {basic}"))
        .header("Accept", "application/taxii+json;version=2.1")
        .call()
        .unwrap();
    assert_eq!(taxii.status(), 200);
    let cve = http
        .get(format!("{base}/cve-services/api/cve-id"))
        .header("CVE-API-ORG", "example_cna")
        .header("CVE-API-USER", &email)
        .header("CVE-API-KEY", &issued)
        .call()
        .unwrap();
    assert!(cve.status().is_client_error());
    // A token in a place it does not belong: the query string.
    let _ = http
        .get(format!("{base}/api/v1/reports?token={member}"))
        .call()
        .unwrap();

    std::thread::sleep(Duration::from_millis(300));
    let lines = server.stderr_lines();
    let logged: Vec<&String> = lines
        .iter()
        .filter(|l| !l.starts_with("demo account: ") && !l.starts_with("vulnshare listening on "))
        .collect();
    assert!(logged.len() > 5, "{lines:#?}");

    // Every log line is a JSON object; each request finished with its id, route, status, latency.
    let events: Vec<Value> = logged
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let finished = events
        .iter()
        .find(|e| e["span"]["request_id"] == "logging-test-1" && e["message"] == "request finished")
        .unwrap_or_else(|| panic!("no closing line for the request: {events:#?}"));
    assert_eq!(finished["span"]["route"], "/api/v1/me");
    assert_eq!(finished["span"]["method"], "GET");
    assert_eq!(finished["status"], 200);
    assert!(finished["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(finished["level"], "INFO");
    assert!(finished["timestamp"].is_string());
    let sign_in_refused = events
        .iter()
        .find(|e| e["span"]["route"] == "/api/v1/auth/token" && e["status"] == 401);
    assert!(sign_in_refused.is_some(), "{events:#?}");

    for (what, secret) in [
        ("a bearer token", member.as_str()),
        ("an administrator's token", admin.as_str()),
        ("a newly issued token", issued.as_str()),
        (
            "the sign-in password",
            vulnshare_server::demo::DEMO_PASSWORD,
        ),
        ("a wrong password", wrong_password),
        ("a new user's password", new_password),
        ("HTTP Basic credentials", basic.as_str()),
    ] {
        for line in &logged {
            assert!(!line.contains(secret), "{what} was logged: {line}");
        }
    }
}

#[test]
fn the_rate_limit_flags_refuse_an_address_over_its_share() {
    let dir = tempfile::tempdir().unwrap();
    // Two nodes share a burst of 6: this node allows 3 at once.
    let server = Server::start_with(
        &dir.path().join("data"),
        &[
            "--rate-limit-address-per-minute",
            "6",
            "--rate-limit-address-burst",
            "6",
            "--nodes",
            "2",
        ],
        &[],
    );
    let http = agent();
    let statuses: Vec<u16> = (0..4)
        .map(|_| {
            http.get(format!("{}/api/v1/health", server.base_url))
                .call()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
    let refused = http
        .get(format!("{}/api/v1/openapi.json", server.base_url))
        .call()
        .unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry),
        "{retry}: one request per 20 s on this node"
    );
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    // Probes are never limited.
    let probe = http
        .get(format!("{}/readyz", server.base_url))
        .call()
        .unwrap();
    assert_eq!(probe.status(), 200);
}
