//! A zip reader over an in-memory slice that reads only the central directory and the entries
//! asked for.
//!
//! It finds the end-of-central-directory record from the end, so archives with anything in
//! front of them (self-executable jars with a shell-script prefix, zips appended to an .exe)
//! are read like plain ones: the prefix length is the difference between where the central
//! directory is and where the record says it is. Zip64 records are honoured, and data
//! descriptors need nothing special because sizes come from the central directory.

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

/// An opened zip archive: the slice and its parsed central directory.
#[derive(Debug)]
pub struct ZipArchive<'a> {
    data: &'a [u8],
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

impl<'a> ZipArchive<'a> {
    /// Reads the central directory, keeping at most `max_entries` entries.
    pub fn open(data: &'a [u8], max_entries: usize) -> Result<ZipArchive<'a>, ZipError> {
        let eocd = find_end_record(data).ok_or(ZipError::NoEndRecord)?;
        let corrupt = ZipError::CorruptDirectory;
        let mut declared_entries = u64::from(u16_at(data, eocd + 10).ok_or(corrupt("end"))?);
        let mut cd_size = u64::from(u32_at(data, eocd + 12).ok_or(corrupt("end"))?);
        let mut cd_offset = u64::from(u32_at(data, eocd + 16).ok_or(corrupt("end"))?);
        // Where the directory really ends: the zip64 end record if there is one, else the end record.
        let mut cd_end = eocd as u64;
        if eocd >= 20 && &data[eocd - 20..eocd - 16] == EOCD64_LOCATOR_SIGNATURE {
            let declared_at = u64_at(data, eocd - 20 + 8).ok_or(corrupt("zip64 locator"))?;
            // Usually right before the locator (56 bytes, no extensible data); else where the
            // locator says, which is exact when there is no prefix.
            let candidates = [
                (eocd - 20).checked_sub(56),
                usize::try_from(declared_at).ok(),
            ];
            let z = candidates
                .into_iter()
                .flatten()
                .find(|&z| data.get(z..z + 4) == Some(EOCD64_SIGNATURE))
                .ok_or(corrupt("zip64 end record not found"))?;
            declared_entries = u64_at(data, z + 32).ok_or(corrupt("zip64 end"))?;
            cd_size = u64_at(data, z + 40).ok_or(corrupt("zip64 end"))?;
            cd_offset = u64_at(data, z + 48).ok_or(corrupt("zip64 end"))?;
            cd_end = z as u64;
        }
        let cd_start = cd_end
            .checked_sub(cd_size)
            .ok_or(corrupt("directory larger than the file"))?;
        let prefix_len = cd_start
            .checked_sub(cd_offset)
            .ok_or(corrupt("directory offset beyond its position"))?;
        let cd = data
            .get(cd_start as usize..cd_end as usize)
            .ok_or(corrupt("directory out of range"))?;
        let mut entries = Vec::with_capacity(declared_entries.min(max_entries as u64) as usize);
        let mut at = 0usize;
        while at + 46 <= cd.len() && entries.len() < max_entries {
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
            read_zip64_extra(
                extra,
                &mut uncompressed_size,
                &mut compressed_size,
                &mut local,
            );
            entries.push(ZipEntry {
                name: String::from_utf8_lossy(name_bytes).into_owned(),
                method,
                flags,
                compressed_size,
                uncompressed_size,
                local_header_offset: local.saturating_add(prefix_len),
            });
            at += 46 + name_len + extra_len + comment_len;
        }
        Ok(ZipArchive {
            data,
            prefix_len,
            entries,
            declared_entries,
        })
    }

    /// The stored (possibly compressed) bytes of `entry`.
    pub fn raw_data(&self, entry: &ZipEntry) -> Result<&'a [u8], ZipError> {
        let bad = || ZipError::CorruptEntry(entry.name.clone());
        let start = usize::try_from(entry.local_header_offset).map_err(|_| bad())?;
        if self.data.get(start..start + 4) != Some(LOCAL_SIGNATURE) {
            return Err(bad());
        }
        let name_len = u16_at(self.data, start + 26).ok_or_else(bad)? as usize;
        let extra_len = u16_at(self.data, start + 28).ok_or_else(bad)? as usize;
        let data_start = start + 30 + name_len + extra_len;
        let len = usize::try_from(entry.compressed_size).map_err(|_| bad())?;
        self.data
            .get(data_start..data_start.checked_add(len).ok_or_else(bad)?)
            .ok_or_else(bad)
    }

    /// Up to `limit` decompressed bytes of `entry`; fewer if the entry is shorter.
    pub fn read(&self, entry: &ZipEntry, limit: u64) -> Result<Vec<u8>, ZipError> {
        if entry.flags & 1 != 0 {
            return Err(ZipError::Encrypted(entry.name.clone()));
        }
        let raw = self.raw_data(entry)?;
        match entry.method {
            0 => Ok(raw[..raw.len().min(limit as usize)].to_vec()),
            8 => inflate_raw(&entry.name, raw, limit),
            method => Err(ZipError::UnsupportedMethod {
                name: entry.name.clone(),
                method,
            }),
        }
    }
}

/// Inflates a raw deflate stream straight into a buffer of `limit` bytes, stopping when it is
/// full: peeking at an entry's first bytes decodes only those, not a 32 KiB window.
fn inflate_raw(name: &str, raw: &[u8], limit: u64) -> Result<Vec<u8>, ZipError> {
    thread_local! {
        // Most entries are only peeked at (512 bytes), so allocating and zeroing a fresh
        // 10 KiB decompressor per entry showed up in profiles; one per thread is reset instead.
        static STATE: std::cell::RefCell<Box<DecompressorOxide>> = Default::default();
    }
    let mut out = vec![0u8; usize::try_from(limit).unwrap_or(usize::MAX)];
    let (status, _, written) = STATE.with_borrow_mut(|state| {
        state.init();
        decompress(
            state,
            raw,
            &mut out,
            0,
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        )
    });
    match status {
        TINFLStatus::Done | TINFLStatus::HasMoreOutput => {
            out.truncate(written);
            Ok(out)
        }
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
            let zip = ZipArchive::open(&bytes, 100).unwrap();
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
        let zip = ZipArchive::open(&bytes, 100).unwrap();
        assert!(inflate_raw("bad", &[0xff; 64], 100).is_err());
        assert_eq!(zip.read(&zip.entries[1], 1000).unwrap(), vec![7u8; 1000]);
        assert!(inflate_raw("bad", &[0xff; 64], 100).is_err());
        assert_eq!(
            zip.read(&zip.entries[0], 1 << 20).unwrap(),
            b"hello hello hello hello"
        );
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
