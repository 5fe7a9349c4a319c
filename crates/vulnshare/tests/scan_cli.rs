//! `vulnshare scan` end to end: the generated corpus written to a temporary folder, scanned by
//! the real binary; exit codes, JSON, CycloneDX, SARIF, excludes, symlink loops, loose classes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use vulnshare_scan::scan::testkit::{
    JarOptions, class_bytes, corpus, log4j_core_classes, log4j_core_jar,
};

fn vulnshare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vulnshare"))
        .arg("scan")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn write_corpus(dir: &Path) {
    for fixture in corpus() {
        std::fs::write(dir.join(&fixture.name), &fixture.bytes).unwrap();
    }
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn the_corpus_yields_findings_sbom_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir(&corpus_dir).unwrap();
    write_corpus(&corpus_dir);
    let bom_path = dir.path().join("bom.json");
    let sarif_path = dir.path().join("out.sarif");
    let out = vulnshare(&[
        "--json",
        "--cyclonedx",
        bom_path.to_str().unwrap(),
        "--sarif",
        sarif_path.to_str().unwrap(),
        corpus_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let components = report["components"].as_array().unwrap();
    let nested = format!(
        "{}/app.ear!/lib/x.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
        corpus_dir.display()
    );
    assert!(components.iter().any(|c| c["location"] == nested.as_str()));
    let kinds: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["kind"].as_str())
        .collect();
    for kind in ["depth_limit", "compression_ratio", "corrupt"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    let bom: Value = serde_json::from_slice(&std::fs::read(&bom_path).unwrap()).unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    assert!(
        bom["serialNumber"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:")
    );
    let core = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["evidence"]["occurrences"][0]["location"] == nested.as_str())
        .expect("the nested jar is in the SBOM");
    assert_eq!(
        core["purl"],
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    );
    assert_eq!(core["hashes"][0]["alg"], "SHA-256");
    assert_eq!(core["hashes"][0]["content"].as_str().unwrap().len(), 64);
    let identity = core["evidence"]["identity"].as_array().unwrap();
    assert!(identity.iter().any(|i| {
        i["field"] == "version"
            && i["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["technique"] == "binary-analysis")
    }));
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    assert!(
        vulns
            .iter()
            .any(|v| v["id"] == "CVE-2021-44228" && v["analysis"]["state"] == "exploitable")
    );
    assert!(vulns.iter().any(
        |v| v["id"] == "CVE-2021-44228" && v["analysis"]["justification"] == "code_not_present"
    ));

    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "CVE-2021-44228" && r["level"] == "error")
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = dir.path().join("fixed.jar");
    std::fs::write(&fixed, log4j_core_jar("2.17.1", &JarOptions::default())).unwrap();
    assert_eq!(vulnshare(&[fixed.to_str().unwrap()]).status.code(), Some(0));
    let medium = dir.path().join("medium.jar");
    std::fs::write(&medium, log4j_core_jar("2.17.0", &JarOptions::default())).unwrap();
    let path = medium.to_str().unwrap();
    assert_eq!(
        vulnshare(&["--fail-on", "critical", path]).status.code(),
        Some(0)
    );
    assert_eq!(
        vulnshare(&["--fail-on", "medium", path]).status.code(),
        Some(1)
    );
    assert_eq!(vulnshare(&["/definitely/not/here"]).status.code(), Some(2));
    assert_eq!(vulnshare(&["--exclude", "[", path]).status.code(), Some(2));
}

#[test]
fn excludes_symlink_loops_and_loose_classes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("old.jar"),
        log4j_core_jar("2.14.1", &JarOptions::default()),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
    let classes = root.join("exploded/WEB-INF/classes");
    for (tail, strings, major) in log4j_core_classes("2.15.0") {
        let name = format!("org/apache/logging/{tail}");
        let path = classes.join(format!("{name}.class"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, class_bytes(&name, major, &strings)).unwrap();
    }
    let out = vulnshare(&["--json", "--follow-symlinks", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let locations: Vec<&str> = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["location"].as_str().unwrap())
        .collect();
    let exploded = format!("{}", classes.display());
    assert!(locations.contains(&exploded.as_str()), "{locations:?}");
    assert!(locations.iter().any(|l| l.ends_with("/old.jar")));

    let out = vulnshare(&[
        "--json",
        "--exclude",
        "*.jar",
        "--exclude",
        "**/exploded",
        root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(json(&out)["components"].as_array().unwrap().is_empty());
}

#[test]
fn advisories_from_an_osv_folder_are_matched() {
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("log4j-core-2.14.1.jar");
    let options = JarOptions {
        pom_version: Some("2.14.1".into()),
        ..JarOptions::default()
    };
    std::fs::write(&jar, log4j_core_jar("2.14.1", &options)).unwrap();
    let osv = dir.path().join("osv");
    std::fs::create_dir(&osv).unwrap();
    std::fs::write(
        osv.join("GHSA-jfh8-c2jp-5v3q.json"),
        r#"{"id": "GHSA-jfh8-c2jp-5v3q", "aliases": ["CVE-2021-44228"],
            "database_specific": {"severity": "CRITICAL"},
            "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}]}"#,
    )
    .unwrap();
    let out = vulnshare(&[
        "--json",
        "--advisories",
        osv.to_str().unwrap(),
        jar.to_str().unwrap(),
    ]);
    let report = json(&out);
    assert_eq!(
        report["components"][0]["advisories"][0]["id"],
        "GHSA-jfh8-c2jp-5v3q"
    );
    assert_eq!(
        report["components"][0]["advisories"][0]["severity"],
        "critical"
    );
}
