//! A deterministic, labelled corpus of log lines for measuring the hunter: attacks in every
//! obfuscation family seen in the wild, and benign lines that look like them (Spring, shell,
//! Maven and debconf templates, prices), embedded in Apache combined, JSON and syslog lines.

mod mixed;
mod payload;

use std::net::{IpAddr, Ipv4Addr};

use super::{Exfiltration, HitClass, JndiProtocol};

pub use mixed::{Label, MixedLogStats, write_mixed_log};

/// A small deterministic PRNG (SplitMix64): the same seed gives the same corpus everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Starts a sequence from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The ground-truth label of a corpus line: an attack technique or a benign look-alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `${jndi:ldap://...}` as is, prefix in random case.
    Plain,
    /// Letters spelled with `${lower:..}` / `${upper:..}`.
    LowerUpper,
    /// Letters spelled with `${::-x}` defaults.
    DefaultValue,
    /// Letters spelled with `${env:NAME:-x}` and other missing lookups with defaults.
    EnvDefault,
    /// Letters spelled with `${date:'x'}`.
    Date,
    /// The payload or its prefix in `${base64:...}`.
    Base64,
    /// Java case folding: `${upper:ı}` is `I`, `${upper:ſ}` is `S`.
    UnicodeCase,
    /// URL-encoded once.
    UrlEncoded1,
    /// URL-encoded twice.
    UrlEncoded2,
    /// URL-encoded three times.
    UrlEncoded3,
    /// Only `${` and `}` URL-encoded.
    UrlPartial,
    /// `\u0024\u007b...` escapes.
    UnicodeEscape,
    /// `\x24\x7b...` escapes.
    HexEscape,
    /// `\044\173...` octal escapes.
    OctalEscape,
    /// `&#36;`, `&#x24;`, `&dollar;`, `&lbrace;` entities.
    HtmlEntities,
    /// JSON string escapes: `\/`, `\u003a`, `\u0024`.
    JsonEscapes,
    /// Letters wrapped in random-depth nests of the lookups above.
    Nested,
    /// Victim data (`${env:..}`, `${sys:..}`, `${hostName}`) in the JNDI host name.
    Exfiltration,
    /// Victim data lookup used as a DNS label without JNDI.
    StandaloneExfiltration,
    /// CVE-2021-45105 self-reference and deep nesting.
    RecursionDos,
    /// JVM log lines after a JNDI reference was followed.
    PostExploitation,
    /// Benign: Spring / JS template properties such as `${server.port}`.
    SpringProperty,
    /// Benign: shell variables such as `${HOME}`, `${USER:-root}`.
    ShellVariable,
    /// Benign: Maven properties such as `${project.version}`.
    MavenProperty,
    /// Benign: debconf variables such as `${REMOVED_DEVICES}`.
    DebconfVariable,
    /// Benign: prices and lone dollars.
    Price,
    /// Benign: a URL-encoded dollar in a query string.
    EncodedPrice,
    /// Benign: an application mentioning its JNDI data source.
    JndiMention,
}

impl Family {
    /// Every family, attacks first.
    pub const ALL: &'static [Family] = &[
        Family::Plain,
        Family::LowerUpper,
        Family::DefaultValue,
        Family::EnvDefault,
        Family::Date,
        Family::Base64,
        Family::UnicodeCase,
        Family::UrlEncoded1,
        Family::UrlEncoded2,
        Family::UrlEncoded3,
        Family::UrlPartial,
        Family::UnicodeEscape,
        Family::HexEscape,
        Family::OctalEscape,
        Family::HtmlEntities,
        Family::JsonEscapes,
        Family::Nested,
        Family::Exfiltration,
        Family::StandaloneExfiltration,
        Family::RecursionDos,
        Family::PostExploitation,
        Family::SpringProperty,
        Family::ShellVariable,
        Family::MavenProperty,
        Family::DebconfVariable,
        Family::Price,
        Family::EncodedPrice,
        Family::JndiMention,
    ];

    /// True for attack families, false for benign look-alikes.
    pub fn is_attack(self) -> bool {
        self < Family::SpringProperty
    }
}

/// How a line is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// Apache combined access log, with Apache's `\\`, `\"` and `\xHH` escaping.
    Combined,
    /// One JSON object per line with a `client_ip` field.
    Json,
    /// RFC 3164 syslog with `from <ip>` in the message.
    Syslog,
}

/// What the hunter must report for an attack line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The class of the hit.
    pub class: HitClass,
    /// The JNDI protocol, when the line names one.
    pub protocol: Option<JndiProtocol>,
    /// The callback host, when the line names one without lookups in it.
    pub host: Option<String>,
    /// The callback port, when given.
    pub port: Option<u16>,
    /// The victim data the attack reads, when it reads any.
    pub exfiltration: Option<Exfiltration>,
    /// The client address the container records.
    pub source_ip: Option<IpAddr>,
}

/// One generated line with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusLine {
    /// The log line, without newline.
    pub text: String,
    /// The technique (or benign look-alike) it carries.
    pub family: Family,
    /// How the line is framed.
    pub container: Container,
    /// What must be reported; `None` for benign lines, which must report nothing.
    pub expected: Option<Expected>,
}

/// Generates `count` lines from `seed`, cycling through every family and container.
pub fn generate(seed: u64, count: usize) -> Vec<CorpusLine> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|i| {
            let family = Family::ALL[i % Family::ALL.len()];
            let container = *rng.pick(&[Container::Combined, Container::Json, Container::Syslog]);
            line(&mut rng, family, container)
        })
        .collect()
}

fn line(rng: &mut Rng, family: Family, container: Container) -> CorpusLine {
    let client = IpAddr::V4(Ipv4Addr::new(
        *rng.pick(&[45, 185, 203, 198]),
        rng.below(256) as u8,
        rng.below(256) as u8,
        1 + rng.below(254) as u8,
    ));
    let (payload, expected) = if family.is_attack() {
        let (payload, mut expected) = payload::attack(rng, family);
        expected.source_ip = Some(client);
        (payload, Some(expected))
    } else {
        (payload::benign(rng, family), None)
    };
    let text = match container {
        Container::Combined => combined(rng, client, &payload),
        Container::Json => json(rng, client, &payload),
        Container::Syslog => format!(
            "<134>Dec 10 {:02}:{:02}:{:02} web01 app[{}]: {} from {client} port {}",
            rng.below(24),
            rng.below(60),
            rng.below(60),
            100 + rng.below(30000),
            payload,
            1024 + rng.below(60000)
        ),
    };
    CorpusLine {
        text,
        family,
        container,
        expected,
    }
}

/// Apache's escaping of header values: backslash, quote and non-ASCII bytes.
fn apache_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

fn combined(rng: &mut Rng, client: IpAddr, payload: &str) -> String {
    let escaped = apache_escape(payload);
    let in_path = !payload.contains(' ') && rng.one_in(3);
    let path = if in_path {
        format!("/?q={escaped}")
    } else {
        "/index.html".to_string()
    };
    let (referer, agent) = if !in_path && rng.one_in(3) {
        (escaped, "Mozilla/5.0".to_string())
    } else if in_path {
        ("-".to_string(), "curl/7.79.1".to_string())
    } else {
        ("-".to_string(), escaped)
    };
    format!(
        "{client} - - [10/Dec/2021:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {} {} \"{referer}\" \"{agent}\"",
        rng.below(24),
        rng.below(60),
        rng.below(60),
        *rng.pick(&[200, 302, 404, 500]),
        rng.below(100_000)
    )
}

fn json(rng: &mut Rng, client: IpAddr, payload: &str) -> String {
    let field = *rng.pick(&["message", "user_agent", "path"]);
    let mut object = serde_json::Map::new();
    object.insert("@timestamp".into(), "2021-12-10T10:00:00Z".into());
    object.insert("level".into(), "INFO".into());
    object.insert("client_ip".into(), client.to_string().into());
    object.insert(field.into(), payload.into());
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_covering() {
        let a = generate(7, 200);
        assert_eq!(a, generate(7, 200));
        assert_ne!(a, generate(8, 200));
        for family in Family::ALL {
            assert!(a.iter().any(|l| l.family == *family), "{family:?}");
        }
        assert!(
            a.iter()
                .all(|l| l.expected.is_some() == l.family.is_attack())
        );
    }

    #[test]
    fn rng_stays_in_range() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
    }
}
