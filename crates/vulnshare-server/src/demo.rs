//! Demo data: the organizations of the Log4Shell case, one user each, and the report the
//! provider filed. Seeded only into an empty platform.

use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::policy::Actor;
use vulnshare_core::report::ReportContent;
use vulnshare_core::token::{NewToken, TokenScope};
use vulnshare_core::user::{NewUser, Role};

use crate::AppState;
use crate::error::AppResult;
use crate::service::{self, TokenIssuer};

/// Password of every demo user (the demo is for a laptop, never for production).
pub const DEMO_PASSWORD: &str = "vulnshare-demo-password";

/// One seeded account.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoAccount {
    /// The organization.
    pub organization: String,
    /// Login e-mail.
    pub email: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// A ready API token.
    pub token: String,
}

const ORGS: &[(&str, OrganizationKind, &str, &str, &[Role])] = &[
    (
        "Platform Operator",
        OrganizationKind::Coordinator,
        "CN",
        "admin@platform.example",
        &[Role::PlatformAdmin, Role::Analyst],
    ),
    (
        "MIIT (regulator)",
        OrganizationKind::Regulator,
        "CN",
        "regulator@miit.example",
        &[Role::Regulator],
    ),
    (
        "Alibaba Cloud",
        OrganizationKind::Provider,
        "CN",
        "security@alibaba-cloud.example",
        &[Role::OrgAdmin, Role::Member],
    ),
    (
        "Apache Software Foundation",
        OrganizationKind::Provider,
        "US",
        "security@apache.example",
        &[Role::OrgAdmin, Role::Member],
    ),
    (
        "Monitoring Institution M",
        OrganizationKind::MonitoringInstitution,
        "CN",
        "soc@monitor.example",
        &[Role::OrgAdmin, Role::Member],
    ),
    (
        "Example Operator",
        OrganizationKind::Operator,
        "CN",
        "it@operator.example",
        &[Role::OrgAdmin, Role::Member],
    ),
];

/// Seeds the demo if the platform has no organization yet; returns the accounts created.
pub async fn seed(state: &AppState) -> AppResult<Vec<DemoAccount>> {
    if state.store.organization_count().await? > 0 {
        return Ok(Vec::new());
    }
    let now = state.clock.now();
    let mut accounts = Vec::new();
    let mut alibaba: Option<Actor> = None;
    for (name, kind, country, email, roles) in ORGS {
        let org = service::create_organization(
            &state.store,
            None,
            NewOrganization {
                name: (*name).into(),
                kind: *kind,
                country: (*country).into(),
            },
            now,
        )
        .await?;
        let user = service::create_user(
            &state.store,
            None,
            &org.id,
            NewUser {
                email: (*email).into(),
                display_name: format!("{name} demo user"),
                password: DEMO_PASSWORD.into(),
                roles: roles.to_vec(),
            },
            now,
        )
        .await?;
        let token = service::create_token(
            &state.store,
            TokenIssuer::Operator,
            &user,
            NewToken {
                name: "demo".into(),
                scopes: vec![TokenScope::Read, TokenScope::Write, TokenScope::Admin],
                expires_in_days: Some(30),
            },
            now,
        )
        .await?;
        if *name == "Alibaba Cloud" {
            alibaba = Some(Actor {
                user_id: user.id.clone(),
                org_id: org.id.clone(),
                org_kind: org.kind,
                membership_active: true,
                roles: user.roles.clone(),
                scopes: token.token.scopes.clone(),
            });
        }
        accounts.push(DemoAccount {
            organization: org.name,
            email: user.email,
            roles: user.roles,
            token: token.secret,
        });
    }
    if let Some(actor) = alibaba {
        let content: ReportContent =
            serde_json::from_str(LOG4SHELL_REPORT).expect("the demo report is valid JSON");
        service::create_report(state, &actor, content, true).await?;
    }
    Ok(accounts)
}

/// The Log4Shell report as the provider that found it would file it.
pub const LOG4SHELL_REPORT: &str = r#"{
  "kind": "upstream_component",
  "title": "Remote code execution through JNDI lookups in Apache Log4j 2 (log4j-core)",
  "technical_characteristics": "Log4j 2 evaluates ${} lookups in logged messages; a ${jndi:ldap://host/x} string makes the JVM fetch and run a remote class.",
  "harm": "Unauthenticated remote code execution with the privileges of the logging application.",
  "scope_of_impact": "Every Java application that logs attacker-controlled text with log4j-core 2.0-beta9 to 2.14.1; widely embedded in products and services.",
  "affected_products": [{"vendor": "Apache Software Foundation", "name": "Apache Log4j", "model": "log4j-core", "versions": ["2.0-beta9 to 2.14.1"]}],
  "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
    "purl": "pkg:maven/org.apache.logging.log4j/log4j-core",
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.3.1"}, {"introduced": "2.4"}, {"fixed": "2.12.2"}, {"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
  "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
  "cwes": ["CWE-917", "CWE-502", "CWE-20"],
  "exploitation": "poc",
  "aware_at": "2021-11-24T02:00:00Z",
  "awareness_evidence": "E-mail to the Apache Logging security team, 2021-11-24 (Asia/Shanghai).",
  "tlp": "AMBER",
  "aliases": ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]
}"#;
