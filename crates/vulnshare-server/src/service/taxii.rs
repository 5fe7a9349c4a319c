//! TAXII 2.1 collections over the platform's shared material: which collections exist, which
//! objects of a collection a caller may read (objects members posted, plus the platform's own
//! advisories and threat reports as STIX), filtering and paging them, and adding or deleting
//! posted objects with their audit entries.
//!
//! There is one collection per TLP audience. Reading follows the native API's rules exactly
//! ([`can_read_shared_object`], [`can_read_advisory`], the report read rules): TLP:CLEAR for
//! everyone, GREEN for active members, AMBER for the owner's organization and platform staff
//! (advisories: the case's participants), RED for the owner's organization only, and TLP:CLEAR
//! only for suspended members.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};
use vulnshare_core::policy::{Actor, Denied};
use vulnshare_core::report::{ReportKind, ReportState};
use vulnshare_core::sharing::{can_open_collection, can_read_shared_object};
use vulnshare_core::tlp::Tlp;
use vulnshare_core::token::TokenScope;
use vulnshare_core::user::Role;
use vulnshare_formats::stix::export::{advisory_objects, threat_report_objects};
use vulnshare_formats::stix::{MAX_OBJECT_BYTES, check_object, parse_stix_time, stix_time};

mod select;

pub use select::{ObjectFilter, Page, VersionMatch, select};
use vulnshare_store::{ReportFilter, ReportScope, TaxiiObject};

use super::{audit_event, list_advisories, may_read_report};
use crate::AppState;
use crate::error::{AppError, AppResult};

/// A TAXII collection: a fixed audience with its TLP label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    /// The collection's id (a UUID, as TAXII asks).
    pub id: &'static str,
    /// The label of everything in it.
    pub tlp: Tlp,
    /// Its title.
    pub title: &'static str,
    /// Who may read it.
    pub description: &'static str,
}

/// The collections, least restrictive first.
pub const COLLECTIONS: [Collection; 4] = [
    Collection {
        id: "0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
        tlp: Tlp::Clear,
        title: "TLP:CLEAR (public)",
        description: "Public advisories and indicators; readable without an account.",
    },
    Collection {
        id: "1f5e1e8a-4b7e-4a0f-9c1d-3d7e2b6a0002",
        tlp: Tlp::Green,
        title: "TLP:GREEN (members)",
        description: "Shared with every member organization whose membership is active.",
    },
    Collection {
        id: "2a9c4e33-7d21-4f6b-8e0a-5b1c9d3e0003",
        tlp: Tlp::Amber,
        title: "TLP:AMBER (eligible members)",
        description: "TLP:AMBER and AMBER+STRICT: readable by the sharing organization, platform staff, and for advisories the case's participants.",
    },
    Collection {
        id: "3b8d5f44-8e32-4a7c-9f1b-6c2d0e4f0004",
        tlp: Tlp::Red,
        title: "TLP:RED (own organization)",
        description: "TLP:RED: each organization sees only what it shared itself.",
    },
];

/// The collection that carries material labelled `tlp`.
pub fn collection_for(tlp: Tlp) -> &'static Collection {
    let label = if tlp == Tlp::AmberStrict {
        Tlp::Amber
    } else {
        tlp
    };
    COLLECTIONS
        .iter()
        .find(|c| c.tlp == label)
        .expect("every label has a collection")
}

/// Whether the caller may post to `collection`: a member (or staff) with a write token who may
/// open it.
fn can_write(actor: Option<&Actor>, collection: &Collection) -> Result<(), Denied> {
    can_open_collection(actor, collection.tlp)?;
    let Some(actor) = actor else {
        return Err(Denied::Hidden);
    };
    actor.require_scope(TokenScope::Write)?;
    if actor.has(Role::Member) || actor.has(Role::OrgAdmin) || actor.is_staff() {
        Ok(())
    } else {
        Err(Denied::Forbidden(
            "sharing needs the member or org_admin role",
        ))
    }
}

/// The collections the caller may open, with whether it may read and write each.
pub fn collections_for(actor: Option<&Actor>) -> Vec<(&'static Collection, bool)> {
    COLLECTIONS
        .iter()
        .filter(|c| can_open_collection(actor, c.tlp).is_ok())
        .map(|c| (c, can_write(actor, c).is_ok()))
        .collect()
}

/// One collection the caller may open; hidden ones are not found.
pub fn open_collection(actor: Option<&Actor>, id: &str) -> AppResult<&'static Collection> {
    let collection = COLLECTIONS
        .iter()
        .find(|c| c.id == id)
        .ok_or(AppError::NotFound("collection"))?;
    match can_open_collection(actor, collection.tlp) {
        Ok(()) => Ok(collection),
        Err(Denied::Hidden) => Err(AppError::NotFound("collection")),
        Err(other) => Err(other.into()),
    }
}

/// One version of one object in a collection, as the caller sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The STIX id.
    pub id: String,
    /// The STIX type.
    pub object_type: String,
    /// The version (`modified`, `created`, or the time it was added).
    pub version: String,
    /// When the server added this version.
    pub date_added: Timestamp,
    /// The object.
    pub document: Value,
    /// The organization that posted it; `None` for the platform's own objects.
    pub owner_org_id: Option<String>,
}

impl Entry {
    fn derived(document: Value, date_added: Timestamp) -> Entry {
        let text = |k: &str| document[k].as_str().map(str::to_owned);
        Entry {
            id: text("id").unwrap_or_default(),
            object_type: text("type").unwrap_or_default(),
            version: text("modified")
                .or_else(|| text("created"))
                .unwrap_or_else(|| stix_time(date_added)),
            date_added,
            document,
            owner_org_id: None,
        }
    }

    fn version_time(&self) -> Option<Timestamp> {
        parse_stix_time(&self.version)
    }
}

/// Every object version of `collection` the caller may read, oldest addition first.
pub async fn visible_entries(
    state: &AppState,
    actor: Option<&Actor>,
    collection: &Collection,
) -> AppResult<Vec<Entry>> {
    let mut entries = Vec::new();
    for o in state.store.taxii_objects(collection.id).await? {
        if can_read_shared_object(actor, o.tlp, &o.owner_org_id).is_ok() {
            entries.push(Entry {
                id: o.object_id,
                object_type: o.object_type,
                version: o.version,
                date_added: o.date_added,
                document: o.document,
                owner_org_id: Some(o.owner_org_id),
            });
        }
    }
    // Advisories never go out as RED: they are published material.
    if collection.tlp != Tlp::Red {
        for advisory in list_advisories(state, actor, 2000).await? {
            if collection_for(advisory.tlp).id == collection.id {
                entries.extend(
                    advisory_objects(&advisory)
                        .into_iter()
                        .map(|o| Entry::derived(o, advisory.updated_at)),
                );
            }
        }
    }
    if let Some(actor) = actor {
        let filter = ReportFilter {
            kind: Some(ReportKind::Threat),
            ..ReportFilter::default()
        };
        let scope = ReportScope::Staff {
            own_org: actor.org_id.clone(),
        };
        let reports = state.store.reports(&scope, &filter, None, 2000).await?;
        let mut organizations = HashMap::new();
        for report in reports.items {
            let Some(received_at) = report.received_at else {
                continue;
            };
            if report.state == ReportState::Draft
                || collection_for(report.content.tlp).id != collection.id
            {
                continue;
            }
            let allowed = if report.content.tlp == Tlp::Red {
                actor.org_id == report.reporter_org_id
                    && can_read_shared_object(Some(actor), Tlp::Red, &report.reporter_org_id)
                        .is_ok()
            } else {
                may_read_report(state, actor, &report).await?
            };
            if !allowed {
                continue;
            }
            if !organizations.contains_key(&report.reporter_org_id) {
                let org = state.store.organization(&report.reporter_org_id).await?;
                organizations.insert(report.reporter_org_id.clone(), org);
            }
            let reporter = &organizations[&report.reporter_org_id];
            entries.extend(
                threat_report_objects(&report, reporter)
                    .into_iter()
                    .map(|o| Entry::derived(o, received_at)),
            );
        }
    }
    // Shared objects (markings, identities) appear once per version, at their first addition.
    entries
        .sort_by(|a, b| (a.date_added, &a.id, &a.version).cmp(&(b.date_added, &b.id, &b.version)));
    let mut seen = std::collections::HashSet::new();
    entries.retain(|e| seen.insert((e.id.clone(), e.version.clone())));
    Ok(entries)
}

/// Adds the objects of a TAXII envelope (or STIX bundle) to `collection`, each checked on its
/// own; returns the TAXII status resource, which is also stored for `GET status/{id}`.
pub async fn add_objects(
    state: &AppState,
    actor: &Actor,
    collection: &Collection,
    envelope: Value,
) -> AppResult<Value> {
    can_write(Some(actor), collection)?;
    let objects = match envelope.get("objects") {
        Some(Value::Array(objects)) => objects.clone(),
        _ => {
            return Err(AppError::field(
                "objects",
                "send a TAXII envelope {\"objects\": [...]} or a STIX bundle",
            ));
        }
    };
    if objects.len() > 1000 {
        return Err(AppError::field(
            "objects",
            "at most 1000 objects per request",
        ));
    }
    let now = state.clock.now();
    let status_id = uuid_v4();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut tx = state.store.begin_write().await?;
    for object in objects {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let failed = |message: String| {
            let mut f = json!({"id": id, "message": message});
            if let Some(v) = object["modified"].as_str().or(object["created"].as_str()) {
                f["version"] = v.into();
            }
            f
        };
        let checked = match check_object(&object) {
            Ok(c) => c,
            Err(message) => {
                failures.push(failed(message));
                continue;
            }
        };
        if object.to_string().len() > MAX_OBJECT_BYTES {
            failures.push(failed(format!(
                "the object is larger than {MAX_OBJECT_BYTES} bytes"
            )));
            continue;
        }
        if let Some(label) = checked.tlp
            && collection_for(label).tlp > collection.tlp
        {
            failures.push(failed(format!(
                "it is marked TLP:{}, more restrictive than this TLP:{} collection: post it to the {} collection",
                label.as_str(),
                collection.tlp.as_str(),
                collection_for(label).title
            )));
            continue;
        }
        match tx.taxii_object_owner(&checked.id).await? {
            Some(owner) if owner != actor.org_id => {
                failures.push(failed(
                    "this id belongs to another organization's object; new objects need new ids"
                        .into(),
                ));
                continue;
            }
            _ => {}
        }
        let version = checked.version.unwrap_or_else(|| stix_time(now));
        tx.add_taxii_object(&TaxiiObject {
            collection_id: collection.id.to_owned(),
            object_id: checked.id.clone(),
            version: version.clone(),
            object_type: checked.object_type,
            spec_version: "2.1".into(),
            tlp: collection.tlp,
            owner_org_id: actor.org_id.clone(),
            posted_by: actor.user_id.clone(),
            date_added: now,
            document: object,
        })
        .await?;
        successes.push(json!({"id": checked.id, "version": version}));
    }
    let status = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": stix_time(now),
        "total_count": successes.len() + failures.len(),
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    });
    tx.save_taxii_status(&status_id, collection.id, &actor.org_id, now, &status)
        .await?;
    let added: Vec<&Value> = status["successes"]
        .as_array()
        .map(|s| s.iter().map(|o| &o["id"]).collect())
        .unwrap_or_default();
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "taxii.objects.add",
            "taxii_collection",
            collection.id,
            json!({"status_id": status_id, "tlp": collection.tlp, "added": added, "failure_count": status["failure_count"]}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(status)
}

/// Deletes the caller's own object (the versions `versions` names, or all) from `collection`.
pub async fn delete_object(
    state: &AppState,
    actor: &Actor,
    collection: &Collection,
    object_id: &str,
    versions: &VersionMatch,
) -> AppResult<()> {
    let visible: Vec<Entry> = visible_entries(state, Some(actor), collection)
        .await?
        .into_iter()
        .filter(|e| e.id == object_id)
        .collect();
    if visible.is_empty() {
        return Err(AppError::NotFound("object"));
    }
    can_write(Some(actor), collection)?;
    if visible.iter().any(|e| e.owner_org_id.is_none()) {
        return Err(AppError::Forbidden(
            "this object is the platform's own export of an advisory or report; it changes with that record".into(),
        ));
    }
    if visible
        .iter()
        .any(|e| e.owner_org_id.as_deref() != Some(actor.org_id.as_str()))
    {
        return Err(AppError::Forbidden(
            "only the organization that shared an object deletes it".into(),
        ));
    }
    let page = select(
        visible,
        &ObjectFilter {
            versions: versions.clone(),
            limit: usize::MAX,
            ..ObjectFilter::default()
        },
    )?;
    let chosen: Vec<String> = page.entries.into_iter().map(|e| e.version).collect();
    if chosen.is_empty() {
        return Err(AppError::NotFound("object version"));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin_write().await?;
    let deleted = tx
        .delete_taxii_object(collection.id, object_id, Some(&chosen))
        .await?;
    tx.audit(
        now,
        audit_event(
            Some(actor),
            "taxii.object.delete",
            "stix_object",
            object_id,
            json!({"collection_id": collection.id, "versions": chosen, "deleted": deleted}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A post's status, for the organization that made it.
pub async fn read_status(state: &AppState, actor: &Actor, id: &str) -> AppResult<Value> {
    actor.require_scope(TokenScope::Read)?;
    match state.store.taxii_status(id).await {
        Ok((owner, status)) if owner == actor.org_id => Ok(status),
        Ok(_) | Err(vulnshare_store::StoreError::NotFound(_)) => Err(AppError::NotFound("status")),
        Err(e) => Err(e.into()),
    }
}

fn uuid_v4() -> String {
    let mut b: [u8; 16] = crate::auth::random_bytes()[..16]
        .try_into()
        .expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_one_collection() {
        assert_eq!(collection_for(Tlp::AmberStrict).tlp, Tlp::Amber);
        let ids: std::collections::HashSet<_> = COLLECTIONS.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), COLLECTIONS.len());
    }
}
