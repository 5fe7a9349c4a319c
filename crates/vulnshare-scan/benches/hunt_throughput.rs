//! Throughput of `Hunter::scan_bytes` and `scan_bytes_parallel` on clean and mixed logs.
//! Run with `cargo bench -p vulnshare-scan`; prints MB/s.

use std::time::Instant;

use vulnshare_scan::hunt::{Hunter, corpus};

fn clean_log(bytes: usize) -> Vec<u8> {
    let line = b"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] \"GET /static/app.js?v=3 HTTP/1.1\" 200 5123 \"https://www.example.org/\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n";
    line.iter().copied().cycle().take(bytes).collect()
}

fn mixed_log(bytes: usize) -> Vec<u8> {
    let mut log = clean_log(bytes);
    for line in corpus::generate(1, 2_000) {
        log.extend_from_slice(line.text.as_bytes());
        log.push(b'\n');
    }
    log
}

fn measure(name: &str, data: &[u8], scan: impl Fn(&[u8]) -> u64) {
    let start = Instant::now();
    let mut hits = 0;
    let rounds = 5;
    for _ in 0..rounds {
        hits = scan(data);
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(rounds);
    let mb = data.len() as f64 / 1e6;
    println!(
        "{name:<28} {mb:>8.1} MB {:>9.1} MB/s {hits:>6} hits",
        mb / seconds
    );
}

fn main() {
    let hunter = Hunter::default();
    let clean = clean_log(256 << 20);
    let mixed = mixed_log(64 << 20);
    measure("clean, sequential", &clean, |d| {
        hunter.scan_bytes(d, |_| {}).hits
    });
    measure("clean, parallel", &clean, |d| {
        hunter.scan_bytes_parallel(d).1.hits
    });
    measure("mixed, sequential", &mixed, |d| {
        hunter.scan_bytes(d, |_| {}).hits
    });
    measure("mixed, parallel", &mixed, |d| {
        hunter.scan_bytes_parallel(d).1.hits
    });
}
