//! Vulnerability and threat reports: their content (with the CN Provisions Art. 7(2) fields),
//! validation, and the life-cycle state machine with the roles allowed to move it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::package::AffectedPackage;
use crate::severity::{CvssScore, Cwe};
use crate::tlp::Tlp;
use crate::validation::{Collector, Invalid};

/// What a report is about, from the reporter's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// A vulnerability in the reporter's own product.
    OwnProduct,
    /// A vulnerability in a component the reporter takes from an upstream provider.
    UpstreamComponent,
    /// A vulnerability the reporter found in someone else's product.
    ThirdPartyObservation,
    /// A threat: exploitation activity, indicators, campaigns.
    Threat,
}

impl ReportKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::OwnProduct => "own_product",
            ReportKind::UpstreamComponent => "upstream_component",
            ReportKind::ThirdPartyObservation => "third_party_observation",
            ReportKind::Threat => "threat",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<ReportKind> {
        [
            ReportKind::OwnProduct,
            ReportKind::UpstreamComponent,
            ReportKind::ThirdPartyObservation,
            ReportKind::Threat,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// How far exploitation has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExploitationStatus {
    /// No known exploit.
    #[default]
    None,
    /// A proof of concept exists.
    Poc,
    /// Exploited in the wild.
    ExploitedInWild,
}

/// A product named as affected (CN Art. 7(2): name, model, version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffectedProduct {
    /// Who makes it, when it is not the reporter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The product's name.
    pub name: String,
    /// The model, where the product has models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Affected versions or version ranges as the vendor writes them, e.g. `2.0-beta9 to 2.14.1`.
    #[serde(default)]
    pub versions: Vec<String>,
    /// The registered product this refers to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

/// The content of a report as the reporter writes it. Everything here is covered by the
/// receipt's content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// What the report is about.
    pub kind: ReportKind,
    /// A one-line summary.
    pub title: String,
    /// Technical characteristics: how the flaw works (CN Art. 7(2) 技术特点).
    #[serde(default)]
    pub technical_characteristics: String,
    /// The harm it can cause (危害).
    #[serde(default)]
    pub harm: String,
    /// The scope of impact: who and what is affected, how widely (影响范围).
    #[serde(default)]
    pub scope_of_impact: String,
    /// Affected products by name, model and version.
    #[serde(default)]
    pub affected_products: Vec<AffectedProduct>,
    /// Affected packages with OSV ranges.
    #[serde(default)]
    pub affected_packages: Vec<AffectedPackage>,
    /// CVSS v3.x or v4.0 vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// Weakness classification.
    #[serde(default)]
    pub cwes: Vec<Cwe>,
    /// Exploitation status.
    #[serde(default)]
    pub exploitation: ExploitationStatus,
    /// When the reporter discovered or learned of the vulnerability (发现或者获知).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aware_at: Option<Timestamp>,
    /// What shows when the reporter became aware (a ticket, an e-mail, a log line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awareness_evidence: Option<String>,
    /// Sharing label.
    #[serde(default)]
    pub tlp: Tlp,
    /// Other identifiers: CVE, GHSA, CNVD, CNNVD.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Longest free-text field, in characters.
pub const MAX_TEXT_CHARS: usize = 50_000;
/// Most affected products per report.
pub const MAX_PRODUCTS: usize = 200;
/// Most affected packages per report.
pub const MAX_PACKAGES: usize = 200;
/// Most aliases or CWEs per report.
pub const MAX_LABELS: usize = 20;
/// How far ahead of the server clock a client's `aware_at` may be (clock skew).
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

impl ReportContent {
    /// Validates and normalises the content at server time `now`. Drafts only need a title and
    /// sound fields; [`ReportContent::check_submittable`] adds what a submission needs.
    pub fn validate(self, now: Timestamp) -> Result<ReportContent, Invalid> {
        let mut c = Collector::default();
        let title = c.text("title", &self.title, 300);
        let technical_characteristics = bounded(
            &mut c,
            "technical_characteristics",
            &self.technical_characteristics,
        );
        let harm = bounded(&mut c, "harm", &self.harm);
        let scope_of_impact = bounded(&mut c, "scope_of_impact", &self.scope_of_impact);

        c.max_items("affected_products", &self.affected_products, MAX_PRODUCTS);
        let mut affected_products = Vec::new();
        for (i, p) in self
            .affected_products
            .into_iter()
            .enumerate()
            .take(MAX_PRODUCTS)
        {
            let f = format!("affected_products[{i}]");
            let mut pc = Collector::default();
            let name = pc.text("name", &p.name, 300);
            let vendor = pc.optional_text("vendor", p.vendor.as_deref(), 300);
            let model = pc.optional_text("model", p.model.as_deref(), 300);
            pc.max_items("versions", &p.versions, 100);
            let versions: Vec<String> = p
                .versions
                .iter()
                .enumerate()
                .take(100)
                .map(|(j, v)| pc.text(&format!("versions[{j}]"), v, 200))
                .collect();
            let product_id = pc.optional_text("product_id", p.product_id.as_deref(), 100);
            match pc.finish(AffectedProduct {
                vendor,
                name,
                model,
                versions,
                product_id,
            }) {
                Ok(p) => affected_products.push(p),
                Err(e) => c.extend_prefixed(&f, e),
            }
        }

        c.max_items("affected_packages", &self.affected_packages, MAX_PACKAGES);
        let mut affected_packages = Vec::new();
        for (i, p) in self
            .affected_packages
            .into_iter()
            .enumerate()
            .take(MAX_PACKAGES)
        {
            match p.validate() {
                Ok(p) => affected_packages.push(p),
                Err(e) => c.extend_prefixed(&format!("affected_packages[{i}]"), e),
            }
        }

        let cvss_vector = match self.cvss_vector.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => match CvssScore::parse(v) {
                Ok(score) => Some(score.vector),
                Err(message) => {
                    c.push("cvss_vector", message);
                    None
                }
            },
        };

        let mut cwes = self.cwes;
        c.max_items("cwes", &cwes, MAX_LABELS);
        cwes.sort();
        cwes.dedup();

        if let Some(aware_at) = self.aware_at {
            if aware_at > now + MAX_CLOCK_SKEW {
                c.push("aware_at", "must not be in the future");
            } else if aware_at < Timestamp::UNIX_EPOCH {
                c.push("aware_at", "must be after 1970-01-01");
            }
        }
        let awareness_evidence = c.optional_text(
            "awareness_evidence",
            self.awareness_evidence.as_deref(),
            MAX_TEXT_CHARS,
        );

        c.max_items("aliases", &self.aliases, MAX_LABELS);
        let mut aliases = Vec::new();
        for (i, a) in self.aliases.iter().enumerate().take(MAX_LABELS) {
            match normalise_alias(a) {
                Ok(a) => aliases.push(a),
                Err(message) => c.push(format!("aliases[{i}]"), message),
            }
        }
        aliases.sort();
        aliases.dedup();

        c.finish(ReportContent {
            kind: self.kind,
            title,
            technical_characteristics,
            harm,
            scope_of_impact,
            affected_products,
            affected_packages,
            cvss_vector,
            cwes,
            exploitation: self.exploitation,
            aware_at: self.aware_at,
            awareness_evidence,
            tlp: self.tlp,
            aliases,
        })
    }

    /// Checks what a submission needs beyond a draft: technical characteristics, when the
    /// reporter became aware, and (for vulnerabilities) what is affected.
    pub fn check_submittable(&self) -> Result<(), Invalid> {
        let mut c = Collector::default();
        if self.technical_characteristics.is_empty() {
            c.push(
                "technical_characteristics",
                "a submitted report describes the technical characteristics",
            );
        }
        if self.aware_at.is_none() {
            c.push("aware_at", "a submitted report says when the reporter became aware (it starts the reporting clocks)");
        }
        if self.kind != ReportKind::Threat
            && self.affected_products.is_empty()
            && self.affected_packages.is_empty()
        {
            c.push(
                "affected_products",
                "a vulnerability report names at least one affected product or package",
            );
        }
        c.finish(())
    }

    /// The CN Provisions Art. 7(2) content still missing: product name, model, version,
    /// technical characteristics, harm, scope of impact.
    pub fn cn_article_7_missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let products = &self.affected_products;
        let has_packages = !self.affected_packages.is_empty();
        if products.is_empty() && !has_packages {
            missing.push("product_name");
        }
        if !has_packages && !products.iter().any(|p| p.model.is_some()) {
            missing.push("product_model");
        }
        if !has_packages && !products.iter().any(|p| !p.versions.is_empty()) {
            missing.push("product_version");
        }
        if self.technical_characteristics.is_empty() {
            missing.push("technical_characteristics");
        }
        if self.harm.is_empty() {
            missing.push("harm");
        }
        if self.scope_of_impact.is_empty() {
            missing.push("scope_of_impact");
        }
        missing
    }

    /// The CVSS score of the vector, if there is one.
    pub fn cvss(&self) -> Option<CvssScore> {
        self.cvss_vector
            .as_deref()
            .and_then(|v| CvssScore::parse(v).ok())
    }

    /// SHA-256 over the canonical JSON of the content: what a receipt attests.
    pub fn content_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("report content always serializes");
        hex::encode(Sha256::digest(&json))
    }
}

fn bounded(c: &mut Collector, field: &str, value: &str) -> String {
    let t = value.trim();
    if t.chars().count() > MAX_TEXT_CHARS {
        c.push(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        );
    }
    t.to_owned()
}

/// Normalises an alias to upper case and checks it is a CVE, GHSA, CNVD or CNNVD identifier.
pub fn normalise_alias(alias: &str) -> Result<String, String> {
    let a = alias.trim();
    let upper = a.to_ascii_uppercase();
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let ok = if let Some(rest) = upper.strip_prefix("CVE-") {
        matches!(rest.split_once('-'), Some((y, n)) if digits(y, 4, 4) && digits(n, 4, 19))
    } else if let Some(rest) = upper
        .strip_prefix("CNVD-")
        .or_else(|| upper.strip_prefix("CNNVD-"))
    {
        let parts: Vec<_> = rest.split('-').collect();
        parts.len() >= 2 && parts.iter().all(|p| digits(p, 1, 10))
    } else if upper.starts_with("GHSA-") {
        let parts: Vec<_> = a[5..].split('-').collect();
        parts.len() == 3
            && parts.iter().all(|p| {
                p.len() == 4
                    && p.bytes()
                        .all(|b| b"23456789cfghjmpqrvwx".contains(&b.to_ascii_lowercase()))
            })
    } else {
        false
    };
    if !ok {
        return Err(format!(
            "{alias:?} is not a CVE, GHSA, CNVD or CNNVD identifier (e.g. CVE-2021-44228)"
        ));
    }
    Ok(if upper.starts_with("GHSA-") {
        format!("GHSA-{}", a[5..].to_ascii_lowercase())
    } else {
        upper
    })
}

/// A report's life-cycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Being written; visible to the reporter's organization only.
    Draft,
    /// Received by the platform; `received_at` is set and a receipt issued.
    Submitted,
    /// Checked by platform staff as complete and plausible.
    Triaged,
    /// In coordinated disclosure with the affected vendors.
    Coordinating,
    /// A fix or mitigation exists.
    FixAvailable,
    /// Published as an advisory.
    Published,
    /// Finished.
    Closed,
    /// Refused by platform staff (with a reason).
    Rejected,
    /// The same as an earlier report.
    Duplicate,
}

impl ReportState {
    /// Every state.
    pub const ALL: [ReportState; 9] = [
        ReportState::Draft,
        ReportState::Submitted,
        ReportState::Triaged,
        ReportState::Coordinating,
        ReportState::FixAvailable,
        ReportState::Published,
        ReportState::Closed,
        ReportState::Rejected,
        ReportState::Duplicate,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Triaged => "triaged",
            ReportState::Coordinating => "coordinating",
            ReportState::FixAvailable => "fix_available",
            ReportState::Published => "published",
            ReportState::Closed => "closed",
            ReportState::Rejected => "rejected",
            ReportState::Duplicate => "duplicate",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<ReportState> {
        ReportState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who is asking to move a report, relative to that report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionActor {
    /// A member of the organization that filed the report.
    Reporter,
    /// Platform staff (analyst) or the regulator.
    Staff,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The state machine has no such edge.
    #[error("a report cannot go from {} to {}", .from.as_str(), .to.as_str())]
    NotAllowed {
        /// Current state.
        from: ReportState,
        /// Requested state.
        to: ReportState,
    },
    /// The edge exists but the caller may not take it.
    #[error("only {} may move a report from {} to {}", .who, .from.as_str(), .to.as_str())]
    Forbidden {
        /// Current state.
        from: ReportState,
        /// Requested state.
        to: ReportState,
        /// Who may.
        who: &'static str,
    },
    /// Moving to `rejected` needs a reason; `duplicate` needs the original's id.
    #[error("{0}")]
    MissingDetail(&'static str),
}

/// Checks that `actor` may move a report from `from` to `to`.
pub fn check_transition(
    from: ReportState,
    to: ReportState,
    actor: TransitionActor,
) -> Result<(), TransitionError> {
    use ReportState::*;
    let who: &'static [TransitionActor] = match (from, to) {
        (Draft, Submitted) => &[TransitionActor::Reporter],
        (Submitted, Triaged | Rejected | Duplicate) => &[TransitionActor::Staff],
        (Triaged, Coordinating | Rejected | Duplicate) => &[TransitionActor::Staff],
        (Triaged | Coordinating, FixAvailable) => {
            &[TransitionActor::Staff, TransitionActor::Reporter]
        }
        (FixAvailable, Published) => &[TransitionActor::Staff],
        (Triaged | Coordinating | FixAvailable | Published, Closed) => &[TransitionActor::Staff],
        _ => return Err(TransitionError::NotAllowed { from, to }),
    };
    if who.contains(&actor) {
        Ok(())
    } else {
        Err(TransitionError::Forbidden {
            from,
            to,
            who: if who == [TransitionActor::Reporter] {
                "the reporting organization"
            } else {
                "platform analysts or the regulator"
            },
        })
    }
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Public identifier `VS-YYYY-NNNNN`.
    pub id: String,
    /// The organization that filed it.
    pub reporter_org_id: String,
    /// The user who created it.
    pub created_by: String,
    /// Current state.
    pub state: ReportState,
    /// The original, when this is a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    /// The server's clock when the submission was committed (never client-supplied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// When the record was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// What the reporter wrote.
    #[serde(flatten)]
    pub content: ReportContent,
}

/// Builds a report id from the year and the per-year sequence number.
pub fn report_id(year: i16, number: i64) -> String {
    format!("VS-{year}-{number:05}")
}

/// Whether `s` has the shape of a report id.
pub fn is_report_id(s: &str) -> bool {
    let mut parts = s.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("VS"), Some(y), Some(n), None)
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit())
                && (5..=12).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Ecosystem, RangeEvent, RangeType, VersionRange};

    fn now() -> Timestamp {
        "2021-12-09T08:00:00Z".parse().unwrap()
    }

    pub(crate) fn log4shell() -> ReportContent {
        ReportContent {
            kind: ReportKind::UpstreamComponent,
            title: "JNDI lookup in log4j-core allows remote code execution".into(),
            technical_characteristics: "Message lookup substitution resolves ${jndi:ldap://...}"
                .into(),
            harm: "Remote code execution as the application user".into(),
            scope_of_impact: "Every Java application logging attacker-controlled strings".into(),
            affected_products: vec![AffectedProduct {
                vendor: Some("Apache Software Foundation".into()),
                name: "Apache Log4j".into(),
                model: Some("log4j-core".into()),
                versions: vec!["2.0-beta9 to 2.14.1".into()],
                product_id: None,
            }],
            affected_packages: vec![AffectedPackage {
                ecosystem: Ecosystem::Maven,
                name: "org.apache.logging.log4j:log4j-core".into(),
                purl: None,
                ranges: vec![VersionRange {
                    range_type: RangeType::Ecosystem,
                    repo: None,
                    events: vec![
                        RangeEvent::Introduced("2.13.0".into()),
                        RangeEvent::Fixed("2.15.0".into()),
                    ],
                }],
                versions: vec![],
            }],
            cvss_vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into()),
            cwes: vec![Cwe(917), Cwe(502)],
            exploitation: ExploitationStatus::ExploitedInWild,
            aware_at: Some("2021-11-24T02:00:00Z".parse().unwrap()),
            awareness_evidence: None,
            tlp: Tlp::Amber,
            aliases: vec!["cve-2021-44228".into(), "GHSA-jfh8-c2jp-5v3q".into()],
        }
    }

    #[test]
    fn valid_report_is_normalised() {
        let r = log4shell().validate(now()).unwrap();
        assert_eq!(r.aliases, ["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"]);
        assert_eq!(r.cwes, [Cwe(502), Cwe(917)]);
        r.check_submittable().unwrap();
        assert!(r.cn_article_7_missing().is_empty());
        assert_eq!(r.cvss().unwrap().score, 10.0);
    }

    #[test]
    fn future_awareness_and_bad_fields_are_named() {
        let mut r = log4shell();
        r.aware_at = Some(now() + SignedDuration::from_hours(1));
        r.cvss_vector = Some("CVSS:3.1/AV:Q".into());
        r.aliases.push("CVE-21-1".into());
        let err = r.validate(now()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cvss_vector", "aware_at", "aliases[2]"]);
    }

    #[test]
    fn submission_needs_awareness_and_affected_things() {
        let mut r = log4shell();
        r.aware_at = None;
        r.affected_products.clear();
        r.affected_packages.clear();
        let err = r.check_submittable().unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["aware_at", "affected_products"]);
    }

    #[test]
    fn article_7_checklist_names_missing_content() {
        let mut r = log4shell();
        r.affected_packages.clear();
        r.affected_products[0].model = None;
        r.harm.clear();
        assert_eq!(r.cn_article_7_missing(), ["product_model", "harm"]);
    }

    #[test]
    fn content_hash_changes_with_content() {
        let a = log4shell();
        let mut b = log4shell();
        assert_eq!(a.content_hash(), b.content_hash());
        b.title.push('!');
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn state_machine_respects_roles() {
        use ReportState::*;
        use TransitionActor::*;
        assert!(check_transition(Draft, Submitted, Reporter).is_ok());
        assert!(matches!(
            check_transition(Draft, Submitted, Staff),
            Err(TransitionError::Forbidden { .. })
        ));
        assert!(matches!(
            check_transition(Submitted, Triaged, Reporter),
            Err(TransitionError::Forbidden { .. })
        ));
        assert!(check_transition(Coordinating, FixAvailable, Reporter).is_ok());
        assert!(matches!(
            check_transition(Closed, Draft, Staff),
            Err(TransitionError::NotAllowed { .. })
        ));
        // Terminal states have no way out.
        for to in ReportState::ALL {
            for from in [Closed, Rejected, Duplicate] {
                assert!(check_transition(from, to, Staff).is_err());
            }
        }
    }

    #[test]
    fn report_ids() {
        assert_eq!(report_id(2021, 7), "VS-2021-00007");
        assert!(is_report_id("VS-2021-00007"));
        assert!(!is_report_id("VS-21-7"));
        assert!(!is_report_id("VS-2021-00007-1"));
    }
}
