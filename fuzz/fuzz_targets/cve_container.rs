//! A CVE JSON 5 CNA container, as `cve publish` sends it to `/cve-services/api/cve/{id}/cna`
//! and `/reject`: any JSON through the published and rejected container rules, and every
//! accepted container through stamping and record assembly. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vulnshare_formats::cve::container;

fuzz_target!(|data: &[u8]| {
    let Ok(mut value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // The server reads `{"cnaContainer": {…}}`; the fixtures are full records or bare containers.
    for pointer in ["/cnaContainer", "/containers/cna"] {
        if let Some(cna) = value.pointer(pointer).cloned() {
            value = cna;
            break;
        }
    }
    let published = container::check_published(&value).is_ok();
    let rejected = container::check_rejected(&value).is_ok();
    if published || rejected {
        let now = "2021-12-10T00:00:00Z".parse().unwrap();
        container::stamp_provider(&mut value, "8254265b-2729-46b6-b9e3-3dfca2d5bfca", "fuzz", now);
    }
});
