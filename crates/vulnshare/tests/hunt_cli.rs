//! Drives the real `vulnshare hunt` binary: exit codes, table and JSON output, compressed and
//! corrupt inputs, the STIX bundle, and `--submit` against a real `vulnshare serve --demo` on a
//! random port with a fresh SQLite database.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{BIN, Server};
use serde_json::Value;
use vulnshare_scan::hunt::corpus;

fn hunt(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("hunt")
        .args(args)
        .env_remove("VULNSHARE_TOKEN")
        .output()
        .expect("the binary runs")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Writes the generated corpus: attacks to `attacks.log`, look-alikes to `benign.log`.
fn write_corpus(dir: &Path) {
    let mut attacks = String::new();
    let mut benign = String::new();
    for line in corpus::generate(99, 280) {
        let file = if line.family.is_attack() {
            &mut attacks
        } else {
            &mut benign
        };
        file.push_str(&line.text);
        file.push('\n');
    }
    std::fs::write(dir.join("attacks.log"), attacks).unwrap();
    std::fs::write(dir.join("benign.log"), benign).unwrap();
}

#[test]
fn exit_codes_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(dir.path());
    let benign = dir.path().join("benign.log");
    let attacks = dir.path().join("attacks.log");

    let quiet = hunt(&[benign.to_str().unwrap()]);
    assert_eq!(quiet.status.code(), Some(0), "{quiet:?}");
    assert!(quiet.stdout.is_empty());

    // gzip by content under a misleading name, plus a corrupt file and a missing one.
    let mut gz = gzip(&std::fs::read(&attacks).unwrap());
    let rotated = dir.path().join("attacks.log.1");
    std::fs::write(&rotated, &gz).unwrap();
    gz.truncate(20);
    let corrupt = dir.path().join("corrupt.gz");
    std::fs::write(&corrupt, &gz).unwrap();
    let stix = dir.path().join("bundle.json");
    let out = hunt(&[
        "--json",
        "--stix",
        stix.to_str().unwrap(),
        rotated.to_str().unwrap(),
        corrupt.to_str().unwrap(),
        "/nonexistent/vulnshare.log",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["hits"], 210);
    assert_eq!(summary["compressed_files"], 2);
    assert_eq!(summary["failed_files"], 1);
    assert_eq!(summary["warnings"].as_array().unwrap().len(), 2);
    assert!(lines[..lines.len() - 1].iter().all(|l| l["type"] == "hit"
        && l["path"] == rotated.to_str().unwrap()
        && l["line_number"].as_u64().unwrap() >= 1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("corrupt.gz"), "{stderr}");

    let bundle: Value = serde_json::from_slice(&std::fs::read(&stix).unwrap()).unwrap();
    assert_eq!(bundle["type"], "bundle");
    assert!(
        bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "indicator")
    );

    // The table, and suppression of every source.
    let table = hunt(&[attacks.to_str().unwrap()]);
    assert_eq!(table.status.code(), Some(1));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("FILE:LINE"), "{text}");
    assert!(text.contains("jndi"));
    let suppressed = hunt(&[
        "--suppress",
        "0.0.0.0/0",
        "--suppress",
        "::/0",
        attacks.to_str().unwrap(),
    ]);
    // Post-exploitation traces carry no source address, so they stay.
    let left = String::from_utf8_lossy(&suppressed.stdout).lines().count();
    assert!(left < 20, "{left} lines left");

    let bad = hunt(&["--suppress", "not a host", attacks.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn standard_input_and_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let generated = Command::new(BIN)
        .args(["hunt", "--generate-corpus", "56", "--seed", "3", "--out"])
        .arg(dir.path())
        .args(["--log-bytes", "200K"])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{generated:?}");
    let labels = std::fs::read_to_string(dir.path().join("labels.jsonl")).unwrap();
    assert_eq!(labels.lines().count(), 56);
    let mixed = std::fs::read(dir.path().join("mixed.log")).unwrap();
    assert!(mixed.len() >= 200 << 10);

    let mut child = Command::new(BIN)
        .args(["hunt", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let positives = std::fs::read(dir.path().join("positives.log")).unwrap();
    child.stdin.take().unwrap().write_all(&positives).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.last().unwrap()["hits"], 42);
    assert_eq!(lines[0]["path"], "-");
}

/// Compresses with gzip(1), so the test needs no compression crate of its own.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.stdout
}

#[test]
fn submit_files_a_threat_report_on_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    let server = Server::start(&data_dir);
    let token = server.token("Monitoring Institution M");
    assert!(token.starts_with("vs_"), "{token}");
    write_corpus(dir.path());
    let attacks = dir.path().join("attacks.log");

    let out = Command::new(BIN)
        .args(["hunt", "--json", "--submit", &server.base_url])
        .arg(&attacks)
        .env("VULNSHARE_TOKEN", token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    let submission = lines
        .iter()
        .find(|l| l["type"] == "submission")
        .expect("a submission line");
    let id = submission["report_id"].as_str().unwrap();
    assert!(submission["receipt"].is_object(), "{submission}");
    assert_eq!(lines.last().unwrap()["type"], "summary");

    let mut response = ureq::get(&format!("{}/api/v1/reports/{id}", server.base_url))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("the report can be read back");
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let report = &body["report"];
    assert_eq!(report["id"], id);
    assert_eq!(report["kind"], "threat");
    assert_eq!(report["state"], "submitted");
    assert_eq!(report["exploitation"], "exploited_in_wild");
    assert_eq!(report["tlp"], "AMBER");
    assert!(
        report["aliases"]
            .as_array()
            .unwrap()
            .contains(&"CVE-2021-44228".into())
    );
    assert!(
        report["technical_characteristics"]
            .as_str()
            .unwrap()
            .contains("jndi")
    );
    assert!(report["received_at"].is_string());

    // A wrong token is an error, not a silent success.
    let refused = Command::new(BIN)
        .args(["hunt", "--submit", &server.base_url, "--token", "vs_wrong"])
        .arg(&attacks)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused"));
}
