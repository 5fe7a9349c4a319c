//! Application services: each use case as one function that checks policy, validates input,
//! writes through the store in one transaction with its audit entry, and returns the result.
//! HTTP handlers and `vulnshare admin` both call these, so the rules hold on every path.

mod account;
mod advisory;
mod awareness;
mod case;
mod catalog;
pub mod cve;
mod matching;
mod obligation;
mod regime;
mod report;
mod sanction;
mod sbom;
mod sign_in;
mod submission;
mod taxii;

pub use account::*;
pub use advisory::*;
pub use awareness::{UpstreamRecorded, record_upstream_notification};
pub use case::*;
pub use catalog::{
    AdvisoryCatalog, CatalogCache, advisory_catalog, advisory_catalog_at,
    advisory_catalog_for_reading,
};
pub use matching::{
    MATCH_BATCH, MatchingConfig, MatchingProgress, MatchingTask, MatchingTasks, continue_matchings,
    run_matching,
};
pub use obligation::on_platform_notified;
pub(crate) use obligation::{on_fix_available, on_report_submitted};
pub use regime::*;
pub use report::*;
pub use sanction::*;
pub use sbom::*;
pub use sign_in::*;
pub use submission::{BatchStats, MAX_BATCH, SubmissionQueue};
pub use taxii::*;

use vulnshare_core::audit::AuditEvent;
use vulnshare_core::policy::Actor;

/// Builds an audit event; `actor` is `None` for operator commands run on the server host.
pub(crate) fn audit_event(
    actor: Option<&Actor>,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: serde_json::Value,
) -> AuditEvent {
    audit_event_by(
        actor.map(|a| (a.user_id.as_str(), a.org_id.as_str())),
        action,
        object_type,
        object_id,
        details,
    )
}

/// Builds an audit event for a (user id, organization id) pair.
pub(crate) fn audit_event_by(
    by: Option<(&str, &str)>,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor_user_id: by.map(|(u, _)| u.to_owned()),
        actor_org_id: by.map(|(_, o)| o.to_owned()),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        details: details.to_string(),
    }
}
