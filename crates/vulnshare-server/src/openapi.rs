//! The OpenAPI 3.1 document of API v1, served at `/api/v1/openapi.json`. A test checks that it
//! lists exactly the routes the router serves.

use serde_json::{Map, Value, json};

use crate::routes::ROUTES;

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema_ref(name)}}})
}

/// The media type and schema of an error answer on `path`: each interop API answers in its own
/// dialect (CVE Services `{error, message}`, TAXII 2.1 error objects), the rest problem+json.
fn error_content(path: &str) -> Value {
    if path.starts_with("/cve-services/") {
        json!({"application/json": {"schema": schema_ref("CveServicesError")}})
    } else if path.starts_with("/taxii2/") {
        json!({crate::routes::taxii::protocol::TAXII_MEDIA_TYPE: {"schema": schema_ref("TaxiiError")}})
    } else {
        json!({"application/problem+json": {"schema": schema_ref("Problem")}})
    }
}

fn ok(path: &str, status: &str, name: Option<&str>) -> Value {
    let mut responses = Map::new();
    let content = name.map(|n| json!({"application/json": {"schema": schema_ref(n)}}));
    let mut r = json!({"description": "success"});
    if let Some(c) = content {
        r["content"] = c;
    }
    responses.insert(status.into(), r);
    for (code, text) in [
        ("400", "malformed body or query"),
        ("401", "missing or invalid token"),
        ("403", "not allowed"),
        ("404", "not found or not visible"),
        ("409", "conflicts with the current state"),
        ("413", "body too large"),
        ("422", "invalid fields"),
        (
            "429",
            "too many requests from this address or credential; see Retry-After",
        ),
    ] {
        responses.insert(
            code.into(),
            json!({"description": text, "content": error_content(path)}),
        );
    }
    Value::Object(responses)
}

/// What each operation takes and returns: (summary, request schema, success status, response schema, public).
fn operation(
    method: &str,
    path: &str,
) -> (
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    bool,
) {
    match (method, path) {
        ("GET", "/api/v1/health") => (
            "Check that the server and database answer",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/api/v1/openapi.json") => ("This document", None, "200", None, true),
        ("GET", "/api/v1/platform/public-key") => (
            "The Ed25519 key that signs receipts",
            None,
            "200",
            Some("PublicKey"),
            true,
        ),
        ("GET", "/api/v1/receipts/verify") => (
            "Verify a receipt passed as the `receipt` query parameter (URL-encoded JSON)",
            None,
            "200",
            Some("ReceiptVerification"),
            true,
        ),
        ("POST", "/api/v1/receipts/verify") => (
            "Verify a receipt",
            Some("Receipt"),
            "200",
            Some("ReceiptVerification"),
            true,
        ),
        ("POST", "/api/v1/auth/token") => (
            "Sign in with e-mail and password; returns an API token",
            Some("SignIn"),
            "201",
            Some("IssuedToken"),
            true,
        ),
        ("GET", "/api/v1/me") => (
            "The caller, their organization and token scopes",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/organizations") => ("The member directory", None, "200", None, false),
        ("POST", "/api/v1/organizations") => (
            "Create an organization (platform administrators)",
            Some("NewOrganization"),
            "201",
            Some("Organization"),
            false,
        ),
        ("GET", "/api/v1/organizations/{id}") => {
            ("One organization", None, "200", Some("Organization"), false)
        }
        ("GET", "/api/v1/organizations/{id}/users") => {
            ("An organization's users", None, "200", None, false)
        }
        ("POST", "/api/v1/organizations/{id}/users") => (
            "Create a user (organization or platform administrators)",
            Some("NewUser"),
            "201",
            Some("User"),
            false,
        ),
        ("PATCH", "/api/v1/users/{id}") => (
            "Disable or enable a user",
            Some("UserPatch"),
            "200",
            Some("User"),
            false,
        ),
        ("GET", "/api/v1/tokens") => ("The caller's tokens", None, "200", None, false),
        ("POST", "/api/v1/tokens") => (
            "Create a token (needs the admin scope)",
            Some("NewToken"),
            "201",
            Some("IssuedToken"),
            false,
        ),
        ("DELETE", "/api/v1/tokens/{id}") => (
            "Revoke one of the caller's tokens",
            None,
            "204",
            None,
            false,
        ),
        ("GET", "/api/v1/organizations/{id}/products") => {
            ("An organization's products", None, "200", None, false)
        }
        ("POST", "/api/v1/organizations/{id}/products") => (
            "Register a product",
            Some("NewProduct"),
            "201",
            Some("Product"),
            false,
        ),
        ("GET", "/api/v1/products/{id}") => ("One product", None, "200", Some("Product"), false),
        ("PUT", "/api/v1/products/{id}") => (
            "Replace a product's name, model and versions",
            Some("NewProduct"),
            "200",
            Some("Product"),
            false,
        ),
        ("GET", "/api/v1/reports") => (
            "List reports (filters: state, kind, tlp, reporter_org, alias, ecosystem+package, q, received_from, received_until; cursor, limit)",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/reports") => (
            "File a report; with ?submit=true submit it at once and get a signed receipt",
            Some("ReportContent"),
            "201",
            Some("Filed"),
            false,
        ),
        ("GET", "/api/v1/reports/{id}") => (
            "One report with its CVSS score and missing CN Art. 7(2) content",
            None,
            "200",
            None,
            false,
        ),
        ("PUT", "/api/v1/reports/{id}") => (
            "Replace a draft's content",
            Some("ReportContent"),
            "200",
            Some("Report"),
            false,
        ),
        ("POST", "/api/v1/reports/{id}/transitions") => (
            "Move a report to another state (submitting returns a receipt)",
            Some("Transition"),
            "200",
            Some("Filed"),
            false,
        ),
        ("GET", "/api/v1/reports/{id}/receipt") => (
            "The signed receipt of a submitted report",
            None,
            "200",
            Some("Receipt"),
            false,
        ),
        ("GET", "/api/v1/audit") => (
            "Audit entries (regulator, platform administrators)",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/audit/verify") => {
            ("Verify the audit hash chain", None, "200", None, false)
        }
        ("GET", "/api/v1/regimes") => (
            "The reporting regimes the platform knows (built-in and uploaded), with their rules",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/regimes") => (
            "Upload a custom regime (platform administrators); body is the TOML document, or JSON with Content-Type application/json; a bad document is refused with 422 naming the line",
            None,
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/organizations/{id}/regimes") => (
            "The regimes an organization is under and its CN 2-day interpretation",
            None,
            "200",
            Some("RegimeSettings"),
            false,
        ),
        ("PUT", "/api/v1/organizations/{id}/regimes") => (
            "Choose an organization's regimes (platform or organization administrators)",
            Some("RegimeChoice"),
            "200",
            Some("RegimeSettings"),
            false,
        ),
        ("GET", "/api/v1/organizations/{id}/obligations") => (
            "An organization's obligations with countdowns and content checklists (?status=, ?format=csv)",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/upstream-notifications") => (
            "Record that your organization notified an upstream provider (proves awareness, fulfils the notify-upstream duty)",
            Some("NewUpstreamNotification"),
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/compliance") => (
            "Platform-wide compliance (regulator): per-organization on-time rate and median lateness, overdue list (?format=csv)",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/violations") => (
            "Recorded violations (regulator; ?organization=, ?format=csv)",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/organizations/{id}/sanctions") => (
            "Sanction decisions about an organization and its membership",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/organizations/{id}/sanctions") => (
            "Decide a warning, suspension for N months, expulsion or reinstatement (regulator)",
            Some("SanctionRequest"),
            "201",
            Some("SanctionDecision"),
            false,
        ),
        ("GET", "/api/v1/notifications") => (
            "Your in-app notifications: deadline reminders, violations, sanctions (?unread=true)",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/notifications/{id}/read") => {
            ("Mark a notification read", None, "204", None, false)
        }
        ("GET", "/api/v1/cases") => (
            "Cases the caller takes part in (all for staff)",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/cases") => (
            "Open a coordinated-disclosure case for submitted reports",
            Some("NewCase"),
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/cases/{id}") => (
            "A case: participants, vendor statuses, embargo in its time zone, silent vendors",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/cases/{id}/participants") => (
            "Add a participant (coordinator; CN Art. 9(7) applies abroad)",
            Some("NewParticipant"),
            "200",
            None,
            false,
        ),
        ("PUT", "/api/v1/cases/{id}/vendors/{org_id}") => (
            "State a vendor's status for one vulnerability",
            Some("VendorStatement"),
            "200",
            None,
            false,
        ),
        ("PUT", "/api/v1/cases/{id}/embargo") => (
            "Set or lift the embargo",
            Some("EmbargoBody"),
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/cases/{id}/early-publication") => (
            "The regulator approves publication before a fix or the embargo's end",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/cases/{id}/messages") => (
            "Messages of a case the caller may read",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/cases/{id}/messages") => (
            "Post a message to all participants or some organizations",
            Some("NewMessage"),
            "201",
            None,
            false,
        ),
        ("POST", "/api/v1/cases/{id}/advisory") => (
            "Publish the case's advisory (publication gates apply; refusals say why)",
            Some("NewAdvisory"),
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/cases/{id}/attachments") => {
            ("The case's attachments", None, "200", None, false)
        }
        ("POST", "/api/v1/cases/{id}/attachments") => (
            "Attach a file (base64, <= 4 MiB; flag exploit code, which never goes public)",
            Some("NewAttachment"),
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/cases/{id}/attachments/{attachment_id}") => {
            ("Download an attachment", None, "200", None, false)
        }
        ("GET", "/api/v1/advisories") => (
            "Advisories the caller may read (TLP:CLEAR without a token)",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/api/v1/advisories/{id}") => (
            "One advisory (TLP:CLEAR without a token)",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/api/v1/advisories/{id}/history") => {
            ("Every version of an advisory", None, "200", None, true)
        }
        ("POST", "/api/v1/advisories/{id}/withdraw") => (
            "Withdraw an advisory, with a reason",
            Some("Withdrawal"),
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/products/{id}/sboms") => {
            ("SBOMs uploaded for a product", None, "200", None, false)
        }
        ("POST", "/api/v1/products/{id}/sboms") => (
            "Upload a CycloneDX 1.4-1.6 or SPDX 2.3 JSON SBOM (?version=) and match it against advisories",
            None,
            "201",
            None,
            false,
        ),
        ("GET", "/api/v1/products/{id}/sboms/{sbom_id}") => (
            "One uploaded SBOM with its components, or with ?format=cyclonedx|spdx exported as CycloneDX 1.6 or SPDX 2.3 JSON",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/organizations/{id}/exposures") => (
            "Where the organization's SBOMs are affected by advisories",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/subscriptions") => (
            "Your organization's active subscriptions",
            None,
            "200",
            None,
            false,
        ),
        ("POST", "/api/v1/subscriptions") => (
            "Subscribe by purl prefix, product, CWE or severity; webhooks get an HMAC secret (shown once)",
            Some("NewSubscription"),
            "201",
            None,
            false,
        ),
        ("DELETE", "/api/v1/subscriptions/{id}") => {
            ("Switch a subscription off", None, "204", None, false)
        }
        ("GET", "/api/v1/subscriptions/{id}/deliveries") => (
            "A subscription's deliveries and their state",
            None,
            "200",
            None,
            false,
        ),
        ("GET", "/api/v1/advisories/{id}/csaf") => (
            "An advisory as a CSAF 2.0 document (?category=vex for VEX)",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/.well-known/csaf/provider-metadata.json") => {
            ("CSAF provider metadata", None, "200", None, true)
        }
        ("GET", "/.well-known/csaf/white/index.txt") => (
            "Public CSAF documents, one path per line",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/.well-known/csaf/white/changes.csv") => (
            "Public CSAF documents by last change",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/.well-known/csaf/white/csaf-feed-tlp-white.json") => (
            "ROLIE feed of the public CSAF documents",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/.well-known/csaf/white/{year}/{file}") => (
            "A public CSAF document, or its .sha256/.sha512 or OpenPGP signature .asc",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/.well-known/csaf/openpgp/{file}") => (
            "The OpenPGP public key that signs the CSAF documents, as {fingerprint}.asc",
            None,
            "200",
            None,
            true,
        ),
        ("POST", "/osv/v1/query") => (
            "osv.dev-compatible query by package and version (TLP:CLEAR without a token)",
            None,
            "200",
            None,
            true,
        ),
        ("POST", "/osv/v1/querybatch") => (
            "osv.dev-compatible batch query (<= 1000; ?full=true for full records)",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/osv/v1/vulns/{id}") => ("One advisory as an OSV record", None, "200", None, true),
        ("GET", "/osv/v1/ecosystems/{id}/all.zip") => (
            "Every visible advisory of an ecosystem as OSV JSON files in a zip",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/cve-services/api/health-check") => (
            "CVE Services: check that the server answers",
            None,
            "200",
            None,
            true,
        ),
        ("GET", "/cve-services/api/cve_count") => (
            "CVE Services: how many PUBLISHED and REJECTED records there are (state)",
            None,
            "200",
            None,
            true,
        ),
        (_, p) if p.starts_with("/cve-services/api/") => {
            (cve_services_summary(method, p), None, "200", None, false)
        }
        (method, path) if path.starts_with("/taxii2/") => {
            crate::routes::taxii_operation(method, path)
        }
        _ => ("", None, "200", None, false),
    }
}

/// Summaries of the CVE Services-compatible routes, which authenticate with the CVE-API-ORG,
/// CVE-API-USER and CVE-API-KEY headers and answer errors as `{"error", "message"}`.
fn cve_services_summary(method: &str, path: &str) -> &'static str {
    match (method, path.trim_start_matches("/cve-services/api")) {
        ("POST", "/cve-id") => {
            "CVE Services: reserve CVE ids (amount, cve_year, short_name, batch_type)"
        }
        ("GET", "/cve-id") => {
            "CVE Services: the CNA's CVE ids (state, cve_id_year, time_reserved.lt/gt, time_modified.lt/gt, page)"
        }
        ("GET", "/cve-id/{id}") => "CVE Services: one CVE id (RESERVED ones to their owner only)",
        ("PUT", "/cve-id/{id}") => {
            "CVE Services: reject or un-reject an id without a record (state), or transfer it to another CNA (org)"
        }
        ("GET", "/cve/{id}") => {
            "CVE Services: the CVE JSON 5.1 record of a published or rejected id"
        }
        ("POST", "/cve/{id}/cna") => "CVE Services: publish a CNA container",
        ("PUT", "/cve/{id}/cna") => "CVE Services: update a published CNA container",
        ("POST", "/cve/{id}/reject") => "CVE Services: reject an id with a rejected CNA container",
        ("PUT", "/cve/{id}/reject") => "CVE Services: update a rejected CNA container",
        ("GET", "/org/{short_name}") => "CVE Services: the caller's organization",
        ("GET", "/org/{short_name}/id_quota") => "CVE Services: the CNA's id quota",
        ("GET", "/org/{short_name}/users") => "CVE Services: the CNA's users",
        ("POST", "/org/{short_name}/user") => "CVE Services: create a user with an API key (ADMIN)",
        ("GET", "/org/{short_name}/user/{username}") => "CVE Services: one user",
        ("PUT", "/org/{short_name}/user/{username}") => {
            "CVE Services: update a user (active, name, ADMIN role)"
        }
        ("PUT", "/org/{short_name}/user/{username}/reset_secret") => {
            "CVE Services: replace a user's API key"
        }
        _ => "",
    }
}

fn schemas() -> Value {
    let text = json!({"type": "string"});
    let time = json!({"type": "string", "format": "date-time"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let report_content = json!({
        "kind": {"enum": ["own_product", "upstream_component", "third_party_observation", "threat"]},
        "title": text, "technical_characteristics": text, "harm": text, "scope_of_impact": text,
        "affected_products": {"type": "array", "items": schema_ref("AffectedProduct")},
        "affected_packages": {"type": "array", "items": schema_ref("AffectedPackage")},
        "cvss_vector": {"type": ["string", "null"]}, "cwes": strings, "exploitation": {"enum": ["none", "poc", "exploited_in_wild"]},
        "aware_at": {"type": ["string", "null"], "format": "date-time"}, "awareness_evidence": {"type": ["string", "null"]},
        "tlp": {"enum": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]}, "aliases": strings});
    let nullable_time = json!({"type": ["string", "null"], "format": "date-time"});
    let mut report = report_content.clone();
    for (name, schema) in [
        ("id", text.clone()),
        ("reporter_org_id", text.clone()),
        ("created_by", text.clone()),
        (
            "state",
            json!({"enum": ["draft", "submitted", "triaged", "coordinating", "fix_available", "published", "closed", "rejected", "duplicate"]}),
        ),
        ("duplicate_of", json!({"type": ["string", "null"]})),
        ("rejection_reason", json!({"type": ["string", "null"]})),
        ("received_at", nullable_time.clone()),
        ("created_at", time.clone()),
        ("updated_at", time.clone()),
    ] {
        report[name] = schema;
    }
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
            "type": text, "title": text, "status": {"type": "integer"}, "detail": text,
            "errors": {"type": "array", "items": {"type": "object", "properties": {"field": text, "message": text}}}}},
        "CveServicesError": {"type": "object", "required": ["error", "message"], "properties": {"error": text, "message": text}},
        "TaxiiError": {"type": "object", "required": ["title"], "properties": {"title": text, "description": text, "http_status": text}},
        "PublicKey": {"type": "object", "properties": {"algorithm": text, "key_id": text, "public_key": text}},
        "Receipt": {"type": "object", "additionalProperties": false, "required": ["version", "report_id", "content_hash", "received_at", "key_id", "signature"], "properties": {
            "version": {"type": "integer"}, "report_id": text, "content_hash": text, "received_at": time, "key_id": text, "signature": text}},
        "ReceiptVerification": {"type": "object", "properties": {"valid": {"type": "boolean"}, "key_id": text, "error": text}},
        "SignIn": {"type": "object", "additionalProperties": false, "required": ["email", "password"], "properties": {
            "email": text, "password": text, "token": schema_ref("NewToken")}},
        "NewToken": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": text, "scopes": {"type": "array", "items": {"enum": ["read", "write", "admin"]}}, "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 366}}},
        "IssuedToken": {"type": "object", "properties": {"id": text, "user_id": text, "name": text, "scopes": strings, "created_at": time, "expires_at": time, "secret": text}},
        "NewOrganization": {"type": "object", "additionalProperties": false, "required": ["name", "kind", "country"], "properties": {
            "name": text, "kind": {"enum": ["provider", "operator", "researcher", "monitoring_institution", "regulator", "coordinator"]}, "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"}}},
        "Organization": {"type": "object", "properties": {"id": text, "name": text, "kind": text, "country": text, "membership": {"type": "object"}, "created_at": time}},
        "NewUser": {"type": "object", "additionalProperties": false, "required": ["email", "display_name", "password"], "properties": {
            "email": text, "display_name": text, "password": {"type": "string", "minLength": 12},
            "roles": {"type": "array", "items": {"enum": ["member", "org_admin", "analyst", "regulator", "platform_admin"]}}}},
        "User": {"type": "object", "properties": {"id": text, "organization_id": text, "email": text, "display_name": text, "roles": strings, "disabled": {"type": "boolean"}, "created_at": time}},
        "UserPatch": {"type": "object", "additionalProperties": false, "required": ["disabled"], "properties": {"disabled": {"type": "boolean"}}},
        "NewProduct": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": text, "model": text, "versions": strings}},
        "Product": {"type": "object", "properties": {"id": text, "organization_id": text, "name": text, "model": text, "versions": strings, "created_at": time}},
        "AffectedPackage": {"type": "object", "additionalProperties": false, "required": ["ecosystem", "name"], "properties": {
            "ecosystem": {"enum": ["Maven", "npm", "PyPI", "crates.io", "Go", "Debian"]}, "name": text, "purl": text,
            "ranges": {"type": "array", "items": {"type": "object", "required": ["type", "events"], "properties": {
                "type": {"enum": ["SEMVER", "ECOSYSTEM", "GIT"]}, "repo": text,
                "events": {"type": "array", "items": {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
                    "introduced": text, "fixed": text, "last_affected": text, "limit": text}}}}}},
            "versions": strings}},
        "AffectedProduct": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "vendor": text, "name": text, "model": text, "versions": strings, "product_id": text}},
        "ReportContent": {"type": "object", "additionalProperties": false, "required": ["kind", "title"], "properties": report_content.clone()},
        // A stored report: the content's fields and the server's (a report is read, not
        // posted, so other fields are not an error here).
        "Report": {"type": "object", "required": ["id", "kind", "title", "state"], "properties": report},
        "Filed": {"type": "object", "properties": {"report": schema_ref("Report"), "receipt": schema_ref("Receipt")}},
        "RegimeChoice": {"type": "object", "additionalProperties": false, "required": ["regimes"], "properties": {
            "regimes": strings, "cn_interpretation": {"enum": ["stricter_of", "civil_code", "strict_hours"]}}},
        "RegimeSettings": {"type": "object", "properties": {"organization_id": text, "regimes": strings,
            "cn_interpretation": {"enum": ["stricter_of", "civil_code", "strict_hours"]}, "default": {"type": "boolean"}, "updated_by": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"], "format": "date-time"}}},
        "NewUpstreamNotification": {"type": "object", "additionalProperties": false, "required": ["notified_org", "notified_at", "evidence"], "properties": {
            "report_id": text, "notified_org": text, "notified_at": time, "aware_at": time, "evidence": text, "aliases": strings,
            "packages": {"type": "array", "items": {"type": "object", "required": ["ecosystem", "name"], "properties": {"ecosystem": text, "name": text}}},
            "kind": {"enum": ["own_product", "upstream_component", "third_party_observation", "threat"]},
            "exploitation": {"enum": ["none", "poc", "exploited_in_wild"]}}},
        "SanctionRequest": {"type": "object", "additionalProperties": false, "required": ["kind", "reason"], "properties": {
            "kind": {"enum": ["warning", "suspension", "expulsion", "reinstatement"]}, "months": {"type": "integer", "minimum": 1, "maximum": 60},
            "reason": text, "violation_ids": strings}},
        "SanctionDecision": {"type": "object", "properties": {"id": text, "organization_id": text, "kind": text, "months": {"type": "integer"},
            "reason": text, "violation_ids": strings, "decided_by": text, "decided_by_org_id": text, "decided_at": time,
            "effective_from": time, "effective_until": time}},
        "NewCase": {"type": "object", "additionalProperties": false, "required": ["title", "report_ids"], "properties": {
            "title": text, "report_ids": strings, "tlp": {"enum": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]},
            "embargo": {"type": "object", "properties": {"ends_at": time, "time_zone": text}}}},
        "NewParticipant": {"type": "object", "additionalProperties": false, "required": ["org_id", "role"], "properties": {
            "org_id": text, "role": {"enum": ["reporter", "vendor", "upstream", "coordinator"]}, "named_users": strings, "vulnerabilities": strings}},
        "VendorStatement": {"type": "object", "additionalProperties": false, "required": ["vulnerability", "status"], "properties": {
            "vulnerability": text, "status": {"enum": ["affected", "not_affected", "under_investigation", "unknown"]}, "statement": text, "tracking_id": text}},
        "EmbargoBody": {"type": "object", "additionalProperties": false, "properties": {"embargo": {"type": ["object", "null"]}}},
        "NewMessage": {"type": "object", "additionalProperties": false, "required": ["body"], "properties": {"body": text, "audience": {"type": "object"}}},
        "NewAdvisory": {"type": "object", "additionalProperties": false, "required": ["tlp", "summary"], "properties": {
            "tlp": {"enum": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]}, "summary": text, "details": text, "remediation": text, "credits": strings}},
        "NewSubscription": {"type": "object", "additionalProperties": false, "required": ["channel"], "properties": {
            "channel": {"enum": ["webhook", "inbox"]}, "url": text,
            "filter": {"type": "object", "additionalProperties": false, "properties": {"purl_prefix": text, "cwe": text, "min_severity": {"enum": ["low", "medium", "high", "critical"]}, "product_id": text}}}},
        "NewAttachment": {"type": "object", "additionalProperties": false, "required": ["name", "content_base64"], "properties": {
            "name": text, "media_type": text, "content_base64": text, "exploit_code": {"type": "boolean"}}},
        "Withdrawal": {"type": "object", "additionalProperties": false, "required": ["reason"], "properties": {"reason": text}},
        "Transition": {"type": "object", "additionalProperties": false, "required": ["to"], "properties": {
            "to": {"enum": ["submitted", "triaged", "coordinating", "fix_available", "published", "closed", "rejected", "duplicate"]}, "reason": text, "duplicate_of": text}},
    })
}

/// Builds the document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path) in ROUTES {
        let (summary, request, status, response, public) = operation(method, path);
        let mut op = json!({
            "summary": summary,
            "operationId": format!("{}_{}", method.to_ascii_lowercase(), path.trim_start_matches("/api/v1/").trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
            "responses": ok(path, status, response),
        });
        if let Some(r) = request {
            op["requestBody"] = body(r);
        }
        if *path == "/api/v1/health" {
            op["responses"]["503"] = json!({"description": "the database is unavailable", "content": {"application/problem+json": {"schema": schema_ref("Problem")}}});
        }
        if public {
            op["security"] = json!([]);
        } else if path.starts_with("/cve-services/api/") {
            op["security"] = json!([{"cveApiOrg": [], "cveApiUser": [], "cveApiKey": []}]);
        }
        let parameters: Vec<_> = [
            "id",
            "org_id",
            "attachment_id",
            "sbom_id",
            "year",
            "file",
            "short_name",
            "username",
            "object_id",
            "status_id",
        ]
        .iter()
        .filter(|p| path.contains(&format!("{{{p}}}")))
        .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
        if !parameters.is_empty() {
            op["parameters"] = json!(parameters);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "vulnshare API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Vulnerability and threat information sharing platform. Errors are RFC 9457 problem+json, except on the CVE Services API (`{error, message}`, as CVE Services answers) and TAXII 2.1 (TAXII error objects)."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "API token (vs_…) from POST /api/v1/auth/token"},
                "cveApiOrg": {"type": "apiKey", "in": "header", "name": "CVE-API-ORG", "description": "CVE Services: the CNA's short name"},
                "cveApiUser": {"type": "apiKey", "in": "header", "name": "CVE-API-USER", "description": "CVE Services: the username (e-mail)"},
                "cveApiKey": {"type": "apiKey", "in": "header", "name": "CVE-API-KEY", "description": "CVE Services: an API token (vs_…) of that user"},
            },
            "schemas": schemas(),
        },
        "security": [{"bearer": []}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_a_summary() {
        let doc = document();
        for (method, path) in ROUTES {
            let op = &doc["paths"][*path][method.to_ascii_lowercase()];
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(doc["components"]["schemas"][&name].is_object(), "{name}");
        }
    }
}
