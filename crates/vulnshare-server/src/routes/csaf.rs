//! CSAF 2.0 provider (section 7): `/.well-known/csaf/provider-metadata.json` and the public
//! (TLP:WHITE) distribution folder with per-year documents, `index.txt`, `changes.csv`,
//! SHA-256/SHA-512 files and detached OpenPGP signatures; the signing key's public part under
//! `openpgp/`; and per-advisory CSAF export in the API, under TLP.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};
use vulnshare_core::advisory::Advisory;
use vulnshare_core::report::{ExploitationStatus, Report, ReportContent, ReportKind, ReportState};
use vulnshare_core::tlp::Tlp;
use vulnshare_formats::csaf::{
    CsafCategory, CsafOptions, CsafPublisher, CsafRevision, PublisherCategory, TrackingStatus,
    csaf_file_name, report_to_csaf,
};

use crate::AppState;
use crate::auth::MaybeCaller;
use crate::error::{AppError, AppResult};
use crate::extract::Query;
use crate::service;

/// The base URL clients reached us under (CSAF needs absolute URLs).
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// An advisory read as the report it publishes, for the CSAF converter.
fn as_report(a: &Advisory) -> Report {
    Report {
        id: a.id.clone(),
        reporter_org_id: String::new(),
        created_by: String::new(),
        state: ReportState::Published,
        duplicate_of: None,
        rejection_reason: None,
        received_at: Some(a.published_at),
        created_at: a.published_at,
        updated_at: a.updated_at,
        content: ReportContent {
            kind: ReportKind::UpstreamComponent,
            title: a.summary.clone(),
            technical_characteristics: a.details.clone(),
            harm: String::new(),
            scope_of_impact: String::new(),
            affected_products: a.affected_products.clone(),
            affected_packages: a.affected_packages.clone(),
            cvss_vector: a.cvss_vector.clone(),
            cwes: a.cwes.clone(),
            exploitation: ExploitationStatus::None,
            aware_at: None,
            awareness_evidence: None,
            tlp: a.tlp,
            aliases: a.aliases.clone(),
        },
    }
}

fn year(a: &Advisory) -> i16 {
    a.published_at.to_zoned(TimeZone::UTC).year()
}

pub(crate) fn document(
    state: &AppState,
    base: &str,
    a: &Advisory,
    category: CsafCategory,
) -> AppResult<Value> {
    let _ = state;
    let file = csaf_file_name(&a.id);
    let options = CsafOptions {
        tracking_id: a.id.clone(),
        publisher: CsafPublisher {
            category: PublisherCategory::Coordinator,
            name: "vulnshare".into(),
            namespace: base.to_owned(),
            contact_details: None,
        },
        status: TrackingStatus::Final,
        revisions: (1..=a.version.max(1))
            .map(|n| CsafRevision {
                number: n as u32,
                date: if n == a.version {
                    a.updated_at
                } else {
                    a.published_at
                },
                summary: if n == 1 {
                    "Initial publication".into()
                } else {
                    format!("Revision {n}")
                },
            })
            .collect(),
        self_url: (a.tlp == Tlp::Clear)
            .then(|| format!("{base}/.well-known/csaf/white/{}/{file}", year(a))),
        mitigation: (!a.remediation.is_empty()).then(|| a.remediation.clone()),
    };
    report_to_csaf(&as_report(a), category, &options).map_err(|e| AppError::Internal(Box::new(e)))
}

/// Public advisories, oldest first.
async fn public(state: &AppState) -> AppResult<Vec<Advisory>> {
    let mut all = service::list_advisories(state, None, 200_000).await?;
    all.retain(|a| a.tlp == Tlp::Clear);
    all.sort_by(|a, b| (a.published_at, &a.id).cmp(&(b.published_at, &b.id)));
    Ok(all)
}

pub(crate) async fn provider_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let base = base_url(&headers);
    let fingerprint = state.openpgp_key.fingerprint();
    let last_updated = public(&state)
        .await?
        .iter()
        .map(|a| a.updated_at)
        .max()
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Ok(axum::Json(json!({
        "canonical_url": format!("{base}/.well-known/csaf/provider-metadata.json"),
        "distributions": [{
            "directory_url": format!("{base}/.well-known/csaf/white/"),
            "rolie": {"feeds": [{
                "summary": "Public (TLP:WHITE) advisories",
                "tlp_label": "WHITE",
                "url": format!("{base}/.well-known/csaf/white/{ROLIE_FEED}"),
            }]},
        }],
        "last_updated": last_updated.to_string(),
        "list_on_CSAF_aggregators": false,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": false,
        "public_openpgp_keys": [{
            "fingerprint": fingerprint,
            "url": format!("{base}/.well-known/csaf/openpgp/{fingerprint}.asc"),
        }],
        "publisher": {"category": "coordinator", "name": "vulnshare", "namespace": base},
        "role": "csaf_provider",
    })))
}

/// File name of the ROLIE feed of the public folder (CSAF 2.0 section 7.1.23 names it so).
pub(crate) const ROLIE_FEED: &str = "csaf-feed-tlp-white.json";

/// `GET /.well-known/csaf/white/csaf-feed-tlp-white.json` — the ROLIE feed (RFC 8322) of the
/// public documents, newest change first, as CSAF 2.0 section 7.1.23 describes it.
pub(crate) async fn rolie_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    let base = base_url(&headers);
    let mut all = public(&state).await?;
    all.sort_by_key(|a| std::cmp::Reverse((a.updated_at, a.id.clone())));
    let updated = all
        .first()
        .map_or(jiff::Timestamp::UNIX_EPOCH, |a| a.updated_at);
    let entries: Vec<Value> = all
        .iter()
        .map(|a| {
            let url = format!(
                "{base}/.well-known/csaf/white/{}/{}",
                year(a),
                csaf_file_name(&a.id)
            );
            json!({
                "id": a.id,
                "title": a.summary,
                "link": [
                    {"rel": "self", "href": url},
                    {"rel": "hash", "href": format!("{url}.sha256")},
                    {"rel": "hash", "href": format!("{url}.sha512")},
                    {"rel": "signature", "href": format!("{url}.asc")},
                ],
                "published": a.published_at.to_string(),
                "updated": a.updated_at.to_string(),
                "content": {"type": "application/json", "src": url},
                "format": {
                    "schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
                    "version": "2.0",
                },
            })
        })
        .collect();
    let body = json!({"feed": {
        "id": "vulnshare-csaf-feed-tlp-white",
        "title": "vulnshare public CSAF advisories",
        "link": [{"rel": "self", "href": format!("{base}/.well-known/csaf/white/{ROLIE_FEED}")}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": updated.to_string(),
        "entry": entries,
    }});
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec_pretty(&body).expect("JSON serializes"),
    ))
}

pub(crate) async fn index_txt(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let body: String = public(&state)
        .await?
        .iter()
        .map(|a| format!("{}/{}\n", year(a), csaf_file_name(&a.id)))
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body))
}

pub(crate) async fn changes_csv(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let mut all = public(&state).await?;
    all.sort_by_key(|a| std::cmp::Reverse(a.updated_at));
    let body: String = all
        .iter()
        .map(|a| {
            format!(
                "\"{}/{}\",\"{}\"\n",
                year(a),
                csaf_file_name(&a.id),
                a.updated_at
            )
        })
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body))
}

/// What of a document the public folder serves under a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    Document,
    Sha256,
    Sha512,
    Signature,
}

/// `GET /.well-known/csaf/white/{year}/{file}` — the document, its `.sha256` / `.sha512`, or
/// its detached OpenPGP signature `.asc`, each over exactly the bytes served as the document.
pub(crate) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((year_s, file)): Path<(String, String)>,
) -> AppResult<impl IntoResponse> {
    let (name, served) = match file.rsplit_once(".json") {
        Some((stem, "")) => (format!("{stem}.json"), Served::Document),
        Some((stem, ".sha256")) => (format!("{stem}.json"), Served::Sha256),
        Some((stem, ".sha512")) => (format!("{stem}.json"), Served::Sha512),
        Some((stem, ".asc")) => (format!("{stem}.json"), Served::Signature),
        _ => return Err(AppError::NotFound("file")),
    };
    let base = base_url(&headers);
    let advisory = public(&state)
        .await?
        .into_iter()
        .find(|a| csaf_file_name(&a.id) == name && year(a).to_string() == year_s)
        .ok_or(AppError::NotFound("file"))?;
    let bytes = serde_json::to_vec_pretty(&document(
        &state,
        &base,
        &advisory,
        CsafCategory::SecurityAdvisory,
    )?)
    .expect("JSON serializes");
    let text = "text/plain; charset=utf-8";
    Ok(match served {
        Served::Document => ([(header::CONTENT_TYPE, "application/json")], bytes),
        Served::Sha256 => (
            [(header::CONTENT_TYPE, text)],
            format!("{}  {name}\n", hex::encode(Sha256::digest(&bytes))).into_bytes(),
        ),
        Served::Sha512 => (
            [(header::CONTENT_TYPE, text)],
            format!("{}  {name}\n", hex::encode(Sha512::digest(&bytes))).into_bytes(),
        ),
        Served::Signature => (
            [(header::CONTENT_TYPE, "application/pgp-signature")],
            state
                .openpgp_key
                .sign_detached(&bytes, state.clock.now())
                .map_err(|e| AppError::Internal(Box::new(e)))?
                .into_bytes(),
        ),
    })
}

/// `GET /.well-known/csaf/openpgp/{fingerprint}.asc` — the ASCII-armored public key that signs
/// the documents, where the provider metadata's `public_openpgp_keys` points.
pub(crate) async fn openpgp_key(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> AppResult<impl IntoResponse> {
    let key = &state.openpgp_key;
    let fingerprint = file
        .strip_suffix(".asc")
        .ok_or(AppError::NotFound("OpenPGP key"))?;
    if !fingerprint.eq_ignore_ascii_case(key.fingerprint()) {
        return Err(AppError::NotFound("OpenPGP key"));
    }
    Ok((
        [(header::CONTENT_TYPE, "application/pgp-keys")],
        key.public_key_armored().to_owned(),
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CsafQuery {
    #[serde(default)]
    category: Option<String>,
}

/// `GET /api/v1/advisories/{id}/csaf[?category=vex]` — any advisory the caller may read.
pub(crate) async fn export(
    State(state): State<AppState>,
    caller: MaybeCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CsafQuery>,
) -> AppResult<impl IntoResponse> {
    let a = service::read_advisory(&state, caller.0.as_ref().map(|c| &c.actor), &id).await?;
    let category = match q.category.as_deref() {
        None | Some("security_advisory") => CsafCategory::SecurityAdvisory,
        Some("vex") => CsafCategory::Vex,
        Some(other) => {
            return Err(AppError::field(
                "category",
                format!("unknown CSAF category {other:?}: use security_advisory or vex"),
            ));
        }
    };
    Ok(axum::Json(document(
        &state,
        &base_url(&headers),
        &a,
        category,
    )?))
}
