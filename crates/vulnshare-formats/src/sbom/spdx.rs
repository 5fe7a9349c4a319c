//! SPDX 2.3 JSON: packages with their purl external references and checksums, and the
//! `DEPENDS_ON` / `DEPENDENCY_OF` relationships as dependency edges.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde::Deserialize;

use super::{Component, Dependency, Hash, Sbom, SbomFormat, SbomLimits};
use crate::error::{FormatError, check_count, null_as_default, parse_json};

const FORMAT: &str = "SPDX";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument {
    spdx_version: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    packages: Vec<RawPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    relationships: Vec<RawRelationship>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    external_refs: Vec<RawExternalRef>,
    #[serde(default, deserialize_with = "null_as_default")]
    checksums: Vec<RawChecksum>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExternalRef {
    reference_category: String,
    reference_type: String,
    reference_locator: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawChecksum {
    algorithm: String,
    checksum_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRelationship {
    spdx_element_id: String,
    relationship_type: String,
    related_spdx_element: String,
}

/// Reads an SPDX 2.3 JSON document within `limits` (2.2 documents, which share the shape, are
/// read too).
pub fn parse_spdx(bytes: &[u8], limits: &SbomLimits) -> Result<Sbom, FormatError> {
    let raw: RawDocument = parse_json(FORMAT, bytes, limits.max_bytes)?;
    let spec_version = match raw.spdx_version.as_str() {
        "SPDX-2.3" => "2.3",
        "SPDX-2.2" => "2.2",
        other => {
            return Err(FormatError::invalid(
                FORMAT,
                "spdxVersion",
                format!("SPDX {other:?} is not read; export the SBOM as SPDX-2.3 JSON"),
            ));
        }
    };
    if raw.spdx_id != "SPDXRef-DOCUMENT" {
        return Err(FormatError::invalid(
            FORMAT,
            "SPDXID",
            "the document's SPDXID is \"SPDXRef-DOCUMENT\"",
        ));
    }
    check_count(
        FORMAT,
        || "packages".into(),
        &raw.packages,
        limits.max_components,
    )?;
    check_count(
        FORMAT,
        || "relationships".into(),
        &raw.relationships,
        limits.max_dependencies,
    )?;

    let mut components = Vec::with_capacity(raw.packages.len());
    for (i, p) in raw.packages.into_iter().enumerate() {
        if p.name.trim().is_empty() {
            return Err(FormatError::invalid(
                FORMAT,
                format!("packages[{i}].name"),
                "a package has a name",
            ));
        }
        let purl = p
            .external_refs
            .iter()
            .find(|r| {
                r.reference_type == "purl"
                    && matches!(
                        r.reference_category.as_str(),
                        "PACKAGE-MANAGER" | "PACKAGE_MANAGER"
                    )
            })
            .map(|r| r.reference_locator.clone());
        let group = purl
            .as_deref()
            .and_then(|p| packageurl::PackageUrl::from_str(p).ok())
            .and_then(|p| p.namespace().map(str::to_owned));
        components.push(Component {
            name: p.name,
            version: p.version_info.filter(|v| v != "NOASSERTION"),
            purl,
            group,
            hashes: p
                .checksums
                .into_iter()
                .map(|c| Hash {
                    algorithm: c.algorithm,
                    value: c.checksum_value,
                })
                .collect(),
            bom_ref: Some(p.spdx_id),
            scope: None,
        });
    }

    // Edges keyed by the depending element; sets keep repeated relationships from costing
    // quadratic time.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in raw.relationships {
        let (from, to) = match r.relationship_type.as_str() {
            "DEPENDS_ON" => (r.spdx_element_id, r.related_spdx_element),
            "DEPENDENCY_OF" => (r.related_spdx_element, r.spdx_element_id),
            _ => continue,
        };
        graph.entry(from).or_default().insert(to);
    }
    let dependencies = graph
        .into_iter()
        .map(|(bom_ref, depends_on)| Dependency {
            bom_ref,
            depends_on: depends_on.into_iter().collect(),
        })
        .collect();
    Ok(Sbom {
        format: SbomFormat::Spdx,
        spec_version: spec_version.into(),
        components,
        dependencies,
    })
}
