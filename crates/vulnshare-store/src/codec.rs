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

/// A new random identifier with a readable prefix, e.g. `org_…`.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
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
