//! From what one container holds (fingerprinted classes, pom.properties, MANIFEST.MF) to
//! components with evidence, confidence and conflicts.
//!
//! Classes are grouped by where they sit (the folder in front of the package path, `""` in a
//! plain jar, `WEB-INF/classes/` in an exploded war) and by the package prefix in front of the
//! family's own path, so a fat jar with log4j-core relocated under `shaded/` yields its own
//! component. A pom.properties naming the same family is merged with that group; one naming a
//! family whose classes are absent is reported as a conflict, never silently trusted.

use std::collections::BTreeMap;

use super::classfile::ClassFile;
use super::cve::{Subject, verdicts};
use super::fingerprint::{Family, Feature, log4j_core_level, log4j_core_versions, rules_for};
use super::report::{Component, Evidence, Technique};

/// One fingerprint match in one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHit {
    /// The family.
    pub family: Family,
    /// The feature shown.
    pub feature: Feature,
    /// The package prefix in front of the family's path (`org/apache/logging/` unless relocated).
    pub prefix: String,
    /// The folder in front of the internal name inside the container.
    pub root: String,
    /// The class's internal name.
    pub internal_name: String,
    /// The entry it was read from.
    pub entry: String,
    /// Class-file major version.
    pub major: u16,
}

/// The coordinates in a pom.properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PomHit {
    /// groupId.
    pub group: String,
    /// artifactId.
    pub artifact: String,
    /// version.
    pub version: String,
    /// The entry it was read from.
    pub entry: String,
}

/// The identifying attributes of a MANIFEST.MF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestHit {
    /// `Bundle-SymbolicName` (without directives).
    pub symbolic_name: Option<String>,
    /// `Implementation-Title`.
    pub title: Option<String>,
    /// `Implementation-Version`, else `Bundle-Version`.
    pub version: Option<String>,
}

/// Everything of interest gathered from one container.
#[derive(Debug, Clone, Default)]
pub struct ContainerFacts {
    /// Fingerprint matches.
    pub classes: Vec<ClassHit>,
    /// pom.properties files.
    pub poms: Vec<PomHit>,
    /// The container's own MANIFEST.MF.
    pub manifest: Option<ManifestHit>,
}

impl ContainerFacts {
    /// Records the fingerprint matches of a parsed class read from `entry`.
    pub fn add_class(&mut self, entry: &str, class: &ClassFile) {
        let root = entry
            .strip_suffix(".class")
            .and_then(|e| e.strip_suffix(class.this_class.as_str()))
            .unwrap_or("");
        for (rule, prefix) in rules_for(&class.this_class) {
            if rule.string.is_none_or(|s| class.has_string_containing(s)) {
                self.classes.push(ClassHit {
                    family: rule.family,
                    feature: rule.feature,
                    prefix: prefix.to_owned(),
                    root: root.to_owned(),
                    internal_name: class.this_class.clone(),
                    entry: entry.to_owned(),
                    major: class.major,
                });
            }
        }
    }
}

/// Parses a pom.properties; `None` unless it has groupId, artifactId and version.
pub fn parse_pom_properties(entry: &str, text: &str) -> Option<PomHit> {
    let mut group = None;
    let mut artifact = None;
    let mut version = None;
    for line in text.lines().map(str::trim) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_owned();
        match key.trim() {
            "groupId" => group = Some(value),
            "artifactId" => artifact = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    Some(PomHit {
        group: group?,
        artifact: artifact?,
        version: version?,
        entry: entry.to_owned(),
    })
}

/// Parses the main section of a MANIFEST.MF (continuation lines joined).
pub fn parse_manifest(text: &str) -> ManifestHit {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        match (line.strip_prefix(' '), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(line.to_owned()),
        }
    }
    let get = |key: &str| {
        lines.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_owned())
        })
    };
    ManifestHit {
        symbolic_name: get("Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or("").trim().to_owned()),
        title: get("Implementation-Title"),
        version: get("Implementation-Version").or_else(|| get("Bundle-Version")),
    }
}

fn manifest_family(manifest: &ManifestHit) -> Option<(Family, &'static str)> {
    match manifest.symbolic_name.as_deref() {
        Some("org.apache.logging.log4j.core") => return Some((Family::Log4jCore, "log4j-core")),
        Some("org.apache.log4j" | "log4j") => return Some((Family::Log4j1, "log4j")),
        Some("ch.qos.reload4j") => return Some((Family::Log4j1, "reload4j")),
        Some("ch.qos.logback.classic") => return Some((Family::LogbackClassic, "logback-classic")),
        _ => {}
    }
    match manifest.title.as_deref() {
        Some("Apache Log4j Core") => Some((Family::Log4jCore, "log4j-core")),
        Some("log4j") => Some((Family::Log4j1, "log4j")),
        _ => None,
    }
}

/// Where a container is and what it hashes to.
#[derive(Debug, Clone)]
pub struct ContainerInfo<'a> {
    /// Nested location of the container.
    pub location: &'a str,
    /// The file on disk holding it.
    pub file: &'a str,
    /// SHA-256 and SHA-1 of the container's bytes, hex.
    pub hashes: Option<(String, String)>,
}

fn file_name_version<'a>(location: &'a str, artifact: &str) -> Option<&'a str> {
    let name = location.rsplit(['/', '!']).next()?;
    let stem = name.strip_suffix(".jar")?;
    stem.strip_prefix(artifact)?.strip_prefix('-')
}

#[derive(Default)]
struct Group {
    features: Vec<Feature>,
    evidence: Vec<Evidence>,
    major: Option<u16>,
    pom: Option<PomHit>,
}

/// Turns one container's facts into components.
pub fn identify(info: &ContainerInfo<'_>, facts: &ContainerFacts) -> Vec<Component> {
    let mut groups: BTreeMap<(String, Family, String), Group> = BTreeMap::new();
    for hit in &facts.classes {
        let group = groups
            .entry((hit.root.clone(), hit.family, hit.prefix.clone()))
            .or_default();
        if !group.features.contains(&hit.feature) {
            group.features.push(hit.feature);
            group.evidence.push(Evidence {
                field: if hit.feature == Feature::Anchor {
                    "name"
                } else {
                    "version"
                },
                technique: Technique::BinaryAnalysis,
                confidence: 0.9,
                value: format!("{:?} in {} ({})", hit.feature, hit.internal_name, hit.entry),
            });
        }
        if hit.family == Family::Log4jCore {
            group.major = group.major.max(Some(hit.major));
        }
    }
    let mut components = Vec::new();
    let mut pom_only = Vec::new();
    for pom in &facts.poms {
        let family = Family::of_coordinates(&pom.group, &pom.artifact);
        let target = family.and_then(|f| {
            let mut keys = groups.keys().filter(|(_, gf, _)| *gf == f);
            let canonical = keys.clone().find(|(_, _, p)| p == f.canonical_prefix());
            canonical.or_else(|| keys.next()).cloned()
        });
        match target {
            Some(key) if groups[&key].pom.is_none() => {
                groups.get_mut(&key).expect("key from map").pom = Some(pom.clone())
            }
            _ => pom_only.push((family, pom.clone())),
        }
    }
    let manifest = facts
        .manifest
        .as_ref()
        .and_then(|m| Some((manifest_family(m)?, m)));
    for ((root, family, prefix), group) in groups {
        let (default_group, default_artifact) = family.coordinates();
        let mut component = base_component(info, &root);
        component.family = Some(family);
        component.group = default_group.to_owned();
        component.artifact = default_artifact.to_owned();
        component.features = group.features.clone();
        component.features.sort();
        component.evidence = group.evidence;
        if prefix != family.canonical_prefix() {
            component.relocated_prefix = Some(prefix.clone());
        }
        let mut declared = None;
        if let Some(pom) = &group.pom {
            component.group = pom.group.clone();
            component.artifact = pom.artifact.clone();
            declared = Some(pom.version.clone());
            component.evidence.push(pom_evidence(pom));
        } else if let Some(((_, artifact), m)) = manifest.filter(|((f, _), _)| *f == family) {
            component.artifact = artifact.to_owned();
            if artifact == "reload4j" {
                component.group = "ch.qos.reload4j".into();
            }
            if let Some(version) = &m.version {
                declared = Some(version.clone());
                component.evidence.push(Evidence {
                    field: "version",
                    technique: Technique::ManifestAnalysis,
                    confidence: 0.8,
                    value: format!("META-INF/MANIFEST.MF version {version}"),
                });
            }
        }
        if group.pom.is_none() && component.relocated_prefix.is_none() && !facts.poms.is_empty() {
            let named: Vec<String> = facts
                .poms
                .iter()
                .map(|p| format!("{}:{}", p.group, p.artifact))
                .collect();
            component.conflicts.push(format!(
                "the classes are {}:{} but pom.properties names only {} (repackaged or fat jar)",
                component.group,
                component.artifact,
                named.join(", ")
            ));
        }
        let level = (family == Family::Log4jCore).then(|| log4j_core_level(&component.features));
        let inferred = level.and_then(|l| log4j_core_versions(l, group.major));
        component.inferred_versions = inferred.map(|(_, range)| range.to_owned());
        if let (Some(version), Some(level)) = (&declared, level.filter(|l| *l > 0)) {
            let pom_level = version_level(version);
            if pom_level.is_some_and(|p| p != level) {
                component.conflicts.push(format!(
                    "declared version {version} but the class content matches {}",
                    component
                        .inferred_versions
                        .as_deref()
                        .unwrap_or("another version")
                ));
            }
        }
        if let Some(file_version) = file_name_version(info.location, &component.artifact) {
            component.evidence.push(Evidence {
                field: "version",
                technique: Technique::Filename,
                confidence: 0.3,
                value: format!("file name says {file_version}"),
            });
        }
        let has_anchor = component.features.contains(&Feature::Anchor);
        component.confidence = match (&group.pom, has_anchor) {
            (Some(_), true) => 1.0,
            (Some(_), false) | (None, true) => 0.9,
            (None, false) => 0.7,
        };
        component.version = declared
            .filter(|_| component.conflicts.is_empty())
            .or_else(|| inferred.map(|(v, _)| v.to_owned()));
        component.cves = verdicts(Subject {
            family: Some(family),
            artifact: &component.artifact,
            features: &component.features,
            version: component.version.as_deref(),
        });
        finish(&mut component);
        components.push(component);
    }
    for (family, pom) in pom_only {
        let mut component = base_component(info, "");
        component.family = family;
        component.group = pom.group.clone();
        component.artifact = pom.artifact.clone();
        component.version = Some(pom.version.clone());
        component.evidence.push(pom_evidence(&pom));
        component.confidence = 0.8;
        if family.is_some() && !facts.classes.is_empty() && pom.artifact != "reload4j" {
            component.conflicts.push(format!(
                "{} names {}:{} but none of its fingerprinted classes are present",
                pom.entry, pom.group, pom.artifact
            ));
            component.confidence = 0.5;
        }
        component.cves = verdicts(Subject {
            family,
            artifact: &component.artifact,
            features: &[],
            version: component.version.as_deref(),
        });
        finish(&mut component);
        components.push(component);
    }
    components
}

/// The log4j-core fix level a declared version implies, for conflict checks.
fn version_level(version: &str) -> Option<u8> {
    use super::cve::{KNOWN_CVES, in_ranges};
    if in_ranges(version, &[("0", "2.0-beta9")])? {
        return Some(1);
    }
    for (index, level) in [(0usize, 1u8), (1, 2), (2, 3), (3, 4)] {
        if in_ranges(version, KNOWN_CVES[index].ranges)? {
            return Some(level);
        }
    }
    Some(5)
}

fn pom_evidence(pom: &PomHit) -> Evidence {
    Evidence {
        field: "version",
        technique: Technique::ManifestAnalysis,
        confidence: 0.9,
        value: format!(
            "{} says {}:{}:{}",
            pom.entry, pom.group, pom.artifact, pom.version
        ),
    }
}

fn base_component(info: &ContainerInfo<'_>, root: &str) -> Component {
    let root = root.trim_end_matches('/');
    let location = if root.is_empty() {
        info.location.to_owned()
    } else {
        format!("{}!/{root}", info.location)
    };
    let (sha256, sha1) = match (&info.hashes, root.is_empty()) {
        (Some((a, b)), true) => (Some(a.clone()), Some(b.clone())),
        _ => (None, None),
    };
    Component {
        group: String::new(),
        artifact: String::new(),
        version: None,
        inferred_versions: None,
        family: None,
        purl: String::new(),
        location,
        file: info.file.to_owned(),
        sha256,
        sha1,
        relocated_prefix: None,
        features: Vec::new(),
        evidence: Vec::new(),
        confidence: 0.0,
        conflicts: Vec::new(),
        cves: Vec::new(),
        advisories: Vec::new(),
    }
}

fn finish(component: &mut Component) {
    component.purl = match &component.version {
        Some(v) => format!("pkg:maven/{}/{}@{v}", component.group, component.artifact),
        None => format!("pkg:maven/{}/{}", component.group, component.artifact),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_and_poms_parse() {
        let m = parse_manifest(
            "Manifest-Version: 1.0\nBundle-SymbolicName: org.apache.logging.lo\n g4j.core;singleton:=true\nBundle-Version: 2.19.0\n",
        );
        assert_eq!(
            m.symbolic_name.as_deref(),
            Some("org.apache.logging.log4j.core")
        );
        assert_eq!(m.version.as_deref(), Some("2.19.0"));
        let p = parse_pom_properties("p", "#x\ngroupId=a\nartifactId=b\nversion=1\n").unwrap();
        assert_eq!((p.group.as_str(), p.version.as_str()), ("a", "1"));
        assert_eq!(version_level("2.14.1"), Some(1));
        assert_eq!(version_level("2.16.0"), Some(3));
        assert_eq!(version_level("2.17.2"), Some(5));
    }
}
