//! STIX objects as members post them to a TAXII collection
//! (`POST /taxii2/api1/collections/{id}/objects/`): any JSON envelope through the per-object
//! checks (ids, timestamps, markings, indicator patterns), and any text through the indicator
//! finder the threat-report export runs. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vulnshare_formats::stix;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stix::export::find_indicators(text);
        let _ = stix::parse_stix_time(text);
        let _ = stix::indicator_host(text);
    }
    let Ok(envelope) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match envelope.get("objects") {
        Some(Value::Array(objects)) => {
            for object in objects {
                let _ = stix::check_object(object);
            }
        }
        _ => {
            let _ = stix::check_object(&envelope);
        }
    }
});
