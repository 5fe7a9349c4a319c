//! Configuration shared by subcommands: flags override `VULNSHARE_*` environment variables,
//! which override the embedded defaults.

use anyhow::{Context, Result};
use vulnshare_store::Store;

/// Where the data lives.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (default: a file under --data-dir) or postgres://HOST/DB.
    #[arg(long, env = "VULNSHARE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Folder for the embedded SQLite database.
    #[arg(long, env = "VULNSHARE_DATA_DIR", default_value = "./vulnshare-data")]
    pub data_dir: String,
}

impl DatabaseArgs {
    /// The URL to use.
    pub fn url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}/vulnshare.db",
                self.data_dir.trim_end_matches('/')
            )
        })
    }

    /// Connects and migrates.
    pub async fn connect(&self) -> Result<Store> {
        let url = self.url();
        Store::connect(&url)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&url)))
    }
}

/// Hides a password in a URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Logs to standard error, as text or JSON lines; `RUST_LOG` sets the level. A JSON line holds
/// the event's fields at the top level (`message`, `status`, `latency_ms`, …) and the fields of
/// the span it happened in under `span` (`request_id`, `method`, `route` for a request).
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
