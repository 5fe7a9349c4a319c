//! Conversions between domain values and their stored form.

use jiff::Timestamp;

use crate::StoreError;

/// Timestamps are stored as microseconds since the epoch.
pub(crate) fn ts(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// Reads a stored timestamp.
pub(crate) fn from_ts(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {micros}: {e}")))
}

/// Reads an optional stored timestamp.
pub(crate) fn from_opt_ts(micros: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    micros.map(from_ts).transpose()
}

/// Reads a stored JSON document.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Writes a JSON document.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialize")
}

/// `INSERT INTO {table_and_columns} VALUES ($1, …, $n), (…)…` for `rows` rows of one value
/// per entry of `doubles`, numbered row by row; a column whose entry is `true` reads its
/// parameter as `CAST($k AS DOUBLE PRECISION)` (such values are bound as text: see
/// `rows::Cell`). Callers keep `rows × columns` well under both engines' parameter limits
/// (SQLite 32,766; PostgreSQL 65,535).
pub(crate) fn insert_rows_sql(table_and_columns: &str, rows: usize, doubles: &[bool]) -> String {
    let columns = doubles.len();
    let mut sql = format!("INSERT INTO {table_and_columns} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (column, double) in doubles.iter().enumerate() {
            if column > 0 {
                sql.push_str(", ");
            }
            let n = row * columns + column + 1;
            if *double {
                sql.push_str(&format!("CAST(${n} AS DOUBLE PRECISION)"));
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// A new identifier with a readable prefix, e.g. `org_…`: a UUIDv7, whose first 48 bits are
/// the time and the rest random, so that new rows land at the end of their table's primary-key
/// index instead of on a random page of it (ids name objects; they are not secrets, and every
/// read of an object checks that the caller may see it).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Fetches the row whose id is `$1` in `sql` on any executor (pool or transaction) and decodes
/// it; a missing row is [`StoreError::NotFound`] of `what`.
pub(crate) async fn fetch_by_id<'e, E, T>(
    executor: E,
    sql: &str,
    id: &str,
    what: &'static str,
    decode: fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
) -> Result<T, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(sql).bind(id).fetch_optional(executor).await?;
    row.as_ref()
        .map(decode)
        .transpose()?
        .ok_or(StoreError::NotFound(what))
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_rows_are_numbered_row_by_row() {
        assert_eq!(
            super::insert_rows_sql("t (a, b)", 2, &[false, false]),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            super::insert_rows_sql("t (a)", 1, &[false]),
            "INSERT INTO t (a) VALUES ($1)"
        );
        assert_eq!(
            super::insert_rows_sql("t (a, b)", 2, &[false, true]),
            "INSERT INTO t (a, b) VALUES ($1, CAST($2 AS DOUBLE PRECISION)), ($3, CAST($4 AS DOUBLE PRECISION))"
        );
    }
}
