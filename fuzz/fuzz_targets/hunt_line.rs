//! Log lines through the hunter (`vulnshare hunt`): the decoders (URL, \u, \x, octal, JSON,
//! HTML), the log4j lookup interpreter, classification and source extraction, line by line and
//! through the streaming reader. It must never panic, hang or blow memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vulnshare_scan::hunt::Hunter;

fuzz_target!(|data: &[u8]| {
    let hunter = Hunter::default();
    let _ = hunter.scan_line(data);
    let _ = hunter.scan_reader(std::io::Cursor::new(data), |_| {});
});
