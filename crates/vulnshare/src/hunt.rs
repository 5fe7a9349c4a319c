//! `vulnshare hunt`: finds Log4Shell exploitation attempts in logs, prints them as a table or JSON
//! lines, optionally writes a STIX 2.1 bundle and files a threat report on a vulnshare server.
//! `--generate-corpus` writes the labelled test corpus instead.
//!
//! Exit codes: 0 no hits, 1 hits found, 2 error (bad arguments, no input readable, submission
//! refused). Unreadable or corrupt inputs are warnings: the others are still scanned.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use vulnshare_core::tlp::Tlp;
use vulnshare_scan::hunt::input::{self, HuntObserver, Input, InputOptions, InputWarning};
use vulnshare_scan::hunt::output::{self, Summary, Tally};
use vulnshare_scan::hunt::report::{ThreatReportInput, threat_report};
use vulnshare_scan::hunt::stix::{self, DEFAULT_PRODUCER, StixOptions};
use vulnshare_scan::hunt::{Hit, Hunter, HunterConfig, Suppression, corpus};

use crate::client::ApiClient;

/// Arguments of `vulnshare hunt`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no hits, 1 hits found, 2 error.\n\nExamples:\n  vulnshare hunt /var/log/nginx\n  zcat old.log.gz | vulnshare hunt --json -\n  vulnshare hunt --stix hits.json --submit https://vulnshare.example --token vs_... access.log"
)]
pub struct HuntArgs {
    /// Log files or folders (searched recursively); `-` reads standard input. gzip, zstd, bzip2
    /// and xz are recognized by content and decompressed.
    #[arg(required_unless_present = "generate_corpus")]
    pub paths: Vec<PathBuf>,
    /// Print hits as JSON lines (one object per hit) and a summary object last.
    #[arg(long)]
    pub json: bool,
    /// Also write the findings as a STIX 2.1 bundle to FILE.
    #[arg(long, value_name = "FILE")]
    pub stix: Option<PathBuf>,
    /// The producer named in the STIX bundle's identity, e.g. your organization.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_PRODUCER)]
    pub stix_producer: String,
    /// TLP 2.0 label of the STIX bundle and the submitted report.
    #[arg(long, default_value = "AMBER", value_parser = parse_tlp)]
    pub tlp: Tlp,
    /// Drop hits from this source IP or CIDR block, or calling back to this host and its
    /// subdomains (known scanners); repeatable.
    #[arg(long, value_name = "IP|CIDR|HOST")]
    pub suppress: Vec<String>,
    /// Read more suppression entries from FILE, one per line; `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    pub suppress_file: Option<PathBuf>,
    /// Show suppressed hits, flagged, instead of dropping them.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Scanning threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stop reading a compressed input when it inflates past this many bytes (suffixes K, M,
    /// G, T): a guard against compression bombs.
    #[arg(long, value_name = "SIZE", default_value = "64G", value_parser = parse_size)]
    pub max_decompressed_bytes: u64,
    /// File a threat report with the findings on this vulnshare server (base URL), if there
    /// are hits.
    #[arg(long, value_name = "URL")]
    pub submit: Option<String>,
    /// API token for --submit.
    #[arg(long, env = "VULNSHARE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Write a labelled corpus of N lines to --out (positives.log, negatives.log, labels.jsonl)
    /// instead of hunting.
    #[arg(long, value_name = "N", requires = "out", conflicts_with = "paths")]
    pub generate_corpus: Option<usize>,
    /// Seed of the generated corpus (the same seed gives the same files).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder for --generate-corpus.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With --generate-corpus, also write mixed.log of about SIZE bytes (suffixes K, M, G) with
    /// its labels in mixed.labels.jsonl.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "generate_corpus")]
    pub log_bytes: Option<u64>,
    /// Share of attack lines in mixed.log, in percent (a quarter as many benign look-alikes
    /// are added).
    #[arg(long, value_name = "PERCENT", default_value_t = 5.0)]
    pub attack_percent: f64,
}

fn parse_tlp(text: &str) -> Result<Tlp, String> {
    Tlp::parse(text)
        .ok_or_else(|| format!("{text:?} is not CLEAR, GREEN, AMBER, AMBER+STRICT or RED"))
}

fn parse_size(text: &str) -> Result<u64, String> {
    let upper = text.trim().to_ascii_uppercase();
    let number = upper.strip_suffix('B').unwrap_or(&upper);
    let shift = match number.chars().last() {
        Some('K') => 10,
        Some('M') => 20,
        Some('G') => 30,
        Some('T') => 40,
        _ => 0,
    };
    let digits = if shift == 0 {
        number
    } else {
        &number[..number.len() - 1]
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?} is not a size like 500M or 2G"))
}

/// Runs `vulnshare hunt`.
pub async fn run(args: HuntArgs) -> Result<ExitCode> {
    if let Some(count) = args.generate_corpus {
        return tokio::task::spawn_blocking(move || generate_corpus(&args, count)).await?;
    }
    if args.submit.is_some() && args.token.is_none() {
        bail!("--submit needs an API token: pass --token or set VULNSHARE_TOKEN");
    }
    if let Some(url) = &args.submit {
        // A mistyped URL should fail now, not after hours of hunting.
        ApiClient::new(url, None)?;
    }
    let mut entries = args.suppress.clone();
    if let Some(path) = &args.suppress_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the suppression file {}", path.display()))?;
        entries.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    let suppression = Suppression::parse(entries.iter().map(String::as_str))?;
    let defaults = HunterConfig::default();
    let hunter = Hunter::new(HunterConfig {
        suppression,
        keep_suppressed: args.show_suppressed,
        // Only JSON lines show the raw line; the table, the summary, the STIX bundle and the
        // report do not, so without `--json` hits are made without a copy of it.
        max_raw_chars: if args.json { defaults.max_raw_chars } else { 0 },
        ..defaults
    });
    let options = InputOptions {
        max_decompressed_bytes: args.max_decompressed_bytes,
        ..InputOptions::default()
    };
    let (inputs, early_warnings) = input::expand_paths(&args.paths);
    let threads = args.threads;
    let json = args.json;
    let (outcome, observer) = tokio::task::spawn_blocking(move || {
        let observer = CliObserver::new(json, std::io::stderr().is_terminal());
        for warning in early_warnings {
            observer.on_warning(warning);
        }
        let started = Instant::now();
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = threads {
            pool = pool.num_threads(n.max(1));
        }
        let pool = pool.build().context("starting the scanning threads")?;
        let totals = pool.install(|| input::hunt_inputs(&hunter, &inputs, &options, &observer));
        let names: Vec<String> = inputs.iter().map(ToString::to_string).collect();
        anyhow::Ok(((totals, started.elapsed(), names), observer))
    })
    .await??;
    let (totals, elapsed, names) = outcome;
    observer.finish();
    let tally = observer
        .tally
        .into_inner()
        .expect("no scanning thread panicked");
    let warnings = observer
        .warnings
        .into_inner()
        .expect("no scanning thread panicked");
    let mut out = observer
        .out
        .into_inner()
        .expect("no scanning thread panicked");
    let nothing_read = totals.files == totals.failed_files && !warnings.is_empty();
    let summary = Summary::new(totals, &tally, warnings, elapsed.as_secs_f64());

    if let Some(path) = &args.stix {
        let bundle = stix::bundle(
            &tally,
            &StixOptions {
                producer: args.stix_producer.clone(),
                tlp: args.tlp,
                created: Timestamp::now(),
            },
        );
        let text = serde_json::to_string_pretty(&bundle)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("writing the STIX bundle to {}", path.display()))?;
    }

    let mut submit_failed = false;
    if let (Some(url), Some(token)) = (&args.submit, &args.token) {
        if tally.hits() == 0 {
            eprintln!("no hits: nothing submitted to {url}");
        } else {
            let aware_at = observer
                .first_hit_at
                .get()
                .copied()
                .unwrap_or_else(Timestamp::now);
            let content = threat_report(
                &tally,
                &ThreatReportInput {
                    totals,
                    inputs: &names,
                    aware_at,
                    tlp: args.tlp,
                },
            );
            let (url, token) = (url.clone(), token.clone());
            let result =
                tokio::task::spawn_blocking(move || submit(&url, &token, &content)).await?;
            match result {
                Ok(filed) => print_submission(&mut out, json, &filed)?,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    submit_failed = true;
                }
            }
        }
    }

    if json {
        writeln!(out, "{}", serde_json::to_string(&summary)?)?;
    } else {
        out.flush()?;
        eprint!("{}", summary.to_text());
    }
    out.flush().or_else(ignore_broken_pipe)?;
    Ok(if tally.hits() > 0 {
        if submit_failed {
            ExitCode::from(2)
        } else {
            ExitCode::from(1)
        }
    } else if nothing_read || submit_failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// Prints hits as they come and counts them; shared by the scanning threads.
struct CliObserver {
    json: bool,
    out: Mutex<BufWriter<std::io::Stdout>>,
    header_printed: Mutex<bool>,
    tally: Mutex<Tally>,
    warnings: Mutex<Vec<String>>,
    first_hit_at: OnceLock<Timestamp>,
    progress: Option<ProgressBar>,
}

impl CliObserver {
    fn new(json: bool, progress_to_tty: bool) -> Self {
        let progress = progress_to_tty.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {binary_bytes} scanned ({binary_bytes_per_sec})",
                )
                .expect("the progress template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(150));
            bar
        });
        Self {
            json,
            out: Mutex::new(BufWriter::with_capacity(1 << 16, std::io::stdout())),
            header_printed: Mutex::new(false),
            tally: Mutex::new(Tally::default()),
            warnings: Mutex::new(Vec::new()),
            first_hit_at: OnceLock::new(),
            progress,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }

    fn write_hits(&self, input: &Input, hits: &[Hit]) -> std::io::Result<()> {
        let name = input.to_string();
        let mut out = self.out.lock().expect("no scanning thread panicked");
        if !self.json {
            let mut printed = self
                .header_printed
                .lock()
                .expect("no scanning thread panicked");
            if !*printed {
                writeln!(out, "{}", output::table_header())?;
                *printed = true;
            }
        }
        // One row buffer for the batch instead of a string per hit.
        let mut row = String::new();
        for hit in hits {
            if self.json {
                writeln!(out, "{}", output::json_line(&name, hit))?;
            } else {
                row.clear();
                output::push_table_row(&mut row, &name, hit);
                row.push('\n');
                out.write_all(row.as_bytes())?;
            }
        }
        if self.progress.is_some() {
            out.flush()?;
        }
        Ok(())
    }
}

impl HuntObserver for CliObserver {
    fn on_hits(&self, input: &Input, hits: Vec<Hit>) {
        self.first_hit_at.get_or_init(Timestamp::now);
        {
            let mut tally = self.tally.lock().expect("no scanning thread panicked");
            let name = input.to_string();
            for hit in &hits {
                tally.record(&name, hit);
            }
        }
        let write = || self.write_hits(input, &hits).or_else(ignore_broken_pipe);
        let result = match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if let Err(e) = result {
            eprintln!("warning: cannot write hits: {e}");
        }
    }

    fn on_warning(&self, warning: InputWarning) {
        let text = warning.to_string();
        let show = || eprintln!("warning: {text}");
        match &self.progress {
            Some(bar) => bar.suspend(show),
            None => show(),
        }
        self.warnings
            .lock()
            .expect("no scanning thread panicked")
            .push(text);
    }

    fn on_progress(&self, bytes: u64) {
        if let Some(bar) = &self.progress {
            bar.inc(bytes);
        }
    }
}

/// Posts the report with `?submit=true`; returns the server's answer (report and receipt).
fn submit(
    base_url: &str,
    token: &str,
    content: &vulnshare_core::report::ReportContent,
) -> Result<serde_json::Value> {
    let client = ApiClient::new(base_url, Some(token))?;
    let body = serde_json::to_string(content)?;
    client.post_json("/api/v1/reports?submit=true", "the report", body.as_bytes())
}

fn print_submission(out: &mut impl Write, json: bool, filed: &serde_json::Value) -> Result<()> {
    let id = filed["report"]["id"].as_str().unwrap_or("?");
    if json {
        let line = serde_json::json!({
            "type": "submission",
            "report_id": id,
            "receipt": filed.get("receipt"),
        });
        writeln!(out, "{line}")?;
    } else {
        eprintln!("submitted threat report {id}");
        eprintln!(
            "receipt: {}",
            serde_json::to_string_pretty(filed.get("receipt").unwrap_or(&serde_json::Value::Null))?
        );
    }
    Ok(())
}

fn generate_corpus(args: &HuntArgs, count: usize) -> Result<ExitCode> {
    let dir = args.out.as_deref().expect("clap requires --out");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let create = |name: &str| -> Result<BufWriter<File>> {
        let path = dir.join(name);
        Ok(BufWriter::new(
            File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        ))
    };
    let mut positives = create("positives.log")?;
    let mut negatives = create("negatives.log")?;
    let mut labels = create("labels.jsonl")?;
    let (mut positive_lines, mut negative_lines) = (0u64, 0u64);
    for line in corpus::generate(args.seed, count) {
        let (file, name, n) = if line.family.is_attack() {
            (&mut positives, "positives.log", &mut positive_lines)
        } else {
            (&mut negatives, "negatives.log", &mut negative_lines)
        };
        *n += 1;
        writeln!(file, "{}", line.text)?;
        labels.write_all(
            corpus::Label::new(name, *n, &line)
                .to_json_line()
                .as_bytes(),
        )?;
    }
    eprintln!(
        "wrote {positive_lines} attack lines to positives.log, {negative_lines} look-alikes to negatives.log, labels to labels.jsonl in {}",
        dir.display()
    );
    if let Some(bytes) = args.log_bytes {
        if !(0.0..=100.0).contains(&args.attack_percent) {
            bail!("--attack-percent must be between 0 and 100");
        }
        let per_million = (args.attack_percent * 10_000.0).round() as u32;
        let mut log = create("mixed.log")?;
        let mut mixed_labels = create("mixed.labels.jsonl")?;
        let stats = corpus::write_mixed_log(
            args.seed,
            bytes,
            per_million,
            "mixed.log",
            &mut log,
            &mut mixed_labels,
        )?;
        log.flush()?;
        mixed_labels.flush()?;
        eprintln!(
            "wrote mixed.log: {} bytes, {} lines, {} attacks, {} look-alikes; labels in mixed.labels.jsonl",
            stats.bytes, stats.lines, stats.attacks, stats.lookalikes
        );
    }
    for mut file in [positives, negatives, labels] {
        file.flush()?;
    }
    write_readme(dir)?;
    Ok(ExitCode::SUCCESS)
}

fn write_readme(dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("README.txt"),
        "Generated by `vulnshare hunt --generate-corpus`. labels.jsonl and mixed.labels.jsonl\n\
         hold one JSON object per labelled line: file, line_number, family, attack (must be\n\
         reported) or not (must stay quiet), class, protocol, host, port, source_ip.\n\
         Lines of mixed.log without a label are clean traffic and must stay quiet.\n",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("500MB"), Ok(500 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert!(parse_size("lots").is_err());
    }
}
