//! Filtering and paging a collection's entries the way TAXII asks: `match[id|type|version|
//! spec_version]`, `added_after`, and `limit`/`next` pages in the order the server added them.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use vulnshare_formats::stix::parse_stix_time;

use super::Entry;
use crate::error::{AppError, AppResult};

/// Which versions of each object a query wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMatch {
    /// Every version.
    All,
    /// Some of: the first, the last, given versions.
    Some {
        /// The earliest version.
        first: bool,
        /// The latest version.
        last: bool,
        /// Exact versions.
        exact: Vec<String>,
    },
}

impl Default for VersionMatch {
    fn default() -> Self {
        VersionMatch::Some {
            first: false,
            last: true,
            exact: Vec::new(),
        }
    }
}

/// The filters of a TAXII objects or manifest request.
#[derive(Debug, Clone, Default)]
pub struct ObjectFilter {
    /// Only versions added strictly after this time.
    pub added_after: Option<Timestamp>,
    /// `match[id]`.
    pub ids: Option<Vec<String>>,
    /// `match[type]`.
    pub types: Option<Vec<String>>,
    /// `match[version]`.
    pub versions: VersionMatch,
    /// `match[spec_version]`; only `2.1` exists here.
    pub spec_versions: Option<Vec<String>>,
    /// Page size.
    pub limit: usize,
    /// The `next` value of the previous page.
    pub next: Option<String>,
}

/// One page of entries.
#[derive(Debug, Clone)]
pub struct Page {
    /// The entries.
    pub entries: Vec<Entry>,
    /// Whether more follow.
    pub more: bool,
    /// What to pass as `next` for them.
    pub next: Option<String>,
}

fn cursor_of(e: &Entry) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}|{}",
        e.date_added.as_microsecond(),
        e.id,
        e.version
    ))
}

fn parse_cursor(next: &str) -> AppResult<(i64, String, String)> {
    let bad = || AppError::field("next", "not a next value returned by this server");
    let text = URL_SAFE_NO_PAD
        .decode(next)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let mut parts = text.splitn(3, '|');
    let micros = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().ok_or_else(bad)?.to_owned();
    let version = parts.next().ok_or_else(bad)?.to_owned();
    Ok((micros, id, version))
}

/// Applies `filter` to entries in addition order and cuts one page.
pub fn select(entries: Vec<Entry>, filter: &ObjectFilter) -> AppResult<Page> {
    let after = filter.next.as_deref().map(parse_cursor).transpose()?;
    let wanted = |e: &Entry| {
        filter.ids.as_ref().is_none_or(|ids| ids.contains(&e.id))
            && filter
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&e.object_type))
            && filter
                .spec_versions
                .as_ref()
                .is_none_or(|v| v.iter().any(|s| s == "2.1"))
    };
    let mut by_id: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for e in entries.into_iter().filter(wanted) {
        by_id.entry(e.id.clone()).or_default().push(e);
    }
    let mut chosen = Vec::new();
    for (_, mut versions) in by_id {
        versions
            .sort_by(|a, b| (a.version_time(), &a.version).cmp(&(b.version_time(), &b.version)));
        match &filter.versions {
            VersionMatch::All => chosen.extend(versions),
            VersionMatch::Some { first, last, exact } => {
                let n = versions.len();
                for (i, v) in versions.into_iter().enumerate() {
                    let exact_hit = exact.iter().any(|x| {
                        *x == v.version
                            || parse_stix_time(x).is_some_and(|t| Some(t) == v.version_time())
                    });
                    if (*first && i == 0) || (*last && i + 1 == n) || exact_hit {
                        chosen.push(v);
                    }
                }
            }
        }
    }
    chosen.retain(|e| filter.added_after.is_none_or(|t| e.date_added > t));
    chosen
        .sort_by(|a, b| (a.date_added, &a.id, &a.version).cmp(&(b.date_added, &b.id, &b.version)));
    if let Some((micros, id, version)) = &after {
        chosen.retain(|e| {
            (e.date_added.as_microsecond(), &e.id, &e.version) > (*micros, id, version)
        });
    }
    let more = chosen.len() > filter.limit;
    chosen.truncate(filter.limit);
    let next = if more {
        chosen.last().map(cursor_of)
    } else {
        None
    };
    Ok(Page {
        entries: chosen,
        more,
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: &str, version: &str, added: &str) -> Entry {
        Entry {
            id: id.into(),
            object_type: id.split("--").next().unwrap().into(),
            version: version.into(),
            date_added: added.parse().unwrap(),
            document: json!({"id": id}),
            owner_org_id: Some("o".into()),
        }
    }

    #[test]
    fn versions_filters_and_pages() {
        let entries = vec![
            entry(
                "indicator--1",
                "2021-12-10T00:00:00.000Z",
                "2021-12-10T01:00:00Z",
            ),
            entry(
                "indicator--1",
                "2021-12-11T00:00:00.000Z",
                "2021-12-11T01:00:00Z",
            ),
            entry(
                "report--2",
                "2021-12-10T00:00:00.000Z",
                "2021-12-10T02:00:00Z",
            ),
        ];
        let base = ObjectFilter {
            limit: 10,
            ..ObjectFilter::default()
        };
        let last = select(entries.clone(), &base).unwrap();
        let got: Vec<(&str, &str)> = last
            .entries
            .iter()
            .map(|e| (e.id.as_str(), &e.version[..10]))
            .collect();
        assert_eq!(
            got,
            [("report--2", "2021-12-10"), ("indicator--1", "2021-12-11")]
        );
        let first = select(
            entries.clone(),
            &ObjectFilter {
                versions: VersionMatch::Some {
                    first: true,
                    last: false,
                    exact: vec![],
                },
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(first.entries.len(), 2);
        assert_eq!(first.entries[0].version, "2021-12-10T00:00:00.000Z");
        let all = select(
            entries.clone(),
            &ObjectFilter {
                versions: VersionMatch::All,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(all.entries.len(), 3);
        let typed = select(
            entries.clone(),
            &ObjectFilter {
                types: Some(vec!["report".into()]),
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(typed.entries.len(), 1);
        let after = select(
            entries.clone(),
            &ObjectFilter {
                added_after: Some("2021-12-10T02:00:00Z".parse().unwrap()),
                versions: VersionMatch::All,
                ..base.clone()
            },
        )
        .unwrap();
        assert_eq!(after.entries.len(), 1);
        let page1 = select(
            entries.clone(),
            &ObjectFilter {
                versions: VersionMatch::All,
                limit: 2,
                ..base.clone()
            },
        )
        .unwrap();
        assert!(page1.more);
        let page2 = select(
            entries,
            &ObjectFilter {
                versions: VersionMatch::All,
                limit: 2,
                next: page1.next.clone(),
                ..base
            },
        )
        .unwrap();
        assert!(!page2.more);
        assert_eq!(page2.entries.len(), 1);
        assert_eq!(page2.entries[0].version, "2021-12-11T00:00:00.000Z");
    }
}
