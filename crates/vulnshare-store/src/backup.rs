//! Backup and restore: a portable, checksummed copy of every table, readable by either engine.
//!
//! The file is gzip-compressed JSON lines: a header (format, source engine, schema version),
//! then per table a line naming it and its typed columns, one JSON array per row, and a line
//! closing the table with its row count; last, a trailer with the totals and the SHA-256 of
//! every byte before it. Because values are typed by column (integer, double, text, blob as
//! hex) rather than by engine, a SQLite backup restores into PostgreSQL and back.
//!
//! The table list is read from the database, never written down here, so a table added by a
//! later migration is copied without a change to this file; a column type this module does not
//! know, or a table the target does not have, stops the backup or restore with an error rather
//! than dropping data. The audit chain (`audit_log`, `audit_head`) and the signing keys are
//! tables like any other, so receipts and the chain still verify after a restore.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{AuditVerification, Backend, Result, Store, StoreError};

/// The `format` field of every backup's header.
const FORMAT: &str = "vulnshare-backup";
/// The version of the file layout (not of the database schema).
const FORMAT_VERSION: u32 = 1;
/// At most this many bound values per INSERT while restoring.
const VALUES_PER_INSERT: usize = 4000;

/// How a column's values are written in a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// A 64-bit integer (`BIGINT`, `INTEGER`).
    Integer,
    /// A double-precision float.
    Double,
    /// UTF-8 text (also JSON documents).
    Text,
    /// Bytes, written as hex.
    Blob,
}

impl ColumnKind {
    fn from_declared(table: &str, column: &str, declared: &str) -> Result<ColumnKind> {
        match declared.trim().to_ascii_lowercase().as_str() {
            "bigint" | "integer" | "int" | "int8" | "bigserial" => Ok(ColumnKind::Integer),
            "double precision" | "double" | "real" | "float8" => Ok(ColumnKind::Double),
            "text" => Ok(ColumnKind::Text),
            "blob" | "bytea" => Ok(ColumnKind::Blob),
            other => Err(StoreError::Backup(format!(
                "column {table}.{column} has type {other:?}, which backup does not know how to copy; \
                 teach vulnshare-store's backup module this type before backing up"
            ))),
        }
    }
}

/// One table as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TableSchema {
    name: String,
    columns: Vec<(String, ColumnKind)>,
    primary_key: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    backend: String,
    schema_version: i64,
    created_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableStart {
    table: String,
    columns: Vec<(String, ColumnKind)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableEnd {
    end_table: String,
    rows: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    end: Totals,
}

#[derive(Debug, Serialize, Deserialize)]
struct Totals {
    tables: u64,
    rows: u64,
    sha256: String,
}

/// Rows copied for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// The table's name.
    pub table: String,
    /// How many rows.
    pub rows: u64,
}

/// What a backup or restore copied.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    /// The engine the backup was taken from (`sqlite` or `postgres`).
    pub source_backend: String,
    /// The last migration applied to the source database.
    pub schema_version: i64,
    /// When the backup was taken.
    pub created_at: Timestamp,
    /// Rows per table, in the file's order.
    pub tables: Vec<TableCount>,
    /// Rows in all tables.
    pub rows: u64,
    /// SHA-256 of the uncompressed backup before its trailer.
    pub sha256: String,
    /// The audit chain of the restored database (restore only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditVerification>,
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn io_error(path: &Path, action: &str, e: std::io::Error) -> StoreError {
    StoreError::Backup(format!("cannot {action} {}: {e}", path.display()))
}

/// Writes bytes to the gzip stream and to the running checksum.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        self.hasher.update(&bytes);
        self.inner.write_all(&bytes)
    }
}

impl Store {
    /// Writes a consistent snapshot of every table to `path` (through a temporary file that is
    /// renamed into place once complete and synced, so a failed backup never leaves a file that
    /// looks whole). The file holds password hashes and signing keys: it is created readable by
    /// its owner only.
    pub async fn backup_to_file(&self, path: &Path, now: Timestamp) -> Result<BackupSummary> {
        let partial = partial_path(path);
        let result = self.write_backup(&partial, now).await;
        match result {
            Ok(summary) => {
                std::fs::rename(&partial, path).map_err(|e| io_error(path, "rename into", e))?;
                Ok(summary)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    async fn write_backup(&self, path: &Path, now: Timestamp) -> Result<BackupSummary> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // One snapshot for every table, so the copy is consistent while servers keep writing.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let schema_version = schema_version(&mut tx).await?;
        let tables = tables(&mut tx, self.backend).await?;

        let file = create_private(path).map_err(|e| io_error(path, "create", e))?;
        let gzip = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
        let mut out = HashingWriter {
            inner: gzip,
            hasher: Sha256::new(),
        };
        let write_error = |e: std::io::Error| io_error(path, "write", e);
        out.line(&Header {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            backend: backend_name(self.backend).into(),
            schema_version,
            created_at: now,
        })
        .map_err(write_error)?;

        let mut counts = Vec::new();
        let mut total = 0u64;
        for table in &tables {
            out.line(&TableStart {
                table: table.name.clone(),
                columns: table.columns.clone(),
            })
            .map_err(write_error)?;
            let columns: Vec<String> = table.columns.iter().map(|(c, _)| quote(c)).collect();
            let order: Vec<String> = if table.primary_key.is_empty() {
                columns.clone()
            } else {
                table.primary_key.iter().map(|c| quote(c)).collect()
            };
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {}",
                columns.join(", "),
                quote(&table.name),
                order.join(", ")
            );
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await? {
                let values = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, (name, kind))| read_value(&row, i, *kind, &table.name, name))
                    .collect::<Result<Vec<Value>>>()?;
                out.line(&values).map_err(write_error)?;
                count += 1;
            }
            drop(rows);
            out.line(&TableEnd {
                end_table: table.name.clone(),
                rows: count,
            })
            .map_err(write_error)?;
            counts.push(TableCount {
                table: table.name.clone(),
                rows: count,
            });
            total += count;
        }
        tx.rollback().await?;

        let sha256 = hex::encode(out.hasher.finalize_reset());
        let trailer = Trailer {
            end: Totals {
                tables: counts.len() as u64,
                rows: total,
                sha256: sha256.clone(),
            },
        };
        out.line(&trailer).map_err(write_error)?;
        let file = out
            .inner
            .finish()
            .map_err(write_error)?
            .into_inner()
            .map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        Ok(BackupSummary {
            source_backend: backend_name(self.backend).into(),
            schema_version,
            created_at: now,
            tables: counts,
            rows: total,
            sha256,
            audit: None,
        })
    }

    /// Restores a backup written by [`Store::backup_to_file`] from either engine into this
    /// database, in one transaction. The whole file is checked first (layout and checksum), so
    /// a damaged backup changes nothing. A database that already holds data is refused unless
    /// `force`, in which case every row is replaced. The audit chain is verified afterwards and
    /// returned in the summary.
    pub async fn restore_from_file(&self, path: &Path, force: bool) -> Result<BackupSummary> {
        let checked = check_file(path)?;
        let mut conn = self.pool.acquire().await?;
        let target_version = schema_version(&mut conn).await?;
        if checked.header.schema_version != target_version {
            return Err(StoreError::Backup(format!(
                "the backup has schema version {} and this database {target_version}: restore it with \
                 the vulnshare release that wrote it, then upgrade",
                checked.header.schema_version
            )));
        }
        let target = tables(&mut conn, self.backend).await?;
        check_same_tables(&checked.tables, &target)?;
        if !force {
            let filled = filled_tables(&mut conn, &target).await?;
            if !filled.is_empty() {
                return Err(StoreError::Backup(format!(
                    "the target database is not empty (rows in {}): restore into an empty database, \
                     or pass --force to replace everything in it",
                    filled.join(", ")
                )));
            }
        }
        drop(conn);

        let mut tx = self.pool.begin().await?;
        for table in target.iter().rev() {
            sqlx::query(&format!("DELETE FROM {}", quote(&table.name)))
                .execute(&mut *tx)
                .await?;
        }
        let mut lines = open_lines(path)?;
        let mut current: Option<(TableStart, Vec<Vec<Value>>)> = None;
        while let Some(line) = lines.next_line()? {
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| StoreError::Backup(format!("backup line is not JSON: {e}")))?;
            match value {
                Value::Array(row) => {
                    let (start, batch) = current.as_mut().ok_or_else(|| {
                        StoreError::Backup("a row outside a table in the backup".into())
                    })?;
                    batch.push(row);
                    if batch.len() * start.columns.len() >= VALUES_PER_INSERT {
                        insert_rows(&mut tx, start, batch).await?;
                        batch.clear();
                    }
                }
                Value::Object(map) if map.contains_key("table") => {
                    let start: TableStart = serde_json::from_value(Value::Object(map))
                        .map_err(|e| StoreError::Backup(format!("bad table line: {e}")))?;
                    current = Some((start, Vec::new()));
                }
                Value::Object(map) if map.contains_key("end_table") => {
                    if let Some((start, batch)) = current.take() {
                        insert_rows(&mut tx, &start, &batch).await?;
                    }
                }
                _ => {}
            }
        }
        if self.backend == Backend::Postgres {
            reset_sequences(&mut tx).await?;
        }
        tx.commit().await?;
        // The restored packages may have other ids than the ones this store remembers.
        self.packages.forget_all();
        let audit = self.verify_audit().await?;
        Ok(BackupSummary {
            source_backend: checked.header.backend,
            schema_version: checked.header.schema_version,
            created_at: checked.header.created_at,
            tables: checked.counts,
            rows: checked.rows,
            sha256: checked.sha256,
            audit: Some(audit),
        })
    }

    /// Checks a backup file's layout and checksum without touching any database.
    pub fn check_backup_file(path: &Path) -> Result<BackupSummary> {
        let checked = check_file(path)?;
        Ok(BackupSummary {
            source_backend: checked.header.backend,
            schema_version: checked.header.schema_version,
            created_at: checked.header.created_at,
            tables: checked.counts,
            rows: checked.rows,
            sha256: checked.sha256,
            audit: None,
        })
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn read_value(
    row: &sqlx::any::AnyRow,
    i: usize,
    kind: ColumnKind,
    table: &str,
    column: &str,
) -> Result<Value> {
    Ok(match kind {
        ColumnKind::Integer => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnKind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnKind::Blob => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, |b| Value::from(hex::encode(b))),
        ColumnKind::Double => match row.try_get::<Option<f64>, _>(i)? {
            None => Value::Null,
            Some(x) => serde_json::Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| {
                    StoreError::Backup(format!(
                        "{table}.{column} holds {x}, which a backup cannot carry"
                    ))
                })?,
        },
    })
}

async fn schema_version(conn: &mut AnyConnection) -> Result<i64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(conn)
            .await?;
    version.ok_or_else(|| StoreError::Backup("the database has no migrations applied".into()))
}

/// Every table of the application, parents before the tables whose foreign keys point at them.
async fn tables(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<TableSchema>> {
    let (list_sql, columns_sql, parents_sql, pk_sql) = match backend {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '_sqlx_migrations' ORDER BY name",
            "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
            "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        ),
        Backend::Postgres => (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '_sqlx_migrations' ORDER BY 1",
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT DISTINCT CAST(parent.relname AS TEXT) FROM pg_constraint c \
             JOIN pg_class child ON child.oid = c.conrelid \
             JOIN pg_class parent ON parent.oid = c.confrelid \
             JOIN pg_namespace n ON n.oid = child.relnamespace \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND child.relname = $1",
            "SELECT CAST(a.attname AS TEXT) FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indisprimary AND i.indrelid = to_regclass(quote_ident($1)) \
             ORDER BY a.attnum",
        ),
    };
    let names: Vec<String> = sqlx::query_scalar(list_sql).fetch_all(&mut *conn).await?;
    let mut schemas = BTreeMap::new();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let columns: Vec<(String, String)> = sqlx::query_as(columns_sql)
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
        let columns = columns
            .iter()
            .map(|(c, t)| Ok((c.clone(), ColumnKind::from_declared(name, c, t)?)))
            .collect::<Result<Vec<_>>>()?;
        let primary_key: Vec<String> = sqlx::query_scalar(pk_sql)
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
        let refs: Vec<String> = sqlx::query_scalar(parents_sql)
            .bind(name)
            .fetch_all(&mut *conn)
            .await?;
        parents.insert(
            name.clone(),
            refs.into_iter().filter(|p| p != name).collect(),
        );
        schemas.insert(
            name.clone(),
            TableSchema {
                name: name.clone(),
                columns,
                primary_key,
            },
        );
    }
    // Kahn's algorithm, alphabetical among the ready tables so the order is stable.
    let mut ordered = Vec::with_capacity(names.len());
    let mut done: BTreeSet<String> = BTreeSet::new();
    while done.len() < names.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| !done.contains(*n))
            .filter(|n| {
                parents[*n]
                    .iter()
                    .all(|p| done.contains(p) || !schemas.contains_key(p))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            let left: Vec<&String> = names.iter().filter(|n| !done.contains(*n)).collect();
            return Err(StoreError::Backup(format!(
                "the foreign keys between {left:?} form a cycle, which backup cannot order"
            )));
        }
        for name in ready {
            done.insert(name.clone());
            ordered.push(schemas.remove(&name).expect("listed table"));
        }
    }
    Ok(ordered)
}

fn check_same_tables(backup: &[TableStart], target: &[TableSchema]) -> Result<()> {
    for table in backup {
        let Some(found) = target.iter().find(|t| t.name == table.table) else {
            return Err(StoreError::Backup(format!(
                "the backup has a table {:?} that this database does not: it was written by another \
                 vulnshare release",
                table.table
            )));
        };
        let mut ours = found.columns.clone();
        let mut theirs = table.columns.clone();
        ours.sort();
        theirs.sort();
        if ours != theirs {
            return Err(StoreError::Backup(format!(
                "table {:?} has columns {theirs:?} in the backup but {ours:?} in this database",
                table.table
            )));
        }
    }
    if let Some(missing) = target
        .iter()
        .find(|t| !backup.iter().any(|b| b.table == t.name))
    {
        return Err(StoreError::Backup(format!(
            "this database has a table {:?} that the backup does not: it was written by another \
             vulnshare release",
            missing.name
        )));
    }
    Ok(())
}

/// Tables holding anything beyond what migrations put there (the empty audit head).
async fn filled_tables(conn: &mut AnyConnection, tables: &[TableSchema]) -> Result<Vec<String>> {
    let mut filled = Vec::new();
    for table in tables {
        let sql = if table.name == "audit_head" {
            "SELECT COUNT(*) FROM audit_head WHERE seq <> 0".to_owned()
        } else {
            format!("SELECT COUNT(*) FROM {}", quote(&table.name))
        };
        let count: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?;
        if count > 0 {
            filled.push(table.name.clone());
        }
    }
    Ok(filled)
}

async fn insert_rows(
    conn: &mut AnyConnection,
    table: &TableStart,
    rows: &[Vec<Value>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let width = table.columns.len();
    let mut placeholders = Vec::with_capacity(rows.len());
    let mut n = 0;
    for _ in rows {
        let row: Vec<String> = table
            .columns
            .iter()
            .map(|(_, kind)| {
                n += 1;
                match kind {
                    // A NULL double would be bound with the wrong type on PostgreSQL through
                    // sqlx's Any driver, so doubles travel as text and are cast.
                    ColumnKind::Double => format!("CAST(${n} AS DOUBLE PRECISION)"),
                    _ => format!("${n}"),
                }
            })
            .collect();
        placeholders.push(format!("({})", row.join(", ")));
    }
    let columns: Vec<String> = table.columns.iter().map(|(c, _)| quote(c)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote(&table.table),
        columns.join(", "),
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        if row.len() != width {
            return Err(StoreError::Backup(format!(
                "a row of {} has {} values for {width} columns",
                table.table,
                row.len()
            )));
        }
        for ((column, kind), value) in table.columns.iter().zip(row) {
            let bad = || {
                StoreError::Backup(format!(
                    "{}.{column}: {value} is not a {kind:?} value",
                    table.table
                ))
            };
            query = match (kind, value) {
                (ColumnKind::Integer, Value::Null) => query.bind(None::<i64>),
                (ColumnKind::Integer, v) => query.bind(Some(v.as_i64().ok_or_else(bad)?)),
                (ColumnKind::Double, Value::Null) => query.bind(None::<String>),
                (ColumnKind::Double, Value::Number(x)) => query.bind(Some(x.to_string())),
                (ColumnKind::Text, Value::Null) => query.bind(None::<String>),
                (ColumnKind::Text, Value::String(s)) => query.bind(Some(s.clone())),
                (ColumnKind::Blob, Value::Null) => query.bind(None::<Vec<u8>>),
                (ColumnKind::Blob, Value::String(s)) => {
                    query.bind(Some(hex::decode(s).map_err(|_| bad())?))
                }
                _ => return Err(bad()),
            };
        }
    }
    query.execute(conn).await?;
    Ok(())
}

/// Moves every serial column's sequence past the restored rows, so new rows get fresh numbers.
async fn reset_sequences(conn: &mut AnyConnection) -> Result<()> {
    let serials: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (table, column) in serials {
        let sql = format!(
            "SELECT CAST(setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false) AS BIGINT)",
            c = quote(&column),
            t = quote(&table)
        );
        let _: i64 = sqlx::query_scalar(&sql)
            .bind(quote(&table))
            .bind(&column)
            .fetch_one(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Reads a backup's lines, decompressing; a line that is not UTF-8 is an error.
struct Lines {
    reader: BufReader<flate2::read::GzDecoder<File>>,
    path: PathBuf,
}

impl Lines {
    fn next_line(&mut self) -> Result<Option<String>> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).map_err(|e| {
            StoreError::Backup(format!(
                "{} is not a readable vulnshare backup (gzip JSON lines): {e}",
                self.path.display()
            ))
        })?;
        if n == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
        } else {
            return Err(StoreError::Backup(format!(
                "{} ends in the middle of a line: the backup is truncated",
                self.path.display()
            )));
        }
        Ok(Some(line))
    }
}

fn open_lines(path: &Path) -> Result<Lines> {
    let file = File::open(path).map_err(|e| io_error(path, "open", e))?;
    Ok(Lines {
        reader: BufReader::with_capacity(1 << 16, flate2::read::GzDecoder::new(file)),
        path: path.to_owned(),
    })
}

struct CheckedFile {
    header: Header,
    tables: Vec<TableStart>,
    counts: Vec<TableCount>,
    rows: u64,
    sha256: String,
}

/// Reads the whole file once: layout, row widths, per-table counts and the checksum.
fn check_file(path: &Path) -> Result<CheckedFile> {
    let bad = |what: String| {
        StoreError::Backup(format!(
            "{} is not a complete vulnshare backup: {what}",
            path.display()
        ))
    };
    let mut lines = open_lines(path)?;
    let mut hasher = Sha256::new();
    let first = lines
        .next_line()?
        .ok_or_else(|| bad("it is empty".into()))?;
    hasher.update(first.as_bytes());
    hasher.update(b"\n");
    let header: Header =
        serde_json::from_str(&first).map_err(|e| bad(format!("no backup header ({e})")))?;
    if header.format != FORMAT {
        return Err(bad(format!("its format is {:?}", header.format)));
    }
    if header.format_version != FORMAT_VERSION {
        return Err(StoreError::Backup(format!(
            "{} has backup format version {}, this vulnshare reads version {FORMAT_VERSION}",
            path.display(),
            header.format_version
        )));
    }
    let mut tables: Vec<TableStart> = Vec::new();
    let mut counts: Vec<TableCount> = Vec::new();
    let mut open: Option<(usize, u64)> = None;
    let mut total = 0u64;
    let mut trailer: Option<Trailer> = None;
    while let Some(line) = lines.next_line()? {
        if trailer.is_some() {
            return Err(bad("there is data after its trailer".into()));
        }
        let value: Value =
            serde_json::from_str(&line).map_err(|e| bad(format!("a line is not JSON ({e})")))?;
        match value {
            Value::Array(row) => {
                let (index, count) = open
                    .as_mut()
                    .ok_or_else(|| bad("a row outside any table".into()))?;
                if row.len() != tables[*index].columns.len() {
                    return Err(bad(format!(
                        "a row of {} has {} values for {} columns",
                        tables[*index].table,
                        row.len(),
                        tables[*index].columns.len()
                    )));
                }
                *count += 1;
            }
            Value::Object(map) if map.contains_key("table") => {
                if open.is_some() {
                    return Err(bad("a table starts before the previous one ended".into()));
                }
                let start: TableStart = serde_json::from_value(Value::Object(map))
                    .map_err(|e| bad(format!("a table line does not parse ({e})")))?;
                if tables.iter().any(|t| t.table == start.table) {
                    return Err(bad(format!("table {} appears twice", start.table)));
                }
                tables.push(start);
                open = Some((tables.len() - 1, 0));
            }
            Value::Object(map) if map.contains_key("end_table") => {
                let end: TableEnd = serde_json::from_value(Value::Object(map))
                    .map_err(|e| bad(format!("a table end does not parse ({e})")))?;
                let (index, count) = open
                    .take()
                    .ok_or_else(|| bad("a table ends that never started".into()))?;
                if end.end_table != tables[index].table || end.rows != count {
                    return Err(bad(format!(
                        "table {} should have {} rows and has {count}",
                        end.end_table, end.rows
                    )));
                }
                counts.push(TableCount {
                    table: end.end_table,
                    rows: count,
                });
                total += count;
            }
            Value::Object(map) if map.contains_key("end") => {
                trailer = Some(
                    serde_json::from_value(Value::Object(map))
                        .map_err(|e| bad(format!("its trailer does not parse ({e})")))?,
                );
                continue;
            }
            _ => return Err(bad("a line is neither a row nor a table marker".into())),
        }
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    let trailer = trailer.ok_or_else(|| bad("it has no trailer (truncated?)".into()))?;
    if open.is_some() {
        return Err(bad("its last table never ends".into()));
    }
    let sha256 = hex::encode(hasher.finalize());
    if sha256 != trailer.end.sha256 {
        return Err(StoreError::Backup(format!(
            "{} fails its checksum (SHA-256 {sha256}, recorded {}): the file is damaged",
            path.display(),
            trailer.end.sha256
        )));
    }
    if trailer.end.rows != total || trailer.end.tables != counts.len() as u64 {
        return Err(bad(format!(
            "the trailer counts {} tables and {} rows, the file has {} and {total}",
            trailer.end.tables,
            trailer.end.rows,
            counts.len()
        )));
    }
    Ok(CheckedFile {
        header,
        tables,
        counts,
        rows: total,
        sha256,
    })
}
