//! `vulnshare scan`: finds log4j and other Java components in files, folders and nested
//! archives, judges them against the Log4Shell-era CVEs and an offline OSV set, and prints a
//! table or JSON, optionally writing a CycloneDX 1.6 SBOM and a SARIF 2.1.0 log. Advisories
//! come from OSV files or from a vulnshare (or osv.dev-compatible) server; the SBOM can be
//! uploaded to a vulnshare product version, which answers with the exposures it found.
//!
//! Exit codes: 0 nothing at or above `--fail-on`, 1 findings at or above it, 2 error (bad
//! arguments, missing paths, unreadable advisories, an unreachable server, a refused upload).
//! Corrupt or hostile files are warnings.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use vulnshare_scan::scan::{
    AdvisoryDb, Limits, Progress, ScanOptions, ScanReport, cyclonedx, match_advisories, osv, sarif,
    scan_paths,
};

use crate::client::{ApiClient, is_url};

/// The lowest severity that makes `vulnshare scan` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any vulnerable finding.
    Any,
    /// CVSS 0.1 or more.
    Low,
    /// CVSS 4.0 or more.
    Medium,
    /// CVSS 7.0 or more.
    High,
    /// CVSS 9.0 or more.
    Critical,
    /// Never exit 1.
    Never,
}

impl FailOn {
    /// Whether a worst score (None: no vulnerable finding) trips this threshold.
    fn trips(self, worst: Option<f32>) -> bool {
        let Some(score) = worst else { return false };
        match self {
            FailOn::Any => true,
            FailOn::Low => score >= 0.1,
            FailOn::Medium => score >= 4.0,
            FailOn::High => score >= 7.0,
            FailOn::Critical => score >= 9.0,
            FailOn::Never => false,
        }
    }
}

/// Arguments of `vulnshare scan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 error.\n\nExamples:\n  vulnshare scan /opt/app\n  vulnshare scan --json --cyclonedx sbom.json --advisories osv/ app.ear\n  vulnshare scan --exclude '**/node_modules' --fail-on critical /srv\n  vulnshare scan --advisories https://vulnshare.example --upload https://vulnshare.example --product prd_... --product-version 1.0 --token vs_... app.ear"
)]
pub struct ScanArgs {
    /// Files or folders (searched recursively); archives are recognised by content.
    #[arg(required_unless_present = "write_corpus")]
    pub paths: Vec<PathBuf>,
    /// Write the generated test corpus and its ground truth (`ground-truth.json`) into DIR,
    /// then exit (for benchmarks and fuzz seeds).
    #[arg(long, value_name = "DIR", exclusive = true)]
    pub write_corpus: Option<PathBuf>,
    /// Skip paths (or file names) matching this glob; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write a CycloneDX 1.6 JSON SBOM to FILE.
    #[arg(long, value_name = "FILE")]
    pub cyclonedx: Option<PathBuf>,
    /// Include each jar's SHA-256 and SHA-1 in --json output (always computed for
    /// --cyclonedx and --upload, whose SBOM carries them; otherwise skipped, as hashing every
    /// identified jar costs more than the rest of the scan).
    #[arg(long)]
    pub hashes: bool,
    /// Also write a SARIF 2.1.0 log to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// OSV advisories to match every component against: a JSON file, a folder of them, or
    /// the http(s) base URL of a vulnshare or osv.dev-compatible server, asked about every
    /// identified component (with --token, if given, for advisories beyond TLP:CLEAR).
    #[arg(long, value_name = "PATH|URL")]
    pub advisories: Option<String>,
    /// Upload the CycloneDX SBOM to this vulnshare server (base URL) as --product at
    /// --product-version, and show the exposures the server found.
    #[arg(long, value_name = "URL", requires_all = ["product", "product_version"])]
    pub upload: Option<String>,
    /// Product id on the server that the uploaded SBOM describes (`prd_...`).
    #[arg(long, value_name = "ID", requires = "upload")]
    pub product: Option<String>,
    /// Product version the uploaded SBOM describes, e.g. 1.0.
    #[arg(long, value_name = "VERSION", requires = "upload")]
    pub product_version: Option<String>,
    /// API token for --upload and for an --advisories server.
    #[arg(long, env = "VULNSHARE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Exit 1 when a vulnerable finding reaches this severity.
    #[arg(long, value_enum, default_value = "any")]
    pub fail_on: FailOn,
    /// Deepest archive nesting opened.
    #[arg(long, default_value_t = Limits::default().max_depth)]
    pub max_depth: usize,
    /// Most bytes decompressed per file on disk.
    #[arg(long, default_value_t = Limits::default().max_total_bytes)]
    pub max_total_bytes: u64,
    /// Largest single entry decompressed.
    #[arg(long, default_value_t = Limits::default().max_entry_bytes)]
    pub max_entry_bytes: u64,
    /// Highest compression ratio accepted for entries over 1 MiB.
    #[arg(long, default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,
    /// Most entries read per archive.
    #[arg(long, default_value_t = Limits::default().max_entries)]
    pub max_entries: usize,
    /// Largest file read from disk.
    #[arg(long, default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: u64,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// Runs `vulnshare scan`.
pub async fn run(args: ScanArgs) -> Result<ExitCode> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the scan worker panicked")?
}

fn run_blocking(args: ScanArgs) -> Result<ExitCode> {
    if let Some(dir) = &args.write_corpus {
        write_corpus(dir)?;
        return Ok(ExitCode::SUCCESS);
    }
    let uploader = match &args.upload {
        Some(url) => {
            let Some(token) = &args.token else {
                bail!("--upload needs an API token: pass --token or set VULNSHARE_TOKEN");
            };
            Some(ApiClient::new(url, Some(token))?)
        }
        None => None,
    };
    let (advisories, advisory_server) = match &args.advisories {
        Some(url) if is_url(url) => (None, Some(ApiClient::new(url, args.token.as_deref())?)),
        Some(path) => (Some(AdvisoryDb::load(Path::new(path))?), None),
        None => (None, None),
    };
    let progress = Arc::new(Progress::default());
    let options = ScanOptions {
        limits: Limits {
            max_depth: args.max_depth,
            max_total_bytes: args.max_total_bytes,
            max_entry_bytes: args.max_entry_bytes,
            max_ratio: args.max_ratio,
            max_entries: args.max_entries,
            max_file_bytes: args.max_file_bytes,
        },
        excludes: args.exclude.clone(),
        follow_symlinks: args.follow_symlinks,
        threads: args.threads,
        hashes: args.hashes || args.cyclonedx.is_some() || args.upload.is_some(),
        progress: Some(progress.clone()),
    };
    let done = Arc::new(AtomicBool::new(false));
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        let (bar2, progress, done) = (bar.clone(), progress.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                bar2.set_message(format!(
                    "{} files, {} MB of archives",
                    progress.files.load(Ordering::Relaxed),
                    progress.bytes.load(Ordering::Relaxed) >> 20
                ));
                bar2.tick();
                std::thread::sleep(Duration::from_millis(120));
            }
        });
        bar
    });
    let result = scan_paths(&args.paths, &options, advisories.as_ref());
    done.store(true, Ordering::Relaxed);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = result?;
    if let Some(server) = &advisory_server {
        let db = fetch_advisories(server, &report)?;
        match_advisories(&mut report, &db);
    }
    let bom = (args.cyclonedx.is_some() || uploader.is_some()).then(|| {
        let timestamp = jiff::Timestamp::now().to_string();
        cyclonedx::to_cyclonedx(
            &report,
            &cyclonedx::new_serial(),
            &timestamp,
            env!("CARGO_PKG_VERSION"),
        )
    });
    // Local files first: a refused upload must not cost the user the SBOM on disk.
    write_files(&args, &report, bom.as_ref())?;
    let upload = match (&uploader, &bom) {
        (Some(client), Some(bom)) => Some(upload_sbom(client, &args, bom)),
        _ => None,
    };
    print_report(&args, &report, upload.as_ref())?;
    if let Some(Err(e)) = &upload {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::from(2));
    }
    Ok(if args.fail_on.trips(report.worst_score()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks the server about every versioned component, in batches within its limit, and
/// collects the full OSV records it returns.
fn fetch_advisories(server: &ApiClient, report: &ScanReport) -> Result<AdvisoryDb> {
    let mut db = AdvisoryDb::default();
    for batch in osv::batch_queries(report, osv::MAX_BATCH_QUERIES) {
        let answer = server.post_json(
            "/osv/v1/querybatch?full=true",
            "the advisory query",
            &serde_json::to_vec(&batch)?,
        )?;
        if !answer["results"].is_array() {
            bail!(
                "the advisory server's answer has no \"results\"; is it a vulnshare or osv.dev-compatible server?"
            );
        }
        db.add_value(&answer);
    }
    Ok(db)
}

/// POSTs the SBOM to the product version; returns the server's answer (the stored SBOM,
/// unmatched component count and exposures).
fn upload_sbom(
    client: &ApiClient,
    args: &ScanArgs,
    bom: &serde_json::Value,
) -> Result<serde_json::Value> {
    let (Some(product), Some(version)) = (&args.product, &args.product_version) else {
        bail!("--upload needs --product and --product-version");
    };
    let path = format!(
        "/api/v1/products/{}/sboms?version={}",
        percent_encode(product),
        percent_encode(version)
    );
    client.post_json(&path, "the SBOM upload", &serde_json::to_vec(bom)?)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for a path segment or a
/// query value).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn write_corpus(dir: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut truth = Vec::new();
    for fixture in vulnshare_scan::scan::testkit::corpus() {
        std::fs::write(dir.join(&fixture.name), &fixture.bytes)
            .with_context(|| format!("cannot write into {}", dir.display()))?;
        for expected in &fixture.expected {
            truth.push(serde_json::json!({
                "file": fixture.name,
                "location": expected.location,
                "component": expected.coordinates,
                "vulnerable": expected.vulnerable,
                "mitigated": expected.mitigated,
            }));
        }
    }
    let truth = serde_json::to_vec_pretty(&truth)?;
    std::fs::write(dir.join("ground-truth.json"), truth)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    Ok(())
}

fn write_files(
    args: &ScanArgs,
    report: &ScanReport,
    bom: Option<&serde_json::Value>,
) -> Result<()> {
    if let (Some(path), Some(bom)) = (&args.cyclonedx, bom) {
        std::fs::write(path, serde_json::to_vec_pretty(bom)?)
            .with_context(|| format!("cannot write the SBOM to {}", path.display()))?;
    }
    if let Some(path) = &args.sarif {
        let log = sarif::to_sarif(report, env!("CARGO_PKG_VERSION"));
        std::fs::write(path, serde_json::to_vec_pretty(&log)?)
            .with_context(|| format!("cannot write the SARIF log to {}", path.display()))?;
    }
    Ok(())
}

/// Prints the report, with the upload's outcome: under `"upload"` in JSON (the server's
/// answer, or `{"error": ...}`), or as lines after the table.
fn print_report(
    args: &ScanArgs,
    report: &ScanReport,
    upload: Option<&Result<serde_json::Value>>,
) -> Result<()> {
    if args.json {
        let Some(upload) = upload else {
            // Straight to stdout: a report of a big tree is megabytes of JSON, and building it
            // as a value and then as one string first cost a tenth of the scan.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer_pretty(&mut out, report)?;
            writeln!(out)?;
            out.flush()?;
            return Ok(());
        };
        let mut value = serde_json::to_value(report)?;
        match upload {
            Ok(answer) => value["upload"] = answer.clone(),
            Err(e) => value["upload"] = serde_json::json!({"error": format!("{e:#}")}),
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    print!("{}", report.to_table());
    if let Some(Ok(answer)) = upload {
        print!("{}", upload_table(answer));
    }
    Ok(())
}

/// The server's answer to an upload as text: the SBOM id, what was stored, each exposure.
fn upload_table(answer: &serde_json::Value) -> String {
    let sbom = &answer["sbom"];
    let exposures = answer["exposures"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_owned();
    let mut out = format!(
        "uploaded SBOM {} for product {} version {}: {} components stored, {} without a usable purl, {} exposures\n",
        text(&sbom["id"]),
        text(&sbom["product_id"]),
        text(&sbom["product_version"]),
        sbom["component_count"].as_i64().unwrap_or(0),
        answer["unmatched_components"].as_i64().unwrap_or(0),
        exposures.len()
    );
    for e in exposures {
        out.push_str(&format!(
            "  exposed: {} {} {}\n",
            text(&e["advisory_id"]),
            text(&e["name"]),
            text(&e["version"])
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert!(FailOn::Any.trips(Some(0.0)));
        assert!(!FailOn::Any.trips(None));
        assert!(FailOn::High.trips(Some(7.5)));
        assert!(!FailOn::Critical.trips(Some(7.5)));
        assert!(!FailOn::Never.trips(Some(10.0)));
    }

    #[test]
    fn upload_answers_read_as_a_table() {
        let answer = serde_json::json!({
            "sbom": {"id": "sbom_1", "product_id": "prd_1", "product_version": "1.0", "component_count": 2},
            "unmatched_components": 0,
            "exposures": [{"advisory_id": "VSA-2026-00001", "name": "org.apache.logging.log4j:log4j-core", "version": "2.14.1"}],
        });
        let table = upload_table(&answer);
        assert!(table.starts_with(
            "uploaded SBOM sbom_1 for product prd_1 version 1.0: 2 components stored"
        ));
        assert!(table.contains("1 exposures"));
        assert!(
            table.contains("exposed: VSA-2026-00001 org.apache.logging.log4j:log4j-core 2.14.1")
        );
        assert_eq!(percent_encode("1.0 beta/2"), "1.0%20beta%2F2");
    }
}
