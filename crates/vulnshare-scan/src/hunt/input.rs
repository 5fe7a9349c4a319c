//! Where the hunt reads from: files, folders (recursively) and standard input, each plain or
//! compressed with gzip, zstd, bzip2 or xz. The format is told by the first bytes, never by the
//! name, because rotated logs are often renamed (`access.log.1` holding gzip) or piped.
//!
//! Every input is taken in large segments cut at newlines and each segment is scanned on all
//! threads with [`Hunter::scan_bytes_parallel`]; inputs run in parallel too. Plain files are
//! memory-mapped on Linux (see `mapped_file` for why a file cut short meanwhile does not kill the
//! process); a file that grew while it was scanned is read on from where the mapping ends.
//! Standard input, pipes, compressed files and other systems are read into buffers.
//!
//! One bad input (unreadable, corrupt, a compression bomb over the limit) becomes an
//! [`InputWarning`]; hits found before the failure are still reported and the other inputs go on.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, ErrorKind, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

mod segments;

#[cfg(target_os = "linux")]
use super::mapped_file::MappedFile;
use super::{Hit, Hunter, ScanSummary};
#[cfg(target_os = "linux")]
use segments::hunt_mapped;
use segments::{Segments, read_segments};

/// One log to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    /// Standard input, named `-` on the command line.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("-"),
            Input::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The container format of an input, read from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed (or a format the hunter does not know, scanned as text).
    Plain,
    /// gzip, possibly several members (`cat a.gz b.gz`).
    Gzip,
    /// Zstandard, possibly several frames.
    Zstd,
    /// bzip2, possibly several streams.
    Bzip2,
    /// xz, possibly several streams.
    Xz,
}

impl Compression {
    /// Longest signature [`Compression::detect`] needs.
    pub const SIGNATURE_BYTES: usize = 6;

    /// The format whose magic number `prefix` starts with.
    pub fn detect(prefix: &[u8]) -> Self {
        match prefix {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Compression::Bzip2,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            _ => Compression::Plain,
        }
    }

    /// Lower-case name, e.g. `gzip`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Plain => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }
}

/// Why an input could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Opening the file or listing the folder failed.
    #[error("cannot open it: {0}; check that it exists and that you may read it")]
    Open(#[source] io::Error),
    /// The path is neither a regular file nor a folder.
    #[error(
        "it is not a regular file or folder (a socket or device?); name it explicitly to read it"
    )]
    NotAFile,
    /// A compressed input inflates past the configured limit.
    #[error(
        "its {format} content inflates past {limit} bytes (a compression bomb?); hits up to line {line_number} were reported; raise --max-decompressed-bytes to read further"
    )]
    DecompressedTooLarge {
        /// The container format.
        format: &'static str,
        /// The limit in bytes.
        limit: u64,
        /// Lines scanned before stopping.
        line_number: u64,
    },
    /// The file got shorter while it was scanned.
    #[error(
        "it shrank while it was read (rotated with copytruncate?) after line {line_number}; hits before that line were reported; hunt the rotated copy as well"
    )]
    Shrank {
        /// Lines scanned before the file's new end was met.
        line_number: u64,
    },
    /// Reading or decompressing failed part way.
    #[error(
        "reading its {format} content failed after line {line_number}: {source}; the file may be truncated or corrupt (hits before that line were reported)"
    )]
    Read {
        /// The container format.
        format: &'static str,
        /// Lines scanned before the failure.
        line_number: u64,
        /// The error from the reader or decoder.
        #[source]
        source: io::Error,
    },
}

/// A problem with one input; the hunt goes on with the others.
#[derive(Debug)]
pub struct InputWarning {
    /// The input, as given or found in a folder.
    pub input: String,
    /// What went wrong.
    pub error: InputError,
}

impl fmt::Display for InputWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.error)
    }
}

/// How inputs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputOptions {
    /// Most bytes one compressed input may inflate to; reading stops there with a warning.
    pub max_decompressed_bytes: u64,
    /// Bytes read before a segment is scanned in parallel; also bounds memory per input.
    pub segment_bytes: usize,
}

impl Default for InputOptions {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 64 << 30,
            segment_bytes: 1 << 20,
        }
    }
}

/// Receives what a hunt finds, from many threads at once.
pub trait HuntObserver: Sync {
    /// Hits of one input, in input order; called several times for a large input.
    fn on_hits(&self, input: &Input, hits: Vec<Hit>);
    /// An input that could not be read to its end.
    fn on_warning(&self, warning: InputWarning);
    /// `bytes` more bytes of text were scanned.
    fn on_progress(&self, _bytes: u64) {}
}

/// Totals over all inputs of one hunt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct HuntTotals {
    /// Inputs scanned (including those that failed part way).
    pub files: u64,
    /// Inputs that were compressed.
    pub compressed_files: u64,
    /// Inputs that could not be read to their end.
    pub failed_files: u64,
    /// Lines, bytes (after decompression), hits and suppressed hits.
    #[serde(flatten)]
    pub scan: ScanSummary,
}

/// Expands paths into inputs: `-` is standard input, folders are walked recursively in name
/// order (symbolic links to folders are not followed, to avoid cycles).
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputWarning>) {
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut warnings),
            // Named explicitly, so FIFOs and process substitutions (`<(zcat x)`) are read too.
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(error) => warnings.push(InputWarning {
                input: path.display().to_string(),
                error: InputError::Open(error),
            }),
        }
    }
    (inputs, warnings)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, warnings: &mut Vec<InputWarning>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            warnings.push(InputWarning {
                input: dir.display().to_string(),
                error: InputError::Open(error),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Ok(link_meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if link_meta.is_dir() {
            walk(&path, inputs, warnings);
        } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            inputs.push(Input::File(path));
        }
    }
}

/// Scans every input, in parallel on the current rayon pool, reporting to `observer`.
pub fn hunt_inputs(
    hunter: &Hunter,
    inputs: &[Input],
    options: &InputOptions,
    observer: &dyn HuntObserver,
) -> HuntTotals {
    inputs
        .par_iter()
        .map(|input| hunt_input(hunter, input, options, observer))
        .reduce(HuntTotals::default, |mut a, b| {
            a.files += b.files;
            a.compressed_files += b.compressed_files;
            a.failed_files += b.failed_files;
            a.scan.add(&b.scan);
            a
        })
}

/// Scans one input; failures go to the observer as warnings.
pub fn hunt_input(
    hunter: &Hunter,
    input: &Input,
    options: &InputOptions,
    observer: &dyn HuntObserver,
) -> HuntTotals {
    let mut on_hits = |hits: Vec<Hit>| observer.on_hits(input, hits);
    let progress = |bytes| observer.on_progress(bytes);
    let reader: Box<dyn Read> = match input {
        Input::Stdin => Box::new(io::stdin().lock()),
        Input::File(path) => match File::open(path) {
            Ok(file) if file.metadata().is_ok_and(|m| m.is_dir()) => {
                return failed(input, InputError::NotAFile, observer);
            }
            Ok(file) => {
                #[cfg(target_os = "linux")]
                if let Some(mapped) = MappedFile::new(&file)
                    && Compression::detect(mapped.bytes()) == Compression::Plain
                {
                    let result =
                        hunt_mapped(hunter, file, &mapped, options, &mut on_hits, &progress);
                    return totals(input, result, observer);
                }
                Box::new(file)
            }
            Err(error) => return failed(input, InputError::Open(error), observer),
        },
    };
    let result = hunt_reader(hunter, reader, options, &mut on_hits, &progress);
    totals(input, result, observer)
}

/// The totals of one input from how its hunt ended; a failure goes to the observer.
fn totals(
    input: &Input,
    result: Result<(Compression, ScanSummary), ReadFailure>,
    observer: &dyn HuntObserver,
) -> HuntTotals {
    let mut totals = HuntTotals {
        files: 1,
        ..HuntTotals::default()
    };
    match result {
        Ok((compression, summary)) => {
            totals.compressed_files = u64::from(compression != Compression::Plain);
            totals.scan = summary;
        }
        Err(failure) => {
            totals.compressed_files = u64::from(failure.compression != Compression::Plain);
            totals.failed_files = 1;
            totals.scan = failure.summary;
            observer.on_warning(InputWarning {
                input: input.to_string(),
                error: failure.error,
            });
        }
    }
    totals
}

fn failed(input: &Input, error: InputError, observer: &dyn HuntObserver) -> HuntTotals {
    observer.on_warning(InputWarning {
        input: input.to_string(),
        error,
    });
    HuntTotals {
        files: 1,
        failed_files: 1,
        ..HuntTotals::default()
    }
}

/// A reader that stopped early: what was scanned before, and why it stopped.
#[derive(Debug)]
pub struct ReadFailure {
    /// The container format detected.
    pub compression: Compression,
    /// Totals up to the failure; their hits were already passed on.
    pub summary: ScanSummary,
    /// Why reading stopped.
    pub error: InputError,
}

/// Marks the error a [`LimitedReader`] returns, to tell it from decoder errors.
#[derive(Debug)]
struct LimitExceeded;

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("decompressed size limit exceeded")
    }
}

impl std::error::Error for LimitExceeded {}

/// Passes through at most `remaining` bytes, then fails with [`LimitExceeded`].
struct LimitedReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Tell a stream that ends exactly at the limit from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LimitExceeded)),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Wraps `reader` in the decoder its first bytes call for.
pub fn decoder(
    mut reader: Box<dyn Read>,
    max_decompressed_bytes: u64,
) -> io::Result<(Compression, Box<dyn Read>)> {
    let mut prefix = [0u8; Compression::SIGNATURE_BYTES];
    let mut filled = 0;
    while filled < prefix.len() {
        match reader.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::detect(&prefix[..filled]);
    let whole: Box<dyn Read> = Box::new(Cursor::new(prefix[..filled].to_vec()).chain(reader));
    let decoded: Box<dyn Read> = match compression {
        Compression::Plain => return Ok((compression, whole)),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Compression::Zstd => Box::new(zstd::Decoder::new(whole)?),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(whole)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(whole)),
    };
    let limited = LimitedReader {
        inner: decoded,
        remaining: max_decompressed_bytes,
    };
    Ok((compression, Box::new(limited)))
}

/// Scans a byte stream (decompressing it if needed) in parallel segments; `on_hits` gets the
/// hits of each segment in order and `on_progress` the bytes scanned.
pub fn hunt_reader(
    hunter: &Hunter,
    reader: Box<dyn Read>,
    options: &InputOptions,
    on_hits: &mut dyn FnMut(Vec<Hit>),
    on_progress: &dyn Fn(u64),
) -> Result<(Compression, ScanSummary), ReadFailure> {
    let (compression, mut reader) =
        decoder(reader, options.max_decompressed_bytes).map_err(|source| ReadFailure {
            compression: Compression::Plain,
            summary: ScanSummary::default(),
            error: InputError::Read {
                format: "plain",
                line_number: 0,
                source,
            },
        })?;
    let mut segments = Segments::new(compression, on_hits, on_progress);
    read_segments(hunter, &mut *reader, &[], options, &mut segments)?;
    Ok((compression, segments.total))
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
