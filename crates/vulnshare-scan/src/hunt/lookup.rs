//! The individual log4j 2 lookups (`lower`, `upper`, `date`, `base64`, `jndi`, `env`, ...): what
//! each one evaluates to on a victim, as far as that is knowable from the log line alone.
//!
//! Lookups whose value depends on the victim (`env`, `sys`, `java`, `hostName`, ...) are left
//! unresolved, which is what an attacker counts on when they supply a `:-` default; when they do
//! not, the lookup would leak a value and is recorded as exfiltration.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::Serialize;

/// A lookup whose value would leave the victim, e.g. `${env:AWS_SECRET_ACCESS_KEY}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Exfiltration {
    /// The lookup prefix, lower-cased (`env`, `sys`, `java`, ...), or `hostName` for the property.
    pub lookup: String,
    /// What is read, e.g. `AWS_SECRET_ACCESS_KEY`; empty for `hostName`.
    pub key: String,
}

impl std::fmt::Display for Exfiltration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "${{{}}}", self.lookup)
        } else {
            write!(f, "${{{}:{}}}", self.lookup, self.key)
        }
    }
}

/// Prefixes whose lookups read victim state: environment, system properties, JVM, containers.
pub(crate) const EXFILTRATION_PREFIXES: &[&str] = &[
    "env",
    "sys",
    "java",
    "main",
    "ctx",
    "docker",
    "k8s",
    "spring",
    "web",
    "bundle",
    "jvmrunargs",
    "log4j",
];

/// Configuration properties log4j defines by default and that identify the victim.
pub(crate) const EXFILTRATION_PROPERTIES: &[&str] = &["hostName"];

/// What evaluating one lookup did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The lookup has a value known from the line alone.
    Value(String),
    /// A `jndi` lookup of this name: the exploit itself; stays unresolved.
    Jndi(String),
    /// A victim-dependent lookup; `Some` when it reads state worth stealing.
    Unresolved(Option<Exfiltration>),
}

/// Evaluates the lookup `name` (the text between `${` and `}` minus any `:-default`), following
/// log4j's `Interpolator`: prefix before the first `:` (lower-cased, US locale), and on a miss a
/// fallback to the configuration properties under the remaining name.
pub(crate) fn evaluate(name: &str) -> Outcome {
    let Some((prefix, key)) = split_prefix(name) else {
        return property(name);
    };
    if let Some(outcome) = known_outcome(&prefix, key) {
        return outcome;
    }
    if EXFILTRATION_PREFIXES.contains(&prefix.as_ref()) {
        return Outcome::Unresolved(Some(Exfiltration {
            lookup: prefix.into_owned(),
            key: key.to_string(),
        }));
    }
    property(key)
}

/// [`evaluate`] for a lookup with a default: an unresolved lookup gives way to the default, so
/// what it would leak does not matter and is not built (`Unresolved(None)` instead). Value and
/// `jndi` outcomes are [`evaluate`]'s.
pub(crate) fn evaluate_with_default(name: &str) -> Outcome {
    let Some((prefix, key)) = split_prefix(name) else {
        return Outcome::Unresolved(None);
    };
    known_outcome(&prefix, key).unwrap_or(Outcome::Unresolved(None))
}

/// What the lookups with a value (or the `jndi` one) give; `None` for the others, which are
/// unresolved: [`evaluate`] then tells what they leak.
fn known_outcome(prefix: &str, key: &str) -> Option<Outcome> {
    Some(match prefix {
        "lower" => Outcome::Value(java_lower(key)),
        "upper" => Outcome::Value(java_upper(key)),
        "date" => Outcome::Value(java_date(key)),
        "base64" => Outcome::Value(decode_base64(key)?),
        "jndi" => Outcome::Jndi(key.to_string()),
        _ => return None,
    })
}

/// The outcomes of [`evaluate`] as first written, one `match`: the split version must agree.
#[cfg(test)]
fn evaluate_in_one(name: &str) -> Outcome {
    let Some((prefix, key)) = split_prefix(name) else {
        return property(name);
    };
    match prefix.as_ref() {
        "lower" => Outcome::Value(java_lower(key)),
        "upper" => Outcome::Value(java_upper(key)),
        "date" => Outcome::Value(java_date(key)),
        "base64" => match decode_base64(key) {
            Some(value) => Outcome::Value(value),
            None => property(key),
        },
        "jndi" => Outcome::Jndi(key.to_string()),
        p if EXFILTRATION_PREFIXES.contains(&p) => Outcome::Unresolved(Some(Exfiltration {
            lookup: prefix.into_owned(),
            key: key.to_string(),
        })),
        _ => property(key),
    }
}

/// What [`evaluate`] would leak for `name`, without building the values of the lookups that
/// leak nothing (`jndi` names, case changes): the classifier asks this of every lookup left in
/// the output.
pub(crate) fn exfiltration(name: &str) -> Option<Exfiltration> {
    let Some((prefix, key)) = split_prefix(name) else {
        return property_leak(name);
    };
    match prefix.as_ref() {
        "lower" | "upper" | "date" | "jndi" => None,
        "base64" => match decode_base64(key) {
            Some(_) => None,
            None => property_leak(key),
        },
        p if EXFILTRATION_PREFIXES.contains(&p) => Some(Exfiltration {
            lookup: prefix.into_owned(),
            key: key.to_string(),
        }),
        _ => property_leak(key),
    }
}

/// True when [`evaluate`] would leave the lookup `name` unresolved and leaking nothing, which
/// is what log4j does with names it does not know (`server.port`, `HOME`): the text stays as
/// written. Answered without building any value.
pub(crate) fn is_inert(name: &str) -> bool {
    let Some((prefix, key)) = split_prefix(name) else {
        return property_leak(name).is_none();
    };
    match prefix.as_ref() {
        "lower" | "upper" | "date" | "jndi" => false,
        "base64" => decode_base64(key).is_none() && property_leak(key).is_none(),
        p if EXFILTRATION_PREFIXES.contains(&p) => false,
        _ => property_leak(key).is_none(),
    }
}

/// The lookup prefix before the first `:` (lower-cased, US locale) and the key after it.
fn split_prefix(name: &str) -> Option<(Cow<'_, str>, &str)> {
    // One pass to the colon (prefixes are short) that also tells whether the prefix needs
    // lower-casing: most are lower-case ASCII already, and then nothing is allocated.
    let mut lower_ascii = true;
    let colon = name.bytes().position(|b| {
        lower_ascii &= b.is_ascii() && !b.is_ascii_uppercase();
        b == b':'
    })?;
    let written = &name[..colon];
    let prefix: Cow<'_, str> = if lower_ascii {
        Cow::Borrowed(written)
    } else {
        Cow::Owned(written.to_lowercase())
    };
    Some((prefix, &name[colon + 1..]))
}

fn property(name: &str) -> Outcome {
    Outcome::Unresolved(property_leak(name))
}

fn property_leak(name: &str) -> Option<Exfiltration> {
    EXFILTRATION_PROPERTIES
        .contains(&name)
        .then(|| Exfiltration {
            lookup: name.to_string(),
            key: String::new(),
        })
}

/// Java's `String.toLowerCase(Locale.ROOT)`: full Unicode mapping, final sigma included, which
/// is what Rust's `str::to_lowercase` implements from the same Unicode data.
pub(crate) fn java_lower(s: &str) -> String {
    s.to_lowercase()
}

/// Java's `String.toUpperCase(Locale.ROOT)`: full mapping, so `ı` becomes `I`, `ſ` becomes `S`
/// and `ß` becomes `SS`.
pub(crate) fn java_upper(s: &str) -> String {
    s.to_uppercase()
}

/// Pattern letters `SimpleDateFormat` accepts; any other unquoted ASCII letter is an error.
const DATE_PATTERN_LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

/// Formats with a `SimpleDateFormat` pattern. Only the quoted literals matter to an attacker
/// (`${date:'j'}` is `j`); pattern letters become `0`s since the victim's clock is unknown, and
/// an invalid pattern yields a date in the default format, as log4j's `DateLookup` falls back to.
pub(crate) fn java_date(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            let mut closed = false;
            while let Some(q) = chars.next() {
                if q == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        out.push('\'');
                    } else {
                        closed = true;
                        break;
                    }
                } else {
                    out.push(q);
                }
            }
            if !closed {
                return default_date();
            }
        } else if c.is_ascii_alphabetic() {
            if !DATE_PATTERN_LETTERS.contains(c) {
                return default_date();
            }
            out.push('0');
        } else {
            out.push(c);
        }
    }
    out
}

fn default_date() -> String {
    "1/1/70, 12:00 AM".to_string()
}

fn decode_base64(key: &str) -> Option<String> {
    let trimmed = key.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(trimmed).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lookup names of every prefix family, case and Unicode case trap, for the tests that
    /// compare a shortcut with [`evaluate`].
    const SAMPLE_NAMES: &[&str] = &[
        "jndi:ldap://x/y",
        "JNDI:x",
        "lower:ENV",
        "upper:x",
        "UPPER:x",
        "date:'j'",
        "base64:am5kaQ==",
        "base64:hostName",
        "base64:!!",
        "base64:",
        "env:USER",
        "ENV:AWS_SECRET_ACCESS_KEY",
        "sys:user.name",
        "Sys:user.name",
        "Java:version",
        "hostName",
        "x:hostName",
        "server.port",
        "spring.datasource.url:jdbc:h2:mem:test",
        "HOME",
        "any:thing",
        ":",
        "",
        "\u{130}nv:x",
        "J\u{130}NDI:x",
        "\u{212a}8s:x",
    ];

    /// What every `${` of `lines` generated corpus lines (seed `seed`) opens, up to the next `}`.
    fn names_in_corpus(seed: u64, lines: usize) -> Vec<String> {
        let mut names = Vec::new();
        for line in crate::hunt::corpus::generate(seed, lines) {
            let text = line.text;
            let mut at = 0;
            while let Some(open) = text[at..].find("${") {
                let start = at + open + 2;
                let end = text[start..].find('}').map_or(text.len(), |i| start + i);
                names.push(text[start..end].to_string());
                at = start;
            }
        }
        names
    }

    fn value(name: &str) -> String {
        match evaluate(name) {
            Outcome::Value(v) => v,
            other => panic!("{name} gave {other:?}"),
        }
    }

    #[test]
    fn java_case_rules_for_the_tricky_letters() {
        assert_eq!(java_upper("\u{0131}"), "I", "dotless i");
        assert_eq!(java_upper("\u{017F}"), "S", "long s");
        assert_eq!(java_lower("\u{212A}"), "k", "Kelvin sign");
        assert_eq!(java_upper("ß"), "SS");
        assert_eq!(java_lower("\u{0130}"), "i\u{0307}", "dotted capital I");
        assert_eq!(java_lower("ΟΔΟΣ"), "οδος", "final sigma");
        assert_eq!(
            java_lower("\u{0131}"),
            "\u{0131}",
            "dotless i has no lower-case change"
        );
    }

    #[test]
    fn case_lookups() {
        assert_eq!(value("lower:JNDI"), "jndi");
        assert_eq!(value("upper:jnd\u{0131}"), "JNDI");
        assert_eq!(value("UPPER:\u{017F}"), "S");
        assert_eq!(value("lower:\u{212A}"), "k");
    }

    #[test]
    fn date_lookup_quoted_literals_and_fallback() {
        assert_eq!(java_date("'j'"), "j");
        assert_eq!(java_date("'it''s'"), "it's");
        assert_eq!(java_date("''"), "'");
        assert_eq!(java_date("yyyy-MM"), "0000-00");
        assert_eq!(java_date("j"), default_date());
        assert_eq!(java_date("'j"), default_date());
    }

    #[test]
    fn base64_lookup() {
        assert_eq!(value("base64:am5kaQ=="), "jndi");
        assert_eq!(value("base64:am5kaQ"), "jndi");
        assert_eq!(evaluate("base64:!!"), Outcome::Unresolved(None));
    }

    #[test]
    fn jndi_and_exfiltration_lookups() {
        assert_eq!(
            evaluate("JnDi:ldap://x/y"),
            Outcome::Jndi("ldap://x/y".into())
        );
        let leaked = Exfiltration {
            lookup: "env".into(),
            key: "AWS_SECRET_ACCESS_KEY".into(),
        };
        assert_eq!(
            evaluate("ENV:AWS_SECRET_ACCESS_KEY"),
            Outcome::Unresolved(Some(leaked))
        );
        let host = Exfiltration {
            lookup: "hostName".into(),
            key: String::new(),
        };
        assert_eq!(
            evaluate("hostName"),
            Outcome::Unresolved(Some(host.clone()))
        );
        assert_eq!(host.to_string(), "${hostName}");
    }

    #[test]
    fn split_evaluation_agrees_with_the_single_match() {
        let mut names: Vec<String> = [
            "jndi:ldap://x/y",
            "JNDI:x",
            "lower:ENV",
            "UPPER:x",
            "date:'j'",
            "date:j",
            "base64:am5kaQ==",
            "base64:hostName",
            "base64:!!",
            "env:USER",
            "K8S:x",
            "hostName",
            "x:hostName",
            "server.port",
            "any:thing",
            ":",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        names.extend(names_in_corpus(7, 400));
        for name in &names {
            let whole = evaluate_in_one(name);
            assert_eq!(evaluate(name), whole, "{name:?}");
            let with_default = match whole {
                Outcome::Unresolved(_) => Outcome::Unresolved(None),
                other => other,
            };
            assert_eq!(evaluate_with_default(name), with_default, "{name:?}");
        }
    }

    #[test]
    fn exfiltration_agrees_with_evaluate() {
        for name in SAMPLE_NAMES {
            let expected = match evaluate(name) {
                Outcome::Unresolved(leak) => leak,
                _ => None,
            };
            assert_eq!(exfiltration(name), expected, "{name}");
        }
    }

    #[test]
    fn inert_names_are_the_ones_evaluate_leaves_alone() {
        let mut names: Vec<String> = SAMPLE_NAMES.iter().map(|s| s.to_string()).collect();
        names.extend(names_in_corpus(3, 500));
        for name in &names {
            let expected = evaluate(name) == Outcome::Unresolved(None);
            assert_eq!(is_inert(name), expected, "{name:?}");
        }
    }

    #[test]
    fn prefixes_split_at_the_first_colon_lower_cased() {
        for name in [
            "",
            ":",
            "a",
            "a:",
            ":b",
            "Ab:c:d",
            "ab:CD",
            "\u{130}x:y",
            "x\u{e9}:y",
            "\u{e9}",
        ] {
            let expected = name
                .find(':')
                .map(|at| (name[..at].to_lowercase(), &name[at + 1..]));
            let found = split_prefix(name).map(|(prefix, key)| (prefix.into_owned(), key));
            assert_eq!(found, expected, "{name:?}");
        }
    }

    #[test]
    fn unknown_and_benign_names_stay_unresolved() {
        for name in [
            "server.port",
            "HOME",
            "project.version",
            "any:thing",
            ":",
            "",
        ] {
            assert_eq!(evaluate(name), Outcome::Unresolved(None), "{name}");
        }
    }
}
