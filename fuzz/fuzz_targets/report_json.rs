//! A report as the API receives it (`POST /api/v1/reports`, `PUT /api/v1/reports/{id}`): any
//! bytes through the JSON reader, validation and the submission check, and every accepted
//! report through each export the platform makes from member-written content (CSAF advisory
//! and VEX, CVE JSON 5, OSV, STIX). Errors are fine; panics are not.
#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use vulnshare_core::organization::{Membership, Organization, OrganizationKind};
use vulnshare_core::report::{Report, ReportContent, ReportState};
use vulnshare_formats::csaf::{
    CsafCategory, CsafOptions, CsafPublisher, CsafRevision, PublisherCategory, TrackingStatus,
};
use vulnshare_formats::cve::CveOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(content) = serde_json::from_slice::<ReportContent>(data) else {
        return;
    };
    let now: Timestamp = "2021-12-09T08:00:00Z".parse().unwrap();
    let Ok(content) = content.validate(now) else {
        return;
    };
    let _ = content.check_submittable();
    let report = Report {
        id: "VS-2021-00001".into(),
        reporter_org_id: "org-a".into(),
        created_by: "user-a".into(),
        state: ReportState::Published,
        duplicate_of: None,
        rejection_reason: None,
        received_at: Some(now),
        created_at: now,
        updated_at: now,
        content,
    };
    let csaf = CsafOptions {
        tracking_id: "VS-ADV-2021-0001".into(),
        publisher: CsafPublisher {
            category: PublisherCategory::Coordinator,
            name: "fuzz".into(),
            namespace: "https://vulnshare.example".into(),
            contact_details: None,
        },
        status: TrackingStatus::Final,
        revisions: vec![CsafRevision {
            number: 1,
            date: now,
            summary: "Initial release.".into(),
        }],
        self_url: None,
        mitigation: None,
    };
    for category in [CsafCategory::SecurityAdvisory, CsafCategory::Vex] {
        let _ = vulnshare_formats::csaf::report_to_csaf(&report, category, &csaf);
    }
    let cve = CveOptions {
        cve_id: "CVE-2021-44228".into(),
        org_id: "8254265b-2729-46b6-b9e3-3dfca2d5bfca".into(),
        short_name: "fuzz".into(),
        date_published: now,
        date_updated: now,
        references: vec!["https://vulnshare.example/VS-2021-00001".into()],
    };
    let _ = vulnshare_formats::cve::report_to_cve(&report, &cve);
    let osv = vulnshare_formats::osv::report_to_osv(&report, "VS-2021-00001", now);
    let _ = osv.check();
    let _ = vulnshare_formats::osv::osv_to_report_content(&osv);
    let reporter = Organization {
        id: "org-a".into(),
        name: "Fuzz".into(),
        kind: OrganizationKind::Provider,
        country: "CN".into(),
        membership: Membership::Active,
        created_at: now,
    };
    let _ = vulnshare_formats::stix::export::threat_report_objects(&report, &reporter);
});
