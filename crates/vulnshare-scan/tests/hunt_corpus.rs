//! Measures the hunter against the generated corpus: every attack family must be found with the
//! right class, target and source, and no benign look-alike may be reported.

use std::collections::BTreeMap;

use vulnshare_scan::hunt::corpus::{self, CorpusLine, Expected, Family};
use vulnshare_scan::hunt::{Hit, Hunter};

fn matches(hit: &Hit, expected: &Expected) -> bool {
    hit.class == expected.class
        && (expected.protocol.is_none() || hit.protocol == expected.protocol)
        && (expected.host.is_none() || hit.target_host == expected.host)
        && (expected.port.is_none() || hit.target_port == expected.port)
        && expected
            .exfiltration
            .as_ref()
            .is_none_or(|leak| hit.exfiltration.contains(leak))
        && (expected.source_ip.is_none() || hit.source_ip == expected.source_ip)
}

#[derive(Default)]
struct Tally {
    lines: usize,
    correct: usize,
    failures: Vec<String>,
}

fn run(lines: &[CorpusLine]) -> BTreeMap<Family, Tally> {
    let hunter = Hunter::default();
    let mut tallies: BTreeMap<Family, Tally> = BTreeMap::new();
    for line in lines {
        let hits = hunter.scan_line(line.text.as_bytes());
        let correct = match &line.expected {
            Some(expected) => hits.iter().any(|hit| matches(hit, expected)),
            None => hits.is_empty(),
        };
        let tally = tallies.entry(line.family).or_default();
        tally.lines += 1;
        if correct {
            tally.correct += 1;
        } else if tally.failures.len() < 3 {
            tally.failures.push(format!(
                "{}\n    expected {:?}\n    got {hits:#?}",
                line.text, line.expected
            ));
        }
    }
    tallies
}

#[test]
fn full_recall_per_family_and_no_false_positives() {
    let lines = corpus::generate(0x5EED_2021_1210, 5_600);
    let tallies = run(&lines);
    assert_eq!(
        tallies.len(),
        Family::ALL.len(),
        "every family is generated"
    );
    let mut report = String::new();
    let mut failed = Vec::new();
    for (family, tally) in &tallies {
        let kind = if family.is_attack() {
            "recall"
        } else {
            "quiet"
        };
        report.push_str(&format!(
            "{family:?}: {kind} {}/{}\n",
            tally.correct, tally.lines
        ));
        if tally.correct != tally.lines {
            failed.push(format!("{family:?}:\n  {}", tally.failures.join("\n  ")));
        }
    }
    println!("{report}");
    assert!(failed.is_empty(), "{report}\n{}", failed.join("\n"));
}

#[test]
fn corpus_streams_through_the_reader_with_the_same_hits() {
    let lines = corpus::generate(42, 2_000);
    let text: String = lines.iter().map(|l| format!("{}\n", l.text)).collect();
    let hunter = Hunter::default();
    let mut streamed = Vec::new();
    let summary = hunter
        .scan_reader(text.as_bytes(), |hit| streamed.push(hit))
        .unwrap();
    assert_eq!(summary.lines, 2_000);
    let attack_lines = lines.iter().filter(|l| l.family.is_attack()).count();
    let hit_lines: std::collections::BTreeSet<u64> =
        streamed.iter().map(|h| h.line_number).collect();
    assert_eq!(hit_lines.len(), attack_lines);
    for line_number in hit_lines {
        assert!(lines[line_number as usize - 1].family.is_attack());
    }
}
