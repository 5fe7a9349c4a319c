//! A zip reader that reads only the central directory and the entries asked for, from an
//! in-memory slice or piecewise from a file on disk.
//!
//! It finds the end-of-central-directory record from the end, so archives with anything in
//! front of them (self-executable jars with a shell-script prefix, zips appended to an .exe)
//! are read like plain ones: the prefix length is the difference between where the central
//! directory is and where the record says it is. Zip64 records are honoured, and data
//! descriptors need nothing special because sizes come from the central directory.

use std::borrow::Cow;
use std::cell::Cell;
use std::fs::File;

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

const EOCD_SIGNATURE: &[u8; 4] = b"PK\x05\x06";
const EOCD64_LOCATOR_SIGNATURE: &[u8; 4] = b"PK\x06\x07";
const EOCD64_SIGNATURE: &[u8; 4] = b"PK\x06\x06";
const CENTRAL_SIGNATURE: &[u8; 4] = b"PK\x01\x02";
const LOCAL_SIGNATURE: &[u8; 4] = b"PK\x03\x04";
const EOCD_LEN: usize = 22;
/// The end record sits within its own length plus the longest comment from the end.
const EOCD_SEARCH: usize = EOCD_LEN + u16::MAX as usize;

/// Why a zip archive or one of its entries cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    /// No end-of-central-directory record in the last 64 KiB: not a zip, or cut short.
    #[error("no zip end-of-central-directory record: not a zip archive or truncated")]
    NoEndRecord,
    /// The central directory points outside the data.
    #[error("the zip central directory is corrupt: {0}")]
    CorruptDirectory(&'static str),
    /// An entry's local header or data lies outside the archive.
    #[error("zip entry {0:?} is corrupt: its local header or data lies outside the archive")]
    CorruptEntry(String),
    /// The entry uses a compression method other than stored or deflate.
    #[error("zip entry {name:?} uses unsupported compression method {method}")]
    UnsupportedMethod {
        /// The entry name.
        name: String,
        /// The method number.
        method: u16,
    },
    /// The entry is encrypted.
    #[error("zip entry {0:?} is encrypted")]
    Encrypted(String),
    /// The deflate stream is corrupt.
    #[error("zip entry {0:?} does not inflate: {1}")]
    Inflate(String, String),
}

/// One central-directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// The entry name (lossy UTF-8).
    pub name: String,
    /// 0 stored, 8 deflate, others unsupported.
    pub method: u16,
    /// General-purpose flags (bit 0: encrypted).
    pub flags: u16,
    /// Size of the stored data.
    pub compressed_size: u64,
    /// Size after decompression, as the directory claims.
    pub uncompressed_size: u64,
    /// Offset of the local header from the start of the slice (prefix already added).
    pub local_header_offset: u64,
}

impl ZipEntry {
    /// Whether the name ends in `/` (a directory entry).
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// Where an archive's bytes come from: a slice in memory, or a file read piece by piece.
pub trait ZipBytes {
    /// The archive's length in bytes.
    fn len(&self) -> u64;

    /// Whether the archive is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `len` bytes at `offset`, or `None` when the range lies outside the archive (or,
    /// for a file, cannot be read).
    fn bytes_at(&self, offset: u64, len: u64) -> Option<Cow<'_, [u8]>>;

    /// Hands all the bytes to `f` in order, `piece` bytes at a time (the last piece may be
    /// shorter); stops early, returning false, at a range that cannot be read.
    fn for_each_piece(&self, piece: u64, f: &mut dyn FnMut(&[u8])) -> bool {
        let mut offset = 0;
        while offset < self.len() {
            let len = piece.min(self.len() - offset);
            let Some(bytes) = self.bytes_at(offset, len) else {
                return false;
            };
            f(&bytes);
            offset += len;
        }
        true
    }
}

impl ZipBytes for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn bytes_at(&self, offset: u64, len: u64) -> Option<Cow<'_, [u8]>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.get(start..end).map(Cow::Borrowed)
    }
}

/// A file on disk read with positioned reads, so that only the central directory and the
/// entries that matter leave the page cache; a jar is not copied whole to find one pom.
#[derive(Debug)]
pub struct FileBytes {
    file: File,
    len: u64,
    read: Cell<u64>,
}

impl FileBytes {
    /// Wraps an open file of `len` bytes.
    pub fn new(file: File, len: u64) -> FileBytes {
        FileBytes {
            file,
            len,
            read: Cell::new(0),
        }
    }

    /// Bytes read from the file so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }
}

impl ZipBytes for FileBytes {
    fn len(&self) -> u64 {
        self.len
    }

    fn for_each_piece(&self, piece: u64, f: &mut dyn FnMut(&[u8])) -> bool {
        // One buffer for the whole file: a fresh zeroed one per piece cost as much as the read.
        let mut buffer = vec![0u8; usize::try_from(piece.min(self.len)).unwrap_or(0)];
        let mut offset = 0;
        while offset < self.len {
            let len = piece.min(self.len - offset) as usize;
            if read_exact_at(&self.file, &mut buffer[..len], offset).is_err() {
                return false;
            }
            self.read.set(self.read.get() + len as u64);
            f(&buffer[..len]);
            offset += len as u64;
        }
        true
    }

    fn bytes_at(&self, offset: u64, len: u64) -> Option<Cow<'_, [u8]>> {
        if offset.checked_add(len)? > self.len {
            return None;
        }
        let mut buffer = vec![0u8; usize::try_from(len).ok()?];
        read_exact_at(&self.file, &mut buffer, offset).ok()?;
        self.read.set(self.read.get() + len);
        Some(Cow::Owned(buffer))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// An opened zip archive: its bytes and its parsed central directory.
#[derive(Debug)]
pub struct ZipArchive<'a, B: ZipBytes + ?Sized = [u8]> {
    data: &'a B,
    /// Bytes in front of the archive proper (a launcher script, an executable stub).
    pub prefix_len: u64,
    /// Entries in directory order.
    pub entries: Vec<ZipEntry>,
    /// How many entries the end record declares (may exceed `entries.len()` when capped).
    pub declared_entries: u64,
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    data.get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")))
}

/// Finds the last end-of-central-directory record whose comment length fits the data.
pub fn find_end_record(data: &[u8]) -> Option<usize> {
    if data.len() < EOCD_LEN {
        return None;
    }
    let floor = data.len().saturating_sub(EOCD_SEARCH);
    let mut at = data.len() - EOCD_LEN;
    loop {
        if &data[at..at + 4] == EOCD_SIGNATURE {
            let comment = u16_at(data, at + 20)? as usize;
            if at + EOCD_LEN + comment <= data.len() {
                return Some(at);
            }
        }
        if at == floor {
            return None;
        }
        at -= 1;
    }
}

impl<'a, B: ZipBytes + ?Sized> ZipArchive<'a, B> {
    /// Reads the central directory, keeping at most `max_entries` entries.
    pub fn open(data: &'a B, max_entries: usize) -> Result<ZipArchive<'a, B>, ZipError> {
        Self::open_filtered(data, max_entries, |_| true)
    }

    /// Reads the central directory, reading at most `max_entries` entries and keeping those
    /// whose name `keep` accepts: a jar's thousands of uninteresting class names are never
    /// copied out of the directory.
    pub fn open_filtered(
        data: &'a B,
        max_entries: usize,
        keep: impl Fn(&str) -> bool,
    ) -> Result<ZipArchive<'a, B>, ZipError> {
        let len = data.len();
        // Most archives have no comment, so their end record is in the last few bytes; only
        // when it is not is the whole window where a record may sit read.
        let (tail_len, tail, in_tail) = [len.min(1024), len.min(EOCD_SEARCH as u64)]
            .into_iter()
            .find_map(|tail_len| {
                let tail = data.bytes_at(len - tail_len, tail_len)?;
                let in_tail = find_end_record(&tail)?;
                Some((tail_len, tail, in_tail))
            })
            .ok_or(ZipError::NoEndRecord)?;
        let eocd = len - tail_len + in_tail as u64;
        let record = &tail[in_tail..];
        let corrupt = ZipError::CorruptDirectory;
        let mut declared_entries = u64::from(u16_at(record, 10).ok_or(corrupt("end"))?);
        let mut cd_size = u64::from(u32_at(record, 12).ok_or(corrupt("end"))?);
        let mut cd_offset = u64::from(u32_at(record, 16).ok_or(corrupt("end"))?);
        // Where the directory really ends: the zip64 end record if there is one, else the end record.
        let mut cd_end = eocd;
        let locator = eocd
            .checked_sub(20)
            .and_then(|at| data.bytes_at(at, 20))
            .filter(|l| l.starts_with(EOCD64_LOCATOR_SIGNATURE));
        if let Some(locator) = locator {
            let declared_at = u64_at(&locator, 8).ok_or(corrupt("zip64 locator"))?;
            // Usually right before the locator (56 bytes, no extensible data); else where the
            // locator says, which is exact when there is no prefix.
            let candidates = [(eocd - 20).checked_sub(56), Some(declared_at)];
            let (z, record) = candidates
                .into_iter()
                .flatten()
                .find_map(|z| {
                    let record = data.bytes_at(z, 56)?;
                    record.starts_with(EOCD64_SIGNATURE).then_some((z, record))
                })
                .ok_or(corrupt("zip64 end record not found"))?;
            declared_entries = u64_at(&record, 32).ok_or(corrupt("zip64 end"))?;
            cd_size = u64_at(&record, 40).ok_or(corrupt("zip64 end"))?;
            cd_offset = u64_at(&record, 48).ok_or(corrupt("zip64 end"))?;
            cd_end = z;
        }
        let cd_start = cd_end
            .checked_sub(cd_size)
            .ok_or(corrupt("directory larger than the file"))?;
        let prefix_len = cd_start
            .checked_sub(cd_offset)
            .ok_or(corrupt("directory offset beyond its position"))?;
        let cd = data
            .bytes_at(cd_start, cd_size)
            .ok_or(corrupt("directory out of range"))?;
        let cd = &cd[..];
        let mut entries = Vec::new();
        let mut read = 0;
        let mut at = 0usize;
        while at + 46 <= cd.len() && read < max_entries {
            read += 1;
            if &cd[at..at + 4] != CENTRAL_SIGNATURE {
                return Err(corrupt("bad central header signature"));
            }
            let flags = u16_at(cd, at + 8).ok_or(corrupt("header"))?;
            let method = u16_at(cd, at + 10).ok_or(corrupt("header"))?;
            let mut compressed_size = u64::from(u32_at(cd, at + 20).ok_or(corrupt("header"))?);
            let mut uncompressed_size = u64::from(u32_at(cd, at + 24).ok_or(corrupt("header"))?);
            let name_len = u16_at(cd, at + 28).ok_or(corrupt("header"))? as usize;
            let extra_len = u16_at(cd, at + 30).ok_or(corrupt("header"))? as usize;
            let comment_len = u16_at(cd, at + 32).ok_or(corrupt("header"))? as usize;
            let mut local = u64::from(u32_at(cd, at + 42).ok_or(corrupt("header"))?);
            let name_bytes = cd
                .get(at + 46..at + 46 + name_len)
                .ok_or(corrupt("name out of range"))?;
            let extra = cd
                .get(at + 46 + name_len..at + 46 + name_len + extra_len)
                .ok_or(corrupt("extra field out of range"))?;
            at += 46 + name_len + extra_len + comment_len;
            let name = String::from_utf8_lossy(name_bytes);
            if !keep(&name) {
                continue;
            }
            read_zip64_extra(
                extra,
                &mut uncompressed_size,
                &mut compressed_size,
                &mut local,
            );
            entries.push(ZipEntry {
                name: name.into_owned(),
                method,
                flags,
                compressed_size,
                uncompressed_size,
                local_header_offset: local.saturating_add(prefix_len),
            });
        }
        Ok(ZipArchive {
            data,
            prefix_len,
            entries,
            declared_entries,
        })
    }

    /// Where `entry`'s stored bytes start, from its local header.
    fn data_start(&self, entry: &ZipEntry) -> Result<u64, ZipError> {
        let bad = || ZipError::CorruptEntry(entry.name.clone());
        let start = entry.local_header_offset;
        let header = self.data.bytes_at(start, 30).ok_or_else(bad)?;
        if !header.starts_with(LOCAL_SIGNATURE) {
            return Err(bad());
        }
        let name_len = u64::from(u16_at(&header, 26).ok_or_else(bad)?);
        let extra_len = u64::from(u16_at(&header, 28).ok_or_else(bad)?);
        Ok(start + 30 + name_len + extra_len)
    }

    /// The stored (possibly compressed) bytes of `entry`.
    pub fn raw_data(&self, entry: &ZipEntry) -> Result<Cow<'a, [u8]>, ZipError> {
        self.raw_prefix(entry, entry.compressed_size)
    }

    /// At most the first `limit` stored bytes of `entry` (all of them if it is shorter).
    fn raw_prefix(&self, entry: &ZipEntry, limit: u64) -> Result<Cow<'a, [u8]>, ZipError> {
        let start = self.data_start(entry)?;
        let len = entry.compressed_size;
        // The whole entry must lie inside the archive even when only a prefix is read.
        if start
            .checked_add(len)
            .is_none_or(|end| end > self.data.len())
        {
            return Err(ZipError::CorruptEntry(entry.name.clone()));
        }
        self.data
            .bytes_at(start, len.min(limit))
            .ok_or_else(|| ZipError::CorruptEntry(entry.name.clone()))
    }

    /// Up to `limit` decompressed bytes of `entry`; fewer if the entry is shorter.
    pub fn read(&self, entry: &ZipEntry, limit: u64) -> Result<Vec<u8>, ZipError> {
        if entry.flags & 1 != 0 {
            return Err(ZipError::Encrypted(entry.name.clone()));
        }
        match entry.method {
            0 => Ok(self.raw_prefix(entry, limit)?.into_owned()),
            8 => {
                // A peek at the first bytes needs only the first stored bytes: deflate spends
                // at most 16 bits per byte it produces, plus a block header of under 300 bytes.
                // Odd streams (runs of empty blocks) fall back to the whole entry.
                let enough = limit.saturating_mul(2).saturating_add(1024);
                if enough < entry.compressed_size {
                    let raw = self.raw_prefix(entry, enough)?;
                    if let Some(out) = inflate_raw(&entry.name, &raw, limit, true)? {
                        return Ok(out);
                    }
                }
                let raw = self.raw_data(entry)?;
                inflate_raw(&entry.name, &raw, limit, false).map(Option::unwrap_or_default)
            }
            method => Err(ZipError::UnsupportedMethod {
                name: entry.name.clone(),
                method,
            }),
        }
    }
}

/// Inflates a raw deflate stream straight into a buffer of `limit` bytes, stopping when it is
/// full: peeking at an entry's first bytes decodes only those, not a 32 KiB window. With
/// `partial`, `raw` is only the start of the stream, and `None` means it ran out before `limit`
/// bytes came out.
fn inflate_raw(
    name: &str,
    raw: &[u8],
    limit: u64,
    partial: bool,
) -> Result<Option<Vec<u8>>, ZipError> {
    thread_local! {
        // Most entries are only peeked at (512 bytes), so allocating and zeroing a fresh
        // 10 KiB decompressor per entry showed up in profiles; one per thread is reset instead.
        static STATE: std::cell::RefCell<Box<DecompressorOxide>> = Default::default();
    }
    let mut out = vec![0u8; usize::try_from(limit).unwrap_or(usize::MAX)];
    let mut flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    if partial {
        flags |= inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
    }
    let (status, _, written) = STATE.with_borrow_mut(|state| {
        state.init();
        decompress(state, raw, &mut out, 0, flags)
    });
    match status {
        TINFLStatus::Done | TINFLStatus::HasMoreOutput => {
            out.truncate(written);
            Ok(Some(out))
        }
        TINFLStatus::NeedsMoreInput if partial => Ok(None),
        status => Err(ZipError::Inflate(name.to_owned(), format!("{status:?}"))),
    }
}

/// Replaces 0xFFFFFFFF sizes and offsets with the values from a zip64 extra field (id 1).
fn read_zip64_extra(extra: &[u8], uncompressed: &mut u64, compressed: &mut u64, local: &mut u64) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[at], extra[at + 1]]);
        let len = u16::from_le_bytes([extra[at + 2], extra[at + 3]]) as usize;
        let body = &extra[at + 4..(at + 4 + len).min(extra.len())];
        if id == 1 {
            let mut field = 0;
            for value in [&mut *uncompressed, &mut *compressed, &mut *local] {
                if *value == u64::from(u32::MAX) {
                    if let Some(v) = u64_at(body, field) {
                        *value = v;
                    }
                    field += 8;
                }
            }
        }
        at += 4 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testkit::{ZipBuilder, ZipOptions};

    fn sample(options: ZipOptions) -> Vec<u8> {
        let mut zip = ZipBuilder::new(options);
        zip.add("a.txt", b"hello hello hello hello");
        zip.add("dir/b.bin", &[7u8; 1000]);
        zip.finish()
    }

    #[test]
    fn reads_plain_prefixed_zip64_and_data_descriptor_archives() {
        for options in [
            ZipOptions::default(),
            ZipOptions {
                prefix: b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec(),
                ..ZipOptions::default()
            },
            ZipOptions {
                zip64: true,
                data_descriptor: true,
                stored: true,
                ..ZipOptions::default()
            },
        ] {
            let prefix = options.prefix.len() as u64;
            let bytes = sample(options);
            let zip = ZipArchive::open(&bytes[..], 100).unwrap();
            assert_eq!(zip.prefix_len, prefix);
            assert_eq!(zip.entries.len(), 2);
            assert_eq!(
                zip.read(&zip.entries[0], 1 << 20).unwrap(),
                b"hello hello hello hello"
            );
            assert_eq!(zip.read(&zip.entries[1], 10).unwrap(), vec![7u8; 10]);
        }
    }

    #[test]
    fn the_reused_inflater_starts_fresh_after_a_corrupt_entry() {
        let bytes = sample(ZipOptions::default());
        let zip = ZipArchive::open(&bytes[..], 100).unwrap();
        assert!(inflate_raw("bad", &[0xff; 64], 100, false).is_err());
        assert_eq!(zip.read(&zip.entries[1], 1000).unwrap(), vec![7u8; 1000]);
        assert!(inflate_raw("bad", &[0xff; 64], 100, false).is_err());
        assert_eq!(
            zip.read(&zip.entries[0], 1 << 20).unwrap(),
            b"hello hello hello hello"
        );
    }

    /// Pseudo-random bytes that deflate cannot shrink.
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_u32;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// `bytes` with a zip comment of `len` bytes, so the end record is not at the very end.
    fn with_comment(mut bytes: Vec<u8>, len: u16) -> Vec<u8> {
        let at = bytes.len() - 2;
        bytes[at..].copy_from_slice(&len.to_le_bytes());
        bytes.extend(std::iter::repeat_n(b'#', len as usize));
        bytes
    }

    #[test]
    fn a_file_on_disk_reads_like_the_same_bytes_in_memory() {
        let text = "log4j2.formatMsgNoLookups=true\n".repeat(4000);
        for (options, comment) in [
            (ZipOptions::default(), 0),
            (ZipOptions::default(), 5000),
            (
                ZipOptions {
                    prefix: b"#!/bin/sh\nexec java -jar \"$0\"\n".to_vec(),
                    zip64: true,
                    data_descriptor: true,
                    ..ZipOptions::default()
                },
                0,
            ),
            (
                ZipOptions {
                    stored: true,
                    ..ZipOptions::default()
                },
                300,
            ),
        ] {
            let mut zip = ZipBuilder::new(options);
            zip.add("big.bin", &noise(300_000));
            zip.add("notes", text.as_bytes());
            zip.add("a.txt", b"hello hello hello hello");
            let bytes = with_comment(zip.finish(), comment);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.jar");
            std::fs::write(&path, &bytes).unwrap();
            let file = FileBytes::new(File::open(&path).unwrap(), bytes.len() as u64);
            let on_disk = ZipArchive::open(&file, 100).unwrap();
            let in_memory = ZipArchive::open(&bytes[..], 100).unwrap();
            assert_eq!(on_disk.entries, in_memory.entries);
            assert_eq!(on_disk.prefix_len, in_memory.prefix_len);
            for entry in &in_memory.entries {
                for limit in [512, 1 << 20] {
                    assert_eq!(
                        on_disk.read(entry, limit).unwrap(),
                        in_memory.read(entry, limit).unwrap(),
                        "{} up to {limit}",
                        entry.name
                    );
                }
            }
            let mut pieces = Vec::new();
            assert!(file.for_each_piece(4096, &mut |p| pieces.extend_from_slice(p)));
            assert_eq!(pieces, bytes);
            let before = file.bytes_read();
            on_disk.read(&on_disk.entries[0], 512).unwrap();
            assert!(
                file.bytes_read() - before < 4096,
                "a peek at a 300 KB entry read {} bytes",
                file.bytes_read() - before
            );
        }
    }

    #[test]
    fn a_peek_that_needs_more_than_the_first_stored_bytes_reads_them_all() {
        // A deflate stream that opens with empty stored blocks: five bytes that produce
        // nothing, far more of them than a peek reads at first.
        let mut raw = Vec::new();
        for _ in 0..1000 {
            raw.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
        }
        raw.extend_from_slice(&[0x01, 0x05, 0x00, 0xfa, 0xff]);
        raw.extend_from_slice(b"hello");
        let mut zip = ZipBuilder::new(ZipOptions::default());
        zip.add_raw("odd.bin", 8, &raw, 5, {
            let mut crc = flate2::Crc::new();
            crc.update(b"hello");
            crc.sum()
        });
        let bytes = zip.finish();
        let zip = ZipArchive::open(&bytes[..], 100).unwrap();
        assert_eq!(zip.read(&zip.entries[0], 512).unwrap(), b"hello");
    }

    #[test]
    fn every_truncation_fails_cleanly() {
        let bytes = sample(ZipOptions::default());
        for end in 0..bytes.len() {
            if let Ok(zip) = ZipArchive::open(&bytes[..end], 100) {
                for entry in &zip.entries {
                    let _ = zip.read(entry, 1 << 20);
                }
            }
        }
    }
}
