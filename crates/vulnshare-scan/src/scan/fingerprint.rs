//! The class-content fingerprint table: which classes and string constants betray a logging
//! library and its version, derived from released jars' bytecode.
//!
//! Sources (constant pools read with `javap -v` / `strings`, class lists with `unzip -l`):
//! - log4j-core 2.14.1, 2.16.0, 2.17.1: the upstream Maven Central jars bundled in PyPI
//!   `apache-flink-libraries` 1.14.0, 1.14.2 and 1.14.3 (`deps/lib/log4j-core-*.jar`).
//! - log4j-core 2.19.0, log4j-1.2-api 2.19.0: Debian `liblog4j2-java` 2.19.0-2.
//! - log4j 1.2.17: Debian `liblog4j1.2-java` 1.2.17-11, which is vendor-patched (it carries the
//!   reload4j-style fixes: JMSAppender and JMSSink removed, `JNDIUtil`,
//!   `HardenedLoggingEventInputStream`, `FilteredObjectInputStream`, a prepared-statement
//!   JDBCAppender). Unpatched 1.2.17 markers are the absence of those.
//! - logback 1.2.11: Debian `liblogback-java` 1.2.11-3.
//! - Bridges that must not count as log4j 1: `log4j-1.2-api` 2.19.0 (Debian) and
//!   `log4j-over-slf4j` 1.7.32 (Debian `libslf4j-java`). Both ship `org/apache/log4j/Category`,
//!   `Logger`, `PropertyConfigurator` and `spi/LoggingEvent`, and log4j-over-slf4j even copies
//!   `helpers/LogLog` with its `log4j:WARN ` strings; neither ships
//!   `helpers/OnlyOnceErrorHandler`, log4j 1.2.17's default error handler, hence the anchor.
//!
//! Facts observed:
//! | marker | 2.14.1 | 2.16.0 | 2.17.1 | 2.19.0 |
//! |---|---|---|---|---|
//! | `core/lookup/JndiLookup` class | yes | yes | yes | yes |
//! | JndiLookup string `isJndiLookupEnabled` | no | no | yes | yes |
//! | JndiManager string `Invalid JNDI URI - {}` | no | yes | yes | yes |
//! | JndiManager string `log4j2.enableJndi` | no | yes | yes | yes |
//! | JndiManager string `allowedLdapHosts` | no | yes | no | no |
//! | JndiManager string `isJndiJdbcEnabled` | no | no | yes | yes |
//! | DataSourceConnectionSource `log4j2.enableJndiJdbc=true` | no | no | yes | yes |
//! | `core/lookup/RuntimeStrSubstitutor` class | no | no | yes | yes |
//! | `core/util/SetUtils` class | yes | yes | no | no |
//! | MessagePatternConverter `Message Lookups are no longer supported.` | no | yes | yes | yes |
//! | MessagePatternConverter `FORMAT_MESSAGES_PATTERN_DISABLE_LOOKUPS` | yes | no | no | no |
//! | class-file major version | 52 | 52 | 52 | 52 |
//!
//! Not observed from bytecode (no jar reachable), taken from the release notes instead: the
//! allowlist (`Invalid JNDI URI`) arrived in 2.15.0; `RuntimeStrSubstitutor` (the CVE-2021-45105
//! fix) in 2.17.0; `isJndiJdbcEnabled` (CVE-2021-44832) in 2.17.1; the 2.12.x line targets Java 7
//! (major 51) and the 2.3.x line Java 6 (major 50), and their backports (2.12.2-2.12.4,
//! 2.3.1-2.3.2) carry the same markers as the 2.16-2.17.1 releases they port.

/// A library family recognised from class content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Apache log4j-core 2.x.
    Log4jCore,
    /// Apache log4j 1.x (or reload4j, or a vendor-patched 1.2.17).
    Log4j1,
    /// QOS.ch logback-classic.
    LogbackClassic,
}

impl Family {
    /// Maven group and artifact of the family's canonical jar.
    pub fn coordinates(self) -> (&'static str, &'static str) {
        match self {
            Family::Log4jCore => ("org.apache.logging.log4j", "log4j-core"),
            Family::Log4j1 => ("log4j", "log4j"),
            Family::LogbackClassic => ("ch.qos.logback", "logback-classic"),
        }
    }

    /// The family a Maven `group:artifact` belongs to, if any.
    pub fn of_coordinates(group: &str, artifact: &str) -> Option<Family> {
        match (group, artifact) {
            ("org.apache.logging.log4j", "log4j-core") => Some(Family::Log4jCore),
            ("log4j", "log4j") | ("ch.qos.reload4j", "reload4j") => Some(Family::Log4j1),
            ("ch.qos.logback", "logback-classic") => Some(Family::LogbackClassic),
            _ => None,
        }
    }

    /// The package prefix classes of this family have when not relocated.
    pub fn canonical_prefix(self) -> &'static str {
        match self {
            Family::Log4jCore => "org/apache/logging/",
            Family::Log4j1 => "org/apache/",
            Family::LogbackClassic => "ch/qos/",
        }
    }
}

/// A class-content feature; see the module table for which versions show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// A class only this family has (LoggerContext, Interpolator, OnlyOnceErrorHandler).
    Anchor,
    /// `core/lookup/JndiLookup` is present.
    JndiLookupClass,
    /// JndiLookup checks `isJndiLookupEnabled` (2.17.0+).
    JndiLookupGated,
    /// `core/net/JndiManager` is present (2.1+).
    JndiManagerClass,
    /// JndiManager validates URIs against an allowlist (2.15.0+).
    JndiAllowlist,
    /// JndiManager reads `log4j2.enableJndi`: JNDI off by default (2.16.0+, 2.12.2+).
    JndiOffByDefault,
    /// The JDBC appender's JNDI is gated by `log4j2.enableJndiJdbc` (2.17.1+, 2.12.4+, 2.3.2+).
    JndiJdbcGated,
    /// `core/lookup/RuntimeStrSubstitutor` is present: no recursive lookups in events (2.17.0+).
    RecursionGuard,
    /// `core/util/SetUtils` is present (up to 2.16.0).
    SetUtilsClass,
    /// Message lookups removed from MessagePatternConverter (2.16.0+).
    MessageLookupsRemoved,
    /// The `%m{nolookups}` option exists but lookups remain (2.10.0-2.14.1).
    NoLookupsOption,
    /// log4j 1: `net/JMSAppender` is present.
    JmsAppenderClass,
    /// log4j 1: JMSAppender/JMSSink only look up `java:` names through JNDIUtil (patched).
    JndiRestricted,
    /// log4j 1: `net/JMSSink` is present.
    JmsSinkClass,
    /// log4j 1: `net/SocketServer` is present.
    SocketServerClass,
    /// log4j 1: SocketNode deserialises through a filtering stream (patched).
    SocketNodeHardened,
    /// log4j 1: `jdbc/JDBCAppender` is present.
    JdbcAppenderClass,
    /// log4j 1: JDBCAppender uses prepared statements (patched).
    JdbcPrepared,
    /// log4j 1: Chainsaw's LoggingReceiver is present.
    ChainsawClass,
    /// log4j 1: Chainsaw deserialises through a hardened stream (patched).
    ChainsawHardened,
}

/// One fingerprint: a class (by the tail of its internal name) and an optional string constant.
#[derive(Debug, Clone, Copy)]
pub struct ClassRule {
    /// The family the class belongs to.
    pub family: Family,
    /// The internal name after the family's canonical prefix (`log4j/core/lookup/JndiLookup`).
    pub tail: &'static str,
    /// A substring one UTF-8 constant must contain, or `None` for the class's presence.
    pub string: Option<&'static str>,
    /// The feature the match shows.
    pub feature: Feature,
}

const fn rule(
    family: Family,
    tail: &'static str,
    string: Option<&'static str>,
    feature: Feature,
) -> ClassRule {
    ClassRule {
        family,
        tail,
        string,
        feature,
    }
}

use Family::{Log4j1, Log4jCore, LogbackClassic};
use Feature::*;

/// Every fingerprint rule.
pub const RULES: &[ClassRule] = &[
    rule(Log4jCore, "log4j/core/LoggerContext", None, Anchor),
    rule(Log4jCore, "log4j/core/lookup/Interpolator", None, Anchor),
    rule(
        Log4jCore,
        "log4j/core/lookup/JndiLookup",
        None,
        JndiLookupClass,
    ),
    rule(
        Log4jCore,
        "log4j/core/lookup/JndiLookup",
        Some("isJndiLookupEnabled"),
        JndiLookupGated,
    ),
    rule(
        Log4jCore,
        "log4j/core/net/JndiManager",
        None,
        JndiManagerClass,
    ),
    rule(
        Log4jCore,
        "log4j/core/net/JndiManager",
        Some("Invalid JNDI URI"),
        JndiAllowlist,
    ),
    rule(
        Log4jCore,
        "log4j/core/net/JndiManager",
        Some("log4j2.enableJndi"),
        JndiOffByDefault,
    ),
    rule(
        Log4jCore,
        "log4j/core/net/JndiManager",
        Some("isJndiJdbcEnabled"),
        JndiJdbcGated,
    ),
    rule(
        Log4jCore,
        "log4j/core/appender/db/jdbc/DataSourceConnectionSource",
        Some("log4j2.enableJndiJdbc"),
        JndiJdbcGated,
    ),
    rule(
        Log4jCore,
        "log4j/core/lookup/RuntimeStrSubstitutor",
        None,
        RecursionGuard,
    ),
    rule(Log4jCore, "log4j/core/util/SetUtils", None, SetUtilsClass),
    rule(
        Log4jCore,
        "log4j/core/pattern/MessagePatternConverter",
        Some("Message Lookups are no longer supported"),
        MessageLookupsRemoved,
    ),
    rule(
        Log4jCore,
        "log4j/core/pattern/MessagePatternConverter",
        Some("FORMAT_MESSAGES_PATTERN_DISABLE_LOOKUPS"),
        NoLookupsOption,
    ),
    rule(Log4j1, "log4j/helpers/OnlyOnceErrorHandler", None, Anchor),
    rule(Log4j1, "log4j/net/JMSAppender", None, JmsAppenderClass),
    rule(
        Log4j1,
        "log4j/net/JMSAppender",
        Some("JNDIUtil"),
        JndiRestricted,
    ),
    rule(Log4j1, "log4j/net/JMSSink", None, JmsSinkClass),
    rule(Log4j1, "log4j/net/SocketServer", None, SocketServerClass),
    rule(
        Log4j1,
        "log4j/net/SocketNode",
        Some("FilteredObjectInputStream"),
        SocketNodeHardened,
    ),
    rule(
        Log4j1,
        "log4j/net/SocketNode",
        Some("HardenedLoggingEventInputStream"),
        SocketNodeHardened,
    ),
    rule(Log4j1, "log4j/jdbc/JDBCAppender", None, JdbcAppenderClass),
    rule(
        Log4j1,
        "log4j/jdbc/JDBCAppender",
        Some("prepareStatement"),
        JdbcPrepared,
    ),
    rule(
        Log4j1,
        "log4j/chainsaw/LoggingReceiver",
        None,
        ChainsawClass,
    ),
    rule(
        Log4j1,
        "log4j/chainsaw/LoggingReceiver$Slurper",
        None,
        ChainsawClass,
    ),
    rule(
        Log4j1,
        "log4j/chainsaw/LoggingReceiver$Slurper",
        Some("HardenedLoggingEventInputStream"),
        ChainsawHardened,
    ),
    rule(
        LogbackClassic,
        "logback/classic/LoggerContext",
        None,
        Anchor,
    ),
];

/// The simple names (last path segment) of every fingerprinted class; `.class` entries with
/// another simple name are not read, which keeps big jars cheap.
pub fn is_interesting_simple_name(simple: &str) -> bool {
    // Asked for every `.class` entry of every jar: splitting each rule's tail per call cost more
    // than the rest of the name check, so the simple names are derived from RULES once.
    static SIMPLE_NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    SIMPLE_NAMES
        .get_or_init(|| {
            let mut names: Vec<&'static str> = RULES
                .iter()
                .map(|r| r.tail.rsplit('/').next().unwrap_or(r.tail))
                .collect();
            names.sort_unstable();
            names.dedup();
            names
        })
        .binary_search(&simple)
        .is_ok()
}

/// The rules matching an internal name, with the prefix in front of the rule's tail.
pub fn rules_for(internal_name: &str) -> impl Iterator<Item = (&'static ClassRule, &str)> + '_ {
    RULES.iter().filter_map(move |r| {
        let prefix = internal_name.strip_suffix(r.tail)?;
        (prefix.is_empty() || prefix.ends_with('/')).then_some((r, prefix))
    })
}

/// The log4j-core fix level shown by a set of features: 0 unknown, 1 up to 2.14.1, 2 = 2.15.0,
/// 3 = 2.16.0 (2.12.2), 4 = 2.17.0 (2.12.3, 2.3.1), 5 = 2.17.1 or later (2.12.4, 2.3.2).
pub fn log4j_core_level(features: &[Feature]) -> u8 {
    let has = |f| features.contains(&f);
    if has(JndiJdbcGated) {
        5
    } else if has(RecursionGuard) || has(JndiLookupGated) {
        4
    } else if has(JndiOffByDefault) || has(MessageLookupsRemoved) {
        3
    } else if has(JndiAllowlist) {
        2
    } else if has(JndiManagerClass) || has(NoLookupsOption) || has(SetUtilsClass) {
        1
    } else {
        0
    }
}

/// The versions a log4j-core fix level stands for, by release line (class-file major version).
pub fn log4j_core_versions(level: u8, major: Option<u16>) -> Option<(&'static str, &'static str)> {
    // (version used for advisory matching, human range)
    let line = match major {
        Some(50) => 3,
        Some(51) => 12,
        _ => 13,
    };
    Some(match (level, line) {
        (1, 3) => ("2.3", "2.1 to 2.3"),
        (1, 12) => ("2.12.1", "2.4 to 2.12.1"),
        (1, _) => ("2.14.1", "2.1 to 2.14.1"),
        (2, _) => ("2.15.0", "2.15.0"),
        (3, 12) => ("2.12.2", "2.12.2"),
        (3, _) => ("2.16.0", "2.16.0"),
        (4, 3) => ("2.3.1", "2.3.1"),
        (4, 12) => ("2.12.3", "2.12.3"),
        (4, _) => ("2.17.0", "2.17.0"),
        (5, 3) => ("2.3.2", "2.3.2"),
        (5, 12) => ("2.12.4", "2.12.4 or later 2.12.x"),
        (5, _) => ("2.17.1", "2.17.1 or later"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relocated_names_match_with_their_prefix() {
        let hits: Vec<_> =
            rules_for("shaded/org/apache/logging/log4j/core/lookup/JndiLookup").collect();
        assert!(
            hits.iter()
                .any(|(r, p)| r.feature == JndiLookupClass && *p == "shaded/org/apache/logging/")
        );
        assert_eq!(rules_for("x/NotJndiLookup").count(), 0);
        assert!(is_interesting_simple_name("JndiManager"));
        assert!(!is_interesting_simple_name("String"));
        for rule in RULES {
            let simple = rule.tail.rsplit('/').next().unwrap();
            assert!(is_interesting_simple_name(simple), "{simple}");
        }
        assert!(is_interesting_simple_name("LoggingReceiver$Slurper"));
        assert!(!is_interesting_simple_name("JndiLookupX"));
    }

    #[test]
    fn levels_follow_the_observed_markers() {
        assert_eq!(log4j_core_level(&[JndiManagerClass, SetUtilsClass]), 1);
        assert_eq!(log4j_core_level(&[JndiAllowlist]), 2);
        assert_eq!(log4j_core_level(&[JndiAllowlist, JndiOffByDefault]), 3);
        assert_eq!(log4j_core_level(&[RecursionGuard, JndiOffByDefault]), 4);
        assert_eq!(log4j_core_level(&[RecursionGuard, JndiJdbcGated]), 5);
        assert_eq!(log4j_core_versions(3, Some(51)).unwrap().0, "2.12.2");
    }
}
