//! The scanner on real released jars: Debian's packages under /usr/share/java (CI installs
//! liblog4j2-java, liblog4j1.2-java and liblogback-java), and optionally a folder of upstream
//! `log4j-core-<version>.jar` files named by `VULNSHARE_LOG4J_JARS`. Skipped with a note when
//! the jars are absent, except under CI (`CI` set), where it fails.

use std::path::Path;

use vulnshare_scan::scan::report::Status;
use vulnshare_scan::scan::testkit::vulnerable_in;
use vulnshare_scan::scan::{Limits, ScanReport, scan_bytes};

fn scan(path: &Path) -> Option<ScanReport> {
    let Ok(bytes) = std::fs::read(path) else {
        // CI installs the packages, so there an absent jar is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent although CI is set",
            path.display()
        );
        eprintln!(
            "note: {} is absent; skipped (apt-get install the Debian package)",
            path.display()
        );
        return None;
    };
    Some(scan_bytes(
        &path.display().to_string(),
        &bytes,
        &Limits::default(),
        None,
    ))
}

fn vulnerable(report: &ScanReport, artifact: &str) -> Vec<&'static str> {
    let component = report
        .components
        .iter()
        .find(|c| c.artifact == artifact)
        .unwrap_or_else(|| panic!("no {artifact} in {:?}", report.components));
    component
        .cves
        .iter()
        .filter(|v| v.status == Status::Vulnerable)
        .map(|v| v.cve)
        .collect()
}

#[test]
fn debian_log4j_core_2_19_is_fixed_by_class_content() {
    let Some(report) = scan(Path::new("/usr/share/java/log4j-core.jar")) else {
        return;
    };
    let core = &report.components[0];
    assert_eq!(core.artifact, "log4j-core");
    assert!(core.conflicts.is_empty(), "{:?}", core.conflicts);
    assert_eq!(core.inferred_versions.as_deref(), Some("2.17.1 or later"));
    assert!(vulnerable(&report, "log4j-core").is_empty());
    assert!(core.sha256.as_ref().is_some_and(|h| h.len() == 64));
}

#[test]
fn debian_log4j_1_2_17_is_recognised_as_vendor_patched() {
    let Some(report) = scan(Path::new("/usr/share/java/log4j-1.2-1.2.17.jar")) else {
        return;
    };
    assert!(vulnerable(&report, "log4j").is_empty());
    let c = &report.components[0];
    let status = |cve| c.cves.iter().find(|v| v.cve == cve).unwrap().status;
    assert_eq!(status("CVE-2021-4104"), Status::Mitigated);
    assert_eq!(status("CVE-2019-17571"), Status::Fixed);
}

#[test]
fn bridges_and_logback_are_not_mistaken_for_log4j() {
    for (jar, artifact) in [
        ("/usr/share/java/log4j-1.2-api.jar", "log4j-1.2-api"),
        ("/usr/share/java/log4j-over-slf4j.jar", "log4j-over-slf4j"),
        ("/usr/share/java/logback-classic.jar", "logback-classic"),
    ] {
        let Some(report) = scan(Path::new(jar)) else {
            continue;
        };
        assert!(
            report
                .components
                .iter()
                .all(|c| c.artifact == artifact || c.cves.is_empty()),
            "{jar}: {:?}",
            report.components
        );
        assert!(report.components.iter().any(|c| c.artifact == artifact));
    }
}

#[test]
fn upstream_log4j_core_jars_get_the_verdicts_of_their_version() {
    let Some(folder) = std::env::var_os("VULNSHARE_LOG4J_JARS") else {
        eprintln!("note: VULNSHARE_LOG4J_JARS not set; upstream jar check skipped");
        return;
    };
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_prefix("log4j-core-")
            .and_then(|n| n.strip_suffix(".jar"))
        else {
            continue;
        };
        let report = scan(&path).unwrap();
        assert_eq!(
            vulnerable(&report, "log4j-core"),
            vulnerable_in(version),
            "{name}"
        );
        assert!(report.components[0].conflicts.is_empty(), "{name}");
    }
}
