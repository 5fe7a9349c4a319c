//! An uploaded SBOM (`POST /api/v1/products/{id}/sboms`): any bytes through the CycloneDX and
//! SPDX readers with the server's limits, and every component's purl through the package
//! mapping used for exposure matching. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vulnshare_formats::sbom::{SbomLimits, parse_sbom};

fuzz_target!(|data: &[u8]| {
    let limits = SbomLimits {
        max_bytes: 1 << 20,
        max_components: 10_000,
        ..SbomLimits::default()
    };
    let Ok(sbom) = parse_sbom(data, &limits) else {
        return;
    };
    for component in &sbom.components {
        let _ = component.purl_parts();
    }
});
