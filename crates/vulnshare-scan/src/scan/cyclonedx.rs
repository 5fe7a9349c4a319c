//! CycloneDX 1.6 JSON: components with purl, hashes, nested locations and `evidence.identity`,
//! and a vulnerabilities section with the per-CVE analysis.
//!
//! Domain code stays pure: the caller passes the timestamp and serial number.

use serde_json::{Value, json};

use super::report::{Component, ScanReport, Status, Technique};

fn technique(t: Technique) -> &'static str {
    match t {
        Technique::BinaryAnalysis => "binary-analysis",
        Technique::ManifestAnalysis => "manifest-analysis",
        Technique::Filename => "filename",
    }
}

fn bom_ref(index: usize, component: &Component) -> String {
    format!("component-{index}-{}", component.purl)
}

fn component_json(index: usize, c: &Component) -> Value {
    let mut hashes = Vec::new();
    if let Some(h) = &c.sha256 {
        hashes.push(json!({"alg": "SHA-256", "content": h}));
    }
    if let Some(h) = &c.sha1 {
        hashes.push(json!({"alg": "SHA-1", "content": h}));
    }
    let identity: Vec<Value> = ["name", "version"]
        .into_iter()
        .filter_map(|field| {
            let methods: Vec<Value> = c
                .evidence
                .iter()
                .filter(|e| e.field == field)
                .map(|e| {
                    json!({"technique": technique(e.technique), "confidence": e.confidence, "value": e.value})
                })
                .collect();
            let confidence = c
                .evidence
                .iter()
                .filter(|e| e.field == field)
                .map(|e| e.confidence)
                .reduce(f32::max)?;
            Some(json!({"field": field, "confidence": confidence, "methods": methods}))
        })
        .collect();
    let mut properties = vec![json!({"name": "vulnshare:location", "value": c.location})];
    if let Some(prefix) = &c.relocated_prefix {
        properties.push(json!({"name": "vulnshare:relocated-prefix", "value": prefix}));
    }
    if let Some(range) = &c.inferred_versions {
        properties.push(json!({"name": "vulnshare:inferred-versions", "value": range}));
    }
    for conflict in &c.conflicts {
        properties.push(json!({"name": "vulnshare:conflict", "value": conflict}));
    }
    let mut value = json!({
        "type": "library",
        "bom-ref": bom_ref(index, c),
        "group": c.group,
        "name": c.artifact,
        "purl": c.purl,
        "evidence": {
            "identity": identity,
            "occurrences": [{"location": c.location}],
        },
        "properties": properties,
    });
    if let Some(v) = &c.version {
        value["version"] = json!(v);
    }
    if !hashes.is_empty() {
        value["hashes"] = json!(hashes);
    }
    value
}

fn severity_of(score: f32) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

/// The report as a CycloneDX 1.6 BOM.
pub fn to_cyclonedx(
    report: &ScanReport,
    serial: &str,
    timestamp: &str,
    tool_version: &str,
) -> Value {
    let components: Vec<Value> = report
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| component_json(i, c))
        .collect();
    let mut vulnerabilities = Vec::new();
    for (i, c) in report.components.iter().enumerate() {
        for v in c.cves.iter().filter(|v| v.status != Status::NotApplicable) {
            let (state, justification) = match v.status {
                Status::Vulnerable => ("exploitable", None),
                Status::Mitigated => ("not_affected", Some("code_not_present")),
                _ => ("resolved", None),
            };
            let mut analysis = json!({"state": state, "detail": v.reason});
            if let Some(j) = justification {
                analysis["justification"] = json!(j);
            }
            vulnerabilities.push(json!({
                "bom-ref": format!("{}-{}", v.cve, i),
                "id": v.cve,
                "source": {"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{}", v.cve)},
                "references": [{"id": v.ghsa, "source": {"name": "GitHub Advisories"}}],
                "ratings": [{"score": v.score, "severity": severity_of(v.score), "method": "CVSSv31"}],
                "analysis": analysis,
                "affects": [{"ref": bom_ref(i, c)}],
            }));
        }
        for a in &c.advisories {
            let mut rating =
                json!({"severity": a.severity.clone().unwrap_or_else(|| "unknown".into())});
            if let Some(score) = a.score {
                rating["score"] = json!(score);
            }
            vulnerabilities.push(json!({
                "bom-ref": format!("{}-{}", a.id, i),
                "id": a.id,
                "source": {"name": "OSV"},
                "references": a.aliases.iter().map(|id| json!({"id": id, "source": {"name": "alias"}})).collect::<Vec<_>>(),
                "ratings": [rating],
                "affects": [{"ref": bom_ref(i, c)}],
            }));
        }
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "vulnshare", "version": tool_version}]},
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

/// A fresh `urn:uuid:` serial number for a BOM.
pub fn new_serial() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}
