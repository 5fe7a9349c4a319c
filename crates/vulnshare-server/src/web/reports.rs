//! The report form: guides the CN Art. 7(2) content (product name, model and version,
//! technical characteristics, harm, scope of impact), lists what is still missing, autosaves
//! the draft (htmx) and submits it for a signed receipt.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use serde_json::{Value, json};
use vulnshare_core::report::{Report, ReportContent, ReportState};

use super::layout::tlp_badge;
use super::{Page, PostedForm, WebForm, WebResult, WebUser, fmt_time};
use crate::AppState;
use crate::error::AppError;
use crate::service::{self, Transition};

/// What each CN Art. 7(2) item is called on the form.
fn label(item: &str) -> &'static str {
    match item {
        "product_name" => "Product name (or an affected package)",
        "product_model" => "Product model",
        "product_version" => "Affected versions",
        "technical_characteristics" => "Technical characteristics",
        "harm" => "Harm",
        "scope_of_impact" => "Scope of impact",
        _ => "Other required content",
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's fields as the API's JSON report body, so one parser and one validation apply.
fn content_json(form: &WebForm, user: &WebUser) -> Value {
    let opt = |name: &str| Some(form.get(name)).filter(|v| !v.is_empty());
    let mut products = Vec::new();
    if let Some(name) = opt("product_name") {
        products.push(json!({
            "vendor": opt("product_vendor"),
            "name": name,
            "model": opt("product_model"),
            "versions": split_list(form.get("product_versions")),
        }));
    }
    let mut packages = Vec::new();
    if let (Some(eco), Some(name)) = (opt("package_ecosystem"), opt("package_name")) {
        let mut events = Vec::new();
        if let Some(i) = opt("package_introduced") {
            events.push(json!({"introduced": i}));
        }
        if let Some(f) = opt("package_fixed") {
            events.push(json!({"fixed": f}));
        }
        let ranges = if events.is_empty() {
            json!([])
        } else {
            json!([{"type": "ECOSYSTEM", "events": events}])
        };
        packages.push(json!({"ecosystem": eco, "name": name, "ranges": ranges}));
    }
    // A local time without offset is read in the browser's zone, as the form says.
    let aware_at = opt("aware_at").map(|s| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.to_string())
            .or_else(|_| {
                s.parse::<jiff::civil::DateTime>()
                    .ok()
                    .and_then(|dt| dt.to_zoned(user.tz.clone()).ok())
                    .map(|z| z.timestamp().to_string())
                    .ok_or(())
            })
            .unwrap_or_else(|_| s.to_owned())
    });
    json!({
        "kind": opt("kind").unwrap_or("own_product"),
        "title": form.get("title"),
        "technical_characteristics": form.get("technical_characteristics"),
        "harm": form.get("harm"),
        "scope_of_impact": form.get("scope_of_impact"),
        "affected_products": products,
        "affected_packages": packages,
        "cvss_vector": opt("cvss_vector"),
        "cwes": split_list(form.get("cwes")),
        "exploitation": opt("exploitation").unwrap_or("none"),
        "aware_at": aware_at,
        "awareness_evidence": opt("awareness_evidence"),
        "tlp": opt("tlp").unwrap_or("AMBER"),
        "aliases": split_list(form.get("aliases")),
    })
}

fn parse_content(form: &WebForm, user: &WebUser) -> Result<ReportContent, AppError> {
    let mut v = content_json(form, user);
    // Absent optional values are left out rather than sent as null.
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| !x.is_null());
    }
    serde_json::from_value(v).map_err(|e| AppError::MalformedBody {
        message: e.to_string(),
        field: None,
    })
}

/// The list of missing Art. 7(2) content, updated by every autosave.
fn missing_list(content: Option<&ReportContent>) -> Markup {
    let missing: Vec<&str> = match content {
        Some(c) => c.cn_article_7_missing(),
        None => vec![
            "product_name",
            "product_model",
            "product_version",
            "technical_characteristics",
            "harm",
            "scope_of_impact",
        ],
    };
    html! {
        section id="missing" aria-live="polite" hx-swap-oob="true" {
            h2 { "CN Art. 7(2) content" }
            @if missing.is_empty() {
                p.ok { "Everything Art. 7(2) asks for is filled in." }
            } @else {
                p { "Still missing (" (missing.len()) "):" }
                ul.missing { @for m in &missing { li data-item=(m) { (label(m)) } } }
            }
        }
    }
}

fn select(name: &str, id: &str, options: &[(&str, &str)], current: &str) -> Markup {
    html! {
        select name=(name) id=(id) {
            @for (value, text) in options {
                option value=(value) selected[*value == current] { (text) }
            }
        }
    }
}

/// The form, filled from `report` (a draft) when given.
fn report_form(user: &WebUser, report: Option<&Report>, problem: Option<&str>) -> Markup {
    let c = report.map(|r| &r.content);
    let product = c.and_then(|c| c.affected_products.first());
    let package = c.and_then(|c| c.affected_packages.first());
    let event = |key: &str| -> String {
        package
            .and_then(|p| serde_json::to_value(&p.ranges).ok())
            .and_then(|r| {
                r.pointer("/0/events")?
                    .as_array()?
                    .iter()
                    .find_map(|e| e.get(key).and_then(Value::as_str).map(str::to_owned))
            })
            .unwrap_or_default()
    };
    let action = match report {
        Some(r) => format!("/reports/{}", r.id),
        None => "/reports/new".to_owned(),
    };
    let draft_id = report.map(|r| r.id.clone()).unwrap_or_default();
    let autosave = format!(
        "/reports/{}/autosave",
        report.map(|r| r.id.as_str()).unwrap_or("new")
    );
    let kind = c.map(|c| c.kind.as_str()).unwrap_or("own_product");
    let tlp = c.map(|c| c.tlp.as_str()).unwrap_or("AMBER");
    let exploitation = c
        .and_then(|c| serde_json::to_value(c.exploitation).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "none".into());
    let aware_at = c
        .and_then(|c| c.aware_at)
        .map(|t| {
            t.to_zoned(user.tz.clone())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default();
    html! {
        @if let Some(p) = problem { p.problem role="alert" id="form-problem" { (p) } }
        form.stack id="report-form" method="post" action=(action)
            hx-post=(autosave) hx-trigger="input delay:1500ms" hx-target="#autosave-status" hx-swap="outerHTML" {
            input type="hidden" name="csrf" value=(user.csrf);
            input type="hidden" name="draft_id" id="draft_id" value=(draft_id);
            label for="kind" { "Kind of report" }
            (select("kind", "kind", &[("own_product", "A vulnerability in our own product"), ("upstream_component", "A vulnerability in a component we use"), ("third_party_observation", "A vulnerability we observed in someone else's product"), ("threat", "A threat")], kind))
            label for="title" { "Title " span.hint { "(required)" } }
            input id="title" name="title" maxlength="300" required value=(c.map(|c| c.title.as_str()).unwrap_or(""));
            fieldset {
                legend { "Affected product (Art. 7(2): name, model, version)" }
                label for="product_vendor" { "Vendor" }
                input id="product_vendor" name="product_vendor" value=(product.and_then(|p| p.vendor.as_deref()).unwrap_or(""));
                label for="product_name" { "Product name" }
                input id="product_name" name="product_name" value=(product.map(|p| p.name.as_str()).unwrap_or(""));
                label for="product_model" { "Model" }
                input id="product_model" name="product_model" value=(product.and_then(|p| p.model.as_deref()).unwrap_or(""));
                label for="product_versions" { "Affected versions " span.hint { "(comma-separated, e.g. 2.0-beta9 to 2.14.1)" } }
                input id="product_versions" name="product_versions" value=(product.map(|p| p.versions.join(", ")).unwrap_or_default());
            }
            fieldset {
                legend { "Affected package (optional, enables SBOM matching)" }
                label for="package_ecosystem" { "Ecosystem" }
                (select("package_ecosystem", "package_ecosystem", &[("", "—"), ("Maven", "Maven"), ("npm", "npm"), ("PyPI", "PyPI"), ("crates.io", "crates.io"), ("Debian", "Debian"), ("Go", "Go")], package.map(|p| p.ecosystem.as_str()).unwrap_or("")))
                label for="package_name" { "Package name" }
                input id="package_name" name="package_name" value=(package.map(|p| p.name.as_str()).unwrap_or(""));
                label for="package_introduced" { "Introduced in" }
                input id="package_introduced" name="package_introduced" value=(event("introduced"));
                label for="package_fixed" { "Fixed in" }
                input id="package_fixed" name="package_fixed" value=(event("fixed"));
            }
            label for="technical_characteristics" { "Technical characteristics" }
            textarea id="technical_characteristics" name="technical_characteristics" { (c.map(|c| c.technical_characteristics.as_str()).unwrap_or("")) }
            label for="harm" { "Harm" }
            textarea id="harm" name="harm" { (c.map(|c| c.harm.as_str()).unwrap_or("")) }
            label for="scope_of_impact" { "Scope of impact" }
            textarea id="scope_of_impact" name="scope_of_impact" { (c.map(|c| c.scope_of_impact.as_str()).unwrap_or("")) }
            label for="cvss_vector" { "CVSS vector " span.hint { "(3.1 or 4.0)" } }
            input id="cvss_vector" name="cvss_vector" value=(c.and_then(|c| c.cvss_vector.as_deref()).unwrap_or(""));
            label for="cwes" { "CWEs " span.hint { "(comma-separated)" } }
            input id="cwes" name="cwes" value=(c.map(|c| c.cwes.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(", ")).unwrap_or_default());
            label for="exploitation" { "Exploitation" }
            (select("exploitation", "exploitation", &[("none", "No known exploit"), ("poc", "Proof of concept exists"), ("exploited_in_wild", "Exploited in the wild")], &exploitation))
            label for="aware_at" { "When you learned of it " span.hint { "(your zone: " (user.tz.iana_name().unwrap_or("UTC")) "); the deadline runs from here" } }
            input id="aware_at" name="aware_at" type="datetime-local" value=(aware_at);
            label for="awareness_evidence" { "Evidence of when you learned of it" }
            input id="awareness_evidence" name="awareness_evidence" value=(c.and_then(|c| c.awareness_evidence.as_deref()).unwrap_or(""));
            label for="tlp" { "Sharing (TLP)" }
            (select("tlp", "tlp", &[("RED", "TLP:RED"), ("AMBER+STRICT", "TLP:AMBER+STRICT"), ("AMBER", "TLP:AMBER"), ("GREEN", "TLP:GREEN"), ("CLEAR", "TLP:CLEAR")], tlp))
            label for="aliases" { "Aliases " span.hint { "(CVE, GHSA, CNVD; comma-separated)" } }
            input id="aliases" name="aliases" value=(c.map(|c| c.aliases.join(", ")).unwrap_or_default());
            (autosave_status(None, None))
            div {
                button type="submit" name="action" value="save" { "Save draft" } " "
                button type="submit" name="action" value="submit" id="submit-report" { "Submit to the platform" }
            }
        }
    }
}

fn autosave_status(saved: Option<&Report>, problem: Option<&str>) -> Markup {
    html! {
        p id="autosave-status" role="status" class="hint" {
            @if let Some(p) = problem { "Not saved yet: " (p) }
            @else if let Some(r) = saved { "Draft " (r.id) " saved." }
            @else { "Drafts are saved as you type (with JavaScript), or with “Save draft”." }
        }
    }
}

/// `GET /reports/new`.
pub(crate) async fn new_page(user: WebUser) -> WebResult {
    user.actor().can_file_reports()?;
    let body = html! {
        h1 { "File a report" }
        p { "Reports to the platform are due within 2 days of learning of a vulnerability (CN MIIT 2021 Art. 7)." }
        div.layout { (report_form(&user, None, None)) (missing_list(None)) }
    };
    Ok(Page::new("File a report").body(body).render(Some(&user)))
}

/// Saves a new draft or updates `draft_id`; returns the stored report.
async fn save_draft(
    state: &AppState,
    user: &WebUser,
    draft_id: Option<&str>,
    content: ReportContent,
) -> Result<Report, AppError> {
    match draft_id.filter(|d| !d.is_empty()) {
        Some(id) => service::update_draft(state, user.actor(), id, content).await,
        None => Ok(service::create_report(state, user.actor(), content, false)
            .await?
            .report),
    }
}

/// Saves (and on `action=submit` submits) the form; redisplays it with the problem if refused.
async fn save_and_maybe_submit(
    state: &AppState,
    user: &WebUser,
    draft_id: Option<&str>,
    form: &WebForm,
) -> WebResult {
    let content = parse_content(form, user);
    let saved = match content {
        Ok(c) => save_draft(state, user, draft_id, c).await,
        Err(e) => Err(e),
    };
    let report = match saved {
        Ok(r) => r,
        Err(e @ (AppError::Invalid(_) | AppError::MalformedBody { .. })) => {
            let shown = match draft_id {
                Some(id) if !id.is_empty() => {
                    Some(service::read_report(state, user.actor(), id).await?)
                }
                _ => None,
            };
            let mut r = Page::new("File a report")
                .body(html! {
                    h1 { "File a report" }
                    div.layout { (report_form(user, shown.as_ref(), Some(&e.detail()))) (missing_list(shown.as_ref().map(|r| &r.content))) }
                })
                .render(Some(user));
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    };
    if form.get("action") == "submit" {
        let submitted = service::transition(
            state,
            user.actor(),
            &report.id,
            Transition {
                to: ReportState::Submitted,
                reason: None,
                duplicate_of: None,
            },
        )
        .await;
        if let Err(e) = submitted {
            let mut r = Page::new("File a report")
                .body(html! {
                    h1 { "Report " (report.id) }
                    div.layout { (report_form(user, Some(&report), Some(&e.detail()))) (missing_list(Some(&report.content))) }
                })
                .render(Some(user));
            *r.status_mut() = e.parts().0;
            return Ok(r);
        }
    }
    Ok(Redirect::to(&format!("/reports/{}", report.id)).into_response())
}

/// `POST /reports/new`.
pub(crate) async fn create(
    State(state): State<AppState>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let draft = form.get("draft_id").to_owned();
    save_and_maybe_submit(&state, &user, Some(&draft), &form).await
}

/// `POST /reports/{id}`: saves or submits a draft.
pub(crate) async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    save_and_maybe_submit(&state, &user, Some(&id), &form).await
}

/// `POST /reports/{id}/autosave` (htmx; `new` creates the draft): the status line, the
/// missing-content list and the draft id, as fragments.
pub(crate) async fn autosave(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PostedForm { user, form, .. }: PostedForm,
) -> WebResult {
    let draft_id = if id == "new" {
        form.get("draft_id").to_owned()
    } else {
        id
    };
    let content = parse_content(&form, &user);
    let missing = missing_list(content.as_ref().ok());
    let saved = match content {
        Ok(c) => save_draft(&state, &user, Some(&draft_id), c).await,
        Err(e) => Err(e),
    };
    let markup = match saved {
        Ok(r) => html! {
            (autosave_status(Some(&r), None))
            (missing)
            input type="hidden" name="draft_id" id="draft_id" value=(r.id) hx-swap-oob="true";
        },
        Err(e @ (AppError::Invalid(_) | AppError::MalformedBody { .. })) => html! {
            (autosave_status(None, Some(&e.detail())))
            (missing)
        },
        Err(e) => return Err(e.into()),
    };
    Ok(markup.into_response())
}

/// `GET /reports/{id}`: the draft's form, or the report as filed.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let report = service::read_report(&state, user.actor(), &id).await?;
    let editable = report.state == ReportState::Draft
        && user
            .actor()
            .can_edit_report(&report.reporter_org_id)
            .is_ok()
        && report.content.affected_products.len() <= 1
        && report.content.affected_packages.len() <= 1;
    if editable {
        let body = html! {
            h1 { "Draft " (report.id) }
            div.layout { (report_form(&user, Some(&report), None)) (missing_list(Some(&report.content))) }
        };
        return Ok(Page::new(format!("Draft {}", report.id))
            .body(body)
            .render(Some(&user)));
    }
    let c = &report.content;
    let body = html! {
        h1 { (report.id) ": " (c.title) }
        p { (tlp_badge(c.tlp)) " · state " strong id="report-state" { (report.state.as_str()) }
            @if let Some(t) = report.received_at { " · received " (fmt_time(t, &user.tz)) } }
        @if report.received_at.is_some() && (user.actor().org_id == report.reporter_org_id || user.actor().is_staff()) {
            p { "Signed receipt: " a href={ "/api/v1/reports/" (report.id) "/receipt" } { "API (needs a token)" } }
        }
        (missing_list(Some(c)))
        dl {
            dt { "Kind" } dd { (c.kind.as_str()) }
            dt { "Technical characteristics" } dd { (c.technical_characteristics) }
            dt { "Harm" } dd { (c.harm) }
            dt { "Scope of impact" } dd { (c.scope_of_impact) }
            dt { "Affected products" } dd { ul { @for p in &c.affected_products {
                li { (p.vendor.as_deref().unwrap_or("")) " " (p.name) " " (p.model.as_deref().unwrap_or("")) " " (p.versions.join(", ")) } } } }
            dt { "Affected packages" } dd { ul { @for p in &c.affected_packages { li { (p.ecosystem.as_str()) " " (p.name) } } } }
            dt { "CVSS" } dd { (c.cvss_vector.as_deref().unwrap_or("—")) }
            dt { "Aliases" } dd { (c.aliases.join(", ")) }
            dt { "Aware since" } dd { @if let Some(t) = c.aware_at { (fmt_time(t, &user.tz)) } @else { "—" } }
        }
    };
    Ok(Page::new(report.id.clone()).body(body).render(Some(&user)))
}
