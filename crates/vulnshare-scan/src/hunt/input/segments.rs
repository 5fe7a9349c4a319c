//! How one input's bytes are cut into segments and scanned: read into buffers from a stream,
//! or taken in place from a mapped file, in the same segments either way, so hits and line
//! numbers do not depend on how a file was read.

use std::io::{self, ErrorKind, Read};

#[cfg(target_os = "linux")]
use std::fs::File;

use super::{Compression, InputError, InputOptions, LimitExceeded, ReadFailure};
#[cfg(target_os = "linux")]
use crate::hunt::mapped_file::MappedFile;
use crate::hunt::{Hit, Hunter, ScanSummary};

/// Smallest segment; [`InputOptions::segment_bytes`] is raised to it.
const MIN_SEGMENT_BYTES: usize = 1 << 16;

/// Totals of the segments of one input so far, and the hits of the last one, which are reported
/// while the next one is scanned: counting and printing them is serial work that would
/// otherwise leave the other threads idle.
pub(super) struct Segments<'a> {
    compression: Compression,
    pub(super) total: ScanSummary,
    pending: Vec<Hit>,
    on_hits: &'a mut dyn FnMut(Vec<Hit>),
    on_progress: &'a dyn Fn(u64),
}

impl<'a> Segments<'a> {
    pub(super) fn new(
        compression: Compression,
        on_hits: &'a mut dyn FnMut(Vec<Hit>),
        on_progress: &'a dyn Fn(u64),
    ) -> Self {
        Self {
            compression,
            total: ScanSummary::default(),
            pending: Vec::new(),
            on_hits,
            on_progress,
        }
    }

    /// Reports the hits waiting, if any.
    fn report_pending(&mut self) {
        if !self.pending.is_empty() {
            (self.on_hits)(std::mem::take(&mut self.pending));
        }
    }

    /// Scans `data` on all threads while the hits of the segment before are reported.
    #[cfg(target_os = "linux")]
    fn scan(&mut self, hunter: &Hunter, data: &[u8]) -> (Vec<Hit>, ScanSummary) {
        let mut scanned = None;
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| scanned = Some(hunter.scan_bytes_parallel(data)));
            self.report_pending();
        });
        scanned.expect("the scope ran the scan")
    }

    /// Adds a scanned segment; `continues_line` says its last line goes on in the next one.
    fn add(&mut self, mut hits: Vec<Hit>, mut summary: ScanSummary, continues_line: bool) {
        if continues_line {
            // A line longer than a segment: it is counted once, when it ends.
            summary.lines -= 1;
        }
        for hit in &mut hits {
            hit.line_number += self.total.lines;
            hit.byte_offset += self.total.bytes;
        }
        (self.on_progress)(summary.bytes);
        self.total.add(&summary);
        self.pending = hits;
    }

    /// Reports what is pending and turns `error` into the failure of this input.
    fn fail(&mut self, error: InputError) -> ReadFailure {
        self.report_pending();
        ReadFailure {
            compression: self.compression,
            summary: self.total,
            error,
        }
    }

    /// The failure for a read error.
    fn read_failure(&mut self, source: io::Error, options: &InputOptions) -> ReadFailure {
        let line_number = self.total.lines;
        let error = if source.get_ref().is_some_and(|e| e.is::<LimitExceeded>()) {
            InputError::DecompressedTooLarge {
                format: self.compression.as_str(),
                limit: options.max_decompressed_bytes,
                line_number,
            }
        } else {
            InputError::Read {
                format: self.compression.as_str(),
                line_number,
                source,
            }
        };
        self.fail(error)
    }
}

/// Reads `reader` to its end in segments, after the `start` bytes already taken from it, and
/// scans them; the last segment's hits are reported too.
pub(super) fn read_segments(
    hunter: &Hunter,
    reader: &mut dyn Read,
    start: &[u8],
    options: &InputOptions,
    segments: &mut Segments<'_>,
) -> Result<(), ReadFailure> {
    let segment = options
        .segment_bytes
        .max(MIN_SEGMENT_BYTES)
        .max(start.len());
    // Two buffers: the next segment is read on this thread while the other threads scan the
    // current one, so reading (a copy out of the page cache, or decompression) and scanning
    // overlap. With one thread the scan simply runs after the read.
    let mut buffer = vec![0u8; segment];
    let mut next = vec![0u8; segment];
    buffer[..start.len()].copy_from_slice(start);
    let mut filled = start.len();
    let (mut at_end, mut error) = fill(reader, &mut buffer, &mut filled);
    loop {
        let data = &buffer[..filled];
        let cut = if at_end || error.is_some() {
            filled
        } else {
            memchr::memrchr(b'\n', data).map_or(filled, |i| i + 1)
        };
        let continues_line = cut == filled && !at_end && error.is_none() && cut > 0;
        let stop = at_end || error.is_some();
        // The rest of a line cut by the segment end starts the next segment.
        let carried = filled - cut;
        next[..carried].copy_from_slice(&data[cut..]);
        let mut next_filled = carried;
        let mut scanned = None;
        let mut next_state = (true, None);
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| scanned = Some(hunter.scan_bytes_parallel(&data[..cut])));
            if !stop {
                next_state = fill(reader, &mut next, &mut next_filled);
            }
            segments.report_pending();
        });
        let (hits, summary) = scanned.expect("the scope ran the scan");
        segments.add(hits, summary, continues_line && data.last() != Some(&b'\n'));
        if let Some(source) = error {
            return Err(segments.read_failure(source, options));
        }
        if at_end {
            segments.report_pending();
            return Ok(());
        }
        std::mem::swap(&mut buffer, &mut next);
        filled = next_filled;
        (at_end, error) = next_state;
    }
}

/// Scans a mapped plain file in the segments [`read_segments`] would read it in (so hits and
/// line counts are the same either way), then reads on from the mapping's end if the file grew.
#[cfg(target_os = "linux")]
pub(super) fn hunt_mapped(
    hunter: &Hunter,
    mut file: File,
    mapped: &MappedFile,
    options: &InputOptions,
    on_hits: &mut dyn FnMut(Vec<Hit>),
    on_progress: &dyn Fn(u64),
) -> Result<(Compression, ScanSummary), ReadFailure> {
    use std::io::{Seek, SeekFrom};

    let data = mapped.bytes();
    let segment = options.segment_bytes.max(MIN_SEGMENT_BYTES);
    let mut segments = Segments::new(Compression::Plain, on_hits, on_progress);
    let mut pos = 0;
    while data.len() - pos >= segment {
        let end = pos + segment;
        let cut = memchr::memrchr(b'\n', &data[pos..end]).map_or(end, |i| pos + i + 1);
        let (hits, summary) = segments.scan(hunter, &data[pos..cut]);
        segments.add(hits, summary, cut == end && data[end - 1] != b'\n');
        if mapped.shrank() {
            let line_number = segments.total.lines;
            return Err(segments.fail(InputError::Shrank { line_number }));
        }
        pos = cut;
    }
    let rest = &data[pos..];
    let grew = file.metadata().is_ok_and(|m| m.len() > data.len() as u64);
    if grew && !mapped.shrank() {
        // Appended to while it was scanned: what came after the mapping is read, as a file
        // read to its end would be.
        segments.report_pending();
        if let Err(source) = file.seek(SeekFrom::Start(data.len() as u64)) {
            return Err(segments.read_failure(source, options));
        }
        read_segments(hunter, &mut file, rest, options, &mut segments)?;
        return Ok((Compression::Plain, segments.total));
    }
    let (hits, summary) = segments.scan(hunter, rest);
    segments.add(hits, summary, false);
    if mapped.shrank() {
        let line_number = segments.total.lines;
        return Err(segments.fail(InputError::Shrank { line_number }));
    }
    segments.report_pending();
    Ok((Compression::Plain, segments.total))
}

/// Reads until `buffer` is full, the stream ends (`true`) or fails.
fn fill(reader: &mut dyn Read, buffer: &mut [u8], filled: &mut usize) -> (bool, Option<io::Error>) {
    while *filled < buffer.len() {
        match reader.read(&mut buffer[*filled..]) {
            Ok(0) => return (true, None),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return (false, Some(e)),
        }
    }
    (false, None)
}
