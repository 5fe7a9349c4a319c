//! The generated corpus against its ground-truth table: every fixture's components, CVE
//! verdicts and warnings, with no extra log4j component (100% recall and precision).

use vulnshare_scan::scan::report::Status;
use vulnshare_scan::scan::testkit::corpus;
use vulnshare_scan::scan::{Limits, scan_bytes};

#[test]
fn every_fixture_matches_its_ground_truth() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for fixture in corpus() {
        let report = scan_bytes(&fixture.name, &fixture.bytes, &limits, None);
        let log4j: Vec<_> = report
            .components
            .iter()
            .filter(|c| c.family.is_some() || c.artifact.starts_with("log4j"))
            .collect();
        if log4j.len() != fixture.expected.len() {
            failures.push(format!(
                "{}: expected {} components, found {:?}",
                fixture.name,
                fixture.expected.len(),
                log4j
                    .iter()
                    .map(|c| (&c.location, &c.artifact))
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        for expected in &fixture.expected {
            let Some(found) = log4j.iter().find(|c| {
                c.location == expected.location
                    && format!("{}:{}", c.group, c.artifact) == expected.coordinates
            }) else {
                failures.push(format!("{}: missing {}", fixture.name, expected.location));
                continue;
            };
            for verdict in &found.cves {
                let want = if expected.vulnerable.contains(&verdict.cve) {
                    Some(Status::Vulnerable)
                } else if expected.mitigated.contains(&verdict.cve) {
                    Some(Status::Mitigated)
                } else {
                    None
                };
                let ok = match want {
                    Some(s) => verdict.status == s,
                    None => !matches!(verdict.status, Status::Vulnerable | Status::Mitigated),
                };
                if !ok {
                    failures.push(format!(
                        "{}: {} is {:?} ({}), expected {:?}",
                        fixture.name, verdict.cve, verdict.status, verdict.reason, want
                    ));
                }
            }
            if expected.relocated != found.relocated_prefix.is_some() {
                failures.push(format!("{}: relocation not as expected", fixture.name));
            }
            if expected.conflict == found.conflicts.is_empty() {
                failures.push(format!("{}: conflicts {:?}", fixture.name, found.conflicts));
            }
        }
        for kind in &fixture.warnings {
            if !report.warnings.iter().any(|w| w.kind == *kind) {
                failures.push(format!(
                    "{}: no {kind:?} warning in {:?}",
                    fixture.name, report.warnings
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
