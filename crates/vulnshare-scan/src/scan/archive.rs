//! Recursion through nested archives in memory: zip family, tar and compressed streams, to any
//! depth the limits allow, reading only the entries that matter.
//!
//! In a zip, `.class` entries are read only when their simple name is fingerprinted; every
//! other entry has its first bytes inflated to look for a class (CAFEBABE whatever the name)
//! or a nested archive. Each archive on the current path is linked to the one holding it, so an
//! archive that contains itself (a quine) is caught instead of followed forever.

use std::cell::OnceCell;

use sha1::Digest as _;

use super::classfile;
use super::fingerprint::is_interesting_simple_name;
use super::identify::{
    ContainerFacts, ContainerInfo, identify, parse_manifest, parse_pom_properties,
};
use super::limits::{Limits, RATIO_FLOOR, ScanWarning, WarningKind};
use super::report::{Component, ScanStats};
use super::signature::{Cut, HEAD_LEN, Inflated, Signature, inflate, sniff};
use super::tar;
use super::zip::{FileBytes, ZipArchive, ZipBytes, find_end_record};

/// Names that suggest a zip even without a signature at byte 0.
const ZIP_EXTENSIONS: &[&str] = &[
    ".jar", ".war", ".ear", ".zip", ".sar", ".rar", ".par", ".hpi", ".jpi", ".aar", ".kar", ".nar",
];

/// Whether a file name has a zip-family extension.
pub fn has_zip_extension(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ZIP_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// Extensions of text, markup and image files. Entries named so are still checked for a class
/// or archive hidden under the name, but only by their first [`MAGIC_LEN`] bytes (inflating
/// 512 bytes of every licence and descriptor cost a third of a scan).
/// (A class hidden under another name, such as an agent's `.classdata`, is read as usual.)
const SETTLED_EXTENSIONS: &[&str] = &[
    "txt",
    "xml",
    "properties",
    "html",
    "htm",
    "css",
    "json",
    "yaml",
    "yml",
    "md",
    "sql",
    "xsd",
    "dtd",
    "xsl",
    "xslt",
    "tld",
    "mf",
    "sf",
    "rsa",
    "dsa",
    "ec",
    "png",
    "gif",
    "jpg",
    "jpeg",
    "svg",
    "ico",
    "list",
];

/// How many leading bytes decide whether an entry named as text or an image is really a class,
/// a zip or a compressed stream: their magic numbers, and a class's version.
const MAGIC_LEN: u64 = 8;

/// Whether an entry's name says it is text or an image: one of [`SETTLED_EXTENSIONS`], or a
/// service provider list under `META-INF/services/`.
fn settled_by_name(name: &str, base: &str) -> bool {
    if name.starts_with("META-INF/services/") {
        return true;
    }
    base.rsplit_once('.').is_some_and(|(_, extension)| {
        SETTLED_EXTENSIONS
            .iter()
            .any(|settled| extension.eq_ignore_ascii_case(settled))
    })
}

/// An archive's identity on the nesting chain: SHA-256 over its length and its first and last
/// 64 KiB (where the zip central directory lives). Hashing whole multi-GB archives at every
/// level cost more than the rest of the scan; two different archives agreeing on length, head
/// and tail would be needed for a false quine report.
fn chain_key<B: ZipBytes + ?Sized>(data: &B) -> [u8; 32] {
    const EDGE: u64 = 64 * 1024;
    let len = data.len();
    let mut hasher = sha2::Sha256::new();
    hasher.update(len.to_le_bytes());
    let edges = if len <= 2 * EDGE {
        [(0, len), (len, 0)]
    } else {
        [(0, EDGE), (len - EDGE, EDGE)]
    };
    for (offset, edge_len) in edges {
        if let Some(bytes) = data.bytes_at(offset, edge_len) {
            hasher.update(&bytes);
        }
    }
    hasher.finalize().into()
}

/// SHA-256 and SHA-1 of a container, hex, in one pass: each 64 KiB piece is fed to both
/// hashers while it is still in the CPU cache, instead of streaming the whole archive twice.
/// A file cut short while it is read hashes what could be read.
pub fn container_hashes<B: ZipBytes + ?Sized>(data: &B) -> (String, String) {
    let mut sha256 = sha2::Sha256::new();
    let mut sha1 = sha1::Sha1::new();
    data.for_each_piece(64 * 1024, &mut |piece| {
        sha256.update(piece);
        sha1.update(piece);
    });
    (hex::encode(sha256.finalize()), hex::encode(sha1.finalize()))
}

/// An archive on the path from the file on disk to the one being read, for the quine check.
/// Its key is computed only when a nested archive has the same length, which a quine must:
/// hashing every archive's edges up front cost a fifth of a scan.
struct Link<'p> {
    len: u64,
    key: OnceCell<[u8; 32]>,
    compute_key: &'p dyn Fn() -> [u8; 32],
    parent: Option<&'p Link<'p>>,
}

impl Link<'_> {
    fn key(&self) -> &[u8; 32] {
        self.key.get_or_init(self.compute_key)
    }

    /// Whether `self` (the archive about to be opened) is one of its own ancestors.
    fn is_own_ancestor(&self) -> bool {
        let mut ancestor = self.parent;
        while let Some(a) = ancestor {
            if a.len == self.len && a.key() == self.key() {
                return true;
            }
            ancestor = a.parent;
        }
        false
    }
}

/// Unpacks one file on disk and everything nested in it.
#[derive(Debug)]
pub struct Unpacker<'l> {
    limits: &'l Limits,
    file: String,
    hashes: bool,
    budget: u64,
    /// Components found.
    pub components: Vec<Component>,
    /// Warnings met.
    pub warnings: Vec<ScanWarning>,
    /// Counters.
    pub stats: ScanStats,
}

/// What kind of entry a name and its first bytes make.
enum EntryKind {
    Class,
    Pom,
    Manifest,
    Nested,
    Skip,
}

impl<'l> Unpacker<'l> {
    /// An unpacker for the file at `file` (its display path); `hashes` asks for the SHA-256
    /// and SHA-1 of every container holding a component.
    pub fn new(limits: &'l Limits, file: &str, hashes: bool) -> Unpacker<'l> {
        Unpacker {
            limits,
            file: file.to_owned(),
            hashes,
            budget: limits.max_total_bytes,
            components: Vec::new(),
            warnings: Vec::new(),
            stats: ScanStats::default(),
        }
    }

    fn warn(&mut self, kind: WarningKind, location: &str, message: String) {
        self.warnings.push(ScanWarning {
            kind,
            location: location.to_owned(),
            message,
        });
    }

    /// Scans a blob found at `location` (the file itself at depth 0).
    pub fn scan_blob(&mut self, location: &str, data: &[u8], depth: usize) {
        self.scan_nested(location, data, depth, None);
    }

    /// Scans a blob held by the archive `parent` (none for the file itself).
    fn scan_nested(
        &mut self,
        location: &str,
        data: &[u8],
        depth: usize,
        parent: Option<&Link<'_>>,
    ) {
        let head = &data[..data.len().min(HEAD_LEN)];
        let signature = sniff(head);
        let zip_at_end = || find_end_record(data).is_some();
        match signature {
            Signature::Zip => self.enter(location, data, depth, parent, Self::scan_zip),
            Signature::MaybePrefixedZip if zip_at_end() => {
                self.enter(location, data, depth, parent, Self::scan_zip)
            }
            Signature::Other if has_zip_extension(location) && zip_at_end() => {
                self.enter(location, data, depth, parent, Self::scan_zip)
            }
            Signature::Tar => self.enter(location, data, depth, parent, Self::scan_tar),
            s if s.is_stream() => self.enter(
                location,
                data,
                depth,
                parent,
                |this, loc, data, depth, link| this.scan_stream(s, loc, data, depth, link),
            ),
            _ => {}
        }
    }

    /// Scans a zip file on disk (depth 0) by reading its central directory and only the
    /// entries that matter.
    pub fn scan_zip_file(&mut self, location: &str, file: &FileBytes) {
        self.enter(location, file, 0, None, Self::scan_zip);
    }

    /// Applies the depth and quine checks, then runs `scan` on the archive.
    fn enter<B: ZipBytes + ?Sized>(
        &mut self,
        location: &str,
        data: &B,
        depth: usize,
        parent: Option<&Link<'_>>,
        scan: impl FnOnce(&mut Self, &str, &B, usize, &Link<'_>),
    ) {
        if depth > self.limits.max_depth {
            self.warn(
                WarningKind::DepthLimit,
                location,
                format!(
                    "archive nesting deeper than {} levels was not opened",
                    self.limits.max_depth
                ),
            );
            return;
        }
        let compute_key = || chain_key(data);
        let link = Link {
            len: data.len(),
            key: OnceCell::new(),
            compute_key: &compute_key,
            parent,
        };
        if link.is_own_ancestor() {
            self.warn(
                WarningKind::Quine,
                location,
                "this archive contains itself (a zip quine); not opened again".into(),
            );
            return;
        }
        self.stats.archives += 1;
        scan(self, location, data, depth, &link);
    }

    fn scan_stream(
        &mut self,
        signature: Signature,
        location: &str,
        data: &[u8],
        depth: usize,
        link: &Link<'_>,
    ) {
        let limit = self.limits.max_entry_bytes.min(self.budget);
        match inflate(signature, data, limit, self.limits.max_ratio) {
            Inflated::NotInteresting => {}
            Inflated::Content { bytes, cut } => {
                self.budget = self.budget.saturating_sub(bytes.len() as u64);
                match cut {
                    Some(Cut::Size) => self.warn(
                        WarningKind::EntrySizeLimit,
                        location,
                        format!("decompressed content cut at {limit} bytes"),
                    ),
                    Some(Cut::Ratio) => self.warn(
                        WarningKind::CompressionRatio,
                        location,
                        format!(
                            "compression ratio above {}; decompression stopped",
                            self.limits.max_ratio
                        ),
                    ),
                    Some(Cut::Corrupt) => self.warn(
                        WarningKind::Corrupt,
                        location,
                        "the compressed stream is corrupt; scanned what decompressed".into(),
                    ),
                    None => {}
                }
                if cut != Some(Cut::Ratio) {
                    // The stream layer is transparent in locations: app.tar.gz!/x.jar.
                    self.scan_nested(location, &bytes, depth + 1, Some(link));
                }
            }
        }
    }

    /// What an entry is by name alone; `None` when only its first bytes can tell.
    fn classify_name(name: &str) -> Option<EntryKind> {
        let base = name.rsplit('/').next().unwrap_or(name);
        if let Some(simple) = base.strip_suffix(".class") {
            return Some(if is_interesting_simple_name(simple) {
                EntryKind::Class
            } else {
                EntryKind::Skip
            });
        }
        if base == "pom.properties" && name.contains("META-INF/maven/") {
            return Some(EntryKind::Pom);
        }
        if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            return Some(EntryKind::Manifest);
        }
        None
    }

    /// What an entry is by its first bytes (a class whatever its name, or a nested archive).
    fn classify_head(name: &str, head: &[u8]) -> EntryKind {
        match sniff(head) {
            Signature::Class => EntryKind::Class,
            Signature::Other if !has_zip_extension(name) => EntryKind::Skip,
            _ => EntryKind::Nested,
        }
    }

    /// What an entry named as text or an image is by its first [`MAGIC_LEN`] bytes: only a
    /// class or an archive magic number at byte 0 counts.
    fn classify_magic(head: &[u8]) -> EntryKind {
        match sniff(head) {
            Signature::Class => EntryKind::Class,
            Signature::Zip
            | Signature::Gzip
            | Signature::Bzip2
            | Signature::Xz
            | Signature::Zstd => EntryKind::Nested,
            _ => EntryKind::Skip,
        }
    }

    fn classify(name: &str, head: &[u8]) -> EntryKind {
        Self::classify_name(name).unwrap_or_else(|| Self::classify_head(name, head))
    }

    fn record(&mut self, facts: &mut ContainerFacts, kind: EntryKind, name: &str, body: &[u8]) {
        match kind {
            EntryKind::Class => match classfile::parse(body) {
                Ok(class) => {
                    self.stats.classes_parsed += 1;
                    facts.add_class(name, &class);
                }
                Err(e) => {
                    // A `.class` name with other content is common (resources); only CAFEBABE
                    // content that fails to parse is worth a warning.
                    if classfile::looks_like_class(body) {
                        self.warn(
                            WarningKind::Corrupt,
                            name,
                            format!("class file unreadable: {e}"),
                        );
                    }
                }
            },
            EntryKind::Pom => {
                if let Some(pom) = parse_pom_properties(name, &String::from_utf8_lossy(body)) {
                    facts.poms.push(pom);
                }
            }
            EntryKind::Manifest => {
                facts.manifest = Some(parse_manifest(&String::from_utf8_lossy(body)))
            }
            EntryKind::Nested | EntryKind::Skip => {}
        }
    }

    fn scan_zip<B: ZipBytes + ?Sized>(
        &mut self,
        location: &str,
        data: &B,
        depth: usize,
        link: &Link<'_>,
    ) {
        let wanted = |name: &str| {
            !name.ends_with('/') && !matches!(Self::classify_name(name), Some(EntryKind::Skip))
        };
        let zip = match ZipArchive::open_filtered(data, self.limits.max_entries, wanted) {
            Ok(zip) => zip,
            Err(e) => {
                self.warn(WarningKind::Corrupt, location, e.to_string());
                return;
            }
        };
        if zip.declared_entries > self.limits.max_entries as u64 {
            self.warn(
                WarningKind::EntryCountLimit,
                location,
                format!(
                    "{} entries declared; only the first {} were read",
                    zip.declared_entries, self.limits.max_entries
                ),
            );
        }
        let mut facts = ContainerFacts::default();
        for entry in zip.entries.iter().filter(|e| e.uncompressed_size >= 4) {
            let base = entry.name.rsplit('/').next().unwrap_or(&entry.name);
            let settled = settled_by_name(&entry.name, base);
            let kind = match Self::classify_name(&entry.name) {
                Some(kind) => kind,
                None => match zip.read(entry, if settled { MAGIC_LEN } else { HEAD_LEN as u64 }) {
                    Ok(head) => match if settled {
                        Self::classify_magic(&head)
                    } else {
                        Self::classify_head(&entry.name, &head)
                    } {
                        EntryKind::Skip => continue,
                        kind => kind,
                    },
                    Err(e) => {
                        let kind = match e {
                            super::zip::ZipError::UnsupportedMethod { .. }
                            | super::zip::ZipError::Encrypted(_) => WarningKind::Unsupported,
                            _ => WarningKind::Corrupt,
                        };
                        self.warn(kind, &format!("{location}!/{}", entry.name), e.to_string());
                        continue;
                    }
                },
            };
            let entry_location = format!("{location}!/{}", entry.name);
            if entry.uncompressed_size > self.limits.max_entry_bytes {
                self.warn(
                    WarningKind::EntrySizeLimit,
                    &entry_location,
                    format!(
                        "{} bytes exceeds the per-entry limit; skipped",
                        entry.uncompressed_size
                    ),
                );
                continue;
            }
            let ratio = entry.uncompressed_size / entry.compressed_size.max(1);
            if entry.uncompressed_size > RATIO_FLOOR && ratio > self.limits.max_ratio {
                self.warn(
                    WarningKind::CompressionRatio,
                    &entry_location,
                    format!("compression ratio {ratio} is bomb-like; skipped"),
                );
                continue;
            }
            if entry.uncompressed_size > self.budget {
                self.warn(
                    WarningKind::TotalBytesLimit,
                    &entry_location,
                    "the decompression budget for this file is spent; skipped".into(),
                );
                continue;
            }
            let body = if entry.method == 0 {
                match zip.raw_data(entry) {
                    Ok(raw) => raw,
                    Err(e) => {
                        self.warn(WarningKind::Corrupt, &entry_location, e.to_string());
                        continue;
                    }
                }
            } else {
                // Trust the directory's size only as far as the limit: a lying header is cut.
                let limit = entry.uncompressed_size.min(self.budget);
                match zip.read(entry, limit) {
                    Ok(body) => body.into(),
                    Err(e) => {
                        self.warn(WarningKind::Corrupt, &entry_location, e.to_string());
                        continue;
                    }
                }
            };
            self.budget = self.budget.saturating_sub(body.len() as u64);
            match kind {
                EntryKind::Nested => {
                    self.scan_nested(&entry_location, &body, depth + 1, Some(link))
                }
                kind => self.record(&mut facts, kind, &entry.name, &body),
            }
        }
        self.identify(location, data, &facts);
    }

    fn scan_tar(&mut self, location: &str, data: &[u8], depth: usize, link: &Link<'_>) {
        let (entries, corrupt) = tar::entries(data, self.limits.max_entries);
        if corrupt {
            self.warn(
                WarningKind::Corrupt,
                location,
                "corrupt tar header; entries after it were not read".into(),
            );
        }
        if entries.len() >= self.limits.max_entries {
            self.warn(
                WarningKind::EntryCountLimit,
                location,
                format!(
                    "only the first {} entries were read",
                    self.limits.max_entries
                ),
            );
        }
        let mut facts = ContainerFacts::default();
        for entry in entries {
            if entry.data.len() < 4 {
                continue;
            }
            let head = &entry.data[..entry.data.len().min(HEAD_LEN)];
            match Self::classify(&entry.name, head) {
                EntryKind::Skip => {}
                EntryKind::Nested => {
                    let entry_location = format!("{location}!/{}", entry.name);
                    self.scan_nested(&entry_location, entry.data, depth + 1, Some(link));
                }
                kind => self.record(&mut facts, kind, &entry.name, entry.data),
            }
        }
        self.identify(location, data, &facts);
    }

    fn identify<B: ZipBytes + ?Sized>(&mut self, location: &str, data: &B, facts: &ContainerFacts) {
        if facts.classes.is_empty() && facts.poms.is_empty() {
            return;
        }
        let hashes = self.hashes.then(|| container_hashes(data));
        let info = ContainerInfo {
            location,
            file: &self.file,
            hashes,
        };
        self.components.extend(identify(&info, facts));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testkit::{JarOptions, log4j_core_jar, zip_of};

    #[test]
    fn an_archive_already_on_the_nesting_path_is_a_quine_and_not_reopened() {
        let limits = Limits::default();
        let jar = zip_of(&[(
            "lib/a.jar",
            &log4j_core_jar("2.14.1", &JarOptions::default()),
        )]);
        let mut unpacker = Unpacker::new(&limits, "q.zip", true);
        // As if `jar` were being read from inside itself (what a zip quine does).
        let compute_key = || chain_key(&jar[..]);
        let outer = Link {
            len: jar.len() as u64,
            key: OnceCell::new(),
            compute_key: &compute_key,
            parent: None,
        };
        unpacker.scan_nested("q.zip!/q.zip", &jar, 1, Some(&outer));
        assert_eq!(unpacker.warnings.len(), 1);
        assert_eq!(unpacker.warnings[0].kind, WarningKind::Quine);
        assert!(unpacker.components.is_empty());
        // Same length, other bytes: not a quine.
        let mut other = jar.clone();
        let last = other.len() - 1;
        other[last] ^= 1;
        let mut unpacker = Unpacker::new(&limits, "q.zip", true);
        unpacker.scan_nested("q.zip!/q.zip", &other, 1, Some(&outer));
        assert!(
            unpacker
                .warnings
                .iter()
                .all(|w| w.kind != WarningKind::Quine)
        );
    }

    #[test]
    fn one_pass_hashes_equal_separate_hashes() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for data in [&b""[..], b"abc", &big[..65_536], &big[..65_537], &big] {
            assert_eq!(
                container_hashes(data),
                (
                    hex::encode(sha2::Sha256::digest(data)),
                    hex::encode(sha1::Sha1::digest(data)),
                )
            );
        }
        assert_eq!(
            container_hashes(&b"abc"[..]).1,
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn text_and_image_names_are_checked_by_their_magic_only() {
        for name in [
            "META-INF/LICENSE.txt",
            "a/b/Messages.PROPERTIES",
            "META-INF/services/x.Y",
        ] {
            let base = name.rsplit('/').next().unwrap();
            assert!(settled_by_name(name, base), "{name}");
            assert!(Unpacker::classify_name(name).is_none(), "{name}");
        }
        for name in [
            "x/JndiManager.classdata",
            "LICENSE",
            "lib/a.jar",
            "a.txt.gz",
        ] {
            let base = name.rsplit('/').next().unwrap();
            assert!(!settled_by_name(name, base), "{name}");
        }
        let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52];
        assert!(matches!(Unpacker::classify_magic(&class), EntryKind::Class));
        assert!(matches!(
            Unpacker::classify_magic(b"PK\x03\x04\x14\0\0\0"),
            EntryKind::Nested
        ));
        assert!(matches!(
            Unpacker::classify_magic(b"#!/bin/s"),
            EntryKind::Skip
        ));
        assert!(matches!(
            Unpacker::classify_magic(b"Apache L"),
            EntryKind::Skip
        ));
    }

    #[test]
    fn zip_extensions_are_only_a_hint() {
        assert!(has_zip_extension("X.WAR"));
        assert!(!has_zip_extension("notes.txt"));
        let limits = Limits::default();
        let mut unpacker = Unpacker::new(&limits, "x.jar", true);
        unpacker.scan_blob("x.jar", b"not a zip at all, just text", 0);
        assert!(unpacker.warnings.is_empty() && unpacker.components.is_empty());
    }
}
