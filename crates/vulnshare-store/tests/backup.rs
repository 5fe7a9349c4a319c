//! Backup and restore round trips on every engine and between them (SQLite → PostgreSQL and
//! back when `VULNSHARE_TEST_PG` is set), refusals of damaged files and filled targets, and
//! tables the backup module has never heard of.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use vulnshare_core::audit::AuditEvent;
use vulnshare_core::organization::{NewOrganization, OrganizationKind};
use vulnshare_store::testing::{TestDatabase, test_databases};
use vulnshare_store::{Store, StoreError};

fn now() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "vulnshare-backup-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Organizations through the audited write path, then rows with every column kind written
/// directly: NULLs, a double, a NULL double, bytes 0..=255, a serial column.
async fn seed(store: &Store) {
    for i in 0..3 {
        let mut tx = store.begin_write().await.unwrap();
        let org = tx
            .create_organization(
                &NewOrganization {
                    name: format!("Org {i}"),
                    kind: OrganizationKind::Provider,
                    country: "CN".into(),
                },
                now(),
            )
            .await
            .unwrap();
        tx.audit(
            now(),
            AuditEvent {
                actor_user_id: None,
                actor_org_id: None,
                action: "organization.create".into(),
                object_type: "organization".into(),
                object_id: org.id,
                details: format!("{{\"i\":{i},\"text\":\"quotes \\\" and ünïcode\"}}"),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    store
        .signing_key_secret(|| ([7; 32], [8; 32], "key-1".into()), now())
        .await
        .unwrap();
    exec(store, "INSERT INTO organizations (id, name, kind, country, membership, created_at) VALUES ('org_x', 'X', 'provider', 'CN', '{}', 1)").await;
    exec(store, "INSERT INTO users (id, organization_id, email, display_name, password_hash, roles, created_at) VALUES ('usr_x', 'org_x', 'x@x.example', 'X', 'h', '[]', 1)").await;
    for (id, score) in [("VS-2026-00001", "9.8"), ("VS-2026-00002", "NULL")] {
        exec(store, &format!("INSERT INTO reports (id, reporter_org_id, created_by, kind, state, tlp, title, cvss_score, content, content_hash, created_at, updated_at) VALUES ('{id}', 'org_x', 'usr_x', 'threat', 'draft', 'GREEN', 't', {score}, '{{}}', 'h', 1, 1)")).await;
    }
    exec(store, "INSERT INTO cases (id, title, tlp, state, created_by, created_at, updated_at) VALUES ('case_x', 'c', 'AMBER', 'open', 'usr_x', 1, 1)").await;
    let bytes: Vec<u8> = (0..=255).collect();
    sqlx::query("INSERT INTO case_attachments (id, case_id, name, media_type, exploit_code, size, sha256, content, uploaded_by, uploaded_at) VALUES ('att_x', 'case_x', 'a.bin', 'application/octet-stream', 0, 256, 's', $1, 'usr_x', 1)")
        .bind(bytes)
        .execute(store.pool())
        .await
        .unwrap();
}

/// Every table's rows in a backup, sorted, so backups from different engines compare equal.
fn contents(path: &Path) -> Vec<(String, Vec<String>)> {
    let file = std::fs::File::open(path).unwrap();
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(name) = value.get("table").and_then(|t| t.as_str()) {
            tables.push((name.to_owned(), Vec::new()));
        } else if value.is_array() {
            tables.last_mut().unwrap().1.push(line);
        }
    }
    for (_, rows) in &mut tables {
        rows.sort();
    }
    tables.sort();
    tables
}

async fn fresh(kind: &str) -> TestDatabase {
    test_databases()
        .await
        .into_iter()
        .find(|d| d.backend == kind)
        .unwrap()
}

fn backends() -> Vec<&'static str> {
    if std::env::var("VULNSHARE_TEST_PG").is_ok() {
        vec!["sqlite", "postgres"]
    } else {
        vec!["sqlite"]
    }
}

#[tokio::test]
async fn backups_round_trip_within_and_between_engines() {
    for source_kind in backends() {
        let source_db = fresh(source_kind).await;
        let source = source_db.store().await;
        seed(&source).await;
        let file = temp_file(&format!("{source_kind}.vsbackup"));
        let written = source.backup_to_file(&file, now()).await.unwrap();
        assert_eq!(written.source_backend, source_kind);
        let count = |t: &str| {
            written
                .tables
                .iter()
                .find(|c| c.table == t)
                .unwrap_or_else(|| panic!("{t} in {:?}", written.tables))
                .rows
        };
        assert_eq!(count("organizations"), 4);
        assert_eq!(count("audit_log"), 3);
        assert_eq!(count("reports"), 2);
        assert_eq!(count("case_attachments"), 1);
        assert_eq!(count("signing_keys"), 1);
        let expected = contents(&file);

        for target_kind in backends() {
            let what = format!("{source_kind} -> {target_kind}");
            let target_db = fresh(target_kind).await;
            let target = target_db.store().await;
            let restored = target.restore_from_file(&file, false).await.unwrap();
            assert_eq!(restored.rows, written.rows, "{what}");
            let audit = restored.audit.unwrap();
            assert_eq!(audit.error, None, "{what}");
            assert_eq!(audit.entries, 3, "{what}");
            // The restored database signs with the same key, so old receipts still verify.
            let secret = target
                .signing_key_secret(|| panic!("{what}: the key was not restored"), now())
                .await
                .unwrap();
            assert_eq!(secret, [7; 32], "{what}");
            // Every row, byte for byte, by backing the target up again.
            let again = temp_file(&format!("{source_kind}-{target_kind}.again"));
            target.backup_to_file(&again, now()).await.unwrap();
            assert_eq!(contents(&again), expected, "{what}");
            // Serial columns continue after the restored rows, and new audit entries chain on.
            exec(&target, "INSERT INTO reports (id, reporter_org_id, created_by, kind, state, tlp, title, content, content_hash, created_at, updated_at) VALUES ('VS-2026-00003', 'org_x', 'usr_x', 'threat', 'draft', 'GREEN', 't', '{}', 'h', 1, 1)").await;
            let mut tx = target.begin_write().await.unwrap();
            tx.audit(
                now(),
                AuditEvent {
                    actor_user_id: None,
                    actor_org_id: None,
                    action: "test".into(),
                    object_type: "test".into(),
                    object_id: "x".into(),
                    details: "{}".into(),
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            let audit = target.verify_audit().await.unwrap();
            assert_eq!((audit.entries, audit.error), (4, None), "{what}");
            target.close().await;
            target_db.drop().await;
        }
        source.close().await;
        source_db.drop().await;
    }
}

#[tokio::test]
async fn a_filled_target_is_refused_unless_forced() {
    for kind in backends() {
        let source_db = fresh(kind).await;
        let source = source_db.store().await;
        seed(&source).await;
        let file = temp_file("filled.vsbackup");
        source.backup_to_file(&file, now()).await.unwrap();

        let target_db = fresh(kind).await;
        let target = target_db.store().await;
        exec(&target, "INSERT INTO organizations (id, name, kind, country, membership, created_at) VALUES ('org_only_here', 'Only here', 'provider', 'CN', '{}', 1)").await;
        let err = target.restore_from_file(&file, false).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Backup(m) if m.contains("not empty") && m.contains("organizations") && m.contains("--force")),
            "[{kind}] {err}"
        );
        let names: Vec<String> = sqlx::query_scalar("SELECT id FROM organizations")
            .fetch_all(target.pool())
            .await
            .unwrap();
        assert_eq!(names, ["org_only_here"], "[{kind}] nothing was written");

        target.restore_from_file(&file, true).await.unwrap();
        let only: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE id = 'org_only_here'")
                .fetch_one(target.pool())
                .await
                .unwrap();
        assert_eq!(only, 0, "[{kind}] --force replaces everything");
        assert_eq!(
            target.organization_count().await.unwrap(),
            4,
            "[{kind}] the backup's organizations"
        );
        for db in [source_db, target_db] {
            db.drop().await;
        }
    }
}

/// Rewrites a backup's uncompressed lines with `edit` (keeping the recorded checksum).
fn rewrite(from: &Path, to: &Path, edit: impl Fn(Vec<String>) -> Vec<String>) {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let lines = edit(text.lines().map(str::to_owned).collect());
    let mut out = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    for line in lines {
        writeln!(out, "{line}").unwrap();
    }
    out.finish().unwrap();
}

#[tokio::test]
async fn damaged_backups_are_refused_before_anything_is_written() {
    let source_db = fresh("sqlite").await;
    let source = source_db.store().await;
    seed(&source).await;
    let file = temp_file("good.vsbackup");
    source.backup_to_file(&file, now()).await.unwrap();

    let edited = temp_file("edited.vsbackup");
    rewrite(&file, &edited, |lines| {
        lines
            .into_iter()
            .map(|l| l.replace("Org 1", "Org 9"))
            .collect()
    });
    let truncated = temp_file("truncated.vsbackup");
    rewrite(&file, &truncated, |mut lines| {
        lines.truncate(lines.len() / 2);
        lines
    });
    let dropped_row = temp_file("dropped.vsbackup");
    rewrite(&file, &dropped_row, |lines| {
        lines.into_iter().filter(|l| !l.contains("Org 2")).collect()
    });
    let not_gzip = temp_file("plain.vsbackup");
    std::fs::write(&not_gzip, b"{\"format\": \"something else\"}\n").unwrap();

    for kind in backends() {
        let target_db = fresh(kind).await;
        let target = target_db.store().await;
        for (path, expected) in [
            (&edited, "fails its checksum"),
            (&truncated, "no trailer"),
            (&dropped_row, "should have"),
            (&not_gzip, "not a readable vulnshare backup"),
        ] {
            let err = target.restore_from_file(path, false).await.unwrap_err();
            assert!(
                err.to_string().contains(expected),
                "[{kind}] {}: {err}",
                path.display()
            );
            assert_eq!(target.organization_count().await.unwrap(), 0, "[{kind}]");
        }
        target_db.drop().await;
    }
    source_db.drop().await;
}

#[tokio::test]
async fn tables_added_later_are_copied_and_unknown_ones_refused() {
    for kind in backends() {
        let source_db = fresh(kind).await;
        let source = source_db.store().await;
        seed(&source).await;
        // As a later migration would: a new table with a foreign key.
        let later_table = "CREATE TABLE later_added_sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), expires_at BIGINT NOT NULL)";
        exec(&source, later_table).await;
        exec(
            &source,
            "INSERT INTO later_added_sessions (id, user_id, expires_at) VALUES ('ses_1', 'usr_x', 5)",
        )
        .await;
        let file = temp_file("sessions.vsbackup");
        let written = source.backup_to_file(&file, now()).await.unwrap();
        let sessions = written
            .tables
            .iter()
            .find(|t| t.table == "later_added_sessions")
            .expect("the new table is in the backup");
        assert_eq!(sessions.rows, 1);
        let position = |t: &str| written.tables.iter().position(|c| c.table == t).unwrap();
        assert!(
            position("users") < position("later_added_sessions"),
            "parents first"
        );

        // A target without the table refuses, naming it; with it, the row arrives.
        let target_db = fresh(kind).await;
        let target = target_db.store().await;
        let err = target.restore_from_file(&file, false).await.unwrap_err();
        assert!(
            err.to_string().contains("later_added_sessions"),
            "[{kind}] {err}"
        );
        exec(&target, later_table).await;
        target.restore_from_file(&file, false).await.unwrap();
        let user: String = sqlx::query_scalar("SELECT user_id FROM later_added_sessions")
            .fetch_one(target.pool())
            .await
            .unwrap();
        assert_eq!(user, "usr_x");

        // A column type backup cannot carry stops the backup instead of losing the column.
        exec(&source, "CREATE TABLE odd (at TIMESTAMP)").await;
        let err = source
            .backup_to_file(&temp_file("odd.vsbackup"), now())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("odd.at"), "[{kind}] {err}");
        for db in [source_db, target_db] {
            db.drop().await;
        }
    }
}
