//! An OSV record (as imported and as sent to `/osv/v1/query` clients): any bytes through the
//! parser and schema checks, and every accepted record through the conversion to a report and
//! its validation. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = vulnshare_formats::osv::parse_osv(data) else {
        return;
    };
    let _ = record.to_json_pretty();
    if let Ok(content) = vulnshare_formats::osv::osv_to_report_content(&record) {
        let _ = content.validate("2021-12-09T08:00:00Z".parse().unwrap());
    }
});
