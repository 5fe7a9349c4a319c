//! Maven version ordering, as Apache Maven's `ComparableVersion` defines it and OSV applies it.
//!
//! A version is cut into tokens at `.` and `-` and wherever digits meet non-digits (such a
//! transition counts as a `-`). Each token remembers the separator before it, because the
//! separator takes part in the order: `.qualifier < -qualifier < -number < .number`.
//! Qualifiers rank `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release
//! < sp`, and unknown qualifiers come after all known ones, in lexical order. Trailing "null"
//! tokens (`0`, `""`, `ga`, `final`, `release`) are trimmed, again before every `-`, so
//! `1.0 == 1.0.0 == 1-ga`. When one version runs out of tokens it is padded with nulls that
//! take the separator of the other side.
//!
//! One deliberate difference from osv.dev's Python port: a padded null facing a `.`-qualifier
//! ranks as a release, as in Maven itself, so `4.2.3.SP1 > 4.2.3` (osv.dev ranks it lower).
//!
//! Maven's order is not transitive when `.`-qualifiers and `-` tokens meet at the same
//! position (Maven itself has `1 < 1-1 < 1.0.alpha < 1`); this type reproduces Maven rather
//! than inventing an order, so such mixes should not be sorted with `slice::sort`.

use std::cmp::Ordering;
use std::fmt;

/// A parsed Maven version: compare many times, parse once.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    original: Box<str>,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    Dot,
    Hyphen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number; those too large for `u64` keep their digits (no leading zeros).
    Number(u64),
    BigNumber(Box<str>),
    /// A qualifier's rank (see [`qualifier_rank`]); unknown qualifiers keep their text.
    Qualifier(u8, Box<str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    separator: Separator,
    item: Item,
}

/// The rank of the release qualifier (`""`, `ga`, `final`, `release`).
const RELEASE: u8 = 5;
/// The rank shared by every qualifier Maven does not know.
const UNKNOWN: u8 = 7;

fn qualifier_rank(text: &str) -> u8 {
    match text {
        "alpha" => 0,
        "beta" => 1,
        "milestone" => 2,
        "rc" | "cr" => 3,
        "snapshot" => 4,
        "" | "ga" | "final" | "release" => RELEASE,
        "sp" => 6,
        _ => UNKNOWN,
    }
}

impl Item {
    fn number(digits: &str) -> Item {
        let trimmed = digits.trim_start_matches('0');
        match trimmed.parse::<u64>() {
            Ok(n) => Item::Number(n),
            Err(_) if trimmed.is_empty() => Item::Number(0),
            Err(_) => Item::BigNumber(trimmed.into()),
        }
    }

    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        // "a1", "b2", "m3" abbreviate alpha, beta and milestone only before a number.
        let text = match text {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            other => other,
        };
        let rank = qualifier_rank(text);
        let kept = if rank == UNKNOWN { text } else { "" };
        Item::Qualifier(rank, kept.into())
    }

    fn is_null(&self) -> bool {
        matches!(self, Item::Number(0) | Item::Qualifier(RELEASE, _))
    }

    fn is_number(&self) -> bool {
        matches!(self, Item::Number(_) | Item::BigNumber(_))
    }
}

fn compare_numbers(a: &Item, b: &Item) -> Ordering {
    match (a, b) {
        (Item::Number(x), Item::Number(y)) => x.cmp(y),
        (Item::Number(_), _) => Ordering::Less,
        (_, Item::Number(_)) => Ordering::Greater,
        (Item::BigNumber(x), Item::BigNumber(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        _ => unreachable!("compare_numbers is only called on numbers"),
    }
}

/// Compares two tokens that follow the same separator.
fn compare_same_separator(a: &Item, b: &Item) -> Ordering {
    match (a.is_number(), b.is_number()) {
        (true, true) => compare_numbers(a, b),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => match (a, b) {
            (Item::Qualifier(ra, ta), Item::Qualifier(rb, tb)) => {
                ra.cmp(rb).then_with(|| ta.cmp(tb))
            }
            _ => unreachable!("non-numbers are qualifiers"),
        },
    }
}

/// Where a token falls in `.qualifier < -qualifier < -number < .number`.
fn separator_class(token: &Token) -> u8 {
    match (token.separator, token.item.is_number()) {
        (Separator::Dot, false) => 0,
        (Separator::Hyphen, false) => 1,
        (Separator::Hyphen, true) => 2,
        (Separator::Dot, true) => 3,
    }
}

fn compare_tokens(a: &Token, b: &Token) -> Ordering {
    if a.separator == b.separator {
        compare_same_separator(&a.item, &b.item)
    } else {
        separator_class(a).cmp(&separator_class(b))
    }
}

/// Compares a padding null (taking `token`'s separator) with `token`.
fn compare_padding(token: &Token) -> Ordering {
    match (&token.item, token.separator) {
        // After a dot the padding is the number 0.
        (Item::Number(0), Separator::Dot) => Ordering::Equal,
        // After a hyphen the padding is the empty qualifier, which sorts before any number.
        (Item::Number(_) | Item::BigNumber(_), _) => Ordering::Less,
        // Facing a qualifier, the padding is a release.
        (Item::Qualifier(rank, _), _) => RELEASE.cmp(rank),
    }
}

impl MavenVersion {
    /// Parses a Maven version; any string is a Maven version (validation rejects empty ones).
    pub fn parse(version: &str) -> MavenVersion {
        let lower = version.to_lowercase();
        let mut tokens = Vec::new();
        // The first chunk has no separator; treating it as a dot is equivalent because
        // first tokens only ever meet other first tokens.
        let mut separator = Separator::Dot;
        let mut rest = lower.as_str();
        loop {
            let end = rest.find(['.', '-']).unwrap_or(rest.len());
            tokens_of_chunk(&rest[..end], separator, &mut tokens);
            if end == rest.len() {
                break;
            }
            separator = if rest.as_bytes()[end] == b'.' {
                Separator::Dot
            } else {
                Separator::Hyphen
            };
            rest = &rest[end + 1..];
        }
        MavenVersion {
            original: version.into(),
            tokens: trim_nulls(tokens),
        }
    }

    /// The version as it was written.
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

/// Splits one `.`/`-`-delimited chunk at digit/non-digit transitions.
fn tokens_of_chunk(chunk: &str, separator: Separator, out: &mut Vec<Token>) {
    if chunk.is_empty() {
        // An empty token stands for 0.
        out.push(Token {
            separator,
            item: Item::Number(0),
        });
        return;
    }
    let bytes = chunk.as_bytes();
    let mut start = 0;
    let mut first = true;
    for end in 1..=bytes.len() {
        let at_boundary =
            end == bytes.len() || bytes[end].is_ascii_digit() != bytes[end - 1].is_ascii_digit();
        if !at_boundary {
            continue;
        }
        let piece = &chunk[start..end];
        let item = if bytes[start].is_ascii_digit() {
            Item::number(piece)
        } else {
            Item::qualifier(piece, end < bytes.len())
        };
        out.push(Token {
            separator: if first { separator } else { Separator::Hyphen },
            item,
        });
        first = false;
        start = end;
    }
}

/// Trims null tokens at the end and before each hyphen, from the end towards the start.
fn trim_nulls(mut tokens: Vec<Token>) -> Vec<Token> {
    let mut i = tokens.len() as isize - 1;
    // The first token always stays so that every version has something to compare.
    while i > 0 {
        if tokens[i as usize].item.is_null() {
            tokens.remove(i as usize);
            i -= 1;
            continue;
        }
        while i >= 0 && tokens[i as usize].separator != Separator::Hyphen {
            i -= 1;
        }
        i -= 1;
    }
    tokens
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.tokens.len().max(other.tokens.len());
        for i in 0..len {
            let ordering = match (self.tokens.get(i), other.tokens.get(i)) {
                (Some(a), Some(b)) => compare_tokens(a, b),
                (None, Some(b)) => compare_padding(b),
                (Some(a), None) => compare_padding(a).reverse(),
                (None, None) => Ordering::Equal,
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}
