//! Any bytes through the class-file reader: errors are fine, panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vulnshare_scan::scan::classfile::parse(data);
});
