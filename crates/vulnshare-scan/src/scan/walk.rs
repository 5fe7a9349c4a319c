//! The parallel walk over files and folders on disk.
//!
//! Worker threads (the `ignore` crate's parallel walker) each read a file's first bytes. A zip
//! (jar, war, ear) is then read in place: its central directory and the entries that matter,
//! never the rest. Other archives, classes and pom.properties are read whole. Symbolic links
//! are not followed unless asked, and then loops are detected. An unreadable file is a warning.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use super::archive::{Unpacker, has_zip_extension};
use super::classfile;
use super::identify::{ContainerFacts, ContainerInfo, identify, parse_pom_properties};
use super::limits::{ScanWarning, WarningKind};
use super::report::{ScanReport, ScanStats};
use super::signature::{HEAD_LEN, Signature, sniff};
use super::zip::{FileBytes, ZipBytes, find_end_record};
use super::{ScanError, ScanOptions};

/// Compiles `--exclude` globs.
pub fn exclude_set(patterns: &[String]) -> Result<GlobSet, ScanError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| ScanError::BadExclude {
            pattern: pattern.clone(),
            reason: e.to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| ScanError::BadExclude {
        pattern: patterns.join(" "),
        reason: e.to_string(),
    })
}

fn excluded(set: &GlobSet, path: &Path) -> bool {
    !set.is_empty()
        && (set.is_match(path) || path.file_name().is_some_and(|name| set.is_match(name)))
}

#[derive(Default)]
struct Shared {
    report: ScanReport,
    loose: BTreeMap<String, ContainerFacts>,
}

/// Walks `paths` and scans every file; components in loose class folders are identified last.
pub fn walk(paths: &[std::path::PathBuf], options: &ScanOptions) -> Result<ScanReport, ScanError> {
    let Some(first) = paths.first() else {
        return Ok(ScanReport::default());
    };
    for path in paths {
        if std::fs::symlink_metadata(path).is_err() {
            return Err(ScanError::NotFound(path.display().to_string()));
        }
    }
    let excludes = exclude_set(&options.excludes)?;
    let mut builder = WalkBuilder::new(first);
    for path in &paths[1..] {
        builder.add(path);
    }
    builder
        .standard_filters(false)
        .follow_links(options.follow_symlinks)
        .threads(options.threads);
    let shared = Mutex::new(Shared::default());
    builder.build_parallel().run(|| {
        let excludes = &excludes;
        let shared = &shared;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let warning = ScanWarning {
                        kind: WarningKind::Io,
                        location: String::new(),
                        message: e.to_string(),
                    };
                    shared.lock().expect("lock").report.warnings.push(warning);
                    return WalkState::Continue;
                }
            };
            if excluded(excludes, entry.path()) {
                return WalkState::Skip;
            }
            if entry.file_type().is_some_and(|t| t.is_file()) {
                scan_file(entry.path(), options, shared);
            }
            WalkState::Continue
        })
    });
    let shared = shared.into_inner().expect("lock");
    let mut report = shared.report;
    for (root, facts) in &shared.loose {
        let info = ContainerInfo {
            location: root,
            file: root,
            hashes: None,
        };
        report.components.extend(identify(&info, facts));
    }
    Ok(report)
}

fn io_warning(path: &str, e: std::io::Error) -> ScanWarning {
    ScanWarning {
        kind: WarningKind::Io,
        location: path.to_owned(),
        message: format!("cannot read: {e}"),
    }
}

/// Buffers above this size are freed after their file rather than kept for the next one.
const KEPT_BUFFER_BYTES: usize = 64 << 20;

thread_local! {
    // One read buffer per walker thread: a fresh allocation per file cost a page fault per
    // 4 KiB (the kernel zeroes every page) on top of the copy from the page cache.
    static READ_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Returns a file's buffer to this thread for the next file, unless it is unusually large.
fn give_back(data: Vec<u8>) {
    if data.capacity() <= KEPT_BUFFER_BYTES {
        READ_BUFFER.set(data);
    }
}

/// What a file's first bytes (and, for a possible zip, its last ones) say to do with it.
enum Plan {
    /// Nothing to look for: not an archive, a class or a pom.properties.
    Skip,
    /// A zip: read its central directory and the entries that matter, in place.
    Zip(FileBytes),
    /// Anything else worth scanning is read whole (tar, compressed streams, classes, poms).
    Whole(Vec<u8>),
}

/// Reads the head, decides, and scans one file.
fn scan_file(path: &Path, options: &ScanOptions, shared: &Mutex<Shared>) {
    let display = path.display().to_string();
    let plan = (|| -> std::io::Result<Plan> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut head = vec![0u8; HEAD_LEN.min(len as usize)];
        file.read_exact(&mut head)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let zip_at_end = |file: &mut File| -> std::io::Result<bool> {
            let tail_len = len.min(22 + u64::from(u16::MAX));
            file.seek(SeekFrom::Start(len - tail_len))?;
            let mut tail = vec![0u8; tail_len as usize];
            file.read_exact(&mut tail)?;
            Ok(find_end_record(&tail).is_some())
        };
        let (wanted, zip) = match sniff(&head) {
            Signature::Other if !has_zip_extension(&name) => (name == "pom.properties", false),
            Signature::Other | Signature::MaybePrefixedZip => {
                let zip = zip_at_end(&mut file)?;
                (zip, zip)
            }
            Signature::Zip => (true, true),
            _ => (true, false),
        };
        if !wanted {
            return Ok(Plan::Skip);
        }
        if len > options.limits.max_file_bytes {
            return Err(std::io::Error::other(format!(
                "{len} bytes exceeds the file size limit of {}",
                options.limits.max_file_bytes
            )));
        }
        if zip {
            return Ok(Plan::Zip(FileBytes::new(file, len)));
        }
        file.seek(SeekFrom::Start(0))?;
        let mut data = READ_BUFFER.take();
        data.clear();
        data.reserve(len as usize);
        file.read_to_end(&mut data)?;
        Ok(Plan::Whole(data))
    })();
    let progress = |bytes: u64| {
        if let Some(progress) = &options.progress {
            progress.files.fetch_add(1, Ordering::Relaxed);
            progress.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    };
    let mut unpacker = Unpacker::new(&options.limits, &display, options.hashes);
    let bytes = match plan {
        Ok(Plan::Skip) => {
            progress(0);
            shared.lock().expect("lock").report.stats.files += 1;
            return;
        }
        Err(e) => {
            progress(0);
            let mut shared = shared.lock().expect("lock");
            shared.report.stats.files += 1;
            shared.report.warnings.push(io_warning(&display, e));
            return;
        }
        Ok(Plan::Zip(file)) => {
            unpacker.scan_zip_file(&display, &file);
            file.len()
        }
        Ok(Plan::Whole(data)) => {
            let len = data.len() as u64;
            if classfile::looks_like_class(&data) || display.ends_with("pom.properties") {
                progress(len);
                scan_loose(&display, &data, shared);
                give_back(data);
                return;
            }
            unpacker.scan_blob(&display, &data, 0);
            give_back(data);
            len
        }
    };
    progress(bytes);
    let mut shared = shared.lock().expect("lock");
    let report = &mut shared.report;
    merge_stats(&mut report.stats, &unpacker.stats);
    report.stats.files += 1;
    report.stats.bytes_read += bytes;
    report.components.extend(unpacker.components);
    report.warnings.extend(unpacker.warnings);
}

fn merge_stats(into: &mut ScanStats, from: &ScanStats) {
    into.archives += from.archives;
    into.classes_parsed += from.classes_parsed;
}

/// A class or pom.properties lying loose in a folder (an exploded war, `WEB-INF/classes`).
fn scan_loose(display: &str, data: &[u8], shared: &Mutex<Shared>) {
    let normalized = display.replace('\\', "/");
    let mut shared = shared.lock().expect("lock");
    shared.report.stats.files += 1;
    shared.report.stats.bytes_read += data.len() as u64;
    if let Ok(class) = classfile::parse(data) {
        shared.report.stats.classes_parsed += 1;
        let root = normalized
            .strip_suffix(".class")
            .and_then(|p| p.strip_suffix(class.this_class.as_str()))
            .unwrap_or_else(|| normalized.rsplit_once('/').map_or("", |(dir, _)| dir))
            .trim_end_matches('/')
            .to_owned();
        let entry = normalized[root.len()..].trim_start_matches('/').to_owned();
        let entry = if entry.ends_with(".class") {
            entry
        } else {
            format!("{}.class", class.this_class)
        };
        shared
            .loose
            .entry(root)
            .or_default()
            .add_class(&entry, &class);
    } else if let Some((root, _)) = normalized.split_once("/META-INF/maven/")
        && let Some(pom) = parse_pom_properties(&normalized, &String::from_utf8_lossy(data))
    {
        shared
            .loose
            .entry(root.to_owned())
            .or_default()
            .poms
            .push(pom);
    }
}
