//! Safety limits against hostile archives, and the warnings a scan reports instead of failing.
//!
//! Every limit stops work on one archive or entry and records a [`ScanWarning`]; nothing a file
//! contains can make the scan crash, hang or exhaust memory.

use serde::Serialize;

/// Configurable safety limits; the defaults suit real application trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest archive nesting followed (the file on disk is depth 0).
    pub max_depth: usize,
    /// Most bytes decompressed for one file on disk, over all its nested archives.
    pub max_total_bytes: u64,
    /// Largest single entry decompressed (nested archives count as entries).
    pub max_entry_bytes: u64,
    /// Highest compression ratio accepted for an entry larger than 1 MiB.
    pub max_ratio: u64,
    /// Most entries read from one archive.
    pub max_entries: usize,
    /// Largest file read from disk.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_total_bytes: 4 << 30,
            max_entry_bytes: 512 << 20,
            max_ratio: 100,
            max_entries: 200_000,
            max_file_bytes: 4 << 30,
        }
    }
}

/// Entries below this size are exempt from the ratio check: tiny files compress absurdly well.
pub const RATIO_FLOOR: u64 = 1 << 20;

/// What kind of problem a warning reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Nesting deeper than `max_depth`; the inner archive was not opened.
    DepthLimit,
    /// The file's decompression budget ran out; the rest was skipped.
    TotalBytesLimit,
    /// One entry was larger than `max_entry_bytes`; it was skipped or cut.
    EntrySizeLimit,
    /// An entry's compression ratio is bomb-like; it was skipped.
    CompressionRatio,
    /// An archive had more than `max_entries` entries; the rest were skipped.
    EntryCountLimit,
    /// An archive contains itself (a zip quine); it was not opened again.
    Quine,
    /// An archive or entry is corrupt; what could be read was scanned.
    Corrupt,
    /// An entry is encrypted or uses an unsupported compression method.
    Unsupported,
    /// A file could not be read from disk.
    Io,
}

/// A problem met during the scan, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanWarning {
    /// The kind of problem.
    pub kind: WarningKind,
    /// The nested location (`app.ear!/lib/x.war`).
    pub location: String,
    /// What happened, in a sentence.
    pub message: String,
}
