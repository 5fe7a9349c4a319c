//! Test support shared by every crate's integration tests: a fresh SQLite file always, and a
//! fresh PostgreSQL schema when `VULNSHARE_TEST_PG` is set (to a URL, or to `1` for the local
//! server at 127.0.0.1:5432, database `test`).

use crate::Store;

/// A database prepared for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// The URL to connect with.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The PostgreSQL server URL and schema to drop afterwards.
    schema: Option<(String, String)>,
}

/// The databases a store test runs against.
pub async fn test_databases() -> Vec<TestDatabase> {
    let dir =
        std::env::temp_dir().join(format!("vulnshare-test-{}", uuid::Uuid::new_v4().simple()));
    let mut out = vec![TestDatabase {
        url: format!("sqlite://{}/test.db", dir.display()),
        backend: "sqlite",
        schema: None,
    }];
    if let Ok(pg) = std::env::var("VULNSHARE_TEST_PG") {
        let base = if pg == "1" || pg.is_empty() {
            "postgres://postgres@127.0.0.1:5432/test".to_owned()
        } else {
            pg
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
            .await
            .expect("VULNSHARE_TEST_PG is set but PostgreSQL does not answer");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create a test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        out.push(TestDatabase {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            backend: "postgres",
            schema: Some((base, schema)),
        });
    }
    out
}

impl TestDatabase {
    /// Connects a store (running migrations).
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .expect("connect the test store")
    }

    /// Connects a store with the migrations numbered up to `last` only; connecting again
    /// with [`TestDatabase::store`] runs the rest.
    pub async fn store_migrated_to(&self, last: i64) -> Store {
        Store::connect_up_to(&self.url, last)
            .await
            .expect("connect the test store")
    }

    /// Removes the PostgreSQL schema (SQLite files live in the temporary folder).
    pub async fn drop(&self) {
        if let Some((base, schema)) = &self.schema {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(base)
                .await
                .expect("connect to drop the test schema");
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .expect("drop the test schema");
        }
    }
}
