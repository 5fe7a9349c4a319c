//! `vulnshare scan`: finds log4j and other Java components in files, folders and nested
//! archives by what their bytes are, and judges them against the Log4Shell-era CVEs and an
//! offline OSV advisory set.
//!
//! The pipeline: [`walk`] reads files in parallel; [`archive`] recurses through zip, tar and
//! compressed streams in memory under [`limits`]; [`classfile`] and [`fingerprint`] recognise
//! classes by their own internal names and string constants; [`identify`] turns what one
//! container holds into components with evidence and conflicts; [`cve`] and [`osv`] judge them;
//! [`cyclonedx`] and [`sarif`] render the result.

pub mod archive;
pub mod classfile;
pub mod cve;
pub mod cyclonedx;
pub mod fingerprint;
pub mod identify;
pub mod limits;
pub mod osv;
pub mod report;
pub mod sarif;
pub mod signature;
pub mod tar;
pub mod testkit;
pub mod walk;
pub mod zip;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use limits::{Limits, ScanWarning, WarningKind};
pub use osv::AdvisoryDb;
pub use report::{Component, ScanReport, Status};

/// Why a scan could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// An `--exclude` pattern is not a valid glob.
    #[error("exclude pattern {pattern:?} is not a valid glob: {reason}")]
    BadExclude {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path given to scan does not exist.
    #[error("{0} does not exist; give files or folders that do")]
    NotFound(String),
}

/// Live counters a caller may poll to draw progress.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files looked at so far.
    pub files: AtomicU64,
    /// Bytes read so far.
    pub bytes: AtomicU64,
}

/// How to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Safety limits.
    pub limits: Limits,
    /// Globs of paths (or file names) to skip.
    pub excludes: Vec<String>,
    /// Follow symbolic links (loops are detected).
    pub follow_symlinks: bool,
    /// Worker threads; 0 picks one per CPU.
    pub threads: usize,
    /// Compute the SHA-256 and SHA-1 of every jar holding a component. Off by default: they
    /// are what a CycloneDX SBOM carries, and hashing every byte of every identified jar cost
    /// more than finding the components.
    pub hashes: bool,
    /// Counters updated while scanning.
    pub progress: Option<Arc<Progress>>,
}

/// Scans files and folders on disk.
pub fn scan_paths(
    paths: &[PathBuf],
    options: &ScanOptions,
    advisories: Option<&AdvisoryDb>,
) -> Result<ScanReport, ScanError> {
    let mut report = walk::walk(paths, options)?;
    finish(&mut report, advisories);
    Ok(report)
}

/// Scans one in-memory blob called `name` (a file's bytes), as if it were on disk, with the
/// hashes of every jar holding a component.
pub fn scan_bytes(
    name: &str,
    data: &[u8],
    limits: &Limits,
    advisories: Option<&AdvisoryDb>,
) -> ScanReport {
    let mut unpacker = archive::Unpacker::new(limits, name, true);
    unpacker.scan_blob(name, data, 0);
    let mut report = ScanReport {
        components: unpacker.components,
        warnings: unpacker.warnings,
        stats: unpacker.stats,
    };
    report.stats.files = 1;
    report.stats.bytes_read = data.len() as u64;
    finish(&mut report, advisories);
    report
}

/// Matches every component with a known version against `db`, replacing earlier matches
/// (for advisories fetched from a server after the scan, by [`osv::batch_queries`]).
pub fn match_advisories(report: &mut ScanReport, db: &AdvisoryDb) {
    for component in &mut report.components {
        if let Some(version) = &component.version {
            component.advisories = db.matches(&component.group, &component.artifact, version);
        }
    }
}

/// Matches advisories and puts components and warnings in a stable order.
fn finish(report: &mut ScanReport, advisories: Option<&AdvisoryDb>) {
    if let Some(db) = advisories {
        match_advisories(report, db);
    }
    report.components.sort_by(|a, b| {
        (&a.location, &a.group, &a.artifact).cmp(&(&b.location, &b.group, &b.artifact))
    });
    report
        .warnings
        .sort_by(|a, b| (&a.location, &a.message).cmp(&(&b.location, &b.message)));
}
