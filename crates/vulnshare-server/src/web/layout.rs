//! The page shell (navigation by role, skip link, scripts) and helpers for showing times.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use maud::{DOCTYPE, Markup, html};
use vulnshare_core::user::Role;

use super::WebUser;

/// What the pages may load: only this server's own scripts, styles and images.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page under construction.
pub(crate) struct Page {
    title: String,
    body: Markup,
}

impl Page {
    /// A page titled `title`.
    pub fn new(title: impl Into<String>) -> Page {
        Page {
            title: title.into(),
            body: html! {},
        }
    }

    /// Sets the main content.
    pub fn body(mut self, body: Markup) -> Page {
        self.body = body;
        self
    }

    /// The whole HTML document, navigation fitted to `user`.
    pub fn render(self, user: Option<&WebUser>) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="htmx-config" content=r#"{"includeIndicatorStyles":false}"#;
                    @if let Some(u) = user { meta name="csrf-token" content=(u.csrf); }
                    title { (self.title) " · vulnshare" }
                    link rel="stylesheet" href="/static/app.css";
                    script src="/static/htmx.min.js" defer {}
                    script src="/static/app.js" defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href="/dashboard" { "vulnshare" }
                        nav aria-label="Main" { (nav(user)) }
                    }
                    main id="main" tabindex="-1" { (self.body) }
                }
            }
        };
        let mut response = markup.into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn nav(user: Option<&WebUser>) -> Markup {
    let Some(u) = user else {
        return html! {
            ul {
                li { a href="/advisories" { "Advisories" } }
                li { a href="/sign-in" { "Sign in" } }
            }
        };
    };
    let a = u.actor();
    html! {
        ul {
            li { a href="/dashboard" { "Dashboard" } }
            li { a href="/reports/new" { "File a report" } }
            li { a href="/cases" { "Cases" } }
            li { a href="/advisories" { "Advisories" } }
            li { a href="/sboms" { "SBOMs" } }
            @if a.can_read_compliance().is_ok() { li { a href="/regulator" { "Regulator" } } }
            @if a.has(Role::PlatformAdmin) || a.has(Role::OrgAdmin) { li { a href="/admin" { "Admin" } } }
            @if a.can_read_audit().is_ok() { li { a href="/audit" { "Audit log" } } }
            li { a href="/account/totp" { "Two-step sign-in" } }
            li { a href="/account/tokens" { "API tokens" } }
            li {
                form.inline method="post" action="/sign-out" {
                    input type="hidden" name="csrf" value=(u.csrf);
                    button.link type="submit" { "Sign out " span.who { "(" (u.caller.user.email) ")" } }
                }
            }
        }
    }
}

/// A time in `tz`, e.g. `2021-11-26 16:00 UTC` or `2021-11-27 00:00 CST`.
pub(crate) fn fmt_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// A duration in words: `2 d 3 h`, `45 min`.
pub(crate) fn fmt_span(seconds: i64) -> String {
    let s = seconds.abs();
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

/// A `<time>` element that app.js keeps counting down to `due`; without JavaScript it shows
/// the time left when the page was rendered.
pub(crate) fn countdown(due: Timestamp, now: Timestamp) -> Markup {
    let left = due.as_second() - now.as_second();
    let text = if left >= 0 {
        format!("{} left", fmt_span(left))
    } else {
        format!("{} overdue", fmt_span(left))
    };
    html! {
        time.countdown.late[left < 0] datetime=(due) data-due=(due) data-now=(now) { (text) }
    }
}

/// A TLP label as a badge.
pub(crate) fn tlp_badge(tlp: vulnshare_core::tlp::Tlp) -> Markup {
    let s = tlp.as_str();
    html! { span class={ "tlp tlp-" (s.to_ascii_lowercase().replace('+', "-")) } { "TLP:" (s) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(fmt_span(2 * 86_400 + 3 * 3600 + 59), "2 d 3 h");
        assert_eq!(fmt_span(-(3600 + 60 * 5)), "1 h 5 min");
        assert_eq!(fmt_span(59), "0 min");
    }

    #[test]
    fn times_show_in_the_given_zone() {
        let t: Timestamp = "2021-11-26T16:00:00Z".parse().unwrap();
        assert_eq!(fmt_time(t, &TimeZone::UTC), "2021-11-26 16:00 UTC");
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(fmt_time(t, &sh), "2021-11-27 00:00 CST");
    }
}
