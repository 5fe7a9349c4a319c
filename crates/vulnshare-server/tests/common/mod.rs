//! Test harness: the real router over each test database of `vulnshare_store::testing`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::Value;
use tower::ServiceExt;
use vulnshare_core::organization::{NewOrganization, Organization, OrganizationKind};
use vulnshare_core::token::{NewToken, TokenScope};
use vulnshare_core::user::{NewUser, Role, User};
use vulnshare_server::service::{self, TokenIssuer};
use vulnshare_server::{AppState, ManualClock};
use vulnshare_store::Store;
use vulnshare_store::testing::{TestDatabase, test_databases};

/// A member of a test organization with a token.
#[derive(Debug, Clone)]
pub struct Member {
    pub org: Organization,
    pub user: User,
    pub token: String,
}

/// CVE Services credentials: the CVE-API-ORG, CVE-API-USER and CVE-API-KEY headers.
#[derive(Debug, Clone)]
pub struct CveCredentials {
    pub org: String,
    pub user: String,
    pub key: String,
}

/// The application under test.
pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub backend: &'static str,
}

/// The default test time.
pub fn t0() -> Timestamp {
    "2021-12-09T08:00:00Z".parse().unwrap()
}

impl TestApp {
    pub async fn start(db: &TestDatabase) -> TestApp {
        let mut store = db.store().await;
        // On PostgreSQL every test runs with the change feed live, as `serve` does.
        let live = store
            .start_change_feed(std::time::Duration::from_secs(10))
            .await
            .expect("start the change feed");
        assert_eq!(
            live,
            db.backend == "postgres",
            "the change feed runs on PostgreSQL only"
        );
        let clock = Arc::new(ManualClock::new(t0()));
        let state = AppState::new(store.clone(), clock.clone())
            .await
            .expect("state");
        TestApp {
            state,
            clock,
            store,
            backend: db.backend,
        }
    }

    /// Runs `f` once per configured backend.
    pub async fn each<F, Fut>(f: F)
    where
        F: Fn(TestApp) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        for db in test_databases().await {
            let app = TestApp::start(&db).await;
            let store = app.store.clone();
            f(app).await;
            store.close().await;
            db.drop().await;
        }
    }

    /// Creates an organization with one user holding `roles` and an all-scope token.
    pub async fn member(&self, org_name: &str, kind: OrganizationKind, roles: &[Role]) -> Member {
        let now = self.clock_now();
        let org = match self.store.organization_by_name(org_name).await {
            Ok(o) => o,
            Err(_) => service::create_organization(
                &self.store,
                None,
                NewOrganization {
                    name: org_name.into(),
                    kind,
                    country: "CN".into(),
                },
                now,
            )
            .await
            .expect("create org"),
        };
        let n = uuid::Uuid::new_v4().simple().to_string();
        let user = service::create_user(
            &self.store,
            None,
            &org.id,
            NewUser {
                email: format!("u{}@example.org", &n[..12]),
                display_name: "Test".into(),
                password: "correct horse battery".into(),
                roles: roles.to_vec(),
            },
            now,
        )
        .await
        .expect("create user");
        let token = self
            .token_for(
                &user,
                &[TokenScope::Read, TokenScope::Write, TokenScope::Admin],
            )
            .await;
        Member { org, user, token }
    }

    /// Creates an organization with one administrator and makes it a CNA named `short_name`
    /// with `id_quota`; returns the member and its CVE Services credentials.
    pub async fn cna(
        &self,
        org_name: &str,
        short_name: &str,
        id_quota: i64,
    ) -> (Member, CveCredentials) {
        let m = self
            .member(
                org_name,
                OrganizationKind::Provider,
                &[Role::OrgAdmin, Role::Member],
            )
            .await;
        service::cve::set_cna(
            &self.store,
            &m.org.id,
            short_name,
            id_quota,
            self.clock_now(),
        )
        .await
        .expect("set CNA");
        let creds = CveCredentials {
            org: short_name.into(),
            user: m.user.email.clone(),
            key: m.token.clone(),
        };
        (m, creds)
    }

    /// Sends a CVE Services request with `creds` as CVE-API-* headers.
    pub async fn call_cve(
        &self,
        method: &str,
        path: &str,
        creds: Option<&CveCredentials>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("/cve-services/api{path}"));
        if let Some(c) = creds {
            req = req
                .header("CVE-API-ORG", &c.org)
                .header("CVE-API-USER", &c.user)
                .header("CVE-API-KEY", &c.key);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn token_for(&self, user: &User, scopes: &[TokenScope]) -> String {
        service::create_token(
            &self.store,
            TokenIssuer::Operator,
            user,
            NewToken {
                name: "test".into(),
                scopes: scopes.to_vec(),
                expires_in_days: Some(30),
            },
            self.clock_now(),
        )
        .await
        .expect("token")
        .secret
    }

    /// The usual way to a published advisory: `vendor` files the Log4Shell report, `analyst`
    /// triages it, the vendor marks a fix available, the analyst opens a case (`title`) and
    /// publishes its advisory at `tlp` with a remediation. Returns (case id, advisory id).
    pub async fn publish_log4shell(
        &self,
        vendor: &Member,
        analyst: &Member,
        tlp: &str,
        title: &str,
    ) -> (String, String) {
        let (_, filed) = self
            .call(
                "POST",
                "/api/v1/reports?submit=true",
                Some(&vendor.token),
                Some(log4shell_report()),
            )
            .await;
        let id = filed["report"]["id"]
            .as_str()
            .expect("the report is filed")
            .to_owned();
        for (who, to) in [
            (&analyst.token, "triaged"),
            (&analyst.token, "coordinating"),
            (&vendor.token, "fix_available"),
        ] {
            let (s, t) = self
                .call(
                    "POST",
                    &format!("/api/v1/reports/{id}/transitions"),
                    Some(who),
                    Some(serde_json::json!({"to": to})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{to}: {t}");
        }
        let (_, case) = self
            .call(
                "POST",
                "/api/v1/cases",
                Some(&analyst.token),
                Some(serde_json::json!({"title": title, "report_ids": [id]})),
            )
            .await;
        let case_id = case["case"]["id"]
            .as_str()
            .expect("the case is opened")
            .to_owned();
        let body = serde_json::json!({"tlp": tlp, "summary": title, "remediation": "upgrade"});
        let (s, p) = self
            .call(
                "POST",
                &format!("/api/v1/cases/{case_id}/advisory"),
                Some(&analyst.token),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        (case_id, p["advisory"]["id"].as_str().unwrap().to_owned())
    }

    pub fn clock_now(&self) -> Timestamp {
        use vulnshare_server::Clock;
        self.clock.now()
    }

    /// Sends a request through the router; returns status and JSON body (Null if empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    /// Sends a raw request.
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let cve_services = req.uri().path().starts_with("/cve-services/");
        let taxii = req.uri().path().starts_with("/taxii2/");
        let res = vulnshare_server::router(self.state.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        if cve_services && (status.is_client_error() || status.is_server_error()) {
            // CVE Services' clients read {"error": CODE, "message": …}.
            assert_eq!(
                content_type.as_deref(),
                Some("application/json"),
                "{status} {bytes:?}"
            );
            let body: Value = serde_json::from_slice(&bytes).expect("CVE Services errors are JSON");
            assert!(
                body["error"].is_string() && body["message"].is_string(),
                "{body}"
            );
        } else if status.is_client_error() || status.is_server_error() {
            // TAXII answers with TAXII error messages, everything else with problem+json.
            let expected = if taxii {
                "application/taxii+json;version=2.1"
            } else {
                "application/problem+json"
            };
            assert_eq!(
                content_type.as_deref(),
                Some(expected),
                "errors are {expected}: {status} {bytes:?}"
            );
        }
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, json)
    }

    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }
}

/// A complete, submittable Log4Shell report body.
pub fn log4shell_report() -> Value {
    serde_json::from_str(vulnshare_server::demo::LOG4SHELL_REPORT).unwrap()
}
