//! `vulnshare scan`: finds log4j and other Java components in files, folders and nested
//! archives, judges them against the Log4Shell-era CVEs and an offline OSV set, and prints a
//! table or JSON, optionally writing a CycloneDX 1.6 SBOM and a SARIF 2.1.0 log.
//!
//! Exit codes: 0 nothing at or above `--fail-on`, 1 findings at or above it, 2 error (bad
//! arguments, missing paths, unreadable advisories). Corrupt or hostile files are warnings.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use vulnshare_scan::scan::{
    AdvisoryDb, Limits, Progress, ScanOptions, ScanReport, cyclonedx, sarif, scan_paths,
};

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
    after_help = "Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 error.\n\nExamples:\n  vulnshare scan /opt/app\n  vulnshare scan --json --cyclonedx sbom.json --advisories osv/ app.ear\n  vulnshare scan --exclude '**/node_modules' --fail-on critical /srv"
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
    /// Also write a SARIF 2.1.0 log to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// OSV advisories (a JSON file or a folder of them) to match every component against.
    #[arg(long, value_name = "PATH")]
    pub advisories: Option<PathBuf>,
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
    let advisories = match &args.advisories {
        Some(path) => Some(AdvisoryDb::load(path)?),
        None => None,
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
    let report = result?;
    write_outputs(&args, &report)?;
    Ok(if args.fail_on.trips(report.worst_score()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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

fn write_outputs(args: &ScanArgs, report: &ScanReport) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    if let Some(path) = &args.cyclonedx {
        let timestamp = jiff::Timestamp::now().to_string();
        let bom = cyclonedx::to_cyclonedx(report, &cyclonedx::new_serial(), &timestamp, version);
        std::fs::write(path, serde_json::to_vec_pretty(&bom)?)
            .with_context(|| format!("cannot write the SBOM to {}", path.display()))?;
    }
    if let Some(path) = &args.sarif {
        let log = sarif::to_sarif(report, version);
        std::fs::write(path, serde_json::to_vec_pretty(&log)?)
            .with_context(|| format!("cannot write the SARIF log to {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
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
}
