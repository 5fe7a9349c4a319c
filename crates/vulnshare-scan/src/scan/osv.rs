//! An offline OSV advisory set: a file (one advisory, an array, or `{"vulns": [...]}`) or a
//! folder of such files, read minimally and matched against Maven components with exact Maven
//! version ordering (`vulnshare_core::version`). [`batch_queries`] builds the osv.dev
//! `querybatch` requests that fetch the same records from a server instead.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;
use vulnshare_core::package::{AffectedPackage, Ecosystem, RangeEvent, RangeType, VersionRange};
use vulnshare_core::severity::CvssScore;
use vulnshare_core::version::AffectedMatcher;

use super::report::{AdvisoryMatch, ScanReport};

/// Most queries in one osv.dev `querybatch` request (osv.dev's and vulnshare's limit).
pub const MAX_BATCH_QUERIES: usize = 1000;

/// Why an advisory set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    /// A file or folder could not be read.
    #[error("cannot read advisories from {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path} is not valid JSON: {source}")]
    Json {
        /// The path.
        path: String,
        /// The cause.
        source: serde_json::Error,
    },
}

#[derive(Debug)]
struct Advisory {
    id: String,
    aliases: Vec<String>,
    score: Option<f32>,
    severity: Option<String>,
}

/// Advisories indexed by Maven `group:artifact`.
#[derive(Debug, Default)]
pub struct AdvisoryDb {
    advisories: Vec<Advisory>,
    by_package: HashMap<String, Vec<(usize, AffectedMatcher)>>,
    ids: HashSet<String>,
    /// Affected entries skipped because a range did not parse.
    pub skipped: usize,
}

impl AdvisoryDb {
    /// Loads a file or every `.json` file under a folder.
    pub fn load(path: &Path) -> Result<AdvisoryDb, OsvError> {
        let mut db = AdvisoryDb::default();
        db.load_path(path)?;
        Ok(db)
    }

    fn load_path(&mut self, path: &Path) -> Result<(), OsvError> {
        let io = |source| OsvError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for entry in entries {
                if entry.is_dir() || entry.extension().is_some_and(|e| e == "json") {
                    self.load_path(&entry)?;
                }
            }
            return Ok(());
        }
        let text = std::fs::read(path).map_err(io)?;
        let value: Value = serde_json::from_slice(&text).map_err(|source| OsvError::Json {
            path: path.display().to_string(),
            source,
        })?;
        self.add_value(&value);
        Ok(())
    }

    /// Adds advisories from parsed JSON: one, an array, `{"vulns": [...]}`, or a `querybatch`
    /// answer `{"results": [{"vulns": [...]}, ...]}`. An id seen before is skipped, since a
    /// server returns the same record for every affected component.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) if map.contains_key("vulns") => self.add_value(&map["vulns"]),
            Value::Object(map) if map.contains_key("results") => self.add_value(&map["results"]),
            Value::Object(_) => self.add_advisory(value),
            _ => {}
        }
    }

    fn add_advisory(&mut self, value: &Value) {
        let Some(id) = value["id"].as_str() else {
            return;
        };
        if !self.ids.insert(id.to_owned()) {
            return;
        }
        let aliases = value["aliases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let scored = value["severity"].as_array().and_then(|list| {
            list.iter()
                .filter_map(|s| CvssScore::parse(s["score"].as_str()?).ok())
                .max_by(|a, b| a.score.total_cmp(&b.score))
        });
        let label = value["database_specific"]["severity"]
            .as_str()
            .map(str::to_ascii_lowercase);
        let index = self.advisories.len();
        self.advisories.push(Advisory {
            id: id.to_owned(),
            aliases,
            score: scored.as_ref().map(|s| s.score as f32),
            severity: scored.map(|s| s.severity).or(label),
        });
        for affected in value["affected"].as_array().into_iter().flatten() {
            let package = &affected["package"];
            if package["ecosystem"].as_str().and_then(Ecosystem::parse) != Some(Ecosystem::Maven) {
                continue;
            }
            let Some(name) = package["name"].as_str() else {
                continue;
            };
            let parsed = AffectedPackage {
                ecosystem: Ecosystem::Maven,
                name: name.to_owned(),
                purl: None,
                ranges: affected["ranges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(parse_range)
                    .collect(),
                versions: affected["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            };
            match AffectedMatcher::new(Ecosystem::Maven, &parsed) {
                Ok(matcher) => self
                    .by_package
                    .entry(name.to_owned())
                    .or_default()
                    .push((index, matcher)),
                Err(_) => self.skipped += 1,
            }
        }
    }

    /// How many advisories are loaded.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Whether no advisory is loaded.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Advisories affecting `group:artifact` at `version`.
    pub fn matches(&self, group: &str, artifact: &str, version: &str) -> Vec<AdvisoryMatch> {
        let key = format!("{group}:{artifact}");
        let mut out: Vec<AdvisoryMatch> = Vec::new();
        for (index, matcher) in self.by_package.get(&key).into_iter().flatten() {
            if !matcher.matches_str(version).unwrap_or(false) {
                continue;
            }
            let advisory = &self.advisories[*index];
            if out.iter().any(|m| m.id == advisory.id) {
                continue;
            }
            out.push(AdvisoryMatch {
                id: advisory.id.clone(),
                aliases: advisory.aliases.clone(),
                score: advisory.score,
                severity: advisory.severity.clone(),
                matched_version: version.to_owned(),
            });
        }
        out
    }
}

/// osv.dev `querybatch` request bodies asking about every component of `report` with a known
/// version, by purl (`pkg:maven/group/artifact@version`), each purl once, at most
/// `max_per_batch` queries per body. Empty when no component has a version.
pub fn batch_queries(report: &ScanReport, max_per_batch: usize) -> Vec<Value> {
    let purls: BTreeSet<String> = report
        .components
        .iter()
        .filter_map(|c| {
            let version = c.version.as_ref()?;
            Some(format!("pkg:maven/{}/{}@{version}", c.group, c.artifact))
        })
        .collect();
    let purls: Vec<String> = purls.into_iter().collect();
    purls
        .chunks(max_per_batch.max(1))
        .map(|chunk| {
            let queries: Vec<Value> = chunk
                .iter()
                .map(|purl| serde_json::json!({"package": {"purl": purl}}))
                .collect();
            serde_json::json!({ "queries": queries })
        })
        .collect()
}

fn parse_range(value: &Value) -> Option<VersionRange> {
    let range_type = match value["type"].as_str()? {
        "ECOSYSTEM" => RangeType::Ecosystem,
        "SEMVER" => RangeType::Semver,
        "GIT" => RangeType::Git,
        _ => return None,
    };
    let events = value["events"]
        .as_array()?
        .iter()
        .filter_map(|event| {
            let (key, version) = event.as_object()?.iter().next()?;
            let version = version.as_str()?.to_owned();
            Some(match key.as_str() {
                "introduced" => RangeEvent::Introduced(version),
                "fixed" => RangeEvent::Fixed(version),
                "last_affected" => RangeEvent::LastAffected(version),
                "limit" => RangeEvent::Limit(version),
                _ => return None,
            })
        })
        .collect();
    Some(VersionRange {
        range_type,
        repo: value["repo"].as_str().map(str::to_owned),
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log4shell_ranges_match_with_maven_ordering() {
        let mut db = AdvisoryDb::default();
        db.add_value(&serde_json::json!({"vulns": [{
            "id": "GHSA-jfh8-c2jp-5v3q", "aliases": ["CVE-2021-44228"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
                "ranges": [{"type": "ECOSYSTEM", "events": [
                    {"introduced": "2.13.0"}, {"fixed": "2.15.0"},
                    {"introduced": "2.0-beta9"}, {"fixed": "2.3.1"},
                    {"introduced": "2.4"}, {"fixed": "2.12.2"}]}]}]
        }]}));
        let hit = |v| {
            !db.matches("org.apache.logging.log4j", "log4j-core", v)
                .is_empty()
        };
        assert!(hit("2.14.1") && hit("2.0-beta9") && hit("2.12.1") && hit("2.0-rc1"));
        assert!(!hit("2.12.2") && !hit("2.15.0") && !hit("2.3.1") && !hit("2.0-beta8"));
        let m = db.matches("org.apache.logging.log4j", "log4j-core", "2.14.1");
        assert_eq!(m[0].score, Some(10.0));
    }

    fn component(artifact: &str, version: Option<&str>) -> super::super::Component {
        super::super::Component {
            group: "org.apache.logging.log4j".into(),
            artifact: artifact.into(),
            version: version.map(str::to_owned),
            inferred_versions: None,
            family: None,
            purl: String::new(),
            location: format!("{artifact}.jar"),
            file: format!("{artifact}.jar"),
            sha256: None,
            sha1: None,
            relocated_prefix: None,
            features: Vec::new(),
            evidence: Vec::new(),
            confidence: 1.0,
            conflicts: Vec::new(),
            cves: Vec::new(),
            advisories: Vec::new(),
        }
    }

    #[test]
    fn batches_ask_once_per_versioned_purl_within_the_limit() {
        let report = ScanReport {
            components: vec![
                component("log4j-core", Some("2.14.1")),
                component("log4j-core", Some("2.14.1")),
                component("log4j-api", Some("2.14.1")),
                component("log4j-core", None),
                component("log4j-web", Some("2.17.1")),
            ],
            ..ScanReport::default()
        };
        let batches = batch_queries(&report, 2);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0]["queries"].as_array().unwrap().len(), 2);
        assert_eq!(
            batches[0]["queries"][1]["package"]["purl"],
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(batches[1]["queries"].as_array().unwrap().len(), 1);
        assert!(batch_queries(&ScanReport::default(), MAX_BATCH_QUERIES).is_empty());
    }

    #[test]
    fn querybatch_answers_load_each_record_once() {
        let record = serde_json::json!({"id": "VSA-2026-00001", "aliases": ["CVE-2021-44228"],
            "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}]});
        let mut db = AdvisoryDb::default();
        db.add_value(
            &serde_json::json!({"results": [{"vulns": [record.clone()]}, {}, {"vulns": [record]}]}),
        );
        assert_eq!(db.len(), 1);
        let m = db.matches("org.apache.logging.log4j", "log4j-core", "2.14.1");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].id, "VSA-2026-00001");
    }
}
