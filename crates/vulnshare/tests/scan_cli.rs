//! `vulnshare scan` end to end: the generated corpus written to a temporary folder, scanned by
//! the real binary; exit codes, JSON, CycloneDX, SARIF, excludes, symlink loops, loose classes;
//! and `--upload` / `--advisories URL` against a real `vulnshare serve --demo`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::Server;
use serde_json::{Value, json};
use vulnshare_scan::scan::testkit::{
    JarOptions, class_bytes, corpus, log4j_core_classes, log4j_core_jar,
};

fn vulnshare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vulnshare"))
        .arg("scan")
        .args(args)
        .env_remove("VULNSHARE_TOKEN")
        .output()
        .expect("the binary runs")
}

fn write_corpus(dir: &Path) {
    for fixture in corpus() {
        std::fs::write(dir.join(&fixture.name), &fixture.bytes).unwrap();
    }
}

/// A log4j-core 2.14.1 jar with its pom.properties, so it has a purl with a version.
fn write_log4j_core_2_14_1(dir: &Path) -> std::path::PathBuf {
    let jar = dir.join("log4j-core-2.14.1.jar");
    let options = JarOptions {
        pom_version: Some("2.14.1".into()),
        ..JarOptions::default()
    };
    std::fs::write(&jar, log4j_core_jar("2.14.1", &options)).unwrap();
    jar
}

/// Asserts the exit code, showing standard error when it differs.
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    assert_exit(&out, 1);
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
fn jar_hashes_are_computed_for_the_sbom_or_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let jar = write_log4j_core_2_14_1(dir.path());
    let (expected, _) =
        vulnshare_scan::scan::archive::container_hashes(&std::fs::read(&jar).unwrap()[..]);
    let path = jar.to_str().unwrap();
    let plain = json(&vulnshare(&["--json", path]));
    assert!(plain["components"][0]["sha256"].is_null());
    let hashed = json(&vulnshare(&["--json", "--hashes", path]));
    assert_eq!(hashed["components"][0]["sha256"], expected.as_str());
    assert_eq!(hashed["components"][0]["sha1"].as_str().unwrap().len(), 40);
    let bom_path = dir.path().join("bom.json");
    vulnshare(&["--cyclonedx", bom_path.to_str().unwrap(), path]);
    let bom: Value = serde_json::from_slice(&std::fs::read(&bom_path).unwrap()).unwrap();
    assert_eq!(
        bom["components"][0]["hashes"][0]["content"],
        expected.as_str()
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
    let jar = write_log4j_core_2_14_1(dir.path());
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

/// On the demo server: publishes a TLP:CLEAR advisory for log4j-core from the demo report
/// (case, triage, fix, publication), returning its id.
fn publish_log4shell_advisory(server: &Server) -> String {
    let admin = server.token("Platform Operator");
    let vendor = server.token("Alibaba Cloud");
    let (_, reports) = server.call("GET", "/api/v1/reports", vendor, None);
    let report_id = reports["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, case) = server.call(
        "POST",
        "/api/v1/cases",
        admin,
        Some(json!({"title": "Log4Shell", "report_ids": [report_id]})),
    );
    assert_eq!(status, 201, "{case}");
    let case_id = case["case"]["id"].as_str().unwrap();
    let transitions = format!("/api/v1/reports/{report_id}/transitions");
    for (token, to) in [
        (admin, "triaged"),
        (admin, "coordinating"),
        (vendor, "fix_available"),
    ] {
        let (status, answer) = server.call("POST", &transitions, token, Some(json!({"to": to})));
        assert_eq!(status, 200, "{to}: {answer}");
    }
    let (status, published) = server.call(
        "POST",
        &format!("/api/v1/cases/{case_id}/advisory"),
        admin,
        Some(json!({"tlp": "CLEAR", "summary": "Log4Shell: RCE in log4j-core", "remediation": "Upgrade to 2.15.0"})),
    );
    assert_eq!(status, 201, "{published}");
    published["advisory"]["id"].as_str().unwrap().to_owned()
}

/// Registers a product of the token's organization; returns its id.
fn create_product(server: &Server, token: &str, name: &str) -> String {
    let (_, me) = server.call("GET", "/api/v1/me", token, None);
    let org_id = me["organization"]["id"].as_str().unwrap();
    let (status, product) = server.call(
        "POST",
        &format!("/api/v1/organizations/{org_id}/products"),
        token,
        Some(json!({"name": name, "versions": ["1.0"]})),
    );
    assert_eq!(status, 201, "{product}");
    product["id"].as_str().unwrap().to_owned()
}

#[test]
fn upload_and_server_advisories_against_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    let server = Server::start(&data_dir);
    let advisory_id = publish_log4shell_advisory(&server);
    let operator = server.token("Example Operator");
    let product = create_product(&server, operator, "Gateway");
    let foreign = create_product(&server, server.token("Apache Software Foundation"), "Log4j");

    let jar = write_log4j_core_2_14_1(dir.path());
    let jar = jar.to_str().unwrap();
    let url = server.base_url.as_str();
    let scan = |token: Option<&str>, product: &str, args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vulnshare"));
        command
            .arg("scan")
            .args(args)
            .args([
                "--upload",
                url,
                "--product",
                product,
                "--product-version",
                "1.0",
            ])
            .arg(jar)
            .env_remove("VULNSHARE_TOKEN");
        if let Some(token) = token {
            command.env("VULNSHARE_TOKEN", token);
        }
        command.output().unwrap()
    };

    // Advisories from the server, then the SBOM uploaded; the server finds the exposure.
    let bom = dir.path().join("bom.json");
    let out = scan(
        Some(operator),
        &product,
        &[
            "--json",
            "--advisories",
            url,
            "--cyclonedx",
            bom.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 1);
    let report = json(&out);
    let advisories = report["components"][0]["advisories"].as_array().unwrap();
    assert!(
        advisories.iter().any(|a| a["id"] == advisory_id.as_str()),
        "{report}"
    );
    let upload = &report["upload"];
    let sbom_id = upload["sbom"]["id"]
        .as_str()
        .expect("the upload answer names the SBOM");
    assert_eq!(upload["sbom"]["product_id"], product.as_str());
    assert_eq!(upload["sbom"]["product_version"], "1.0");
    assert!(upload["sbom"]["component_count"].as_i64().unwrap() >= 1);
    let exposures = upload["exposures"].as_array().unwrap();
    assert!(
        exposures
            .iter()
            .any(|e| e["advisory_id"] == advisory_id.as_str()
                && e["name"] == "org.apache.logging.log4j:log4j-core"
                && e["version"] == "2.14.1"),
        "{upload}"
    );
    assert!(bom.exists());
    let (status, listed) = server.call(
        "GET",
        &format!("/api/v1/products/{product}/sboms"),
        operator,
        None,
    );
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == sbom_id),
        "{listed}"
    );

    // The table names the SBOM and the exposure; the token may come from --token.
    let out = scan(None, &product, &["--token", operator]);
    assert_exit(&out, 1);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("uploaded SBOM sbom"), "{table}");
    assert!(
        table.contains(&format!(
            "exposed: {advisory_id} org.apache.logging.log4j:log4j-core 2.14.1"
        )),
        "{table}"
    );

    // A wrong token: exit 2 with the server's words, and the SBOM on disk all the same.
    let kept = dir.path().join("kept.json");
    let out = scan(
        Some("vs_wrong"),
        &product,
        &["--cyclonedx", kept.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the SBOM upload (401"), "{stderr}");
    assert!(kept.exists(), "the local SBOM is written before the upload");

    // Another organization's product is refused.
    let out = scan(Some(operator), &foreign, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the SBOM upload (404"), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");

    // No token, or a URL that is not one: refused before scanning.
    let out = scan(None, &product, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VULNSHARE_TOKEN"));
    let out = vulnshare(&[
        "--upload",
        "ftp://x",
        "--product",
        "p",
        "--product-version",
        "1",
        "--token",
        "t",
        jar,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an http(s) URL"));

    // Without a token the server still answers with TLP:CLEAR advisories.
    let out = vulnshare(&["--json", "--advisories", url, jar]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json(&out)["components"][0]["advisories"][0]["id"],
        advisory_id.as_str()
    );
}

#[test]
fn an_unreachable_advisory_server_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let jar = write_log4j_core_2_14_1(dir.path());
    // A port that was free a moment ago: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = vulnshare(&["--advisories", &url, jar.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}
