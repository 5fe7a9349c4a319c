//! `vulnshare`: the platform server, its operator commands, and offline checks.
//!
//! Exit codes: 0 success, 1 findings (e.g. a broken audit chain or an invalid receipt),
//! 2 error (bad arguments, unreachable database, unreadable file).

mod admin;
mod client;
mod config;
mod hunt;
mod scan;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use vulnshare_server::rate_limit::{Rate, RateLimitConfig};
use vulnshare_server::{AppState, SystemClock};
use vulnshare_store::Store;

use crate::config::DatabaseArgs;

// `hunt` evaluates each candidate line with many short-lived strings and keeps one entry per
// callback host; the system allocator's malloc and free were a tenth of its CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vulnerability and threat information sharing platform.
#[derive(Debug, Parser)]
#[command(name = "vulnshare", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform server.
    Serve(ServeArgs),
    /// Operator commands run on the server host against the database.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Audit log commands.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Receipt commands.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Find vulnerable components (log4j first) in files, folders and nested archives.
    Scan(scan::ScanArgs),
    /// Find Log4Shell exploitation attempts in logs.
    Hunt(hunt::HuntArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "VULNSHARE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seed the Log4Shell demo organizations, users and report into an empty platform.
    #[arg(long)]
    demo: bool,
    /// SMTP relay for e-mail subscriptions: smtp://host:port, smtp://host?tls=required or smtps://host.
    #[arg(long, env = "VULNSHARE_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender address of e-mail notifications.
    #[arg(
        long,
        env = "VULNSHARE_SMTP_FROM",
        default_value = "vulnshare <vulnshare@localhost>"
    )]
    smtp_from: String,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "VULNSHARE_LOG_JSON")]
    log_json: bool,
    /// Seconds between deadline sweeps (obligations turn overdue at most this late).
    #[arg(long, env = "VULNSHARE_SWEEP_INTERVAL_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=60))]
    sweep_interval_secs: u64,
    /// Requests a minute allowed per client address, sustained (0: no limit).
    #[arg(long, env = "VULNSHARE_RATE_LIMIT_ADDRESS_PER_MINUTE", default_value_t = RateLimitConfig::default().per_address.per_minute)]
    rate_limit_address_per_minute: u32,
    /// Requests a client address may send at once above the sustained rate.
    #[arg(long, env = "VULNSHARE_RATE_LIMIT_ADDRESS_BURST", default_value_t = RateLimitConfig::default().per_address.burst)]
    rate_limit_address_burst: u32,
    /// Requests a minute allowed per credential (API token, Basic credentials, CVE-API-KEY), sustained (0: no limit).
    #[arg(long, env = "VULNSHARE_RATE_LIMIT_CREDENTIAL_PER_MINUTE", default_value_t = RateLimitConfig::default().per_credential.per_minute)]
    rate_limit_credential_per_minute: u32,
    /// Requests a credential may send at once above the sustained rate.
    #[arg(long, env = "VULNSHARE_RATE_LIMIT_CREDENTIAL_BURST", default_value_t = RateLimitConfig::default().per_credential.burst)]
    rate_limit_credential_burst: u32,
    /// Server nodes sharing the load behind one balancer: each node allows 1/N of every rate limit.
    #[arg(long, env = "VULNSHARE_NODES", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    nodes: u32,
    /// Hours before a deadline that the "deadline approaching" reminder goes out.
    #[arg(long, env = "VULNSHARE_REMIND_BEFORE_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(0..=720))]
    remind_before_hours: u64,
    /// Send the web UI's cookies without `Secure` (plain HTTP). Refused unless --listen is a
    /// loopback address; behind a TLS proxy leave it off.
    #[arg(long)]
    insecure_cookies: bool,
    /// FOR END-TO-END TESTS ONLY: run the whole server (API, web UI, sweeper) on a manual clock
    /// starting at this RFC 3339 time, movable by platform administrators through
    /// `POST /test-clock/advance`. Refused unless --listen is a loopback address; never set
    /// from the environment or a config file.
    #[arg(long, value_name = "START")]
    test_clock: Option<String>,
    /// Milliseconds between passes of the notification outbox worker.
    #[arg(long, env = "VULNSHARE_OUTBOX_INTERVAL_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    outbox_interval_ms: u64,
    /// Seconds a node holds a claimed delivery; if it dies mid-send, another node sends the
    /// delivery again (same X-Vulnshare-Delivery id) this long after the claim.
    #[arg(long, env = "VULNSHARE_OUTBOX_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    outbox_lease_secs: u64,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the whole audit chain and report the first edited, deleted or reordered entry.
    Verify {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ReceiptCommand {
    /// Check a receipt offline with the platform's public key.
    Verify {
        /// The receipt JSON file (`-` for standard input).
        receipt: String,
        /// The platform's Ed25519 public key, 64 hex characters (from GET /api/v1/platform/public-key).
        #[arg(long)]
        public_key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Admin(cmd) => admin::run(cmd).await,
        Command::Scan(args) => scan::run(args).await,
        Command::Hunt(args) => hunt::run(args).await,
        Command::Audit(AuditCommand::Verify { db, json }) => {
            let store = db.connect().await?;
            let v = store.verify_audit().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if let Some(err) = &v.error {
                println!("audit chain BROKEN after {} good entries: {err}", v.entries);
            } else {
                println!(
                    "audit chain OK: {} entries, head {} {}",
                    v.entries, v.head_seq, v.head_hash
                );
            }
            Ok(if v.error.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Receipt(ReceiptCommand::Verify {
            receipt,
            public_key,
            json,
        }) => {
            let text = if receipt == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("reading the receipt from standard input")?
            } else {
                std::fs::read_to_string(&receipt).with_context(|| format!("reading {receipt}"))?
            };
            let parsed: vulnshare_core::receipt::Receipt =
                serde_json::from_str(&text).context("the file is not a vulnshare receipt")?;
            let key = vulnshare_core::receipt::parse_public_key(&public_key)
                .map_err(anyhow::Error::msg)?;
            let result = parsed.verify(&key);
            if json {
                println!(
                    "{}",
                    serde_json::json!({"valid": result.is_ok(), "report_id": parsed.report_id, "received_at": parsed.received_at, "error": result.as_ref().err().map(ToString::to_string)})
                );
            } else {
                match &result {
                    Ok(()) => println!(
                        "receipt OK: report {} with content {} was received at {}",
                        parsed.report_id, parsed.content_hash, parsed.received_at
                    ),
                    Err(e) => println!("receipt INVALID: {e}"),
                }
            }
            Ok(if result.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

async fn serve(args: ServeArgs) -> Result<ExitCode> {
    config::init_tracing(args.log_json);
    let loopback = listen_is_loopback(&args.listen);
    if (args.test_clock.is_some() || args.insecure_cookies) && !loopback {
        anyhow::bail!(
            "--test-clock and --insecure-cookies are for local testing only: use them with --listen on a loopback address (127.0.0.1 or [::1]), not {}",
            args.listen
        );
    }
    let test_clock = match &args.test_clock {
        Some(start) => {
            let at: jiff::Timestamp = start
                .parse()
                .with_context(|| format!("--test-clock {start:?} is not an RFC 3339 time"))?;
            eprintln!(
                "WARNING: test clock in use, starting at {at}; this server is for tests only"
            );
            Some(Arc::new(vulnshare_server::ManualClock::new(at)))
        }
        None => None,
    };
    let clock: Arc<dyn vulnshare_server::Clock> = match &test_clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let mut store: Store = args.db.connect().await?;
    // PostgreSQL: hear of other nodes' commits, so token checks and OSV queries need no query
    // per request. Serving starts either way; until the feed is live, requests ask the store.
    if store.backend() == vulnshare_store::Backend::Postgres
        && !store
            .start_change_feed(std::time::Duration::from_secs(5))
            .await?
    {
        tracing::warn!("the change feed is not live yet; requests read the store until it is");
    }
    let mut state = AppState::new(store, clock)
        .await
        .context("loading the signing key")?
        .with_web(vulnshare_server::web::WebConfig {
            insecure_cookies: args.insecure_cookies,
            test_clock,
        })
        .with_rate_limits(RateLimitConfig {
            per_address: Rate {
                per_minute: args.rate_limit_address_per_minute,
                burst: args.rate_limit_address_burst,
            },
            per_credential: Rate {
                per_minute: args.rate_limit_credential_per_minute,
                burst: args.rate_limit_credential_burst,
            },
            nodes: args.nodes,
        });
    if let Some(url) = &args.smtp_url {
        let mailer = vulnshare_server::outbox::Mailer::new(url, &args.smtp_from)
            .map_err(anyhow::Error::msg)?;
        state = state.with_mailer(mailer);
    }
    if args.demo {
        let accounts = vulnshare_server::demo::seed(&state)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        if accounts.is_empty() {
            tracing::info!("the platform already has data; demo not seeded");
        }
        for a in &accounts {
            eprintln!(
                "demo account: {:<28} {:<32} password {:?}  token {}",
                a.organization,
                a.email,
                vulnshare_server::demo::DEMO_PASSWORD,
                a.token
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "vulnshare listening");
    eprintln!("vulnshare listening on http://{}", listener.local_addr()?);
    let sweeper = vulnshare_server::sweeper::spawn(
        state.clone(),
        vulnshare_server::sweeper::SweeperConfig {
            interval: std::time::Duration::from_secs(args.sweep_interval_secs),
            remind_before: jiff::SignedDuration::from_hours(args.remind_before_hours as i64),
            ..Default::default()
        },
    );
    let outbox = vulnshare_server::outbox::spawn(
        state.clone(),
        std::time::Duration::from_millis(args.outbox_interval_ms),
        args.outbox_lease_secs as i64,
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = vulnshare_server::serve(listener, state, shutdown).await;
    sweeper.abort();
    outbox.abort();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `--listen` names a loopback address (the only place test switches are allowed).
fn listen_is_loopback(listen: &str) -> bool {
    use std::net::ToSocketAddrs;
    let host = listen.rsplit_once(':').map(|(h, _)| h).unwrap_or(listen);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    // A name (e.g. localhost) counts only if every address it resolves to is loopback.
    listen
        .to_socket_addrs()
        .map(|addrs| {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn test_switches_need_a_loopback_listener() {
        assert!(super::listen_is_loopback("127.0.0.1:8080"));
        assert!(super::listen_is_loopback("[::1]:0"));
        assert!(!super::listen_is_loopback("0.0.0.0:8080"));
        assert!(!super::listen_is_loopback("192.0.2.1:80"));
        assert!(!super::listen_is_loopback("[::]:8080"));
    }

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
