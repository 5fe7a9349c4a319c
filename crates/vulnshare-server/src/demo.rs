//! Demo data: the organizations of the Log4Shell case, one user each, and the report the
//! provider filed. Seeded only into an empty platform.

use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_core::policy::Actor;
use vulnshare_core::report::ReportContent;
use vulnshare_core::token::{NewToken, TokenScope};
use vulnshare_core::user::{NewUser, Role};

use serde_json::json;

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
    let mut actors: std::collections::BTreeMap<&str, Actor> = std::collections::BTreeMap::new();
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
        actors.insert(
            name,
            Actor {
                user_id: user.id.clone(),
                org_id: org.id.clone(),
                org_kind: org.kind,
                membership_active: true,
                roles: user.roles.clone(),
                scopes: token.token.scopes.clone(),
            },
        );
        accounts.push(DemoAccount {
            organization: org.name,
            email: user.email,
            roles: user.roles,
            token: token.secret,
        });
    }
    let mut content: ReportContent =
        serde_json::from_str(LOG4SHELL_REPORT).expect("the demo report is valid JSON");
    // Replays the 2021 timeline on the server's clock: the platform hears of the flaw 15 days
    // after the provider did, so the 2-day duty is met 13 days late, as it was then. (Filing
    // the fixture's own 2021 date today would make the report years late.)
    let now = state.clock.now();
    content.aware_at = Some(now - jiff::SignedDuration::from_hours(24 * 15));
    content.awareness_evidence = Some(
        "E-mail to the Apache Logging security team 15 days before this report (the 2021 timeline)."
            .into(),
    );
    let log4shell = service::create_report(state, &actors["Alibaba Cloud"], content, true)
        .await?
        .report;
    seed_sharing(state, &actors, &log4shell.id).await?;
    Ok(accounts)
}

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("the demo's fixed values deserialize")
}

/// Cases and advisories (one TLP:AMBER, one public TLP:CLEAR) and upstream notifications that
/// leave one duty pending and one overdue, so every page of the web UI shows something real.
async fn seed_sharing(
    state: &AppState,
    actors: &std::collections::BTreeMap<&str, Actor>,
    log4shell_id: &str,
) -> AppResult<()> {
    let admin = &actors["Platform Operator"];
    let asf = &actors["Apache Software Foundation"];
    let now = state.clock.now();
    // Log4Shell: an AMBER case with the upstream provider, and an AMBER advisory.
    let case = service::open_case(
        state,
        admin,
        from_json(json!({"title": "Log4Shell (CVE-2021-44228)", "report_ids": [log4shell_id], "tlp": "AMBER"})),
    )
    .await?;
    service::add_participant(
        state,
        admin,
        &case.id,
        from_json(json!({"org_id": asf.org_id, "role": "upstream", "vulnerabilities": ["CVE-2021-44228"]})),
    )
    .await?;
    service::post_message(
        state,
        admin,
        &case.id,
        from_json(json!({"body": "Please confirm the affected log4j-core versions and the planned fix release."})),
    )
    .await?;
    service::publish(
        state,
        admin,
        &case.id,
        from_json(json!({"tlp": "AMBER", "summary": "Log4Shell: JNDI lookup RCE in log4j-core (members of the case)",
            "details": "Log4j 2 evaluates JNDI lookups in logged messages.",
            "remediation": "Upgrade log4j-core to 2.15.0 or later; remove JndiLookup.class meanwhile."})),
    )
    .await?;
    // CVE-2021-45046: the provider's own report with a fix, published as TLP:CLEAR.
    let content: ReportContent = serde_json::from_str(FOLLOW_UP_REPORT).expect("valid JSON");
    let follow_up = service::create_report(state, asf, content, true)
        .await?
        .report;
    for to in ["triaged", "coordinating"] {
        service::transition(state, admin, &follow_up.id, from_json(json!({"to": to}))).await?;
    }
    service::transition(
        state,
        asf,
        &follow_up.id,
        from_json(json!({"to": "fix_available"})),
    )
    .await?;
    let public_case = service::open_case(
        state,
        admin,
        from_json(json!({"title": "Incomplete fix for CVE-2021-44228 (CVE-2021-45046)", "report_ids": [follow_up.id], "tlp": "CLEAR"})),
    )
    .await?;
    service::publish(
        state,
        admin,
        &public_case.id,
        from_json(json!({"tlp": "CLEAR", "summary": "Apache Log4j 2: incomplete fix for CVE-2021-44228 in 2.15.0",
            "details": "Thread Context lookups in non-default pattern layouts can still reach JNDI in 2.15.0.",
            "remediation": "Upgrade to log4j-core 2.16.0 (Java 8) or 2.12.2 (Java 7)."})),
    )
    .await?;
    // Upstream notifications without a report start reporting clocks: the monitoring
    // institution's is due in two days; the operator's fell due days ago.
    service::record_upstream_notification(
        state,
        &actors["Monitoring Institution M"],
        from_json(
            json!({"notified_org": asf.org_id, "notified_at": now, "aware_at": now,
            "evidence": "Ticket ASF-SEC-1042", "aliases": ["CVE-2021-44832"]}),
        ),
    )
    .await?;
    let earlier = now - jiff::SignedDuration::from_hours(24 * 5);
    service::record_upstream_notification(
        state,
        &actors["Example Operator"],
        from_json(
            json!({"notified_org": asf.org_id, "notified_at": earlier, "aware_at": earlier,
            "evidence": "E-mail to the vendor", "aliases": ["CVE-2021-4104"]}),
        ),
    )
    .await?;
    // A product of the upstream provider that embeds log4j-core, for the SBOM upload page.
    service::create_product(
        &state.store,
        asf,
        &asf.org_id,
        from_json(json!({"name": "Apache Solr", "model": "solr", "versions": ["8.11.0"]})),
        now,
    )
    .await?;
    crate::sweeper::sweep_once(state, now).await?;
    Ok(())
}

/// The provider's follow-up report (public once fixed).
const FOLLOW_UP_REPORT: &str = r#"{
  "kind": "own_product",
  "title": "Incomplete fix for CVE-2021-44228 in Apache Log4j 2.15.0",
  "technical_characteristics": "Thread Context Map lookups in non-default pattern layouts reach JNDI despite the 2.15.0 allowlist.",
  "harm": "Information disclosure and remote code execution in some configurations.",
  "scope_of_impact": "Applications using log4j-core 2.15.0 with non-default pattern layouts.",
  "affected_products": [{"name": "Apache Log4j", "model": "log4j-core", "versions": ["2.0-beta9 to 2.15.0"]}],
  "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.12.2"}, {"introduced": "2.13.0"}, {"fixed": "2.16.0"}]}]}],
  "cvss_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H",
  "cwes": ["CWE-917"],
  "exploitation": "poc",
  "aware_at": "2021-12-10T00:00:00Z",
  "tlp": "CLEAR",
  "aliases": ["CVE-2021-45046"]
}"#;

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
