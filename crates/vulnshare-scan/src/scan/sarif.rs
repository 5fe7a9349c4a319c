//! SARIF 2.1.0: one result per vulnerable CVE verdict or advisory match, located at the file on
//! disk with the nested path in the message and in a logical location.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::report::{ScanReport, Status, score_of_severity};

fn level(score: f32) -> &'static str {
    if score >= 7.0 {
        "error"
    } else if score >= 4.0 {
        "warning"
    } else {
        "note"
    }
}

/// The report as a SARIF 2.1.0 log.
pub fn to_sarif(report: &ScanReport, tool_version: &str) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for c in &report.components {
        let coordinates = format!(
            "{}:{}@{}",
            c.group,
            c.artifact,
            c.version.as_deref().unwrap_or("unknown")
        );
        let mut push = |id: &str, score: f32, text: String| {
            rules.entry(id.to_owned()).or_insert_with(|| {
                json!({
                    "id": id,
                    "shortDescription": {"text": format!("{id} in a Java component")},
                    "properties": {"security-severity": format!("{score:.1}")},
                })
            });
            results.push(json!({
                "ruleId": id,
                "level": level(score),
                "message": {"text": format!("{coordinates} at {}: {text}", c.location)},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": c.file}},
                    "logicalLocations": [{"fullyQualifiedName": c.location, "kind": "module"}],
                }],
                "properties": {"purl": c.purl, "confidence": c.confidence},
            }));
        };
        for v in c.cves.iter().filter(|v| v.status == Status::Vulnerable) {
            push(v.cve, v.score, v.reason.clone());
        }
        for a in &c.advisories {
            let score = a
                .score
                .unwrap_or_else(|| score_of_severity(a.severity.as_deref()));
            push(
                &a.id,
                score,
                format!("affected by {} ({})", a.id, a.aliases.join(", ")),
            );
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vulnshare",
                "version": tool_version,
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
