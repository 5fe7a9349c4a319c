//! SBOM import: CycloneDX 1.4 to 1.7 JSON and SPDX 2.3 JSON read into one [`Sbom`], whose
//! components map through their purls onto vulnshare's ecosystems and package names
//! ([`Component::purl_parts`]) so core's `AffectedMatcher` can be applied to them.
//!
//! The `cyclonedx-bom` crate (0.8) reads CycloneDX only up to 1.5, so both formats are read with
//! serde types for the subset vulnshare needs; unknown fields are ignored. Parsing is bounded by
//! [`SbomLimits`] (bytes, components, nesting depth of CycloneDX components, dependency
//! edges) and errors carry the JSON path of the first problem.

pub mod cyclonedx;
pub mod export;
pub mod spdx;

use std::str::FromStr;

use serde::Serialize;
use vulnshare_core::package::Ecosystem;

use crate::error::FormatError;

/// Which SBOM standard a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SbomFormat {
    /// OWASP CycloneDX.
    CycloneDx,
    /// Linux Foundation SPDX.
    Spdx,
}

/// An SBOM reduced to what exposure matching needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sbom {
    /// The standard.
    pub format: SbomFormat,
    /// The standard's version, e.g. `1.6` or `2.3`.
    pub spec_version: String,
    /// Every component, nested CycloneDX components flattened in document order. The SBOM's
    /// subject (CycloneDX `metadata.component`) is not among them; SPDX's described package is.
    pub components: Vec<Component>,
    /// Dependency edges between components, by reference.
    pub dependencies: Vec<Dependency>,
}

/// One software component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// The name (for Maven the artifact id; see `group`).
    pub name: String,
    /// The version, if given.
    pub version: Option<String>,
    /// The package URL, if given.
    pub purl: Option<String>,
    /// The group, namespace or vendor (CycloneDX `group`; for SPDX the purl namespace).
    pub group: Option<String>,
    /// Checksums of the component.
    pub hashes: Vec<Hash>,
    /// The document-local reference (CycloneDX `bom-ref`, SPDX `SPDXID`).
    pub bom_ref: Option<String>,
    /// CycloneDX scope: `required`, `optional` or `excluded`.
    pub scope: Option<String>,
}

/// A checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hash {
    /// The algorithm as the document names it, e.g. `SHA-256` or `SHA256`.
    pub algorithm: String,
    /// The hex digest.
    pub value: String,
}

/// A component and the components it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The depending component's reference.
    pub bom_ref: String,
    /// The references it depends on.
    pub depends_on: Vec<String>,
}

/// Bounds on what an uploaded SBOM may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SbomLimits {
    /// Largest document, in bytes.
    pub max_bytes: usize,
    /// Most components, nested ones included.
    pub max_components: usize,
    /// Deepest nesting of CycloneDX components (top-level components are depth 1).
    pub max_depth: usize,
    /// Most dependency edges.
    pub max_dependencies: usize,
}

impl Default for SbomLimits {
    fn default() -> Self {
        SbomLimits {
            max_bytes: 64 << 20,
            max_components: 100_000,
            max_depth: 16,
            max_dependencies: 1_000_000,
        }
    }
}

/// Reads a CycloneDX or SPDX JSON SBOM, telling them apart by `bomFormat` / `spdxVersion`.
pub fn parse_sbom(bytes: &[u8], limits: &SbomLimits) -> Result<Sbom, FormatError> {
    if bytes.len() > limits.max_bytes {
        return Err(FormatError::TooLarge {
            format: "SBOM",
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    // Only the first few KiB are scanned for the marker keys; both are top-level and usually
    // first, and a full parse follows anyway.
    let head = &bytes[..bytes.len().min(64 << 10)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(b"\"bomFormat\"") {
        cyclonedx::parse_cyclonedx(bytes, limits)
    } else if has(b"\"spdxVersion\"") {
        spdx::parse_spdx(bytes, limits)
    } else {
        Err(FormatError::invalid(
            "SBOM",
            ".",
            "not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document; upload CycloneDX \
             1.4-1.6 or SPDX 2.3 JSON",
        ))
    }
}

impl Component {
    /// The vulnshare ecosystem, package name and version this component is, read from its
    /// purl (the component's own version fills in when the purl has none).
    ///
    /// Names follow OSV: Maven `group:artifact`, npm `@scope/name`, Go the full module path,
    /// PyPI the normalised name (lower case, runs of `-_.` as `-`), crates.io and Debian the
    /// bare name (Debian binary package names are not mapped to source packages). `None` when
    /// there is no purl, its type is not one vulnshare orders, or there is no version.
    pub fn purl_parts(&self) -> Option<(Ecosystem, String, String)> {
        let purl = packageurl::PackageUrl::from_str(self.purl.as_deref()?).ok()?;
        let ecosystem = Ecosystem::from_purl_type(purl.ty())?;
        let version = purl
            .version()
            .map(str::to_owned)
            .or_else(|| self.version.clone())
            .filter(|v| !v.trim().is_empty())?;
        let name = purl.name();
        let name = match (ecosystem, purl.namespace()) {
            (Ecosystem::Maven, Some(ns)) => format!("{ns}:{name}"),
            (Ecosystem::Maven, None) => return None,
            (Ecosystem::Npm | Ecosystem::Go, Some(ns)) => format!("{ns}/{name}"),
            (Ecosystem::PyPI, _) => normalise_pypi(name),
            _ => name.to_owned(),
        };
        Some((ecosystem, name, version))
    }
}

/// PEP 503 normalisation: lower case, every run of `-`, `_` and `.` as one `-`.
fn normalise_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests;
