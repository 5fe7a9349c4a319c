//! A small blocking client for a vulnshare server's HTTP API, shared by `hunt --submit`,
//! `scan --upload` and `scan --advisories URL`: checks the base URL up front, sends the
//! Bearer token, and turns a refusal into an error that quotes the server's problem+json
//! `detail`, so the user sees why.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use vulnshare_scan::hunt::output::printable;

/// Whether `text` names a server (http or https) rather than a local path.
pub fn is_url(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// A vulnshare (or osv.dev-compatible) server at a base URL, with an optional API token.
pub struct ApiClient {
    base_url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl ApiClient {
    /// A client for `base_url` (e.g. `https://vulnshare.example`); fails unless it is an
    /// absolute http(s) URL with a host.
    pub fn new(base_url: &str, token: Option<&str>) -> Result<Self> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let uri: ureq::http::Uri = trimmed.parse().map_err(|e| {
            anyhow::anyhow!(
                "{base_url:?} is not a URL ({e}); give one like https://vulnshare.example"
            )
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            bail!("{base_url:?} is not an http(s) URL; give one like https://vulnshare.example");
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self {
            base_url: trimmed.to_owned(),
            token: token.map(str::to_owned),
            agent,
        })
    }

    /// POSTs `body` (JSON) to `path_and_query` under the base URL and returns the parsed
    /// answer. `what` names the request in errors, e.g. "the SBOM upload".
    pub fn post_json(&self, path_and_query: &str, what: &str, body: &[u8]) -> Result<Value> {
        let url = format!("{}{path_and_query}", self.base_url);
        let mut request = self.agent.post(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request
            .content_type("application/json")
            .send(body)
            .with_context(|| format!("cannot reach {url}; check the URL and the network"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .with_context(|| format!("reading the answer of {url}"))?;
        if !status.is_success() {
            bail!(
                "the server refused {what} ({status}): {}",
                problem_detail(&text)
            );
        }
        serde_json::from_str(&text).with_context(|| format!("the answer of {url} is not JSON"))
    }
}

/// The `detail` of an RFC 9457 problem (with its field errors), or the raw body, shortened.
fn problem_detail(body: &str) -> String {
    let Ok(problem) = serde_json::from_str::<Value>(body) else {
        return printable(body, 2000);
    };
    let Some(detail) = problem["detail"].as_str().or(problem["title"].as_str()) else {
        return printable(body, 2000);
    };
    printable(detail, 2000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_request() {
        assert!(is_url("https://vulnshare.example") && is_url("HTTP://x"));
        assert!(!is_url("osv/") && !is_url("./https"));
        assert!(ApiClient::new("https://vulnshare.example/", None).is_ok());
        assert!(ApiClient::new("ftp://vulnshare.example", None).is_err());
        assert!(ApiClient::new("http://", None).is_err());
        assert!(ApiClient::new("not a url", None).is_err());
    }

    #[test]
    fn problems_show_their_detail() {
        let body = r#"{"type":"/problems/not-found","title":"Not found","status":404,"detail":"product not found"}"#;
        assert_eq!(problem_detail(body), "product not found");
        assert_eq!(problem_detail("Bad Gateway"), "Bad Gateway");
    }
}
