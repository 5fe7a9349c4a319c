//! The web UI over the real router: sessions and their cookies, CSRF, the password lockout on
//! the web form and the API alike, TOTP, and each page's authorization (denials first).

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::TestApp;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use vulnshare_server::demo::{DEMO_PASSWORD, seed};
use vulnshare_server::sweeper::sweep_once;

/// A browser: a cookie jar and the last CSRF token seen.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    csrf: String,
    ip: Option<SocketAddr>,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

fn between<'s>(text: &'s str, start: &str, end: &str) -> Option<&'s str> {
    let i = text.find(start)? + start.len();
    let j = text[i..].find(end)? + i;
    Some(&text[i..j])
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            cookies: Vec::new(),
            csrf: String::new(),
            ip: None,
        }
    }

    async fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, c.join("; "));
        }
        let body = match form {
            Some(fields) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let mut s = form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    s.append_pair(k, v);
                }
                Body::from(s.finish())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        if let Some(ip) = self.ip {
            req.extensions_mut().insert(ConnectInfo(ip));
        }
        let res = vulnshare_server::router(self.app.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_owned(), val.to_owned()));
            }
        }
        let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        if let Some(t) = between(&body, "name=\"csrf-token\" content=\"", "\"") {
            self.csrf = t.to_owned();
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, None).await
    }

    /// Posts a form with the current CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.request("POST", path, Some(&all)).await
    }

    async fn sign_in_with(&mut self, email: &str, password: &str, totp: &str) -> Answer {
        let page = self.get("/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let token = between(&page.body, "name=\"csrf\" value=\"", "\"")
            .unwrap()
            .to_owned();
        self.request(
            "POST",
            "/sign-in",
            Some(&[
                ("csrf", &token),
                ("next", "/dashboard"),
                ("email", email),
                ("password", password),
                ("totp", totp),
            ]),
        )
        .await
    }

    async fn sign_in(&mut self, email: &str) {
        let a = self.sign_in_with(email, DEMO_PASSWORD, "").await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let d = self.get("/dashboard").await;
        assert_eq!(d.status, StatusCode::OK);
    }
}

const ALIBABA: &str = "security@alibaba-cloud.example";
const ASF: &str = "security@apache.example";
const MONITOR: &str = "soc@monitor.example";
const OPERATOR: &str = "it@operator.example";
const REGULATOR: &str = "regulator@miit.example";
const ADMIN: &str = "admin@platform.example";

async fn demo(app: &TestApp) {
    app.clock.set("2026-03-02T01:00:00Z".parse().unwrap());
    seed(&app.state).await.expect("demo seeds");
}

async fn advisory_ids(app: &TestApp) -> (String, String) {
    let (_, list) = app.call("GET", "/api/v1/advisories", None, None).await;
    let clear = list["items"][0]["id"].as_str().unwrap().to_owned();
    let mut amber = String::new();
    for n in 1..=2 {
        let id = format!("VSA-2026-{n:05}");
        if id != clear {
            amber = id;
        }
    }
    (clear, amber)
}

#[tokio::test]
async fn sessions_use_strict_host_cookies_and_end_on_sign_out() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut b = Browser::new(&app);
        let first = b.get("/dashboard").await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        assert_eq!(first.location(), "/sign-in?next=%2Fdashboard");
        let signed = b.sign_in_with(ALIBABA, DEMO_PASSWORD, "").await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        let cookie = signed
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("__Host-vulnshare-session="))
            .expect("a __Host- session cookie");
        for attr in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        let id = between(&cookie, "=", ";").unwrap();
        let stored: i64 = {
            use sqlx::Row;
            sqlx::query("SELECT COUNT(*) AS n FROM web_sessions WHERE id_hash = $1")
                .bind(id)
                .fetch_one(app.store.pool())
                .await
                .unwrap()
                .try_get("n")
                .unwrap()
        };
        assert_eq!(stored, 0, "the session id is never stored in clear");
        assert_eq!(app.count("web_sessions").await, 1);
        let dash = b.get("/dashboard").await;
        assert_eq!(dash.status, StatusCode::OK);
        assert!(dash.body.contains("Alibaba Cloud"));
        let csp = dash
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        // Sign-out needs the CSRF token.
        let saved = b.csrf.clone();
        b.csrf = "forged".into();
        assert_eq!(b.post("/sign-out", &[]).await.status, StatusCode::FORBIDDEN);
        b.csrf = saved;
        assert_eq!(b.post("/sign-out", &[]).await.status, StatusCode::SEE_OTHER);
        assert_eq!(app.count("web_sessions").await, 0);
        // Replaying the old cookie does not work.
        b.cookies
            .push(("__Host-vulnshare-session".into(), id.to_owned()));
        assert_eq!(b.get("/dashboard").await.status, StatusCode::SEE_OTHER);
        // A session expires after its lifetime, whatever its use.
        let mut c = Browser::new(&app);
        c.sign_in(ALIBABA).await;
        app.clock.advance(jiff::SignedDuration::from_hours(13));
        assert_eq!(c.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    })
    .await;
}

#[tokio::test]
async fn every_form_post_needs_the_sessions_csrf_token() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut b = Browser::new(&app);
        b.sign_in(ADMIN).await;
        let case_id: String = {
            let (_, cases) = app.call("GET", "/api/v1/advisories", None, None).await;
            cases["items"][0]["case_id"].as_str().unwrap().to_owned()
        };
        let audit_before = app.count("audit_log").await;
        let message_path = format!("/cases/{case_id}/messages");
        let posts: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("/sign-out", vec![]),
            ("/reports/new", vec![("title", "x"), ("action", "save")]),
            ("/reports/new/autosave", vec![("title", "x")]),
            (message_path.as_str(), vec![("body", "hello")]),
            ("/admin/regimes", vec![("regime", "CN-MIIT-2021")]),
            (
                "/admin/organizations",
                vec![("name", "X"), ("kind", "provider"), ("country", "DE")],
            ),
            (
                "/account/tokens",
                vec![("name", "x"), ("expires_in_days", "7")],
            ),
            (
                "/account/totp",
                vec![("secret", "JBSWY3DPEHPK3PXP"), ("code", "123456")],
            ),
        ];
        for (path, fields) in &posts {
            for token in ["", "0000"] {
                let mut all = vec![("csrf", token)];
                all.extend_from_slice(fields);
                let a = b.request("POST", path, Some(&all)).await;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{path} with csrf {token:?}: {}",
                    a.body
                );
            }
        }
        // A post the browser marks cross-site is refused even with the right token.
        let mut req = Request::builder()
            .method("POST")
            .uri("/sign-out")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site");
        let c: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header(header::COOKIE, c.join("; "));
        let res = vulnshare_server::router(app.state.clone())
            .oneshot(req.body(Body::from(format!("csrf={}", b.csrf))).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            app.count("audit_log").await,
            audit_before,
            "a refused post writes nothing"
        );
        // The sign-in form has its own token (a cookie it must match).
        let a = b
            .request(
                "POST",
                "/sign-in",
                Some(&[("email", ALIBABA), ("password", DEMO_PASSWORD)]),
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
    })
    .await;
}

async fn api_sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.call(
        "POST",
        "/api/v1/auth/token",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn repeated_failures_lock_the_account_on_the_web_and_the_api() {
    TestApp::each(|app| async move {
        demo(&app).await;
        // Five wrong passwords on the web form lock the account for the API too.
        let mut b = Browser::new(&app);
        for i in 0..5 {
            let a = b.sign_in_with(ALIBABA, "wrong password!", "").await;
            let expected = if i < 4 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(a.status, expected, "attempt {i}: {}", a.body);
        }
        let (status, body) = api_sign_in(&app, ALIBABA, DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["type"], "/problems/sign-in-locked");
        assert!(
            body["detail"].as_str().unwrap().contains("locked until"),
            "{body}"
        );
        let a = b.sign_in_with(ALIBABA, DEMO_PASSWORD, "").await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            a.body.contains("too many failed sign-ins"),
            "the form says why"
        );
        // Another account is unaffected; the lock ends after 15 minutes.
        assert_eq!(
            api_sign_in(&app, ASF, DEMO_PASSWORD).await.0,
            StatusCode::CREATED
        );
        app.clock.advance(jiff::SignedDuration::from_mins(16));
        assert_eq!(
            api_sign_in(&app, ALIBABA, DEMO_PASSWORD).await.0,
            StatusCode::CREATED
        );

        // Five wrong passwords through the API lock the web form.
        for _ in 0..5 {
            api_sign_in(&app, MONITOR, "wrong password!").await;
        }
        let mut c = Browser::new(&app);
        assert_eq!(
            c.sign_in_with(MONITOR, DEMO_PASSWORD, "").await.status,
            StatusCode::TOO_MANY_REQUESTS
        );

        // One client address failing on many accounts is locked as an address.
        let mut attacker = Browser::new(&app);
        attacker.ip = Some("192.0.2.7:5000".parse().unwrap());
        for i in 0..20 {
            attacker
                .sign_in_with(&format!("nobody{i}@example.org"), "guess guess guess", "")
                .await;
        }
        let a = attacker.sign_in_with(OPERATOR, DEMO_PASSWORD, "").await;
        assert_eq!(
            a.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the address is locked"
        );
        let mut other = Browser::new(&app);
        other.ip = Some("198.51.100.9:5000".parse().unwrap());
        assert_eq!(
            other.sign_in_with(OPERATOR, DEMO_PASSWORD, "").await.status,
            StatusCode::SEE_OTHER
        );
    })
    .await;
}

fn totp_now(secret: &str, app: &TestApp) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let t = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes);
    t.generate(app.clock_now().as_second() as u64)
}

#[tokio::test]
async fn totp_enrolment_then_every_sign_in_needs_the_code() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut b = Browser::new(&app);
        b.sign_in(ASF).await;
        let page = b.get("/account/totp").await;
        let secret = between(&page.body, "id=\"totp-secret\">", "<")
            .unwrap()
            .to_owned();
        assert!(
            page.body
                .contains("otpauth://totp/vulnshare%3Asecurity%40apache.example?secret=")
        );
        let wrong = b
            .post("/account/totp", &[("secret", &secret), ("code", "000000")])
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let code = totp_now(&secret, &app);
        let ok = b
            .post("/account/totp", &[("secret", &secret), ("code", &code)])
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        // Password alone is no longer enough, on either path.
        let mut c = Browser::new(&app);
        let a = c.sign_in_with(ASF, DEMO_PASSWORD, "").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("6-digit code"));
        assert_eq!(
            api_sign_in(&app, ASF, DEMO_PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            c.sign_in_with(ASF, DEMO_PASSWORD, "000000").await.status,
            StatusCode::UNAUTHORIZED
        );
        let code = totp_now(&secret, &app);
        assert_eq!(
            c.sign_in_with(ASF, DEMO_PASSWORD, &code).await.status,
            StatusCode::SEE_OTHER
        );
        let (status, _) = app
            .call(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(json!({"email": ASF, "password": DEMO_PASSWORD, "totp": code})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    })
    .await;
}

#[tokio::test]
async fn pages_refuse_whoever_the_api_refuses() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let (clear, amber) = advisory_ids(&app).await;
        let (_, adv) = app
            .call("GET", &format!("/api/v1/advisories/{clear}"), None, None)
            .await;
        let public_case = adv["case_id"].as_str().unwrap().to_owned();
        // Anonymous: public advisory yes; AMBER, dashboard and console send to sign in.
        let mut anon = Browser::new(&app);
        let page = anon.get(&format!("/advisories/{clear}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("TLP:CLEAR") && page.body.contains(".osv.json"));
        let osv = anon.get(&format!("/advisories/{clear}.osv.json")).await;
        assert_eq!(osv.status, StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<Value>(&osv.body).unwrap()["id"],
            clear.as_str()
        );
        assert_eq!(
            anon.get(&format!("/advisories/{clear}.csaf.json"))
                .await
                .status,
            StatusCode::OK
        );
        assert!(page.body.contains(".cve.json"));
        let cve = anon.get(&format!("/advisories/{clear}.cve.json")).await;
        assert_eq!(cve.status, StatusCode::OK, "{}", cve.body);
        let cve: Value = serde_json::from_str(&cve.body).unwrap();
        assert_eq!(cve["cveMetadata"]["cveId"], "CVE-2021-45046");
        assert_eq!(cve["dataVersion"], "5.1");
        assert!(
            cve["containers"]["cna"]["solutions"][0]["value"]
                .as_str()
                .unwrap()
                .contains("2.16.0")
        );
        for path in [
            format!("/advisories/{amber}"),
            format!("/advisories/{amber}.osv.json"),
            format!("/advisories/{amber}.cve.json"),
            "/regulator".into(),
            "/audit".into(),
            "/admin".into(),
            "/cases".into(),
            "/reports/new".into(),
            "/sboms".into(),
        ] {
            let a = anon.get(&path).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
            assert!(a.location().starts_with("/sign-in?next="), "{path}");
        }
        let list = anon.get("/advisories").await;
        assert!(list.body.contains(&clear) && !list.body.contains(&amber));

        // The operator is no participant of the Log4Shell case and no staff.
        let mut op = Browser::new(&app);
        op.sign_in(OPERATOR).await;
        for (path, status) in [
            (format!("/advisories/{amber}"), StatusCode::NOT_FOUND),
            ("/reports/VS-2026-00001".into(), StatusCode::NOT_FOUND),
            ("/regulator".into(), StatusCode::FORBIDDEN),
            ("/audit".into(), StatusCode::FORBIDDEN),
        ] {
            let a = op.get(&path).await;
            assert_eq!(a.status, status, "{path}: {}", a.body);
            assert!(!a.body.contains("JNDI lookup RCE"), "{path} leaks nothing");
        }
        let orgs = app.store.organizations(None, 50).await.unwrap();
        let alibaba = orgs.iter().find(|o| o.name == "Alibaba Cloud").unwrap();
        let a = op.get(&format!("/admin?org={}", alibaba.id)).await;
        assert!(
            a.status == StatusCode::FORBIDDEN || a.status == StatusCode::NOT_FOUND,
            "{}",
            a.status
        );
        let a = op
            .post(
                &format!("/admin/regimes?org={}", alibaba.id),
                &[("regime", "EU-CRA-2024")],
            )
            .await;
        assert!(a.status == StatusCode::FORBIDDEN || a.status == StatusCode::NOT_FOUND);
        let cases = op.get("/cases").await;
        assert!(
            !cases.body.contains("Log4Shell (CVE"),
            "the operator's case list hides other cases"
        );
        let a = op
            .post(&format!("/cases/{public_case}/messages"), &[("body", "hi")])
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        // The test clock route does not exist without --test-clock.
        let mut admin = Browser::new(&app);
        admin.sign_in(ADMIN).await;
        assert_eq!(
            admin
                .post("/test-clock/advance", &[("seconds", "60")])
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // The participant reads the AMBER advisory until the regulator suspends it.
        let mut ali = Browser::new(&app);
        ali.sign_in(ALIBABA).await;
        let page = ali.get(&format!("/advisories/{amber}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("TLP:AMBER"));
        let reg = app.store.credentials(REGULATOR).await.unwrap().user;
        let reg_token = app
            .token_for(
                &reg,
                &[
                    vulnshare_core::token::TokenScope::Read,
                    vulnshare_core::token::TokenScope::Write,
                    vulnshare_core::token::TokenScope::Admin,
                ],
            )
            .await;
        let (status, body) = app
            .call(
                "POST",
                &format!("/api/v1/organizations/{}/sanctions", alibaba.id),
                Some(&reg_token),
                Some(json!({"kind": "suspension", "months": 6, "reason": "late report"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let page = ali.get(&format!("/advisories/{amber}")).await;
        assert!(
            page.status == StatusCode::FORBIDDEN || page.status == StatusCode::NOT_FOUND,
            "{}",
            page.status
        );
        assert!(!page.body.contains("JNDI lookup RCE"));
        assert!(
            ali.get("/dashboard")
                .await
                .body
                .contains("membership is suspended")
        );
        assert_eq!(
            ali.get(&format!("/advisories/{clear}")).await.status,
            StatusCode::OK
        );

        // The regulator's console shows the suspension, the overdue duty and the chart.
        let mut r = Browser::new(&app);
        r.sign_in(REGULATOR).await;
        let console = r.get("/regulator").await;
        assert_eq!(console.status, StatusCode::OK);
        assert!(console.body.contains("id=\"reports-chart\""));
        assert!(console.body.contains("suspension (6 months)"));
        assert!(
            console.body.contains("Example Operator — "),
            "the overdue operator's duty is listed"
        );
        // The demo replays 2021: the provider's report came 15 days after it knew, 13 days late.
        let violations = between(&console.body, "id=\"violation-table\"", "</table>").unwrap();
        let alibaba_row = violations
            .split("<tr>")
            .find(|row| row.contains("Alibaba Cloud"))
            .expect("the provider's late report is a violation");
        assert!(
            alibaba_row.contains("<td class=\"overdue\">13</td>"),
            "{alibaba_row}"
        );
        let audit = r.get("/audit").await;
        assert!(audit.body.contains("Chain intact"), "{}", audit.body);
    })
    .await;
}

/// A token with every scope for a demo user.
async fn full_token(app: &TestApp, email: &str) -> String {
    use vulnshare_core::token::TokenScope;
    let user = app.store.credentials(email).await.unwrap().user;
    app.token_for(
        &user,
        &[TokenScope::Read, TokenScope::Write, TokenScope::Admin],
    )
    .await
}

#[tokio::test]
async fn the_case_timeline_is_the_audit_log_and_hides_messages_to_others() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let admin = full_token(&app, ADMIN).await;
        let (_, cases) = app.call("GET", "/api/v1/cases", Some(&admin), None).await;
        let case = cases["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["case"])
            .find(|c| c["title"].as_str().unwrap().starts_with("Log4Shell"))
            .expect("the demo's Log4Shell case")
            .clone();
        let case_id = case["id"].as_str().unwrap();
        let asf = case["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["role"] == "upstream")
            .unwrap()["org_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // A message for the upstream vendor only, then an embargo.
        let (status, body) = app
            .call(
                "POST",
                &format!("/api/v1/cases/{case_id}/messages"),
                Some(&admin),
                Some(json!({"body": "Private note to the vendor",
                            "audience": {"to": "organizations", "org_ids": [asf]}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");

        let actions = |body: &str| -> Vec<String> {
            let timeline = between(body, "id=\"timeline\"", "</ol>")
                .unwrap()
                .to_owned();
            timeline
                .split("data-action=\"")
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
                .collect()
        };
        let mut vendor = Browser::new(&app);
        vendor.sign_in(ASF).await;
        let page = vendor.get(&format!("/cases/{case_id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let seen = actions(&page.body);
        for action in ["case.open", "case.participant", "advisory.publish"] {
            assert!(seen.iter().any(|a| a == action), "{action} in {seen:?}");
        }
        assert_eq!(seen[0], "case.open", "oldest first: {seen:?}");
        assert_eq!(seen.iter().filter(|a| *a == "case.message").count(), 2);
        assert!(
            page.body
                .contains("Apache Software Foundation joined as upstream")
        );
        // The sequence numbers are the audit log's, in order.
        let seqs: Vec<i64> = page
            .body
            .split("audit #")
            .skip(1)
            .map(|rest| rest[..rest.find('<').unwrap()].parse().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

        // The reporter takes part too, but is not told of the message to the vendor.
        let mut reporter = Browser::new(&app);
        reporter.sign_in(ALIBABA).await;
        let page = reporter.get(&format!("/cases/{case_id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let seen = actions(&page.body);
        assert_eq!(seen.iter().filter(|a| *a == "case.message").count(), 1);
        assert!(!page.body.contains("Private note"));
    })
    .await;
}

#[tokio::test]
async fn administrators_create_organizations_users_and_tokens_and_nobody_else_can() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut admin = Browser::new(&app);
        admin.sign_in(ADMIN).await;
        admin.get("/admin").await;
        let a = admin
            .post(
                "/admin/organizations",
                &[
                    ("name", "Example Vendor"),
                    ("kind", "provider"),
                    ("country", "de"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let org_page = a.location().to_owned();
        let org_id = org_page.strip_prefix("/admin?org=").unwrap().to_owned();
        let page = admin.get(&org_page).await;
        assert!(page.body.contains("Users of Example Vendor"));
        // A provider's users cannot hold platform roles: the form does not offer them.
        assert!(!page.body.contains("value=\"platform_admin\""));
        let a = admin
            .post(
                &format!("/admin/users?org={org_id}"),
                &[
                    ("email", "psirt@vendor.example"),
                    ("display_name", "Vendor PSIRT"),
                    ("password", "correct horse battery"),
                    ("role", "member"),
                    ("role", "org_admin"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        // A too-short password is refused with the reason, and nothing is created.
        let a = admin
            .post(
                &format!("/admin/users?org={org_id}"),
                &[
                    ("email", "short@vendor.example"),
                    ("display_name", "S"),
                    ("password", "short"),
                    ("role", "member"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert!(app.store.credentials("short@vendor.example").await.is_err());

        // The new organization administrator signs in and manages only its own organization.
        let mut vendor = Browser::new(&app);
        let a = vendor
            .sign_in_with("psirt@vendor.example", "correct horse battery", "")
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let page = vendor.get("/admin").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("new-org-form"));
        let a = vendor
            .post(
                "/admin/organizations",
                &[("name", "Mine"), ("kind", "provider"), ("country", "DE")],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        let alibaba = app
            .store
            .organizations(None, 50)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.name == "Alibaba Cloud")
            .unwrap();
        let a = vendor
            .post(
                &format!("/admin/users?org={}", alibaba.id),
                &[
                    ("email", "x@alibaba.example"),
                    ("display_name", "X"),
                    ("password", "correct horse battery"),
                    ("role", "member"),
                ],
            )
            .await;
        assert!(
            matches!(a.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            a.status
        );
        let a = vendor
            .post(
                &format!("/admin/users?org={org_id}"),
                &[
                    ("email", "boss@vendor.example"),
                    ("display_name", "B"),
                    ("password", "correct horse battery"),
                    ("role", "platform_admin"),
                ],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::FORBIDDEN,
            "no platform roles from an organization"
        );
        let ali_user = app.store.credentials(ALIBABA).await.unwrap().user;
        let a = vendor
            .post(
                &format!("/admin/users/{}/status", ali_user.id),
                &[("disabled", "true")],
            )
            .await;
        assert!(
            matches!(a.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{}",
            a.status
        );
        assert!(!app.store.user(&ali_user.id).await.unwrap().disabled);

        // Tokens: the secret is shown once and works; revoked, it stops working.
        vendor.get("/account/tokens").await;
        let a = vendor
            .post(
                "/account/tokens",
                &[
                    ("name", "ci upload"),
                    ("scope", "read"),
                    ("scope", "write"),
                    ("expires_in_days", "30"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        let secret = between(&a.body, "id=\"token-secret\">", "<")
            .unwrap()
            .to_owned();
        let (status, me) = app.call("GET", "/api/v1/me", Some(&secret), None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let listed = vendor.get("/account/tokens").await;
        assert!(
            !listed.body.contains(&secret),
            "the secret is never shown again"
        );
        let token_id = between(&listed.body, "data-token=\"", "\"")
            .unwrap()
            .to_owned();
        // Nobody else can revoke it.
        let mut op = Browser::new(&app);
        op.sign_in(OPERATOR).await;
        op.get("/account/tokens").await;
        let a = op
            .post(&format!("/account/tokens/{token_id}/revoke"), &[])
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
        assert_eq!(
            app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
            StatusCode::OK
        );
        let a = vendor
            .post(&format!("/account/tokens/{token_id}/revoke"), &[])
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_eq!(
            app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
            StatusCode::UNAUTHORIZED
        );

        // The platform administrator disables the new user, who can no longer sign in.
        let vendor_user = app
            .store
            .credentials("psirt@vendor.example")
            .await
            .unwrap()
            .user;
        admin.get(&org_page).await;
        let a = admin
            .post(
                &format!("/admin/users/{}/status", vendor_user.id),
                &[("disabled", "true")],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert!(admin.get(&org_page).await.body.contains("disabled"));
        let mut again = Browser::new(&app);
        let a = again
            .sign_in_with("psirt@vendor.example", "correct horse battery", "")
            .await;
        assert_ne!(
            a.status,
            StatusCode::SEE_OTHER,
            "a disabled user is refused"
        );
    })
    .await;
}

#[tokio::test]
async fn report_form_lists_missing_content_autosaves_and_submits() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut b = Browser::new(&app);
        b.sign_in(OPERATOR).await;
        let form = b.get("/reports/new").await;
        assert!(form.body.contains("Still missing (6)"));
        // Autosave creates the draft and says what Art. 7(2) content is still missing.
        let saved = b
            .post(
                "/reports/new/autosave",
                &[
                    ("title", "Router admin page bypass"),
                    ("product_name", "EdgeRouter"),
                    ("harm", "Takeover"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        assert!(
            saved.body.contains("saved") && saved.body.contains("Still missing (4)"),
            "{}",
            saved.body
        );
        let draft = between(&saved.body, "Draft ", " saved").unwrap().to_owned();
        assert_eq!(app.count("reports").await, 3);
        // A second autosave updates the same draft.
        let again = b
            .post(
                "/reports/new/autosave",
                &[
                    ("draft_id", &draft),
                    ("title", "Router admin page bypass"),
                    ("product_name", "EdgeRouter"),
                    ("product_model", "ER-4"),
                    ("product_versions", "1.0, 1.1"),
                    ("harm", "Takeover"),
                ],
            )
            .await;
        assert!(again.body.contains("Still missing (2)"), "{}", again.body);
        assert_eq!(app.count("reports").await, 3);
        // Another organization cannot autosave into the draft.
        let mut other = Browser::new(&app);
        other.sign_in(MONITOR).await;
        let a = other
            .post(
                "/reports/new/autosave",
                &[("draft_id", &draft), ("title", "hijack")],
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        // Submitting with content missing is refused and says why; complete, it gets a receipt.
        let fields = [
            ("title", "Router admin page bypass"),
            ("product_name", "EdgeRouter"),
            ("product_model", "ER-4"),
            ("product_versions", "1.0"),
            ("harm", "Takeover"),
            ("technical_characteristics", "Missing auth check"),
            ("scope_of_impact", "All ER-4 units"),
            ("aware_at", "2026-03-01T08:00"),
            ("action", "submit"),
        ];
        let done = b.post(&format!("/reports/{draft}"), &fields).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let page = b.get(&format!("/reports/{draft}")).await;
        assert!(
            page.body.contains("id=\"report-state\">submitted"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Everything Art. 7(2) asks for"));
    })
    .await;
}

#[tokio::test]
async fn dashboard_counts_down_and_shows_overdue_after_the_deadline() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let mut m = Browser::new(&app);
        m.sign_in(MONITOR).await;
        m.cookies
            .push(("vulnshare-tz".into(), "Europe%2FBerlin".into()));
        let d = m.get("/dashboard").await;
        assert!(d.body.contains("data-state=\"pending\""), "{}", d.body);
        assert!(
            d.body.contains("class=\"countdown"),
            "a countdown is rendered"
        );
        assert!(d.body.contains("CET"), "times in the browser's zone");
        assert!(
            d.body.contains("Asia/Shanghai") && d.body.contains("00:00 CST"),
            "and in the deadline's own zone, written for people: {}",
            d.body
        );
        app.clock.advance(jiff::SignedDuration::from_hours(24 * 4));
        sweep_once(&app.state, app.clock_now()).await.unwrap();
        // Four days on, the session has expired: sign in again.
        assert_eq!(m.get("/dashboard").await.status, StatusCode::SEE_OTHER);
        m.sign_in(MONITOR).await;
        let d = m.get("/dashboard").await;
        assert!(d.body.contains("data-state=\"overdue\""), "{}", d.body);
        assert!(d.body.contains(" overdue</time>"));
    })
    .await;
}

#[tokio::test]
async fn static_assets_are_served_with_long_caching() {
    TestApp::each(|app| async move {
        let mut b = Browser::new(&app);
        let js = b.get("/static/htmx.min.js").await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(
            js.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        assert!(js.body.starts_with("var htmx="));
        let page = b.get("/sign-in").await;
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
        assert!(
            page.body.contains("<label for=\"email\">"),
            "fields are labelled"
        );
    })
    .await;
}

#[tokio::test]
async fn every_page_but_the_public_ones_sends_strangers_to_sign_in() {
    TestApp::each(|app| async move {
        demo(&app).await;
        let public = [
            ("GET", "/"),
            ("GET", "/sign-in"),
            ("POST", "/sign-in"),
            ("GET", "/advisories"),
            ("GET", "/advisories/{id}"),
        ];
        let audit_before = app.count("audit_log").await;
        let mut anon = Browser::new(&app);
        for (method, path) in vulnshare_server::web::WEB_ROUTES {
            let concrete = path.replace("{id}", "VS-2026-00001");
            let form: &[(&str, &str)] = &[("csrf", "x"), ("body", "x"), ("seconds", "60")];
            let a = anon
                .request(method, &concrete, (*method == "POST").then_some(form))
                .await;
            if public.contains(&(*method, *path)) {
                assert!(
                    a.status != StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path}"
                );
                continue;
            }
            assert_eq!(
                a.status,
                StatusCode::SEE_OTHER,
                "{method} {path}: {}",
                a.body
            );
            assert!(
                a.location().starts_with("/sign-in?next="),
                "{method} {path} -> {}",
                a.location()
            );
        }
        assert_eq!(
            app.count("audit_log").await,
            audit_before,
            "nothing was written"
        );
    })
    .await;
}
