//! The fast path: find lines that could hold a lookup in some encoding, or a post-exploitation
//! trace, looking at every byte once. Lines without a candidate are never decoded or
//! interpreted, so clean logs stream at memory speed.
//!
//! A lookup needs `$` followed by `{`, and every encoding the decoder understands starts with
//! `%` (`%24`, `%2524`, `%u0024`, `%5C044`), `\` (`\u0024`, `\x24`, `\044`, `\\u0024`) or `&`
//! (`&#36;`, `&#x24;`, `&dollar;`, `&amp;#36;`). So one packed (Teddy, SIMD) search runs over
//! every byte for the first two or three bytes of each of those forms (`${`, `$%`, `%24`, `%25`,
//! `\u`, `&#`, ...) and for the trace strings; each match is verified by a few comparisons.
//! Earlier versions ran one case-insensitive Aho-Corasick automaton (its one-byte needle `$`
//! kept it off the SIMD path: about 300 MB/s per core), then `memchr3`, `memchr` and a packed
//! trace search as three passes over each buffer, which streamed from memory three times.

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, MatchKind};

/// First bytes of every encoded `$` the decoder understands, and of a literal `$` that a `{`
/// (in any encoding) follows. Verified by [`is_dollar_at`].
const MARKERS: &[&str] = &[
    "${", "$%", "$\\", "$&", "%24", "%25", "%u0", "%U0", "%5c", "%5C", "\\u", "\\U", "\\x", "\\X",
    "\\0", "\\\\", "&#", "&d", "&D", "&a", "&A",
];

/// Parts of the post-exploitation traces the classifier matches ("Error looking up JNDI
/// resource", "com.sun.jndi.", "Reference Class Name"), case-exact, chosen to start with bytes
/// that are rare in logs.
const TRACES: &[&str] = &["JNDI resource", "jndi.", "Class Name"];

/// One search for markers and traces together.
#[derive(Debug, Clone)]
enum Search {
    /// SIMD (Teddy), where the CPU has it.
    Packed(packed::Searcher),
    /// The portable automaton otherwise.
    Automaton(AhoCorasick),
}

/// Finds candidate lines quickly; a match is necessary, not sufficient, for a hit.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    search: Search,
}

fn starts_with_ci(haystack: &[u8], at: usize, needle: &[u8]) -> bool {
    haystack
        .get(at..at + needle.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(needle))
}

/// True when the marker byte at `at` starts an encoding of `$`, or is a `$` that an encoded or
/// literal `{` may follow.
fn is_dollar_at(haystack: &[u8], at: usize) -> bool {
    let mut j = at + 1;
    match haystack[at] {
        b'$' => matches!(haystack.get(j), Some(b'{' | b'%' | b'\\' | b'&')),
        b'%' => {
            // `%25` encodes `%` itself: URL encoding applied several times.
            while starts_with_ci(haystack, j, b"25") {
                j += 2;
            }
            [&b"24"[..], b"u0024", b"5c"]
                .iter()
                .any(|n| starts_with_ci(haystack, j, n))
        }
        b'\\' => {
            while haystack.get(j) == Some(&b'\\') {
                j += 1;
            }
            [&b"u0024"[..], b"x24", b"x024", b"x0024", b"044"]
                .iter()
                .any(|n| starts_with_ci(haystack, j, n))
        }
        b'&' => {
            while starts_with_ci(haystack, j, b"amp;") {
                j += 4;
            }
            [
                &b"#36"[..],
                b"#036",
                b"#0036",
                b"#x24",
                b"#x024",
                b"#x0024",
                b"dollar",
            ]
            .iter()
            .any(|n| starts_with_ci(haystack, j, n))
        }
        _ => false,
    }
}

impl Prefilter {
    /// Builds the searcher (SIMD where available).
    pub(crate) fn new() -> Self {
        let patterns = MARKERS.iter().chain(TRACES);
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(patterns.clone())
            .build();
        let search = match packed {
            Some(searcher) => Search::Packed(searcher),
            None => Search::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(patterns)
                    .expect("the prefilter patterns are a small fixed set"),
            ),
        };
        Self { search }
    }

    /// Offset of the first candidate in `haystack`.
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.candidates(haystack).next_from(0)
    }

    /// The candidates of `haystack`, asked for in increasing offsets.
    pub(crate) fn candidates<'a>(&'a self, haystack: &'a [u8]) -> Candidates<'a> {
        Candidates {
            prefilter: self,
            haystack,
        }
    }

    /// The first pattern match at or after `from`: its offset and whether it is a trace.
    fn next_match(&self, haystack: &[u8], from: usize) -> Option<(usize, bool)> {
        let found = match &self.search {
            Search::Packed(searcher) => searcher
                .find_in(haystack, aho_corasick::Span::from(from..haystack.len()))
                .map(|m| (m.start(), m.pattern().as_usize())),
            Search::Automaton(automaton) => automaton
                .find(aho_corasick::Input::new(haystack).range(from..))
                .map(|m| (m.start(), m.pattern().as_usize())),
        };
        found.map(|(at, pattern)| (at, pattern >= MARKERS.len()))
    }
}

/// Candidates of one haystack, asked for in increasing offsets.
pub(crate) struct Candidates<'a> {
    prefilter: &'a Prefilter,
    haystack: &'a [u8],
}

impl Candidates<'_> {
    /// The first candidate at or after `pos`.
    pub(crate) fn next_from(&mut self, mut pos: usize) -> Option<usize> {
        while pos < self.haystack.len() {
            let (at, trace) = self.prefilter.next_match(self.haystack, pos)?;
            if trace || is_dollar_at(self.haystack, at) {
                return Some(at);
            }
            pos = at + 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_of_dollar_is_a_candidate() {
        let prefilter = Prefilter::new();
        for s in [
            "${jndi",
            "%24%7B",
            "%2524",
            "%252524",
            "\\u0024",
            "%U0024",
            "%25u0024",
            "\\x24",
            "\\X0024",
            "\\\\u0024",
            "\\044",
            "%5C044",
            "%255c044",
            "&#36;",
            "&#x24;",
            "&#X24;",
            "&#036;",
            "&DOLLAR;",
            "&amp;dollar;",
            "&amp;amp;#36;",
            "at com.sun.jndi.ldap.LdapCtx",
            "Error looking up JNDI resource [x]",
            "Reference Class Name: x",
        ] {
            // Decoys first: `&`, `%` and `\` that start no encoding of `$`.
            let text = format!("a&b %20 c\\d {s} def");
            let found = prefilter.find(text.as_bytes());
            assert!(
                found.is_some_and(|at| (12..12 + s.len()).contains(&at)),
                "{s}: {found:?}"
            );
        }
    }

    #[test]
    fn clean_text_is_not_a_candidate() {
        let prefilter = Prefilter::new();
        for line in [
            &b"127.0.0.1 - - [10/Dec/2021:10:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 512"[..],
            b"GET /search?q=a%20b&c=d&amp;e=f HTTP/1.1 C:\\Windows\\x.dll 0x24 u0024 #36 dollar",
            b"looked up jdbc/app via JNDI",
        ] {
            assert_eq!(prefilter.find(line), None);
        }
    }

    #[test]
    fn the_cursor_agrees_with_fresh_searches() {
        let prefilter = Prefilter::new();
        let text = b"a %20 $ b &amp; &#36; c sun.jndi. d %2524 e \\x24 f".repeat(3);
        let mut cursor = prefilter.candidates(&text);
        let mut pos = 0;
        while pos < text.len() {
            let fresh = prefilter.find(&text[pos..]).map(|i| pos + i);
            assert_eq!(cursor.next_from(pos), fresh, "at {pos}");
            pos += 3;
        }
    }
}
