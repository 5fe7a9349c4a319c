//! Safety limits: each one stops work on the offending archive with a warning, never a crash.

use vulnshare_scan::scan::testkit::{JarOptions, ZipBuilder, ZipOptions, log4j_core_jar, nested};
use vulnshare_scan::scan::{Limits, WarningKind, scan_bytes};

fn kinds(report: &vulnshare_scan::scan::ScanReport) -> Vec<WarningKind> {
    report.warnings.iter().map(|w| w.kind).collect()
}

#[test]
fn twenty_deep_nesting_warns_at_the_default_depth_and_is_found_with_a_higher_one() {
    let deep = nested(log4j_core_jar("2.14.1", &JarOptions::default()), 20);
    let report = scan_bytes("deep.jar", &deep, &Limits::default(), None);
    assert!(kinds(&report).contains(&WarningKind::DepthLimit));
    assert!(report.components.is_empty());
    let limits = Limits {
        max_depth: 32,
        ..Limits::default()
    };
    let report = scan_bytes("deep.jar", &deep, &limits, None);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.components.len(), 1);
    assert!(report.components[0].location.ends_with("lib/level0.jar"));
    assert_eq!(report.components[0].location.matches("!/").count(), 20);
}

#[test]
fn entry_count_total_bytes_and_entry_size_limits_warn() {
    let jar = log4j_core_jar("2.14.1", &JarOptions::default());
    let few = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    let report = scan_bytes("a.jar", &jar, &few, None);
    assert!(kinds(&report).contains(&WarningKind::EntryCountLimit));

    let mut outer = ZipBuilder::new(ZipOptions::default());
    for i in 0..4 {
        outer.add(&format!("lib/{i}.jar"), &jar);
    }
    let outer = outer.finish();
    let small_budget = Limits {
        max_total_bytes: jar.len() as u64 * 2,
        ..Limits::default()
    };
    let report = scan_bytes("outer.zip", &outer, &small_budget, None);
    assert!(kinds(&report).contains(&WarningKind::TotalBytesLimit));
    assert!(
        !report.components.is_empty(),
        "what fit in the budget is still scanned"
    );

    let tiny_entries = Limits {
        max_entry_bytes: 100,
        ..Limits::default()
    };
    let report = scan_bytes("outer.zip", &outer, &tiny_entries, None);
    assert!(kinds(&report).contains(&WarningKind::EntrySizeLimit));
}

#[test]
fn a_lying_size_header_is_cut_at_the_declared_size() {
    let mut zip = ZipBuilder::new(ZipOptions::default());
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &vec![0u8; 8 << 20]).unwrap();
    let stream = e.finish().unwrap();
    // Claims 1000 bytes, inflates to 8 MiB: only 1000 are ever produced.
    zip.add_raw("claims-small.jar", 8, &stream, 1000, 0);
    let report = scan_bytes("liar.zip", &zip.finish(), &Limits::default(), None);
    assert!(report.components.is_empty());
}

#[test]
fn truncations_and_bit_flips_of_a_nested_archive_never_panic() {
    let jar = log4j_core_jar("2.14.1", &JarOptions::default());
    let war = vulnshare_scan::scan::testkit::zip_of(&[("WEB-INF/lib/a.jar", &jar)]);
    let limits = Limits::default();
    for end in (0..war.len()).step_by(97) {
        scan_bytes("t.war", &war[..end], &limits, None);
    }
    for at in (0..war.len()).step_by(13) {
        let mut flipped = war.clone();
        flipped[at] ^= 0x5a;
        scan_bytes("f.war", &flipped, &limits, None);
    }
}
