//! STIX 2.1 building blocks shared by everything vulnshare emits or accepts as STIX: the OASIS
//! TLP 2.0 marking definitions, timestamps, object ids, pattern literals, and the check every
//! object posted to the TAXII server passes ([`check_object`]).
//!
//! The TLP 2.0 markings are not predefined in STIX 2.1 (its four predefined markings are TLP 1.0,
//! and TLP 1.0 AMBER means something else). OASIS publishes them as objects using the property
//! extension `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`
//! (cti-stix-common-objects, `extension-definition-specifications/tlp-2.0`); their ids and
//! `created` time are fixed by that publication, and consumers recognize them by id, so they are
//! copied here verbatim.
//!
//! - [`export`]: published advisories and threat reports as STIX objects.

pub mod export;

use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::{Value, json};
use uuid::Uuid;
use vulnshare_core::tlp::Tlp;

/// The OASIS extension definition that TLP 2.0 marking definitions declare.
pub const TLP_2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The `created` time of every OASIS TLP 2.0 marking definition.
pub const TLP_2_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The media type of a STIX 2.1 object or bundle.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The namespace STIX 2.1 (section 2.9) fixes for deterministic UUIDv5 ids of cyber observables.
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// vulnshare's own namespace for the ids of objects it derives from its records, so that an
/// advisory keeps one STIX id across exports and its versions line up.
const VULNSHARE_NAMESPACE: Uuid = Uuid::from_u128(0x5d1c_58a4_07b6_4c1e_9a55_7f3e_2c0d_9b41);

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

/// The label a TLP marking-definition id stands for: the OASIS TLP 2.0 ids, and the STIX 2.1
/// predefined TLP 1.0 ids (1.0 WHITE is read as CLEAR, 1.0 AMBER as 2.0 AMBER).
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    let tlp_1 = [
        (
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
            Tlp::Clear,
        ),
        (
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            Tlp::Green,
        ),
        (
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            Tlp::Amber,
        ),
        (
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
            Tlp::Red,
        ),
    ];
    [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ]
    .into_iter()
    .find(|t| tlp_marking_id(*t) == id)
    .or_else(|| tlp_1.iter().find(|(i, _)| *i == id).map(|(_, t)| *t))
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

/// RFC 3339 in UTC with milliseconds, as STIX examples write timestamps.
pub fn stix_time(time: Timestamp) -> String {
    format!(
        "{}.{:03}Z",
        time.strftime("%Y-%m-%dT%H:%M:%S"),
        time.subsec_millisecond().max(0)
    )
}

/// A STIX timestamp: RFC 3339 in UTC (`Z`), with or without fractional seconds.
pub fn parse_stix_time(text: &str) -> Option<Timestamp> {
    if !text.ends_with('Z') || text.len() < 20 || text.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    text.parse().ok()
}

/// A fresh random id for an object of `kind`.
pub fn random_id(kind: &str) -> String {
    format!("{kind}--{}", Uuid::new_v4())
}

/// The id vulnshare gives the object of `kind` it derives from the record named `source`
/// (e.g. `advisory:VSA-2021-00001`): the same every time. STIX asks for UUIDv4 ids on domain
/// objects, so the name-based hash is stamped as version 4 (it is as unpredictable as random).
pub fn derived_id(kind: &str, source: &str) -> String {
    let hashed = Uuid::new_v5(&VULNSHARE_NAMESPACE, format!("{kind}|{source}").as_bytes());
    let v4 = uuid::Builder::from_random_bytes(hashed.into_bytes()).into_uuid();
    format!("{kind}--{v4}")
}

/// A cyber-observable id from its id-contributing properties (STIX 2.1 section 2.9).
pub fn observable_id(kind: &str, contributing: &Value) -> String {
    let canonical = serde_json::to_string(contributing).expect("JSON values serialize");
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// Quotes a value for a STIX pattern string literal.
pub fn pattern_literal(value: &str) -> String {
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

/// The STIX 2.1 cyber-observable types: they carry no `created`/`modified`.
const OBSERVABLE_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Largest single object accepted, in bytes of JSON.
pub const MAX_OBJECT_BYTES: usize = 256 * 1024;

/// What identifies one posted object's version, once it passed [`check_object`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedObject {
    /// `type--uuid`.
    pub id: String,
    /// The object's type.
    pub object_type: String,
    /// Its version: `modified`, else `created`; `None` for objects without either
    /// (cyber observables), which are versioned by the time the server adds them.
    pub version: Option<String>,
    /// The most restrictive TLP marking it carries, if any.
    pub tlp: Option<Tlp>,
}

/// Checks that `object` is a STIX 2.1 object a TAXII collection can hold: a `type` and a
/// matching `type--UUID` id, `spec_version` 2.1, `created`/`modified` on domain and relationship
/// objects, the required indicator properties, and no bundle nested inside. The message says
/// what to fix.
pub fn check_object(object: &Value) -> Result<CheckedObject, String> {
    let Some(map) = object.as_object() else {
        return Err("each entry of objects must be a JSON object".into());
    };
    let object_type = map
        .get("type")
        .and_then(Value::as_str)
        .ok_or("the object has no type")?;
    let type_ok = (3..=250).contains(&object_type.len())
        && object_type
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !object_type.starts_with('-')
        && !object_type.contains("--");
    if !type_ok {
        return Err(format!(
            "type {object_type:?} is not a STIX type: 3-250 lowercase letters, digits and single hyphens"
        ));
    }
    if object_type == "bundle" {
        return Err("a bundle cannot be stored as an object: post its objects".into());
    }
    let id = map
        .get("id")
        .and_then(Value::as_str)
        .ok_or("the object has no id")?;
    let uuid_ok = id
        .strip_prefix(object_type)
        .and_then(|rest| rest.strip_prefix("--"))
        .is_some_and(|u| u.len() == 36 && Uuid::parse_str(u).is_ok());
    if !uuid_ok {
        return Err(format!("id {id:?} must be \"{object_type}--\" and a UUID"));
    }
    if map.get("spec_version").and_then(Value::as_str) != Some("2.1") {
        return Err(format!("{id}: spec_version must be \"2.1\""));
    }
    let time = |name: &str| -> Result<Option<Timestamp>, String> {
        match map.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(parse_stix_time)
                .map(Some)
                .ok_or_else(|| {
                    format!("{id}: {name} must be a UTC timestamp like 2021-12-10T08:00:00.000Z")
                }),
        }
    };
    let created = time("created")?;
    let modified = time("modified")?;
    let observable = OBSERVABLE_TYPES.contains(&object_type);
    if !observable {
        if created.is_none() {
            return Err(format!("{id}: a {object_type} needs created"));
        }
        if modified.is_none() && object_type != "marking-definition" {
            return Err(format!("{id}: a {object_type} needs modified"));
        }
    }
    if let (Some(c), Some(m)) = (created, modified)
        && m < c
    {
        return Err(format!("{id}: modified is earlier than created"));
    }
    if object_type == "indicator" {
        for field in ["pattern", "pattern_type", "valid_from"] {
            if !map.get(field).is_some_and(Value::is_string) {
                return Err(format!("{id}: an indicator needs {field}"));
            }
        }
    }
    let tlp = match map.get("object_marking_refs") {
        None => None,
        Some(Value::Array(refs)) => {
            let mut most = None;
            for r in refs {
                let r = r
                    .as_str()
                    .ok_or_else(|| format!("{id}: object_marking_refs holds ids"))?;
                most = most.max(tlp_of_marking(r));
            }
            most
        }
        Some(_) => return Err(format!("{id}: object_marking_refs must be a list")),
    };
    let version = map
        .get("modified")
        .or_else(|| map.get("created"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(CheckedObject {
        id: id.to_owned(),
        object_type: object_type.to_owned(),
        version,
        tlp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn pattern_literals_are_escaped() {
        assert_eq!(pattern_literal(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn markings_map_to_labels_in_both_tlp_versions() {
        for t in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(tlp_of_marking(tlp_marking_id(t)), Some(t));
        }
        assert_eq!(
            tlp_of_marking("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
            Some(Tlp::Red)
        );
        assert_eq!(
            tlp_of_marking("marking-definition--00000000-0000-4000-8000-000000000000"),
            None
        );
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("report", "a:1"), derived_id("report", "a:1"));
        assert_ne!(derived_id("report", "a:1"), derived_id("report", "a:2"));
        let uuid = Uuid::parse_str(&derived_id("report", "a:1")["report--".len()..]).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert!(
            check_object(
                &json!({"type": "report", "spec_version": "2.1", "id": derived_id("report", "x"),
            "created": "2021-12-10T00:00:00Z", "modified": "2021-12-10T00:00:00Z"})
            )
            .is_ok()
        );
    }

    #[test]
    fn posted_objects_are_checked_one_by_one() {
        let good = json!({
            "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2021-12-10T08:00:00.000Z", "modified": "2021-12-10T09:00:00.000Z",
            "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
            "valid_from": "2021-12-10T08:00:00Z", "object_marking_refs": [tlp_marking_id(Tlp::Green)]
        });
        let checked = check_object(&good).unwrap();
        assert_eq!(checked.version.as_deref(), Some("2021-12-10T09:00:00.000Z"));
        assert_eq!(checked.tlp, Some(Tlp::Green));
        let broken = |change: &dyn Fn(&mut Value)| {
            let mut o = good.clone();
            change(&mut o);
            check_object(&o).unwrap_err()
        };
        assert!(broken(&|o| o["id"] = "indicator--nope".into()).contains("UUID"));
        assert!(
            broken(&|o| o["id"] = "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into())
                .contains("UUID")
        );
        assert!(broken(&|o| o["spec_version"] = "2.0".into()).contains("spec_version"));
        assert!(broken(&|o| o["created"] = "yesterday".into()).contains("created"));
        assert!(
            broken(&|o| {
                o.as_object_mut().unwrap().remove("pattern");
            })
            .contains("pattern")
        );
        assert!(broken(&|o| o["modified"] = "2021-12-01T00:00:00Z".into()).contains("earlier"));
        assert!(
            check_object(
                &json!({"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})
            )
            .is_err()
        );
        let ip = json!({"type": "ipv4-addr", "spec_version": "2.1", "id": observable_id("ipv4-addr", &json!({"value": "203.0.113.7"})), "value": "203.0.113.7"});
        assert_eq!(check_object(&ip).unwrap().version, None);
    }
}
