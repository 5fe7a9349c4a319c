//! vulnshare's interchange formats: what the platform reads from and writes for other tools.
//!
//! - [`osv`]: OSV 1.6 records — parse, export from a report, import into report content, and
//!   the per-ecosystem `all.zip` archive osv.dev serves for offline use.
//! - [`sbom`]: CycloneDX 1.4–1.6 and SPDX 2.3 JSON SBOMs read into one component list whose
//!   purls map onto vulnshare's ecosystems and package names.
//! - [`csaf`]: CSAF 2.0 `csaf_security_advisory` and `csaf_vex` documents from a report.
//! - [`cve`]: CVE JSON 5.1 records (the CNA container) from a report, and checks of CNA
//!   containers received through the CVE Services API.
//! - [`stix`]: STIX 2.1 objects from advisories and threat reports, TLP 2.0 markings, and the
//!   check of objects posted to the TAXII server.
//!
//! Every parser is bounded (document size, item counts, nesting) because the documents come
//! from other organizations, and every error names the JSON path of the first problem.
#![warn(missing_docs)]

pub mod csaf;
pub mod cve;
pub mod error;
pub mod osv;
pub mod sbom;
pub mod stix;

#[cfg(test)]
mod fixtures;

pub use error::FormatError;
