//! Subscriptions: what a member wants to hear about (by purl prefix, product, CWE, severity)
//! and where (a signed webhook, or the in-app inbox), and webhook signatures.

use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::advisory::Advisory;
use crate::severity::{CvssScore, Cwe};
use crate::validation::{Collector, Invalid};

/// Where notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// HTTP POST signed with HMAC-SHA256.
    Webhook,
    /// The in-app inbox only.
    Inbox,
    /// E-mail through the platform's SMTP relay.
    Email,
}

/// What to be told about; every given filter must match (none given: every advisory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionFilter {
    /// Package-URL prefix, e.g. `pkg:maven/org.apache.logging.log4j/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl_prefix: Option<String>,
    /// A weakness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<Cwe>,
    /// Lowest severity: low, medium, high or critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<String>,
    /// Only exposures of this registered product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}

const SEVERITIES: [&str; 5] = ["none", "low", "medium", "high", "critical"];

impl SubscriptionFilter {
    /// Validates the filter.
    pub fn validate(self) -> Result<SubscriptionFilter, Invalid> {
        let mut c = Collector::default();
        if let Some(p) = &self.purl_prefix
            && (!p.starts_with("pkg:") || p.len() > 300)
        {
            c.push(
                "filter.purl_prefix",
                "a purl prefix starts with pkg: and is at most 300 characters",
            );
        }
        if let Some(s) = &self.min_severity
            && !SEVERITIES.contains(&s.as_str())
        {
            c.push("filter.min_severity", "use low, medium, high or critical");
        }
        c.finish(self)
    }

    /// Whether an advisory (not an exposure) matches. Product filters match exposures only.
    pub fn matches_advisory(&self, advisory: &Advisory) -> bool {
        if self.product_id.is_some() {
            return false;
        }
        if let Some(prefix) = &self.purl_prefix {
            let hit = advisory.affected_packages.iter().any(|p| {
                let purl = p.purl.clone().unwrap_or_else(|| package_purl(p));
                purl.starts_with(prefix.as_str())
            });
            if !hit {
                return false;
            }
        }
        if let Some(cwe) = self.cwe
            && !advisory.cwes.contains(&cwe)
        {
            return false;
        }
        if let Some(min) = &self.min_severity {
            let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s).unwrap_or(0);
            let severity = advisory
                .cvss_vector
                .as_deref()
                .and_then(|v| CvssScore::parse(v).ok())
                .map(|s| s.severity)
                .unwrap_or_else(|| "none".into());
            if rank(&severity) < rank(min) {
                return false;
            }
        }
        true
    }
}

/// The purl (without version) of an affected package, from its ecosystem and name.
pub fn package_purl(p: &crate::package::AffectedPackage) -> String {
    let name = match p.ecosystem {
        crate::package::Ecosystem::Maven => p.name.replacen(':', "/", 1),
        _ => p.name.clone(),
    };
    format!("pkg:{}/{}", p.ecosystem.purl_type(), name)
}

/// The value of the `X-Vulnshare-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>" under the subscription's secret>`. Receivers recompute it and reject
/// deliveries whose `t` is too old (replay).
pub fn webhook_signature(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a signature header against `body`, accepting timestamps within `tolerance_seconds`
/// of `now_unix`.
pub fn verify_webhook_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_seconds: i64,
) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now_unix - t).abs() > tolerance_seconds {
        return false;
    }
    let expected = webhook_signature(secret, t, body);
    // Constant-time comparison of the hex digests.
    let expected = expected.rsplit("v1=").next().unwrap_or_default().as_bytes();
    let given = v1.as_bytes();
    expected.len() == given.len()
        && expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_resist_tampering_and_replay() {
        let h = webhook_signature(b"secret", 1_700_000_000, b"{\"a\":1}");
        assert!(verify_webhook_signature(
            b"secret",
            &h,
            b"{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_webhook_signature(
            b"secret",
            &h,
            b"{\"a\":2}",
            1_700_000_100,
            300
        ));
        assert!(!verify_webhook_signature(
            b"other",
            &h,
            b"{\"a\":1}",
            1_700_000_100,
            300
        ));
        assert!(!verify_webhook_signature(
            b"secret",
            &h,
            b"{\"a\":1}",
            1_700_001_000,
            300
        ));
        assert!(!verify_webhook_signature(b"secret", "garbage", b"", 0, 300));
    }

    #[test]
    fn filters_are_validated() {
        let bad = SubscriptionFilter {
            purl_prefix: Some("maven/x".into()),
            min_severity: Some("huge".into()),
            ..Default::default()
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(err.0.len(), 2);
    }
}
