//! Any bytes through the whole archive stack (signature sniffing, zip, tar, gzip, bzip2, xz,
//! zstd, nesting, class parsing, identification): it must never panic, hang or blow memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vulnshare_scan::scan::{Limits, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_total_bytes: 64 << 20,
        max_entry_bytes: 16 << 20,
        ..Limits::default()
    };
    let _ = scan_bytes("fuzz.jar", data, &limits, None);
});
