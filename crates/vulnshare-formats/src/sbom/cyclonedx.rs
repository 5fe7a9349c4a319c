//! CycloneDX 1.4–1.7 JSON: the serde subset vulnshare reads (components with their nested
//! components, hashes, purls and scopes; the dependency graph).

use serde::Deserialize;

use super::{Component, Dependency, Hash, Sbom, SbomFormat, SbomLimits};
use crate::error::{FormatError, check_count, null_as_default, parse_json};

const FORMAT: &str = "CycloneDX";
/// The CycloneDX versions vulnshare reads.
pub const SPEC_VERSIONS: [&str; 4] = ["1.4", "1.5", "1.6", "1.7"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBom {
    bom_format: String,
    spec_version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    components: Vec<RawComponent>,
    #[serde(default, deserialize_with = "null_as_default")]
    dependencies: Vec<RawDependency>,
}

#[derive(Deserialize)]
struct RawComponent {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default, rename = "bom-ref")]
    bom_ref: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    hashes: Vec<RawHash>,
    #[serde(default, deserialize_with = "null_as_default")]
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawHash {
    alg: String,
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDependency {
    #[serde(rename = "ref")]
    bom_ref: String,
    #[serde(default, deserialize_with = "null_as_default")]
    depends_on: Vec<String>,
}

/// Reads a CycloneDX 1.4, 1.5, 1.6 or 1.7 JSON document within `limits`.
pub fn parse_cyclonedx(bytes: &[u8], limits: &SbomLimits) -> Result<Sbom, FormatError> {
    let raw: RawBom = parse_json(FORMAT, bytes, limits.max_bytes)?;
    if raw.bom_format != "CycloneDX" {
        return Err(FormatError::invalid(
            FORMAT,
            "bomFormat",
            "must be \"CycloneDX\"",
        ));
    }
    if !SPEC_VERSIONS.contains(&raw.spec_version.as_str()) {
        return Err(FormatError::invalid(
            FORMAT,
            "specVersion",
            format!(
                "CycloneDX {:?} is not read; export the SBOM as CycloneDX 1.4 to 1.7 JSON",
                raw.spec_version
            ),
        ));
    }
    let mut components = Vec::new();
    flatten(&raw.components, "components", 1, limits, &mut components)?;

    check_count(
        FORMAT,
        || "dependencies".into(),
        &raw.dependencies,
        limits.max_dependencies,
    )?;
    let mut edges = 0usize;
    let mut dependencies = Vec::with_capacity(raw.dependencies.len());
    for d in raw.dependencies {
        edges += d.depends_on.len().max(1);
        if edges > limits.max_dependencies {
            return Err(FormatError::TooMany {
                format: FORMAT,
                path: "dependencies[*].dependsOn".into(),
                count: edges,
                limit: limits.max_dependencies,
            });
        }
        dependencies.push(Dependency {
            bom_ref: d.bom_ref,
            depends_on: d.depends_on,
        });
    }
    Ok(Sbom {
        format: SbomFormat::CycloneDx,
        spec_version: raw.spec_version,
        components,
        dependencies,
    })
}

fn flatten(
    raw: &[RawComponent],
    path: &str,
    depth: usize,
    limits: &SbomLimits,
    out: &mut Vec<Component>,
) -> Result<(), FormatError> {
    if depth > limits.max_depth {
        return Err(FormatError::invalid(
            FORMAT,
            path,
            format!(
                "components nest deeper than {} levels; flatten the SBOM",
                limits.max_depth
            ),
        ));
    }
    for (i, c) in raw.iter().enumerate() {
        if out.len() >= limits.max_components {
            return Err(FormatError::TooMany {
                format: FORMAT,
                path: "components".into(),
                count: out.len() + 1,
                limit: limits.max_components,
            });
        }
        let here = format!("{path}[{i}]");
        if c.name.trim().is_empty() {
            return Err(FormatError::invalid(
                FORMAT,
                format!("{here}.name"),
                "a component has a name",
            ));
        }
        out.push(Component {
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone(),
            group: c.group.clone(),
            hashes: c
                .hashes
                .iter()
                .map(|h| Hash {
                    algorithm: h.alg.clone(),
                    value: h.content.clone(),
                })
                .collect(),
            bom_ref: c.bom_ref.clone(),
            scope: c.scope.clone(),
        });
        if !c.components.is_empty() {
            flatten(
                &c.components,
                &format!("{here}.components"),
                depth + 1,
                limits,
                out,
            )?;
        }
    }
    Ok(())
}
