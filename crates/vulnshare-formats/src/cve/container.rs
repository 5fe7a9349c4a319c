//! CNA containers as CVE Services receives them (`{"cnaContainer": …}` on
//! `POST /cve/{id}/cna` and `/cve/{id}/reject`), checked against the rules of the CVE JSON 5.1
//! `cnaPublishedContainer` and `cnaRejectedContainer` schemas that matter for a record to be
//! usable, and the full record built around an accepted container.
//!
//! The checks are hand-written rather than a schema validator so that each refusal names the
//! path of the first problem and says how to fix it.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::error::FormatError;

const FORMAT: &str = "CVE";
const MAX_REFERENCES: usize = 512;
const MAX_DESCRIPTION_CHARS: usize = 4096;
const MAX_URI_CHARS: usize = 2048;

const PUBLISHED_KEYS: &[&str] = &[
    "affected",
    "configurations",
    "cpeApplicability",
    "credits",
    "dateAssigned",
    "datePublic",
    "descriptions",
    "exploits",
    "impacts",
    "metrics",
    "problemTypes",
    "providerMetadata",
    "references",
    "solutions",
    "source",
    "tags",
    "taxonomyMappings",
    "timeline",
    "title",
    "workarounds",
];
const REJECTED_KEYS: &[&str] = &["providerMetadata", "rejectedReasons", "replacedBy"];
const STATUSES: &[&str] = &["affected", "unaffected", "unknown"];
const METRIC_KEYS: &[&str] = &["cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0", "other"];

fn bad(path: impl Into<String>, message: impl Into<String>) -> FormatError {
    FormatError::invalid(FORMAT, path, message)
}

type Checked = Result<(), FormatError>;

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, FormatError> {
    v.as_object()
        .ok_or_else(|| bad(path, "must be a JSON object"))
}

fn array<'a>(v: Option<&'a Value>, path: &str, min: usize) -> Result<&'a [Value], FormatError> {
    let Some(v) = v else {
        return Err(bad(path, format!("is required (at least {min} entry)")));
    };
    let items = v.as_array().ok_or_else(|| bad(path, "must be an array"))?;
    if items.len() < min {
        return Err(bad(path, format!("needs at least {min} entry")));
    }
    Ok(items)
}

fn text<'a>(v: Option<&'a Value>, path: &str, max_chars: usize) -> Result<&'a str, FormatError> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| bad(path, "is required and must be a string"))?;
    let n = s.chars().count();
    if n == 0 || n > max_chars {
        return Err(bad(path, format!("must be 1 to {max_chars} characters")));
    }
    Ok(s)
}

fn only_known_keys(map: &Map<String, Value>, known: &[&str], at: &str) -> Checked {
    for key in map.keys() {
        if !known.contains(&key.as_str()) && !key.starts_with("x_") {
            return Err(bad(
                format!("{at}{key}"),
                "is not a property of this container (custom properties start with x_)",
            ));
        }
    }
    Ok(())
}

fn uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
        && b[14] == b'4'
        && matches!(b[19].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b')
}

fn provider_metadata(map: &Map<String, Value>) -> Checked {
    let path = "providerMetadata";
    let pm = object(
        map.get(path)
            .ok_or_else(|| bad(path, "is required: {\"orgId\": \"<your CNA's UUID>\"}"))?,
        path,
    )?;
    only_known_keys(
        pm,
        &["orgId", "shortName", "dateUpdated"],
        "providerMetadata.",
    )?;
    let org_id = text(pm.get("orgId"), "providerMetadata.orgId", 36)?;
    if !uuid_v4(org_id) {
        return Err(bad(
            "providerMetadata.orgId",
            "must be your CNA's version 4 UUID (GET /org/{short_name} shows it)",
        ));
    }
    Ok(())
}

fn language_texts(items: &[Value], path: &str, value_key: &str) -> Checked {
    let mut english = false;
    for (i, d) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let d = object(d, &at)?;
        let lang = text(d.get("lang"), &format!("{at}.lang"), 16)?;
        english |= lang.starts_with("en");
        text(
            d.get(value_key),
            &format!("{at}.{value_key}"),
            MAX_DESCRIPTION_CHARS,
        )?;
    }
    if !english {
        return Err(bad(path, "needs an entry in English (lang \"en\")"));
    }
    Ok(())
}

fn uri(v: Option<&Value>, path: &str) -> Checked {
    let s = text(v, path, MAX_URI_CHARS)?;
    let scheme_ok = s.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            && !rest.is_empty()
    });
    if !scheme_ok || s.contains(char::is_whitespace) {
        return Err(bad(
            path,
            "must be a URI such as https://example.org/advisory",
        ));
    }
    Ok(())
}

fn timestamp(v: Option<&Value>, path: &str) -> Checked {
    match v {
        None => Ok(()),
        Some(Value::String(s))
            if s.parse::<Timestamp>().is_ok()
                || jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%S", s).is_ok()
                || s.parse::<jiff::civil::DateTime>().is_ok() =>
        {
            Ok(())
        }
        Some(_) => Err(bad(
            path,
            "must be an RFC 3339 timestamp like 2021-12-10T00:00:00Z",
        )),
    }
}

fn affected(items: &[Value]) -> Checked {
    for (i, p) in items.iter().enumerate() {
        let at = format!("affected[{i}]");
        let p = object(p, &at)?;
        let named = p.contains_key("vendor") && p.contains_key("product");
        let packaged = p.contains_key("collectionURL") && p.contains_key("packageName");
        if !named && !packaged {
            return Err(bad(
                &at,
                "name the product with vendor and product, or collectionURL and packageName",
            ));
        }
        for key in ["vendor", "product", "packageName"] {
            if p.contains_key(key) {
                text(p.get(key), &format!("{at}.{key}"), 2048)?;
            }
        }
        if p.contains_key("collectionURL") {
            uri(p.get("collectionURL"), &format!("{at}.collectionURL"))?;
        }
        if let Some(status) = p.get("defaultStatus")
            && !status.as_str().is_some_and(|s| STATUSES.contains(&s))
        {
            return Err(bad(
                format!("{at}.defaultStatus"),
                "must be affected, unaffected or unknown",
            ));
        }
        match p.get("versions") {
            None if !p.contains_key("defaultStatus") => {
                return Err(bad(
                    &at,
                    "give versions, or a defaultStatus for all versions",
                ));
            }
            None => {}
            Some(v) => {
                let versions = array(Some(v), &format!("{at}.versions"), 1)?;
                for (j, v) in versions.iter().enumerate() {
                    let vat = format!("{at}.versions[{j}]");
                    let v = object(v, &vat)?;
                    text(v.get("version"), &format!("{vat}.version"), 1024)?;
                    if !v
                        .get("status")
                        .and_then(Value::as_str)
                        .is_some_and(|s| STATUSES.contains(&s))
                    {
                        return Err(bad(
                            format!("{vat}.status"),
                            "is required: affected, unaffected or unknown",
                        ));
                    }
                    let ranged = v.contains_key("lessThan") || v.contains_key("lessThanOrEqual");
                    if ranged && !v.contains_key("versionType") {
                        return Err(bad(
                            format!("{vat}.versionType"),
                            "is required with lessThan or lessThanOrEqual (e.g. semver, maven, custom)",
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn references(items: &[Value]) -> Checked {
    if items.len() > MAX_REFERENCES {
        return Err(FormatError::TooMany {
            format: FORMAT,
            path: "references".into(),
            count: items.len(),
            limit: MAX_REFERENCES,
        });
    }
    for (i, r) in items.iter().enumerate() {
        let at = format!("references[{i}]");
        let r = object(r, &at)?;
        uri(r.get("url"), &format!("{at}.url"))?;
        if items[..i].contains(&items[i]) {
            return Err(bad(&at, "repeats an earlier reference"));
        }
    }
    Ok(())
}

fn problem_types(v: Option<&Value>) -> Checked {
    let Some(v) = v else { return Ok(()) };
    for (i, pt) in array(Some(v), "problemTypes", 1)?.iter().enumerate() {
        let at = format!("problemTypes[{i}]");
        let pt = object(pt, &at)?;
        let descriptions = array(pt.get("descriptions"), &format!("{at}.descriptions"), 1)?;
        for (j, d) in descriptions.iter().enumerate() {
            let dat = format!("{at}.descriptions[{j}]");
            let d = object(d, &dat)?;
            text(d.get("lang"), &format!("{dat}.lang"), 16)?;
            text(
                d.get("description"),
                &format!("{dat}.description"),
                MAX_DESCRIPTION_CHARS,
            )?;
            if let Some(cwe) = d.get("cweId") {
                let ok = cwe
                    .as_str()
                    .and_then(|s| s.strip_prefix("CWE-"))
                    .is_some_and(|n| {
                        !n.is_empty()
                            && !n.starts_with('0')
                            && n.len() <= 5
                            && n.bytes().all(|b| b.is_ascii_digit())
                    });
                if !ok {
                    return Err(bad(format!("{dat}.cweId"), "must look like CWE-502"));
                }
            }
        }
    }
    Ok(())
}

fn metrics(v: Option<&Value>) -> Checked {
    let Some(v) = v else { return Ok(()) };
    for (i, m) in array(Some(v), "metrics", 1)?.iter().enumerate() {
        let at = format!("metrics[{i}]");
        let m = object(m, &at)?;
        if !METRIC_KEYS.iter().any(|k| m.contains_key(*k)) {
            return Err(bad(
                &at,
                "needs one of cvssV4_0, cvssV3_1, cvssV3_0, cvssV2_0 or other",
            ));
        }
        for key in ["cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0"] {
            if let Some(score) = m.get(key) {
                let s = object(score, &format!("{at}.{key}"))?;
                text(
                    s.get("vectorString"),
                    &format!("{at}.{key}.vectorString"),
                    512,
                )?;
                if !s.get("baseScore").is_some_and(Value::is_number) {
                    return Err(bad(
                        format!("{at}.{key}.baseScore"),
                        "is required and must be a number",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks a container for a published record (`cnaPublishedContainer`): provider metadata
/// with the CNA's UUID, an English description, at least one affected product and one
/// reference, and well-formed optional parts. The error names the path of the first problem.
pub fn check_published(container: &Value) -> Result<(), FormatError> {
    let map = object(container, "cnaContainer")?;
    only_known_keys(map, PUBLISHED_KEYS, "")?;
    provider_metadata(map)?;
    language_texts(
        array(map.get("descriptions"), "descriptions", 1)?,
        "descriptions",
        "value",
    )?;
    affected(array(map.get("affected"), "affected", 1)?)?;
    references(array(map.get("references"), "references", 1)?)?;
    if map.contains_key("title") {
        text(map.get("title"), "title", 256)?;
    }
    problem_types(map.get("problemTypes"))?;
    metrics(map.get("metrics"))?;
    timestamp(map.get("dateAssigned"), "dateAssigned")?;
    timestamp(map.get("datePublic"), "datePublic")?;
    Ok(())
}

/// Checks a container for a rejected record (`cnaRejectedContainer`): provider metadata and
/// at least one reason, one of them in English.
pub fn check_rejected(container: &Value) -> Result<(), FormatError> {
    let map = object(container, "cnaContainer")?;
    only_known_keys(map, REJECTED_KEYS, "")?;
    provider_metadata(map)?;
    language_texts(
        array(map.get("rejectedReasons"), "rejectedReasons", 1)?,
        "rejectedReasons",
        "value",
    )?;
    if let Some(v) = map.get("replacedBy") {
        for (i, id) in array(Some(v), "replacedBy", 1)?.iter().enumerate() {
            let parsed = id.as_str().and_then(vulnshare_core::cve::CveId::parse);
            if parsed.is_none() {
                return Err(bad(
                    format!("replacedBy[{i}]"),
                    "must be a CVE id like CVE-2021-44228",
                ));
            }
        }
    }
    Ok(())
}

/// What the system of record knows about a CVE id, for the `cveMetadata` of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The CVE id.
    pub cve_id: String,
    /// `PUBLISHED` or `REJECTED`.
    pub state: &'static str,
    /// The owning CNA's UUID.
    pub assigner_org_id: String,
    /// The owning CNA's short name.
    pub assigner_short_name: String,
    /// When the id was reserved.
    pub date_reserved: Timestamp,
    /// When a record was first published, if ever.
    pub date_published: Option<Timestamp>,
    /// When the id was rejected, if it was.
    pub date_rejected: Option<Timestamp>,
    /// When the record last changed.
    pub date_updated: Timestamp,
}

/// Sets the provider metadata the system of record owns (the CNA's UUID, short name and the
/// time of this submission), replacing whatever the client sent.
pub fn stamp_provider(container: &mut Value, org_uuid: &str, short_name: &str, at: Timestamp) {
    if let Some(map) = container.as_object_mut() {
        map.insert(
            "providerMetadata".into(),
            json!({"orgId": org_uuid, "shortName": short_name, "dateUpdated": at.to_string()}),
        );
    }
}

/// The full CVE JSON 5.1 record around a stored CNA container.
pub fn record(meta: &RecordMetadata, cna: &Value) -> Value {
    let mut cve_metadata = json!({
        "cveId": meta.cve_id,
        "assignerOrgId": meta.assigner_org_id,
        "assignerShortName": meta.assigner_short_name,
        "state": meta.state,
        "dateReserved": meta.date_reserved.to_string(),
        "dateUpdated": meta.date_updated.to_string(),
    });
    if let Some(at) = meta.date_published {
        cve_metadata["datePublished"] = json!(at.to_string());
    }
    if let Some(at) = meta.date_rejected {
        cve_metadata["dateRejected"] = json!(at.to_string());
    }
    json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": cve_metadata,
        "containers": {"cna": cna},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published() -> Value {
        json!({
            "providerMetadata": {"orgId": "8254265b-2729-46b6-b9e3-3dfca2d5bfca"},
            "title": "JNDI lookups in Log4j",
            "descriptions": [{"lang": "en", "value": "Remote code execution through JNDI lookups."}],
            "affected": [{"vendor": "Apache", "product": "Log4j", "defaultStatus": "unaffected",
                "versions": [{"version": "2.0-beta9", "lessThan": "2.15.0", "status": "affected", "versionType": "maven"}]}],
            "references": [{"url": "https://logging.apache.org/log4j/2.x/security.html"}],
            "problemTypes": [{"descriptions": [{"lang": "en", "description": "CWE-502", "cweId": "CWE-502", "type": "CWE"}]}],
            "metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "baseScore": 10.0, "baseSeverity": "CRITICAL"}}],
            "x_generator": {"engine": "test"}
        })
    }

    fn path_of(container: &Value, check: fn(&Value) -> Result<(), FormatError>) -> String {
        check(container).unwrap_err().path().unwrap().to_owned()
    }

    #[test]
    fn a_complete_container_passes() {
        check_published(&published()).unwrap();
        check_rejected(&json!({
            "providerMetadata": {"orgId": "8254265b-2729-46b6-b9e3-3dfca2d5bfca"},
            "rejectedReasons": [{"lang": "en", "value": "Duplicate of CVE-2021-44228."}],
            "replacedBy": ["CVE-2021-44228"]
        }))
        .unwrap();
    }

    #[test]
    fn errors_name_the_path_of_the_first_problem() {
        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = published();
            f(&mut c);
            path_of(&c, check_published)
        };
        assert_eq!(
            with(&|c| c["providerMetadata"]["orgId"] = json!("acme")),
            "providerMetadata.orgId"
        );
        assert_eq!(with(&|c| c["descriptions"] = json!([])), "descriptions");
        assert_eq!(
            with(&|c| c["descriptions"][0]["lang"] = json!("de")),
            "descriptions"
        );
        assert_eq!(
            with(&|c| c["affected"][0] = json!({"vendor": "Apache"})),
            "affected[0]"
        );
        assert_eq!(
            with(&|c| c["affected"][0]["versions"][0]["status"] = json!("broken")),
            "affected[0].versions[0].status"
        );
        assert_eq!(
            with(&|c| c["references"][0]["url"] = json!("not a url")),
            "references[0].url"
        );
        assert_eq!(
            with(&|c| c["problemTypes"][0]["descriptions"][0]["cweId"] = json!("502")),
            "problemTypes[0].descriptions[0].cweId"
        );
        assert_eq!(
            with(&|c| c["metrics"][0] = json!({"cvss": {}})),
            "metrics[0]"
        );
        assert_eq!(
            with(&|c| c["datePublic"] = json!("yesterday")),
            "datePublic"
        );
        assert_eq!(with(&|c| c["severity"] = json!("high")), "severity");
        assert_eq!(path_of(&json!([]), check_published), "cnaContainer");
        assert_eq!(
            path_of(
                &json!({"providerMetadata": {"orgId": "8254265b-2729-46b6-b9e3-3dfca2d5bfca"}, "rejectedReasons": []}),
                check_rejected
            ),
            "rejectedReasons"
        );
    }

    #[test]
    fn records_carry_the_system_of_record_metadata() {
        let mut cna = published();
        let at: Timestamp = "2021-12-10T00:00:00Z".parse().unwrap();
        stamp_provider(
            &mut cna,
            "8254265b-2729-46b6-b9e3-3dfca2d5bfca",
            "vulnshare",
            at,
        );
        let meta = RecordMetadata {
            cve_id: "CVE-2021-44228".into(),
            state: "PUBLISHED",
            assigner_org_id: "8254265b-2729-46b6-b9e3-3dfca2d5bfca".into(),
            assigner_short_name: "vulnshare".into(),
            date_reserved: at,
            date_published: Some(at),
            date_rejected: None,
            date_updated: at,
        };
        let r = record(&meta, &cna);
        assert_eq!(r["cveMetadata"]["state"], "PUBLISHED");
        assert_eq!(r["cveMetadata"]["datePublished"], "2021-12-10T00:00:00Z");
        assert_eq!(
            r["containers"]["cna"]["providerMetadata"]["shortName"],
            "vulnshare"
        );
        assert!(r["cveMetadata"].get("dateRejected").is_none());
    }
}
