//! CSAF 2.0 export: a vulnshare report as a `csaf_security_advisory` or a `csaf_vex` document.
//!
//! The product tree is built from the report ([`product_tree`]): each affected package becomes
//! vendor → product name → one `product_version_range` per affected interval (written as a
//! `vers:` range) plus one `product_version` per fixed version, with purls as identification
//! helpers; products named without a package become vendor → product name (+ model) branches.
//! The vulnerability ([`vulnerability`]) carries the CVE, one CWE, the CVSS v3 score, product
//! status, remediations (a vendor fix per interval that has one, `none_available` otherwise, as
//! the VEX profile requires an action statement for every known-affected product), notes and
//! the exploitation status as a threat.
//!
//! CSAF 2.0 knows only TLP 1.0 labels, so `CLEAR` is written as `WHITE` and `AMBER+STRICT` as
//! `AMBER` with the stricter rule spelt out in `distribution.text` ([`csaf_tlp`]).
//! `scripts/check-csaf.sh` runs the CSAF mandatory tests (secvisogram's csaf-validator-lib)
//! over exported documents.

pub mod product_tree;
pub mod vulnerability;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use vulnshare_core::report::Report;
use vulnshare_core::tlp::Tlp;

use crate::error::FormatError;

const FORMAT: &str = "CSAF";

/// Which CSAF profile to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsafCategory {
    /// `csaf_security_advisory`: the advisory for people.
    SecurityAdvisory,
    /// `csaf_vex`: the machine-readable exploitability statement.
    Vex,
}

impl CsafCategory {
    /// The `document.category` value.
    pub fn as_str(self) -> &'static str {
        match self {
            CsafCategory::SecurityAdvisory => "csaf_security_advisory",
            CsafCategory::Vex => "csaf_vex",
        }
    }
}

/// The role of the publisher (`document.publisher.category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublisherCategory {
    /// A coordinator such as a CERT or a sharing platform.
    Coordinator,
    /// The party that found the vulnerability.
    Discoverer,
    /// The product's vendor.
    Vendor,
    /// A user of the product.
    User,
    /// Anyone else.
    Other,
}

/// Who publishes the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafPublisher {
    /// The role.
    pub category: PublisherCategory,
    /// The publisher's name.
    pub name: String,
    /// A URL identifying the publisher, e.g. `https://vulnshare.example`.
    pub namespace: String,
    /// How to reach the publisher.
    pub contact_details: Option<String>,
}

/// The life-cycle status of the document (`document.tracking.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    /// Work in progress, not for distribution.
    Draft,
    /// Published, but changes are expected.
    Interim,
    /// Published and complete.
    Final,
}

/// One entry of the revision history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafRevision {
    /// The revision number: integer versioning, `0` for a draft, then `1`, `2`, ….
    pub number: u32,
    /// When the revision was released.
    pub date: Timestamp,
    /// What changed.
    pub summary: String,
}

/// What the document needs beyond the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafOptions {
    /// The document's tracking id, e.g. `VS-ADV-2021-0001`; also names the file.
    pub tracking_id: String,
    /// Who publishes it.
    pub publisher: CsafPublisher,
    /// The document status.
    pub status: TrackingStatus,
    /// The revision history, oldest first, numbered without gaps from 0 (draft) or 1.
    pub revisions: Vec<CsafRevision>,
    /// Where the document will be published, for a `self` reference.
    pub self_url: Option<String>,
    /// A mitigation to recommend for every affected product, if there is one.
    pub mitigation: Option<String>,
}

/// The CSAF 2.0 TLP label for a TLP 2.0 label, with the distribution text to add when the
/// label loses meaning in translation.
pub fn csaf_tlp(tlp: Tlp) -> (&'static str, Option<&'static str>) {
    match tlp {
        Tlp::Clear => ("WHITE", None),
        Tlp::Green => ("GREEN", None),
        Tlp::Amber => ("AMBER", None),
        Tlp::AmberStrict => (
            "AMBER",
            Some(
                "TLP:AMBER+STRICT: share only within the recipient's own organization, not with \
                 its clients. CSAF 2.0 has TLP 1.0 labels only, so the label reads AMBER.",
            ),
        ),
        Tlp::Red => ("RED", None),
    }
}

/// The file name CSAF 2.0 (section 5.1) prescribes for a tracking id: lower case, every run of
/// characters other than `+`, `-`, `a-z`, `0-9` replaced by `_`, then `.json`.
pub fn csaf_file_name(tracking_id: &str) -> String {
    let mut name = String::with_capacity(tracking_id.len() + 5);
    for c in tracking_id.to_ascii_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    name + ".json"
}

/// Exports `report` as a CSAF 2.0 document of `category`.
///
/// Fails when the options break a CSAF rule the mandatory tests check: an empty revision
/// history, revision numbers with gaps or out of date order, a draft past version 0 or a
/// published document at version 0, or an empty tracking id or publisher.
pub fn report_to_csaf(
    report: &Report,
    category: CsafCategory,
    options: &CsafOptions,
) -> Result<Value, FormatError> {
    check_options(options)?;
    let c = &report.content;
    let products = product_tree::build(report);
    let vulnerability = vulnerability::build(report, &products, options);

    let revisions: Vec<Value> = options
        .revisions
        .iter()
        .map(|r| {
            json!({
                "number": r.number.to_string(),
                "date": r.date.to_string(),
                "summary": r.summary,
            })
        })
        .collect();
    let first = &options.revisions[0];
    let last = options.revisions.last().unwrap_or(first);

    let (label, tlp_text) = csaf_tlp(c.tlp);
    let mut distribution = json!({
        "tlp": { "label": label, "url": "https://www.first.org/tlp/" }
    });
    if let Some(text) = tlp_text {
        distribution["text"] = json!(text);
    }

    let mut publisher = json!({
        "category": options.publisher.category,
        "name": options.publisher.name,
        "namespace": options.publisher.namespace,
    });
    if let Some(contact) = &options.publisher.contact_details {
        publisher["contact_details"] = json!(contact);
    }

    let mut document = json!({
        "category": category.as_str(),
        "csaf_version": "2.0",
        "title": c.title,
        "lang": "en",
        "publisher": publisher,
        "distribution": distribution,
        "notes": [
            { "category": "summary", "title": "Summary", "text": c.title },
        ],
        "tracking": {
            "id": options.tracking_id,
            "status": options.status,
            "version": last.number.to_string(),
            "initial_release_date": first.date.to_string(),
            "current_release_date": last.date.to_string(),
            "revision_history": revisions,
            "generator": {
                "engine": { "name": "vulnshare", "version": env!("CARGO_PKG_VERSION") }
            },
        },
    });
    if let Some(severity) = c.cvss() {
        document["aggregate_severity"] = json!({ "text": severity.severity.to_uppercase() });
    }
    if let Some(url) = &options.self_url {
        document["references"] = json!([{
            "category": "self",
            "summary": format!("This advisory, {}", options.tracking_id),
            "url": url,
        }]);
    }

    Ok(json!({
        "document": document,
        "product_tree": products.tree,
        "vulnerabilities": [vulnerability],
    }))
}

fn check_options(options: &CsafOptions) -> Result<(), FormatError> {
    let bad = |path: &str, message: &str| Err(FormatError::invalid(FORMAT, path, message));
    if options.tracking_id.trim().is_empty() || options.tracking_id.len() > 200 {
        return bad(
            "document.tracking.id",
            "give a tracking id of 1 to 200 characters",
        );
    }
    if options.publisher.name.trim().is_empty() {
        return bad("document.publisher.name", "name the publisher");
    }
    if !options.publisher.namespace.starts_with("https://")
        && !options.publisher.namespace.starts_with("http://")
    {
        return bad(
            "document.publisher.namespace",
            "the namespace is the publisher's URL",
        );
    }
    if options.revisions.is_empty() {
        return bad(
            "document.tracking.revision_history",
            "give at least the initial revision",
        );
    }
    // Integer versioning (CSAF 3.1.11.1): consecutive from 0 or 1; a draft stays at 0
    // (mandatory test 6.1.18), a published document is at 1 or later (6.1.20).
    let start = options.revisions[0].number;
    let last = options.revisions[options.revisions.len() - 1].number;
    if start > 1 {
        return bad(
            "document.tracking.revision_history[0].number",
            "the first revision is number 0 (draft) or 1",
        );
    }
    match options.status {
        TrackingStatus::Draft if last != 0 => {
            return bad(
                "document.tracking.status",
                "a draft has only revision 0; publish it as interim or final",
            );
        }
        TrackingStatus::Interim | TrackingStatus::Final if last == 0 => {
            return bad(
                "document.tracking.version",
                "an interim or final document has a revision numbered 1 or later",
            );
        }
        _ => {}
    }
    for (i, r) in options.revisions.iter().enumerate() {
        let path = format!("document.tracking.revision_history[{i}]");
        if r.number != start + i as u32 {
            return Err(FormatError::invalid(
                FORMAT,
                format!("{path}.number"),
                format!(
                    "revisions are numbered without gaps: expected {}",
                    start + i as u32
                ),
            ));
        }
        if i > 0 && r.date < options.revisions[i - 1].date {
            return Err(FormatError::invalid(
                FORMAT,
                format!("{path}.date"),
                "revisions are listed oldest first",
            ));
        }
        if r.summary.trim().is_empty() {
            return Err(FormatError::invalid(
                FORMAT,
                format!("{path}.summary"),
                "say what the revision changed",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
