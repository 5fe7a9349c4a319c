//! The corpus as files: labelled lines, and a large realistic log (mostly clean traffic with a
//! share of attacks and look-alikes) with ground truth, for the benchmark in `bench/hunt/`.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::{Container, CorpusLine, Family, Rng, line};
use crate::hunt::{Exfiltration, HitClass, JndiProtocol};

/// The ground truth for one labelled line, written as one JSON object per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// The file the line is in, as named to the hunter.
    pub file: String,
    /// 1-based line number.
    pub line_number: u64,
    /// The technique or benign look-alike, e.g. `UrlEncoded2`.
    pub family: String,
    /// True for attacks, which must be reported; false for lines that must not be.
    pub attack: bool,
    /// How the line is framed: `Combined`, `Json` or `Syslog`.
    pub container: String,
    /// The class the hunter must report.
    pub class: Option<HitClass>,
    /// The JNDI protocol, when the attack names one.
    pub protocol: Option<JndiProtocol>,
    /// The callback host, when the attack names one.
    pub host: Option<String>,
    /// The callback port, when given.
    pub port: Option<u16>,
    /// The victim data read, when any.
    pub exfiltration: Option<Exfiltration>,
    /// The client address in the line.
    pub source_ip: Option<IpAddr>,
}

impl Label {
    /// The label of `line`, found at `line_number` of `file`.
    pub fn new(file: &str, line_number: u64, line: &CorpusLine) -> Self {
        let expected = line.expected.as_ref();
        Self {
            file: file.to_string(),
            line_number,
            family: format!("{:?}", line.family),
            attack: line.family.is_attack(),
            container: format!("{:?}", line.container),
            class: expected.map(|e| e.class),
            protocol: expected.and_then(|e| e.protocol.clone()),
            host: expected.and_then(|e| e.host.clone()),
            port: expected.and_then(|e| e.port),
            exfiltration: expected.and_then(|e| e.exfiltration.clone()),
            source_ip: expected.and_then(|e| e.source_ip),
        }
    }

    /// The label as one JSON line (with the newline).
    pub fn to_json_line(&self) -> String {
        let mut text = serde_json::to_string(self).expect("labels always serialize");
        text.push('\n');
        text
    }
}

/// What [`write_mixed_log`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MixedLogStats {
    /// Bytes of log written.
    pub bytes: u64,
    /// Lines written.
    pub lines: u64,
    /// Attack lines among them.
    pub attacks: u64,
    /// Benign look-alike lines among them.
    pub lookalikes: u64,
}

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/static/app.js",
    "/static/css/site.css",
    "/api/v1/orders",
    "/api/v1/users/me",
    "/images/logo.png",
    "/login",
    "/search?q=shoes&page=2",
    "/products/1234?ref=home",
    "/health",
    "/favicon.ico",
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:95.0) Gecko/20100101 Firefox/95.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "curl/7.79.1",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "kube-probe/1.22",
];

const MESSAGES: &[&str] = &[
    "request completed",
    "user signed in",
    "cache miss for key product:1234",
    "order created",
    "connection pool size 20, active 3",
    "scheduled job finished in 120 ms",
];

/// Appends one clean log line (no lookup, no trace) to `out`, without newline.
fn filler(rng: &mut Rng, out: &mut String) {
    use std::fmt::Write as _;
    let client = Ipv4Addr::new(
        *rng.pick(&[10, 172, 192, 203, 198]),
        rng.below(256) as u8,
        rng.below(256) as u8,
        1 + rng.below(254) as u8,
    );
    let (h, m, s) = (rng.below(24), rng.below(60), rng.below(60));
    let _ = match rng.below(20) {
        0..=11 => write!(
            out,
            "{client} - - [10/Dec/2021:{h:02}:{m:02}:{s:02} +0000] \"GET {} HTTP/1.1\" {} {} \"-\" \"{}\"",
            rng.pick(PATHS),
            rng.pick(&[200, 200, 200, 304, 404, 302]),
            rng.below(90_000),
            rng.pick(AGENTS)
        ),
        12..=16 => write!(
            out,
            "{{\"@timestamp\":\"2021-12-10T{h:02}:{m:02}:{s:02}Z\",\"level\":\"INFO\",\"client_ip\":\"{client}\",\"message\":\"{}\",\"duration_ms\":{}}}",
            rng.pick(MESSAGES),
            rng.below(2_000)
        ),
        _ => write!(
            out,
            "<134>Dec 10 {h:02}:{m:02}:{s:02} web01 app[{}]: {} from {client} port {}",
            100 + rng.below(30_000),
            rng.pick(MESSAGES),
            1024 + rng.below(60_000)
        ),
    };
}

/// Writes about `target_bytes` of log: `attack_per_million` lines in a million are attacks
/// (cycling through every attack family), a quarter as many are benign look-alikes, the rest
/// clean traffic. Labels for attacks and look-alikes go to `labels`, naming the log `file`.
pub fn write_mixed_log(
    seed: u64,
    target_bytes: u64,
    attack_per_million: u32,
    file: &str,
    log: &mut dyn Write,
    labels: &mut dyn Write,
) -> io::Result<MixedLogStats> {
    let mut rng = Rng::new(seed);
    let attacks: Vec<Family> = Family::ALL
        .iter()
        .copied()
        .filter(|f| f.is_attack())
        .collect();
    let lookalikes: Vec<Family> = Family::ALL
        .iter()
        .copied()
        .filter(|f| !f.is_attack())
        .collect();
    let attack_limit = u64::from(attack_per_million);
    let lookalike_limit = attack_limit + attack_limit / 4;
    let mut stats = MixedLogStats::default();
    let mut buffer = String::with_capacity(1 << 20);
    while stats.bytes < target_bytes {
        let roll = rng.next_u64() % 1_000_000;
        let start = buffer.len();
        if roll < lookalike_limit {
            let family = if roll < attack_limit {
                stats.attacks += 1;
                attacks[(stats.attacks as usize) % attacks.len()]
            } else {
                stats.lookalikes += 1;
                lookalikes[(stats.lookalikes as usize) % lookalikes.len()]
            };
            let container = *rng.pick(&[Container::Combined, Container::Json, Container::Syslog]);
            let corpus_line = line(&mut rng, family, container);
            labels.write_all(
                Label::new(file, stats.lines + 1, &corpus_line)
                    .to_json_line()
                    .as_bytes(),
            )?;
            buffer.push_str(&corpus_line.text);
        } else {
            filler(&mut rng, &mut buffer);
        }
        buffer.push('\n');
        stats.lines += 1;
        stats.bytes += (buffer.len() - start) as u64;
        if buffer.len() >= 1 << 20 {
            log.write_all(buffer.as_bytes())?;
            buffer.clear();
        }
    }
    log.write_all(buffer.as_bytes())?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::Hunter;

    #[test]
    fn clean_filler_has_no_hits_and_labels_point_at_lines() {
        let mut log = Vec::new();
        let mut labels = Vec::new();
        let stats =
            write_mixed_log(3, 2 << 20, 50_000, "mixed.log", &mut log, &mut labels).unwrap();
        assert_eq!(stats.bytes, log.len() as u64);
        assert!(stats.attacks > 100 && stats.lookalikes > 20, "{stats:?}");
        let text = String::from_utf8(log).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let labels: Vec<serde_json::Value> = String::from_utf8(labels)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(labels.len() as u64, stats.attacks + stats.lookalikes);
        let hunter = Hunter::default();
        let mut attack_lines = std::collections::BTreeSet::new();
        for label in &labels {
            let n = label["line_number"].as_u64().unwrap();
            if label["attack"] == true {
                attack_lines.insert(n);
                assert!(
                    !hunter
                        .scan_line(lines[n as usize - 1].as_bytes())
                        .is_empty()
                );
            }
        }
        let mut reported = std::collections::BTreeSet::new();
        hunter.scan_bytes(text.as_bytes(), |h| {
            reported.insert(h.line_number);
        });
        assert_eq!(reported, attack_lines);
    }
}
