//! SBOM export: a stored product-version SBOM written back out as CycloneDX 1.6 JSON or SPDX 2.3
//! JSON, so what a member uploaded (in either format) can be handed to any SBOM tool again.
//!
//! The platform keeps each component's package identity (its purl), so that is what the
//! export carries: one library component (CycloneDX) or package (SPDX) per stored component,
//! each with its purl, under the product version as the document's subject. Domain code stays
//! pure: the caller passes the time and the document's identifiers.

use std::str::FromStr;

use jiff::Timestamp;
use serde_json::{Value, json};

/// A component to export: a package identity and, where known, its purl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportComponent {
    /// The package name in vulnshare's terms (Maven `group:artifact`, npm `@scope/name`).
    pub name: String,
    /// The version.
    pub version: String,
    /// The purl, as uploaded.
    pub purl: Option<String>,
}

/// What the exported document describes and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSubject<'a> {
    /// The SBOM's identifier on the platform (used for the serial number and namespace).
    pub sbom_id: &'a str,
    /// The product's name.
    pub product: &'a str,
    /// The product version the SBOM describes.
    pub product_version: &'a str,
    /// The organization that supplied it.
    pub supplier: &'a str,
    /// When the export was made.
    pub created: Timestamp,
    /// The base URL of the platform, for the SPDX document namespace.
    pub base_url: &'a str,
}

/// The export tool's name and version as written into documents.
const TOOL: &str = "vulnshare";

/// Splits a component into the CycloneDX `group` and `name` its purl gives (the purl's
/// namespace and name), falling back to the stored name.
fn group_and_name(c: &ExportComponent) -> (Option<String>, String) {
    if let Some(purl) = c
        .purl
        .as_deref()
        .and_then(|p| packageurl::PackageUrl::from_str(p).ok())
    {
        return (purl.namespace().map(str::to_owned), purl.name().to_owned());
    }
    match c.name.split_once(':') {
        Some((group, name)) => (Some(group.to_owned()), name.to_owned()),
        None => (None, c.name.clone()),
    }
}

/// A CycloneDX 1.6 JSON document for `components`.
pub fn to_cyclonedx(subject: &ExportSubject<'_>, components: &[ExportComponent]) -> Value {
    let serial = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, subject.sbom_id.as_bytes());
    let list: Vec<Value> = components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (group, name) = group_and_name(c);
            let mut v = json!({
                "type": "library",
                "bom-ref": format!("component-{i}"),
                "name": name,
                "version": c.version,
            });
            if let Some(group) = group {
                v["group"] = json!(group);
            }
            if let Some(purl) = &c.purl {
                v["purl"] = json!(purl);
            }
            v
        })
        .collect();
    let refs: Vec<String> = (0..components.len())
        .map(|i| format!("component-{i}"))
        .collect();
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": subject.created.to_string(),
            "tools": {"components": [{"type": "application", "name": TOOL, "version": env!("CARGO_PKG_VERSION")}]},
            "component": {
                "type": "application",
                "bom-ref": "subject",
                "name": subject.product,
                "version": subject.product_version,
            },
            "supplier": {"name": subject.supplier},
        },
        "components": list,
        "dependencies": [{"ref": "subject", "dependsOn": refs}],
    })
}

/// An SPDX 2.3 JSON document for `components`.
pub fn to_spdx(subject: &ExportSubject<'_>, components: &[ExportComponent]) -> Value {
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Product",
        "name": subject.product,
        "versionInfo": subject.product_version,
        "supplier": format!("Organization: {}", subject.supplier),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "APPLICATION",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Product",
    })];
    for (i, c) in components.iter().enumerate() {
        let id = format!("SPDXRef-Package-{i}");
        let mut p = json!({
            "SPDXID": id,
            "name": c.name,
            "versionInfo": c.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "LIBRARY",
        });
        if let Some(purl) = &c.purl {
            p["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }]);
        }
        packages.push(p);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Product",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {}", subject.product, subject.product_version),
        "documentNamespace": format!(
            "{}/spdx/{}",
            subject.base_url.trim_end_matches('/'),
            subject.sbom_id
        ),
        "creationInfo": {
            "created": subject.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "creators": [format!("Tool: {TOOL}-{}", env!("CARGO_PKG_VERSION")), format!("Organization: {}", subject.supplier)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{SbomFormat, SbomLimits, parse_sbom};

    fn subject() -> ExportSubject<'static> {
        ExportSubject {
            sbom_id: "sbom_1",
            product: "payments-gateway",
            product_version: "4.2.0",
            supplier: "Example Cloud",
            created: "2021-12-09T08:00:00Z".parse().unwrap(),
            base_url: "https://vulnshare.example/",
        }
    }

    fn components() -> Vec<ExportComponent> {
        vec![
            ExportComponent {
                name: "org.apache.logging.log4j:log4j-core".into(),
                version: "2.14.1".into(),
                purl: Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into()),
            },
            ExportComponent {
                name: "@babel/core".into(),
                version: "7.0.0".into(),
                purl: Some("pkg:npm/%40babel/core@7.0.0".into()),
            },
            ExportComponent {
                name: "django".into(),
                version: "3.2.0".into(),
                purl: Some("pkg:pypi/django@3.2.0".into()),
            },
        ]
    }

    /// Exported documents read back through vulnshare's own importer give the same package
    /// identities, in both formats.
    #[test]
    fn exports_read_back_to_the_same_packages() {
        for (doc, format) in [
            (
                to_cyclonedx(&subject(), &components()),
                SbomFormat::CycloneDx,
            ),
            (to_spdx(&subject(), &components()), SbomFormat::Spdx),
        ] {
            let bytes = serde_json::to_vec(&doc).unwrap();
            let sbom = parse_sbom(&bytes, &SbomLimits::default()).unwrap();
            assert_eq!(sbom.format, format);
            let parts: Vec<_> = sbom
                .components
                .iter()
                .filter_map(|c| c.purl_parts())
                .map(|(_, name, version)| (name, version))
                .collect();
            let want: Vec<_> = components()
                .into_iter()
                .map(|c| (c.name, c.version))
                .collect();
            // SPDX lists the product itself as a package (without a purl, so no parts).
            assert_eq!(parts, want, "{format:?}");
        }
    }

    #[test]
    fn cyclonedx_splits_group_from_the_purl_and_spdx_namespace_is_per_sbom() {
        let cdx = to_cyclonedx(&subject(), &components());
        assert_eq!(cdx["components"][0]["group"], "org.apache.logging.log4j");
        assert_eq!(cdx["components"][0]["name"], "log4j-core");
        assert_eq!(cdx["components"][1]["group"], "@babel");
        assert!(cdx["components"][2].get("group").is_none());
        assert_eq!(
            cdx["dependencies"][0]["dependsOn"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let spdx = to_spdx(&subject(), &components());
        assert_eq!(
            spdx["documentNamespace"],
            "https://vulnshare.example/spdx/sbom_1"
        );
        assert_eq!(spdx["creationInfo"]["created"], "2021-12-09T08:00:00Z");
        assert_eq!(spdx["relationships"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn a_component_without_purl_keeps_its_stored_name() {
        let c = ExportComponent {
            name: "org.example:thing".into(),
            version: "1".into(),
            purl: None,
        };
        let cdx = to_cyclonedx(&subject(), std::slice::from_ref(&c));
        assert_eq!(cdx["components"][0]["group"], "org.example");
        assert_eq!(cdx["components"][0]["name"], "thing");
        assert!(cdx["components"][0].get("purl").is_none());
        let spdx = to_spdx(&subject(), &[c]);
        assert!(spdx["packages"][1].get("externalRefs").is_none());
    }
}
